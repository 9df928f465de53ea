"""The NKI builtins, one module per concept; importing this package registers them all.

Each module holds both dialect forms of its builtins and imports only the NKI layer's
infrastructure (``klr.tracer.nki``), never another builtin module.
"""

from klr.tracer.nki.builtins import (  # noqa: F401
    activation,
    control,
    creation,
    elementwise,
    hints,
    iota,
    matmul,
    memory,
    program,
    random,
    reductions,
    selection,
    unsupported,
)
