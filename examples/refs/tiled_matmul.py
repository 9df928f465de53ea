import ml_dtypes
import numpy as np

KERNEL = "tiled_matmul_kernel"
INPUTS = [("lhsT", "bfloat16", (256, 256)), ("rhs", "bfloat16", (256, 512))]
KWARGS: dict = {}
GRID = None


def reference(lhsT: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, ...]:
    product = lhsT.astype(np.float32).T @ rhs.astype(np.float32)
    return (product.astype(ml_dtypes.bfloat16),)
