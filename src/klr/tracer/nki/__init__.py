"""The NKI library of the tracer: tensors, index tiles, masks and every NKI builtin.

Importing this package registers the builtins (``klr.tracer.registry``); ``LIBRARY`` is the
hook the tracer's driver takes (``klr.tracer.nki.library``): ``klr.tracer.trace`` traces with
it. See docs/nki.md and docs/architecture.md for the modules and their order.
"""

from klr.tracer.nki import allocation, compute, consts, isa, isa_extra, isa_more, lang, tensors  # noqa: F401
from klr.tracer.nki.library import LIBRARY, NkiLibrary, detect_dialect

__all__ = ["LIBRARY", "NkiLibrary", "detect_dialect"]
