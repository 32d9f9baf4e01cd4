"""Targets `gpu-cuda`, `gpu-rocm`, `gpu-vulkan`: GPUs through IREE, with tessera's tiles.

tessera does not generate GPU code itself. `pipelines.gpu` maps matmuls onto the chip's
MMA intrinsic (the `systolic` engine) and decides workgroup tiles, subgroup split and
pipelining depth (the `tile` level); the module then goes to `iree-compile` as text with
those decisions as IREE `compilation_info` attributes, which IREE's codegen follows
instead of its own heuristics. The dumped executable configurations (what IREE decided
per dispatch) are kept, so tests and users can see that tessera's tiles reached the
dispatch.

Compiling needs only the IREE compiler; running needs a device that IREE's runtime finds
through its `cuda`, `hip` or `vulkan` driver (`can_run`). Without one the executable is
compile-only: calling it raises an error that says why, and `executable.report` keeps
the vmfb and the dumped IR.

Hopper: IREE 3.13 has no known-target entry for `sm_90` (`--iree-cuda-target=sm_90`
fails with "missing GPU target"). The `h100` preset therefore describes the chip to
IREE in full, as `hal.device.targets` on the module: arch sm_90, PTX 8.0, Ampere-class
mma.sync intrinsics (IREE 3.13 has no wgmma) and Hopper's 227 KiB of shared memory. The
PTX it produces says `.target sm_90`.
"""

from __future__ import annotations

import functools
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tessera.errors import TesseraError
from tessera.executable import Executable, entry_signature
from tessera.hardware import GpuConfig, gpu_preset
from tessera.mlir import ir

# tessera api -> IREE HAL device (compiler) and runtime driver name.
HAL_DEVICE = {"cuda": "cuda", "rocm": "hip", "vulkan": "vulkan"}
_ARCH_FLAG = {"cuda": "--iree-cuda-target", "rocm": "--iree-rocm-target",
              "vulkan": "--iree-vulkan-target"}
_FEATURES_FLAG = {"cuda": "--iree-cuda-target-features", "rocm": "--iree-rocm-target-features",
                  "vulkan": "--iree-vulkan-target-features"}


def available() -> tuple[bool, str]:
    """Compiling for a GPU needs the IREE compiler and runtime pip packages only."""
    try:
        import iree.compiler  # noqa: F401
        import iree.runtime  # noqa: F401
    except ImportError as e:
        return False, (f"IREE is not installed ({e}); "
                       f"pip install iree-base-compiler iree-base-runtime")
    return True, ""


@functools.cache
def can_run(api: str) -> tuple[bool, str]:
    """Whether IREE's runtime finds a device for `api` here (driver loads and lists at
    least one device), and why not."""
    ok, why = available()
    if not ok:
        return False, why
    import iree.runtime as ireert

    driver_name = HAL_DEVICE[api]
    if driver_name not in ireert.query_available_drivers():
        return False, f"this IREE runtime has no {driver_name} driver"
    try:
        devices = ireert.get_driver(driver_name).query_available_devices()
    except (RuntimeError, ValueError) as e:
        # The driver's shared library (libcuda, libamdhip64, libvulkan) is missing.
        detail = str(e).split(";", 1)[-1].strip().splitlines()[0].rstrip(": ")
        return False, f"IREE's {driver_name} driver cannot start: {detail}"
    if not devices:
        return False, f"IREE's {driver_name} driver finds no device"
    return True, ""


def target_flags(config: GpuConfig) -> list[str]:
    """iree-compile flags that select the device (none when the module names it)."""
    if config.explicit_target:
        return []
    flags = [f"--iree-hal-target-device={HAL_DEVICE[config.api]}",
             f"{_ARCH_FLAG[config.api]}={config.arch}"]
    if config.features:
        flags.append(f"{_FEATURES_FLAG[config.api]}={config.features}")
    return flags


def explicit_target(config: GpuConfig) -> str:
    """`#hal.device.target<...>` describing a CUDA chip IREE has no entry for."""
    if config.api != "cuda":
        raise TesseraError(f"explicit_target is only for cuda configs, not {config.api}")
    mma = ", ".join(f"<{m}>" for m in config.mma)
    wgp = (f"compute = fp64|fp32|fp16|int64|int32|int16|int8, storage = b64|b32|b16|b8, "
           f"subgroup = shuffle|arithmetic, dot = dp4xi8toi32, mma = [{mma}], "
           f"subgroup_size_choices = [{config.subgroup_size}], "
           f"max_workgroup_sizes = [1024, 1024, 1024], max_thread_count_per_workgroup = 1024, "
           f"max_workgroup_memory_bytes = {config.shared_memory_bytes}, "
           f"max_workgroup_counts = [2147483647, 65535, 65535]")
    target = (f'#iree_gpu.target<arch = "{config.arch}", features = "{config.features}", '
              f"wgp = <{wgp}>>")
    return (f'#hal.device.target<"cuda", [#hal.executable.target<"cuda", "cuda-nvptx-fb", '
            f"{{iree_codegen.target_info = {target}}}>]> : !hal.device")


_MODULE = re.compile(r"^module( attributes \{)?", re.MULTILINE)


def with_device_target(text: str, config: GpuConfig) -> str:
    """Module text with `hal.device.targets` naming the chip (for explicit targets)."""
    if not config.explicit_target:
        return text
    entry = f"hal.device.targets = [{explicit_target(config)}]"
    match = _MODULE.search(text)
    if match is None:
        raise TesseraError("the module text has no top-level 'module' to put the GPU target on")
    if match.group(1):
        return text[:match.end()] + entry + ", " + text[match.end():]
    return text[:match.end()] + f" attributes {{{entry}}}" + text[match.end():]


@dataclass
class GpuReport:
    """What a GPU compile leaves behind: the vmfb, IREE's per-dispatch configurations,
    tessera's compilation infos, and whether (or why not) it runs here."""

    config: GpuConfig
    directory: object  # a TemporaryDirectory holding the files; removed with the report
    vmfb_path: Path
    configurations_dir: Path
    compilation_infos: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    why_not: str = ""
    input_text: str = ""  # what iree-compile was given

    def dispatch_configurations(self) -> str:
        """The dumped executable configurations, all dispatches, as one text."""
        return "\n".join(p.read_text() for p in sorted(self.configurations_dir.glob("*.mlir")))


def build(text: str, config: GpuConfig, directory: Path) -> tuple[bytes, list[str]]:
    """iree-compile `text` (already naming its device when the config says so) for
    `config`'s device; dumps the per-dispatch configurations into `directory`."""
    import iree.compiler as ireec

    flags = target_flags(config) + [
        f"--iree-hal-dump-executable-configurations-to={directory / 'configurations'}"]
    try:
        vmfb = ireec.compile_str(text, extra_args=flags)
    except ireec.CompilerToolError as e:
        raise TesseraError(f"IREE could not compile the module for {config.api} "
                           f"({config.arch}):\n{e}") from None
    return vmfb, flags


def pipeline(api: str, context: ir.Context, hw=None):
    """The tessera passes for the `api` GPU `hw` (a preset name or a GpuConfig)."""
    from tessera.pipelines import gpu

    return gpu.pipeline(context, gpu_preset(hw, api))


def compile(api: str, module: ir.Module, hw=None, *, func_name: str = "main") -> Executable:
    """Run the GPU pipeline on `module` (in place) for `hw` (a preset name or GpuConfig
    of this api; default a100 / mi300 / vulkan-ampere), then iree-compile it."""
    from tessera.passes.systolic_to_iree_gpu import to_iree_text
    from tessera.pipelines.gpu import pipeline

    name = f"gpu-{api}"
    ok, why = available()
    if not ok:
        raise TesseraError(f"target {name} is not available here: {why}")
    config = gpu_preset(hw, api)
    signature = entry_signature(module, func_name)
    start = time.perf_counter()
    pipeline(module.context, config).run(module)
    text, infos = to_iree_text(str(module), module.context)
    text = with_device_target(text, config)
    passes_s = time.perf_counter() - start
    directory = tempfile.TemporaryDirectory(prefix=f"tessera-{name}-")
    path = Path(directory.name)
    start = time.perf_counter()
    vmfb, flags = build(text, config, path)
    backend_s = time.perf_counter() - start
    (path / "module.vmfb").write_bytes(vmfb)
    runnable, why_not = can_run(api)
    report = GpuReport(config, directory, path / "module.vmfb", path / "configurations", infos,
                       flags, why_not, text)
    runner = _runner(vmfb, api, func_name) if runnable else _cannot_run(name, report)
    return Executable(name, runner, signature, {"passes_s": passes_s, "backend_s": backend_s},
                      report)


def _cannot_run(name: str, report: GpuReport):
    def run(arrays):
        raise TesseraError(f"target {name} compiled to {report.vmfb_path} but cannot run "
                           f"here: {report.why_not}")

    return run


def _runner(vmfb: bytes, api: str, func_name: str):
    from tessera.targets.iree_cpu import runner

    return runner(vmfb, func_name, HAL_DEVICE[api])


def main(argv=None) -> int:
    """`python -m tessera.targets.gpu FILE.mlir --target gpu-cuda [--hw PRESET]
    [--print configurations|input]`: compile FILE (linalg on tensors) for a GPU and print
    IREE's per-dispatch configurations (default) or the text tessera gave iree-compile.
    Works on any machine: nothing is run."""
    import argparse
    import sys

    import tessera

    parser = argparse.ArgumentParser(prog="python -m tessera.targets.gpu", description=main.__doc__)
    parser.add_argument("source")
    parser.add_argument("--target", required=True, choices=[f"gpu-{a}" for a in HAL_DEVICE])
    parser.add_argument("--hw", default=None, help="a GPU preset (tessera.hardware.GPU_PRESETS)")
    parser.add_argument("--print", dest="what", default="configurations",
                        choices=["configurations", "input"])
    args = parser.parse_args(argv)
    try:
        text = Path(args.source).read_text()
        executable = tessera.compile(text, target=args.target, hw=args.hw, source_name=args.source)
    except (TesseraError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    report = executable.report
    if args.what == "input":
        print(report.input_text)
    else:
        print(report.dispatch_configurations())
    return 0


@dataclass(frozen=True)
class GpuTarget:
    """The target interface (NAME, available, can_run, pipeline, compile) of one api:
    what `tessera.targets.get_target("gpu-cuda")` returns."""

    api: str

    @property
    def NAME(self) -> str:  # noqa: N802 (the attribute every target module has)
        return f"gpu-{self.api}"

    def available(self) -> tuple[bool, str]:
        return available()

    def can_run(self) -> tuple[bool, str]:
        return can_run(self.api)

    def pipeline(self, context: ir.Context, hw=None):
        return pipeline(self.api, context, hw)

    def compile(self, module: ir.Module, hw=None, *, func_name: str = "main") -> Executable:
        return compile(self.api, module, hw, func_name=func_name)


def target(api: str) -> GpuTarget:
    """The gpu-`api` target (api: cuda, rocm or vulkan)."""
    return GpuTarget(api)


if __name__ == "__main__":
    raise SystemExit(main())
