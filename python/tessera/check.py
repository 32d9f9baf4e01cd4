"""Differential checking: run one model on every target and PyTorch, and when a target
disagrees, find the first pass of its pipeline whose output computes something else.

How a target's pipeline is bisected: the imported module is evaluated by a reference
interpreter (`evaluate`), then the target's pipeline is replayed one step at a time and
the module is evaluated after each step. The first step whose module no longer matches
the reference is the culprit; a step that fails outright is one too. A module is
evaluated by the bisected target's `Target.evaluate`, which runs it wherever it can still
run unchanged: tensor-level modules and portable buffer-level kernels by the reference
interpreter (tessera.reference: IREE, or the host JIT), kernels of the target's own kind
by the target (npu-sim's functional simulator for ISA kernels; AMX tile kernels with
their tile ops emulated). For a module of unknown origin, the target whose kernels it
holds evaluates it (`Target.understands`).

The input of the culprit step is then shrunk (`minimize`: the entry function returns an
earlier value when that still shows the divergence) and written as a `.mlir` reproducer
whose RUN line re-checks the step: `tessera check FILE.mlir --pass-pipeline=...` exits
non-zero as long as the step changes what the module computes.

The checker uses only the target contract (tessera.target): it never asks which target
it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tessera.compare import Tolerance
from tessera.errors import TesseraError
from tessera.mlir import func, ir
from tessera.reference import functions as _functions
from tessera.target import evaluate


def _try_evaluate(module, arrays, func_name, target=None):
    """(outputs, None) or (None, why it could not be evaluated)."""
    try:
        return evaluate(module, arrays, func_name, target), None
    except TesseraError as e:
        return None, str(e).splitlines()[0]


# ---------------------------------------------------------------------------------------
# Bisection


@dataclass
class Divergence:
    """Where a pipeline first stops computing the reference.

    `step` is the pipeline step (its pipeline text) or "import" (the module as imported
    already disagrees) or "backend" (every step agrees; the target's code generation or
    runtime differs); `index` counts steps from 1 (0 for import)."""

    step: str
    index: int
    steps: int
    error_before: float | None
    error_after: float | None
    failure: str = ""  # the step raised instead of producing a module
    reproducer: Path | None = None
    skipped: list[str] = field(default_factory=list)  # steps whose output could not run
    before: ir.Module | None = field(default=None, repr=False)  # the culprit's input

    def describe(self) -> str:
        if self.step == "import":
            return "the imported module already disagrees (torch-mlir import or PyTorch)"
        if self.step == "backend":
            return (f"all {self.steps} pipeline steps agree; the target's backend "
                    f"(code generation, simulator or runtime) disagrees")
        where = f"step {self.index} of {self.steps}"
        if self.failure:
            return f"{self.step} ({where}) fails: {self.failure}"
        return (f"{self.step} ({where}): max abs error {self.error_before:.3g} before it, "
                f"{self.error_after:.3g} after it")


def bisect(module: ir.Module, steps, arrays, reference, tolerance: Tolerance,
           func_name: str = "main", target=None) -> Divergence:
    """Replay `steps` (tessera.pipeline.Step) on a copy of `module` one at a time and
    return the first whose result stops matching `reference` on `arrays`; modules are
    evaluated by `target` (see `evaluate`)."""
    from tessera.host import copy_module
    from tessera.pipeline import Pipeline

    current = copy_module(module)
    outputs, why = _try_evaluate(current, arrays, func_name, target)
    if outputs is None:
        raise TesseraError(f"the imported module cannot be evaluated: {why}")
    ok, error = tolerance.compare(outputs, reference)
    if not ok:
        return Divergence("import", 0, len(steps), None, error)
    skipped = []
    for index, step in enumerate(steps, start=1):
        before = copy_module(current)
        try:
            Pipeline(current.context).add_step(step).run(current)
        except TesseraError as e:
            return Divergence(step.text(), index, len(steps), error, None,
                              failure=str(e).splitlines()[0], skipped=skipped, before=before)
        outputs, why = _try_evaluate(current, arrays, func_name, target)
        if outputs is None:
            skipped.append(f"{step.text()}: {why}")
            continue
        ok, after = tolerance.compare(outputs, reference)
        if not ok:
            return Divergence(step.text(), index, len(steps), error, after,
                              skipped=skipped, before=before)
        error = after
    return Divergence("backend", len(steps) + 1, len(steps), error, None, skipped=skipped)


# ---------------------------------------------------------------------------------------
# Reproducers


def random_inputs(module: ir.Module, func_name: str = "main") -> list[np.ndarray]:
    """Seeded random inputs for the entry function (see tessera.compare.random_inputs)."""
    from tessera.compare import random_inputs as seeded
    from tessera.executable import entry_signature

    return seeded(entry_signature(module, func_name))


def step_changes_result(module: ir.Module, pipeline_text: str, tolerance: Tolerance,
                        func_name: str = "main", target=None) -> tuple[bool, float, str]:
    """(changes, max abs difference, why not evaluated) for running `pipeline_text` on a
    copy of `module`, both sides evaluated on seeded random inputs (by `target`, see
    `evaluate`)."""
    from tessera.host import copy_module
    from tessera.pipeline import Pipeline

    arrays = random_inputs(module, func_name)
    before, why = _try_evaluate(module, arrays, func_name, target)
    if before is None:
        raise TesseraError(f"the input module cannot be evaluated: {why}")
    after_module = copy_module(module)
    pipeline = Pipeline(module.context).add(pipeline_text)  # a bad pipeline is a user error
    try:
        pipeline.run(after_module)
    except TesseraError as e:
        return True, float("inf"), f"the pipeline fails: {str(e).splitlines()[0]}"
    after, why = _try_evaluate(after_module, arrays, func_name, target)
    if after is None:
        raise TesseraError(f"the module after the pipeline cannot be evaluated: {why}")
    ok, error = tolerance.compare(after, before)
    return not ok, error, ""


def _entry(module: ir.Module, func_name: str):
    return next(f for f in _functions(module) if f.sym_name.value == func_name)


def cut_points(module: ir.Module, func_name: str = "main") -> list[int]:
    """Indices of the entry function's top-level ops whose single tensor result could
    be returned instead of the function's result (not constants, empty tensors, fills or
    buffer bookkeeping: they compute nothing a pass could get wrong)."""
    from tessera.mlir import arith, bufferization, linalg, memref, tensor

    not_cut = (arith.ConstantOp, tensor.EmptyOp, linalg.FillOp, func.ReturnOp,
               bufferization.ToBufferOp, bufferization.ToTensorOp, memref.AllocOp)
    ops = list(_entry(module, func_name).regions[0].blocks[0].operations)
    return [i for i, op in enumerate(ops)
            if not isinstance(op, not_cut) and len(op.results) == 1
            and isinstance(op.results[0].type, ir.RankedTensorType)]


def truncated(module: ir.Module, index: int, func_name: str = "main") -> ir.Module:
    """A copy of `module` whose entry function returns the result of its `index`-th
    top-level op; what no longer feeds the result is removed by canonicalize."""
    from tessera.host import copy_module
    from tessera.pipeline import Pipeline

    copy = copy_module(module)
    entry = _entry(copy, func_name)
    block = entry.regions[0].blocks[0]
    ops = list(block.operations)
    value = ops[index].results[0]
    with ir.InsertionPoint(ops[-1]), ops[-1].location:
        func.ReturnOp([value])
    ops[-1].erase()
    entry.attributes["function_type"] = ir.TypeAttr.get(
        ir.FunctionType.get(list(entry.type.inputs), [value.type]))
    Pipeline(copy.context).add("canonicalize").run(copy)
    return copy


def minimize(module: ir.Module, pipeline_text: str, tolerance: Tolerance,
             func_name: str = "main", target=None) -> ir.Module:
    """The smallest prefix of `module`'s entry function (by binary search over its cut
    points) on which `pipeline_text` still changes the result; `module` if none is
    smaller."""
    points = cut_points(module, func_name)
    best, low, high = module, 0, len(points) - 1
    while low <= high:
        mid = (low + high) // 2
        try:
            candidate = truncated(module, points[mid], func_name)
            changes, _, _ = step_changes_result(candidate, pipeline_text, tolerance, func_name,
                                                target)
        except TesseraError:
            changes = False
        if changes:
            best, high = candidate, mid - 1
        else:
            low = mid + 1
    return best


def write_reproducer(path: Path, module: ir.Module, pipeline_text: str, header: list[str],
                     tolerance: Tolerance, target: str | None = None) -> Path:
    """Write `module` with a RUN line that checks `pipeline_text` on it (evaluated by
    `target`, when given)."""
    from tessera.files import write_text

    options = f" --targets {target}" if target else ""
    if tolerance != Tolerance():
        options += f" --atol {tolerance.atol:g} --rtol {tolerance.rtol:g}"
    lines = [f"// {line}" for line in header]
    lines.append(f"// RUN: tessera-check %s --pass-pipeline='builtin.module({pipeline_text})'"
                 f"{options}")
    write_text(path, "\n".join(lines) + "\n" + str(module), "reproducer")
    return path


# ---------------------------------------------------------------------------------------
# The whole check


@dataclass
class TargetResult:
    """One target's outcome: its matrix cell and, when it disagrees, where."""

    cell: object  # tessera.matrix.Cell
    divergence: Divergence | None = None


def check(model, example_inputs=(), targets=None, hw: dict | None = None, *,
          tolerance: Tolerance = Tolerance(), out_dir: str | Path = ".",
          name: str = "model", func_name: str = "main") -> list[TargetResult]:
    """Run `model` (a torch.nn.Module, or MLIR text) on `targets` (names or Targets;
    default: every target) against PyTorch eager (for MLIR: the reference interpreter),
    and bisect each target that disagrees; reproducers are written to `out_dir`."""
    from tessera.compiler import as_module
    from tessera.context import make_context
    from tessera.files import out_dir as checked_dir
    from tessera.matrix import reference_outputs, run_cell
    from tessera.target import TARGETS, get_target

    hw = hw or {}
    if not isinstance(hw, dict):
        raise TesseraError(f"hw must map target names to their hardware (e.g. "
                           f"{{'npu-sim': 'tpu-128x128'}}), got {type(hw).__name__}")
    out_dir = checked_dir(out_dir, "reproducer folder")
    backends = [get_target(t) for t in (targets or TARGETS)]
    reference, arrays = reference_outputs(model, example_inputs, func_name)
    results = []
    for backend in backends:
        cell = run_cell(model, example_inputs, backend, hw.get(backend.name),
                        reference=(reference, arrays), tolerance=tolerance, runs=1, name=name)
        result = TargetResult(cell)
        results.append(result)
        if cell.status not in ("mismatch", "error"):
            continue
        context = make_context()
        module = as_module(model, example_inputs, context)
        with context, ir.Location.unknown():
            try:
                steps = backend.pipeline(context, backend.hardware(hw.get(backend.name))).steps
            except TesseraError:
                continue  # the cell's error already says why (e.g. a bad hw for it)
            divergence = bisect(module, steps, arrays, reference, tolerance, func_name, backend)
            if divergence.before is not None:
                small = minimize(divergence.before, divergence.step, tolerance, func_name,
                                 backend)
                path = out_dir / f"tessera-check-{name}-{backend.name}.mlir"
                header = [f"Reproducer written by `tessera check` ({name} on {backend.name}).",
                          f"First divergent step: {divergence.describe()}.",
                          "The RUN line fails while the step changes what this module "
                          "computes on seeded random inputs."]
                divergence.reproducer = write_reproducer(path, small, divergence.step, header,
                                                         tolerance, backend.name)
        result.divergence = divergence
    return results
