"""LLVM through llvmlite, shared by the targets that emit object code (riscv, cpu-amx).

tessera's MLIR translates a module in the LLVM dialect to LLVM IR text
(`translate_to_llvm_ir`); llvmlite (LLVM 22) parses, verifies and optimizes it with
LLVM's -O3 pipeline and emits an object for a target machine.
"""

from __future__ import annotations

import re
import struct

import numpy as np

from tessera.errors import TesseraError


def to_llvm_ir(module, what: str = "the model") -> str:
    """LLVM IR text of `module` (in the LLVM dialect)."""
    from tessera.mlir import translate_to_llvm_ir

    try:
        return translate_to_llvm_ir(module)
    except RuntimeError as e:
        raise TesseraError(f"translating {what} to LLVM IR failed: {e}") from None


def target_machine(triple: str, cpu: str, features: str, *, reloc: str = "static",
                   abiname: str = "", codemodel: str = "jitdefault"):
    """An llvmlite target machine at -O3 (`cpu="host"`: this machine, its features)."""
    import llvmlite.binding as llvm

    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    if cpu == "host":
        cpu, features = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    return llvm.Target.from_triple(triple).create_target_machine(
        cpu=cpu, features=features, opt=3, reloc=reloc, codemodel=codemodel, abiname=abiname)


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
                     vectorize: bool = True, unroll: bool = True):
    """The llvmlite module of `llvm_ir` for `machine`, verified and put through LLVM's
    -O3 pipeline (loop and SLP vectorizers on when `vectorize`, the loop unroller when
    `unroll`)."""
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
    tuning.loop_unrolling = unroll
    builder = llvm.create_pass_builder(machine, tuning)
    builder.getModulePassManager().run(module, builder)
    return module


def emit_object(llvm_ir: str, machine, triple: str, what: str = "the model's",
                vectorize: bool = True, unroll: bool = True) -> bytes:
    """Object code of `llvm_ir` for `machine`, after -O3."""
    return machine.emit_object(optimized_module(llvm_ir, machine, triple, what, vectorize,
                                                unroll))


def emit_assembly(llvm_ir: str, machine, triple: str, what: str = "the model's") -> str:
    """Assembly of `llvm_ir` for `machine`, optimized as the object would be."""
    return machine.emit_assembly(optimized_module(llvm_ir, machine, triple, what))
