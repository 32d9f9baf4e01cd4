"""What a target's compile returns: a callable on numpy arrays (or torch tensors) that
checks its inputs against the compiled signature and keeps its report.

Element types are read as MLIR types (`numpy_dtype`), never from their printed names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from tessera.errors import TesseraError
from tessera.mlir import func, ir

MAX_TENSOR_BYTES = 1 << 34  # 16 GiB: an entry tensor beyond this cannot be fed here anyway


def numpy_dtype(t: ir.Type) -> np.dtype:
    """The numpy dtype of an MLIR element type (bf16 via ml_dtypes)."""
    if isinstance(t, ir.IntegerType):
        if t.width == 1:
            return np.dtype(np.bool_)
        if t.width in (8, 16, 32, 64):
            kind = "uint" if t.is_unsigned else "int"
            return np.dtype(f"{kind}{t.width}")
    elif isinstance(t, (ir.F16Type, ir.F32Type, ir.F64Type)):
        return np.dtype(f"float{t.width}")
    elif isinstance(t, ir.BF16Type):
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    elif isinstance(t, ir.ComplexType) and isinstance(t.element_type, (ir.F32Type, ir.F64Type)):
        return np.dtype(f"complex{2 * ir.FloatType(t.element_type).width}")
    elif isinstance(t, ir.IndexType):
        return np.dtype(np.int64)
    raise TesseraError(f"element type {t} has no numpy equivalent tessera can pass")


# The frontend marks a function argument or result whose PyTorch type the IR's signless
# integers do not say (uint8 is i8 in linalg) with this attribute: the numpy dtype name
# the caller sees. The bits are the same; the program holds them as `TensorSpec.dtype`.
DTYPE_ATTR = "tessera.dtype"


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: np.dtype
    view: np.dtype | None = None  # what callers pass and get (DTYPE_ATTR), when not dtype

    def __str__(self) -> str:
        return "x".join(str(d) for d in self.shape + (self.caller_dtype.name,))

    @property
    def caller_dtype(self) -> np.dtype:
        return self.view if self.view is not None else self.dtype

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.float64)) * self.dtype.itemsize


def entry_function(module: ir.Module, func_name: str) -> func.FuncOp:
    """The function `func_name` of `module`; a missing one is an error naming the others."""
    names = []
    for op in module.body.operations:
        if isinstance(op, func.FuncOp):
            if op.sym_name.value == func_name:
                return op
            names.append(op.sym_name.value)
    known = f" (it has: {', '.join(names)})" if names else " (it has no functions)"
    raise TesseraError(f"the module has no function '{func_name}' to call{known}")


def tensor_spec(t: ir.Type, what: str, dynamic: bool = False) -> TensorSpec:
    """The spec of a static ranked tensor type; anything else is an error naming `what`.
    With `dynamic`, a dimension only known at run time is allowed (as -1)."""
    if not isinstance(t, ir.RankedTensorType):
        raise TesseraError(f"{what} is {t}; tessera programs take and return ranked tensors "
                           f"(wrap scalars in a 0-d tensor, e.g. tensor<f32>)")
    if dynamic and not t.has_static_shape:
        return TensorSpec(tuple(-1 if t.is_dynamic_dim(i) else d for i, d in enumerate(t.shape)),
                          numpy_dtype(t.element_type))
    if not t.has_static_shape:
        raise TesseraError(f"{what} is {t}; tessera needs static shapes (export the model "
                           f"with fixed-size example inputs)")
    spec = TensorSpec(tuple(t.shape), numpy_dtype(t.element_type))
    if spec.nbytes > MAX_TENSOR_BYTES:
        raise TesseraError(f"{what} is {t}: {spec.nbytes / (1 << 30):.0f} GiB, more than "
                           f"tessera can hand a program ({MAX_TENSOR_BYTES >> 30} GiB)")
    return spec


def declared_dtypes(entry: func.FuncOp, results: bool = False) -> list[np.dtype | None]:
    """Per argument (or result) of `entry`, the dtype its DTYPE_ATTR declares, if any: a
    numpy integer dtype name ("uint8") of the IR type's width."""
    types = list(entry.type.results if results else entry.type.inputs)
    name = "res_attrs" if results else "arg_attrs"
    if name not in entry.attributes:
        return [None] * len(types)
    views = []
    for i, (attrs, t) in enumerate(zip(ir.ArrayAttr(entry.attributes[name]), types)):
        attrs = ir.DictAttr(attrs)
        if DTYPE_ATTR not in attrs:
            views.append(None)
            continue
        what = f"{'result' if results else 'input'} {i} of '{entry.sym_name.value}'"
        value = attrs[DTYPE_ATTR]
        element = t.element_type if isinstance(t, ir.ShapedType) else t
        try:
            view = np.dtype(ir.StringAttr(value).value)
        except (ValueError, TypeError):
            view = None
        if view is None or view.kind not in "iu" or not isinstance(element, ir.IntegerType) \
                or element.width != 8 * view.itemsize:
            raise TesseraError(f"{what} is declared {value} ({DTYPE_ATTR}) but holds {t}; "
                               f"{DTYPE_ATTR} names a numpy integer dtype of the same width, "
                               f"e.g. \"uint8\" for i8")
        views.append(view)
    return views + [None] * (len(types) - len(views))


def _with_view(spec: TensorSpec, view: np.dtype | None) -> TensorSpec:
    return spec if view is None or view == spec.dtype else TensorSpec(spec.shape, spec.dtype, view)


def entry_signature(module: ir.Module, func_name: str) -> list[TensorSpec]:
    """Input specs of `func_name` in `module`; a missing or dynamic entry is an error."""
    entry = entry_function(module, func_name)
    if entry.is_external:
        raise TesseraError(f"function '{func_name}' is only declared; it has no body to compile")
    return [_with_view(tensor_spec(t, f"input {i} of '{func_name}'"), view)
            for i, (t, view) in enumerate(zip(entry.type.inputs, declared_dtypes(entry)))]


def is_scalar(t: ir.Type) -> bool:
    """Whether `t` is a scalar (integer, float, index) type."""
    return isinstance(t, (ir.IntegerType, ir.FloatType, ir.IndexType))


def result_signature(module: ir.Module, func_name: str,
                     dynamic: bool = False) -> list[TensorSpec]:
    """Result specs of `func_name` in `module` (same rules as the inputs, and scalar
    results come back as 0-d arrays); with `dynamic`, sizes known only at run time
    (a data-dependent result such as bincount's) are -1."""
    entry = entry_function(module, func_name)
    return [TensorSpec((), numpy_dtype(t)) if is_scalar(t)
            else tensor_spec(t, f"result {i} of '{func_name}'", dynamic)
            for i, t in enumerate(entry.type.results)]


def to_numpy(x) -> np.ndarray:
    """numpy view of a numpy array, torch tensor or scalar."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        import torch

        t = x.detach().cpu().resolve_conj().resolve_neg()
        if t.dtype == torch.bfloat16:
            import ml_dtypes

            return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
        return t.numpy()
    try:
        array = np.asarray(x)
    except (ValueError, TypeError) as e:
        raise TesseraError(f"a {type(x).__name__} is not an array: {e}") from None
    if array.dtype.kind not in "biufc" and array.dtype.name != "bfloat16":
        raise TesseraError(f"a {type(x).__name__} of {array.dtype} is not a numeric array")
    return array


def contiguous(a: np.ndarray) -> np.ndarray:
    """`a` in C order, keeping its rank (np.ascontiguousarray makes 0-d arrays 1-d)."""
    return a if a.flags.c_contiguous else a.copy(order="C")


class Executable:
    """A compiled program for one target. Call it on arrays; read `report` (and
    `timings`, the report's)."""

    def __init__(self, target: str, runner, signature: list[TensorSpec], report,
                 result_views=()):
        self.target = target
        self.runner = runner  # callable(list of np.ndarray) -> tuple of np.ndarray
        self.signature = signature
        self.report = report
        self.result_views = list(result_views)  # per output: the dtype callers get, or None

    @property
    def timings(self) -> dict[str, float]:
        return self.report.timings

    def __call__(self, *inputs):
        arrays = [to_numpy(x) for x in inputs]
        if len(arrays) != len(self.signature):
            expected = ", ".join(map(str, self.signature)) or "none"
            raise TesseraError(f"expected {len(self.signature)} inputs ({expected}), "
                               f"got {len(arrays)}")
        for i, (a, spec) in enumerate(zip(arrays, self.signature)):
            if tuple(a.shape) != spec.shape or a.dtype != spec.caller_dtype:
                got = "x".join(str(d) for d in tuple(a.shape) + (a.dtype.name,))
                raise TesseraError(f"input {i} is {got} but the compiled program expects {spec}")
        start = time.perf_counter()
        outputs = self.runner([contiguous(a).view(spec.dtype)
                               for a, spec in zip(arrays, self.signature)])
        self.report.timings["run_s"] = time.perf_counter() - start
        views = self.result_views + [None] * len(outputs)
        outputs = tuple(a if view is None else a.view(view) for a, view in zip(outputs, views))
        if len(outputs) == 0:
            return None
        return outputs[0] if len(outputs) == 1 else outputs
