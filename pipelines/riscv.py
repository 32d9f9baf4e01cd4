"""The tessera pipeline for the riscv target: convolutions become im2col matmuls, and
matmuls (with their bias and ReLU) become broadcast-FMA vector microkernels sized to the
vector length; the rest of the model, and matmuls the microkernel does not handle, stay
linalg and become scalar or LLVM-vectorized loops."""

from tessera.hardware import RiscvConfig
from tessera.mlir import ir
from tessera.pipeline import Pipeline


def pipeline(context: ir.Context, hw: RiscvConfig) -> Pipeline:
    """linalg -> systolic.matmul -> vector kernels (or back to linalg when scalar)."""
    pm = Pipeline(context)
    if hw.vector:
        pm.add("tessera-conv-to-matmul")
        pm.add("tessera-linalg-to-systolic")
        # The vector kernel applies bias and ReLU but not int8 requantization: leaving
        # the requantize unfused keeps int8 matmuls on the kernel (12x fewer instructions
        # for the int8 MLP than the scalar fallback).
        pm.add("tessera-systolic-fuse-epilogue", requantize=False)
        # 8 rows x 2 vectors = 16 accumulators + 2 rhs vectors, of RVV's 32 registers.
        pm.add("tessera-systolic-to-vector", hw=hw, rows=8)
        pm.add("tessera-systolic-to-linalg")
    pm.add("canonicalize,cse")
    return pm
