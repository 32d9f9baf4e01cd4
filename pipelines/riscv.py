"""The tessera pipeline for the riscv target: convolutions become im2col matmuls, and
matmuls (with their bias and ReLU) become
broadcast-FMA vector microkernels sized to the vector length; the rest of the model, and
matmuls the microkernel does not handle, stay linalg and become scalar loops."""

from tessera.hardware import RiscvConfig
from tessera.mlir import ir
from tessera.passes.conv_to_matmul import conv_to_matmul_pass
from tessera.passes.linalg_to_systolic import linalg_to_systolic
from tessera.passes.systolic_fuse_epilogue import systolic_fuse_epilogue
from tessera.passes.systolic_to_linalg import systolic_to_linalg
from tessera.passes.systolic_to_vector import systolic_to_vector
from tessera.pipeline import Pipeline


def pipeline(context: ir.Context, hw: RiscvConfig) -> Pipeline:
    """linalg -> systolic.matmul -> vector kernels (or back to linalg when scalar)."""
    pm = Pipeline(context)
    if hw.vector:
        pm.add(conv_to_matmul_pass)
        pm.add(linalg_to_systolic)
        # The vector kernel applies bias and ReLU but not int8 requantization: leaving
        # the requantize unfused keeps int8 matmuls on the kernel (12x fewer instructions
        # for the int8 MLP than the scalar fallback).
        pm.add(systolic_fuse_epilogue, requantize=False)
        # 8 rows x 2 vectors = 16 accumulators + 2 rhs vectors, of RVV's 32 registers.
        pm.add(systolic_to_vector, vlen=hw.vlen, rows=8)
        pm.add(systolic_to_linalg)
    pm.add("canonicalize,cse")
    return pm
