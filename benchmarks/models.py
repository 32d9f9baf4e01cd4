"""Full-size architectures (examples/architectures.py) on tessera's targets: compile time
split into import / passes / backend, run time against PyTorch eager, simulated cycles on
npu-sim, peak memory, and the largest difference from PyTorch.

Each (model, target) runs in its own process so that peak memory (ru_maxrss of the
process and of the tools it starts, such as iree-compile) is its own. Run times are the
median of --repeat calls after one warm-up, eager's measured alternately with tessera's
twice: in the same process (its OpenMP threads waiting passively) and alone in a worker
process with OpenMP's waiting as the environment sets it (spinning a while, by default).
Compare with the faster of the two.

    .venv/bin/python benchmarks/models.py [--models resnet18,bert] \\
        [--targets iree-cpu npu-sim:gemmini-16x16 npu-sim:tpu-128x128 riscv] [--repeat 5]
    .venv/bin/python benchmarks/models.py --targets "iree-cpu:host,data_tiling=false"

riscv compiles and runs the tiny variants (QEMU runs them; the full ones would take hours).
iree-cpu compiles with its defaults (IREE's data tiling and im2col convolutions; `--targets
"iree-cpu:host,data_tiling=false,im2col=false"` for IREE's plain codegen).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

# torch's OpenMP threads wait passively between calls: spinning, they fight with the
# threads of the program timed in turn (eager ResNet-18 beside IREE's runtime in one
# process measured 931 ms without this, 89 ms with it). The worker processes inherit it,
# except the eager worker (EagerWorker), which gets the user's own setting.
USER_OMP_WAIT_POLICY = os.environ.get("OMP_WAIT_POLICY")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

DEFAULT_TARGETS = ["iree-cpu", "npu-sim:gemmini-16x16", "npu-sim:tpu-128x128", "riscv"]


class EagerWorker:
    """PyTorch eager on the same model in a process of its own, with OpenMP waiting as
    the user's environment has it (by default its threads spin a while between parallel
    regions; eager ResNet-18 alone, in processes run one after another, was faster so
    than with passive waiting: 34.6 vs 48.0, 35.2 vs 42.9, 41.1 vs 45.5 ms, though in
    rounds interleaved with tessera's calls the two came out even, 34.2 vs 34.4 ms). The
    parent asks for one call at a time and gets its time back, so calls alternate with
    the parent's own."""

    def __init__(self, name: str, size: str):
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        if USER_OMP_WAIT_POLICY is not None:
            env["OMP_WAIT_POLICY"] = USER_OMP_WAIT_POLICY
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--eager-worker", name, size],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the eager worker for {name} did not start")

    def call(self) -> float:
        """Seconds one eager call took in the worker."""
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def eager_worker(name: str, size: str) -> None:
    """The worker's side of EagerWorker: one timed call per line read."""
    import torch

    import architectures

    model, inputs = architectures.example(name, size)
    print("ready", flush=True)
    with torch.no_grad():
        for _ in sys.stdin:
            start = time.perf_counter()
            model(*inputs)
            print(time.perf_counter() - start, flush=True)


def one(name: str, column: str, repeat: int) -> dict:
    """Compile and run architecture `name` on `column` (target[:hw]) in this process."""
    import numpy as np
    import torch

    import architectures
    import tessera

    target, _, hw = column.partition(":")
    size = "tiny" if target == "riscv" else "full"
    model, inputs = architectures.example(name, size)
    weights = sum(p.numel() * p.element_size() for p in model.state_dict().values())
    row = {"model": name, "column": column, "size": size, "weights_mb": weights / 1e6}
    try:
        program = tessera.compile(model, inputs, target=target, hw=hw or None)
    except tessera.TesseraError as e:
        return {**row, "status": "error", "detail": str(e).splitlines()[0][:300]}
    row.update({k: program.timings.get(k, 0.0)
                for k in ("import_s", "passes_s", "backend_s", "compile_s")})
    with torch.no_grad():
        want = architectures.outputs(model(*inputs))
    got = architectures.outputs(program(*inputs))
    row["max_error"] = max(float(np.max(np.abs(g - w.numpy()))) for g, w in zip(got, want))
    row["status"] = "ok" if all(
        np.allclose(g, w.numpy(), rtol=1e-3, atol=1e-4) for g, w in zip(got, want)) else "mismatch"
    measures = program.report.measures()
    if "cycles" in measures:
        row["cycles"] = measures["cycles"]
    if target in ("iree-cpu", "cpu-amx"):
        mine, eager, alone = [], [], []
        worker = EagerWorker(name, size)
        try:
            for _ in range(repeat + 1):  # the first of each is a warm-up
                start = time.perf_counter()
                program(*inputs)
                mine.append(time.perf_counter() - start)
                start = time.perf_counter()
                with torch.no_grad():
                    model(*inputs)
                eager.append(time.perf_counter() - start)
                alone.append(worker.call())
        finally:
            worker.close()
        row["run_ms"] = statistics.median(mine[1:]) * 1e3
        row["eager_ms"] = statistics.median(eager[1:]) * 1e3
        row["eager_alone_ms"] = statistics.median(alone[1:]) * 1e3
    else:
        row["run_s"] = program.timings.get("run_s", 0.0)
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    row["peak_mb"] = peak / 1024
    return row


def table(rows: list[dict]) -> str:
    lines = ["| model | target | size | status | compile s (import / passes / backend) | "
             "run ms (eager ms: in this process / alone) | cycles | peak MB (weights MB) | "
             "max error |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] == "error":
            lines.append(f"| {r['model']} | {r['column']} | {r['size']} | error: {r['detail']} "
                         f"| | | | | |")
            continue
        compile_s = (f"{r['compile_s']:.1f} ({r['import_s']:.1f} / {r['passes_s']:.1f} / "
                     f"{r['backend_s']:.1f})")
        run = (f"{r['run_ms']:.1f} ({r['eager_ms']:.1f} / {r.get('eager_alone_ms', 0):.1f})"
               if "run_ms" in r else f"sim {r['run_s']:.1f} s")
        cycles = f"{r['cycles'] / 1e6:.1f} M" if "cycles" in r else ""
        lines.append(f"| {r['model']} | {r['column']} | {r['size']} | {r['status']} | {compile_s} "
                     f"| {run} | {cycles} | {r['peak_mb']:.0f} ({r['weights_mb']:.1f}) "
                     f"| {r['max_error']:.1e} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    import architectures

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(architectures.ARCHITECTURES))
    parser.add_argument("--targets", nargs="+", default=DEFAULT_TARGETS,
                        help="target[:hw spec] ...")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "TARGET"), help=argparse.SUPPRESS)
    parser.add_argument("--eager-worker", nargs=2, metavar=("MODEL", "SIZE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.eager_worker:
        eager_worker(*args.eager_worker)
        return 0
    if args.one:
        print(json.dumps(one(*args.one, args.repeat)))
        return 0
    rows = []
    for name in args.models.split(","):
        for column in args.targets:
            done = subprocess.run([sys.executable, __file__, "--one", name, column,
                                   "--repeat", str(args.repeat)], capture_output=True, text=True)
            if done.returncode != 0:
                tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
                row = {"model": name, "column": column, "size": "", "status": "error",
                       "detail": f"crashed (exit {done.returncode}): {tail[0][:200]}"}
            else:
                row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
