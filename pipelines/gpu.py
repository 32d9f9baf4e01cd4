"""The tessera pipeline in front of IREE's GPU backends (CUDA, ROCm, Vulkan).

Matmuls go to `systolic.matmul` on an array the shape of the chip's preferred MMA
intrinsic (tensor cores hold the accumulator: output-stationary), then back to linalg
with tessera's workgroup tile, subgroup split, MMA intrinsic and pipelining depth
attached for IREE (`tessera-systolic-to-iree-gpu`).
"""

from tessera.hardware import GpuConfig
from tessera.mlir import ir
from tessera.passes.systolic_to_iree_gpu import intrinsic_shape, options_for
from tessera.pipeline import Pipeline


def array_shape(config: GpuConfig) -> tuple[int, int]:
    """rows x cols of the `systolic` array a GPU offers: its first MMA intrinsic's M x N
    (16 x 16 when it has none)."""
    if not config.mma:
        return 16, 16
    m, n, _, _, _ = intrinsic_shape(config.mma[0])
    return m, n


def pipeline(context: ir.Context, config: GpuConfig) -> Pipeline:
    """linalg -> systolic (MMA-shaped array) -> linalg + IREE tiles, then canonicalize."""
    rows, cols = array_shape(config)
    pm = Pipeline(context)
    pm.add("tessera-linalg-to-systolic", rows=rows, cols=cols, dataflow="os")
    pm.add("tessera-systolic-to-iree-gpu", **options_for(config))
    pm.add("canonicalize,cse")
    return pm
