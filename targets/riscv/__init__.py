"""Target `riscv`: RISC-V with the vector extension, run under QEMU user mode.

`compile` runs the riscv pipeline (matmuls -> RVV broadcast-FMA microkernels, every other
linalg op in a function of its own), lowers the whole model like host code (bufferize,
loops, LLVM; the outlined functions' pointers marked `noalias`, see
`passes.outline_linalg`), translates it to LLVM IR inside tessera's MLIR and emits a
RISC-V object with llvmlite (tessera.llvm); a generated C harness is linked to it with
Debian's riscv64 cross gcc. Calling the result runs the program under `qemu-riscv64`
with the configured vector length, inputs and outputs crossing as files. Without QEMU
(or the cross linker) the target is compile-only: the object, the harness source and
the reason it cannot run are kept on the report.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tessera import llvm
from tessera.errors import TesseraError
from tessera.hardware import RISCV_PRESETS, RiscvConfig
from tessera.host import lowered_copy
from tessera.mlir import ir
from tessera.passes.outline_linalg import noalias_pointers
from tessera.target import Report, Target

from tessera.targets.riscv import toolchain


def can_run() -> tuple[bool, str]:
    """Whether programs can be linked and run here, and why not."""
    missing = toolchain.missing_tools()
    if missing:
        return False, (f"{' and '.join(missing)} not found (Debian: apt-get install "
                       f"qemu-user gcc-riscv64-linux-gnu)")
    return True, ""


@dataclass
class RiscvReport(Report):
    """The built program (its files, kept while the report lives) and, once measured,
    the instructions one run executed."""

    directory: object = None  # a TemporaryDirectory: removed with this report
    outputs: list = field(default_factory=list)
    binary: Path | None = None
    why_not: str = ""
    instructions: int | None = None  # in the model's code, for the last measured run
    instructions_total: int | None = None  # in the whole program (harness, libc)
    instructions_weighted: int | None = None  # the model's, weighted by LMUL (toolchain.Counts)

    @property
    def path(self) -> Path:
        return Path(self.directory.name)

    @property
    def vlen(self) -> int:
        return self.hw.vlen

    def run(self, arrays):
        if self.binary is None:
            raise TesseraError(f"target riscv compiled to {self.path} but cannot run here: "
                               f"{self.why_not}")
        return toolchain.run(self.binary, self.vlen, arrays, self.outputs)[0]

    def count_instructions(self, arrays) -> toolchain.Counts:
        """Instructions one run executes: in the model's code, in the whole program, and
        the model's weighted by register-group size."""
        if self.binary is None:
            raise TesseraError(f"cannot count instructions here: {self.why_not}")
        counts = toolchain.count_instructions(self.binary, self.vlen, arrays, self.outputs)
        self.instructions, self.instructions_total, self.instructions_weighted = counts
        return counts

    def measures(self) -> dict[str, float]:
        if self.instructions is None:
            return {}
        measured = {"instructions": self.instructions}
        if self.instructions_weighted is not None:
            measured["instructions_weighted"] = self.instructions_weighted
        return measured

    def summary(self) -> str:
        if self.instructions is None:
            return ""
        weighted = ("" if self.instructions_weighted is None
                    else f", {self.instructions_weighted} LMUL-weighted")
        return f"{self.instructions} instructions{weighted} (RVV VLEN {self.vlen})"


def converts_float_to_int(llvm_ir: str) -> bool:
    """Whether the model converts floats to integers (fptosi/fptoui). LLVM's vectorizers
    turn those into RVV `vfcvt.rtz.*` instructions, on which QEMU 7.2's user mode (the
    one Debian 12 ships) aborts in its translator ("decode_save_opc: Assertion"); such
    models are compiled without LLVM's auto-vectorizers (tessera's explicit RVV matmul
    kernels are unaffected)."""
    return " = fptosi " in llvm_ir or " = fptoui " in llvm_ir


class Riscv(Target[RiscvConfig]):
    """A RISC-V hart with RVV, programs run under QEMU user mode."""

    name, hw_type, presets, default_preset = "riscv", RiscvConfig, RISCV_PRESETS, "rvv-256"

    def available(self) -> tuple[bool, str]:
        """Compiling needs only llvmlite; running needs QEMU and the cross linker."""
        try:
            import llvmlite  # noqa: F401
        except ImportError:
            return False, "llvmlite is not installed (pip install llvmlite==0.50.0)"
        return True, ""

    def can_run(self) -> tuple[bool, str]:
        return can_run()

    def pipeline(self, context: ir.Context, hw: RiscvConfig):
        from tessera.pipelines import riscv

        return riscv.pipeline(context, hw)

    def build(self, module, hw: RiscvConfig, func_name, signature):
        lowered, outputs = lowered_copy(module, func_name)
        noalias_pointers(lowered)
        llvm_ir = llvm.to_llvm_ir(lowered)
        directory = tempfile.TemporaryDirectory(prefix="tessera-riscv-")
        root = Path(directory.name)
        (root / "model.ll").write_text(llvm_ir)
        vectorize = hw.vector and not converts_float_to_int(llvm_ir)
        (root / "model.o").write_bytes(toolchain.emit_object(llvm_ir, hw.vlen, vectorize,
                                                                   hw.unroll))
        (root / "harness.c").write_text(toolchain.harness_source(signature, outputs))
        report = RiscvReport(self.name, hw, directory=directory, outputs=outputs)
        ok, why = can_run()
        if ok:
            report.binary = toolchain.link(root)
        else:
            report.why_not = why
        return report.run, report

    def measure(self, executable, arrays) -> Report:
        """Count the instructions one run executes (under QEMU, with tessera's plugin)."""
        executable.report.count_instructions(arrays)
        return executable.report


TARGET = Riscv()
