"""The tessera pipeline for the cpu-amx target: convolutions become im2col matmuls,
matmuls (with their bias and ReLU) become VNNI packing plus blocked AMX tile kernels;
the rest of the model, and matmuls AMX does not take (f32 unless precision is bf16,
batched), stay linalg and become ordinary compiled loops. With `emulate`, the AMX tile
ops are rewritten into scalar code of the same meaning (CPUs without AMX)."""

from tessera.hardware import AmxConfig
from tessera.mlir import ir
from tessera.pipeline import Pipeline


def pipeline(context: ir.Context, hw: AmxConfig, emulate: bool = False) -> Pipeline:
    """linalg -> systolic.matmul -> AMX kernels (the rest back to linalg)."""
    pm = Pipeline(context)
    pm.add("tessera-conv-to-matmul")
    pm.add("tessera-linalg-to-systolic")
    # The AMX kernel applies bias and ReLU but not int8 requantization: left unfused,
    # the requantize runs after the kernel and int8 matmuls stay on AMX.
    pm.add("tessera-systolic-fuse-epilogue", requantize=False)
    pm.add("tessera-systolic-to-amx", hw=hw)
    pm.add("tessera-systolic-to-linalg")
    pm.add("canonicalize,cse")
    if emulate:
        pm.add("tessera-amx-emulate")
    return pm
