"""One test per message of the NKI builtins: the exact text, at the user's expression.

Each case is a kernel body (``x`` is a float32 [256, 512] HBM input), the text at which the
error points (its last line holding that text) and the message.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from klr.errors import TraceError
from klr.python.gather import gather_file
from klr.tracer import trace
from tests.tracer.nki.util import BETA2, LEGACY, rand, trace_error, trace_kernel

Z4 = "a = nl.zeros((4, 4), dtype=nl.float32)\n"
I4 = "i = nl.arange(4)[:, None]\n"
IJ8 = "i = nl.arange(4)[:, None]\nj = nl.arange(8)[None, :]\n"

MEMORY = "the trace needs more than 2147483648 bytes of memory (--limit max-memory=N raises it)"

LEGACY_CASES = [
    # tensors and views
    ("explicit tensor addresses are not supported",
     "t = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf, address=(0, 0))", "nl.ndarray("),
    ("tensor name 'x' is already in use",
     "t = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf, name='x')", "nl.ndarray("),
    ("shape must be a non-empty tuple of integers, not 'a'", "t = nl.zeros('a', dtype=nl.float32)",
     "nl.zeros("),
    ("shape must hold positive integers, not [4, 0]", "t = nl.zeros((4, 0), dtype=nl.float32)", "nl.zeros("),
    ("shape marks more than one dimension with par_dim",
     "t = nl.zeros((4, nl.par_dim(4), nl.par_dim(2)), dtype=nl.float32)", "nl.zeros("),
    ("name must be a string, not int",
     "t = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf, name=3)", "nl.ndarray("),
    ("fill value must be a number, not str", "t = nl.full((4, 4), 'a', dtype=nl.float32)", "nl.full("),
    ("par_dim takes an integer, not str", "t = nl.zeros((nl.par_dim('a'), 4), dtype=nl.float32)",
     "nl.par_dim("),
    ("shared_identity_matrix size must be a positive integer, not 0",
     "t = nl.shared_identity_matrix(0)", "nl.shared_identity_matrix("),
    ("float32() converts one Python number", "v = nl.float32(1, 2)", "nl.float32("),
    ("reshape takes integer dimensions, not [4, 2.0]", Z4 + "v = a.reshape((4, 2.0))", "a.reshape("),
    ("reshape cannot change the dtype of a tensor", Z4 + "v = a.reshape((4, 4), dtype=nl.int32)",
     "a.reshape("),
    ("reshape takes its dimensions or shape=, not both", "v = x.reshape(256, shape=(512,))", "x.reshape("),
    ("only one dimension of a reshape can be -1", "v = x.reshape((-1, -1))", "x.reshape("),
    ("cannot reshape a [256, 512] tensor into [-1, 3]", "v = x.reshape((-1, 3))", "x.reshape("),
    ("reshape dimensions must be positive integers, not 0", "v = x.reshape((256, 0))", "x.reshape("),
    ("cannot reshape a non-contiguous view of shape [256, 4]", "v = x[:, 0:4].reshape((1024,))", "x[:, 0:4]"),
    ("a reshape of an on-chip tensor must keep its partition dimension 4 first, not [2, 8]",
     Z4 + "v = a.reshape((2, 8))", "a.reshape("),
    ("an access pattern cannot be given for a tensor-indexed view",
     "i = nl.load(x[0:4, 0:1]).view(nl.int32)\nv = x[i, 0:4].ap(pattern=[[1, 4]])", "x[i, 0:4]"),
    ("this float32 view cannot be reinterpreted as whole int64 elements",
     "v = x[:, 1:3].ap(pattern=[[1, 1]], dtype=nl.int64)", "x[:, 1:3]"),
    ("ap() takes pattern=[[step, num], ...] with integer steps and counts, and an integer offset",
     "v = x.ap(pattern=[[1, 4.0]], offset=0)", "x.ap("),
    ("access pattern counts must be positive", "v = x.ap(pattern=[[1, 0]], offset=0)", "x.ap("),
    ("the access reaches element -511 of tensor 'x', which has 131072 elements",
     "v = x.ap(pattern=[[512, 128], [-1, 512]], offset=0)\nt = nl.load(v)", "nl.load("),
    ("indirect_dim 2 is not a dimension of 'x'",
     "i = nl.zeros((1, 1), dtype=nl.int32)\nv = x.ap(pattern=[[1, 1], [1, 1], [1, 4]], scalar_offset=i, "
     "indirect_dim=2)", "x.ap("),
    ("nl.is_hbm takes a tensor, not int", "b = nl.is_hbm(3)", "nl.is_hbm("),
    ("indirect_dim must be a dimension of the 1-d access pattern, not 1",
     "v = x.ap(pattern=[[1, 4]], indirect_dim=1)", "x.ap("),
    ("an access pattern takes scalar_offset or vector_offset, not both",
     "i = nl.zeros((4, 1), dtype=nl.int32)\nv = x.ap(pattern=[[1, 4]], scalar_offset=i, vector_offset=i)",
     "x.ap("),
    ("scalar_offset must hold integers, not float32",
     "i = nl.zeros((1, 1), dtype=nl.float32)\nv = x.ap(pattern=[[1, 4]], scalar_offset=i)", "x.ap("),
    ("vector_offset must be an on-chip tile; load it first",
     "v = x.ap(pattern=[[1, 4]], vector_offset=x.view(nl.int32)[0, 0:4])", "x.ap("),
    ("vector_offset has 8 indices for a pattern dimension of 4",
     "i = nl.zeros((8, 1), dtype=nl.int32)\nv = x.ap(pattern=[[1, 4]], vector_offset=i)", "x.ap("),
    ("view(dtype) can only reinterpret a whole tensor, not a view of one",
     "v = x[0:4, 0:4].view(nl.bfloat16)", "x[0:4"),
    ("view(dtype) changes the last dimension, which is this tile's partition dimension",
     "a = nl.zeros((4, nl.par_dim(8)), dtype=nl.float32)\nv = a.view(nl.bfloat16)", "a.view("),
    ("slice bounds must be integers, not str", Z4 + "v = a[0:2, 'a':3]", "a[0:2"),
    ("slice step cannot be zero", Z4 + "v = a[0:2, ::0]", "a[0:2"),
    ("the partition index of an on-chip tensor must vary along a single axis",
     "i = nl.arange(4)[:, None]\nj = nl.arange(4)[None, :]\nt = nl.zeros((16, 4), dtype=nl.float32)\n"
     "v = t[i + j, 0]", "t[i + j"),
    # index tiles, masks, grids
    ("too many indices for an index tile of shape [4]", "i = nl.arange(4)\nj = i[:, :]", "i[:, :]"),
    ("an index tile can only be indexed with ':' and None (as in [:, None])",
     "i = nl.arange(4)\nj = i[1]", "i[1]"),
    ("a mask cannot use '!='; use <, <=, >, >= or == on index tiles", I4 + "j = i != 3", "i != 3"),
    ("only a single comparison can be negated with '~' in a mask", I4 + "m = ~((i < 3) & (i > 1))", "~(("),
    ("nl.arange stop must be an integer, not 4.0", "i = nl.arange(4.0)", "nl.arange("),
    ("nl.arange step must not be zero", "i = nl.arange(0, 4, 0)", "nl.arange("),
    ("nl.arange(4, 2, 1) is empty", "i = nl.arange(4, 2)", "nl.arange("),
    ("this mgrid has 2 axes; '.z' is axis 3", "g = nl.mgrid[0:4, 0:4]\np = g.z", "g.z"),
    ("mgrid index must be an integer below 2", "g = nl.mgrid[0:4, 0:4]\np = g[5]", "g[5]"),
    ("nl.mgrid is indexed with slices, as in nl.mgrid[0:128, 0:512]", "g = nl.mgrid[3]", "nl.mgrid["),
    ("a mask of shape [8, 1] does not fit a [4, 4] tile",
     "t = nl.load(x[0:4, 0:4], mask=(nl.arange(8)[:, None] < 2))", "nl.load("),
    ("this mask would split the transfer into 8192 pieces, more than 4096",
     "v = x.reshape((128, 64, 16))\ni = nl.arange(128)[:, None, None]\nj = nl.arange(64)[None, :, None]\n"
     "k = nl.arange(16)[None, None, :]\nt = nl.load(v[i, j, k], mask=(i + j + k < 100))", "nl.load("),
    ("nl.ds size must be an integer, not float", "t = nl.load(x[nl.ds(0, 4.0), 0:4])", "nl.ds("),
    ("nl.ds size must be positive, not 0", "t = nl.load(x[nl.ds(0, 0), 0:4])", "nl.ds("),
    ("program_id axis must be an integer, not str", "p = nl.program_id('a')", "nl.program_id("),
    ("invalid program axis 3: the launch grid has 1 dimensions", "n = nl.num_programs(3)",
     "nl.num_programs("),
    ("nl.affine_range bounds must be integers, not float",
     "for i in nl.affine_range(1.5):\n    pass", "nl.affine_range("),
    ("nl.affine_range step must not be zero", "for i in nl.affine_range(0, 4, 0):\n    pass",
     "nl.affine_range("),
    ("mask parameter is not supported", I4 + "nl.device_print('x', x, mask=(i < 2))", "nl.device_print("),
    ("print_prefix must be a string, not int", "nl.device_print(3, x)", "nl.device_print("),
    # indirect access
    ("only one index of a tensor access can be a tensor",
     "t = nl.zeros((4, 4), dtype=nl.int32)\nb = t[t, t]", "t[t, t]"),
    ("an index tensor must vary along one axis, not have shape [4, 4]",
     "t = nl.zeros((4, 4), dtype=nl.int32)\nv = nl.load(x[t, 0])", "x[t, 0]"),
    ("the index tensor 't' is in HBM, but it must be in SBUF or PSUM; load it first",
     "t = nl.ndarray((4, 1), dtype=nl.int32, buffer=nl.hbm)\n" + Z4 + "b = a[t, 0]", "a[t, 0]"),
    ("too many indices: the tensor has 2 dimensions",
     "t = nl.zeros((4, 1), dtype=nl.int32)\n" + Z4 + "b = a[0, 0, t]", "a[0, 0, t]"),
    ("a tensor index cannot follow '...'",
     "t = nl.zeros((4, 1), dtype=nl.int32)\n" + Z4 + "b = a[..., t]", "a[..., t]"),
    # load, store, arithmetic
    ("nl.load_transpose2d needs a 2-D source, not [4, 4, 1]",
     "t = nl.load_transpose2d(x[0:4, 0:4, None])", "nl.load_transpose2d("),
    ("nl.store stores a tensor or a number, not str", "nl.store(x, value='s')", "nl.store("),
    ("nl.store of a number: the region has 256 partitions, at most 128",
     "nl.store(x, value=1.0)", "nl.store("),
    ("a [4, 4] tile cannot be broadcast to [8, 4]", Z4 + "b = a.broadcast_to((8, 4))", "a.broadcast_to("),
    ("broadcast_to takes a shape tuple, not 5", Z4 + "b = a.broadcast_to(5)", "a.broadcast_to("),
    ("broadcast_to needs a tile in SBUF or PSUM; load the tensor first",
     "b = x.broadcast_to((256, 512))", "x.broadcast_to("),
    ("the first operand of nl.add must be a tensor or a number, not str", Z4 + "b = nl.add('a', a)",
     "nl.add("),
    ("index tiles cannot be combined with tensors; use them to index a tensor", Z4 + I4 + "b = a + i",
     "a + i"),
    ("the operator '@' is not supported on tensors", Z4 + "b = a @ a", "a @ a"),
    ("cannot update a [4, 1] tile with a [4, 4] tile in place",
     Z4 + "b = nl.zeros((4, 1), dtype=nl.float32)\nb += a", "b += a"),
    ("cannot assign a str to a tensor", Z4 + "a[0:4, 0:4] = 's'", "a[0:4, 0:4] = "),
    ("nl.loop_reduce accumulates into an on-chip tile, not into HBM",
     "x[0:4, 0:4] = nl.loop_reduce(nl.zeros((4, 4), dtype=nl.float32), op=np.add, loop_indices=[])",
     "x[0:4, 0:4] ="),
    ("nl.gelu needs a tensor, not a number", "b = nl.gelu(1.0)", "nl.gelu("),
    ("nl.copy cannot read the HBM tensor 'x'; use nl.load", "b = nl.copy(x)", "nl.copy("),
    ("nl.broadcast_to needs a tensor, not int", "b = nl.broadcast_to(3, shape=(4, 4))", "nl.broadcast_to("),
    ("nl.where operands must have the condition's shape [4, 4], not [4, 2]",
     Z4 + "b = nl.where(a, a, nl.zeros((4, 2), dtype=nl.float32))", "nl.where("),
    ("nl.where takes tiles or numbers, not str", Z4 + "b = nl.where(a, a, 's')", "nl.where("),
    ("nl.sum axis 5 is out of range for a tile of rank 2", Z4 + "b = nl.sum(a, axis=5)", "nl.sum("),
    ("nl.sum can reduce at most 4 axes, not axis=(1, 2, 3, 4, 5)",
     "a = nl.zeros((4, 4, 4, 4, 4, 4), dtype=nl.float32)\nb = nl.sum(a, axis=(1, 2, 3, 4, 5))", "nl.sum("),
    ("a mask of nl.sum can only restrict the axes that are not reduced",
     Z4 + "i = nl.arange(4)[None, :]\nb = nl.sum(a, axis=1, mask=(i < 2))", "nl.sum("),
    ("nl.sum needs axis= (the free axes to reduce)", Z4 + "b = nl.sum(a)", "nl.sum("),
    ("nl.transpose needs a 2-D [partition, free] tile, not [4, 4, 4]",
     "a = nl.zeros((4, 4, 4), dtype=nl.float32)\nb = nl.transpose(a)", "nl.transpose("),
    ("nl.transpose does not take a mask", Z4 + I4 + "b = nl.transpose(a, mask=(i < 2))", "nl.transpose("),
    ("nl.matmul: stationary has 256 elements per partition, at most 128",
     "a = nl.zeros((4, 256), dtype=nl.float32)\nb = nl.matmul(a, a, transpose_x=True)", "nl.matmul("),
    ("nl.matmul: moving has 1024 elements per partition, at most 512 (one PSUM bank of float32)",
     Z4 + "b = nl.zeros((4, 1024), dtype=nl.float32)\nc = nl.matmul(a, b, transpose_x=True)", "nl.matmul("),
    ("nl.loop_reduce does not take an index mask",
     Z4 + I4 + "c = nl.loop_reduce(a, op=np.add, loop_indices=[], mask=(i < 2))", "nl.loop_reduce("),
    # host arrays
    ("np.zeros dimension must be a positive integer, not 0", "t = np.zeros(0)", "np.zeros("),
    ("eye's k must be an integer, not 1.5", "t = np.eye(3, k=1.5)", "np.eye("),
    (MEMORY, "t = np.eye(100000)",
     "np.eye("),
    (MEMORY,
     "t = np.zeros((100000, 100000))", "np.zeros("),
    (MEMORY, "t = np.arange(10**9)",
     "np.arange("),
    ("np.full's fill value must be a number, not 'a'", "t = np.full((2, 2), 'a')", "np.full("),
    ("np.arange takes integer bounds and step, not 1.5", "t = np.arange(1.5)", "np.arange("),
    ("np.arange's step must not be zero", "t = np.arange(0, 4, 0)", "np.arange("),
    ("cannot reshape a host array of 16 elements into [3, 3]", "t = np.zeros((4, 4)).reshape((3, 3))",
     "np.zeros("),
    # allocation directives
    ("sbuf.alloc takes an allocation function, not int",
     "t = nl.zeros((4, 4), dtype=nl.float32, buffer=nki.compiler.sbuf.alloc(3))", "nki.compiler.sbuf.alloc("),
    ("base_addr must be a non-negative integer, not -1",
     "t = nl.zeros((4, 4), dtype=nl.float32, buffer=nki.compiler.sbuf.mod_alloc(base_addr=-1))",
     "nki.compiler.sbuf.mod_alloc("),
    ("num_free_tiles must be a tuple of positive integers, not (0,)",
     "t = nl.zeros((4, 4), dtype=nl.float32, buffer=nki.compiler.sbuf.mod_alloc(base_addr=0, "
     "num_free_tiles=(0,)))", "nki.compiler.sbuf.mod_alloc("),
    ("multi_buffer takes a positive integer, not 0",
     "for i in nl.affine_range(4, directives=nki.compiler.multi_buffer(0)):\n    pass",
     "nki.compiler.multi_buffer("),
]


def _where(source: str, marker: str, header: str) -> tuple[int, int]:
    """(line, 0-based column) of the last line of ``header + source`` holding ``marker``."""
    lines = (header + source).splitlines()
    line = max(i for i, text in enumerate(lines) if marker in text)
    return line + 1, lines[line].index(marker)


def _check(tmp_path: Path, body: str, marker: str, message: str, header: str) -> None:
    tail = "" if "return" in body else "\n    return x"
    src = "def kernel(x):\n" + textwrap.indent(body, "    ") + tail + "\n"
    err = trace_error(tmp_path, src, rand(256, 512), header=header)
    assert err.message == message
    assert err.pos is not None
    assert (err.pos.line, err.pos.column) == _where(src, marker, header)


@pytest.mark.parametrize(("message", "body", "marker"), LEGACY_CASES, ids=[c[0][:70] for c in LEGACY_CASES])
def test_legacy(tmp_path: Path, message: str, body: str, marker: str) -> None:
    _check(tmp_path, body, marker, message, LEGACY)


ISA_CASES = [
    ("nisa.activation: data 'x' is in HBM, but it must be in SBUF or PSUM",
     "c = nisa.activation(op=nl.exp, data=x)", "nisa.activation("),
    ("nisa.tensor_scalar: operand0 must be a number or a tile, not str",
     Z4 + "c = nisa.tensor_scalar(a, np.add, 's')", "nisa.tensor_scalar("),
    ("nl.random_seed: the mask parameter is not supported",
     Z4 + I4 + "nl.random_seed(a, mask=(i < 2))", "nl.random_seed("),
    ("is_transpose must be True or False, not 1", Z4 + "c = nisa.nc_matmul(a, a, is_transpose=1)",
     "nisa.nc_matmul("),
    ("nisa.nc_matmul: tile_position must be a list of non-negative integers",
     Z4 + "c = nisa.nc_matmul(a, a, tile_position=(-1,))", "nisa.nc_matmul("),
    ("nisa.nc_matmul needs 2-D tiles, not [4, 4, 1] and [4, 4]",
     Z4 + "c = nisa.nc_matmul(a[:, :, None], a)", "nisa.nc_matmul("),
    ("nisa.nc_matmul: stationary is in HBM, but it must be in SBUF",
     "c = nisa.nc_matmul(x[0:4, 0:4], x[0:4, 0:4])", "nisa.nc_matmul("),
    ("nisa.nc_matmul: stationary is in HBM, but it must be in SBUF",
     "v = x.reshape((128, 2, 512))\n"
     "c = nisa.nc_matmul(v[0:4, :, 0:4], v[0:4, :, 0:4], perf_mode='double_row')",
     "nisa.nc_matmul("),
    ("nisa.activation: bias must have one element per partition ([4, 1]) but has shape [4, 4]",
     Z4 + "c = nisa.activation(op=nl.exp, data=a, bias=a)", "nisa.activation("),
    ("nisa.activation_reduce: scale can't be specified as tensor",
     Z4 + "b = nl.zeros((4, 1), dtype=nl.float32)\n"
     "c = nisa.activation_reduce(op=nl.exp, data=a, reduce_op=np.add, reduce_res=b, scale=b)",
     "nisa.activation_reduce("),
    ("engine must be one of nisa.engine.*, not 3", "t = nisa.memset((4, 4), 1.0, nl.float32, engine=3)",
     "nisa.memset("),
    ("nisa.memset: value must be a number, not str", "c = nisa.memset((4, 4), 's', nl.float32)",
     "nisa.memset("),
    ("nisa.iota: expr must be an index expression such as nl.arange(8)[None, :], not str",
     "c = nisa.iota('s', dtype=nl.int32)", "nisa.iota("),
    ("nisa.affine_select: pred must be one affine comparison of index tiles, such as (i_p >= i_f)",
     Z4 + "c = nisa.affine_select(3, a, 0.0)", "nisa.affine_select("),
    ("nisa.affine_select: pred must be a single comparison, not a conjunction",
     Z4 + "i = nl.arange(4)[:, None]\nj = nl.arange(4)[None, :]\n"
     "c = nisa.affine_select((i > 0) & (j > 0), a, 0.0)",
     "nisa.affine_select("),
    ("nisa.affine_select: on_false_value must be a number, not str",
     Z4 + I4 + "c = nisa.affine_select(i > 0, a, 's')", "nisa.affine_select("),
    ("nisa.affine_select: pred of shape [4, 1, 1] does not fit a [4, 4] tile",
     Z4 + "i = nl.arange(4)[:, None, None]\nc = nisa.affine_select(i > 0, a, 0.0)", "nisa.affine_select("),
    ("nisa.bn_stats needs a [partition, free...] tile, not [2, 4, 8]",
     "a = nl.zeros((2, nl.par_dim(4), 8), dtype=nl.float32)\nc = nisa.bn_stats(a)", "nisa.bn_stats("),
    ("nisa.bn_stats: a mask must be rectangular here",
     "a = nl.zeros((4, 8), dtype=nl.float32)\n" + IJ8 + "c = nisa.bn_stats(a, mask=(i >= j))",
     "nisa.bn_stats("),
    ("nisa.tensor_partition_reduce needs a [partition, free...] tile, not [2, 4, 8]",
     "a = nl.zeros((2, nl.par_dim(4), 8), dtype=nl.float32)\nc = nisa.tensor_partition_reduce(np.add, a)",
     "nisa.tensor_partition_reduce("),
    ("nisa.dma_transpose returns the 2-D transpose of a 2-D tile; use dst= for other axes",
     "c = nisa.dma_transpose(x[0:4, 0:4, None])", "nisa.dma_transpose("),
    ("nisa.tensor_scalar_cumulative: reduce_cmd load_reduce needs imm1, the starting value",
     Z4 + "c = nisa.tensor_scalar_cumulative(a, np.add, np.add, imm0=1.0, "
     "reduce_cmd=nisa.reduce_cmd.load_reduce)", "nisa.tensor_scalar_cumulative("),
    ("nisa.nc_find_index8: vals must have 8 elements per partition but has shape [4, 4]",
     Z4 + "c = nisa.nc_find_index8(a, a)", "nisa.nc_find_index8("),
    ("nisa.nc_match_replace8: imm must be a number, not str",
     "a = nl.zeros((4, 8), dtype=nl.float32)\nc = nisa.nc_match_replace8(a, a, 's')",
     "nisa.nc_match_replace8("),
    ("nisa.nc_match_replace8: a mask must be rectangular here",
     "a = nl.zeros((4, 8), dtype=nl.float32)\n" + IJ8
     + "c = nisa.nc_match_replace8(a, a, 0.0, mask=(i >= j))",
     "nisa.nc_match_replace8("),
    ("nisa.nc_stream_shuffle: shuffle_mask must be a list of at most 32 partition numbers (0..31, or 255 to "
     "leave a partition alone)", "a = nl.zeros((4, 8), dtype=nl.float32)\nnisa.nc_stream_shuffle(a, a, [40])",
     "nisa.nc_stream_shuffle("),
    ("nisa.nc_stream_shuffle: src must have 4 elements per partition but has shape [4, 8]",
     "a = nl.zeros((4, 8), dtype=nl.float32)\n" + Z4.replace("a =",
     "b =") + "nisa.nc_stream_shuffle(a, b, [0])",
     "nisa.nc_stream_shuffle("),
    ("nisa.range_select: range_start must be a number, not str",
     "a = nl.zeros((4, 8), dtype=nl.float32)\nb = nl.zeros((4, 1), dtype=nl.float32)\n"
     "c = nisa.range_select(on_true_tile=a, comp_op0=np.greater, comp_op1=np.less, bound0=b, bound1=b, "
     "range_start='s')", "nisa.range_select("),
    ("nisa.range_select: bound0 must have one element per partition ([4, 1]) but has shape [4, 2]",
     "a = nl.zeros((4, 8), dtype=nl.float32)\nb = nl.zeros((4, 2), dtype=nl.float32)\n"
     "c = nisa.range_select(on_true_tile=a, comp_op0=np.greater, comp_op1=np.less, bound0=b, bound1=b)",
     "nisa.range_select("),
    ("nisa.local_gather: num_elem_per_idx must be a positive integer, not 0",
     "a = nl.zeros((16, 8), dtype=nl.float32)\ni = nl.zeros((16, 2), dtype=nl.uint32)\n"
     "c = nisa.local_gather(a, i, num_elem_per_idx=0)", "nisa.local_gather("),
    ("nl.gather_flattened gathers along the free axis; axis must be -1, not 0",
     "a = nl.zeros((4, 8), dtype=nl.float32)\ni = nl.zeros((4, 2), dtype=nl.uint32)\n"
     "c = nl.gather_flattened(a, i, axis=0)", "nl.gather_flattened("),
    ("nl.gather_flattened: indices has 2 partitions but data has 4",
     "a = nl.zeros((4, 8), dtype=nl.float32)\ni = nl.zeros((2, 2), dtype=nl.uint32)\n"
     "c = nl.gather_flattened(a, i)", "nl.gather_flattened("),
]


# Each builtin reports the operand rules of klr.core.rules (on-chip operands, shapes) after its name.
RULE_CASES = [
    ("nisa.reciprocal: data 'x' is in HBM, but it must be in SBUF or PSUM", "c = nisa.reciprocal(x)",
     "nisa.reciprocal("),
    ("nisa.scalar_tensor_tensor: data 'x' is in HBM, but it must be in SBUF or PSUM",
     "c = nisa.scalar_tensor_tensor(data=x, op0=np.add, operand0=1.0, op1=np.add, operand1=x)",
     "nisa.scalar_tensor_tensor("),
    ("nisa.tensor_tensor: data1 'x' is in HBM, but it must be in SBUF or PSUM",
     "c = nisa.tensor_tensor(x, x, np.add)", "nisa.tensor_tensor("),
    ("nisa.nc_transpose: data has 256 elements per partition, at most 128 (a PE transpose takes at most "
     "[128, 128])", "a = nl.zeros((4, 256), dtype=nl.float32)\nc = nisa.nc_transpose(a)",
     "nisa.nc_transpose("),
    ("nl.matmul needs 2-D tiles, not [4, 4, 1] and [4, 4]",
     Z4 + "c = nl.matmul(a[:, :, None], a, transpose_x=True)", "nl.matmul("),
    ("nisa.tensor_copy: src 'x' is in HBM, but it must be in SBUF or PSUM", "c = nisa.tensor_copy(x)",
     "nisa.tensor_copy("),
    ("nisa.dropout: data 'x' is in HBM, but it must be in SBUF or PSUM", "c = nisa.dropout(x, 0.5)",
     "nisa.dropout("),
    ("nl.dropout: x 'x' is in HBM, but it must be in SBUF or PSUM", "c = nl.dropout(x, 0.5)", "nl.dropout("),
    ("nl.random_seed: seed 'x' is in HBM, but it must be in SBUF or PSUM", "nl.random_seed(x)",
     "nl.random_seed("),
    ("nisa.tensor_reduce: data 'x' is in HBM, but it must be in SBUF or PSUM",
     "c = nisa.tensor_reduce(np.add, x, axis=1)", "nisa.tensor_reduce("),
    ("nisa.tensor_tensor_scan: data0 'x' is in HBM, but it must be in SBUF or PSUM",
     "c = nisa.tensor_tensor_scan(x, x, 0.0, np.add, np.add)", "nisa.tensor_tensor_scan("),
    ("nisa.select_reduce: predicate 'x' is in HBM, but it must be in SBUF or PSUM",
     "c = nisa.select_reduce(x, x, 0.0)", "nisa.select_reduce("),
    ("nisa.tensor_copy_predicated: predicate has shape [4, 8] but dst has [4, 4]",
     Z4 + "b = nl.zeros((4, 8), dtype=nl.float32)\nnisa.tensor_copy_predicated(dst=a, src=a, predicate=b)",
     "nisa.tensor_copy_predicated("),
]


@pytest.mark.parametrize(("message", "body", "marker"), RULE_CASES, ids=[c[0][:70] for c in RULE_CASES])
def test_operand_rules(tmp_path: Path, message: str, body: str, marker: str) -> None:
    _check(tmp_path, body, marker, message, LEGACY)


@pytest.mark.parametrize(("message", "body", "marker"), ISA_CASES, ids=[c[0][:70] for c in ISA_CASES])
def test_legacy_isa(tmp_path: Path, message: str, body: str, marker: str) -> None:
    _check(tmp_path, body, marker, message, LEGACY)


S4 = "a = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf)\n"
S48 = "a = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.sbuf)\n"

BETA2_CASES = [
    ("nisa.nonzero_with_count: dst of shape [4, 4] must be [4, 9] for src of shape [4, 8]",
     S4 + S48.replace("a =", "b =") + "nisa.nonzero_with_count(dst=a, src=b)", "nisa.nonzero_with_count("),
    ("nisa.nonzero_with_count: index_offset must be an integer, not float",
     S4 + "nisa.nonzero_with_count(dst=a, src=a, index_offset=1.5)", "nisa.nonzero_with_count("),
    ("nisa.activation: data has shape [4, 4] but dst has [4, 8]",
     S4 + "b = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.sbuf)\n"
     "nisa.activation(dst=b, op=nl.exp, data=a)",
     "nisa.activation("),
    ("nisa.activation: bias 'x' is in HBM, but it must be in SBUF or PSUM",
     S48 + "nisa.activation(dst=a, op=nl.exp, data=a, bias=x[0:4, 0:1])", "nisa.activation("),
    ("offset must be an integer, not 1.5",
     S4.replace("float32", "int32") + "nisa.iota(dst=a, pattern=[[1, 4]], offset=1.5)", "nisa.iota("),
    ("nisa.iota: pattern must be a list of [step, num] integer pairs",
     S4.replace("float32", "int32") + "nisa.iota(dst=a, pattern=[1, 4])", "nisa.iota("),
    ("nisa.dma_copy: dst_rmw_op supports only nl.add",
     S4 + "nisa.dma_copy(dst=a, src=x[0:4, 0:4], dst_rmw_op=nl.multiply)", "nisa.dma_copy("),
    ("nisa.dma_copy: unsupported oob mode 2", S4 + "nisa.dma_copy(dst=a, src=x[0:4, 0:4], oob_mode=2)",
     "nisa.dma_copy("),
    ("nisa.dma_copy: a mask needs source and destination of the same shape",
     "a = nl.ndarray((16,), dtype=nl.float32, buffer=nl.sbuf)\n" + I4
     + "nisa.dma_copy(dst=a, src=x[0:4, 0:4], mask=(i < 2))", "nisa.dma_copy("),
    ("nisa.tensor_scalar_reduce: reduce_init must be a number, not str",
     S4 + "r = nl.ndarray((4, 1), dtype=nl.float32, buffer=nl.sbuf)\n"
     "nisa.tensor_scalar_reduce(dst=a, data=a, op0=np.add, operand0=1.0, reduce_op=np.add, reduce_res=r, "
     "reduce_init='s')", "nisa.tensor_scalar_reduce("),
    ("nisa.bn_stats: dst has 2 partitions but data has 4",
     S48 + "d = nl.ndarray((2, 6), dtype=nl.float32, buffer=nl.sbuf)\nnisa.bn_stats(dst=d, data=a)",
     "nisa.bn_stats("),
    ("nisa.tensor_partition_reduce: dst of shape [2, 8] must be [1, 8]",
     S48 + "d = nl.ndarray((2, 8), dtype=nl.float32, buffer=nl.sbuf)\n"
     "nisa.tensor_partition_reduce(dst=d, op=np.add, data=a)", "nisa.tensor_partition_reduce("),
    ("nisa.dma_transpose: unsupported axes (0, 0, 1, 2); give a permutation of (0, 1, 2, 3)",
     "a = nl.ndarray((4, 4, 4, 4), dtype=nl.float32, buffer=nl.sbuf)\n"
     "nisa.dma_transpose(dst=a, src=a, axes=(0, 0, 1, 2))", "nisa.dma_transpose("),
    ("nisa.dma_transpose: a 2-D src is transposed with axes (1, 0), not (0, 1)",
     S4 + "nisa.dma_transpose(dst=a, src=a, axes=(0, 1))", "nisa.dma_transpose("),
    ("nisa.dma_transpose: the partition axis of src must be its first dimension, not dimension 1",
     "a = nl.ndarray((2, nl.par_dim(4), 3), dtype=nl.float32, buffer=nl.sbuf)\n"
     "d = nl.ndarray((3, 4, 2), dtype=nl.float32, buffer=nl.sbuf)\n"
     "nisa.dma_transpose(dst=d, src=a)", "nisa.dma_transpose("),
    ("nisa.dma_transpose: priority must be an integer, not 1.5",
     "a = nl.ndarray((4, 4, 4, 4), dtype=nl.float32, buffer=nl.sbuf)\n"
     "nisa.dma_transpose(dst=a, src=a, priority=1.5)", "nisa.dma_transpose("),
    ("nisa.nc_find_index8: dst must have 8 elements per partition but has shape [4, 4]",
     S48 + "d = nl.ndarray((4, 4), dtype=nl.uint32, buffer=nl.sbuf)\n"
     "nisa.nc_find_index8(dst=d, data=a, vals=a)",
     "nisa.nc_find_index8("),
    ("nisa.sequence_bounds: dst of shape [4, 4] must hold [4, 2, 8] elements",
     S48.replace("float32", "int32") + "d = nl.ndarray((4, 4), dtype=nl.int32, buffer=nl.sbuf)\n"
     "nisa.sequence_bounds(dst=d, segment_ids=a)", "nisa.sequence_bounds("),
    ("shared_identity_matrix: dst has shape [4, 4] but the identity is [8, 8]",
     S4 + "nl.shared_identity_matrix(8, dst=a)", "nl.shared_identity_matrix("),
    ("nl.abs_max is not supported: it is an ALU operation of NeuronCore-v4 (the signed input of larger or "
     "smaller magnitude) that KLR Core's AluOp has no tag for", S4 + "b = nl.abs_max(a, 1.0)", "nl.abs_max("),
    ("nl.abs_min is not supported: it is an ALU operation of NeuronCore-v4 (the signed input of larger or "
     "smaller magnitude) that KLR Core's AluOp has no tag for",
     S4 + "nisa.tensor_tensor(dst=a, data1=a, data2=a, op=nl.abs_min)", "nl.abs_min"),
]


@pytest.mark.parametrize(("message", "body", "marker"), BETA2_CASES, ids=[c[0][:70] for c in BETA2_CASES])
def test_beta2(tmp_path: Path, message: str, body: str, marker: str) -> None:
    _check(tmp_path, body, marker, message, BETA2)


# --- kernel arguments and results --------------------------------------------------------------


def test_a_kernel_argument_with_an_empty_shape(tmp_path: Path) -> None:
    err = trace_error(tmp_path, "def kernel(x):\n    return x\n", np.zeros((0, 4), np.float32))
    assert err.message == "kernel argument 'x' has an empty shape [0, 4]"
    assert err.pos is not None
    assert (err.pos.line, err.pos.column) == (5, 11)  # the parameter


def test_a_kernel_argument_with_an_unknown_dtype(tmp_path: Path) -> None:
    import dataclasses

    from klr.python import ast as A

    path = tmp_path / "kern.py"
    path.write_text(LEGACY + "def kernel(x):\n    return x\n")
    kernel = gather_file(str(path), "kernel", args=(np.zeros((2, 2), np.float32),))

    def retype(e: A.Expr) -> A.Expr:
        k = e.expr
        assert isinstance(k, A.ConstExpr) and isinstance(k.value, A.CTensor)
        return dataclasses.replace(e, expr=A.ConstExpr(dataclasses.replace(k.value, dtype="complex64")))

    with pytest.raises(TraceError) as info:
        trace(dataclasses.replace(kernel, args=tuple(retype(e) for e in kernel.args)))
    assert info.value.message == "kernel argument 'x' has an unsupported dtype 'complex64'"


RETURNS = [
    ("a kernel must return HBM tensors, but 't' is in sbuf",
     "t = nl.zeros((4, 4), dtype=nl.float32)\nreturn {'a': t}"),
    ("a kernel must return whole tensors, not a view of 'x'", "return {'a': x[0:4, 0:4]}"),
]


@pytest.mark.parametrize(("message", "body"), RETURNS, ids=[c[0] for c in RETURNS])
def test_a_returned_dict_of_tiles(tmp_path: Path, message: str, body: str) -> None:
    src = "def kernel(x):\n" + textwrap.indent(body, "    ") + "\n"
    assert trace_error(tmp_path, src, rand(256, 512)).message == message


@pytest.mark.xfail(strict=True, reason="returned() copies tiles in tuples and lists into HBM outputs but not "
                   "in dicts, whose tiles then fail in output_of with a TraceError without a position")
def test_a_returned_dict_of_tiles_is_positioned(tmp_path: Path) -> None:
    src = "def kernel(x):\n    t = nl.zeros((4, 4), dtype=nl.float32)\n    return {'a': t}\n"
    assert trace_error(tmp_path, src, rand(256, 512)).pos is not None


def test_a_mask_used_as_a_condition_warns(tmp_path: Path) -> None:
    src = ("def kernel(x):\n    i = nl.arange(4)[:, None]\n    m = i < 2\n"
           "    if m:\n        pass\n    return x\n")
    result = trace_kernel(tmp_path, src, rand(256, 512))
    message = "a mask is always true as a condition: 'm1 and m2' is just m2; combine masks with '&'"
    assert [(w.message, w.pos.line, w.pos.column) for w in result.warnings if w.pos] == [(message, 8, 7)]
