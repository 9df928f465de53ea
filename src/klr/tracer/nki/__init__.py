"""The NKI library of the tracer: tensors, index tiles, masks and every NKI builtin.

Importing this package registers the builtins (``klr.tracer.registry``); ``LIBRARY`` is the
hook the tracer's driver takes (``klr.tracer.nki.library``): ``klr.tracer.trace`` traces with
it. See docs/nki.md and docs/architecture.md for the modules and their order.
"""

from klr.tracer import registry
from klr.tracer.nki import builtins, consts  # noqa: F401  (they register the builtins)
from klr.tracer.nki.builtins.index import HOSTARRAYS
from klr.tracer.nki.library import LIBRARY, NkiLibrary, detect_dialect

# numpy-style host arrays (np.zeros, np.arange...) on first use, as the builtin modules
registry.defer({f"{__name__}.hostarrays": HOSTARRAYS})

__all__ = ["LIBRARY", "NkiLibrary", "detect_dialect"]
