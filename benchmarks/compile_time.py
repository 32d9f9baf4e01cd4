"""Compile time of the built-in models on iree-cpu, split into torch import, tessera
passes and IREE, median of several fresh compiles (after one warm-up compile, which
also pays torch.export's one-time start-up).

    .venv/bin/python benchmarks/compile_time.py [--runs 5] [--target iree-cpu]
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
warnings.filterwarnings("ignore", category=FutureWarning)

import models  # noqa: E402

import tessera  # noqa: E402

PHASES = ("import_s", "passes_s", "backend_s", "compile_s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", default="iree-cpu")
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn", "encoder"])
    args = parser.parse_args()

    start = time.perf_counter()
    tessera.compile(*models.example("mlp"), target=args.target)
    print(f"warm-up compile (first torch.export in the process): {time.perf_counter() - start:.2f} s")
    print(f"{'model':8} " + " ".join(f"{p:>10}" for p in PHASES) + f"   (median of {args.runs})")
    for name in args.models:
        samples = {p: [] for p in PHASES}
        for _ in range(args.runs):
            executable = tessera.compile(*models.example(name), target=args.target)
            for p in PHASES:
                samples[p].append(executable.timings[p])
        print(f"{name:8} " + " ".join(f"{statistics.median(samples[p]):10.3f}" for p in PHASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
