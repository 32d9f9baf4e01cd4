"""`tessera.compile`: one call from a PyTorch model (or MLIR) to a runnable program."""

from __future__ import annotations

import time

from tessera.context import relocate
from tessera.errors import DiagnosticError, TesseraError
from tessera.executable import Executable
from tessera.mlir import ir


def as_module(model, example_inputs, context, source_name: str = "<input>") -> ir.Module:
    """`model` as a module in `context`: an ir.Module (returned as is), MLIR text
    (parsed, errors naming `source_name`) or a torch.nn.Module (imported)."""
    from tessera.context import parse_module
    from tessera.frontend import import_torch

    if isinstance(model, ir.Module):
        return model
    if isinstance(model, str):
        with context:
            return parse_module(model, source_name)
    if not isinstance(example_inputs, (tuple, list)):
        raise TesseraError(f"example inputs must be a tuple of tensors, got "
                           f"{type(example_inputs).__name__}")
    return import_torch(model, *example_inputs, context=context)


def compile(model, example_inputs=(), target="iree-cpu", hw=None, *,
            func_name: str = "main", source_name: str = "<input>") -> Executable:
    """Compile `model` for `target` and return a callable on numpy arrays / torch tensors.

    `model` is a `torch.nn.Module` (imported with `example_inputs`), an `ir.Module` in
    linalg on tensors (changed in place), or MLIR text. `target` is a target name or a
    `tessera.target.Target`; `hw` is its hardware description: a preset spec
    (`"gemmini-16x16"`, `"gemmini-16x16,rows=32"`) or an instance of the target's
    `hw_type`. The result's `timings` (its report's) hold import_s, passes_s, backend_s
    and compile_s (their sum), and run_s after a call.
    """
    from tessera.context import make_context
    from tessera.target import get_target

    backend = get_target(target)
    ok, why = backend.available()
    if not ok:
        raise TesseraError(f"target {backend.name} is not available here: {why}")
    config = backend.hardware(hw)  # a bad hw is an error before any work
    if not isinstance(func_name, str):
        raise TesseraError(f"func_name must be a string, got {type(func_name).__name__}")
    context = model.context if isinstance(model, ir.Module) else make_context()
    start = time.perf_counter()
    module = as_module(model, example_inputs, context, source_name)
    import_s = time.perf_counter() - start
    try:
        executable = backend.compile(module, config, func_name=func_name)
    except DiagnosticError as e:
        # MLIR text was parsed as "-"; name it as parse_module does.
        raise DiagnosticError(relocate(e.diags, source_name)) from None
    timings = executable.timings
    timings["import_s"] = import_s
    timings["compile_s"] = import_s + timings.get("passes_s", 0.0) + timings.get("backend_s", 0.0)
    return executable
