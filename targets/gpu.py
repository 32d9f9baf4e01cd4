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
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tessera import iree
from tessera.errors import TesseraError
from tessera.executable import result_signature
from tessera.hardware import GPU_DEFAULT_PRESET, GPU_PRESETS, GpuConfig, gpu_preset, gpu_presets
from tessera.mlir import ir
from tessera.target import Report, Target

# tessera api -> IREE HAL device (compiler) and runtime driver name.
HAL_DEVICE = {"cuda": "cuda", "rocm": "hip", "vulkan": "vulkan"}
_ARCH_FLAG = {"cuda": "--iree-cuda-target", "rocm": "--iree-rocm-target",
              "vulkan": "--iree-vulkan-target"}
_FEATURES_FLAG = {"cuda": "--iree-cuda-target-features", "rocm": "--iree-rocm-target-features",
                  "vulkan": "--iree-vulkan-target-features"}


@functools.cache
def can_run(api: str) -> tuple[bool, str]:
    """Whether IREE's runtime finds a device for `api` here (driver loads and lists at
    least one device), and why not."""
    ok, why = iree.available()
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
    """`#hal.device.target<...>` describing a CUDA chip IREE has no entry for (IREE's
    syntax, written by hand: tessera's bindings cannot build IREE's attributes)."""
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


def device_text(module: ir.Module, hw: GpuConfig) -> tuple[str, list[str]]:
    """(text for iree-compile, compilation infos): the module with tessera's tiles as
    IREE's compilation_info and, for explicit targets, the chip described on it."""
    from tessera.passes.systolic_to_iree_gpu import iree_module

    extra = {"hal.device.targets": f"[{explicit_target(hw)}]"} if hw.explicit_target else {}
    return iree_module(module, extra)


def compile_vmfb(text: str, hw: GpuConfig, directory: Path) -> tuple[bytes, list[str]]:
    """(vmfb, flags): iree-compile `text` for `hw`'s device, dumping the per-dispatch
    configurations into `directory`/configurations."""
    flags = target_flags(hw) + [
        f"--iree-hal-dump-executable-configurations-to={directory / 'configurations'}"]
    vmfb = iree.compile_text(text, flags, f"IREE could not compile the module for "
                                          f"{hw.api} ({hw.arch})")
    return vmfb, flags


@dataclass
class GpuReport(Report):
    """What a GPU compile leaves behind: the vmfb, IREE's per-dispatch configurations,
    tessera's compilation infos, and whether (or why not) it runs here."""

    directory: object = None  # a TemporaryDirectory holding the files; removed with the report
    vmfb_path: Path | None = None
    configurations_dir: Path | None = None
    compilation_infos: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    why_not: str = ""
    input_text: str = ""  # what iree-compile was given

    @property
    def config(self) -> GpuConfig:
        return self.hw

    def kernel_rows(self) -> list[dict]:
        return [{"dispatch": i, "compilation_info": info}
                for i, info in enumerate(self.compilation_infos)]

    def dispatch_configurations(self) -> str:
        """The dumped executable configurations, all dispatches, as one text."""
        return "\n".join(p.read_text() for p in sorted(self.configurations_dir.glob("*.mlir")))


class Gpu(Target[GpuConfig]):
    """A GPU through IREE (`api`: cuda, rocm or vulkan), with tessera's tiles."""

    hw_type = GpuConfig

    def __init__(self, api: str):
        self.api = api
        self.name = f"gpu-{api}"
        self.presets = gpu_presets(api)
        self.default_preset = GPU_DEFAULT_PRESET[api]

    def available(self) -> tuple[bool, str]:
        """Compiling for a GPU needs the IREE compiler and runtime pip packages only."""
        return iree.available()

    def can_run(self) -> tuple[bool, str]:
        return can_run(self.api)

    def hardware(self, hw=None) -> GpuConfig:
        # Every GPU preset resolves, so that one of another api gets a clear error.
        return gpu_preset(hw, self.api)

    def add_preset(self, name: str, config: GpuConfig) -> None:
        if config.api != self.api:
            raise TesseraError(f"gpu preset '{name}' is for {config.api}, not {self.api}")
        super().add_preset(name, config)
        GPU_PRESETS[name] = self.presets[name]

    def pipeline(self, context: ir.Context, hw: GpuConfig):
        from tessera.pipelines import gpu

        return gpu.pipeline(context, hw)

    def build(self, module, hw: GpuConfig, func_name, signature):
        text, infos = device_text(module, hw)
        directory = tempfile.TemporaryDirectory(prefix=f"tessera-{self.name}-")
        path = Path(directory.name)
        vmfb, flags = compile_vmfb(text, hw, path)
        (path / "module.vmfb").write_bytes(vmfb)
        runnable, why_not = can_run(self.api)
        report = GpuReport(self.name, hw, directory=directory, vmfb_path=path / "module.vmfb",
                           configurations_dir=path / "configurations", compilation_infos=infos,
                           flags=flags, why_not=why_not, input_text=text)
        if runnable:
            return iree.Runner(vmfb, func_name, HAL_DEVICE[self.api],
                               result_signature(module, func_name)), report
        return _cannot_run(self.name, report), report


def _cannot_run(name: str, report: GpuReport):
    def run(arrays):
        raise TesseraError(f"target {name} compiled to {report.vmfb_path} but cannot run "
                           f"here: {report.why_not}")

    return run


CUDA, ROCM, VULKAN = Gpu("cuda"), Gpu("rocm"), Gpu("vulkan")


def main(argv=None) -> int:
    """`python -m tessera.targets.gpu FILE.mlir --target gpu-cuda [--hw PRESET]
    [--print configurations|input]`: compile FILE (linalg on tensors) for a GPU and print
    IREE's per-dispatch configurations (default) or the text tessera gave iree-compile.
    Works on any machine: nothing is run."""
    import argparse

    import tessera
    from tessera.files import read_text
    from tessera.errors import print_error

    parser = argparse.ArgumentParser(prog="python -m tessera.targets.gpu", description=main.__doc__)
    parser.add_argument("source")
    parser.add_argument("--target", required=True, choices=[f"gpu-{a}" for a in HAL_DEVICE])
    parser.add_argument("--hw", default=None, help="a GPU preset (tessera.hardware.GPU_PRESETS)")
    parser.add_argument("--print", dest="what", default="configurations",
                        choices=["configurations", "input"])
    args = parser.parse_args(argv)
    try:
        text = read_text(args.source)
        executable = tessera.compile(text, target=args.target, hw=args.hw, source_name=args.source)
    except TesseraError as e:
        print_error(str(e))
        return 1
    report = executable.report
    print(report.input_text if args.what == "input" else report.dispatch_configurations())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
