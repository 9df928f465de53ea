"""The NKI library of the tracer: tensors, index tiles, masks and every NKI builtin.

Importing this package registers the builtins (``klr.tracer.registry``); ``LIBRARY`` is the
hook the tracer's driver takes (``klr.tracer.nki.library``): ``klr.tracer.trace`` traces with
it. See docs/nki.md and docs/architecture.md for the modules and their order.
"""

from klr.tracer.nki import builtins, consts, hostarrays  # noqa: F401  (they register the builtins)
from klr.tracer.nki.library import LIBRARY, NkiLibrary, detect_dialect

__all__ = ["LIBRARY", "NkiLibrary", "detect_dialect"]
