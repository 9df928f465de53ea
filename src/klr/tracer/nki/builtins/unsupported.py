"""Names of the NKI API (the corpus's and the API reference's) that klr knows but does not
support, each with the reason a kernel using it is told: ``nl.X is not supported: why``."""

from __future__ import annotations

from klr.tracer.registry import unsupported

_COLLECTIVE = ("collective communication is not traced yet (the interpreter runs the collective "
               "operators, but no NKI builtin emits them)")
_PRIVATE = "it is a private API of the Neuron compiler, not part of NKI"
_HOST = "it launches or inspects a kernel from the host; trace the kernel with klr gather and klr trace"
_TYPING = "it is a type annotation; klr reads annotations without evaluating them"
_V4_ALU = ("it is an ALU operation of NeuronCore-v4 (the signed input of larger or smaller magnitude) that "
           "KLR Core's AluOp has no tag for")

_REASONS: dict[str, str] = {
    **{f"nki.nccl.{n}": _COLLECTIVE for n in (
        "all_reduce", "all_gather", "reduce_scatter", "collective_permute",
        "collectives.collective_permute_implicit")},
    **{f"nki.collectives.{n}": _COLLECTIVE for n in (
        "all_reduce", "all_gather", "all_gather_v", "reduce_scatter", "all_to_all", "all_to_all_v",
        "collective_permute", "collective_permute_implicit", "collective_permute_implicit_reduce",
        "collective_permute_implicit_current_processing_rank_id", "rank_id")},
    "nki.isa.sendrecv": _COLLECTIVE,
    "nki.isa.core_barrier": "synchronisation between NeuronCores is not modelled (each core runs alone)",
    "nki.language.iterators.sync_program": "synchronisation between programs is not modelled",
    **{f"nki._private.private_api.{n}": _PRIVATE for n in (
        "core_barrier", "cc_div", "sendrecv", "attention_kernel", "column_tiled_mm_kernel", "do_while",
        "mlp_fused_add_kernel", "mlp_kernel", "qkv_fused_add_kernel", "qkv_kernel", "row_tiled_mm_kernel")},
    **{f"nki._private_kernels.{n}": _PRIVATE for n in (
        "NormType", "RoPE.RoPE_sbuf", "qkv.rmsnorm_qkv_isa_kernel")},
    "nki.isa._tiled_offloaded_memcpy": _PRIVATE,
    "nki.isa._tiled_offloaded_fma": _PRIVATE,
    "nki.isa.neuron_isa.dma_copy": _PRIVATE + " (use nisa.dma_copy)",
    "nki.compiler.backends.neuron.indexing.TileIndex": _PRIVATE,
    **{f"nki.{n}": _HOST for n in ("jit", "trace", "baremetal", "benchmark", "simulate_kernel", "profile",
                                    "simulate")},
    **{f"nki.typing.{n}": _TYPING for n in ("tensor", "mutable", "mutable_tensor", "scalar")},
    "nki.tensor": _TYPING,
    "nki.compiler.skip_middle_end_transformations": "it is a compiler directive for the decorator "
                                                    "position, where klr ignores it",
    "nki.compiler.enable_stack_allocator": "it is a compiler directive for the decorator position, "
                                           "where klr ignores it",
    "nki.language.spmd_dim": "it describes a launch grid, which the caller gives klr (klr gather --grid)",
    "nki.language.nc": "it describes a launch grid, which the caller gives klr (klr gather --grid)",
    **{f"nki.language.{n}": _V4_ALU for n in ("abs_max", "abs_min")},
    "nki.isa.topk": ("KLR Core has no top-k operator for its 16-partition snake layout (nor does the "
                     "reference's builtin list); use nisa.max8 and nisa.nc_match_replace8"),
}

for _name, _why in _REASONS.items():
    unsupported(_name, _why)
