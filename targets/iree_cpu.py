"""Target `iree-cpu`: the plain reference path, linalg on tensors through IREE's llvm-cpu
backend, run by IREE's local-task runtime on this CPU.

The module reaches IREE as text: IREE has its own copy of MLIR and no objects cross
between the two. Before that, `pipelines.iree_cpu` runs tessera's passes, so the
reference path goes through the `systolic` dialect and back.
"""

from __future__ import annotations

from tessera import iree
from tessera.executable import result_signature
from tessera.hardware import IREE_CPU_PRESETS, IreeCpuConfig
from tessera.mlir import ir
from tessera.target import Report, Target


class IreeCpu(Target[IreeCpuConfig]):
    """linalg on tensors -> IREE llvm-cpu, run on this CPU."""

    name, hw_type, presets, default_preset = "iree-cpu", IreeCpuConfig, IREE_CPU_PRESETS, "host"

    def available(self) -> tuple[bool, str]:
        """iree-cpu needs only the pip packages iree-base-compiler and iree-base-runtime."""
        return iree.available()

    def pipeline(self, context: ir.Context, hw: IreeCpuConfig):
        from tessera.pipelines import iree_cpu

        return iree_cpu.pipeline(context, hw)

    def build(self, module, hw: IreeCpuConfig, func_name, signature):
        flags = [f"--iree-llvmcpu-target-cpu={hw.cpu}", *iree.CPU_FLAGS]
        if hw.data_tiling:
            flags += ["--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=all"]
        vmfb = iree.compile_text(str(module), flags,
                                 "IREE could not compile the module for llvm-cpu", ["llvm-cpu"])
        outputs = result_signature(module, func_name, dynamic=True)  # IREE sizes them
        return iree.Runner(vmfb, func_name, outputs=outputs), Report(self.name, hw)


TARGET = IreeCpu()
