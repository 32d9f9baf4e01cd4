"""The target contract: one typed interface every target implements, and the registry
that finds targets by name.

A target is one class: its `name`, the type of its hardware description (`hw_type`,
a dataclass of knobs) and `presets`, whether it is `available()` here and `can_run()`
its programs (each with the reason when not), the `pipeline` it runs for a hardware
description, and `compile`, which returns an `Executable` (a callable on numpy arrays)
whose `report` extends `Report`: timings, one row per kernel, and the target's own
measure as named fields. `measure` fills in measures that need a run (executed
instructions); `evaluate` runs a module at any stage of the target's own pipeline
(what `tessera check` bisects with).

The matrix, the checker, the tools and `tessera.compile` hold a `Target` and never ask
which one it is. The shared machinery targets build on (host JIT, IREE, LLVM) lives in
the core: tessera.host, tessera.iree, tessera.llvm.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

import numpy as np

from tessera.errors import TesseraError, suggest
from tessera.executable import (Executable, TensorSpec, declared_dtypes, entry_function,
                                 entry_signature)
from tessera.mlir import ir

HW = TypeVar("HW")


@dataclass
class Report:
    """What every target reports about a compiled program.

    `timings` holds import_s, passes_s, backend_s, compile_s (their sum) and, after a
    call, run_s. `kernels` holds one row per kernel (a dict: name first, then what the
    target knows about it). `measures()` is the target's own measure as named numbers
    (simulated cycles, executed instructions): empty when the target measures nothing
    beyond time, or before `Target.measure` ran where the measure needs a run.
    """

    target: str
    hw: object
    timings: dict = field(default_factory=dict)

    def kernel_rows(self) -> list[dict]:
        """One row per kernel."""
        return []

    def measures(self) -> dict[str, float]:
        """The target's own measure, as named numbers."""
        return {}

    def details(self) -> dict[str, object]:
        """What the target knows about the whole program beyond `measures()`, as named
        numbers and short strings (one flat row: what a sweep records per point)."""
        return {}

    def summary(self) -> str:
        """One line: the measures, as the matrix shows them."""
        return ", ".join(f"{k} {number_text(v)}" for k, v in self.measures().items())

    def trace(self) -> dict:
        """The run as Chrome trace-event JSON (opens in Perfetto), where the target
        models time per engine."""
        raise TesseraError(f"target {self.target} writes no trace")

    def write_trace(self, path: str) -> None:
        """Write `trace()` as JSON to `path`."""
        import json

        from tessera.files import write_text

        write_text(path, json.dumps(self.trace()), "trace file")

    def table(self) -> str:
        """A text table: one row per kernel, then the measures."""
        rows = self.kernel_rows()
        lines = [f"{self.target} ({getattr(self.hw, 'name', self.hw)})"]
        if rows:
            keys = list(rows[0])
            lines += aligned(keys, [[number_text(r.get(k, "")) for k in keys] for r in rows])
        if self.measures():
            lines.append(self.summary())
        return "\n".join(lines)


def aligned(keys: list[str], cells: list[list[str]]) -> list[str]:
    """A header line of `keys` and one line per row of `cells`, in columns two spaces
    apart, each as wide as its widest entry."""
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in [keys, *cells]]


def number_text(x) -> str:
    """A number as tables show it: 3 significant digits for floats, thousands separators
    from 10,000 on."""
    if isinstance(x, float):
        return f"{x:.3g}"
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:,}" if abs(x) >= 10000 else str(x)
    return str(x)


class Target(Generic[HW]):
    """The contract every target implements (see the module docstring).

    Subclasses set `name`, `hw_type`, `presets`, `default_preset` (and `variants`, preset
    suffixes like `:ideal`), and implement `pipeline` and `build`; `compile` is the same
    for all: resolve the hardware, read the entry signature, run the pipeline, build.
    """

    name: ClassVar[str]
    hw_type: ClassVar[type]
    presets: ClassVar[dict]
    default_preset: ClassVar[str]
    variants: ClassVar[dict] = {}

    def available(self) -> tuple[bool, str]:
        """Whether this target can compile here, and why not."""
        return True, ""

    def can_run(self) -> tuple[bool, str]:
        """Whether programs compiled here can run here, and why not."""
        return self.available()

    def hardware(self, hw=None) -> HW:
        """The hardware description `hw` names: an instance of `hw_type`, None (the
        default preset) or a spec `preset[:variant][,field=value...]`."""
        from tessera.hardware import resolve

        return resolve(hw, self.hw_type, self.presets, self.default_preset,
                       variants=self.variants)

    def pipeline(self, context: ir.Context, hw: HW):
        """The tessera passes this target runs for `hw` (a `tessera.pipeline.Pipeline`)."""
        raise NotImplementedError

    def build(self, module: ir.Module, hw: HW, func_name: str,
              signature: list[TensorSpec]) -> tuple[object, Report]:
        """(runner, report) for a module the pipeline has run on: the backend's work.
        A runner maps a list of input arrays to a tuple of output arrays."""
        raise NotImplementedError

    def compile(self, module: ir.Module, hw=None, *, func_name: str = "main") -> Executable:
        """Compile `module` (linalg on tensors; changed in place) for `hw`."""
        ok, why = self.available()
        if not ok:
            raise TesseraError(f"target {self.name} is not available here: {why}")
        config = self.hardware(hw)
        signature = entry_signature(module, func_name)
        views = declared_dtypes(entry_function(module, func_name), results=True)
        passes_s = self.run_pipeline(module, config)
        start = time.perf_counter()
        with module.context, ir.Location.unknown():
            runner, report = self.build(module, config, func_name, signature)
        report.timings.update(passes_s=passes_s, backend_s=time.perf_counter() - start)
        return Executable(self.name, runner, signature, report, views)

    def run_pipeline(self, module: ir.Module, config: HW) -> float:
        """Run `pipeline(config)` on `module`; the seconds it took."""
        start = time.perf_counter()
        with module.context, ir.Location.unknown():
            self.pipeline(module.context, config).run(module)
        return time.perf_counter() - start

    def front(self, context: ir.Context):
        """The start of `pipeline(hw)` that is the same for every hardware description
        (a `tessera.pipeline.Pipeline`), or None: what a sweep runs once per model. A
        module that has been through it compiles to the same program (its passes have
        nothing left to do the second time)."""
        return None

    def estimate(self, module: ir.Module, hw=None) -> Report:
        """The report of `module` (linalg on tensors, possibly through `front`; changed in
        place) compiled for `hw`, without building anything to run, for targets whose
        measures depend only on the program (a sweep's timing-only mode)."""
        raise TesseraError(f"target {self.name} has no report without a run (its measures "
                           f"come from running the program)")

    def measure(self, executable: Executable, arrays) -> Report:
        """The report with the measures that need a run on `arrays` filled in (nothing
        to do for targets whose measure depends only on the program)."""
        return executable.report

    def understands(self, module: ir.Module) -> bool:
        """Whether `module` holds code only this target's `evaluate` can run (kernels
        of its own kind); the reference evaluates everything else."""
        return False

    def add_preset(self, name: str, config: HW) -> None:
        """Add hardware preset `name` (plugins do, through tessera.plugin)."""
        from dataclasses import replace

        self.presets[name] = replace(config, name=name)

    def evaluate(self, module: ir.Module, arrays, func_name: str = "main") -> tuple[np.ndarray, ...]:
        """Run `module`, at any stage of this target's pipeline, on `arrays` with the
        reference semantics; `module` is not changed."""
        from tessera.reference import evaluate

        return evaluate(module, arrays, func_name)


# Name -> "module:attribute" of the Target instance, imported only when asked for, or
# the Target itself (a plugin's).
TARGETS = {
    "iree-cpu": "tessera.targets.iree_cpu:TARGET",
    "cpu-amx": "tessera.targets.cpu_amx:TARGET",
    "npu-sim": "tessera.targets.npu_sim:TARGET",
    "riscv": "tessera.targets.riscv:TARGET",
    "gpu-cuda": "tessera.targets.gpu:CUDA",
    "gpu-rocm": "tessera.targets.gpu:ROCM",
    "gpu-vulkan": "tessera.targets.gpu:VULKAN",
}


def get_target(name) -> Target:
    """The target called `name` (tessera's or a plugin's); an unknown name lists the
    known ones."""
    from tessera.plugin import load_entry_points

    if isinstance(name, Target):
        return name
    load_entry_points()
    if not isinstance(name, str) or name not in TARGETS:
        shown = f"'{name}'" if isinstance(name, str) else f"{name!r} ({type(name).__name__})"
        raise TesseraError(f"unknown target {shown}{suggest(name, TARGETS)} "
                           f"(targets: {', '.join(TARGETS)})")
    entry = TARGETS[name]
    if isinstance(entry, Target):
        return entry
    module_name, _, attribute = entry.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def all_targets() -> list[Target]:
    """Every target, tessera's and plugins', in the registry's order."""
    from tessera.plugin import load_entry_points

    load_entry_points()
    return [get_target(name) for name in list(TARGETS)]


def evaluate(module: ir.Module, arrays, func_name: str = "main", target=None):
    """Run `module` (any stage of any tessera pipeline) on `arrays`: by `target`'s
    `evaluate` when given, else by the target that understands its kernels, else by the
    reference interpreter; `module` is not changed."""
    from tessera.reference import evaluate as reference

    if target is None:
        target = next((t for t in all_targets() if t.understands(module)), None)
    if target is None:
        return reference(module, arrays, func_name)
    return get_target(target).evaluate(module, arrays, func_name)
