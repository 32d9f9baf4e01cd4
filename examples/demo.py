"""`make demo`: the retargeting matrix. Every built-in model (examples/models.py, MODELS)
is compiled by one call for every target and compared with PyTorch eager.

One row per (model, target): status (ok, mismatch, compile-only, unavailable, error),
compile seconds (torch import + tessera passes + the target's backend), the median run
time of 5 calls, the largest absolute difference from PyTorch, and what the target
measures: for the simulated NPU its cycles and PE utilization (gemmini-16x16 preset: 16x16
weight-stationary, 256 KiB scratchpad, 16 B/cycle DRAM); for RISC-V the instructions
executed in the model's code under QEMU (VLEN 256). QEMU's and the simulator's run times
are emulation time, not the hardware's. Targets this machine cannot run are listed with
the reason. Exit status 1 if any cell that ran disagrees or fails.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import models  # noqa: E402

from tessera.matrix import format_rows, reference_outputs, run_cell  # noqa: E402
from tessera.targets import TARGETS  # noqa: E402


def main() -> int:
    rows = []
    for name in models.MODELS:
        model, inputs = models.example(name)
        reference = reference_outputs(model, inputs)
        for target in TARGETS:
            cell = run_cell(model, inputs, target, name=name, reference=reference,
                            with_measurement=True)
            rows.append((name, cell))
            print(format_rows([(name, cell)]).splitlines()[-1], flush=True)
    print()
    print(format_rows(rows))
    bad = [(n, c.target) for n, c in rows if c.status in ("mismatch", "error")]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} cells without a disagreement or failure"
          + (f"; failing: {', '.join(f'{n} on {t}' for n, t in bad)}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
