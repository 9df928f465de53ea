"""Trace: partial evaluation of a gathered kernel (Python AST) into KLR Core.

Entry point: ``klr.trace.kernel.trace``. Builtins register in ``klr.trace.registry``;
the value protocol is ``klr.trace.values.TraceObject``; builtins receive a
``klr.trace.context.Ctx``. See docs/trace.md.
"""
