import numpy as np

KERNEL = "dynamic_tiles_kernel"
INPUTS = [("x", "float32", (384, 64))]
KWARGS: dict = {}
GRID = None


def reference(x: np.ndarray) -> tuple[np.ndarray, ...]:
    return (np.exp(x.astype(np.float64) * 0.5).astype(np.float32),)
