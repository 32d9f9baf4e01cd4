"""Pass `tessera-systolic-tile`: tensor-level `systolic.matmul` -> an ISA-level kernel.

Each `systolic.matmul` becomes a call to a new private function (a *kernel*) whose body
moves tiles between global memory and the array's scratchpad (`#systolic.spad`) and
accumulator (`#systolic.acc`), preloads the stationary operand and computes, one fold at
a time. The caller hands the kernel its operands as buffers (`bufferization.to_buffer`)
and takes the result back as a tensor.

The kernel follows the matmul's `#systolic.mapping` exactly (tile sizes, loop order,
buffers, grid split; see `Mapping` and `targets/npu_sim/schedule.py` for the nest). A
matmul without one is mapped here by the heuristic of `tessera-systolic-map`: the old
fixed nest of each dataflow (ws: an R x C rhs block stationary, lhs rows streamed; os: an
R x C result block stationary, the reduction streamed; is: a transposed lhs block
stationary, rhs columns streamed) with the longest streamed chunk that fits. Run
`tessera-systolic-map` first for a mapping from the cost model's search.

Edge tiles are padded with zeros at move-in, never rejected. A zero-filled accumulator is
not moved in: the first reduction step overwrites instead of adding. Transposed operands
are transposed on the host before the call. The epilogue (bias, relu, requantize) is
applied at move-out. A mapping whose buffers do not fit the memories is an error at the
matmul.
"""

from dataclasses import dataclass

from tessera.errors import TesseraError
from tessera.hardware import NpuConfig
from tessera.knobs import knobs_from
from tessera.mlir import arith, ir, memref, scf

from tessera.dialects.common import shape_of
from tessera.passes.common import call_kernel, index, is_zero_fill, outline, rewrite_each
from tessera.passes.systolic_to_linalg import matmul_to_linalg
from tessera.dialects.systolic import (KERNEL, MAPPING, MEMORY, AccAttr, ComputeOp, Kernel,
                                       MatmulOp, Mapping, Memory, MoveInOp, MoveOutOp,
                                       PreloadOp, SpadAttr, array_params,
                                       mark_parallel, transpose_flags)
from tessera.targets.npu_sim.schedule import Gemm, Schedule, walk


def element_bytes(t: ir.Type) -> int:
    """Bytes of one element of shaped type `t`."""
    return (ir.ShapedType(t).element_type.width + 7) // 8


@dataclass(frozen=True)
class SystolicTileOptions(knobs_from(NpuConfig, "spad_bytes", "acc_bytes", "double_buffer",
                                     "dram_bytes_per_cycle", "dma_latency", "grid_rows",
                                     "grid_cols")):
    """Memories of one array (bytes), whether the heuristic gives operands two buffers
    each, the DRAM channel the kernel is simulated with (recorded on the kernel for the
    simulator; dram-bytes-per-cycle = 0 means unbounded) and the unit grid the heuristic
    splits for: the NpuConfig's fields."""


def gemm_of(op) -> Gemm:
    """The matmul tensor-level `op` computes, as a kernel sees it."""
    t_lhs, _ = transpose_flags(op.transpose)
    *batch, m, k = shape_of(op.lhs.type)
    if t_lhs:
        m, k = k, m
    n = shape_of(op.acc.type)[-1]
    return Gemm(m, n, k, batch[0] if batch else 1, bool(batch), element_bytes(op.lhs.type),
                element_bytes(op.acc.type), element_bytes(op.res.type), is_zero_fill(op.acc),
                op.bias is not None)


# --- building the kernel ---------------------------------------------------------------


def _value(v):
    return index(v) if isinstance(v, int) else v


def _view(source, offsets, sizes):
    """A subview with unit strides (the source itself when that is all of it); integer
    sizes are static, values dynamic. Leading unit dims beyond the sizes given (the batch
    index) are dropped."""
    t = ir.MemRefType(source.type)
    if list(offsets) == [0] * len(t.shape) and list(sizes) == list(t.shape):
        return source  # the whole buffer
    strides, offset = t.get_strides_and_offset()
    rank, kept = len(t.shape), len(sizes)
    full_offsets = list(offsets)
    full_sizes = [1] * (rank - kept) + list(sizes)
    dynamic = ir.ShapedType.get_dynamic_size()
    dynamic_offset = ir.ShapedType.get_dynamic_stride_or_offset()
    if all(isinstance(o, int) for o in full_offsets) and offset != dynamic_offset:
        new_offset = offset + sum(o * s for o, s in zip(full_offsets, strides))
    else:
        new_offset = dynamic_offset
    result = ir.MemRefType.get(
        [s if isinstance(s, int) else dynamic for s in sizes], t.element_type,
        layout=ir.StridedLayoutAttr.get(new_offset, strides[rank - kept:]),
        memory_space=t.memory_space)
    return memref.subview(source, full_offsets, full_sizes, [1] * rank, result_type=result)


class _Buffers:
    """One or two buffers of the same type; `pick(i)` alternates by the parity of i."""

    def __init__(self, shape, element, space, count):
        t = ir.MemRefType.get(shape, element, memory_space=space.get())
        self.all = [memref.AllocOp(t, [], []).result for _ in range(count)]

    def pick(self, iteration):
        if len(self.all) == 1:
            return self.all[0]
        if isinstance(iteration, int):
            return self.all[iteration % 2]
        odd = arith.cmpi(arith.CmpIPredicate.ne, arith.remui(iteration, index(2)), index(0))
        return arith.select(odd, self.all[1], self.all[0])


class IrEmitter:
    """Emits a schedule (`walk`) as loops, views and `systolic` ops in the current
    insertion point. Sizes and offsets are ints where known when the kernel is built,
    index values otherwise; arithmetic on two ints stays an int."""

    def __init__(self, schedule: Schedule, args: dict, op):
        self.s = schedule
        self.args = args  # role -> kernel block argument
        self.array = op.array
        self.epilogue = op.epilogue
        self.elements = {"spad": ir.ShapedType(op.lhs.type).element_type,
                         "acc": ir.ShapedType(op.acc.type).element_type}

    # --- arithmetic on ints or index values --------------------------------------------

    @staticmethod
    def _arith(a, b, python, emit):
        if isinstance(a, int) and isinstance(b, int):
            return python(a, b)
        return emit(_value(a), _value(b))

    def add(self, a, b):
        if b == 0 and isinstance(b, int):
            return a
        return self._arith(a, b, lambda x, y: x + y, arith.addi)

    def mul(self, a, b):
        if a == 0 and isinstance(a, int):
            return 0
        return self._arith(a, b, lambda x, y: x * y, arith.muli)

    def div(self, a, b):
        return self._arith(a, b, lambda x, y: x // y, arith.divui)

    def remaining(self, tile: int, total: int, start):
        """min(tile, total - start): the size of the tile at `start`."""
        if isinstance(start, int):
            return min(tile, total - start)
        if total % tile == 0:
            return tile
        return arith.minsi(index(tile), arith.subi(index(total), start))

    # --- structure -----------------------------------------------------------------------

    def loop(self, lo, hi, step, parallel, body):
        if isinstance(lo, int) and isinstance(hi, int) and lo >= hi:
            return
        loop = scf.ForOp(_value(lo), _value(hi), _value(step))
        if parallel:
            mark_parallel(loop)
        with ir.InsertionPoint(loop.body):
            body(loop.induction_variable)
            scf.YieldOp([])

    def buffers(self, role, shape, space, count):
        return _Buffers(list(shape), self.elements[space],
                        SpadAttr if space == "spad" else AccAttr, count)

    def _global(self, role, batch, offsets, sizes):
        prefix = [] if batch is None else [batch]
        return _view(self.args[role], prefix + list(offsets), list(sizes))

    def move_in(self, role, batch, offsets, sizes, buffer):
        MoveInOp(self._global(role, batch, offsets, sizes), buffer)

    def move_out(self, buffer, batch, offsets, sizes):
        bias = (_view(self.args["bias"], [offsets[1]], [sizes[1]])
                if "bias" in self.args else None)
        MoveOutOp(buffer, self._global("out", batch, offsets, sizes),
                  epilogue=self.epilogue, bias=bias)

    # --- the array -----------------------------------------------------------------------

    def _along(self, start, actual, step, tile, body):
        """body(offset) for each fold of a tile along one array dim from `start`: no loop
        when the tile holds one fold at most."""
        if tile <= step:
            if start == 0:
                body(0)
            return
        self.loop(start, actual, step, False, body)

    def _compute(self, lhs, rhs, out, accumulate):
        ComputeOp(lhs, rhs, out, self.array, accumulate=ir.BoolAttr.get(accumulate))

    def folds(self, lhs, rhs, acc, offsets, sizes, overwrite):
        s, (ro, co), (tm, tn, tk) = self.s, offsets, sizes
        r, c, tile = s.rows, s.cols, s.tile
        if s.dataflow == "os":
            def output_block(mf, nf):
                out = _view(acc, [self.add(ro, mf), self.add(co, nf)], [r, c])
                PreloadOp(out, self.array)
                self._compute(_view(lhs, [mf, 0], [r, tk]), _view(rhs, [0, nf], [tk, c]), out,
                              not overwrite)

            self._along(0, tm, r, tile["m"],
                        lambda mf: self._along(0, tn, c, tile["n"], lambda nf: output_block(mf, nf)))
            return
        # ws and is: the stationary block spans k (array rows) and n (ws) or m (is) cols.
        other, actual = ("n", tn) if s.dataflow == "ws" else ("m", tm)

        def block(kf, xf, accumulate):
            if s.dataflow == "ws":
                stationary = _view(rhs, [kf, xf], [r, c])
                PreloadOp(stationary, self.array)
                self._compute(_view(lhs, [0, kf], [tm, r]), stationary,
                              _view(acc, [ro, self.add(co, xf)], [tm, c]), accumulate)
            else:
                stationary = _view(lhs, [xf, kf], [c, r])
                PreloadOp(stationary, self.array)
                self._compute(stationary, _view(rhs, [kf, 0], [r, tn]),
                              _view(acc, [self.add(ro, xf), co], [c, tn]), accumulate)

        def row(kf, accumulate):
            self._along(0, actual, c, tile[other], lambda xf: block(kf, xf, accumulate))

        if overwrite:  # the first row of folds overwrites, the rest add
            row(0, False)
            self._along(r, tk, r, tile["k"], lambda kf: row(kf, True))
        else:
            self._along(0, tk, r, tile["k"], lambda kf: row(kf, True))


def _kernel_function(module_op, op, schedule: Schedule, roles, types,
                     options: SystolicTileOptions):
    """The outlined ISA kernel of `op`, with what the simulator needs to know about it."""
    g, tile = schedule.gemm, schedule.tile
    kernel = Kernel("isa", tuple(roles), g.batch, g.m, g.n, g.k,
                    (tile["m"], tile["n"], tile["k"]))
    memory = Memory(options.spad_bytes, options.acc_bytes, options.dram_bytes_per_cycle,
                    options.dma_latency)
    with op.context:
        attributes = {KERNEL: kernel.attr(), MEMORY: memory.attr(),
                      MAPPING: schedule.mapping.attr()}

    def build(arguments):
        walk(schedule, IrEmitter(schedule, dict(zip(roles, arguments)), op))

    return outline(module_op, "systolic_kernel", types, op.location, attributes, build)


def schedule_of(op, options: SystolicTileOptions) -> Schedule:
    """The schedule of matmul `op`: its mapping (or the heuristic's), checked against the
    memories; a mapping that does not fit is a TesseraError."""
    from tessera.passes.systolic_map import heuristic_mapping

    rows, cols, dataflow = array_params(op.array)
    gemm = gemm_of(op)
    mapping = Mapping.of(op)
    if mapping is None:
        mapping = heuristic_mapping(gemm, rows, cols, dataflow, options.spad_bytes,
                                    options.acc_bytes, options.double_buffer,
                                    options.grid_rows * options.grid_cols)
    schedule = Schedule(gemm, rows, cols, dataflow, mapping)
    if problem := schedule.misfit(options.spad_bytes, options.acc_bytes):
        raise TesseraError(f"the mapping ({mapping.text()}) does not fit this "
                           f"{rows}x{cols} {dataflow} unit: {problem}")
    return schedule


def systolic_tile(op, pass_, options: SystolicTileOptions) -> None:
    """Pass body: outline every systolic.matmul into an ISA-level kernel. A matmul with a
    zero-size dimension has nothing to put on the array: it stays on the host (linalg)."""

    def rewrite_matmul(matmul, rewriter):
        if 0 in shape_of(matmul.lhs.type) + shape_of(matmul.rhs.type):
            return matmul_to_linalg(matmul, rewriter)
        schedule = schedule_of(matmul, options)
        call_kernel(matmul, rewriter, schedule.gemm.zero_init,
                    lambda roles, types: _kernel_function(op, matmul, schedule, roles, types,
                                                          options))

    rewrite_each(op, pass_, MatmulOp, rewrite_matmul, "tessera-systolic-tile")
