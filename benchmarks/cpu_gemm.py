"""GEMMs on this x86-64 CPU: tessera cpu-amx (vector and AMX engines) vs torch (oneDNN)
vs IREE 3.13, all in one run.

Contenders, each timed on inputs already in memory (results copied back to the host
included for all), the median of --rounds rounds; a round times every contender once,
one after the other, so that the machine's noise falls on all of them alike:
- the vector engine (column `avx512` or `avx2`, the first of them this CPU runs):
  `tessera.compile(..., target="cpu-amx", hw="<engine>,threads=T")`, the vector
  microkernels (f32 FMA; bf16 widened to f32 when packed, f32 FMA; int8 vpdpbusd on
  AVX-512, vpmaddwd on AVX2); `avx-dot` (AVX-512 only): bf16 with vdpbf16ps dots
  instead (`bf16_math=dot`);
- `amx`: the same with AMX tile kernels (only where the CPU has AMX);
- `torch`: `torch.matmul` (oneDNN for bf16, with the best ISA of this CPU: AMX where it
  has it; f32 through torch's BLAS), `torch._int_mm` for int8; `torch.set_num_threads(T)`;
  a contender whose warm-up call takes over 2 s (torch's bf16 and int8 on a CPU without
  AVX-512) is timed once, not every round;
- `torch-avx512` (only where the CPU has AMX): the same in a worker process whose oneDNN
  is limited to AVX-512 (`ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16`, read by oneDNN at
  start): the vector engine's peer there; elsewhere `torch` is;
- `IREE`: iree-compile for llvm-cpu with `--iree-llvmcpu-target-cpu=host
  --iree-opt-data-tiling --iree-llvmcpu-enable-ukernels=all`, run by the local-task
  runtime on all cores (its thread count is fixed per process: in the T = all rows).

Shapes: f32 and bf16 squares (--sizes), the MLP layers 128x4096x1024 and 128x1024x4096
(M x K x N), int8 squares (--int8-sizes), f32 batched GEMMs (--batched B x M x K x N:
attention's products of ViT-B and BERT-base by default), and a bf16 MLP
(Linear-ReLU-Linear, 128: 1024 -> 4096 -> 1024) from PyTorch end to end; each at 1
thread and at all cores.
torch's OpenMP threads wait passively (`OMP_WAIT_POLICY=PASSIVE`, set here unless
given): spinning threads would take the cores from whichever contender runs next.
Ratios are speedups (their time over ours): `vs torch` (torch-avx512 where it runs, else
torch) and `vs IREE` for the vector engine, `amx vs torch` for AMX. `%peak` is the
vector column's rate over this CPU's f32 FMA roofline (what that column runs, bf16
included; int8: the vpdpbusd one, AVX2: vpmaddwd + vpaddd), measured by a register-only
loop of independent accumulators (16 on AVX-512, 12 on AVX2), times the threads; the
vdpbf16ps roofline (the avx-dot column's) is measured and printed the same way.

    .venv/bin/python benchmarks/cpu_gemm.py [--sizes 256 512 1024 2048 4096]
        [--int8-sizes 1024 2048] [--batched 12x197x64x197 ...] [--rounds 5]
        [--threads 1 2] [--no-mlp]
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

from models import batch_matmul_mlir, matmul_mlir  # noqa: E402

import tessera  # noqa: E402
from tessera.passes.systolic_to_amx import VECTOR_ENGINES  # noqa: E402
from tessera.passes.systolic_to_vector import PMADDWD, VPDPBUSD  # noqa: E402
from tessera.targets import cpu_amx  # noqa: E402

IREE_FLAGS = ["--iree-llvmcpu-target-cpu=host", "--iree-opt-data-tiling",
              "--iree-llvmcpu-enable-ukernels=all"]
MLP_LAYERS = [(128, 4096, 1024), (128, 1024, 4096)]  # (M, K, N)
# Attention's products (B x M x K x N, B = 12 heads): ViT-B/16's q·kᵀ and weights·v at 197
# tokens, BERT-base's at 128.
BATCHED = ["12x197x64x197", "12x197x197x64", "12x128x64x128", "12x128x128x64"]
ACC = {"f32": "f32", "bf16": "f32", "i8": "i32"}


def contenders_of(dtype: str, vector_engine: str, amx_ok: bool) -> list[tuple[str, str]]:
    """tessera's contenders for one element type: (column, hw)."""
    out = [("vector", vector_engine)]
    if dtype == "bf16" and vector_engine == "avx512":
        out.append(("avx512-dot", "avx512,bf16_math=dot"))
    if dtype != "f32" and amx_ok:
        out.append(("amx", "amx"))
    return out


# --- inputs and the torch calls (shared with the worker process) --------------------------

def inputs(dtype: str, m: int, k: int, n: int, batch: int = 0):
    """lhs and rhs of one GEMM (batch > 0: of `batch` GEMMs, the batch first)."""
    rng = np.random.default_rng(0)
    first = (batch,) if batch else ()
    if dtype == "i8":
        return (rng.integers(-128, 128, (*first, m, k), dtype=np.int8),
                rng.integers(-128, 128, (*first, k, n), dtype=np.int8))
    a = rng.standard_normal((*first, m, k)).astype(np.float32)
    b = rng.standard_normal((*first, k, n)).astype(np.float32)
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
func.func @peak(%x: memref<BYTESxi8>, %y: memref<LANESxf32>, %out: memref<COUNTxLANESxACC>,
                %n: index) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %q = vector.load %x[%c0] : memref<BYTESxi8>, vector<BYTESxi8>
  %a = vector.bitcast %q : vector<BYTESxi8> to vector<HALFxbf16>
  %w = vector.bitcast %q : vector<BYTESxi8> to vector<HALFxi16>
  %f = vector.load %y[%c0] : memref<LANESxf32>, vector<LANESxf32>
  %z = arith.constant dense<0> : vector<LANESxi32>
  %zf = arith.constant dense<0.0> : vector<LANESxf32>
  %r:COUNT = scf.for %i = %c0 to %n step %c1 iter_args(ACCS) -> (TYPES) {
BODY
    scf.yield NEXT : TYPES
  }
STORES
  return
}
"""
# Per engine and kind: the ops on accumulator {acc} (their result %n{i}), multiply-adds
# per accumulator step, accumulator type, the intrinsic declared. The AVX2 int8 step is
# vpmaddwd then vpaddd, its i16 operand the accumulator's bits (a result that does not
# depend on the loop would be hoisted out of it).
PEAK_OPS = {
    ("avx512", "f32"): ("%n{i} = vector.fma %f, %f, {acc} : vector<16xf32>", 16, "f32", None),
    ("avx512", "bf16"): ("%n{i} = x86.avx512.dot {acc}, %a, %a : vector<32xbf16> -> "
                         "vector<16xf32>", 32, "f32", None),
    ("avx512", "i8"): (f"%n{{i}} = func.call @\"{VPDPBUSD}\"({{acc}}, %q, %q) : (vector<16xi32>, "
                       "vector<64xi8>, vector<64xi8>) -> vector<16xi32>", 64, "i32",
                       f'func.func private @"{VPDPBUSD}"(vector<16xi32>, vector<64xi8>, '
                       'vector<64xi8>) -> vector<16xi32>'),
    ("avx2", "f32"): ("%n{i} = vector.fma %f, %f, {acc} : vector<8xf32>", 8, "f32", None),
    ("avx2", "i8"): ("%b{i} = vector.bitcast {acc} : vector<8xi32> to vector<16xi16>\n"
                     f"    %p{{i}} = func.call @\"{PMADDWD[8]}\"(%b{{i}}, %w) : (vector<16xi16>, "
                     "vector<16xi16>) -> vector<8xi32>\n"
                     "    %n{i} = arith.addi %p{i}, {acc} : vector<8xi32>", 16, "i32",
                     f'func.func private @"{PMADDWD[8]}"(vector<16xi16>, vector<16xi16>) -> '
                     'vector<8xi32>'),
}
# Independent accumulators of the loop: AVX-512 16 (of 32 registers), AVX2 12 (of 16).
PEAK_ACCUMULATORS = {"avx512": 16, "avx2": 12}


def peak_flops(engine: str, kind: str) -> float:
    """Operations/s (a multiply-add is 2) of one core on independent accumulators,
    registers only: vfmadd (16 or 8 multiply-adds) for f32; AVX-512: vdpbf16ps (32) for
    bf16, vpdpbusd (64) for int8; AVX2: vpmaddwd + vpaddd (16) for int8."""
    from tessera.context import make_context
    from tessera.host import descriptor
    from tessera.mlir import ir

    ops, per_op, acc, declare = PEAK_OPS[engine, kind]
    lanes, count = VECTOR_ENGINES[engine].lanes, PEAK_ACCUMULATORS[engine]
    names = [f"%acc{i}" for i in range(count)]
    body = [f"    {ops.format(acc=name, i=i)}" for i, name in enumerate(names)]
    vec = f"vector<{lanes}x{acc}>"
    text = (PEAK.replace("DECLARE", declare or "").replace("BYTES", str(4 * lanes))
            .replace("HALF", str(2 * lanes)).replace("LANES", str(lanes))
            .replace("COUNT", str(count)).replace("ACC>", f"{acc}>")
            .replace("ACCS", ", ".join(f"{a} = {'%z' if acc == 'i32' else '%zf'}"
                                       for a in names))
            .replace("TYPES", ", ".join([vec] * count))
            .replace("BODY", "\n".join(body))
            .replace("NEXT", ", ".join(f"%n{i}" for i in range(count)))
            .replace("STORES", "\n".join(
                f"  %s{i} = arith.constant {i} : index\n"
                f"  vector.store %r#{i}, %out[%s{i}, %c0] : memref<{count}x{lanes}x{acc}>, {vec}"
                for i in range(count))))
    with make_context(), ir.Location.unknown():
        llvm_ir = cpu_amx.kernel_llvm_ir(ir.Module.parse(text), ["peak"])
    directory = Path(tempfile.mkdtemp(prefix="tessera-peak-"))
    library = ctypes.CDLL(str(cpu_amx.build_shared_object(llvm_ir, directory / "peak.so")))
    arrays = [np.zeros(4 * lanes, np.int8), np.zeros(lanes, np.float32),
              np.zeros((count, lanes), np.int32 if acc == "i32" else np.float32)]
    descriptors = [descriptor(x) for x in arrays]
    function = library._mlir_ciface_peak
    function.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_longlong]
    iterations = 2_000_000
    seconds = min(once(lambda: function(*[ctypes.addressof(d) for d in descriptors],
                                        iterations)) for _ in range(5))
    return iterations * count * per_op * 2 / seconds


# --- the table --------------------------------------------------------------------------

def iree_call(text: str, a, b):
    import iree.compiler as ireec
    import iree.runtime as ireert

    vmfb = ireec.compile_str(text, target_backends=["llvm-cpu"], extra_args=IREE_FLAGS)
    function = ireert.load_vm_flatbuffer(vmfb, driver="local-task")["main"]
    return lambda: function(a, b).to_host()


def timed(contenders: dict, rounds: int, slow: float = 2.0) -> dict:
    """name -> median seconds over `rounds` rounds (after one warm-up call each); a
    contender given as ('worker', f) is timed by f itself. One whose warm-up took more
    than `slow` seconds (torch's bf16 and int8 paths on a CPU without AVX-512: seconds
    per call) is timed in the first round only."""
    warm = {}
    for name, call in contenders.items():
        warm[name] = once(call[1] if isinstance(call, tuple) else call)
    times = {name: [] for name in contenders}
    for r in range(rounds):
        for name, call in contenders.items():
            if r and warm[name] > slow:
                continue
            times[name].append(call[1]() if isinstance(call, tuple) else once(call))
    return {name: statistics.median(t) for name, t in times.items()}


def ms(value) -> str:
    return f"{value * 1e3:9.2f}" if value else f"{'n/a':>9}"


def speedup(ours, theirs) -> str:
    return f"{theirs / ours:8.2f}x" if ours and theirs else f"{'n/a':>9}"


def row(label: str, threads: int, t: dict, flops: float, peak: float | None) -> None:
    """One line of the table; the vector engine's peer is torch-avx512 where the CPU has
    AMX (torch would use it), else torch itself."""
    pct = f"{100 * flops / t['vector'] / (peak * threads):6.1f}" \
        if t.get("vector") and peak else f"{'n/a':>6}"
    peer = t.get("torch-avx512", t.get("torch"))
    print(f"{label:22} {threads:3} | {ms(t.get('vector'))} {ms(t.get('avx512-dot'))} "
          f"{ms(t.get('amx'))} {ms(t.get('torch'))} {ms(t.get('torch-avx512'))} "
          f"{ms(t.get('IREE'))} | "
          f"{speedup(t.get('vector'), peer)} "
          f"{speedup(t.get('vector'), t.get('IREE'))} "
          f"{speedup(t.get('amx'), t.get('torch'))} {pct}", flush=True)


def gemm_rows(dtype, m, k, n, thread_counts, engines, worker_, peaks, rounds, batch=0):
    """The rows of one GEMM (batch > 0: a batched GEMM, torch.matmul on 3-D tensors
    and IREE's linalg.batch_matmul its peers; no torch-avx512 worker)."""
    import torch

    a, b = inputs(dtype, m, k, n, batch)
    text = batch_matmul_mlir(batch, m, n, k, dtype, ACC[dtype]) if batch \
        else matmul_mlir(m, n, k, dtype, ACC[dtype])
    expected = a.astype(np.float32 if dtype != "i8" else np.int32) @ \
        b.astype(np.float32 if dtype != "i8" else np.int32)
    iree = iree_call(text, a, b)
    for threads in thread_counts:
        contenders = {}
        for name, hw in contenders_of(dtype, *engines):
            program = tessera.compile(text, target="cpu-amx", hw=f"{hw},threads={threads}")
            got = program(a, b)
            tolerance = 1e-3 * np.abs(expected).max()
            assert np.allclose(got, expected, atol=tolerance), f"{name} result differs"
            contenders[name] = (lambda p=program: p(a, b))
        torch.set_num_threads(threads)
        call = torch_call(dtype, a, b)
        if call is not None:
            contenders["torch"] = call
        peer = worker_ and not batch and worker_.prepare(f"case {dtype} {m} {k} {n} {threads}")
        if peer is not None:
            contenders["torch-avx512"] = ("worker", peer)
        if threads == os.cpu_count():
            contenders["IREE"] = iree
        label = f"{dtype} {batch}x{m}x{k}x{n}" if batch else f"{dtype} {m}x{k}x{n}"
        row(label, threads, timed(contenders, rounds), 2.0 * max(batch, 1) * m * n * k,
            peaks["i8" if dtype == "i8" else "f32"])


def mlp_rows(thread_counts, engines, worker_, peaks, rounds):
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
        for name, hw in contenders_of("bf16", *engines):
            program = tessera.compile(model, (x,), target="cpu-amx",
                                      hw=f"{hw},threads={threads}")
            contenders[name] = (lambda p=program: p(x))
        torch.set_num_threads(threads)

        def eager():
            with torch.no_grad():
                model(x)

        contenders["torch"] = eager
        if worker_:
            contenders["torch-avx512"] = ("worker", worker_.prepare(f"mlp {threads}"))
        if threads == os.cpu_count():
            contenders["IREE"] = lambda: function(xs).to_host()
        row("bf16 MLP 128:1024>4096", threads, timed(contenders, rounds),
            2.0 * 128 * 1024 * 4096 * 2, peaks["f32"])


def _batched_shape(parser, text: str) -> tuple[int, int, int, int]:
    try:
        shape = tuple(int(x) for x in text.split("x"))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        parser.error(f"--batched takes BxMxKxN (four positive integers), not '{text}'")
    return shape


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--int8-sizes", type=int, nargs="*", default=[1024, 2048])
    parser.add_argument("--dtypes", nargs="+", default=["f32", "bf16"], choices=["f32", "bf16"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count()])
    parser.add_argument("--no-mlp", action="store_true")
    parser.add_argument("--batched", nargs="*", default=BATCHED, metavar="BxMxKxN",
                        help="f32 batched GEMMs (default: attention's of ViT-B and BERT-base)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return 0
    batched = [_batched_shape(parser, text) for text in args.batched]
    vector_engine = next((e for e in ("avx512", "avx2") if cpu_amx.available(e)[0]), None)
    if vector_engine is None:
        print(f"no vector engine of cpu-amx runs here: {cpu_amx.available('avx2')[1]}")
        return 1
    amx_ok, amx_why = cpu_amx.available("amx")
    kinds = [kind for engine, kind in PEAK_OPS if engine == vector_engine]
    peaks = {kind: peak_flops(vector_engine, kind) for kind in kinds}
    names = {"f32": "f32 FMA", "bf16": "bf16 vdpbf16ps", "i8": "int8 " + (
        "vpdpbusd" if vector_engine == "avx512" else "vpmaddwd+vpaddd")}
    print(f"cores: {os.cpu_count()}; AMX: {'yes' if amx_ok else amx_why}; vector engine: "
          f"{vector_engine}; roofline per core: "
          + ", ".join(f"{names[k]} {v / 1e9:.0f} G{'OP' if k == 'i8' else 'FLOP'}/s"
                      for k, v in peaks.items())
          + f"; median of {args.rounds} rounds, ms")
    header = (f"{'GEMM (MxKxN)':22} {'thr':>3} | {vector_engine:>9} {'avx-dot':>9} {'amx':>9} "
              f"{'torch':>9} "
              f"{'torch-avx':>9} {'IREE':>9} | {'vs torch':>9} {'vs IREE':>9} "
              f"{'amx/torch':>9} {'%peak':>6}")
    print(header)
    print("-" * len(header))
    # torch limited to AVX-512: the vector engine's peer where the CPU has AMX.
    worker_ = Worker() if amx_ok else None
    engines = (vector_engine, amx_ok)
    shapes = [(dtype, s, s, s) for dtype in args.dtypes for s in args.sizes]
    if not args.no_mlp:
        shapes += [(dtype, *layer) for dtype in args.dtypes for layer in MLP_LAYERS]
    shapes += [("i8", s, s, s) for s in args.int8_sizes]
    for shape in shapes:
        gemm_rows(*shape, args.threads, engines, worker_, peaks, args.rounds)
    for batch, m, k, n in batched:
        gemm_rows("f32", m, k, n, args.threads, engines, worker_, peaks, args.rounds, batch)
    if not args.no_mlp:
        mlp_rows(args.threads, engines, worker_, peaks, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
