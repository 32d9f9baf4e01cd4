"""tessera's targets, one module each, found by name.

A target module has the same shape everywhere: `NAME`, `available() -> (bool, reason)`,
and `compile(module, hw=None, **options)` returning an executable that is called on
numpy arrays and keeps its measurements.
"""

from __future__ import annotations

import importlib

from tessera.errors import TesseraError
from tessera.passes.registry import suggest

# Name -> module under tessera.targets; imported only when asked for.
TARGETS = {
    "iree-cpu": "iree_cpu",
    "cpu-amx": "cpu_amx",
    "npu-sim": "npu_sim",
    "riscv": "riscv",
    "gpu-cuda": "gpu_cuda",
    "gpu-rocm": "gpu_rocm",
    "gpu-vulkan": "gpu_vulkan",
}


def get_target(name: str):
    """The target module called `name`; an unknown name lists the known ones."""
    if name not in TARGETS:
        raise TesseraError(f"unknown target '{name}'{suggest(name, TARGETS)} "
                           f"(targets: {', '.join(TARGETS)})")
    return importlib.import_module(f"tessera.targets.{TARGETS[name]}")
