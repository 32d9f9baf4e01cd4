"""The tessera pipeline for the npu-sim target: turn convolutions into im2col + matmul,
map matmuls onto the array with their bias and ReLU fused, cut them to
the array's memories (one ISA-level kernel per matmul), spread kernels over the unit
grid when there is more than one unit, and clean up."""

from tessera.hardware import NpuConfig
from tessera.mlir import ir
from tessera.passes.conv_to_matmul import conv_to_matmul_pass
from tessera.passes.linalg_to_systolic import linalg_to_systolic
from tessera.passes.systolic_fuse_epilogue import systolic_fuse_epilogue
from tessera.passes.systolic_tile import systolic_tile
from tessera.passes.tile_distribute import tile_distribute
from tessera.pipeline import Pipeline


def pipeline(context: ir.Context, hw: NpuConfig) -> Pipeline:
    """conv -> matmul; linalg -> systolic.matmul -> kernels of systolic ISA ops (+ grid)."""
    pm = Pipeline(context)
    pm.add(conv_to_matmul_pass)
    pm.add(linalg_to_systolic, rows=hw.rows, cols=hw.cols, dataflow=hw.dataflow)
    pm.add(systolic_fuse_epilogue)
    pm.add(systolic_tile, spad_bytes=hw.spad_bytes, acc_bytes=hw.acc_bytes,
           double_buffer=hw.double_buffer, dram_bytes_per_cycle=hw.dram_bytes_per_cycle,
           dma_latency=hw.dma_latency)
    if hw.units > 1:
        pm.add(tile_distribute, rows=hw.grid_rows, cols=hw.grid_cols)
    pm.add("canonicalize,cse")
    return pm
