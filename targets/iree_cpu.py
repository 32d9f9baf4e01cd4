"""Target `iree-cpu`: the plain reference path, linalg on tensors through IREE's llvm-cpu
backend, run by IREE's local-task runtime on this CPU.

The module reaches IREE as text: IREE has its own copy of MLIR and no objects cross
between the two. Before that, `pipelines.iree_cpu` runs tessera's passes, so the
reference path goes through the `systolic` dialect and back.
"""

from __future__ import annotations

import time

from tessera.errors import TesseraError
from tessera.executable import Executable, entry_signature
from tessera.mlir import ir

NAME = "iree-cpu"
IREE_FLAGS = ("--iree-llvmcpu-target-cpu=host",)


def available() -> tuple[bool, str]:
    """iree-cpu needs only the pip packages iree-base-compiler and iree-base-runtime."""
    try:
        import iree.compiler  # noqa: F401
        import iree.runtime  # noqa: F401
    except ImportError as e:
        return False, f"IREE is not installed ({e}); pip install iree-base-compiler iree-base-runtime"
    return True, ""


def build(text: str) -> bytes:
    """IREE-compile MLIR text (linalg on tensors) to a vmfb for this CPU."""
    import iree.compiler as ireec

    try:
        return ireec.compile_str(text, target_backends=["llvm-cpu"], extra_args=list(IREE_FLAGS))
    except ireec.CompilerToolError as e:
        raise TesseraError(f"IREE could not compile the module for llvm-cpu:\n{e}") from None


def pipeline(context: ir.Context, hw=None):
    """The tessera passes run before IREE (`hw` is unused)."""
    from tessera.pipelines import iree_cpu

    return iree_cpu.pipeline(context)


def compile(module: ir.Module, hw=None, *, func_name: str = "main") -> Executable:
    """Run tessera's iree-cpu pipeline on `module` (in place), then IREE; `hw` is unused."""
    ok, why = available()
    if not ok:
        raise TesseraError(f"target iree-cpu is not available here: {why}")
    signature = entry_signature(module, func_name)
    start = time.perf_counter()
    pipeline(module.context).run(module)
    passes_s = time.perf_counter() - start
    start = time.perf_counter()
    vmfb = build(str(module))
    backend_s = time.perf_counter() - start
    return Executable(NAME, runner(vmfb, func_name), signature,
                      {"passes_s": passes_s, "backend_s": backend_s})


def runner(vmfb: bytes, func_name: str, driver: str = "local-task"):
    """A function running `func_name` of an IREE vmfb on `driver` (arrays in, a tuple
    of arrays out); the GPU targets use it with their drivers."""
    import iree.runtime as ireert

    bound = ireert.load_vm_flatbuffer(vmfb, driver=driver)
    function = bound[func_name]

    def run(arrays):
        results = function(*arrays)
        if isinstance(results, (tuple, list)):
            return tuple(r.to_host() for r in results)
        return (results.to_host(),)

    return run
