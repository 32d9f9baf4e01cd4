"""Target `npu-sim`: tessera's systolic-array NPU simulator, outputs and cycles from one run.

`compile` runs the npu-sim pipeline (matmuls -> ISA-level kernels), loads every kernel
into a flat instruction list (`program.py`) and times it (`timing.py`, analytic, per
instruction); everything else in the model is host code, JIT-compiled through LLVM
(`tessera.host`). Calling the result runs the host code, which calls the kernels; each
kernel call executes its instructions on numpy (`functional.py`). The report
(`executable.report`, see `report.py`) depends only on the program, not on the data.
"""

from __future__ import annotations

import functools
import time
from collections import Counter

from tessera.executable import Executable, entry_signature
from tessera.hardware import npu_preset
from tessera.host import HostProgram, lowered_copy
from tessera.mlir import func, ir

from tessera.targets.npu_sim import functional
from tessera.targets.npu_sim.program import kernels, load_kernel
from tessera.targets.npu_sim.report import KernelReport, Report
from tessera.targets.npu_sim.timing import simulate

NAME = "npu-sim"

# Bookkeeping ops that are not work the host does.
_NOT_WORK = {"func.func", "func.return", "func.call", "arith.constant", "tensor.empty",
             "bufferization.to_buffer", "bufferization.to_tensor", "memref.alloc",
             "linalg.yield", "tensor.yield"}


def available() -> tuple[bool, str]:
    """npu-sim needs only numpy and the MLIR bindings (for the host code's JIT)."""
    return True, ""


def host_ops(module: ir.Module) -> dict[str, int]:
    """Ops that stay on the host, by name (outside kernels, bookkeeping excluded)."""
    counts: Counter = Counter()

    def visit(op):
        name = op.operation.name if hasattr(op, "operation") else op.name
        if name not in _NOT_WORK and not name.startswith(("arith.", "math.")):
            counts[name] += 1
        return ir.WalkResult.ADVANCE

    for f in module.body.operations:
        if isinstance(f, func.FuncOp) and "systolic.kernel" not in f.attributes:
            for block in f.regions[0].blocks:
                for op in block.operations:
                    op.operation.walk(visit)
    return dict(counts)


def pipeline(context: ir.Context, hw=None):
    """The tessera passes for the NPU `hw` (a preset name or an NpuConfig)."""
    from tessera.pipelines import npu_sim

    return npu_sim.pipeline(context, npu_preset(hw))


def load(module: ir.Module, func_name: str = "main", timed: bool = True):
    """(HostProgram, kernel reports) for a module the npu-sim pipeline has run on: every
    kernel loaded (and timed, when `timed`) and the host code JIT-compiled around it."""
    kernel_reports, externals = [], {}
    for kernel in kernels(module):
        program = load_kernel(kernel)
        if timed:
            kernel_reports.append(KernelReport(program.name, program.gemm, program,
                                               simulate(program)))
        arguments = [(program.buffers[i].shape, program.buffers[i].dtype)
                     for i in program.arguments]
        externals[program.name] = (functools.partial(functional.run, program), arguments)
    host_module, outputs = lowered_copy(module, func_name, externals)
    return HostProgram(host_module, outputs, externals), kernel_reports


def compile(module: ir.Module, hw=None, *, func_name: str = "main") -> Executable:
    """Compile `module` (linalg on tensors) for the NPU described by `hw` (a preset name,
    `name:ideal`, or an NpuConfig; default gemmini-16x16)."""
    config = npu_preset(hw)
    signature = entry_signature(module, func_name)
    start = time.perf_counter()
    pipeline(module.context, config).run(module)
    passes_s = time.perf_counter() - start

    start = time.perf_counter()
    program, kernel_reports = load(module, func_name)
    report = Report(config, kernel_reports, host_ops(module))
    backend_s = time.perf_counter() - start
    return Executable(NAME, program.run, signature, {"passes_s": passes_s, "backend_s": backend_s},
                      report=report)
