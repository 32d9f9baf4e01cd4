"""GEMM and MLP on a GPU, in one run: tessera's tiles vs IREE's own defaults vs PyTorch
(cuBLAS on CUDA). Needs a GPU that IREE's runtime finds; exits 2 saying why otherwise.

    .venv/bin/python benchmarks/gpu_gemm.py [--target gpu-cuda] [--hw h100]
        [--sizes 1024 2048 4096 8192] [--runs 5]

Each number is the median over `--runs` samples (at least 5) of the mean time per call
over a batch of calls, inputs already on the device. GEMMs are square, bf16 operands with
f32 accumulation (f16 on Vulkan, whose SPIR-V backend has no bf16); IREE returns f32,
torch.matmul the operand type from an f32 accumulator.
"tessera" compiles through the target (tessera's tiles in `compilation_info`); "IREE"
gives the same linalg to iree-compile with the same device flags and no tiles. The torch
column needs a CUDA (or ROCm) build of PyTorch; with a CPU-only torch it says so and
compares tessera with IREE only. Ratios are speeds: above 1 means faster than the other.
"""

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
warnings.filterwarnings("ignore", category=FutureWarning)

import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402

import models  # noqa: E402

import tessera  # noqa: E402
from tessera.hardware import gpu_preset  # noqa: E402
from tessera.targets import gpu  # noqa: E402

GOAL = 0.75  # tessera's speed relative to cuBLAS on large GEMMs


def median_ms(call, sync, runs: int, seconds: float = 0.2) -> float:
    """Median over `runs` samples of the mean ms per call; each sample is a batch of
    calls sized (from a warm-up) to last about `seconds`."""
    call()
    sync()
    start = time.perf_counter()
    call()
    sync()
    batch = max(1, int(seconds / max(time.perf_counter() - start, 1e-6)))
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(batch):
            call()
        sync()
        samples.append((time.perf_counter() - start) * 1e3 / batch)
    return statistics.median(samples)


def iree_ms(vmfb: bytes, api: str, arrays, runs: int) -> float:
    """Time `main` of a vmfb on the device; IREE's sync ABI returns after completion."""
    import iree.runtime as ireert

    config = ireert.Config(gpu.HAL_DEVICE[api])
    context = ireert.SystemContext(config=config)
    context.add_vm_module(ireert.VmModule.copy_buffer(context.instance, vmfb))
    main = context.modules.module["main"]
    args = [ireert.asdevicearray(config.device, a) for a in arrays]
    return median_ms(lambda: main(*args), lambda: None, runs)


def iree_default_vmfb(text: str, config) -> bytes:
    """The same linalg compiled by IREE with the device flags only (IREE's own tiles)."""
    from tessera.context import make_context, parse_module

    with make_context():
        text, _ = gpu.device_text(parse_module(text), config)  # no tiles: IREE's own
    with tempfile.TemporaryDirectory() as directory:
        vmfb, _ = gpu.compile_vmfb(text, config, Path(directory))
    return vmfb


def torch_device():
    """A torch GPU device, or None with a CPU-only PyTorch."""
    import torch

    return torch.device("cuda") if torch.cuda.is_available() else None


def torch_ms(fn, tensors, runs: int) -> float:
    import torch

    with torch.no_grad():
        return median_ms(lambda: fn(*tensors), torch.cuda.synchronize, runs)


def gemm_row(n: int, dtype: str, target: str, config, runs: int, device) -> dict:
    rng = np.random.default_rng(n)
    element = ml_dtypes.bfloat16 if dtype == "bf16" else np.float16
    a = rng.standard_normal((n, n)).astype(element)
    b = rng.standard_normal((n, n)).astype(element)
    text = models.matmul_mlir(n, n, n, dtype, "f32")
    executable = tessera.compile(text, target=target, hw=config)
    row = {"name": f"gemm {n}", "flop": 2.0 * n ** 3,
           "tessera": iree_ms(executable.report.vmfb_path.read_bytes(), config.api, [a, b], runs),
           "iree": iree_ms(iree_default_vmfb(text, config), config.api, [a, b], runs)}
    if device is not None:
        import torch

        kind = torch.bfloat16 if dtype == "bf16" else torch.float16
        ta = torch.from_numpy(a.view(np.int16)).view(kind).to(device)
        tb = torch.from_numpy(b.view(np.int16)).view(kind).to(device)
        row["torch"] = torch_ms(torch.matmul, (ta, tb), runs)
    return row


def mlp_row(name: str, model, inputs, target: str, config, runs: int, device) -> dict:
    import torch

    arrays = [x.numpy() for x in inputs]
    executable = tessera.compile(model, inputs, target=target, hw=config)
    text = str(tessera.import_torch(model, *inputs))
    flop = sum(2.0 * inputs[0].shape[0] * m.in_features * m.out_features
               for m in model.modules() if isinstance(m, torch.nn.Linear))
    row = {"name": name, "flop": flop,
           "tessera": iree_ms(executable.report.vmfb_path.read_bytes(), config.api, arrays, runs),
           "iree": iree_ms(iree_default_vmfb(text, config), config.api, arrays, runs)}
    if device is not None:
        on_device = model.to(device)
        row["torch"] = torch_ms(on_device, [x.to(device) for x in inputs], runs)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="gpu-cuda",
                        choices=["gpu-cuda", "gpu-rocm", "gpu-vulkan"])
    parser.add_argument("--hw", default=None, help="GPU preset (default: the target's)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096, 8192])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    api = args.target.removeprefix("gpu-")
    ok, why = gpu.can_run(api)
    if not ok:
        print(f"no GPU for {args.target} here: {why}. Nothing was measured.", file=sys.stderr)
        return 2
    try:
        config = gpu_preset(args.hw, api)
    except tessera.TesseraError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    # IREE's SPIR-V backend has no bf16: Vulkan GEMMs are f16.
    dtype = "f16" if api == "vulkan" else "bf16"
    device = torch_device()
    if device is None:
        print("PyTorch here has no GPU (CPU-only build): comparing tessera with IREE only; "
              "install a CUDA build of torch for the cuBLAS column.")
    else:
        import torch

        print(f"torch on {torch.cuda.get_device_name()}")
    print(f"target {args.target}, preset {config.name} ({config.arch}), {dtype} GEMMs; "
          f"median of {args.runs}")
    rows = [gemm_row(n, dtype, args.target, config, args.runs, device) for n in args.sizes]
    big = models.MLP(1024, 4096, 1024).eval()
    rows.append(mlp_row("mlp", *models.example("mlp"), args.target, config, args.runs, device))
    import torch

    torch.manual_seed(0)
    rows.append(mlp_row("mlp 2048x1024x4096", big, (torch.randn(2048, 1024),), args.target,
                        config, args.runs, device))

    header = (f"{'case':20} {'tessera ms':>10} {'IREE ms':>9} {'torch ms':>9} "
              f"{'tessera TF/s':>12} {'vs IREE':>8} {'vs torch':>9}")
    print(header)
    print("-" * len(header))
    for r in rows:
        torch_text = f"{r['torch']:9.3f}" if "torch" in r else f"{'-':>9}"
        vs_torch = f"{r['torch'] / r['tessera']:8.2f}x" if "torch" in r else f"{'-':>9}"
        print(f"{r['name']:20} {r['tessera']:10.3f} {r['iree']:9.3f} {torch_text} "
              f"{r['flop'] / r['tessera'] / 1e9:12.1f} {r['iree'] / r['tessera']:7.2f}x {vs_torch}")
    large = [r for r in rows if r["name"].startswith("gemm") and int(r["name"].split()[1]) >= 4096
             and "torch" in r]
    if large:
        worst = min(r["torch"] / r["tessera"] for r in large)
        print(f"\nlarge GEMMs: tessera at {worst:.2f}x cuBLAS at worst (goal {GOAL}x: "
              f"{'met' if worst >= GOAL else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
