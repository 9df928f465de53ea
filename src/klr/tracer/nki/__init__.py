"""The NKI library of the tracer: tensors, index tiles, masks and every NKI builtin.

Importing this package registers the builtins (``klr.tracer.registry``). Modules, lowest first:
``consts`` (dtypes, buffers, enums, op names), ``index`` (index tiles, masks), ``views``
(tensor views and their lowering), ``emit`` (operands, statements, value results),
``isa_ops`` (one function per Core operator), ``hostarrays`` (trace-time numpy arrays),
``masks``, ``tensors`` (the tensor value),
``arith`` (element-wise operations and assignment), then the builtins: ``lang``
(``nki.language`` creation and transfers), ``compute`` (``nki.language`` math), ``isa`` and
``isa_extra``, ``isa_more`` (``nki.isa``), ``allocation`` (``nki.compiler``). See docs/nki.md.
"""

from klr.tracer.nki import allocation, compute, consts, isa, isa_extra, isa_more, lang, tensors

__all__ = ["allocation", "compute", "consts", "isa", "isa_extra", "isa_more", "lang", "tensors"]
