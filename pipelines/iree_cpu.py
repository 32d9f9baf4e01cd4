"""The tessera pipeline in front of IREE's CPU backend.

Matmuls go to `systolic.matmul` (on a default 16x16 array: IREE has no array to map
them to) and straight back to linalg: the round trip keeps the reference path honest
about the dialect (any numeric change it made would show up against PyTorch).
"""

from tessera.hardware import IreeCpuConfig, cpu_flags
from tessera.mlir import ir
from tessera.pipeline import Pipeline


def pipeline(context: ir.Context, hw: IreeCpuConfig) -> Pipeline:
    """Float constants truncated ahead of time (IREE's VM cannot truncate the f64
    scalars torch-mlir leaves); linalg -> systolic -> linalg, then canonicalize;
    convolution inputs trimmed to what their windows read (IREE 3.13 rejects some
    convolutions with unread edges);
    with `hw.mmt4d_convs`, f32 nchw convolutions of batch 1 as tessera's packed im2col
    + linalg.mmt4d on the tile of IREE's ukernel for `hw`'s CPU."""
    pm = Pipeline(context)
    pm.add("tessera-fold-float-truncation")
    pm.add("tessera-conv-trim-input")
    pm.add("tessera-linalg-to-systolic")
    pm.add("tessera-systolic-to-linalg")
    if hw.mmt4d_convs:
        pm.add(f"tessera-conv-to-mmt4d{{tile={mmt4d_tile(hw)}}}")
    pm.add("canonicalize,cse")
    return pm


def mmt4d_tile(hw: IreeCpuConfig) -> int:
    """IREE's f32 mmt4d ukernel tile for `hw`'s CPU: on this machine (`host`) 16 with
    AVX-512, else 8 (AVX2); for a CPU named otherwise, 8."""
    return 16 if hw.cpu == "host" and "avx512f" in cpu_flags() else 8
