"""`tessera.compile`: one call from a PyTorch model (or MLIR) to a runnable program."""

from __future__ import annotations

import time

from tessera.context import relocate
from tessera.errors import DiagnosticError, TesseraError
from tessera.executable import Executable
from tessera.mlir import ir


def _as_module(model, example_inputs, context, source_name) -> tuple[ir.Module, float]:
    from tessera.context import parse_module
    from tessera.frontend import import_torch

    start = time.perf_counter()
    if isinstance(model, ir.Module):
        return model, 0.0
    if isinstance(model, str):
        with context:
            return parse_module(model, source_name), time.perf_counter() - start
    module = import_torch(model, *example_inputs, context=context)
    return module, time.perf_counter() - start


def compile(model, example_inputs=(), target: str = "iree-cpu", hw=None, *,
            func_name: str = "main", source_name: str = "<input>") -> Executable:
    """Compile `model` for `target` and return a callable on numpy arrays / torch tensors.

    `model` is a `torch.nn.Module` (imported with `example_inputs`), an `ir.Module` in
    linalg on tensors, or MLIR text. `hw` is the target's hardware description (a preset
    name or a dataclass), where the target has one. The result records `timings`:
    import_s, passes_s, backend_s and compile_s (their sum), and run_s after a call.
    """
    from tessera.context import make_context
    from tessera.targets import get_target

    backend = get_target(target)
    ok, why = backend.available()
    if not ok:
        raise TesseraError(f"target {target} is not available here: {why}")
    context = model.context if isinstance(model, ir.Module) else make_context()
    module, import_s = _as_module(model, example_inputs, context, source_name)
    with context, ir.Location.unknown():
        try:
            executable = backend.compile(module, hw, func_name=func_name)
        except DiagnosticError as e:
            # MLIR text was parsed as "-"; name it as parse_module does.
            raise DiagnosticError(relocate(e.diags, source_name)) from None
    executable.timings["import_s"] = import_s
    executable.timings["compile_s"] = import_s + executable.timings.get("passes_s", 0.0) + \
        executable.timings.get("backend_s", 0.0)
    return executable
