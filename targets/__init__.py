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
    "gpu-cuda": "gpu:cuda",  # one module for the three GPU apis: gpu.target(api)
    "gpu-rocm": "gpu:rocm",
    "gpu-vulkan": "gpu:vulkan",
}


def get_target(name: str):
    """The target called `name` (a module, or for `module:variant` the module's
    `target(variant)`); an unknown name lists the known ones."""
    if name not in TARGETS:
        raise TesseraError(f"unknown target '{name}'{suggest(name, TARGETS)} "
                           f"(targets: {', '.join(TARGETS)})")
    module_name, _, variant = TARGETS[name].partition(":")
    module = importlib.import_module(f"tessera.targets.{module_name}")
    return module.target(variant) if variant else module
