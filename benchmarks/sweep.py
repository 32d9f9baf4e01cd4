"""Throughput of `tessera sweep` (timing only, mapping search on): design points per
second for a model, Ray with 1 and 2 workers against a plain in-process loop over the same
points (`tessera.sweep.evaluate` one after another), median of several alternating runs.

    .venv/bin/python benchmarks/sweep.py                      # mlp and encoder, 3 runs
    .venv/bin/python benchmarks/sweep.py --models mlp --runs 5

The space is the README's: rows 8,16,32 x cols 8,16,32 x spad 64,256 KiB x DRAM 8,16,32
B/cycle (54 points) on gemmini-16x16. Each Ray run starts from a running Ray whose
workers have already imported tessera (a 2-point warm-up sweep), so the rates are the
steady state; the start-up (Ray, worker imports, the model's front half) is reported
separately. Ray's overhead per point = Ray with 1 worker against the loop on 1 core. The
last column is the time one point takes inside its task: when it grows with 2 workers, the
two processes slow each other down (caches, memory), which no scheduler removes; the
"2 plain processes" column (a multiprocessing pool, no Ray) is that ceiling measured.
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


_FRONT = {}


def _warm(front) -> None:
    """Pool initializer: keep the front half and compile one point (imports, context)."""
    from tessera import sweep

    _FRONT["front"] = front
    sweep.evaluate("npu-sim", "gemmini-16x16,rows=4", front.name, front.text)


def _one(spec: str) -> str:
    from tessera import sweep

    front = _FRONT["front"]
    return sweep.evaluate("npu-sim", spec, front.name, front.text)["status"]


def processes(space, front, count: int = 2) -> float:
    """Seconds for every point on `count` plain worker processes (multiprocessing, no
    Ray), warmed up first: what the machine gives two processes without any scheduler."""
    import multiprocessing

    specs = [p.spec(space.base or "gemmini-16x16") for p in space.points()]
    with multiprocessing.get_context("fork").Pool(count, _warm, (front,)) as pool:
        pool.map(_one, specs[:count], chunksize=1)  # both workers are up and warm
        start = time.perf_counter()
        statuses = pool.map(_one, specs, chunksize=1)
        seconds = time.perf_counter() - start
    assert set(statuses) == {"ok"}, statuses
    return seconds


def on_ray(space, model, workers: int, tmp: str) -> tuple[float, float, float]:
    """(seconds for the sweep on a warm Ray, seconds to start Ray and warm it up, the
    mean seconds of one point inside its task)."""
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
        inside = statistics.mean(r["point_s"] for r in summary.rows)
        return summary.seconds - sum(summary.fronts.values()), startup, inside
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
    print("| model | in-process loop, 1 core | 2 plain processes, no Ray (vs loop) "
          "| Ray, 1 worker | Ray, 2 workers | 2 workers / 1 "
          "| Ray overhead per point (1 worker vs loop) | Ray start + warm-up s | front half s "
          "| ms per point inside its task, 1 / 2 workers |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            model = (name, *models.example(name))
            front = sweep.front_half(name, *model[1:], "npu-sim", False)
            times = {"loop": [], 1: [], 2: [], "procs": []}
            startups, inside = [], {1: [], 2: []}
            for _ in range(args.runs):
                times["loop"].append(loop(space, front))
                times["procs"].append(processes(space, front))
                for workers in (1, 2):
                    seconds, startup, point_s = on_ray(space, model, workers, tmp)
                    times[workers].append(seconds)
                    startups.append(startup)
                    inside[workers].append(point_s)
            med = {k: statistics.median(v) for k, v in times.items()}
            rate = {k: n / v for k, v in med.items()}
            print(f"| {name} | {rate['loop']:.1f} | {rate['procs']:.1f} "
                  f"({med['loop'] / med['procs']:.2f}x) | {rate[1]:.1f} | {rate[2]:.1f} | "
                  f"{med[1] / med[2]:.2f}x | {100 * (med[1] / med['loop'] - 1):+.1f}% | "
                  f"{statistics.median(startups):.1f} | {front.front_s:.2f} | "
                  f"{1e3 * statistics.median(inside[1]):.0f} / "
                  f"{1e3 * statistics.median(inside[2]):.0f} |", flush=True)
            print(f"  raw seconds: loop {times['loop']}, 2 processes {times['procs']}, "
                  f"1 worker {times[1]}, 2 workers {times[2]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
