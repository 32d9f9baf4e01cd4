"""The tessera pipeline for the cpu-amx target: convolutions become im2col matmuls,
matmuls (with their bias and ReLU) become VNNI packing plus blocked AMX tile kernels;
the rest of the model, and matmuls AMX does not take (f32 unless precision is bf16,
batched), stay linalg and become ordinary compiled loops. With `emulate`,
the AMX tile ops are rewritten into scalar code of the same meaning (CPUs without AMX)."""

from tessera.hardware import AmxConfig
from tessera.mlir import ir
from tessera.passes.amx_emulate import amx_emulate
from tessera.passes.conv_to_matmul import conv_to_matmul_pass
from tessera.passes.linalg_to_systolic import linalg_to_systolic
from tessera.passes.systolic_fuse_epilogue import systolic_fuse_epilogue
from tessera.passes.systolic_to_amx import systolic_to_amx
from tessera.passes.systolic_to_linalg import systolic_to_linalg
from tessera.pipeline import Pipeline


def pipeline(context: ir.Context, hw: AmxConfig, emulate: bool = False) -> Pipeline:
    """linalg -> systolic.matmul -> AMX kernels (the rest back to linalg)."""
    pm = Pipeline(context)
    pm.add(conv_to_matmul_pass)
    pm.add(linalg_to_systolic)
    # The AMX kernel applies bias and ReLU but not int8 requantization: left unfused,
    # the requantize runs after the kernel and int8 matmuls stay on AMX.
    pm.add(systolic_fuse_epilogue, requantize=False)
    pm.add(systolic_to_amx, m_block=hw.m_block, n_block=hw.n_block, k_block=hw.k_block,
           f32_as_bf16=hw.precision == "bf16")
    pm.add(systolic_to_linalg)
    pm.add("canonicalize,cse")
    if emulate:
        pm.add(amx_emulate)
    return pm
