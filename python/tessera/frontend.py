"""The PyTorch frontend: `import_torch(model, *inputs)` -> linalg-on-tensors MLIR.

The model is captured with `torch.export`, decomposed with torch-mlir's table, imported
by torch-mlir's FX importer into tessera's context (parameters become dense resources,
not inlined text) and lowered torch -> linalg on tensors with torch-mlir's pipelines,
run here so that failures come back as located tessera errors.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

import numpy as np

from tessera.errors import DiagnosticError, TesseraError, diags_from_error
from tessera.mlir import PassManager, ir, torch_importer

TORCH_TO_LINALG = (
    "builtin.module(func.func(torch-match-quantized-custom-ops),"
    "torchdynamo-export-to-torch-backend-pipeline{extra-library=},"
    "torch-backend-to-linalg-on-tensors-backend-pipeline{allow-non-finites=true})"
)


@contextlib.contextmanager
def _quiet_torch():
    """torch logs its own tracebacks while export fails; tessera reports the failure as
    one error instead."""
    logger = logging.getLogger("torch")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _tensors(inputs) -> list:
    """The example inputs as tensors (numpy arrays and Python numbers are converted)."""
    import torch

    tensors = []
    for i, x in enumerate(inputs):
        if isinstance(x, torch.Tensor):
            tensors.append(x)
        elif isinstance(x, (bool, int, float)) or \
                (isinstance(x, np.ndarray) and x.dtype.kind in "biufc"):
            tensors.append(torch.as_tensor(x))
        else:
            raise TesseraError(f"example input {i} is a {type(x).__name__}; example inputs are "
                               f"tensors (or numpy arrays)")
    return tensors


def _export(model, inputs):
    import torch

    if isinstance(model, torch.export.ExportedProgram):
        return model
    if not isinstance(model, torch.nn.Module):
        raise TesseraError(f"import_torch expects a torch.nn.Module or an ExportedProgram, "
                           f"got {type(model).__name__}")
    try:
        with _quiet_torch():
            return torch.export.export(model, tuple(inputs), strict=False)
    except Exception as e:  # torch raises many kinds; all mean "cannot capture this model"
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TesseraError(f"torch.export could not capture {type(model).__name__}: {first}") from None


def import_torch(model, *example_inputs, context: ir.Context | None = None,
                 func_name: str = "main") -> ir.Module:
    """Import `model` called on `example_inputs` as a linalg-on-tensors module.

    The module lives in `context` (default: the current context, else a new tessera
    context) with tessera's dialects loaded. Unsupported ops raise a TesseraError that
    names the op and its place in the model's source.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch's own deprecation notices
        return _import(model, example_inputs, context, func_name)


def _import(model, example_inputs, context, func_name) -> ir.Module:
    from tessera.context import make_context

    FxImporter, torch_dialect, decompositions = torch_importer()
    if context is None:
        context = ir.Context.current if ir.Context.current is not None else make_context()
    program = _export(model, _tensors(example_inputs))
    try:
        program = program.run_decompositions(decompositions())
    except Exception as e:
        raise TesseraError(f"decomposing {type(model).__name__} failed: {e}") from None
    torch_dialect.register_dialect(context)
    importer = FxImporter(context=context)
    try:
        importer.import_frozen_program(program, func_name=func_name)
    except NotImplementedError as e:
        raise TesseraError(f"the model uses a construct torch-mlir cannot import: {e}") from None
    module = importer.module
    with context:
        pm = PassManager.parse(TORCH_TO_LINALG)
        try:
            pm.run(module.operation)
        except ir.MLIRError as e:
            raise DiagnosticError(
                diags_from_error(e),
                f"cannot lower {type(model).__name__} to linalg (an op tessera's torch "
                f"import does not support; the location is in the model's source):") from None
    return module
