"""bf16 and int8 GEMMs: tessera cpu-amx vs torch.matmul (oneDNN) vs IREE 3.13, one run.

Columns, each the median of --repeat timed calls after one warm-up, inputs already in
memory (IREE's result copy to the host is included, as it is in tessera's and torch's):
- tessera cpu-amx: `tessera.compile(..., target="cpu-amx")` (AMX tile kernels, rows split
  over all cores by threads); only where the CPU has AMX — otherwise the column says
  "unavailable" and why, and no number is made up;
- torch: `torch.matmul` on bf16 tensors (oneDNN; AMX where the CPU has it), and
  `torch._int_mm` for int8 where this torch build has it on CPU;
- IREE: the same MLIR through iree-compile 3.13 for llvm-cpu with its best CPU flags
  (`--iree-llvmcpu-target-cpu=host --iree-opt-data-tiling=true
  --iree-llvmcpu-enable-ukernels=all`), run by the local-task runtime on all cores.

Ratios are printed for each shape: "vs torch" and "vs IREE" are tessera's speedups
(their time over tessera's), "IREE/torch" is IREE's time over torch's; with AMX, "%peak"
is the fraction of the AMX peak measured by a register-only tdpbf16ps loop (4
independent accumulator tiles, 16 multiplies each per iteration, times the cores).
Output types differ: torch.matmul on bf16 returns bf16, IREE and tessera return f32.

    .venv/bin/python benchmarks/amx_gemm.py [--sizes 256 512 1024 2048 4096] [--repeat 5]
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", category=FutureWarning)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from models import matmul_mlir  # noqa: E402

import tessera  # noqa: E402
from tessera.targets import cpu_amx  # noqa: E402

IREE_FLAGS = ["--iree-llvmcpu-target-cpu=host", "--iree-opt-data-tiling=true",
              "--iree-llvmcpu-enable-ukernels=all"]
MLP_SHAPES = [(128, 4096, 1024), (128, 1024, 4096), (512, 4096, 4096)]  # (M, K, N)


def median_s(call, repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def inputs(m, k, n, dtype, rng):
    if dtype == "i8":
        return (rng.integers(-128, 128, (m, k), dtype=np.int8),
                rng.integers(-128, 128, (k, n), dtype=np.int8))
    import ml_dtypes

    return (rng.standard_normal((m, k)).astype(np.float32).astype(ml_dtypes.bfloat16),
            rng.standard_normal((k, n)).astype(np.float32).astype(ml_dtypes.bfloat16))


def iree_call(text: str, a, b):
    import iree.compiler as ireec
    import iree.runtime as ireert

    vmfb = ireec.compile_str(text, target_backends=["llvm-cpu"], extra_args=IREE_FLAGS)
    function = ireert.load_vm_flatbuffer(vmfb, driver="local-task")["main"]
    return lambda: function(a, b).to_host()


def torch_call(a, b, dtype):
    import torch

    if dtype == "i8":
        if not hasattr(torch, "_int_mm"):
            return None, "torch has no int8 matmul"
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        try:
            torch._int_mm(ta[:32, :32].contiguous(), tb[:32, :32].contiguous())
        except RuntimeError as e:
            return None, f"torch._int_mm: {str(e).splitlines()[0][:60]}"
        return (lambda: torch._int_mm(ta, tb)), ""
    ta = torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    tb = torch.from_numpy(b.view(np.int16)).view(torch.bfloat16)
    return (lambda: torch.matmul(ta, tb)), ""


PEAK = """
func.func @peak(%a: memref<16x32xbf16>, %b: memref<16x32xbf16>, %c: memref<64x16xf32>, %n: index) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c48 = arith.constant 48 : index
  scf.for %i = %c0 to %n step %c1 {
    %ta = x86.amx.tile_load %a[%c0, %c0] : memref<16x32xbf16> into !x86.amx.tile<16x32xbf16>
    %tb = x86.amx.tile_load %b[%c0, %c0] : memref<16x32xbf16> into !x86.amx.tile<16x32xbf16>
BODY
  }
  return
}
"""


def peak_flops() -> float:
    """f32 flops/s of tdpbf16ps on one core, register-only: 4 accumulator chains of 16."""
    from tessera.context import make_context
    from tessera.mlir import ir

    lines, offsets = [], ["%c0", "%c16", "%c32", "%c48"]
    for t, row in enumerate(offsets):
        lines.append(f"    %z{t}_0 = x86.amx.tile_load %c[{row}, %c0] : memref<64x16xf32> "
                     f"into !x86.amx.tile<16x16xf32>")
        for s in range(16):
            lines.append(f"    %z{t}_{s + 1} = x86.amx.tile_mulf %ta, %tb, %z{t}_{s} : "
                         f"!x86.amx.tile<16x32xbf16>, !x86.amx.tile<16x32xbf16>, "
                         f"!x86.amx.tile<16x16xf32>")
        lines.append(f"    x86.amx.tile_store %c[{row}, %c0], %z{t}_16 : memref<64x16xf32>, "
                     f"!x86.amx.tile<16x16xf32>")
    text = PEAK.replace("BODY", "\n".join(lines))
    with make_context(), ir.Location.unknown():
        module = ir.Module.parse(text)
        llvm_ir = cpu_amx.kernel_llvm_ir(module, ["peak"])
    directory = Path(tempfile.mkdtemp(prefix="tessera-amx-peak-"))
    library = ctypes.CDLL(str(cpu_amx.build_shared_object(llvm_ir, directory / "peak.so")))
    a = np.zeros((16, 32), np.int16)
    b = np.zeros((16, 32), np.int16)
    c = np.zeros((64, 16), np.float32)
    from tessera.host import descriptor

    descriptors = [descriptor(x) for x in (a, b, c)]
    function = library._mlir_ciface_peak
    iterations = 200_000
    function.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_longlong]
    seconds = median_s(lambda: function(*[ctypes.addressof(d) for d in descriptors],
                                        iterations), 5)
    # One tdpbf16ps: 16x16 outputs x 32 products, 2 flops each.
    return iterations * 64 * 16 * 16 * 32 * 2 / seconds


def mlp_row(amx_ok: bool, peak, repeat: int, batch=128, d=1024, hidden=4096) -> None:
    """A bf16 MLP (Linear-ReLU-Linear) from PyTorch: torch eager vs the same imported
    module through tessera cpu-amx and through IREE."""
    import torch

    from tessera.context import make_context
    from tessera.frontend import import_torch
    from tessera.mlir import ir

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.ReLU(),
                                torch.nn.Linear(hidden, d)).eval().bfloat16()
    x = torch.randn(batch, d).bfloat16()
    with torch.no_grad():
        theirs = median_s(lambda: model(x), repeat)
    with make_context() as context, ir.Location.unknown():
        text = str(import_torch(model, x, context=context))
    import iree.compiler as ireec
    import iree.runtime as ireert

    vmfb = ireec.compile_str(text, target_backends=["llvm-cpu"], extra_args=IREE_FLAGS)
    function = ireert.load_vm_flatbuffer(vmfb, driver="local-task")["main"]
    xs = x.view(torch.int16).numpy().view(__import__("ml_dtypes").bfloat16)
    iree = median_s(lambda: function(xs).to_host(), repeat)
    ours = None
    if amx_ok:
        executable = tessera.compile(model, (x,), target="cpu-amx")
        ours = median_s(lambda: executable(x), repeat)
    flops = 2.0 * batch * d * hidden * 2
    name = f"mlp {batch}:{d}>{hidden}>{d}"
    cells = [f"{t * 1e3:{w}.3f}" if t else f"{'n/a':>{w}}"
             for t, w in ((ours, 10), (theirs, 9), (iree, 9))]
    speed = [f"{b / a:8.2f}x" if a and b else f"{'n/a':>9}" for a, b in
             ((ours, theirs), (ours, iree))]
    pct = f"{100 * flops / ours / peak:6.1f}" if ours and peak else f"{'n/a':>6}"
    print(f"{name:23} | {' '.join(cells)} | {''.join(speed)} {iree / theirs:9.2f}x {pct}"
          f"  (torch eager; IREE and tessera run the same imported module)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-mlp", action="store_true", help="skip the MLP-shaped layers")
    args = parser.parse_args()

    amx_ok, why = cpu_amx.available()
    cores = __import__("os").cpu_count()
    print(f"cores: {cores}; cpu-amx: {'available' if amx_ok else 'unavailable: ' + why}")
    peak = None
    if amx_ok:
        peak = peak_flops() * cores
        print(f"AMX bf16 peak (tdpbf16ps loop x {cores} cores): {peak / 1e12:.2f} TFLOP/s")
    shapes = [("bf16", s, s, s) for s in args.sizes]
    if not args.no_mlp:
        shapes += [("bf16", m, k, n) for m, k, n in MLP_SHAPES]
    shapes += [("i8", s, s, s) for s in args.sizes if s <= 2048]
    rng = np.random.default_rng(0)
    header = (f"{'dtype':5} {'M':>5} {'K':>5} {'N':>5} | {'tessera ms':>10} {'torch ms':>9} "
              f"{'IREE ms':>9} | {'vs torch':>8} {'vs IREE':>8} {'IREE/torch':>10} {'%peak':>6}")
    print(header)
    print("-" * len(header))
    for dtype, m, k, n in shapes:
        a, b = inputs(m, k, n, dtype, rng)
        text = matmul_mlir(m, n, k, dtype, "i32" if dtype == "i8" else "f32")
        flops = 2.0 * m * n * k
        ours = None
        if amx_ok:
            executable = tessera.compile(text, target="cpu-amx")
            ours = median_s(lambda: executable(a, b), args.repeat)
        call, torch_why = torch_call(a, b, dtype)
        theirs = median_s(call, args.repeat) if call else None
        iree = median_s(iree_call(text, a, b), args.repeat)

        def ms(x):
            return f"{x * 1e3:10.3f}" if x is not None else f"{'n/a':>10}"

        def ratio(x, y):
            return f"{y / x:8.2f}x" if x is not None and y is not None else f"{'n/a':>9}"

        pct = f"{100 * flops / ours / peak:6.1f}" if ours and peak else f"{'n/a':>6}"
        print(f"{dtype:5} {m:5} {k:5} {n:5} | {ms(ours)} {ms(theirs)[1:]} {ms(iree)[1:]} | "
              f"{ratio(ours, theirs)}{ratio(ours, iree)} {ratio(theirs, iree):>10} {pct}"
              + (f"  ({torch_why})" if torch_why else ""))
    if not args.no_mlp:
        mlp_row(amx_ok, peak, args.repeat)
    if not amx_ok:
        print(f"\ncpu-amx column not measured: {why}. The torch and IREE columns are real; "
              f"'IREE/torch' is IREE's time over torch's (>1: torch faster).")


if __name__ == "__main__":
    main()
