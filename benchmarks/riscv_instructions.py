"""Dynamic instruction counts of GEMMs on RISC-V (RVV), counted under QEMU.

Four programs per GEMM, each checked against numpy:
- tessera RVV: target riscv (register-blocked vector microkernels, VLEN from --vlen);
- tessera scalar: target riscv with the `scalar` preset (matmuls as scalar loops, LLVM's
  unroller on);
- clang -O3: a plain C loop nest (i, k, j order, so it can vectorize) compiled by
  `zig cc` (clang; pip package ziglang==0.17.1, n/a without it) for rv64gcv with the
  same minimum VLEN, so LLVM's auto-vectorizer uses RVV;
- IREE best: IREE (iree-compile, llvm-cpu) for riscv64 with the same RVV features in
  three configurations, default, data tiling + ukernels, and scalable vectorization with
  vscale fixed at VLEN/64; the column shows the one with the fewest instructions and
  names it, a line under each GEMM gives every configuration's count or why it has none
  (a configuration that fails to compile or run, or gives a wrong result, is not
  counted). IREE's dispatch code is run by a generated C harness in the order, with the
  workgroup counts and bindings, of IREE's host program (see iree_riscv.py).
Counts are instructions executed inside each program's own GEMM code (tessera's object,
the C function, IREE's executable objects: dispatches, ukernels and the library query
function, 7 instructions per executable), from a QEMU TCG plugin; the harness, libc and
startup are excluded. `weighted` counts weigh each vector instruction by the registers
of its group (LMUL; see targets/riscv/plugin/insn_count.c), so a kernel does not win
only by using wider groups. `tessera/IREE` is tessera RVV's count over IREE best's, for
instructions and weighted. QEMU's wall time is not a measure of RVV performance; counts
are repeatable.

    .venv/bin/python benchmarks/riscv_instructions.py [--vlen 256] [--sizes 64 128 256 512]
        [--int8-sizes 64 128 256] [--iree-configs default dt+ukernels scalable]
"""

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", category=FutureWarning)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from iree_riscv import CONFIGS, best, iree_count  # noqa: E402
from models import matmul_mlir  # noqa: E402

import tessera  # noqa: E402
import tessera.executable  # noqa: E402
from tessera.hardware import RiscvConfig  # noqa: E402
from tessera.targets.riscv import can_run, toolchain  # noqa: E402

C_TYPES = {"f32": ("float", "float"), "i8": ("int8_t", "int32_t")}

NAIVE = """#include <stdint.h>
void gemm(int m, int n, int k, const {a} *restrict a, const {a} *restrict b, {c} *restrict c) {{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) c[i * n + j] = 0;
  for (int i = 0; i < m; i++)
    for (int p = 0; p < k; p++) {{
      {c} x = a[i * k + p];
      for (int j = 0; j < n; j++) c[i * n + j] += x * ({c})b[p * n + j];
    }}
}}
"""

HARNESS = """#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
void gemm(int m, int n, int k, const {a} *a, const {a} *b, {c} *c);
static void *load(const char *path, size_t n) {{
  void *p = malloc(n); FILE *f = fopen(path, "rb");
  if (!f || fread(p, 1, n, f) != n) exit(2); fclose(f); return p; }}
int main(int argc, char **argv) {{
  {a} *a = load(argv[1], sizeof({a}) * {m} * {k}), *b = load(argv[2], sizeof({a}) * {k} * {n});
  {c} *c = malloc(sizeof({c}) * {m} * {n});
  gemm({m}, {n}, {k}, a, b, c);
  FILE *f = fopen(argv[3], "wb"); fwrite(c, sizeof({c}), {m} * {n}, f); fclose(f);
  return 0;
}}
"""


def tessera_count(text, hw, a, b, expected):
    program = tessera.compile(text, target="riscv", hw=hw)
    out = program(a, b)
    assert np.allclose(out, expected, rtol=1e-4, atol=1e-3), "tessera result differs from numpy"
    return program.report.count_instructions([a, b])


def clang_count(dt, size, vlen, a, b, expected, work: Path):
    """The clang column's count, or None where the ziglang package (zig cc) is missing."""
    if importlib.util.find_spec("ziglang") is None:
        return None
    a_type, c_type = C_TYPES[dt]
    (work / "naive.c").write_text(NAIVE.format(a=a_type, c=c_type))
    (work / "harness.c").write_text(HARNESS.format(a=a_type, c=c_type, m=size, n=size, k=size))
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "riscv64-linux-gnu", "-O3",
                    f"-mcpu=generic_rv64+v+zvl{vlen}b", "-c", str(work / "naive.c"),
                    "-o", str(work / "model.o")], check=True)
    binary = toolchain.link(work)
    spec = tessera.executable.TensorSpec((size, size), np.dtype(expected.dtype))
    out, _ = toolchain.run(binary, vlen, [a, b], [spec])
    assert np.allclose(out[0], expected, rtol=1e-4, atol=1e-3), "clang result differs from numpy"
    return toolchain.count_instructions(binary, vlen, [a, b], [spec]).model


def number(value) -> str:
    return "n/a" if value is None else f"{value:d}"


def ratio(ours, theirs) -> str:
    return "n/a" if ours is None or theirs is None else f"{ours / theirs:.2f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vlen", type=int, default=256)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--int8-sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--iree-configs", nargs="+", choices=CONFIGS, default=list(CONFIGS))
    args = parser.parse_args()
    ok, why = can_run()
    if not ok:
        print(f"cannot run RISC-V programs here: {why}")
        return 1
    rng = np.random.default_rng(0)
    print(f"instructions executed in the GEMM code, VLEN={args.vlen} (QEMU plugin count)")
    print(f"{'GEMM':>10} {'tessera RVV':>12} {'weighted':>10} {'scalar':>10} "
          f"{'clang -O3':>10} {'IREE best':>10} {'weighted':>10} {'IREE config':>12} "
          f"{'tessera/IREE':>12} {'weighted':>9}")
    cases = [("f32", s) for s in args.sizes] + [("i8", s) for s in args.int8_sizes]
    with tempfile.TemporaryDirectory() as tmp:
        for dt, size in cases:
            acc = "f32" if dt == "f32" else "i32"
            if dt == "f32":
                a = rng.standard_normal((size, size)).astype(np.float32)
                b = rng.standard_normal((size, size)).astype(np.float32)
                expected = a @ b
            else:
                a = rng.integers(-128, 128, (size, size), dtype=np.int8)
                b = rng.integers(-128, 128, (size, size), dtype=np.int8)
                expected = a.astype(np.int32) @ b.astype(np.int32)
            text = matmul_mlir(size, size, size, dt, acc)
            rvv = tessera_count(text, RiscvConfig(args.vlen), a, b, expected)
            scalar = tessera_count(text, RiscvConfig(args.vlen, vector=False, unroll=True),
                                   a, b, expected)
            clang = clang_count(dt, size, args.vlen, a, b, expected, Path(tmp))
            outcomes = iree_count(text, args.vlen, [a, b], expected,
                                  Path(tmp) / f"{dt}_{size}", args.iree_configs)
            winner = best(outcomes)
            config, iree = winner if winner else ("none", None)
            print(f"{dt + ' ' + str(size) + '^3':>10} {rvv.model:12d} {number(rvv.weighted):>10} "
                  f"{scalar.model:10d} {number(clang):>10} {number(iree and iree.insns):>10} "
                  f"{number(iree and iree.weighted):>10} {config:>12} "
                  f"{ratio(rvv.model, iree and iree.insns):>12} "
                  f"{ratio(rvv.weighted, iree and iree.weighted):>9}")
            print(f"{'':>10} IREE: " + "; ".join(f"{c} {o}" for c, o in outcomes.items()),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
