import numpy as np

KERNEL = "transpose2d_kernel"
INPUTS = [("x", "float32", (32, 48))]
KWARGS = {"n_rows": 4}
GRID = None


def reference(x: np.ndarray, n_rows: int) -> tuple[np.ndarray, ...]:
    parts, width = x.shape
    blocks = x.reshape(parts, n_rows, width // n_rows)
    return (blocks.transpose(0, 2, 1).reshape(parts, width),)
