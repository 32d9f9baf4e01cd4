"""The reference interpreter: run a module, at any stage of a tessera pipeline, with
the meaning its ops have, on this machine.

- a module still on tensors (linalg, tensor-level `systolic.matmul` turned back into
  linalg by `tessera-systolic-to-linalg`) runs through IREE's llvm-cpu backend, the
  plain reference path;
- a module holding buffer-level functions (kernels outlined by a target's pipeline)
  runs in the host JIT: the vector dialect is portable, so a microkernel runs on this
  CPU with the same semantics.

Kernels of a target's own kind (the NPU's ISA kernels, AMX tile kernels) are run by that
target's `Target.evaluate`, which falls back to this one for the rest.
"""

from __future__ import annotations

import numpy as np

from tessera.mlir import func, ir


def functions(module: ir.Module) -> list[func.FuncOp]:
    """The module's top-level functions."""
    return [op for op in module.body.operations if isinstance(op, func.FuncOp)]


def has_buffer_functions(module: ir.Module) -> bool:
    """Whether any function takes a memref (the module is past bufferization)."""
    return any(isinstance(t, ir.MemRefType) for f in functions(module) for t in f.type.inputs)


def evaluate(module: ir.Module, arrays, func_name: str = "main") -> tuple[np.ndarray, ...]:
    """Outputs of `func_name` of `module` on `arrays`; `module` is not changed."""
    from tessera import iree
    from tessera.executable import contiguous, result_signature
    from tessera.host import HostProgram, copy_module, lowered_copy
    from tessera.pipeline import Pipeline

    module = copy_module(module)
    arrays = [contiguous(np.asarray(a)) for a in arrays]
    Pipeline(module.context).add("tessera-systolic-to-linalg").run(module)
    if has_buffer_functions(module):
        lowered, outputs = lowered_copy(module, func_name)
        return HostProgram(lowered, outputs, {}).run(arrays)
    vmfb = iree.compile_text(str(module), ["--iree-llvmcpu-target-cpu=host", *iree.CPU_FLAGS],
                             "IREE could not compile the reference", ["llvm-cpu"])
    return iree.Runner(vmfb, func_name, outputs=result_signature(module, func_name))(arrays)
