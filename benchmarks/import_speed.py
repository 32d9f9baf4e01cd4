"""Import of the real architectures: tessera's torch import against the same import with
torch-mlir's own weight handling and two traces (what it was when issue 15 was filed), time
and peak memory, in one run.

For each architecture (examples/architectures.py, full size, random weights) and each
importer, a fresh worker process builds the model, then imports it to linalg on tensors
(`tessera.import_torch`):
- `tessera`: weights from the tensors' memory straight into dense resources;
- `lists`: the import as it was: torch-mlir's FX importer's default weight handling, a
  Python list per weight (`_make_vtensor_literal_op`; tessera's weight hooks switched
  off), after torch.export's two traces (export, then run_decompositions; tessera's
  one-trace export switched off).
  (torch-mlir's `fx.export_and_import` alone is no baseline: it cannot import BERT's or
  GPT-2's non-persistent buffers.)
Time: the import call, median over --runs workers, each importer run alternately; cold:
the first import of the worker, which also pays torch's one-time start-up of its export
machinery (~2-3 s, the same for both); warm: after one import of the architecture's tiny
variant in the same worker (a process importing several models, a sweep).
Peak memory: the worker's peak resident memory during the import minus what it held
before the call (torch, the model and its weights), median over the runs, against the
size of the weights; and tessera's whole process at its peak (torch's libraries, the
model, its weights and the import). The two modules' printed sizes are not compared:
one has the weights inline, the other as resources.

    .venv/bin/python benchmarks/import_speed.py [--models bert gpt2 ...] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

IMPORTERS = ("tessera", "lists")


def _status_kb(field: str) -> int:
    """A memory field of this process's /proc status (VmRSS, VmHWM), kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def worker(name: str, importer: str, warm: bool) -> dict:
    """Import architecture `name` with `importer` in this process (after its tiny
    variant when `warm`): seconds and memory."""
    warnings.filterwarnings("ignore")
    import architectures
    import tessera
    from tessera import frontend

    if importer == "lists":
        frontend._weights_hooks = lambda: None  # torch-mlir's default hooks

        def two_traces(*args):
            raise NotImplementedError  # the import then exports, then decomposes

        frontend._export_decomposed = two_traces
    if warm:
        tessera.import_torch(*_flat(architectures.example(name, "tiny")))
    model, inputs = architectures.example(name, "full")
    weights = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    before = _status_kb("VmRSS")
    # The peak (VmHWM) is reset to the current size, so the one read below is the import's.
    Path("/proc/self/clear_refs").write_text("5")
    start = time.perf_counter()
    tessera.import_torch(model, *inputs)
    seconds = time.perf_counter() - start
    peak = _status_kb("VmHWM")
    return {"seconds": seconds, "peak_mb": (peak - before) / 1024, "weights_mb": weights / 1e6,
            "process_mb": peak / 1024}


def _flat(example):
    model, inputs = example
    return (model, *inputs)


def measure(name: str, importer: str, warm: bool) -> dict:
    result = subprocess.run([sys.executable, __file__, "--worker", name, importer,
                             "warm" if warm else "cold"], capture_output=True, text=True)
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    import architectures

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(architectures.ARCHITECTURES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, importer, warm = args.worker
        print(json.dumps(worker(name, importer, warm == "warm")))
        return 0
    print(f"median of {args.runs} fresh processes each; peak: memory the import added")
    print(f"{'model':14} {'':4} {'weights MB':>10} | {'tessera s':>10} {'lists s':>10} "
          f"{'speed-up':>9} | {'tessera MB':>10} {'lists MB':>10} | {'x weights':>17} | "
          f"{'process MB':>10}")
    for name, warm in ((n, w) for n in args.models for w in (False, True)):
        runs = {importer: [] for importer in IMPORTERS}
        for _ in range(args.runs):
            for importer in IMPORTERS:
                runs[importer].append(measure(name, importer, warm))
        errors = [r["error"] for rs in runs.values() for r in rs if "error" in r]
        if errors:
            print(f"{name:14} error: {errors[0]}")
            continue
        t = {i: statistics.median(r["seconds"] for r in runs[i]) for i in IMPORTERS}
        mb = {i: statistics.median(r["peak_mb"] for r in runs[i]) for i in IMPORTERS}
        weights = runs["tessera"][0]["weights_mb"]
        print(f"{name:14} {'warm' if warm else 'cold':4} {weights:10.0f} | "
              f"{t['tessera']:10.2f} {t['lists']:10.2f} "
              f"{t['lists'] / t['tessera']:8.2f}x | {mb['tessera']:10.0f} "
              f"{mb['lists']:10.0f} | {mb['tessera'] / weights:7.2f} / "
              f"{mb['lists'] / weights:7.2f} | "
              f"{statistics.median(r['process_mb'] for r in runs['tessera']):10.0f}",
              flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    sys.exit(main())
