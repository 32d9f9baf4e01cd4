"""Differential checking: run one model on every target and PyTorch, and when a target
disagrees, find the first pass of its pipeline whose output computes something else.

How a target's pipeline is bisected: the imported module is evaluated by a reference
interpreter (`evaluate`), then the target's pipeline is replayed one step at a time and
the module is evaluated after each step. The first step whose module no longer matches
the reference is the culprit; a step that fails outright is one too. The reference
interpreter runs a module wherever it can still run unchanged:

- still tensors (linalg, tensor-level `systolic.matmul` turned back into linalg by
  `tessera-systolic-to-linalg`): on iree-cpu, the plain reference path;
- holding ISA-level `systolic` kernels: on npu-sim's functional simulator, with the host
  code JIT-compiled (timing skipped);
- holding other buffer-level kernels (RVV vector microkernels, AMX tile kernels): on the
  host JIT; the vector dialect is portable, so the kernel runs on this CPU with the same
  semantics, and AMX tile ops are first rewritten by `tessera-amx-emulate`.

The input of the culprit step is then shrunk (`minimize`: the entry function returns an
earlier value when that still shows the divergence) and written as a `.mlir` reproducer
whose RUN line re-checks the step: `tessera check FILE.mlir --pass-pipeline=...` exits
non-zero as long as the step changes what the module computes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tessera.errors import TesseraError
from tessera.mlir import func, ir

ATOL = 1e-4
RTOL = 1e-4


@dataclass(frozen=True)
class Tolerance:
    """Floats match when |got - want| <= atol + rtol * |want| everywhere; integers and
    booleans must be equal."""

    atol: float = ATOL
    rtol: float = RTOL

    def compare(self, got, want) -> tuple[bool, float]:
        """(within tolerance, largest absolute difference) over all outputs."""
        got, want = _as_tuple(got), _as_tuple(want)
        if len(got) != len(want):
            return False, float("inf")
        ok, worst = True, 0.0
        for g, w in zip(got, want):
            g, w = np.asarray(g), np.asarray(w)
            if g.shape != w.shape:
                return False, float("inf")
            g64, w64 = g.astype(np.float64), w.astype(np.float64)
            diff = np.abs(g64 - w64)
            if diff.size:
                worst = max(worst, float(np.nan_to_num(diff, nan=np.inf).max()))
            if w.dtype.kind in "iub":
                ok &= bool(np.array_equal(g64, w64))
            else:
                ok &= bool(np.allclose(g64, w64, rtol=self.rtol, atol=self.atol, equal_nan=True))
        return ok, worst


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


# ---------------------------------------------------------------------------------------
# The reference interpreter


def _functions(module: ir.Module):
    return [op for op in module.body.operations if isinstance(op, func.FuncOp)]


def _has_buffer_functions(module: ir.Module) -> bool:
    return any(isinstance(t, ir.MemRefType)
               for f in _functions(module) for t in f.type.inputs)


def _has_op(module: ir.Module, prefix: str) -> bool:
    """Whether any op in `module` has a name starting with `prefix`."""
    found = []

    def visit(op):
        if op.name.startswith(prefix):
            found.append(op)
            return ir.WalkResult.INTERRUPT
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return bool(found)


def evaluate(module: ir.Module, arrays, func_name: str = "main") -> tuple[np.ndarray, ...]:
    """Run `module` (any stage of any tessera pipeline) on `arrays` by the reference
    interpreter described in the module docstring; `module` is not changed."""
    from tessera.host import HostProgram, copy_module, lowered_copy
    from tessera.pipeline import Pipeline
    from tessera.targets import iree_cpu, npu_sim

    module = copy_module(module)
    arrays = [np.ascontiguousarray(a) for a in arrays]
    if any("systolic.kernel" in f.attributes for f in _functions(module)):
        program, _ = npu_sim.load(module, func_name, timed=False)
        return program.run(arrays)
    stages = "tessera-systolic-to-linalg"
    if _has_op(module, "x86.amx."):
        stages += ",tessera-amx-emulate"  # AMX tile ops as scalar code of the same meaning
    Pipeline(module.context).add(stages).run(module)
    if _has_buffer_functions(module):
        lowered, outputs = lowered_copy(module, func_name)
        return HostProgram(lowered, outputs, {}).run(arrays)
    return iree_cpu.runner(iree_cpu.build(str(module)), func_name)(arrays)


def _try_evaluate(module, arrays, func_name):
    """(outputs, None) or (None, why it could not be evaluated)."""
    try:
        return evaluate(module, arrays, func_name), None
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
           func_name: str = "main") -> Divergence:
    """Replay `steps` (tessera.pipeline.Step) on a copy of `module` one at a time and
    return the first whose result stops matching `reference` on `arrays`."""
    from tessera.host import copy_module
    from tessera.pipeline import Pipeline

    current = copy_module(module)
    outputs, why = _try_evaluate(current, arrays, func_name)
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
        outputs, why = _try_evaluate(current, arrays, func_name)
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
    """Seeded random inputs for the entry function (normal floats, ints in int8 range)."""
    from tessera.executable import entry_signature
    from tessera.tools.common import random_inputs as seeded

    return seeded(entry_signature(module, func_name))


def step_changes_result(module: ir.Module, pipeline_text: str, tolerance: Tolerance,
                        func_name: str = "main") -> tuple[bool, float, str]:
    """(changes, max abs difference, why not evaluated) for running `pipeline_text` on a
    copy of `module`, both sides evaluated on seeded random inputs."""
    from tessera.host import copy_module
    from tessera.pipeline import Pipeline

    arrays = random_inputs(module, func_name)
    before, why = _try_evaluate(module, arrays, func_name)
    if before is None:
        raise TesseraError(f"the input module cannot be evaluated: {why}")
    after_module = copy_module(module)
    pipeline = Pipeline(module.context).add(pipeline_text)  # a bad pipeline is a user error
    try:
        pipeline.run(after_module)
    except TesseraError as e:
        return True, float("inf"), f"the pipeline fails: {str(e).splitlines()[0]}"
    after, why = _try_evaluate(after_module, arrays, func_name)
    if after is None:
        raise TesseraError(f"the module after the pipeline cannot be evaluated: {why}")
    ok, error = tolerance.compare(after, before)
    return not ok, error, ""


def _entry(module: ir.Module, func_name: str):
    return next(f for f in _functions(module) if f.sym_name.value == func_name)


_NOT_CUT_POINTS = {"arith.constant", "tensor.empty", "linalg.fill", "func.return",
                   "bufferization.to_buffer", "bufferization.to_tensor", "memref.alloc"}


def cut_points(module: ir.Module, func_name: str = "main") -> list[int]:
    """Indices of the entry function's top-level ops whose single tensor result could
    be returned instead of the function's result."""
    ops = list(_entry(module, func_name).regions[0].blocks[0].operations)
    return [i for i, op in enumerate(ops)
            if op.operation.name not in _NOT_CUT_POINTS and len(op.results) == 1
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
             func_name: str = "main") -> ir.Module:
    """The smallest prefix of `module`'s entry function (by binary search over its cut
    points) on which `pipeline_text` still changes the result; `module` if none is
    smaller."""
    points = cut_points(module, func_name)
    best, low, high = module, 0, len(points) - 1
    while low <= high:
        mid = (low + high) // 2
        try:
            candidate = truncated(module, points[mid], func_name)
            changes, _, _ = step_changes_result(candidate, pipeline_text, tolerance, func_name)
        except TesseraError:
            changes = False
        if changes:
            best, high = candidate, mid - 1
        else:
            low = mid + 1
    return best


def write_reproducer(path: Path, module: ir.Module, pipeline_text: str, header: list[str],
                     tolerance: Tolerance) -> Path:
    """Write `module` with a RUN line that checks `pipeline_text` on it."""
    options = ""
    if tolerance != Tolerance():
        options = f" --atol {tolerance.atol:g} --rtol {tolerance.rtol:g}"
    lines = [f"// {line}" for line in header]
    lines.append(f"// RUN: tessera-check %s --pass-pipeline='builtin.module({pipeline_text})'"
                 f"{options}")
    path.write_text("\n".join(lines) + "\n" + str(module))
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
    """Run `model` (a torch.nn.Module, or MLIR text) on `targets` (default: every
    target) against PyTorch eager (for MLIR: the reference interpreter), and bisect
    each target that disagrees; reproducers are written to `out_dir`."""
    from tessera.context import make_context
    from tessera.matrix import reference_outputs, run_cell
    from tessera.targets import TARGETS, get_target

    hw = hw or {}
    out_dir = Path(out_dir)
    reference, arrays = reference_outputs(model, example_inputs, func_name)
    results = []
    for target in targets or TARGETS:
        cell = run_cell(model, example_inputs, target, hw.get(target),
                        reference=(reference, arrays),
                        tolerance=tolerance, runs=1, name=name)
        result = TargetResult(cell)
        results.append(result)
        if cell.status not in ("mismatch", "error"):
            continue
        backend = get_target(target)
        if not hasattr(backend, "pipeline"):
            continue
        context = make_context()
        module = _import(model, example_inputs, context)
        with context, ir.Location.unknown():
            steps = backend.pipeline(context, hw.get(target)).steps
            divergence = bisect(module, steps, arrays, reference, tolerance, func_name)
            if divergence.before is not None:
                small = minimize(divergence.before, divergence.step, tolerance, func_name)
                path = out_dir / f"tessera-check-{name}-{target}.mlir"
                header = [f"Reproducer written by `tessera check` ({name} on {target}).",
                          f"First divergent step: {divergence.describe()}.",
                          "The RUN line fails while the step changes what this module "
                          "computes on seeded random inputs."]
                divergence.reproducer = write_reproducer(path, small, divergence.step, header,
                                                         tolerance)
        result.divergence = divergence
    return results


def _import(model, example_inputs, context) -> ir.Module:
    from tessera.context import parse_module
    from tessera.frontend import import_torch

    if isinstance(model, str):
        with context:
            return parse_module(model)
    return import_torch(model, *example_inputs, context=context)
