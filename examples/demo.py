"""`make demo`: compile the built-in models to every available target and compare each
result with PyTorch eager.

Prints one row per (model, target): compile seconds split into torch import, tessera
passes and the target backend, the median run time over several calls, the largest
absolute difference from PyTorch, and for the simulated NPU its cycles and PE utilization
(gemmini-16x16 preset: 16x16 weight-stationary, 256 KiB scratchpad, 16 B/cycle DRAM).
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

import models  # noqa: E402

import tessera  # noqa: E402
from tessera.targets import TARGETS, get_target  # noqa: E402

MODELS = ("mlp", "cnn", "encoder")
RUNS = 10


def median_run_ms(executable, inputs) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        executable(*inputs)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> int:
    header = (f"{'model':8} {'target':10} {'compile s':>9} {'import s':>8} {'passes s':>8} "
              f"{'backend s':>9} {'run ms':>8} {'max abs err':>11} {'sim cycles':>10} "
              f"{'PE util':>7}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for target in TARGETS:
        ok, why = get_target(target).available()
        if not ok:
            print(f"{'*':8} {target:10} unavailable: {why}")
            continue
        for name in MODELS:
            model, inputs = models.example(name)
            with torch.no_grad():
                expected = model(*inputs).numpy()
            executable = tessera.compile(model, inputs, target=target)
            error = float(np.abs(executable(*inputs) - expected).max())
            worst = max(worst, error)
            t = executable.timings
            report = executable.report
            sim = (f"{report.total_cycles:10d} {100 * report.utilization:6.1f}%" if report
                   else f"{'-':>10} {'-':>7}")
            print(f"{name:8} {target:10} {t['compile_s']:9.2f} {t['import_s']:8.2f} "
                  f"{t['passes_s']:8.3f} {t['backend_s']:9.2f} "
                  f"{median_run_ms(executable, inputs):8.3f} {error:11.2e} {sim}")
    print(f"\nlargest error vs PyTorch eager: {worst:.2e} "
          f"({'ok' if worst < 1e-4 else 'ABOVE 1e-4'})")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
