"""GEMMs on this x86-64 CPU: tessera cpu-amx (AVX-512 and AMX engines) vs torch (oneDNN)
vs IREE 3.13, all in one run.

Contenders, each timed on inputs already in memory (results copied back to the host
included for all), the median of --rounds rounds; a round times every contender once,
one after the other, so that the machine's noise falls on all of them alike:
- `avx512`: `tessera.compile(..., target="cpu-amx", hw="avx512,threads=T")`, the AVX-512
  vector microkernels (f32 FMA; bf16 widened to f32 when packed, f32 FMA; int8
  vpdpbusd); `avx-dot`: bf16 with vdpbf16ps dots instead (`bf16_math=dot`);
- `amx`: the same with AMX tile kernels (only where the CPU has AMX);
- `torch`: `torch.matmul` (oneDNN for bf16, with the best ISA of this CPU: AMX where it
  has it; f32 through torch's BLAS), `torch._int_mm` for int8; `torch.set_num_threads(T)`;
- `torch-avx512`: the same in a worker process whose oneDNN is limited to AVX-512
  (`ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16`, read by oneDNN at start): the peer of the
  avx512 engine on a CPU that has AMX, and what torch does on one without;
- `IREE`: iree-compile for llvm-cpu with `--iree-llvmcpu-target-cpu=host
  --iree-opt-data-tiling --iree-llvmcpu-enable-ukernels=all`, run by the local-task
  runtime on all cores (its thread count is fixed per process: in the T = all rows).

Shapes: f32 and bf16 squares (--sizes), the MLP layers 128x4096x1024 and 128x1024x4096
(M x K x N), int8 squares (--int8-sizes), and a bf16 MLP (Linear-ReLU-Linear, 128:
1024 -> 4096 -> 1024) from PyTorch end to end; each at 1 thread and at all cores.
torch's OpenMP threads wait passively (`OMP_WAIT_POLICY=PASSIVE`, set here unless
given): spinning threads would take the cores from whichever contender runs next.
Ratios are speedups (their time over ours): `vs torch-avx512` and `vs IREE` for the
avx512 engine, `amx vs torch` for AMX. `%peak` is the avx512 column's rate over this
CPU's f32 FMA roofline (what that column runs, bf16 included; int8: the vpdpbusd one),
measured by a register-only loop of 16 independent accumulators, times the threads;
the vdpbf16ps roofline (the avx-dot column's) is measured and printed the same way.

    .venv/bin/python benchmarks/cpu_gemm.py [--sizes 256 512 1024 2048 4096]
        [--int8-sizes 1024 2048] [--rounds 5] [--threads 1 2] [--no-mlp]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", category=FutureWarning)
# OpenMP threads that spin after a parallel region (torch's, by default) would take the
# cores from the contender timed next and from the worker process: they sleep instead.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from models import matmul_mlir  # noqa: E402

import tessera  # noqa: E402
from tessera.passes.systolic_to_vector import VPDPBUSD  # noqa: E402
from tessera.targets import cpu_amx  # noqa: E402

IREE_FLAGS = ["--iree-llvmcpu-target-cpu=host", "--iree-opt-data-tiling",
              "--iree-llvmcpu-enable-ukernels=all"]
MLP_LAYERS = [(128, 4096, 1024), (128, 1024, 4096)]  # (M, K, N)
ACC = {"f32": "f32", "bf16": "f32", "i8": "i32"}
# tessera's contenders per element type: (column, hw)
ENGINES = {"f32": [("avx512", "avx512")],
           "bf16": [("avx512", "avx512"), ("avx512-dot", "avx512,bf16_math=dot"), ("amx", "amx")],
           "i8": [("avx512", "avx512"), ("amx", "amx")]}


# --- inputs and the torch calls (shared with the worker process) --------------------------

def inputs(dtype: str, m: int, k: int, n: int):
    rng = np.random.default_rng(0)
    if dtype == "i8":
        return (rng.integers(-128, 128, (m, k), dtype=np.int8),
                rng.integers(-128, 128, (k, n), dtype=np.int8))
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    if dtype == "bf16":
        import ml_dtypes

        return a.astype(ml_dtypes.bfloat16), b.astype(ml_dtypes.bfloat16)
    return a, b


def torch_call(dtype: str, a, b):
    """The torch call for one GEMM, or None when this torch has none for `dtype`."""
    import torch

    if dtype == "i8":
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        try:
            torch._int_mm(ta[:32, :32].contiguous(), tb[:32, :32].contiguous())
        except (RuntimeError, AttributeError):
            return None
        return lambda: torch._int_mm(ta, tb)
    if dtype == "bf16":
        ta = torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
        tb = torch.from_numpy(b.view(np.int16)).view(torch.bfloat16)
    else:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    return lambda: torch.matmul(ta, tb)


def mlp_model():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1024, 4096), torch.nn.ReLU(),
                                torch.nn.Linear(4096, 1024)).eval().bfloat16()
    return model, torch.randn(128, 1024).bfloat16()


def once(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def worker() -> None:
    """The torch-avx512 worker: reads `case dtype m k n threads` or `mlp threads`
    lines, answers `ready` once set up, then one time in seconds per `time` line."""
    import torch

    call = None
    for line in sys.stdin:
        words = line.split()
        if words[0] == "case":
            dtype, m, k, n, threads = words[1], *map(int, words[2:])
            torch.set_num_threads(threads)
            call = torch_call(dtype, *inputs(dtype, m, k, n))
            if call is not None:
                call()
            print("ready" if call else "none", flush=True)
        elif words[0] == "mlp":
            torch.set_num_threads(int(words[1]))
            model, x = mlp_model()

            def call():
                with torch.no_grad():
                    model(x)

            call()
            print("ready", flush=True)
        elif words[0] == "time":
            print(once(call), flush=True)


class Worker:
    """torch in a process whose oneDNN stops at AVX-512 (bf16)."""

    def __init__(self):
        env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}
        self.process = subprocess.Popen([sys.executable, __file__, "--worker"], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def prepare(self, line: str):
        """A timing function for the case `line` sets up, or None."""
        if self.ask(line) != "ready":
            return None
        return lambda: float(self.ask("time"))


# --- the roofline -----------------------------------------------------------------------

PEAK = """
DECLARE
func.func @peak(%x: memref<64xi8>, %y: memref<16xf32>, %out: memref<16x16xACC>, %n: index)
    attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %q = vector.load %x[%c0] : memref<64xi8>, vector<64xi8>
  %a = vector.bitcast %q : vector<64xi8> to vector<32xbf16>
  %f = vector.load %y[%c0] : memref<16xf32>, vector<16xf32>
  %z = arith.constant dense<0> : vector<16xi32>
  %zf = arith.constant dense<0.0> : vector<16xf32>
  %r:16 = scf.for %i = %c0 to %n step %c1 iter_args(ACCS) -> (TYPES) {
BODY
    scf.yield NEXT : TYPES
  }
STORES
  return
}
"""
# Per kind: the op on accumulator {acc}, multiply-adds per op, accumulator type.
PEAK_OPS = {
    "f32": ("vector.fma %f, %f, {acc} : vector<16xf32>", 16, "f32"),
    "bf16": ("x86.avx512.dot {acc}, %a, %a : vector<32xbf16> -> vector<16xf32>", 32, "f32"),
    "i8": (f"func.call @\"{VPDPBUSD}\"({{acc}}, %q, %q) : (vector<16xi32>, vector<64xi8>, "
           "vector<64xi8>) -> vector<16xi32>", 64, "i32")}


def peak_flops(kind: str) -> float:
    """Operations/s (a multiply-add is 2) of one core on 16 independent accumulators,
    registers only: vfmadd (16 multiply-adds) for f32, vdpbf16ps (32) for bf16,
    vpdpbusd (64) for int8."""
    from tessera.context import make_context
    from tessera.host import descriptor
    from tessera.mlir import ir

    op, per_op, acc = PEAK_OPS[kind]
    names = [f"%acc{i}" for i in range(16)]
    body = [f"    %n{i} = {op.format(acc=name)}" for i, name in enumerate(names)]
    vec = f"vector<16x{acc}>"
    declare = (f'func.func private @"{VPDPBUSD}"(vector<16xi32>, vector<64xi8>, vector<64xi8>)'
               " -> vector<16xi32>") if kind == "i8" else ""
    text = (PEAK.replace("DECLARE", declare).replace("ACC>", f"{acc}>")
            .replace("ACCS", ", ".join(f"{a} = {'%z' if acc == 'i32' else '%zf'}"
                                       for a in names))
            .replace("TYPES", ", ".join([vec] * 16))
            .replace("BODY", "\n".join(body))
            .replace("NEXT", ", ".join(f"%n{i}" for i in range(16)))
            .replace("STORES", "\n".join(
                f"  %s{i} = arith.constant {i} : index\n"
                f"  vector.store %r#{i}, %out[%s{i}, %c0] : memref<16x16x{acc}>, {vec}"
                for i in range(16))))
    with make_context(), ir.Location.unknown():
        llvm_ir = cpu_amx.kernel_llvm_ir(ir.Module.parse(text), ["peak"])
    directory = Path(tempfile.mkdtemp(prefix="tessera-avx512-peak-"))
    library = ctypes.CDLL(str(cpu_amx.build_shared_object(llvm_ir, directory / "peak.so")))
    arrays = [np.zeros(64, np.int8), np.zeros(16, np.float32),
              np.zeros((16, 16), np.int32 if acc == "i32" else np.float32)]
    descriptors = [descriptor(x) for x in arrays]
    function = library._mlir_ciface_peak
    function.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_longlong]
    iterations = 2_000_000
    seconds = min(once(lambda: function(*[ctypes.addressof(d) for d in descriptors],
                                        iterations)) for _ in range(5))
    return iterations * 16 * per_op * 2 / seconds


# --- the table --------------------------------------------------------------------------

def iree_call(text: str, a, b):
    import iree.compiler as ireec
    import iree.runtime as ireert

    vmfb = ireec.compile_str(text, target_backends=["llvm-cpu"], extra_args=IREE_FLAGS)
    function = ireert.load_vm_flatbuffer(vmfb, driver="local-task")["main"]
    return lambda: function(a, b).to_host()


def timed(contenders: dict, rounds: int) -> dict:
    """name -> median seconds over `rounds` rounds (after one warm-up call each); a
    contender given as ('worker', f) is timed by f itself."""
    for call in contenders.values():
        call() if not isinstance(call, tuple) else call[1]()
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, call in contenders.items():
            times[name].append(call[1]() if isinstance(call, tuple) else once(call))
    return {name: statistics.median(t) for name, t in times.items()}


def ms(value) -> str:
    return f"{value * 1e3:9.2f}" if value else f"{'n/a':>9}"


def speedup(ours, theirs) -> str:
    return f"{theirs / ours:8.2f}x" if ours and theirs else f"{'n/a':>9}"


def row(label: str, threads: int, t: dict, flops: float, peak: float | None) -> None:
    pct = f"{100 * flops / t['avx512'] / (peak * threads):6.1f}" \
        if t.get("avx512") and peak else f"{'n/a':>6}"
    print(f"{label:22} {threads:3} | {ms(t.get('avx512'))} {ms(t.get('avx512-dot'))} "
          f"{ms(t.get('amx'))} {ms(t.get('torch'))} {ms(t.get('torch-avx512'))} "
          f"{ms(t.get('IREE'))} | "
          f"{speedup(t.get('avx512'), t.get('torch-avx512'))} "
          f"{speedup(t.get('avx512'), t.get('IREE'))} "
          f"{speedup(t.get('amx'), t.get('torch'))} {pct}", flush=True)


def gemm_rows(dtype, m, k, n, thread_counts, amx_ok, worker_, peaks, rounds):
    import torch

    a, b = inputs(dtype, m, k, n)
    text = matmul_mlir(m, n, k, dtype, ACC[dtype])
    expected = a.astype(np.float32 if dtype != "i8" else np.int32) @ \
        b.astype(np.float32 if dtype != "i8" else np.int32)
    iree = iree_call(text, a, b)
    for threads in thread_counts:
        contenders = {}
        for name, hw in ENGINES[dtype]:
            if name == "amx" and not amx_ok:
                continue
            program = tessera.compile(text, target="cpu-amx", hw=f"{hw},threads={threads}")
            got = program(a, b)
            tolerance = 1e-3 * np.abs(expected).max()
            assert np.allclose(got, expected, atol=tolerance), f"{name} result differs"
            contenders[name] = (lambda p=program: p(a, b))
        torch.set_num_threads(threads)
        call = torch_call(dtype, a, b)
        if call is not None:
            contenders["torch"] = call
        peer = worker_.prepare(f"case {dtype} {m} {k} {n} {threads}")
        if peer is not None:
            contenders["torch-avx512"] = ("worker", peer)
        if threads == os.cpu_count():
            contenders["IREE"] = iree
        row(f"{dtype} {m}x{k}x{n}", threads, timed(contenders, rounds), 2.0 * m * n * k,
            peaks["i8" if dtype == "i8" else "f32"])


def mlp_rows(thread_counts, amx_ok, worker_, peaks, rounds):
    """The bf16 MLP from PyTorch: the same imported module through each contender."""
    import iree.compiler as ireec
    import iree.runtime as ireert
    import ml_dtypes
    import torch

    from tessera.context import make_context
    from tessera.frontend import import_torch
    from tessera.mlir import ir

    model, x = mlp_model()
    with make_context() as context, ir.Location.unknown():
        text = str(import_torch(model, x, context=context))
    vmfb = ireec.compile_str(text, target_backends=["llvm-cpu"], extra_args=IREE_FLAGS)
    function = ireert.load_vm_flatbuffer(vmfb, driver="local-task")["main"]
    xs = x.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    for threads in thread_counts:
        contenders = {}
        for name, hw in ENGINES["bf16"]:
            if name == "amx" and not amx_ok:
                continue
            program = tessera.compile(model, (x,), target="cpu-amx",
                                      hw=f"{hw},threads={threads}")
            contenders[name] = (lambda p=program: p(x))
        torch.set_num_threads(threads)

        def eager():
            with torch.no_grad():
                model(x)

        contenders["torch"] = eager
        contenders["torch-avx512"] = ("worker", worker_.prepare(f"mlp {threads}"))
        if threads == os.cpu_count():
            contenders["IREE"] = lambda: function(xs).to_host()
        row("bf16 MLP 128:1024>4096", threads, timed(contenders, rounds),
            2.0 * 128 * 1024 * 4096 * 2, peaks["f32"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--int8-sizes", type=int, nargs="*", default=[1024, 2048])
    parser.add_argument("--dtypes", nargs="+", default=["f32", "bf16"], choices=["f32", "bf16"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count()])
    parser.add_argument("--no-mlp", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return 0
    ok, why = cpu_amx.available("avx512")
    if not ok:
        print(f"the avx512 engine cannot run here: {why}")
        return 1
    amx_ok, amx_why = cpu_amx.available("amx")
    peaks = {kind: peak_flops(kind) for kind in PEAK_OPS}
    print(f"cores: {os.cpu_count()}; AMX: {'yes' if amx_ok else amx_why}; roofline per core: "
          f"f32 FMA {peaks['f32'] / 1e9:.0f} GFLOP/s, bf16 vdpbf16ps "
          f"{peaks['bf16'] / 1e9:.0f} GFLOP/s, int8 vpdpbusd {peaks['i8'] / 1e9:.0f} GOP/s; "
          f"median of {args.rounds} rounds, ms")
    header = (f"{'GEMM (MxKxN)':22} {'thr':>3} | {'avx512':>9} {'avx-dot':>9} {'amx':>9} "
              f"{'torch':>9} "
              f"{'torch-avx':>9} {'IREE':>9} | {'vs t-avx':>9} {'vs IREE':>9} "
              f"{'amx/torch':>9} {'%peak':>6}")
    print(header)
    print("-" * len(header))
    worker_ = Worker()
    shapes = [(dtype, s, s, s) for dtype in args.dtypes for s in args.sizes]
    if not args.no_mlp:
        shapes += [(dtype, *layer) for dtype in args.dtypes for layer in MLP_LAYERS]
    shapes += [("i8", s, s, s) for s in args.int8_sizes]
    for shape in shapes:
        gemm_rows(*shape, args.threads, amx_ok, worker_, peaks, args.rounds)
    if not args.no_mlp:
        mlp_rows(args.threads, amx_ok, worker_, peaks, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
