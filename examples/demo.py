"""`make demo`: compile the built-in models to every available target and compare each
result with PyTorch eager.

Prints one row per (model, target): compile seconds split into torch import, tessera
passes and the target backend, the median run time over several calls, and the largest
absolute difference from PyTorch.
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
              f"{'backend s':>9} {'run ms':>8} {'max abs err':>11}")
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
            print(f"{name:8} {target:10} {t['compile_s']:9.2f} {t['import_s']:8.2f} "
                  f"{t['passes_s']:8.3f} {t['backend_s']:9.2f} "
                  f"{median_run_ms(executable, inputs):8.3f} {error:11.2e}")
    print(f"\nlargest error vs PyTorch eager: {worst:.2e} "
          f"({'ok' if worst < 1e-4 else 'ABOVE 1e-4'})")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
