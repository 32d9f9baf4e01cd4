"""Comparing program outputs with a reference, and the seeded inputs tools run on.

Shared by the retargeting matrix, `tessera check`, `tessera-compile` and `tessera-sim`.
Every function accepts any number of outputs, including none and zero-size arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tessera.errors import TesseraError

ATOL = 1e-4
RTOL = 1e-4
MAX_RANDOM_INPUT_BYTES = 1 << 31  # seeded inputs tools make for an .mlir file: 2 GiB in all


def as_tuple(x) -> tuple:
    """Outputs as a tuple (one array, a tuple or list of them, or None for no outputs)."""
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


@dataclass(frozen=True)
class Tolerance:
    """Floats match when |got - want| <= atol + rtol * |want| everywhere; integers and
    booleans must be equal."""

    atol: float = ATOL
    rtol: float = RTOL

    def __post_init__(self):
        for name in ("atol", "rtol"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value >= 0:
                raise TesseraError(f"{name} must be a non-negative number, got {value!r}")

    def compare(self, got, want) -> tuple[bool, float]:
        """(within tolerance, largest absolute difference) over all outputs."""
        got, want = as_tuple(got), as_tuple(want)
        if len(got) != len(want):
            return False, float("inf")
        ok, worst = True, 0.0
        for g, w in zip(got, want):
            g, w = np.asarray(g), np.asarray(w)
            if g.shape != w.shape:
                return False, float("inf")
            worst = max(worst, max_abs_difference(g, w))
            if w.dtype.kind in "iub":
                ok &= bool(np.array_equal(g, w))
            else:
                g64, w64 = _widened(g), _widened(w)
                ok &= bool(np.allclose(g64, w64, rtol=self.rtol, atol=self.atol, equal_nan=True))
        return ok, worst


def _widened(a: np.ndarray) -> np.ndarray:
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def max_abs_difference(got: np.ndarray, want: np.ndarray) -> float:
    """The largest |got - want| (0 for empty arrays, inf where exactly one is NaN)."""
    if got.size == 0:
        return 0.0
    diff = np.abs(_widened(got) - _widened(want))
    return float(np.nan_to_num(diff, nan=np.inf).max())


def max_error(got, want) -> float:
    """The largest absolute difference over all outputs (inf if they do not pair up)."""
    got, want = as_tuple(got), as_tuple(want)
    if len(got) != len(want):
        return float("inf")
    errors = [max_abs_difference(np.asarray(g), np.asarray(w)) if np.shape(g) == np.shape(w)
              else float("inf") for g, w in zip(got, want)]
    return max(errors, default=0.0)


def random_inputs(signature) -> list[np.ndarray]:
    """Seeded random arrays for a program's inputs: normal floats (complex: normal real
    and imaginary parts), integers in the int8 range (unsigned: 0..255), booleans."""
    total = sum(spec.nbytes for spec in signature)
    if total > MAX_RANDOM_INPUT_BYTES:
        raise TesseraError(f"the inputs take {total / (1 << 30):.1f} GiB; tessera makes random "
                           f"inputs of at most {MAX_RANDOM_INPUT_BYTES >> 30} GiB (run such a "
                           f"program from Python with your own arrays)")
    rng = np.random.default_rng(0)
    arrays = []
    for spec in signature:
        kind = spec.dtype.kind
        if kind == "b":
            arrays.append(rng.integers(0, 2, spec.shape).astype(spec.dtype))
        elif kind == "u":
            arrays.append(rng.integers(0, 256, spec.shape).astype(spec.dtype))
        elif kind == "i":
            arrays.append(rng.integers(-128, 128, spec.shape).astype(spec.dtype))
        elif kind == "c":
            values = rng.standard_normal(spec.shape) + 1j * rng.standard_normal(spec.shape)
            arrays.append(values.astype(spec.dtype))
        else:
            arrays.append(rng.standard_normal(spec.shape).astype(spec.dtype))
    return arrays
