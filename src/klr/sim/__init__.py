"""Running kernels end to end, for people: the layer above the pipeline.

* ``evaluate``: the one home of "run this traced kernel on these inputs": binding inputs by
  position and name, seeded random inputs, shared constants, dtype-conversion notes, timings.
  ``klr.eval``, ``klr eval`` and ``klr.simulate`` all go through it.
* ``simulate``: ``klr.simulate(kernel)(*arrays)`` gathers a kernel from its source, traces it
  for the arrays' shapes and dtypes and evaluates the Core, returning numpy arrays as NKI does.
* ``tracing``: around a trace, the kernel's ``print`` output kept when it fails, and warnings
  about a traced kernel's outputs (none, or HBM tensors written and lost).
* ``shim``: the ``nki`` and ``neuronxcc.nki`` modules klr provides under ``klr run`` or
  ``klr.install_nki()``, routing ``nki.jit`` and friends to ``simulate``.
* ``script``: ``klr run SCRIPT`` and ``klr run -m MODULE``.

This layer may import every layer below it (python, format, tracer, interp); only the command
line and the ``klr`` package import it.
"""
