"""Dynamic instruction counts of GEMMs on RISC-V (RVV), counted under QEMU.

Three programs per GEMM, each checked against numpy:
- tessera RVV: target riscv (broadcast-FMA vector microkernels, VLEN from --vlen);
- tessera scalar: target riscv with the `scalar` preset (matmuls as scalar loops);
- clang -O3: a plain C loop nest (i, k, j order, so it can vectorize) compiled by
  `zig cc` (clang; pip package ziglang) for rv64gcv with the same minimum VLEN, so
  LLVM's auto-vectorizer uses RVV.
Counts are instructions executed inside each program's own GEMM code (tessera's object
or the C function), from a QEMU TCG plugin; the harness, libc and startup are excluded.
QEMU's wall time is not a measure of RVV performance; counts are repeatable.

    .venv/bin/python benchmarks/riscv_instructions.py [--vlen 256] [--sizes 64 128 256 512]
"""

import argparse
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", category=FutureWarning)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

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
    return program.report.count_instructions([a, b])[0]


def clang_count(dt, size, vlen, a, b, expected, work: Path):
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
    return toolchain.count_instructions(binary, vlen, [a, b], [spec])[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vlen", type=int, default=256)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--int8-sizes", type=int, nargs="+", default=[64, 128, 256])
    args = parser.parse_args()
    ok, why = can_run()
    if not ok:
        print(f"cannot run RISC-V programs here: {why}")
        return 1
    rng = np.random.default_rng(0)
    print(f"instructions executed in the GEMM code, VLEN={args.vlen} (QEMU plugin count)")
    print(f"{'GEMM':>16} {'tessera RVV':>12} {'tessera scalar':>15} {'clang -O3 RVV':>14} "
          f"{'scalar/RVV':>10} {'clang/RVV':>10}")
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
            rvv = tessera_count(text, RiscvConfig(args.vlen, unroll=True), a, b, expected)
            scalar = tessera_count(text, RiscvConfig(args.vlen, vector=False, unroll=True), a, b,
                                   expected)
            clang = clang_count(dt, size, args.vlen, a, b, expected, Path(tmp))
            label = f"{dt} {size}^3"
            print(f"{label:>16} {rvv:12d} {scalar:15d} {clang:14d} {scalar / rvv:9.1f}x "
                  f"{clang / rvv:9.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
