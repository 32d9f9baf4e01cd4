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
# Found by what they start with (a scan that tries a lookbehind at every character is
# several times slower on lines of weights); what may come before them is checked after.
_TOKEN = re.compile(r"f0x(?P<bits>[0-9A-Fa-f]+)\b|(?P<decimal>\d+\.\d+e[+-]\d+)"
                    r"|(?P<special>[+-]?(?:inf|nan))\b")
_TYPE = re.compile(r"\b(?:half|bfloat|float|double)\b")
_FLOAT_BITS, _DOUBLE_BITS = struct.Struct(">f"), struct.Struct(">d")


def _as_legacy(value: float, kind: str | None) -> str:
    if kind == "half":
        return "0xH" + np.float16(value).tobytes()[::-1].hex().upper()
    if kind == "bfloat":
        return "0xR" + np.float32(value).tobytes()[::-1].hex().upper()[:4]
    if kind == "float":
        value = float(np.float32(value))
    return "0x" + _DOUBLE_BITS.pack(value).hex().upper()


def _kind_before(line: str, end: int) -> str | None:
    """The last type keyword in `line` before `end`: the type of a literal there. Looked
    for just before `end` first (lines of weight constants are long)."""
    start = max(0, end - 64)
    while True:
        found = _TYPE.findall(line, start, end)
        if found or start == 0:
            return found[-1] if found else None
        start = 0


def _after(line: str, start: int, forbidden: str) -> bool:
    """Whether the character before `start` is not a word character or in `forbidden`."""
    if start == 0:
        return True
    c = line[start - 1]
    return not (c.isalnum() or c == "_" or c in forbidden)


def _literal(line: str, m) -> tuple[int, str] | None:
    """(start, LLVM 22 form) of the literal `m` found, or None where it is not one (what
    comes before rules it out) or needs no rewrite."""
    start, bits = m.start(), m.group("bits")
    if bits:
        if not _after(line, start, ""):
            return None
        if len(bits) == 16:
            return start, "0x" + bits.upper()
        if len(bits) == 8:  # a float's bits: the double's are exact
            value = _FLOAT_BITS.unpack(bytes.fromhex(bits))[0]
            return start, "0x" + _DOUBLE_BITS.pack(value).hex().upper()
        return start, ("0xR" if _kind_before(line, start) == "bfloat" else "0xH") + bits.upper()
    if m.group("decimal"):
        if start and line[start - 1] == "-" and _after(line, start - 1, '.%@"'):
            start -= 1  # the sign belongs to the literal
        elif not _after(line, start, '.%@"'):
            return None
        kind = _kind_before(line, start)
        if kind in (None, "double"):
            return None
        return start, _as_legacy(float(line[start:m.end()]), kind)
    special = m.group("special")
    if not _after(line, start, '.%@"'):
        if special[0] not in "+-":
            return None
        start, special = start + 1, special[1:]  # the sign is not part of it
    return start, _as_legacy(float(special), _kind_before(line, start) or "double")


def _legacy_line(line: str) -> str:
    """`line` with its literals rewritten (one scan; lines of weights are long)."""
    out, last, m = [], 0, _TOKEN.search(line)
    while m:
        found = _literal(line, m)
        if found is None:  # look again from the next character, as a lookbehind would
            m = _TOKEN.search(line, m.start() + 1)
            continue
        start, new = found
        out.append(line[last:start])
        out.append(new)
        last = m.end()
        m = _TOKEN.search(line, last)
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
