"""Target `iree-cpu`: the plain reference path, linalg on tensors through IREE's llvm-cpu
backend, run by IREE's local-task runtime on this CPU.

The module reaches IREE as text: IREE has its own copy of MLIR and no objects cross
between the two. Before that, `pipelines.iree_cpu` runs tessera's passes, so the
reference path goes through the `systolic` dialect and back.
"""

from __future__ import annotations

import dataclasses

from tessera import iree
from tessera.errors import TesseraError
from tessera.executable import result_signature
from tessera.hardware import IREE_CPU_PRESETS, IreeCpuConfig
from tessera.mlir import ir
from tessera.target import Report, Target


def flags(hw: IreeCpuConfig) -> list[str]:
    """iree-compile's flags for `hw`. With data tiling, stack allocations may take 64 KiB
    (IREE's default limit, 32 KiB, fails on GPT-2's attention with data tiling, "exceeded
    stack allocation limit"; IREE's runtime workers have 128 KiB stacks)."""
    out = [f"--iree-llvmcpu-target-cpu={hw.cpu}", *iree.CPU_FLAGS]
    if hw.data_tiling:
        out += ["--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=all",
                "--iree-llvmcpu-stack-allocation-limit=65536"]
    if hw.im2col:
        out.append("--iree-global-opt-use-im2col-for-convs")
    if hw.peel:
        out.append("--iree-llvmcpu-vector-pproc-strategy=peel")
    if hw.reassociate:
        out.append("--iree-llvmcpu-reassociate-fp-reductions=true")
    if hw.system_link:
        out.append("--iree-llvmcpu-link-embedded=false")
    return out


def compile_linked(text: str, hw: IreeCpuConfig) -> tuple[bytes, IreeCpuConfig]:
    """IREE's vmfb for `text` with `hw`, and the settings it was built with. IREE links
    its code into self-contained objects without the C math library, so a function it
    has no code of its own for (f64 sin, cos, atan2, pow; f32 log10) is an undefined
    symbol there: the module is then linked again by the system linker into a shared
    library, which the process's math library completes when IREE loads it."""
    what = "IREE could not compile the module for llvm-cpu"
    try:
        return iree.compile_text(text, flags(hw), what, ["llvm-cpu"]), hw
    except TesseraError as e:
        if hw.system_link or "undefined symbol" not in str(e):
            raise
        first = e
    linked = dataclasses.replace(hw, system_link=True)
    try:
        return iree.compile_text(text, flags(linked), what, ["llvm-cpu"]), linked
    except TesseraError as e:
        reason = (str(e).splitlines()[1:] or [""])[0]
        raise TesseraError(f"{first}\nlinking it with the system linker instead failed too: "
                           f"{reason}") from None


def fallbacks(hw: IreeCpuConfig) -> list[IreeCpuConfig]:
    """`hw`, then `hw` without im2col, then without data tiling either (those it has)."""
    out = [hw]
    if hw.im2col:
        out.append(dataclasses.replace(out[-1], im2col=False))
    if hw.data_tiling:
        out.append(dataclasses.replace(out[-1], data_tiling=False))
    return out


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
        """IREE compiles with `hw`'s settings; where IREE 3.13 fails on them (its im2col
        breaks NHWC depthwise convolutions of batch > 1, data tiling fails on some
        fusions) it compiles again without im2col, then without data tiling either, and
        code calling the C math library is linked by the system linker (`compile_linked`);
        the report's hw is what ran. An error is IREE's on its plainest settings."""
        text, configs = str(module), fallbacks(hw)
        for config in configs:
            try:
                vmfb, config = compile_linked(text, config)
                break
            except TesseraError as e:  # settings do not change what the code calls
                if config is configs[-1] or "undefined symbol" in str(e):
                    raise
        outputs = result_signature(module, func_name, dynamic=True)  # IREE sizes them
        return iree.Runner(vmfb, func_name, outputs=outputs), Report(self.name, config)


TARGET = IreeCpu()
