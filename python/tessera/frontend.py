"""The PyTorch frontend: `import_torch(model, *inputs)` -> linalg-on-tensors MLIR.

The model is captured with `torch.export`, decomposed with torch-mlir's table, imported
by torch-mlir's FX importer into tessera's context (parameters become dense resources,
not inlined text) and lowered torch -> linalg on tensors with torch-mlir's pipelines,
run here so that failures come back as located tessera errors; then integer division is
given PyTorch's exactness without the traps (`tessera-integer-division`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings

import numpy as np

from tessera.errors import DiagnosticError, TesseraError, diags_from_error
from tessera.mlir import PassManager, func, ir, torch_importer
from tessera.pipeline import Pipeline

TORCH_TO_LINALG = (
    "builtin.module(func.func(torch-match-quantized-custom-ops),"
    "torchdynamo-export-to-torch-backend-pipeline{extra-library=},"
    "torch-backend-to-linalg-on-tensors-backend-pipeline{allow-non-finites=true})"
)


@contextlib.contextmanager
def _quiet_torch():
    """torch logs its own tracebacks while export fails, and prints the partial graph of a
    failed export to stderr; tessera reports the failure as one error instead (and a
    failed first attempt that a later one recovers from, not at all)."""
    logger = logging.getLogger("torch")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
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


def _export(model, inputs, table):
    """`model` captured by torch.export and decomposed with `table` (ATen op ->
    decomposition): one trace where torch allows it, else export then decompose."""
    import torch

    if isinstance(model, torch.export.ExportedProgram):
        return _decompose(model, model, table)
    if not isinstance(model, torch.nn.Module):
        raise TesseraError(f"import_torch expects a torch.nn.Module or an ExportedProgram, "
                           f"got {type(model).__name__}")
    with contextlib.suppress(Exception), _quiet_torch():
        return _export_decomposed(model, inputs, table)
    # Non-strict export first (it traces more Python); strict export (TorchDynamo) where it
    # fails, e.g. on int(tensor), which strict mode captures as a data-dependent scalar.
    try:
        with _quiet_torch():
            program = torch.export.export(model, tuple(inputs), strict=False)
    except Exception as e:  # torch raises many kinds; all mean "cannot capture this model"
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        try:
            with _quiet_torch():
                program = torch.export.export(model, tuple(inputs), strict=True)
        except Exception:
            raise TesseraError(f"torch.export could not capture {type(model).__name__}: "
                               f"{first}") from None
    return _decompose(model, program, table)


def _decompose(model, program, table):
    try:
        return program.run_decompositions(table)
    except Exception as e:
        raise TesseraError(f"decomposing {type(model).__name__} failed: {e}") from None


def _export_decomposed(model, inputs, table):
    """Non-strict torch.export straight to ATen with `table` applied while it traces: the
    program `torch.export.export(...).run_decompositions(table)` gives, from one trace
    instead of two (a cold import of BERT-base: ~2 s less). torch.export offers this
    only through its private `_export(pre_dispatch=False)`, whose ATen tracer takes no
    table: it is bound for the call. Composite ops the table does not name are kept, as
    run_decompositions keeps them."""
    import functools

    from torch.export import _trace
    from torch.export.exported_program import (
        _override_composite_implicit_decomp,
        _split_decomp_table_to_cia_and_python_decomp,
    )

    composite, python = _split_decomp_table_to_cia_and_python_decomp(dict(table))
    tracer = _trace._export_to_aten_ir
    _trace._export_to_aten_ir = functools.partial(tracer, decomp_table=python)
    try:
        with _override_composite_implicit_decomp(composite):
            return _trace._export(model, tuple(inputs), strict=False, pre_dispatch=False)
    finally:
        _trace._export_to_aten_ir = tracer


def _threshold_backward(grad, self, threshold):
    """aten.threshold_backward as eager computes it: in the promoted type of `grad` and
    `self` (torch's own decomposition keeps grad's: int64 grads with float inputs came
    back int64, where eager returns float32)."""
    import torch

    return torch.where(self <= threshold, 0, grad).to(torch.result_type(grad, self))


def _kthvalue(self, k, dim=-1, keepdim=False):
    """aten.kthvalue as a sort: the k-th smallest value and its index. torch-mlir lowers
    kthvalue to a `tm_tensor.topk` whose comparator IREE 3.13 rejects ("region block
    must end with a linalg_ext.yield"); sorts compile everywhere (torch-mlir has no
    stable one). Among equal values, which one's index comes back is not promised, as
    in eager."""
    import torch

    values, indices = torch.sort(self, dim=dim)
    value, index = values.select(dim, k - 1), indices.select(dim, k - 1)
    if keepdim:
        value, index = value.unsqueeze(dim), index.unsqueeze(dim)
    return value, index


def _isfinite(self):
    """aten.isfinite, which torch-mlir cannot lower: |x| < inf, false for NaN and +-inf
    (not `x == x`, which torch-mlir folds to true)."""
    import torch

    if self.is_complex():
        return NotImplemented
    if not self.is_floating_point():
        return torch.ones_like(self, dtype=torch.bool)
    return self.abs() < float("inf")


def _avg_pool2d(self, kernel_size, stride=(), padding=0, ceil_mode=False,
                count_include_pad=True, divisor_override=None):
    """aten.avg_pool2d of an unbatched (C, H, W) input as a batch of one: torch-mlir
    makes an invalid `linalg.pooling_nchw_sum` of it (its operand rank 3, not 4)."""
    import torch

    if self.dim() != 3:
        return NotImplemented
    return torch.ops.aten.avg_pool2d(self.unsqueeze(0), kernel_size, stride, padding, ceil_mode,
                                     count_include_pad, divisor_override).squeeze(0)


def _integer_pow(self, exponent):
    """aten.pow of integer tensors, which torch-mlir cannot lower ("non-floating point
    dtype"), as eager computes it: square and multiply over the exponent's bits, wrapping
    on overflow; a negative exponent gives 1 for a base of 1, +-1 for -1, else 0."""
    import torch

    dtypes = (self.dtype, exponent.dtype)
    if any(t.is_floating_point or t.is_complex or t == torch.bool for t in dtypes):
        return NotImplemented
    dtype = torch.result_type(self, exponent)
    shape = torch.broadcast_shapes(self.shape, exponent.shape)
    given, power = self.to(dtype).expand(shape), exponent.to(dtype).expand(shape)
    result, base, bits = torch.ones(shape, dtype=dtype), given, power
    for _ in range(torch.iinfo(dtype).bits):
        result = torch.where((bits & 1) == 1, result * base, result)
        base, bits = base * base, bits >> 1
    if not dtype.is_signed:
        return result
    odd = (power & 1) == 1
    inverse = torch.where(given == 1, 1, torch.where(given == -1, torch.where(odd, -1, 1), 0))
    return torch.where(power < 0, inverse.to(dtype), result)


def _adaptive_windows(length: int, size: int):
    """The windows of adaptive pooling of `length` positions into `size`: output i reads
    [floor(i L / size), ceil((i + 1) L / size)). A (size, K) tensor of positions, K the
    widest window, narrower windows padded with their last position (harmless for a
    maximum: a repeat comes after the first occurrence)."""
    import torch

    widest = max(-(-(i + 1) * length // size) - i * length // size for i in range(size))
    i = torch.arange(size)[:, None]
    start, end = i * length // size, ((i + 1) * length + size - 1) // size
    return torch.minimum(start + torch.arange(widest)[None, :], end - 1)


def _adaptive_max_pool2d(self, output_size):
    """aten.adaptive_max_pool2d, which torch-mlir cannot lower (and torch's decomposition
    of it makes a stride-0 pooling torch-mlir rejects), as a gather of every output's
    window and a max over it: values, and indices into the flattened H x W plane (the
    first maximum of a window, as eager)."""
    rows = _adaptive_windows(self.shape[-2], output_size[0])[:, :, None, None]
    cols = _adaptive_windows(self.shape[-1], output_size[1])[None, None, :, :]
    windows = self[..., rows, cols].movedim(-3, -2).flatten(-2)  # (..., OH, OW, KH x KW)
    values, position = windows.max(-1)
    planar = (rows * self.shape[-1] + cols).movedim(-3, -2).flatten(-2)
    indices = planar.expand(*values.shape, planar.shape[-1]).gather(-1, position.unsqueeze(-1))
    return values, indices.squeeze(-1)


def _decompositions(table) -> dict:
    """torch-mlir's decomposition table, with tessera's corrections where a decomposition
    disagrees with eager PyTorch, makes what IREE cannot compile, or is missing for an op
    torch-mlir cannot lower."""
    import torch

    aten = torch.ops.aten
    return {**table, aten.threshold_backward.default: _threshold_backward,
            aten.kthvalue.default: _kthvalue, aten.isfinite.default: _isfinite,
            aten.avg_pool2d.default: _avg_pool2d, aten.pow.Tensor_Tensor: _integer_pow,
            aten.adaptive_max_pool2d.default: _adaptive_max_pool2d}


def _weights_hooks():
    """Importer hooks that make a weight's dense resource straight from the tensor's
    memory. torch-mlir's own path goes through `tensor.tolist()` (a Python object per
    element: most of the import time of a large model, and several times its memory)."""
    import torch

    from tessera.mlir import torch_importer_hooks

    FxImporterHooks, tensor_type = torch_importer_hooks()

    class Weights(FxImporterHooks):
        def __init__(self):
            self.seen = {}  # one resource per tensor the model uses several times (tied)

        def resolve_literal(self, gni, literal, info):
            if not isinstance(literal, torch.Tensor) or literal.numel() <= 1 or \
                    literal.dtype in (torch.bool, torch.complex32) or literal.is_quantized \
                    or type(literal) not in (torch.Tensor, torch.nn.Parameter) \
                    or literal.device.type != "cpu":
                return None  # torch-mlir's path: splats, fake or odd tensors
            key = (literal.data_ptr(), tuple(literal.shape), tuple(literal.stride()),
                   literal.dtype)
            if key not in self.seen:
                data = literal.detach().contiguous()
                if data.dtype == torch.bfloat16:
                    import ml_dtypes

                    array = data.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
                else:
                    array = data.numpy()
                name = "torch_tensor_" + "_".join(map(str, literal.shape)) + f"_{literal.dtype}"
                # the attribute keeps `array` alive (the bindings hold the buffer)
                self.seen[key] = ir.DenseResourceElementsAttr.get_from_buffer(
                    array, name, tensor_type(literal))
            vtensor = gni._cc.tensor_to_vtensor_type(literal)
            return ir.Operation.create("torch.vtensor.literal", results=[vtensor],
                                       attributes={"value": self.seen[key]}).result

    return Weights()


def _refuse_known_crashes(program, name: str) -> None:
    """Patterns on which torch-mlir 20261001 kills the process instead of reporting an
    error, refused before it sees them: an integer matrix product over K = 0, and a
    matrix product whose result is 8-bit (int8 x int8 -> int8: its torch-to-linalg
    lowering reports "conversion to byte or char type" and then segfaults)."""
    import torch

    aten = torch.ops.aten
    products = {aten.mm.default, aten.bmm.default, aten.matmul.default, aten.addmm.default,
                aten.baddbmm.default}
    for node in program.graph.nodes:
        if node.op != "call_function" or node.target not in products:
            continue
        lhs = node.args[1] if node.target in (aten.addmm.default, aten.baddbmm.default) \
            else node.args[0]
        value = getattr(lhs, "meta", {}).get("val")
        if isinstance(value, torch.Tensor) and value.ndim >= 1 and value.shape[-1] == 0 \
                and not value.dtype.is_floating_point and not value.dtype.is_complex:
            raise TesseraError(
                f"{name} multiplies {value.dtype} matrices over an empty dimension (K = 0), "
                f"on which torch-mlir 20261001's lowering crashes; the product is all zeros: "
                f"write it as torch.zeros")
        result = node.meta.get("val")
        if isinstance(result, torch.Tensor) and result.dtype in (torch.int8, torch.uint8):
            raise TesseraError(
                f"{name} multiplies matrices into a {result.dtype} result ({node.target}), "
                f"on which torch-mlir 20261001's lowering crashes; widen the operands first "
                f"(e.g. a.to(torch.int32)) and narrow the product after")


def _refuse_resized_inputs(program, name: str) -> None:
    """An input the program writes with another shape (an `out=` argument of the wrong
    shape) is refused: tessera does not write inputs back, and torch.export's meaning of
    it is not always eager's (`torch.arange(1, 13, out=x)` with `x` 3x4 keeps x's shape in
    eager PyTorch, and comes back 1-d from torch.export)."""
    from torch.export.graph_signature import OutputKind

    inputs = {node.name: node for node in program.graph.nodes if node.op == "placeholder"}
    outputs = next(n for n in program.graph.nodes if n.op == "output").args[0]
    for spec, value in zip(program.graph_signature.output_specs, outputs):
        if spec.kind != OutputKind.USER_INPUT_MUTATION:
            continue
        before = inputs.get(spec.target)
        old = getattr(before, "meta", {}).get("val")
        new = getattr(value, "meta", {}).get("val")
        if old is not None and new is not None and tuple(old.shape) != tuple(new.shape):
            raise TesseraError(
                f"{name} writes input '{spec.target}' ({tuple(old.shape)}) with a result of "
                f"shape {tuple(new.shape)} (an out= argument of another shape?); tessera does "
                f"not resize inputs: give out= the result's shape, or return the result")


def _state_for_non_persistent_buffers(program) -> None:
    """torch-mlir's importer looks a buffer's value up in the program's state dict, which
    torch.export leaves non-persistent buffers out of (they are among its constants):
    registered with `persistent=False`, as transformers does for position ids and masks.
    They are put there, under the same name."""
    state = program.state_dict
    for name in program.graph_signature.non_persistent_buffers:
        if name not in state and name in program.constants:
            state[name] = program.constants[name]


def _user_results(module: ir.Module, program, func_name: str) -> list[np.dtype | None]:
    """Keep only the model's own results in `func_name` (an input the model changes in
    place comes back as an extra result, which callers never asked for); return, per
    result kept, the unsigned dtype PyTorch gives it (the IR's integers are signless)."""
    from torch.export.graph_signature import OutputKind

    from tessera.executable import entry_function

    entry = entry_function(module, func_name)
    kinds = [spec.kind for spec in program.graph_signature.output_specs]
    results = list(entry.type.results)
    keep = [i for i, kind in enumerate(kinds) if kind == OutputKind.USER_OUTPUT] \
        if len(kinds) == len(results) else list(range(len(results)))
    if len(keep) != len(results):
        block = entry.regions[0].blocks[0]
        ret = block.operations[len(block.operations) - 1]
        with ir.InsertionPoint(ret), ret.location:
            func.ReturnOp([ret.operands[i] for i in keep])
        ret.erase()
        entry.attributes["function_type"] = ir.TypeAttr.get(
            ir.FunctionType.get(list(entry.type.inputs), [results[i] for i in keep]))
    return [_unsigned(results[i]) for i in keep]


def _unsigned(t: ir.Type) -> np.dtype | None:
    """uint8 for `!torch.vtensor<[...],ui8>` (the dtype the lowering to linalg forgets)."""
    m = re.search(r",ui(8|16|32|64)>$", str(t))
    return np.dtype(f"uint{m.group(1)}") if m else None


def _declare_dtypes(entry, name: str, dtypes) -> None:
    """Mark the arguments (`name` arg_attrs) or results (res_attrs) whose dtype is set."""
    from tessera.executable import DTYPE_ATTR

    if any(d is not None for d in dtypes):
        entry.attributes[name] = ir.ArrayAttr.get([
            ir.DictAttr.get({DTYPE_ATTR: ir.StringAttr.get(d.name)} if d is not None else {})
            for d in dtypes])


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
    program = _export(model, _tensors(example_inputs), _decompositions(decompositions()))
    _refuse_known_crashes(program, type(model).__name__)
    _refuse_resized_inputs(program, type(model).__name__)
    _state_for_non_persistent_buffers(program)
    torch_dialect.register_dialect(context)
    importer = FxImporter(context=context, hooks=_weights_hooks())
    try:
        importer.import_frozen_program(program, func_name=func_name)
    except NotImplementedError as e:
        raise TesseraError(f"the model uses a construct torch-mlir cannot import: {e}") from None
    except (AssertionError, KeyError, ValueError, TypeError) as e:
        raise TesseraError(f"torch-mlir's importer failed on {type(model).__name__} "
                           f"({type(e).__name__}: {e})") from None
    module = importer.module
    with context:
        from tessera.executable import entry_function

        result_dtypes = _user_results(module, program, func_name)
        input_dtypes = [_unsigned(t) for t in entry_function(module, func_name).type.inputs]
        pm = PassManager.parse(TORCH_TO_LINALG)
        try:
            pm.run(module.operation)
        except ir.MLIRError as e:
            raise DiagnosticError(
                diags_from_error(e),
                f"cannot lower {type(model).__name__} to linalg (an op tessera's torch "
                f"import does not support; the location is in the model's source):") from None
        # PyTorch's integer division is exact and never kills the process; torch-mlir's
        # lowering is neither (float floor division, divisions that trap on 0)
        Pipeline(context).add("tessera-integer-division").run(module)
        entry = entry_function(module, func_name)
        if len(entry.type.inputs) == len(input_dtypes):
            _declare_dtypes(entry, "arg_attrs", input_dtypes)
        if len(entry.type.results) == len(result_dtypes):
            _declare_dtypes(entry, "res_attrs", result_dtypes)
    return module
