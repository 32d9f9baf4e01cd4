"""The tessera pipeline in front of IREE's CPU backend.

Matmuls go to `systolic.matmul` and straight back to linalg: IREE has no array to map
them to, but the round trip keeps the reference path honest about the dialect (any
numeric change it made would show up against PyTorch).
"""

from tessera.hardware import ArrayConfig
from tessera.passes.conv_trim_input import conv_trim_input
from tessera.mlir import ir
from tessera.passes.linalg_to_systolic import linalg_to_systolic
from tessera.passes.systolic_to_linalg import systolic_to_linalg
from tessera.pipeline import Pipeline


def pipeline(context: ir.Context, hw: ArrayConfig = ArrayConfig()) -> Pipeline:
    """linalg -> systolic -> linalg, then canonicalize; convolution inputs trimmed to
    what their windows read (IREE 3.13 rejects some convolutions with unread edges)."""
    pm = Pipeline(context)
    pm.add(conv_trim_input)
    pm.add(linalg_to_systolic, rows=hw.rows, cols=hw.cols, dataflow=hw.dataflow)
    pm.add(systolic_to_linalg)
    pm.add("canonicalize,cse")
    return pm
