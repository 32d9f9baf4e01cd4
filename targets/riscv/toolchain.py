"""From LLVM IR to a RISC-V program under QEMU: object code, C harness, link, run, count.

- the object comes from llvmlite (LLVM 22's RISC-V backend), rv64gc + V with a minimum
  vector length (`+zvl<vlen>b`) so fixed-length vectors use RVV registers;
- the harness is generated C: it reads each input from a file into a memref descriptor,
  calls `_mlir_ciface_tessera_entry`, and writes each output to a file;
- Debian's `gcc-riscv64-linux-gnu` links it statically (glibc, libm);
- `qemu-riscv64 -cpu rv64,v=true,vlen=N` runs it;
- instructions are counted by a QEMU TCG plugin (plugin/insn_count.c, built here with
  the host compiler) over the address range of tessera's own code: executed, and
  weighted by vector register-group size (LMUL).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tessera import llvm
from tessera.errors import TesseraError
from tessera.executable import TensorSpec

TRIPLE = "riscv64-unknown-linux-gnu"
GCC = "riscv64-linux-gnu-gcc"
NM = "riscv64-linux-gnu-nm"
QEMU = "qemu-riscv64"

RUN_TIMEOUT_S = 600  # one program under QEMU; a hung program is an error, not a hang


def missing_tools() -> list[str]:
    """The external programs this machine lacks (linker, emulator)."""
    return [tool for tool in (GCC, QEMU) if shutil.which(tool) is None]


def emit_object(llvm_ir: str, vlen: int, vectorize: bool = True, unroll: bool = False) -> bytes:
    """RISC-V object code for an LLVM IR module, after LLVM's -O3 pipeline (its loop and
    SLP vectorizers on when `vectorize`, so elementwise loops use RVV too; its unroller
    only when `unroll`: it triples compile time)."""
    machine = llvm.target_machine(TRIPLE, "generic-rv64", f"+m,+a,+f,+d,+c,+v,+zvl{vlen}b",
                                  abiname="lp64d")
    return llvm.emit_object(llvm_ir, machine, TRIPLE, vectorize=vectorize, unroll=unroll)


def c_type(spec: TensorSpec) -> str:
    """The C type the harness holds a tensor in: bytes, whatever the element type (it
    only reads and writes them; the model's code gives them their meaning)."""
    return "unsigned char"


# Debian 12's cross libgcc (GCC 12) has no half or bfloat16 conversions, which LLVM calls
# for f16/bf16 code on RV64 without Zfh. The harness brings its own: round to nearest
# even, subnormals, infinities and NaNs kept. LLVM passes and returns a half (bfloat16)
# in the low 16 bits of a float register, as `float` here.
SOFT_HALF = r"""
#include <string.h>
static uint32_t tessera_pack(uint32_t sign, uint64_t m, int q, int mb, int bias, int emax) {
  if (m == 0) return sign;
  int p = 63 - __builtin_clzll(m), e = p + q + bias;
  int shift = e >= 1 ? p - mb : p - mb + 1 - e;
  uint64_t r;
  if (shift <= 0) r = m << -shift;
  else if (shift >= 64) r = 0;
  else {
    uint64_t rem = m & ((1ull << shift) - 1), mid = 1ull << (shift - 1);
    r = m >> shift;
    if (rem > mid || (rem == mid && (r & 1))) r++;
  }
  uint32_t bits;
  if (e >= 1) {
    if (r >> (mb + 1)) { r >>= 1; e++; }
    if (e >= emax) return sign | ((uint32_t)emax << mb);
    bits = ((uint32_t)e << mb) | (uint32_t)(r & ((1ull << mb) - 1));
  } else bits = (uint32_t)r;  /* a carry into 2^mb is the smallest normal */
  return sign | bits;
}
static uint32_t tessera_from_float(float x, int mb, int bias, int emax) {
  uint32_t u; memcpy(&u, &x, 4);
  uint32_t sign = (u >> 16) & 0x8000, exp = (u >> 23) & 0xff, man = u & 0x7fffff;
  if (exp == 0xff)
    return sign | ((uint32_t)emax << mb) | (man ? 1u << (mb - 1) : 0);
  if (exp == 0) return tessera_pack(sign, man, -149, mb, bias, emax);
  return tessera_pack(sign, man | 0x800000u, (int)exp - 150, mb, bias, emax);
}
static uint32_t tessera_from_double(double x, int mb, int bias, int emax) {
  uint64_t u; memcpy(&u, &x, 8);
  uint32_t sign = (uint32_t)(u >> 48) & 0x8000, exp = (uint32_t)(u >> 52) & 0x7ff;
  uint64_t man = u & 0xfffffffffffffull;
  if (exp == 0x7ff)
    return sign | ((uint32_t)emax << mb) | (man ? 1u << (mb - 1) : 0);
  if (exp == 0) return tessera_pack(sign, man, -1074, mb, bias, emax);
  return tessera_pack(sign, man | (1ull << 52), (int)exp - 1075, mb, bias, emax);
}
static float tessera_boxed(uint32_t h) {
  uint32_t u = 0xffff0000u | h; float f; memcpy(&f, &u, 4); return f;
}
float __truncsfhf2(float x) { return tessera_boxed(tessera_from_float(x, 10, 15, 0x1f)); }
float __truncdfhf2(double x) { return tessera_boxed(tessera_from_double(x, 10, 15, 0x1f)); }
float __truncsfbf2(float x) { return tessera_boxed(tessera_from_float(x, 7, 127, 0xff)); }
float __truncdfbf2(double x) { return tessera_boxed(tessera_from_double(x, 7, 127, 0xff)); }
float __extendhfsf2(float boxed) {
  uint32_t u; memcpy(&u, &boxed, 4);
  uint32_t sign = (u & 0x8000u) << 16, exp = (u >> 10) & 0x1f, man = u & 0x3ff, bits;
  if (exp == 0x1f) bits = sign | 0x7f800000u | (man << 13);
  else if (exp != 0) bits = sign | ((exp + 112) << 23) | (man << 13);
  else if (man == 0) bits = sign;
  else {  /* subnormal: normalize */
    int shift = __builtin_clz(man) - 21;
    bits = sign | ((uint32_t)(113 - shift) << 23) | ((man << shift) & 0x3ff) << 13;
  }
  float f; memcpy(&f, &bits, 4); return f;
}
"""


def harness_source(inputs: list[TensorSpec], outputs: list[TensorSpec]) -> str:
    """C source of the program that feeds files to the model and writes its results."""
    specs = list(inputs) + list(outputs)
    ranks = sorted({len(s.shape) for s in specs})
    lines = ["#include <stdint.h>", "#include <stdio.h>", "#include <stdlib.h>", SOFT_HALF, ""]
    for r in ranks:
        lines.append(f"typedef struct {{ void *allocated; void *aligned; int64_t offset; "
                     f"int64_t sizes[{max(r, 1)}]; int64_t strides[{max(r, 1)}]; }} memref{r};")
    params = ", ".join(f"memref{len(s.shape)} *" for s in specs)
    lines += [f"extern void _mlir_ciface_tessera_entry({params});", "",
              "static void *buffer(const char *path, size_t bytes, int read) {",
              "  void *data = calloc(bytes ? bytes : 1, 1);",
              "  if (!read) return data;",
              "  FILE *f = fopen(path, \"rb\");",
              "  if (!f || fread(data, 1, bytes, f) != bytes) {",
              "    fprintf(stderr, \"cannot read %s\\n\", path); exit(2); }",
              "  fclose(f); return data;", "}", "",
              "int main(int argc, char **argv) {",
              f"  if (argc != {len(specs) + 1}) {{ fprintf(stderr, \"usage: %s "
              f"{len(inputs)} inputs, {len(outputs)} outputs\\n\", argv[0]); return 2; }}"]
    for i, s in enumerate(specs):
        count = int(np.prod(s.shape)) if s.shape else 1
        nbytes = count * s.dtype.itemsize
        strides = [int(np.prod(s.shape[d + 1:])) for d in range(len(s.shape))] or [1]
        sizes = list(s.shape) or [1]
        lines.append(f"  {c_type(s)} *d{i} = buffer(argv[{i + 1}], {nbytes}, {int(i < len(inputs))});")
        lines.append(f"  memref{len(s.shape)} m{i} = {{d{i}, d{i}, 0, {{{', '.join(map(str, sizes))}}}, "
                     f"{{{', '.join(map(str, strides))}}}}};")
    lines.append(f"  _mlir_ciface_tessera_entry({', '.join(f'&m{i}' for i in range(len(specs)))});")
    for i, s in enumerate(outputs, start=len(inputs)):
        nbytes = (int(np.prod(s.shape)) if s.shape else 1) * s.dtype.itemsize
        lines += [f"  {{ FILE *f = fopen(argv[{i + 1}], \"wb\");",
                  f"    if (!f || fwrite(d{i}, 1, {nbytes}, f) != {nbytes}) return 3; fclose(f); }}"]
    lines += ["  return 0;", "}", ""]
    return "\n".join(lines)


def link(directory: Path) -> Path:
    """Link harness.c and model.o in `directory` into a static RISC-V executable."""
    binary = directory / "model"
    done = subprocess.run([GCC, "-O2", "-static", "-o", str(binary), str(directory / "harness.c"),
                           str(directory / "model.o"), "-lm"], capture_output=True, text=True)
    if done.returncode != 0:
        raise TesseraError(f"linking the RISC-V program failed:\n{done.stderr.strip()}")
    return binary


def _files(directory: Path, arrays, outputs):
    ins = []
    for i, a in enumerate(arrays):
        path = directory / f"in{i}.bin"
        np.ascontiguousarray(a).tofile(path)
        ins.append(str(path))
    outs = [str(directory / f"out{i}.bin") for i in range(len(outputs))]
    return ins, outs


def run(binary: Path, vlen: int, arrays, outputs: list[TensorSpec], plugin_args=None):
    """Run the program under QEMU; returns (outputs, qemu's stderr)."""
    directory = binary.parent
    ins, outs = _files(directory, arrays, outputs)
    command = [QEMU, "-cpu", f"rv64,v=true,vlen={vlen},vext_spec=v1.0"]
    if plugin_args is not None:
        command += ["-plugin", plugin_args, "-d", "plugin"]
    try:
        done = subprocess.run(command + [str(binary)] + ins + outs, capture_output=True,
                              text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise TesseraError(f"the RISC-V program ran longer than {RUN_TIMEOUT_S} s under QEMU "
                           f"and was stopped") from None
    except OSError as e:
        raise TesseraError(f"could not start {QEMU}: {e.strerror}") from None
    if done.returncode != 0:
        raise TesseraError(f"the RISC-V program failed under QEMU (exit {done.returncode}): "
                           f"{done.stderr.strip()}")
    results = tuple(np.fromfile(path, dtype=spec.dtype).reshape(spec.shape)
                    for path, spec in zip(outs, outputs))
    return results, done.stderr


def code_range(binary: Path) -> tuple[int, int]:
    """[start, end) of the code that came from tessera's object (the model), from the
    symbol table: the functions defined in model.o."""
    ours = subprocess.run([NM, "--defined-only", str(binary.parent / "model.o")],
                          capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1] for line in ours.splitlines() if " T " in line or " t " in line}
    table = subprocess.run([NM, "-S", "--defined-only", str(binary)], capture_output=True,
                           text=True, check=True).stdout
    spans = []
    for line in table.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] in names:
            start = int(parts[0], 16)
            spans.append((start, start + int(parts[1], 16)))
    if not spans:
        raise TesseraError("could not find the model's code in the RISC-V program")
    return min(s for s, _ in spans), max(e for _, e in spans)


@functools.cache
def counting_plugin() -> Path:
    """Build (once per process) the instruction-counting QEMU plugin."""
    source = Path(__file__).parent / "plugin" / "insn_count.c"
    out = Path.home() / ".cache" / "tessera" / "insn_count.so"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.stat().st_mtime < source.stat().st_mtime:
        done = subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(out), str(source)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise TesseraError(f"building the QEMU counting plugin failed:\n{done.stderr}")
    return out


class Counts(NamedTuple):
    """Instructions one run executed: in the model's code, in the whole program, and in
    the model's code weighted by register-group size (a vector instruction counts as the
    vector registers it works on: LMUL, 2 x LMUL when widening; see plugin/insn_count.c).
    `weighted` is None when the program set vtype from a register (vsetvl), whose LMUL
    the plugin cannot see."""

    model: int
    total: int
    weighted: int | None


def count_instructions(binary: Path, vlen: int, arrays, outputs) -> Counts:
    """The instructions one run of `binary` executes (see Counts)."""
    low, high = code_range(binary)
    _, log = run(binary, vlen, arrays, outputs,
                 plugin_args=f"{counting_plugin()},low={low},high={high}")
    counts = dict(line.split("=") for line in log.split() if "=" in line)
    weighted = int(counts["model_weighted"]) if counts["dynamic_vtype"] == "0" else None
    return Counts(int(counts["model_insns"]), int(counts["total_insns"]), weighted)
