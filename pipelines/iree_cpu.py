"""The tessera pipeline in front of IREE's CPU backend.

Matmuls go to `systolic.matmul` (on a default 16x16 array: IREE has no array to map
them to) and straight back to linalg: the round trip keeps the reference path honest
about the dialect (any numeric change it made would show up against PyTorch).
"""

from tessera.hardware import IreeCpuConfig
from tessera.mlir import ir
from tessera.pipeline import Pipeline


def pipeline(context: ir.Context, hw: IreeCpuConfig) -> Pipeline:
    """linalg -> systolic -> linalg, then canonicalize; convolution inputs trimmed to
    what their windows read (IREE 3.13 rejects some convolutions with unread edges).
    `hw` (the CPU) matters to IREE only, not to these passes."""
    pm = Pipeline(context)
    pm.add("tessera-conv-trim-input")
    pm.add("tessera-linalg-to-systolic")
    pm.add("tessera-systolic-to-linalg")
    pm.add("canonicalize,cse")
    return pm
