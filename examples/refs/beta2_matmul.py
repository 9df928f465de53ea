import numpy as np

KERNEL = "beta2_matmul_kernel"
INPUTS = [("lhsT", "float32", (256, 64)), ("rhs", "float32", (256, 512))]
KWARGS: dict = {}
GRID = None
# Positive operands keep the fp32 accumulation-order error relative, far below rtol.
LOW, HIGH = 0.0, 1.0


def reference(lhsT: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, ...]:
    return ((lhsT.astype(np.float64).T @ rhs.astype(np.float64)).astype(np.float32),)
