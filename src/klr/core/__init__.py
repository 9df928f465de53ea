"""KLR Core: the traced kernel as a flat program of engine operators over named tensors."""

from typing import TYPE_CHECKING

from klr.core import dataops, mathops, sysops
from klr.core.basic import *  # noqa: F403
from klr.core.basic import __all__ as _basic_all
from klr.core.operators import *  # noqa: F403
from klr.core.operators import __all__ as _operators_all
from klr.core.optypes import *  # noqa: F403
from klr.core.optypes import __all__ as _optypes_all
from klr.core.tensor import *  # noqa: F403
from klr.core.tensor import __all__ as _tensor_all

if TYPE_CHECKING:  # the payload modules have no __all__: each exports the classes it declares
    from klr.core.dataops import *  # noqa: F403
    from klr.core.mathops import *  # noqa: F403
    from klr.core.sysops import *  # noqa: F403

_payloads = {name: value for module in (dataops, mathops, sysops) for name, value in vars(module).items()
             if isinstance(value, type) and value.__module__ == module.__name__}
globals().update(_payloads)

__all__ = [*_tensor_all, *_optypes_all, *_payloads, *_operators_all, *_basic_all]
