"""`make demo`: compile the built-in models to every available target and compare each
result with PyTorch eager.

Prints one row per (model, target): compile seconds split into torch import, tessera
passes and the target backend, the median run time over several calls, the largest
absolute difference from PyTorch, and what the target measures: for the simulated NPU its
cycles and PE utilization (gemmini-16x16 preset: 16x16 weight-stationary, 256 KiB
scratchpad, 16 B/cycle DRAM); for RISC-V the instructions executed in the model's code
under QEMU (VLEN 256). QEMU's run time is emulation time, not RISC-V performance.
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


def measured(target, executable, inputs) -> str:
    """What the target measures beyond time: simulated cycles, executed instructions."""
    if target == "npu-sim":
        r = executable.report
        return f"{r.total_cycles} cycles, PE util {100 * r.utilization:.1f}%"
    if target == "riscv":
        model_insns, _ = executable.report.count_instructions([x.numpy() for x in inputs])
        return f"{model_insns} RISC-V instructions (RVV, VLEN 256; QEMU)"
    return ""


def main() -> int:
    header = (f"{'model':8} {'target':10} {'compile s':>9} {'import s':>8} {'passes s':>8} "
              f"{'backend s':>9} {'run ms':>8} {'max abs err':>11}  measured")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for target in TARGETS:
        backend = get_target(target)
        ok, why = backend.available()
        if ok and hasattr(backend, "can_run"):
            ok, why = backend.can_run()
            why = f"compile-only here: {why}"
        if not ok:
            print(f"{'*':8} {target:10} {why}")
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
                  f"{median_run_ms(executable, inputs):8.3f} {error:11.2e}  "
                  f"{measured(target, executable, inputs)}")
    print(f"\nlargest error vs PyTorch eager: {worst:.2e} "
          f"({'ok' if worst < 1e-4 else 'ABOVE 1e-4'})")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
