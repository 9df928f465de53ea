"""KLR Core: the traced kernel as a flat program of engine operators over named tensors."""

from klr.core.basic import *  # noqa: F403
from klr.core.basic import __all__ as _basic_all
from klr.core.operators import *  # noqa: F403
from klr.core.operators import __all__ as _operators_all
from klr.core.optypes import *  # noqa: F403
from klr.core.optypes import __all__ as _optypes_all
from klr.core.sysops import *  # noqa: F403
from klr.core.sysops import __all__ as _sysops_all
from klr.core.tensor import *  # noqa: F403
from klr.core.tensor import __all__ as _tensor_all

__all__ = [*_tensor_all, *_optypes_all, *_operators_all, *_sysops_all, *_basic_all]
