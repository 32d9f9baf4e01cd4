"""Throughput of `tessera sweep` (timing only, mapping search on): design points per
second for a model, Ray with 1 and 2 workers against a plain in-process loop over the same
points (`tessera.sweep.evaluate` one after another), median of several alternating runs.

    .venv/bin/python benchmarks/sweep.py                      # mlp and encoder, 3 runs
    .venv/bin/python benchmarks/sweep.py --models mlp --runs 5

The space is the README's: rows 8,16,32 x cols 8,16,32 x spad 64,256 KiB x DRAM 8,16,32
B/cycle (54 points) on gemmini-16x16. Each Ray run starts from a running Ray whose
workers have already imported tessera (a 2-point warm-up sweep), so the rates are the
steady state; the start-up (Ray, worker imports, the model's front half) is reported
separately. Ray's overhead per point = Ray with 1 worker against the loop on 1 core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "examples"))

AXES = {"rows": [8, 16, 32], "cols": [8, 16, 32], "spad_kib": [64, 256],
        "dram_bytes_per_cycle": [8, 16, 32]}


def loop(space, front) -> float:
    """Seconds for every point in this process, one after another."""
    from tessera import sweep

    base = space.base or "gemmini-16x16"
    start = time.perf_counter()
    for p in space.points():
        row = sweep.evaluate(space.target, p.spec(base), front.name, front.text)
        assert row["status"] == "ok", row
    return time.perf_counter() - start


def on_ray(space, model, workers: int, tmp: str) -> tuple[float, float]:
    """(seconds for the sweep on a warm Ray, seconds to start Ray and warm it up)."""
    import ray

    from tessera import sweep

    start = time.perf_counter()
    sweep._start_ray(None, workers)
    warm = sweep.make_space({"rows": list(range(4, 4 + 2 * workers))})
    sweep.run(warm, [model], f"{tmp}/warm-{workers}.parquet", overwrite=True, progress=False)
    startup = time.perf_counter() - start
    try:
        summary = sweep.run(space, [model], f"{tmp}/run-{workers}.parquet", overwrite=True,
                            progress=False)
        bad = [r for r in summary.rows if r["status"] != "ok"]
        assert not bad, bad[0]
        return summary.seconds - sum(summary.fronts.values()), startup
    finally:
        ray.shutdown()


def main() -> int:
    import models

    from tessera import sweep

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="mlp,encoder")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    space = sweep.make_space(AXES)
    n = len(space.points())
    print(f"{n} design points x model; median of {args.runs} alternating runs; "
          f"points per second (higher is better)")
    print("| model | in-process loop, 1 core | Ray, 1 worker | Ray, 2 workers | 2 workers / 1 "
          "| Ray overhead per point (1 worker vs loop) | Ray start + warm-up s | front half s |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            model = (name, *models.example(name))
            front = sweep.front_half(name, *model[1:], "npu-sim", False)
            times = {"loop": [], 1: [], 2: []}
            startups = []
            for _ in range(args.runs):
                times["loop"].append(loop(space, front))
                for workers in (1, 2):
                    seconds, startup = on_ray(space, model, workers, tmp)
                    times[workers].append(seconds)
                    startups.append(startup)
            med = {k: statistics.median(v) for k, v in times.items()}
            rate = {k: n / v for k, v in med.items()}
            print(f"| {name} | {rate['loop']:.1f} | {rate[1]:.1f} | {rate[2]:.1f} | "
                  f"{med[1] / med[2]:.2f}x | {100 * (med[1] / med['loop'] - 1):+.1f}% | "
                  f"{statistics.median(startups):.1f} | {front.front_s:.2f} |", flush=True)
            print(f"  raw seconds: loop {times['loop']}, 1 worker {times[1]}, "
                  f"2 workers {times[2]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
