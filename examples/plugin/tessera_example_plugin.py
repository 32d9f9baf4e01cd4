"""An example tessera plugin: a pass, a pipeline, a hardware preset and a target.

`example-choose-dataflow` picks, for every `systolic.matmul`, the dataflow (weight-,
output- or input-stationary) its array computes it in the fewest cycles, by the standard
systolic model (folds x (fill + stream + drain), which npu-sim's ideal-memory timing
matches exactly). tessera's NPU pipeline otherwise uses one dataflow for every layer: a
tall-K matmul on a weight-stationary array refills the array for every K block, where an
output-stationary one streams all of K through a single fold.

Load it with `tessera-opt --load tessera_example_plugin.py` (or any tool's `--load`), or
install this folder (`pip install -e examples/plugin`): its `tessera.plugins` entry point
makes every tessera process load it.
"""

import math
from dataclasses import dataclass

from tessera.dialects.systolic import MatmulOp, array_attr, array_params, transpose_flags
from tessera.errors import TesseraError
from tessera.hardware import DATAFLOWS, NpuConfig
from tessera.knobs import Options, knob
from tessera.mlir import rewrite
from tessera.targets.npu_sim import NpuSim


@dataclass(frozen=True)
class ChooseDataflowOptions(Options):
    """The dataflows the array can run, comma-separated (an array that only runs some
    of them, like Gemmini's ws and os, lists those)."""

    dataflows: str = knob("ws,os,is", "dataflows to choose from, comma-separated")

    def __post_init__(self):
        super().__post_init__()
        unknown = [d for d in self.dataflows.split(",") if d not in DATAFLOWS]
        if unknown or not self.dataflows:
            raise TesseraError(f"option dataflows lists {', '.join(unknown) or 'nothing'}; "
                               f"dataflows are {', '.join(DATAFLOWS)}")


def standard_cycles(dataflow: str, rows: int, cols: int, m: int, n: int, k: int) -> int:
    """Cycles of an m x n x k matmul on a rows x cols array with ideal memory: every
    fold fills the array, streams its third dimension through and drains; ws and is
    also shift their stationary block in first."""
    mapped_rows, mapped_cols, streamed = {"os": (m, n, k), "ws": (k, n, m),
                                          "is": (k, m, n)}[dataflow]
    folds = math.ceil(mapped_rows / rows) * math.ceil(mapped_cols / cols)
    preload = 0 if dataflow == "os" else rows
    return folds * (preload + rows + cols + streamed - 2)


def choose_dataflow(op, rewriter, options: ChooseDataflowOptions):
    """One systolic.matmul on the dataflow of least cycles (ties keep the current one)."""
    rows, cols, current = array_params(op.array)
    *batch, m, k = op.lhs.type.shape
    if transpose_flags(op.transpose)[0]:
        m, k = k, m
    n = op.acc.type.shape[-1]
    choices = options.dataflows.split(",")
    best = min(choices, key=lambda d: (standard_cycles(d, rows, cols, m, n, k), d != current))
    if best == current:
        return True  # nothing to change (a truthy return: the pattern did not apply)
    with rewriter.ip, op.location:
        new = MatmulOp(op.lhs, op.rhs, op.acc, array_attr(rows, cols, best), op.transpose,
                       op.res.type, epilogue=op.epilogue, bias=op.bias)
    rewriter.replace_op(op, new)


def choose_dataflow_pass(op, pass_, options: ChooseDataflowOptions) -> None:
    """Give every systolic.matmul the dataflow its array runs it in the fewest cycles."""
    patterns = rewrite.RewritePatternSet()
    patterns.add(MatmulOp, lambda matmul, rewriter: choose_dataflow(matmul, rewriter, options))
    rewrite.walk_and_apply_patterns(op, patterns.freeze())


class NpuSimAuto(NpuSim):
    """npu-sim with the dataflow chosen per matmul (the rest as npu-sim)."""

    name = "npu-sim-auto"

    def pipeline(self, context, hw: NpuConfig):
        from tessera.pipelines import npu_sim

        return npu_sim.pipeline(context, hw, mapping=["example-choose-dataflow"])


def register(plugin):
    """What this plugin adds to tessera."""
    plugin.add_pass("example-choose-dataflow", choose_dataflow_pass, ChooseDataflowOptions,
                    "Give each systolic.matmul the dataflow of least cycles on its array")
    plugin.add_pipeline("example-npu-mapping",
                        "tessera-linalg-to-systolic,example-choose-dataflow",
                        "Map matmuls to a 16x16 array, each on its best dataflow")
    # An 8x32 output-stationary array with Gemmini's memories: another array shape and
    # dataflow for the NPU, selected with hw="example-8x32-os".
    plugin.add_preset("npu-sim", "example-8x32-os",
                      NpuConfig(8, 32, "os", 256 * 1024, 64 * 1024, 16, 64))
    plugin.add_target(NpuSimAuto())
