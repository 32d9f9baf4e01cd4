"""From LLVM IR to a RISC-V program under QEMU: object code, C harness, link, run, count.

- the object comes from llvmlite (LLVM 22's RISC-V backend), rv64gc + V with a minimum
  vector length (`+zvl<vlen>b`) so fixed-length vectors use RVV registers;
- the harness is generated C: it reads each input from a file into a memref descriptor,
  calls `_mlir_ciface_tessera_entry`, and writes each output to a file;
- Debian's `gcc-riscv64-linux-gnu` links it statically (glibc, libm);
- `qemu-riscv64 -cpu rv64,v=true,vlen=N` runs it;
- instructions are counted by a QEMU TCG plugin (plugin/insn_count.c, built here with
  the host compiler) over the address range of tessera's own code.
"""

from __future__ import annotations

import functools
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np

from tessera.errors import TesseraError
from tessera.executable import TensorSpec

TRIPLE = "riscv64-unknown-linux-gnu"
GCC = "riscv64-linux-gnu-gcc"
NM = "riscv64-linux-gnu-nm"
QEMU = "qemu-riscv64"

_C_TYPES = {"float32": "float", "float64": "double", "int8": "int8_t", "int16": "int16_t",
            "int32": "int32_t", "int64": "int64_t", "uint8": "uint8_t", "bool": "uint8_t"}


def missing_tools() -> list[str]:
    """The external programs this machine lacks (linker, emulator)."""
    return [tool for tool in (GCC, QEMU) if shutil.which(tool) is None]


# MLIR's LLVM is newer than llvmlite's LLVM 22, and prints float constants in three ways
# LLVM 22 rejects: `f0x<bits>` literals, shortest decimals (4.941690e-02) that are not
# exactly representable (LLVM 22 wants exact values), and `inf`/`nan`. All are rewritten as the hex
# forms LLVM 22 reads: `0x<16 digits of the double>` for float and double, `0xH<bits>`
# for half, `0xR<bits>` for bfloat.
_TOKEN = re.compile(
    r"\b(?P<type>half|bfloat|float|double)\b"
    r"|\bf0x(?P<bits>[0-9A-Fa-f]+)\b"
    r"|(?<![\w.%@\"])(?P<decimal>-?\d+\.\d+e[+-]\d+)"
    r"|(?<![\w.%@\"])(?P<special>[+-]?(?:inf|nan))\b")


def _as_legacy(value: float, kind: str | None) -> str:
    if kind == "half":
        return "0xH" + np.float16(value).tobytes()[::-1].hex().upper()
    if kind == "bfloat":
        return "0xR" + np.float32(value).tobytes()[::-1].hex().upper()[:4]
    if kind == "float":
        value = float(np.float32(value))
    return "0x" + struct.pack(">d", value).hex().upper()


def _legacy_line(line: str) -> str:
    """One pass over a line, remembering the last type keyword seen (linear time: lines
    of weight constants are long)."""
    out, last, kind = [], 0, None
    for m in _TOKEN.finditer(line):
        if m.group("type"):
            kind = m.group("type")
            continue
        if m.group("bits"):
            bits = m.group("bits")
            if len(bits) == 16:
                new = "0x" + bits.upper()
            elif len(bits) == 8:
                new = _as_legacy(struct.unpack(">f", bytes.fromhex(bits))[0], "float")
            else:
                new = ("0xR" if kind == "bfloat" else "0xH") + bits.upper()
        elif m.group("decimal"):
            if kind in (None, "double"):
                continue
            new = _as_legacy(float(m.group("decimal")), kind)
        else:
            new = _as_legacy(float(m.group("special")), kind or "double")
        out.append(line[last:m.start()])
        out.append(new)
        last = m.end()
    out.append(line[last:])
    return "".join(out)


def legacy_llvm_ir(text: str) -> str:
    """Rewrite float literals into forms LLVM 22 parses (see above)."""
    return "\n".join(_legacy_line(line) if ("f0x" in line or "e-" in line or "e+" in line
                                             or "inf" in line or "nan" in line) else line
                     for line in text.split("\n"))


def optimized_module(llvm_ir: str, machine, triple: str, what: str = "the model's",
                     vectorize: bool = True):
    """The llvmlite module of `llvm_ir` for `machine`, verified and put through LLVM's
    -O3 pipeline (loop and SLP vectorizers on when `vectorize`)."""
    import llvmlite.binding as llvm

    try:
        module = llvm.parse_assembly(legacy_llvm_ir(llvm_ir))
    except RuntimeError as e:
        raise TesseraError(f"LLVM 22 (llvmlite) cannot read {what} LLVM IR: "
                           f"{str(e)[:400]}") from None
    module.triple = triple
    module.data_layout = str(machine.target_data)
    module.verify()
    tuning = llvm.PipelineTuningOptions(speed_level=3)
    tuning.loop_vectorization = vectorize
    tuning.slp_vectorization = vectorize
    builder = llvm.create_pass_builder(machine, tuning)
    builder.getModulePassManager().run(module, builder)
    return module


def emit_object(llvm_ir: str, vlen: int, vectorize: bool = True) -> bytes:
    """RISC-V object code for an LLVM IR module, after LLVM's -O3 pipeline (its loop and
    SLP vectorizers on when `vectorize`, so elementwise loops use RVV too)."""
    import llvmlite.binding as llvm

    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    features = f"+m,+a,+f,+d,+c,+v,+zvl{vlen}b"
    machine = llvm.Target.from_triple(TRIPLE).create_target_machine(
        cpu="generic-rv64", features=features, opt=3, reloc="static", abiname="lp64d")
    return machine.emit_object(optimized_module(llvm_ir, machine, TRIPLE, vectorize=vectorize))


def _ctype(spec: TensorSpec) -> str:
    if spec.dtype.name not in _C_TYPES:
        raise TesseraError(f"the riscv harness cannot pass {spec.dtype.name} tensors "
                           f"(supported: {', '.join(sorted(_C_TYPES))})")
    return _C_TYPES[spec.dtype.name]


def harness_source(inputs: list[TensorSpec], outputs: list[TensorSpec]) -> str:
    """C source of the program that feeds files to the model and writes its results."""
    specs = list(inputs) + list(outputs)
    ranks = sorted({len(s.shape) for s in specs})
    lines = ["#include <stdint.h>", "#include <stdio.h>", "#include <stdlib.h>", ""]
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
        lines.append(f"  {_ctype(s)} *d{i} = buffer(argv[{i + 1}], {nbytes}, {int(i < len(inputs))});")
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
    done = subprocess.run(command + [str(binary)] + ins + outs, capture_output=True, text=True)
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


def count_instructions(binary: Path, vlen: int, arrays, outputs) -> tuple[int, int]:
    """(instructions in the model's code, instructions in the whole program) for one run."""
    low, high = code_range(binary)
    _, log = run(binary, vlen, arrays, outputs,
                 plugin_args=f"{counting_plugin()},low={low},high={high}")
    counts = dict(line.split("=") for line in log.split() if "=" in line)
    return int(counts["model_insns"]), int(counts["total_insns"])
