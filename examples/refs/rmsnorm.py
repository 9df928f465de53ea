import numpy as np

KERNEL = "rmsnorm_kernel"
INPUTS = [("x", "float32", (256, 384)), ("weight", "float32", (384,))]
KWARGS = {"eps": 1e-6}
GRID = None


def reference(x: np.ndarray, weight: np.ndarray, eps: float) -> tuple[np.ndarray, ...]:
    wide = x.astype(np.float64)
    rms = np.sqrt((wide * wide).mean(axis=1, keepdims=True) + eps)
    return ((wide / rms * weight).astype(np.float32),)
