"""IREE as tessera's targets use it: MLIR text in, a vmfb out, run on numpy arrays.

IREE carries its own copy of MLIR: modules reach it as text, never as objects of
tessera's bindings. Shared by the iree-cpu target, the GPU targets and the reference
interpreter (tessera.reference).
"""

from __future__ import annotations

import re

import numpy as np

from tessera.errors import TesseraError

# On the CPU, f64 stays f64 (IREE demotes it to f32 by default, so programs would not
# return what their signature says). GPUs keep IREE's demotion: its GPU codegen cannot
# distribute f64 reductions.
CPU_FLAGS = ("--iree-input-demote-f64-to-f32=false",)


def available() -> tuple[bool, str]:
    """Whether the iree-base-compiler and iree-base-runtime pip packages are installed."""
    try:
        import iree.compiler  # noqa: F401
        import iree.runtime  # noqa: F401
    except ImportError as e:
        return False, f"IREE is not installed ({e}); pip install iree-base-compiler iree-base-runtime"
    return True, ""


def compile_text(text: str, flags, what: str, target_backends=None) -> bytes:
    """iree-compile `text` with `flags`; a failure is a TesseraError starting with `what`."""
    import iree.compiler as ireec

    try:
        return ireec.compile_str(text, target_backends=list(target_backends or ()),
                                 extra_args=list(flags))
    except ireec.CompilerToolError as e:
        raise TesseraError(f"{what}:\n{_diagnostics(str(e))}") from None


_PASS_FRAME = re.compile(r"mlir::iree_compiler::[\w:]*::(\w+Pass)::runOnOperation")


def _diagnostics(text: str) -> str:
    """IREE's error text without its invocation dump (paths of the pip package); a
    crash of iree-compile is named as such, without its stack dump."""
    body = text.split("Diagnostics:", 1)[-1]
    body = body.split("\nInvoked with:", 1)[0].strip()
    if "Stack dump:" in body:
        before = body.split("Please report issues", 1)[0].split("Stack dump:", 1)[0].strip()
        frame = _PASS_FRAME.search(body)
        where = f" in {frame.group(1)}" if frame else ""
        crash = f"iree-compile crashed{where} (a bug in IREE 3.13, not in the input)"
        return f"{before}\n{crash}".strip()
    return body


class Runner:
    """Runs `func_name` of a vmfb on `driver`: a list of arrays in, a tuple of arrays out
    (scalars returned by the function become 0-d arrays of their declared type, given
    `outputs`, the result specs; no result, an empty tuple)."""

    def __init__(self, vmfb: bytes, func_name: str, driver: str = "local-task", outputs=None):
        import iree.runtime as ireert

        try:
            self.function = ireert.load_vm_flatbuffer(vmfb, driver=driver)[func_name]
        except (RuntimeError, ValueError, KeyError) as e:
            raise TesseraError(f"IREE could not load '{func_name}' on {driver}: "
                               f"{_first_line(e)}") from None
        self.func_name = func_name
        self.outputs = outputs

    def __call__(self, arrays) -> tuple[np.ndarray, ...]:
        try:
            results = self.function(*arrays)
        except (RuntimeError, ValueError, TypeError) as e:
            raise TesseraError(f"IREE could not run '{self.func_name}': {_first_line(e)}") from None
        if results is None:
            return ()
        if not isinstance(results, (tuple, list)):
            results = (results,)
        arrays = [np.asarray(r.to_host() if hasattr(r, "to_host") else r) for r in results]
        if self.outputs is not None:  # a scalar comes back as a Python number: its type
            arrays = [a.astype(spec.dtype, copy=False) if a.ndim == 0 else a
                      for a, spec in zip(arrays, self.outputs)]
        return tuple(arrays)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
