"""The tessera pipeline for the cpu-amx target: convolutions become im2col matmuls,
matmuls (with their bias and ReLU) become VNNI packing plus blocked AMX tile kernels
(engine amx) or the same with AVX-512 vector register blocks (engine avx512); the rest of
the model, and matmuls the engine does not take (AMX: f32 unless precision is bf16;
both: batched), stay linalg and become ordinary compiled loops. With
`emulate`, the AMX tile ops are rewritten into scalar code of the same meaning."""

from tessera.hardware import AmxConfig
from tessera.mlir import ir
from tessera.pipeline import Pipeline


def pipeline(context: ir.Context, hw: AmxConfig, emulate: bool = False,
             engine: str = "amx") -> Pipeline:
    """linalg -> systolic.matmul -> AMX or AVX-512 kernels (the rest back to linalg);
    `engine` is the resolved one (amx or avx512)."""
    pm = Pipeline(context)
    pm.add("tessera-conv-to-matmul")
    pm.add("tessera-linalg-to-systolic")
    # The AMX kernel applies bias and ReLU but not int8 requantization: left unfused,
    # the requantize runs after the kernel and int8 matmuls stay on AMX.
    pm.add("tessera-systolic-fuse-epilogue", requantize=False)
    pm.add("tessera-systolic-to-amx", hw=hw, engine=engine)
    pm.add("tessera-systolic-to-linalg")
    pm.add("canonicalize,cse")
    if emulate:
        pm.add("tessera-amx-emulate")
    return pm
