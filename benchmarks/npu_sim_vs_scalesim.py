"""npu-sim against SCALE-Sim on single GEMMs: same cycles, and how much faster.

For each GEMM, both simulate a 16x16 array (by default) with ideal memory, tessera with
the heuristic mapping (`mapper=heuristic`: SCALE-Sim's loop order). SCALE-Sim runs
in its own virtual environment (created on first use under benchmarks/.scalesim-venv,
SCALE-Sim 3.0.0 with numpy < 2). npu-sim's time is the simulator itself: loading the
kernel into instructions, timing them and executing them on numpy (the outputs); the
MLIR compile before it is reported apart. Wall times are medians of --runs runs, ratios
taken in the same run of this script.

    .venv/bin/python benchmarks/npu_sim_vs_scalesim.py [--dataflow ws] [--runs 3]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", category=FutureWarning)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from models import matmul_mlir  # noqa: E402

from tessera.context import make_context, parse_module  # noqa: E402
from tessera.hardware import NpuConfig  # noqa: E402
from tessera.pipelines.npu_sim import pipeline  # noqa: E402
from tessera.targets.npu_sim import functional  # noqa: E402
from tessera.targets.npu_sim.program import kernels, load_kernel  # noqa: E402
from tessera.targets.npu_sim.timing import simulate  # noqa: E402

VENV = HERE / ".scalesim-venv"
LAYERS = [(16, 16, 64), (64, 32, 128), (128, 128, 128), (100, 60, 70), (256, 512, 128),
          (33, 17, 300), (512, 512, 512)]


def scalesim_python() -> str:
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} with scalesim==3.0.0 (numpy<2) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "scalesim==3.0.0",
                        "numpy<2"], check=True)
    return str(python)


def tessera_layer(hw, m, n, k, runs):
    """(cycles, median simulator seconds, compile seconds, max error vs numpy)."""
    start = time.perf_counter()
    with make_context():
        module = parse_module(matmul_mlir(m, n, k))
        pipeline(module.context, hw, strategy="heuristic").run(module)
        kernel = kernels(module)[0]
        compile_s = time.perf_counter() - start
        rng = np.random.default_rng(0)
        a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
        walls = []
        for _ in range(runs):
            out = np.zeros((m, n), np.float32)
            start = time.perf_counter()
            program = load_kernel(kernel)
            cycles = simulate(program).cycles
            functional.run(program, [a, b, out])
            walls.append(time.perf_counter() - start)
    return cycles, statistics.median(walls), compile_s, float(np.abs(out - a @ b).max())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataflow", default="ws", choices=("ws", "os", "is"))
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--cols", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--layers", nargs="+", default=[",".join(map(str, l)) for l in LAYERS])
    args = parser.parse_args()
    hw = NpuConfig(args.rows, args.cols, args.dataflow).ideal()
    python = scalesim_python()
    print(f"{args.rows}x{args.cols} {args.dataflow}, ideal memory, median of {args.runs} runs")
    header = (f"{'M,N,K':>14} {'cycles':>8} {'SCALE-Sim':>9} {'same':>5} {'npu-sim s':>10} "
              f"{'SCALE-Sim s':>11} {'speed-up':>9} {'compile s':>9} {'max err':>8}")
    print(header)
    ratios = []
    for layer in args.layers:
        m, n, k = (int(x) for x in layer.split(","))
        done = subprocess.run([python, str(HERE / "scalesim_layers.py"), str(args.rows),
                               str(args.cols), args.dataflow, str(args.runs), layer],
                              capture_output=True, text=True, check=True)
        theirs = json.loads(done.stdout.strip().splitlines()[-1])
        cycles, wall, compile_s, err = tessera_layer(hw, m, n, k, args.runs)
        ratio = theirs["wall_s"] / wall
        ratios.append(ratio)
        print(f"{layer:>14} {cycles:8d} {theirs['cycles']:9d} {str(cycles == theirs['cycles']):>5} "
              f"{wall:10.4f} {theirs['wall_s']:11.3f} {ratio:8.0f}x {compile_s:9.2f} {err:8.1e}",
              flush=True)
    print(f"median speed-up {statistics.median(ratios):.0f}x, smallest {min(ratios):.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
