"""The tessera pipeline for the riscv target: convolutions become im2col matmuls, and
matmuls (with their bias and ReLU) become register-blocked vector microkernels sized to
the vector length; the rest of the model, and matmuls the microkernel does not handle,
stay linalg and become scalar or LLVM-vectorized loops, one function per linalg op."""

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
        # Register blocking (rows x groups of LMUL registers) chosen per matmul by the
        # pass's cost model; a #systolic.blocking on a matmul overrides it.
        pm.add("tessera-systolic-to-vector", hw=hw)
        pm.add("tessera-systolic-to-linalg")
    pm.add("canonicalize,cse")
    # One function per remaining linalg op: LLVM's loop passes slow down more than
    # linearly with the loop nests in one function (100-200 in a small model's).
    pm.add("tessera-outline-linalg")
    return pm
