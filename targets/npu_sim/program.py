"""Loading an ISA-level kernel into a flat list of instructions.

A kernel made by `tessera-systolic-tile` (and `tessera-tile-distribute`) is a function
of static loops (`scf.for`), index arithmetic, views (`memref.subview`) and `systolic`
ops. Shapes and trip counts are known when it is loaded, so the loader runs the control
part once and records every `systolic` op with the concrete block it touches. Running a
kernel is then a straight pass over that list (see `functional.py`), and its timing a
second pass that does not depend on the data (see `timing.py`).

The loader first turns each op into a small Python closure over numbered value slots,
once per op, so loops with thousands of iterations cost little.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from tessera.errors import TesseraError
from tessera.executable import numpy_dtype
from tessera.mlir import arith, func, ir, memref, scf

from tessera.dialects import systolic, tile
from tessera.dialects.systolic import Kernel, Memory, array_params, kernel_functions

# Index values are non-negative here, so signed and unsigned comparisons agree.
_P = arith.CmpIPredicate
_CMP = {_P.eq: lambda a, b: a == b, _P.ne: lambda a, b: a != b,
        _P.slt: lambda a, b: a < b, _P.sle: lambda a, b: a <= b,
        _P.sgt: lambda a, b: a > b, _P.sge: lambda a, b: a >= b,
        _P.ult: lambda a, b: a < b, _P.ule: lambda a, b: a <= b,
        _P.ugt: lambda a, b: a > b, _P.uge: lambda a, b: a >= b}
MAX_INSTRUCTIONS = 4_000_000  # per kernel: loading and timing take ~1 s per 100k

_ISA_STEP = 4  # instructions per reduction step: two move-ins, a preload and a compute


@dataclass
class Buffer:
    """A memory a kernel touches: a global argument, or a scratchpad/accumulator block."""

    name: str
    space: str  # "global" | "spad" | "acc"
    shape: tuple[int, ...]
    dtype: np.dtype
    unit: int = 0
    role: str | None = None  # for arguments: lhs, rhs, acc, bias, out


class View:
    """A box of a buffer: per-dim offsets and sizes, some dims dropped (rank reduction).

    Shape, element count and numpy index are computed once: the simulator reads them for
    every instruction.
    """

    __slots__ = ("buffer", "offsets", "sizes", "keep", "shape", "elements", "index")

    def __init__(self, buffer: int, offsets: tuple, sizes: tuple, keep: tuple):
        self.buffer, self.offsets, self.sizes, self.keep = buffer, offsets, sizes, keep
        self.shape = tuple(sizes[d] for d in keep)
        self.elements = math.prod(self.shape)
        self.index = tuple(slice(o, o + s) if d in keep else o
                           for d, (o, s) in enumerate(zip(offsets, sizes)))


@dataclass(frozen=True)
class MoveIn:
    src: View
    dst: View
    unit: int


@dataclass(frozen=True)
class Preload:
    src: View
    unit: int


@dataclass(frozen=True)
class Compute:
    lhs: View
    rhs: View
    out: View
    accumulate: bool
    unit: int


@dataclass(frozen=True)
class MoveOut:
    src: View
    dst: View
    bias: View | None
    relu: bool
    scale: float | None
    unit: int


@dataclass(frozen=True)
class Fence:
    unit: int


@dataclass
class Program:
    """A loaded kernel: its buffers, its instructions and the hardware it targets."""

    name: str
    buffers: list[Buffer]
    arguments: list[int]  # buffer index of each kernel argument, in order
    instrs: list = field(default_factory=list)
    rows: int = 0
    cols: int = 0
    dataflow: str = "ws"
    units: int = 1
    memory: dict = field(default_factory=dict)
    gemm: dict = field(default_factory=dict)
    mapping: systolic.Mapping | None = None  # the kernel's #systolic.mapping, when it has one


def _whole(buffer: int, shape) -> View:
    return View(buffer, (0,) * len(shape), tuple(shape), tuple(range(len(shape))))


class Loader:
    """Runs the control part of one kernel function and records its instructions."""

    def __init__(self, kernel: func.FuncOp):
        self.kernel = kernel
        self.slots: dict = {}
        self.unit = 0
        info, memory = Kernel.of(kernel), Memory.of(kernel)
        self.program = Program(kernel.sym_name.value, [], [])
        self.program.memory = dataclasses.asdict(memory)
        self.program.gemm = {"batch": info.batch, "m": info.m, "n": info.n, "k": info.k}
        self.program.mapping = systolic.Mapping.of(kernel)
        roles = info.roles
        self.entry = kernel.regions[0].blocks[0]
        self.env: list = []
        self.views: dict[tuple, View] = {}
        for role, arg in zip(roles, self.entry.arguments):
            t = ir.MemRefType(arg.type)
            index = self._new_buffer(role, "global", t, role=role)
            self.program.arguments.append(index)
            self.env_set(arg, _whole(index, t.shape))

    # --- value slots -------------------------------------------------------------------

    def slot(self, value) -> int:
        if value not in self.slots:
            self.slots[value] = len(self.slots)
            self.env.append(None)
        return self.slots[value]

    def env_set(self, value, x) -> None:
        self.env[self.slot(value)] = x

    def view(self, buffer: int, offsets: tuple, sizes: tuple, keep: tuple) -> View:
        """The view of these fields, made once: a loop touches the same blocks again."""
        key = (buffer, offsets, sizes, keep)
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = View(buffer, offsets, sizes, keep)
        return view

    def _new_buffer(self, name, space, t: ir.MemRefType, role=None) -> int:
        shape = tuple(t.shape)
        if any(d < 0 for d in shape):
            raise TesseraError(f"kernel {self.program.name}: buffer {name} has a dynamic shape")
        dtype = numpy_dtype(t.element_type)
        self.program.buffers.append(Buffer(name, space, shape, dtype, self.unit, role))
        return len(self.program.buffers) - 1

    # --- compiling ops to closures -----------------------------------------------------

    def load(self) -> Program:
        for step in self.compile_block(self.entry):
            step(self.env)
        if not self.program.rows:
            raise TesseraError(f"kernel {self.program.name} has no systolic op")
        return self.program

    def compile_block(self, block) -> list:
        steps = []
        for op in block.operations:
            handler = HANDLERS.get(type(op))
            if handler is None:
                raise TesseraError(f"the npu simulator cannot run '{op.operation.name}' "
                                   f"in kernel {self.program.name}")
            step = handler(self, op)
            if step is not None:
                steps.append(step)
        return steps

    def _array(self, attr) -> None:
        rows, cols, dataflow = array_params(attr)
        p = self.program
        if p.rows and (p.rows, p.cols, p.dataflow) != (rows, cols, dataflow):
            raise TesseraError(f"kernel {p.name} mixes arrays: {p.rows}x{p.cols} {p.dataflow} "
                               f"and {rows}x{cols} {dataflow}")
        p.rows, p.cols, p.dataflow = rows, cols, dataflow


def _constant(loader: Loader, op):
    value = op.value
    out = loader.slot(op.result)
    if isinstance(value, ir.IntegerAttr):
        v = value.value
    else:
        raise TesseraError(f"the npu simulator only needs integer constants, got {value}")

    def run(env):
        env[out] = v
    return run


def _binary(fn):
    def handler(loader: Loader, op):
        a, b, out = loader.slot(op.lhs), loader.slot(op.rhs), loader.slot(op.result)

        def run(env):
            env[out] = fn(env[a], env[b])
        return run
    return handler


def _cmpi(loader: Loader, op):
    test = _CMP[arith.CmpIPredicate(ir.IntegerAttr(op.predicate).value)]
    a, b, out = loader.slot(op.lhs), loader.slot(op.rhs), loader.slot(op.result)

    def run(env):
        env[out] = test(env[a], env[b])
    return run


def _select(loader: Loader, op):
    c, t, f, out = (loader.slot(v) for v in (op.condition, op.true_value, op.false_value, op.result))

    def run(env):
        env[out] = env[t] if env[c] else env[f]
    return run


def _for(loader: Loader, op):
    lb, ub, st = (loader.slot(v) for v in (op.lowerBound, op.upperBound, op.step))
    iv = loader.slot(op.induction_variable)
    if len(op.results):
        raise TesseraError("the npu simulator runs scf.for loops without iter_args only")
    body = loader.compile_block(op.body)

    def run(env):
        for i in range(env[lb], env[ub], env[st]):
            env[iv] = i
            for step in body:
                step(env)
    return run


def _alloc(loader: Loader, op):
    t = ir.MemRefType(op.result.type)
    kinds = ((systolic.SpadAttr, "spad"), (systolic.AccAttr, "acc"), (tile.LocalAttr, "local"))
    space = next((name for kind, name in kinds if isinstance(t.memory_space, kind)), "global")
    out = loader.slot(op.result)

    def run(env):
        index = loader._new_buffer(f"{space}{len(loader.program.buffers)}", space, t)
        env[out] = _whole(index, t.shape)
    return run


def _subview(loader: Loader, op):
    src, out = loader.slot(op.source), loader.slot(op.result)
    offsets = [loader.slot(v) for v in op.offsets]
    sizes = [loader.slot(v) for v in op.sizes]
    static_offsets, static_sizes = list(op.static_offsets), list(op.static_sizes)
    if any(s != 1 for s in op.static_strides):
        raise TesseraError("the npu simulator supports unit-stride subviews only")
    result_rank = len(ir.MemRefType(op.result.type).shape)
    sentinel = ir.ShapedType.get_dynamic_stride_or_offset()
    dyn_size = ir.ShapedType.get_dynamic_size()

    def run(env):
        base: View = env[src]
        it_o, it_s = iter(offsets), iter(sizes)
        offs = [env[next(it_o)] if s == sentinel else s for s in static_offsets]
        szs = [env[next(it_s)] if s == dyn_size else s for s in static_sizes]
        # Dims of the source view map onto dims of the base buffer through `keep`.
        new_offsets, new_sizes = list(base.offsets), list(base.sizes)
        for d, o, s in zip(base.keep, offs, szs):
            new_offsets[d] += o
            new_sizes[d] = s
        drop = len(base.keep) - result_rank
        keep = []
        for d, s in zip(base.keep, szs):
            if drop and s == 1:
                drop -= 1
                continue
            keep.append(d)
        env[out] = loader.view(base.buffer, tuple(new_offsets), tuple(new_sizes), tuple(keep))
    return run


def _alias(loader: Loader, op):
    # memref.cast only changes the static type; the view is the same.
    src, out = loader.slot(op.source), loader.slot(op.result)

    def run(env):
        env[out] = env[src]
    return run


def _nothing(loader: Loader, op):
    return None


def _emit(make):
    def handler(loader: Loader, op):
        if isinstance(op, (systolic.PreloadOp, systolic.ComputeOp)):  # the ops on the array
            loader._array(op.array)
        return make(loader, op)
    return handler


def _move_in(loader: Loader, op):
    src, dst = loader.slot(op.src), loader.slot(op.dst)
    instrs = loader.program.instrs

    def run(env):
        instrs.append(MoveIn(env[src], env[dst], loader.unit))
    return run


def _preload(loader: Loader, op):
    src = loader.slot(op.stationary)
    instrs = loader.program.instrs

    def run(env):
        instrs.append(Preload(env[src], loader.unit))
    return run


def _compute(loader: Loader, op):
    a, b, c = loader.slot(op.lhs), loader.slot(op.rhs), loader.slot(op.out)
    accumulate = bool(ir.BoolAttr(op.accumulate).value)
    instrs = loader.program.instrs

    def run(env):
        instrs.append(Compute(env[a], env[b], env[c], accumulate, loader.unit))
    return run


def _move_out(loader: Loader, op):
    src, dst = loader.slot(op.src), loader.slot(op.dst)
    bias = loader.slot(op.bias) if op.bias is not None else None
    epilogue = ir.DictAttr(op.epilogue)
    relu = "relu" in epilogue
    scale = ir.FloatAttr(epilogue["scale"]).value if "scale" in epilogue else None
    instrs = loader.program.instrs

    def run(env):
        instrs.append(MoveOut(env[src], env[dst], env[bias] if bias is not None else None,
                              relu, scale, loader.unit))
    return run


def _fence(loader: Loader, op):
    instrs = loader.program.instrs

    def run(env):
        instrs.append(Fence(loader.unit))
    return run


def _launch(loader: Loader, op):
    from tessera.dialects.tile import grid_params

    rows, cols, _, _ = grid_params(op.grid)
    loader.program.units = rows * cols
    block = op.body.blocks[0]
    r, c = (loader.slot(a) for a in block.arguments)
    body = loader.compile_block(block)

    def run(env):
        for unit in range(rows * cols):
            loader.unit = unit
            env[r], env[c] = divmod(unit, cols)
            for step in body:
                step(env)
        loader.unit = 0
    return run


HANDLERS = {
    arith.ConstantOp: _constant,
    arith.AddIOp: _binary(lambda a, b: a + b),
    arith.SubIOp: _binary(lambda a, b: a - b),
    arith.MulIOp: _binary(lambda a, b: a * b),
    arith.DivUIOp: _binary(lambda a, b: a // b),
    arith.RemUIOp: _binary(lambda a, b: a % b),
    arith.MinSIOp: _binary(min),
    arith.MaxSIOp: _binary(max),
    arith.CmpIOp: _cmpi,
    arith.SelectOp: _select,
    scf.ForOp: _for,
    scf.YieldOp: _nothing,
    memref.AllocOp: _alloc,
    memref.DeallocOp: _nothing,
    memref.SubViewOp: _subview,
    memref.CastOp: _alias,
    func.ReturnOp: _nothing,
    systolic.MoveInOp: _emit(_move_in),
    systolic.PreloadOp: _emit(_preload),
    systolic.ComputeOp: _emit(_compute),
    systolic.MoveOutOp: _emit(_move_out),
    systolic.FenceOp: _emit(_fence),
    tile.LaunchOp: _launch,
    tile.YieldOp: _nothing,
}


def load_kernel(kernel) -> Program:
    """The flat program of one kernel function (a `func.func` with `systolic.kernel`)."""
    return Loader(kernel).load()


def kernels(module: ir.Module) -> list:
    """The ISA kernel functions of a module, in order."""
    return [f for f, _ in kernel_functions(module, "isa")]


def estimated_instructions(kernel) -> int:
    """How many instructions loading `kernel` would record, from its attribute alone:
    one reduction step per (output block, k step) and `_ISA_STEP` instructions a step."""
    info = Kernel.of(kernel)
    bm, bn, bk = info.block
    steps = info.batch * -(-info.m // bm) * -(-info.n // bn) * -(-info.k // bk)
    return steps * _ISA_STEP


def check_size(kernel) -> None:
    """Refuse, before any work, a kernel too large to simulate instruction by instruction."""
    estimate = estimated_instructions(kernel)
    if estimate > MAX_INSTRUCTIONS:
        info = Kernel.of(kernel)
        gemm = f"{info.m}x{info.n}x{info.k}" + (f" x{info.batch}" if info.batch > 1 else "")
        raise TesseraError(
            f"the matmul {gemm} (MxNxK) of kernel {kernel.sym_name.value} needs about "
            f"{estimate:,} array instructions on this NPU; the simulator runs at most "
            f"{MAX_INSTRUCTIONS:,} per kernel (use a larger array or a smaller model)")
