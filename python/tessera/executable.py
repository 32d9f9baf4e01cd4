"""What a target's compile returns: a callable on numpy arrays (or torch tensors) that
checks its inputs against the compiled signature and keeps its measurements."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from tessera.errors import TesseraError
from tessera.mlir import func, ir

_DTYPES = {"f32": "float32", "f64": "float64", "f16": "float16", "i8": "int8", "i16": "int16",
           "i32": "int32", "i64": "int64", "i1": "bool", "ui8": "uint8"}


def numpy_dtype(element: str) -> np.dtype:
    """The numpy dtype of an MLIR element type name (bf16 via ml_dtypes)."""
    if element == "bf16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    if element not in _DTYPES:
        raise TesseraError(f"element type {element} has no numpy equivalent")
    return np.dtype(_DTYPES[element])


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: np.dtype

    def __str__(self) -> str:
        return "x".join(str(d) for d in self.shape + (self.dtype.name,))


def entry_signature(module: ir.Module, func_name: str) -> list[TensorSpec]:
    """Input specs of `func_name` in `module`; a missing or dynamic entry is an error."""
    for op in module.body.operations:
        if isinstance(op, func.FuncOp) and op.sym_name.value == func_name:
            specs = []
            for t in op.type.inputs:
                if not isinstance(t, ir.RankedTensorType) or not t.has_static_shape:
                    raise TesseraError(
                        f"entry function '{func_name}' takes {t}; tessera needs static "
                        f"shapes (export the model with fixed-size example inputs)")
                specs.append(TensorSpec(tuple(t.shape), numpy_dtype(str(t.element_type))))
            return specs
    raise TesseraError(f"the module has no function '{func_name}' to call")


def to_numpy(x) -> np.ndarray:
    """numpy view of a numpy array, torch tensor or scalar."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        import torch

        t = x.detach().cpu()
        if t.dtype == torch.bfloat16:
            import ml_dtypes

            return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
        return t.numpy()
    return np.asarray(x)


@dataclass
class Executable:
    """A compiled program for one target. Call it on arrays; read `timings`."""

    target: str
    runner: object  # callable(list of np.ndarray) -> tuple of np.ndarray
    signature: list[TensorSpec]
    timings: dict[str, float] = field(default_factory=dict)
    report: object = None  # a target's extra measurements (e.g. simulated cycles)

    def __call__(self, *inputs):
        arrays = [to_numpy(x) for x in inputs]
        if len(arrays) != len(self.signature):
            raise TesseraError(f"expected {len(self.signature)} inputs "
                               f"({', '.join(map(str, self.signature))}), got {len(arrays)}")
        for i, (a, spec) in enumerate(zip(arrays, self.signature)):
            if tuple(a.shape) != spec.shape or a.dtype != spec.dtype:
                got = "x".join(str(d) for d in tuple(a.shape) + (a.dtype.name,))
                raise TesseraError(f"input {i} is {got} but the compiled program expects {spec}")
        start = time.perf_counter()
        outputs = self.runner([np.ascontiguousarray(a) for a in arrays])
        self.timings["run_s"] = time.perf_counter() - start
        return outputs[0] if len(outputs) == 1 else outputs
