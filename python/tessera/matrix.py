"""The retargeting matrix: one model compiled for each target, run, and compared with
PyTorch eager. `make demo`, `tessera-compile --all-targets` and `tessera check` share it.

A cell's status is one of
  ok            ran and matched the reference within tolerance
  mismatch      ran and did not match
  compile-only  compiled, but this machine cannot run it (why is in `note`)
  unavailable   the target cannot even compile here (why is in `note`)
  error         compiling or running raised a tessera error (the message is in `note`)
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from tessera.errors import TesseraError
from tessera.mlir import ir

STATUSES = ("ok", "mismatch", "compile-only", "unavailable", "error")


@dataclass
class Cell:
    target: str
    status: str
    compile_s: float | None = None
    run_ms: float | None = None  # median wall time of a call (QEMU / simulator time included)
    error: float | None = None  # max abs difference from the reference
    measured: str = ""  # what the target measures beyond time (cycles, instructions)
    note: str = ""


def _flatten(out) -> tuple:
    """A model's outputs as a flat tuple (nested tuples and lists unpacked; None dropped)."""
    if out is None:
        return ()
    if isinstance(out, (tuple, list)):
        return tuple(x for o in out for x in _flatten(o))
    return (out,)


def reference_outputs(model, example_inputs, func_name: str = "main"):
    """(reference outputs, input arrays): PyTorch eager for a model; for MLIR text, the
    reference interpreter (tessera.target.evaluate) on seeded random inputs."""
    from tessera.executable import to_numpy

    if isinstance(model, str):
        from tessera.compare import random_inputs
        from tessera.context import make_context, parse_module
        from tessera.executable import entry_signature
        from tessera.target import evaluate

        context = make_context()
        with context, ir.Location.unknown():
            module = parse_module(model)
            arrays = random_inputs(entry_signature(module, func_name))
            return evaluate(module, arrays, func_name), arrays
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TesseraError(f"the model must be a torch.nn.Module or MLIR text, got "
                           f"{type(model).__name__}")
    if not isinstance(example_inputs, (tuple, list)):
        raise TesseraError(f"example inputs must be a tuple of tensors, got "
                           f"{type(example_inputs).__name__}")
    try:
        with torch.no_grad():
            out = model(*example_inputs)
    except Exception as e:  # the user's forward raised: report it as theirs
        raise TesseraError(f"running {type(model).__name__} in PyTorch failed: "
                           f"{type(e).__name__}: {e}") from None
    return (tuple(to_numpy(o) for o in _flatten(out)),
            [to_numpy(x) for x in example_inputs])


def run_cell(model, example_inputs, target, hw=None, *, reference=None, tolerance=None,
             runs: int = 5, name: str = "model", with_measurement: bool = False) -> Cell:
    """Compile `model` for `target` (a name or a Target), run it `runs` times and compare
    with `reference`, the (outputs, input arrays) of `reference_outputs` (computed when
    None; pass it when running several targets). User-level failures become an "error"
    cell, not an exception. With `with_measurement`, the target's own measure (its
    report's summary after `Target.measure`) fills `measured`."""
    import tessera
    from tessera.compare import Tolerance
    from tessera.target import get_target

    tolerance = tolerance or Tolerance()
    backend = get_target(target)
    ok, why = backend.available()
    if not ok:
        return Cell(backend.name, "unavailable", note=why)
    expected, arrays = reference or reference_outputs(model, example_inputs)
    try:
        executable = tessera.compile(model, example_inputs, target=backend, hw=hw,
                                     source_name=name)
    except TesseraError as e:
        return Cell(backend.name, "error", note=f"compile: {str(e).splitlines()[0]}")
    compile_s = executable.timings["compile_s"]
    ok, why = backend.can_run()
    if not ok:
        return Cell(backend.name, "compile-only", compile_s, note=why)
    try:
        times = []
        for _ in range(max(runs, 1)):
            start = time.perf_counter()
            got = executable(*arrays)
            times.append((time.perf_counter() - start) * 1e3)
        extra = backend.measure(executable, arrays).summary() if with_measurement else ""
    except TesseraError as e:
        return Cell(backend.name, "error", compile_s, note=f"run: {str(e).splitlines()[0]}")
    matches, error = tolerance.compare(got, expected)
    return Cell(backend.name, "ok" if matches else "mismatch", compile_s,
                statistics.median(times), error, extra)


def format_rows(rows: list[tuple[str, Cell]]) -> str:
    """A fixed-width table: model, target, status, compile s, run ms, max error, measured."""
    header = (f"{'model':12} {'target':11} {'status':12} {'compile s':>9} {'run ms':>9} "
              f"{'max abs err':>11}  measured / note")
    lines = [header, "-" * len(header)]
    for model, c in rows:
        compile_s = f"{c.compile_s:9.2f}" if c.compile_s is not None else f"{'-':>9}"
        run_ms = f"{c.run_ms:9.3f}" if c.run_ms is not None else f"{'-':>9}"
        error = f"{c.error:11.2e}" if c.error is not None else f"{'-':>11}"
        lines.append(f"{model:12} {c.target:11} {c.status:12} {compile_s} {run_ms} {error}  "
                     f"{c.measured or c.note}")
    return "\n".join(lines)
