import numpy as np

KERNEL = "beta2_gated_kernel"
INPUTS = [("x", "float32", (128, 256)), ("y", "float32", (128, 256)),
          ("bias", "float32", (128, 1))]
KWARGS: dict = {}
GRID = None


def reference(x: np.ndarray, y: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, ...]:
    product = x * y
    return (np.tanh(product.astype(np.float64) * 0.5 + bias).astype(np.float32),)
