"""Target `riscv`: RISC-V with the vector extension, run under QEMU user mode.

`compile` runs the riscv pipeline (matmuls -> RVV broadcast-FMA microkernels), lowers
the whole model like host code (bufferize, loops, LLVM), translates it to LLVM IR inside
tessera's MLIR and emits a RISC-V object with llvmlite; a generated C harness is linked
to it with Debian's riscv64 cross gcc. Calling the result runs the program under
`qemu-riscv64` with the configured vector length, inputs and outputs crossing as files.
Without QEMU (or the cross linker) the target is compile-only: the object, the harness
source and the reason it cannot run are kept on the executable.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tessera.errors import TesseraError
from tessera.executable import Executable, entry_signature
from tessera.hardware import riscv_preset
from tessera.host import lowered_copy
from tessera.mlir import ir, translate_to_llvm_ir

from tessera.targets.riscv import toolchain

NAME = "riscv"


def available() -> tuple[bool, str]:
    """Compiling needs only llvmlite; running needs QEMU and the cross linker."""
    try:
        import llvmlite  # noqa: F401
    except ImportError:
        return False, "llvmlite is not installed (pip install llvmlite==0.50.0)"
    return True, ""


def can_run() -> tuple[bool, str]:
    """Whether programs can be linked and run here, and why not."""
    missing = toolchain.missing_tools()
    if missing:
        return False, (f"{' and '.join(missing)} not found (Debian: apt-get install "
                       f"qemu-user gcc-riscv64-linux-gnu)")
    return True, ""


class RiscvProgram:
    """The built program: its files, and running or counting it under QEMU."""

    def __init__(self, directory, vlen: int, outputs):
        self._tmp = directory  # a TemporaryDirectory: removed with this object
        self.path = Path(directory.name)
        self.vlen = vlen
        self.outputs = outputs
        self.binary = None
        self.why_not = None
        ok, why = can_run()
        if ok:
            self.binary = toolchain.link(self.path)
        else:
            self.why_not = why

    def run(self, arrays):
        if self.binary is None:
            raise TesseraError(f"target riscv compiled to {self.path} but cannot run here: "
                               f"{self.why_not}")
        return toolchain.run(self.binary, self.vlen, arrays, self.outputs)[0]

    def count_instructions(self, arrays) -> tuple[int, int]:
        """(instructions executed in the model's code, in the whole program)."""
        if self.binary is None:
            raise TesseraError(f"cannot count instructions here: {self.why_not}")
        return toolchain.count_instructions(self.binary, self.vlen, arrays, self.outputs)


def pipeline(context: ir.Context, hw=None):
    """The tessera passes for the hart `hw` (a preset name or a RiscvConfig)."""
    from tessera.pipelines import riscv

    return riscv.pipeline(context, riscv_preset(hw))


def converts_float_to_int(llvm_ir: str) -> bool:
    """Whether the model converts floats to integers (fptosi/fptoui). LLVM's vectorizers
    turn those into RVV `vfcvt.rtz.*` instructions, on which QEMU 7.2's user mode (the
    one Debian 12 ships) aborts in its translator ("decode_save_opc: Assertion"); such
    models are compiled without LLVM's auto-vectorizers (tessera's explicit RVV matmul
    kernels are unaffected)."""
    return " = fptosi " in llvm_ir or " = fptoui " in llvm_ir


def compile(module: ir.Module, hw=None, *, func_name: str = "main") -> Executable:
    """Compile `module` for a RISC-V hart described by `hw` (a preset name — rvv-128,
    rvv-256, rvv-512, scalar — or a RiscvConfig; default rvv-256)."""
    config = riscv_preset(hw)
    signature = entry_signature(module, func_name)
    start = time.perf_counter()
    pipeline(module.context, config).run(module)
    passes_s = time.perf_counter() - start

    start = time.perf_counter()
    lowered, outputs = lowered_copy(module, func_name)
    try:
        llvm_ir = translate_to_llvm_ir(lowered)
    except RuntimeError as e:
        raise TesseraError(f"translating the model to LLVM IR failed: {e}") from None
    directory = tempfile.TemporaryDirectory(prefix="tessera-riscv-")
    root = Path(directory.name)
    (root / "model.ll").write_text(llvm_ir)
    vectorize = config.vector and not converts_float_to_int(llvm_ir)
    (root / "model.o").write_bytes(toolchain.emit_object(llvm_ir, config.vlen, vectorize))
    (root / "harness.c").write_text(toolchain.harness_source(signature, outputs))
    program = RiscvProgram(directory, config.vlen, outputs)
    backend_s = time.perf_counter() - start
    executable = Executable(NAME, program.run, signature,
                            {"passes_s": passes_s, "backend_s": backend_s})
    executable.report = program
    return executable
