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
    if not hw.inline_constants:
        out.append("--iree-flow-inline-constants-max-byte-length=0")
    return out


# What IREE 3.13 says where its own settings fail on a module, the setting that compiles
# it instead, and that setting in words.
ADAPTATIONS = (
    # IREE links its code into self-contained objects without the C math library: a
    # function it has no code of its own for (f64 sin, cos, atan2, pow; f32 log10) is an
    # undefined symbol there. A shared library by the system linker is completed by the
    # process's math library when IREE loads it.
    ("undefined symbol", {"system_link": True}, "linking it with the system linker"),
    # IREE's bf16 emulation turns bf16 into i16 but not a bf16 `dense_resource` constant
    # inlined into a dispatch (bf16 LayerNorm, BatchNorm, Conv2d weights).
    ("failed to verify that all of {value, result} have same type",
     {"inline_constants": False}, "compiling it without constants inlined into dispatches"),
)


def _adaptation(error: TesseraError, hw: IreeCpuConfig):
    """The entry of ADAPTATIONS for `error` whose setting `hw` does not have yet, or None."""
    return next((entry for entry in ADAPTATIONS if entry[0] in str(error)
                 and any(getattr(hw, k) != v for k, v in entry[1].items())), None)


def compile_adapted(text: str, hw: IreeCpuConfig) -> tuple[bytes, IreeCpuConfig]:
    """IREE's vmfb for `text` with `hw`, and the settings it was built with: where IREE
    fails in one of the ways ADAPTATIONS lists, with that setting changed."""
    what = "IREE could not compile the module for llvm-cpu"
    first, tried = None, []
    while True:
        try:
            return iree.compile_text(text, flags(hw), what, ["llvm-cpu"]), hw
        except TesseraError as e:
            entry = _adaptation(e, hw)
            if entry is None and first is None:
                raise
            if entry is None:
                reason = (str(e).splitlines()[1:] or [""])[0]
                raise TesseraError(f"{first}\n{' and '.join(tried)} instead failed too: "
                                   f"{reason}") from None
            first = first or e
            tried.append(entry[2])
            hw = dataclasses.replace(hw, **entry[1])


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
        where it fails in the ways ADAPTATIONS lists, with the setting that avoids that
        (`compile_adapted`); the report's hw is what ran. An error is IREE's on its
        plainest settings."""
        text, configs = str(module), fallbacks(hw)
        for config in configs:
            try:
                vmfb, config = compile_adapted(text, config)
                break
            except TesseraError as e:  # those failures are not im2col's or data tiling's
                if config is configs[-1] or any(said in str(e) for said, *_ in ADAPTATIONS):
                    raise
        outputs = result_signature(module, func_name, dynamic=True)  # IREE sizes them
        return iree.Runner(vmfb, func_name, outputs=outputs), Report(self.name, config)


TARGET = IreeCpu()
