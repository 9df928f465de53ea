"""Errors of the NKI builtins: one sentence, at the user's expression."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.tracer.nki.util import BETA2, LEGACY, rand, trace_error

CASES = [
    ("load from sbuf",
     "t = nl.zeros((4, 4), dtype=nl.float32)\nu = nl.load(t)",
     "nl.load(t)", "nl.load reads from HBM, but 't' is in sbuf"),
    ("store shape",
     "nl.store(x[0:128, 0:512], value=nl.zeros((128, 256), dtype=x.dtype))",
     "nl.store(", "store of a [128, 256] tile into a [128, 512] region"),
    ("store to sbuf",
     "t = nl.zeros((4, 4), dtype=nl.float32)\nnl.store(t, value=t)",
     "nl.store(", "nl.store writes to HBM, but 't' is in sbuf"),
    ("partitions",
     "t = nl.zeros((256, 64), dtype=nl.float32)",
     "nl.zeros(", "tensor 't' has 256 partitions; SBUF has 128"),
    ("load partitions",
     "t = nl.load(x)",
     "nl.load(", "tensor 't' has 256 partitions; SBUF has 128"),
    ("psum size",
     "t = nl.zeros((128, 8192), dtype=nl.float32, buffer=nl.psum)",
     "nl.zeros(", "tensor 't' needs 32768 bytes per partition; PSUM has 16384"),
    ("int index",
     "t = nl.load(x[300, 0:4])",
     "x[300, 0:4]", "index 300 is out of bounds for axis 0 with size 256"),
    ("index tile",
     "i_p = nl.arange(128)[:, None]\ni_f = nl.arange(512)[None, :]\nt = nl.load(x[i_p + 1, i_f + 1])",
     "nl.load(", "index 512 is out of bounds for axis 1 with size 512"),
    ("slice bounds",
     "t = nl.load(x[0:128, 256:600])",
     "nl.load(", "index 599 is out of bounds for axis 1 with size 512"),
    ("empty slice",
     "t = nl.load(x[0:128, 5:5])",
     "x[0:128, 5:5]", "slice 5:5 selects no elements of axis 1 with size 512"),
    ("too many indices",
     "t = x[1, 2, 3]",
     "x[1, 2, 3]", "too many indices: the tensor has 2 dimensions but 3 were given"),
    ("index type",
     "t = x[1.5, :]",
     "x[1.5, :]", "tensor indices must be integers, slices, None, '...' or index tiles, not float"),
    ("dtype",
     "t = nl.zeros((4, 4), dtype='complex')",
     "nl.zeros(", "dtype must be a dtype such as nl.float32, not 'complex'"),
    ("buffer",
     "t = nl.zeros((4, 4), dtype=nl.float32, buffer=3)",
     "nl.zeros(", "buffer must be one of nl.sbuf, nl.psum, nl.hbm, nl.shared_hbm, not 3"),
    ("affine",
     "i_p = nl.arange(4)[:, None]\nj = i_p * i_p",
     "i_p * i_p", "index expressions must be affine: '*' of an index tile is not supported"),
    ("mask type",
     "t = nl.load(x[0:4, 0:4], mask=3)",
     "nl.load(", "mask must be a comparison of index tiles, such as (i_p < n), not int"),
    ("mask or",
     "i_p = nl.arange(4)[:, None]\nm = (i_p < 2) | (i_p > 3)",
     "(i_p < 2) | (i_p > 3)", "masks combined with '|' are not supported; use '&'"),
    ("hbm operand",
     "y = x + 1.0",
     "x + 1.0", "'+' cannot read the HBM tensor 'x'; load it into SBUF first"),
    ("broadcast",
     "a = nl.zeros((32, 8), dtype=nl.float32)\nb = nl.zeros((16, 8), dtype=nl.float32)\nc = a * b",
     "a * b", "operand shapes [32, 8] and [16, 8] cannot be broadcast together"),
    ("assign shape",
     "a = nl.zeros((32, 8), dtype=nl.float32)\na[0:16, :] = nl.zeros((32, 8), dtype=nl.float32)",
     "a[0:16, :] = ", "cannot assign a [32, 8] tile to a [16, 8] region"),
    ("reduce partition axis",
     "a = nl.zeros((32, 8), dtype=nl.float32)\nb = nl.sum(a, axis=0)",
     "nl.sum(", "nl.sum cannot reduce axis 0, the partition axis; reduce the free axes"),
    ("matmul contraction",
     "a = nl.zeros((32, 8), dtype=nl.float32)\nb = nl.zeros((16, 8), dtype=nl.float32)\n"
     "c = nisa.nc_matmul(a, b)",
     "nisa.nc_matmul(",
     "nisa.nc_matmul: stationary has 32 partitions but moving has 16; both are the contraction axis"),
    ("matmul arity",
     "a = nl.zeros((32, 8), dtype=nl.float32)\nc = nisa.nc_matmul(a)",
     "nisa.nc_matmul(", "nki.isa.nc_matmul() missing required argument 'moving'"),
    ("activation op",
     "a = nl.zeros((32, 8), dtype=nl.float32)\nc = nisa.activation(op=nl.add, data=a)",
     "nisa.activation(", "op must be an activation function such as nl.exp or nl.tanh, not "
     "<built-in function nki.language.add>"),
    ("alu op",
     "a = nl.zeros((32, 8), dtype=nl.float32)\nc = nisa.tensor_tensor(a, a, op=nl.exp)",
     "nisa.tensor_tensor(", "op must be an ALU operation such as nl.add or np.maximum, not "
     "<built-in function nki.language.exp>"),
    ("scalar operand",
     "a = nl.zeros((32, 8), dtype=nl.float32)\nc = nisa.tensor_scalar(a, np.add, a)",
     "nisa.tensor_scalar(",
     "nisa.tensor_scalar: operand0 must have one element per partition ([32, 1]) but has shape [32, 8]"),
    ("transpose size",
     "a = nl.zeros((32, 256), dtype=nl.float32)\nc = nl.transpose(a)",
     "nl.transpose(",
     "nl.transpose: x has 256 elements per partition, at most 128 (a PE transpose takes at most [128, 128])"),
    ("program axis",
     "p = nl.program_id(1)",
     "nl.program_id(", "invalid program axis 1: the kernel has no launch grid"),
    ("reshape",
     "y = x.reshape((3, 5))",
     "x.reshape(", "cannot reshape a [256, 512] tensor (131072 elements) into [3, 5] (15 elements)"),
]


@pytest.mark.parametrize(("body", "marker", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error(tmp_path: Path, body: str, marker: str, message: str) -> None:
    src = "def kernel(x):\n" + textwrap.indent(body, "    ") + "\n    return x\n"
    err = trace_error(tmp_path, src, rand(256, 512))
    assert err.message == message
    lines = (LEGACY + src).splitlines()
    line = next(i + 1 for i, text in enumerate(lines) if marker in text)
    assert err.pos is not None
    assert (err.pos.line, err.pos.column) == (line, lines[line - 1].index(marker))


def test_beta2_dst_type_error(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        nisa.dma_copy(dst=3, src=x)
        return x
    """
    err = trace_error(tmp_path, src, rand(4, 4), header=BETA2)
    assert err.message == "dst must be a tensor, not int"


def test_dma_element_count_error(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.ndarray((4, 8), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        return x
    """
    err = trace_error(tmp_path, src, rand(4, 4), header=BETA2)
    assert err.message == "nisa.dma_copy: src has 16 elements ([4, 4]) but dst has 32 ([4, 8])"
