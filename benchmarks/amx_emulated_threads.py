"""How cpu-amx's split over cores scales, measured where AMX is missing: the same
program with its AMX tile ops emulated (`cpu_amx.emulate`). This measures the `tile`
level only (rows dealt to threads that call the kernels' shared object with the GIL
released), not AMX speed: emulated kernels are ordinary vectorized loops.

    .venv/bin/python benchmarks/amx_emulated_threads.py [--size 1024] [--runs 5]

Each configuration is compiled once; timings alternate 1 and N threads in rounds so that
load changes on a shared machine hit both; each number is the median of the rounds.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import ml_dtypes
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from models import matmul_mlir  # noqa: E402

from tessera.context import make_context, parse_module  # noqa: E402
from tessera.hardware import AmxConfig  # noqa: E402
from tessera.mlir import ir  # noqa: E402
from tessera.targets import cpu_amx  # noqa: E402


def build(size: int, threads: int):
    with make_context(), ir.Location.unknown():
        module = parse_module(matmul_mlir(size, size, size, "bf16", "f32"))
        return cpu_amx.emulate(module, AmxConfig(threads=threads))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=1024, help="square bf16 GEMM size")
    p.add_argument("--runs", type=int, default=5, help="rounds (median reported)")
    args = p.parse_args()
    cores = os.cpu_count() or 1
    rng = np.random.default_rng(0)
    a = rng.standard_normal((args.size, args.size)).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((args.size, args.size)).astype(ml_dtypes.bfloat16)
    programs = {1: build(args.size, 1), cores: build(args.size, cores)}
    outputs = {t: program(a, b) for t, program in programs.items()}  # warm-up
    assert np.array_equal(outputs[1], outputs[cores]), "thread counts disagree"
    times = {t: [] for t in programs}
    for _ in range(args.runs):
        for t, program in programs.items():
            start = time.perf_counter()
            program(a, b)
            times[t].append(time.perf_counter() - start)
    one, many = statistics.median(times[1]), statistics.median(times[cores])
    print(f"bf16 {args.size}^3, emulated AMX tiles: 1 thread {one * 1e3:.1f} ms, "
          f"{cores} threads {many * 1e3:.1f} ms, speed-up {one / many:.2f}x "
          f"(median of {args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
