"""Target `npu-sim`: tessera's systolic-array NPU simulator, outputs and cycles from one run.

`compile` runs the npu-sim pipeline (matmuls -> ISA-level kernels), loads every kernel
into a flat instruction list (`program.py`) and times it (`timing.py`, analytic, per
instruction); everything else in the model is host code, JIT-compiled through LLVM
(`tessera.host`). Calling the result runs the host code, which calls the kernels; each
kernel call executes its instructions on numpy (`functional.py`). The report
(`executable.report`, see `report.py`) depends only on the program, not on the data.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections import Counter

from tessera.hardware import NPU_PRESETS, NPU_VARIANTS, NpuConfig
from tessera.host import HostProgram, copy_module, lowered_copy
from tessera.mlir import arith, func, ir
from tessera.target import Target

from tessera.targets.npu_sim import functional
from tessera.targets.npu_sim.host import HostWork
from tessera.targets.npu_sim.host import cost as host_cost
from tessera.targets.npu_sim.program import check_size, kernels, load_kernel
from tessera.targets.npu_sim.report import KernelReport, NpuReport
from tessera.targets.npu_sim.timing import simulate

def _shaped(values) -> bool:
    return any(isinstance(v.type, ir.ShapedType) for v in values)


@functools.cache
def _bookkeeping() -> tuple:
    """Ops that move no data: calls, returns, constants, empty tensors, buffer views of
    tensors, allocations."""
    from tessera.mlir import bufferization, memref, tensor

    return (func.CallOp, func.ReturnOp, arith.ConstantOp, tensor.EmptyOp,
            bufferization.ToBufferOp, bufferization.ToTensorOp, memref.AllocOp)


def _works_on_data(op) -> bool:
    """Whether a host op works on tensors or buffers (and is not bookkeeping)."""
    return not isinstance(op.opview, _bookkeeping()) and \
        (_shaped(op.results) or _shaped(op.operands))


def _walk_host(module: ir.Module, kernel_functions: set, visit, order=ir.WalkOrder.POST_ORDER):
    """Walk every op of the functions that are not kernels with `visit`."""
    for f in module.body.operations:
        if isinstance(f, func.FuncOp) and f.sym_name.value not in kernel_functions:
            for block in f.regions[0].blocks:
                for op in block.operations:
                    op.operation.walk(visit, order)


def host_ops(module: ir.Module) -> dict[str, int]:
    """Ops that work on tensors or buffers on the host, by name: outside kernels, and
    without the bookkeeping ops that move no data (calls into kernels, buffer views of
    tensors, allocations, empty tensors)."""
    counts: Counter = Counter()

    def visit(op):
        if _works_on_data(op):
            counts[op.name] += 1
        return ir.WalkResult.ADVANCE

    _walk_host(module, {k.sym_name.value for k in kernels(module)}, visit)
    return dict(counts)


def host_work(module: ir.Module, hw: NpuConfig) -> list[HostWork]:
    """The host's ops in program order with their modelled cycles (`host.py`), each
    marked with how many kernels were called before it."""
    kernel_functions = {k.sym_name.value for k in kernels(module)}
    work: list[HostWork] = []
    called = 0

    def visit(op):
        nonlocal called
        view = op.opview
        if isinstance(view, func.CallOp) and view.callee.value in kernel_functions:
            called += 1
        elif _works_on_data(op):
            charged = host_cost(op, hw)
            if charged is not None:
                work.append(HostWork(op.name, *charged, called))
            if op.name.startswith("linalg."):
                return ir.WalkResult.SKIP  # its body is part of its cost
        return ir.WalkResult.ADVANCE

    _walk_host(module, kernel_functions, visit, ir.WalkOrder.PRE_ORDER)
    return work


def _text(kernel) -> str:
    """A kernel function as text without its name: kernels equal in it load the same."""
    # Local scope: numbering SSA values across the whole module took ~60 ms a kernel.
    text = kernel.operation.get_asm(use_local_scope=True, assume_verified=True)
    return text.replace(f"@{kernel.sym_name.value}(", "@(", 1)


def _loaded(module: ir.Module, timed: bool):
    """(program, timing or None, functional runner) of every kernel, in order. A model
    repeats its kernels (one per layer): one equal to a kernel before it shares that one's
    instructions, timing and runner, under its own name."""
    seen: dict[str, tuple] = {}
    for kernel in kernels(module):
        key = _text(kernel)
        if key not in seen:
            program = load_kernel(kernel)
            seen[key] = program, simulate(program) if timed else None, functional.Runner(program)
        program, timing, runner = seen[key]
        yield dataclasses.replace(program, name=kernel.sym_name.value), timing, runner


def timed_kernels(module: ir.Module) -> list[KernelReport]:
    """Every kernel of a module the npu-sim pipeline has run on, loaded and timed."""
    return [KernelReport(p.name, p.gemm, p, timing) for p, timing, _ in _loaded(module, True)]


def load(module: ir.Module, func_name: str = "main", timed: bool = True):
    """(HostProgram, kernel reports) for a module the npu-sim pipeline has run on: every
    kernel loaded (and timed, when `timed`) and the host code JIT-compiled around it."""
    kernel_reports, externals = [], {}
    for program, timing, runner in _loaded(module, timed):
        if timed:
            kernel_reports.append(KernelReport(program.name, program.gemm, program, timing))
        arguments = [(program.buffers[i].shape, program.buffers[i].dtype)
                     for i in program.arguments]
        externals[program.name] = (runner, arguments)
    host_module, outputs = lowered_copy(module, func_name, externals)
    # Unoptimized: LLVM's -O2 took 27 s on BERT-base's host code (one large function) and
    # saved nothing measurable per call, which the kernels' simulation dominates.
    return HostProgram(host_module, outputs, externals, opt_level=0), kernel_reports


def _check_sizes(module: ir.Module) -> None:
    """Before any work: an absurd matmul is refused, not run."""
    for kernel in kernels(module):
        check_size(kernel)


class NpuSim(Target[NpuConfig]):
    """Systolic-array NPU simulator: outputs and cycles from one run."""

    name, hw_type, presets, default_preset = "npu-sim", NpuConfig, NPU_PRESETS, "gemmini-16x16"
    variants = NPU_VARIANTS

    def pipeline(self, context: ir.Context, hw: NpuConfig):
        from tessera.pipelines import npu_sim

        return npu_sim.pipeline(context, hw)

    def front(self, context: ir.Context):
        from tessera.pipelines import npu_sim

        return npu_sim.front(context)

    def _report(self, module, hw: NpuConfig, kernel_reports) -> NpuReport:
        return NpuReport(self.name, hw, kernels=kernel_reports, host_ops=host_ops(module),
                         host_work=host_work(module, hw))

    def build(self, module, hw: NpuConfig, func_name, signature):
        _check_sizes(module)
        program, kernel_reports = load(module, func_name)
        return program.run, self._report(module, hw, kernel_reports)

    def estimate(self, module, hw=None) -> NpuReport:
        """The report alone (it depends only on the program): kernels loaded and timed,
        host work modelled, nothing JIT-compiled."""
        config = self.hardware(hw)
        passes_s = self.run_pipeline(module, config)
        start = time.perf_counter()
        with module.context, ir.Location.unknown():
            _check_sizes(module)
            report = self._report(module, config, timed_kernels(module))
        report.timings.update(passes_s=passes_s, backend_s=time.perf_counter() - start)
        return report

    def understands(self, module: ir.Module) -> bool:
        """Modules holding ISA-level kernels run on the functional simulator."""
        return bool(kernels(module))

    def evaluate(self, module, arrays, func_name="main"):
        if not self.understands(module):
            return super().evaluate(module, arrays, func_name)
        program, _ = load(copy_module(module), func_name, timed=False)
        return program.run(list(arrays))


TARGET = NpuSim()
