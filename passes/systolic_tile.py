"""Pass `tessera-systolic-tile`: tensor-level `systolic.matmul` -> an ISA-level kernel.

Each `systolic.matmul` becomes a call to a new private function (a *kernel*) whose body
moves blocks between global memory and the array's scratchpad (`#systolic.spad`) and
accumulator (`#systolic.acc`), preloads the stationary operand and computes, one fold at
a time. The caller hands the kernel its operands as buffers (`bufferization.to_buffer`)
and takes the result back as a tensor. The loop nest follows the array's dataflow:

- ws: a KxN block of rhs stays in the array (R x C); rows of lhs stream through;
- os: an MxN block of the result stays in the array; the reduction streams through;
- is: a transposed MxK block of lhs stays in the array; columns of rhs stream through.

The streamed dimension is cut into chunks so that every buffer fits the memories, two
buffers per operand when `double-buffer` is set and they fit (so that moves overlap
computes). Edge blocks are padded with zeros at move-in, never rejected. A zero-filled
accumulator is not moved in: the first reduction step overwrites instead of adding.
Transposed operands are transposed on the host before the call. The epilogue (bias,
relu, requantize) is applied at move-out.
"""

from dataclasses import dataclass

from tessera.errors import TesseraError
from tessera.hardware import NpuConfig
from tessera.knobs import knobs_from
from tessera.mlir import arith, ir, memref, scf

from tessera.dialects.common import shape_of
from tessera.passes.common import call_kernel, index, is_zero_fill, outline, rewrite_each
from tessera.passes.systolic_to_linalg import matmul_to_linalg
from tessera.dialects.systolic import (KERNEL, MEMORY, AccAttr, ComputeOp, Kernel, MatmulOp,
                                       Memory, MoveInOp, MoveOutOp, PreloadOp, SpadAttr,
                                       array_params, mark_parallel, transpose_flags)



def element_bytes(t: ir.Type) -> int:
    """Bytes of one element of shaped type `t`."""
    return (ir.ShapedType(t).element_type.width + 7) // 8


@dataclass(frozen=True)
class SystolicTileOptions(knobs_from(NpuConfig, "spad_bytes", "acc_bytes", "double_buffer",
                                     "dram_bytes_per_cycle", "dma_latency")):
    """Memories of one array (bytes), whether operands get two buffers each, and the
    DRAM channel the kernel is simulated with (recorded on the kernel for the
    simulator; dram-bytes-per-cycle = 0 means unbounded): the NpuConfig's fields."""


@dataclass(frozen=True)
class Plan:
    """How one matmul is cut: the streamed chunk and how many buffers each memory holds."""

    dataflow: str
    rows: int
    cols: int
    batch: int | None
    m: int
    n: int
    k: int
    chunk: int
    buffers: int  # 1 or 2, for the scratchpad operands and the accumulator blocks
    zero_init: bool

    @property
    def streamed(self) -> int:
        return {"ws": self.m, "os": self.k, "is": self.n}[self.dataflow]

    @property
    def block(self) -> tuple[int, int, int]:
        """(rows, cols) of the result one output block covers and the reduction step."""
        r, c, t = self.rows, self.cols, self.chunk
        return {"ws": (t, c, r), "os": (r, c, t), "is": (c, t, r)}[self.dataflow]


def _memory_need(dataflow, r, c, t, e_in, e_acc) -> tuple[int, int]:
    """(scratchpad, accumulator) bytes of one set of buffers with a streamed chunk t."""
    if dataflow == "ws":
        return (t * r + r * c) * e_in, t * c * e_acc
    if dataflow == "os":
        return (r * t + t * c) * e_in, r * c * e_acc
    return (c * r + r * t) * e_in, c * t * e_acc


def _largest_chunk(dataflow, r, c, limit, e_in, e_acc, spad, acc, buffers) -> int:
    """Largest t <= limit whose `buffers` sets of buffers fit both memories (0 if none)."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        s, a = _memory_need(dataflow, r, c, mid, e_in, e_acc)
        if buffers * s <= spad and buffers * a <= acc:
            lo = mid
        else:
            hi = mid - 1
    return lo


def plan_matmul(op, options: SystolicTileOptions) -> Plan:
    """Choose chunk and buffering for `op`; a matmul that cannot fit is a TesseraError."""
    rows, cols, dataflow = array_params(op.array)
    t_lhs, t_rhs = transpose_flags(op.transpose)
    *batch, m, k = shape_of(op.lhs.type)
    if t_lhs:
        m, k = k, m
    n = shape_of(op.acc.type)[-1]
    e_in, e_acc = element_bytes(op.lhs.type), element_bytes(op.acc.type)
    limit = {"ws": m, "os": k, "is": n}[dataflow]
    want = min(limit, rows if dataflow != "is" else cols)
    for buffers in ((2, 1) if options.double_buffer else (1,)):
        chunk = _largest_chunk(dataflow, rows, cols, limit, e_in, e_acc,
                               options.spad_bytes, options.acc_bytes, buffers)
        if chunk >= want or (buffers == 1 and chunk > 0):
            return Plan(dataflow, rows, cols, batch[0] if batch else None, m, n, k, chunk,
                        buffers, is_zero_fill(op.acc))
    spad_need, acc_need = _memory_need(dataflow, rows, cols, 1, e_in, e_acc)
    raise TesseraError(
        f"a {rows}x{cols} {dataflow} array cannot hold one fold of this matmul: it needs "
        f"{spad_need} bytes of scratchpad (spad-bytes is {options.spad_bytes}) and "
        f"{acc_need} bytes of accumulator (acc-bytes is {options.acc_bytes})")


# --- building the kernel ---------------------------------------------------------------



def _min(a, b):
    return arith.minsi(a, b)


def _sub(a, b):
    return arith.subi(a, b)


def _value(v):
    return index(v) if isinstance(v, int) else v


def _remaining(block: int, total: int, start):
    """min(block, total - start) as an index value (the size of an edge block)."""
    if isinstance(start, int):
        return index(min(block, total - start))
    return _min(index(block), _sub(index(total), start))


def _view(source, offsets, sizes):
    """A subview with unit strides; integer sizes are static, values dynamic. Leading
    unit dims beyond the sizes given (the batch index) are dropped."""
    t = ir.MemRefType(source.type)
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
    """One or two buffers of the same type; `pick(i)` alternates by iteration parity."""

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


def _for(lb: int, ub: int, step: int, parallel: bool = False):
    loop = scf.ForOp(index(lb), index(ub), index(step))
    if parallel:
        mark_parallel(loop)
    return loop


class KernelBuilder:
    """Emits the loop nest of one kernel, dataflow by dataflow."""

    def __init__(self, plan: Plan, op, args: dict, array, epilogue):
        self.p = plan
        self.args = args  # role -> kernel block argument
        self.array = array
        self.epilogue = epilogue
        self.in_elem = ir.ShapedType(op.lhs.type).element_type
        self.acc_elem = ir.ShapedType(op.acc.type).element_type
        self.batch_index = []

    # Offsets into a global operand: the batch index (if any) then the two given.
    def _global(self, role, row, col, rows, cols):
        return _view(self.args[role], self.batch_index + [row, col], [rows, cols])

    def _move_out(self, acc_buffer, m0, n0, tm, tn):
        dst = self._global("out", m0, n0, tm, tn)
        bias = _view(self.args["bias"], [n0], [tn]) if "bias" in self.args else None
        MoveOutOp(acc_buffer, dst, epilogue=self.epilogue, bias=bias)

    def _init_acc(self, acc_buffer, m0, n0, tm, tn):
        if not self.p.zero_init:
            MoveInOp(self._global("acc", m0, n0, tm, tn), acc_buffer)

    def _move_in_operands(self, a, b, iteration, m0, n0, k0, tm, tn, tk):
        """Move the lhs block (tm x tk at m0, k0) and rhs block (tk x tn at k0, n0) into
        this step's scratchpad buffers (padded); returns the two buffers."""
        a_buffer, b_buffer = a.pick(iteration), b.pick(iteration)
        MoveInOp(self._global("lhs", m0, _value(k0), tm, tk), a_buffer)
        MoveInOp(self._global("rhs", _value(k0), n0, tk, tn), b_buffer)
        return a_buffer, b_buffer

    def _reduction(self, step, body):
        """Run body(k0, k_iteration, accumulate) over the reduction: the first step peeled
        (it overwrites a zero-initialised accumulator), the rest in a loop."""
        body(0, 0, not self.p.zero_init)
        if self.p.k > step:
            loop = _for(step, self.p.k, step)
            with ir.InsertionPoint(loop.body):
                k0 = loop.induction_variable
                body(k0, arith.divui(k0, index(step)), True)
                scf.YieldOp([])

    def build(self):
        p = self.p
        if p.batch is None:
            return self._nest()
        loop = _for(0, p.batch, 1, parallel=True)
        with ir.InsertionPoint(loop.body):
            self.batch_index = [loop.induction_variable]
            self._nest()
            scf.YieldOp([])

    def _nest(self):
        return {"ws": self._ws, "os": self._os, "is": self._is}[self.p.dataflow]()

    def _blocks(self, order: str, m_step: int, n_step: int, body):
        """Two parallel loops over output blocks, m and n in `order` ("mn" or "nm");
        body(m0, n0, tm, tn, iteration of the inner loop) fills one block."""
        p = self.p
        extent = {"m": (p.m, m_step), "n": (p.n, n_step)}
        outer = _for(0, extent[order[0]][0], extent[order[0]][1], parallel=True)
        with ir.InsertionPoint(outer.body):
            inner = _for(0, extent[order[1]][0], extent[order[1]][1], parallel=True)
            with ir.InsertionPoint(inner.body):
                ivs = {order[0]: outer.induction_variable, order[1]: inner.induction_variable}
                m0, n0 = ivs["m"], ivs["n"]
                tm, tn = _remaining(m_step, p.m, m0), _remaining(n_step, p.n, n0)
                iteration = arith.divui(inner.induction_variable, index(extent[order[1]][1]))
                body(m0, n0, tm, tn, iteration)
                scf.YieldOp([])
            scf.YieldOp([])

    def _ws(self):
        """Rhs blocks (k x n) stationary; lhs rows streamed in chunks of t."""
        p, r, c, t = self.p, self.p.rows, self.p.cols, self.p.chunk
        a = _Buffers([t, r], self.in_elem, SpadAttr, p.buffers)
        b = _Buffers([r, c], self.in_elem, SpadAttr, p.buffers)
        acc = _Buffers([t, c], self.acc_elem, AccAttr, p.buffers)

        def block(m0, n0, tm, tn, iteration):
            acc_buffer = acc.pick(iteration)
            acc_view = _view(acc_buffer, [0, 0], [tm, c])
            self._init_acc(acc_buffer, m0, n0, tm, tn)

            def step(k0, i, accumulate):
                tk = _remaining(r, p.k, k0)
                a_buffer, b_buffer = self._move_in_operands(a, b, i, m0, n0, k0, tm, tn, tk)
                PreloadOp(b_buffer, self.array)
                ComputeOp(_view(a_buffer, [0, 0], [tm, r]), b_buffer, acc_view, self.array,
                          accumulate=ir.BoolAttr.get(accumulate))

            self._reduction(r, step)
            self._move_out(acc_buffer, m0, n0, tm, tn)

        self._blocks("nm", t, c, block)

    def _os(self):
        """Output blocks (m x n) stationary; the reduction streamed in chunks of t."""
        p, r, c, t = self.p, self.p.rows, self.p.cols, self.p.chunk
        a = _Buffers([r, t], self.in_elem, SpadAttr, p.buffers)
        b = _Buffers([t, c], self.in_elem, SpadAttr, p.buffers)
        acc = _Buffers([r, c], self.acc_elem, AccAttr, p.buffers)

        def block(m0, n0, tm, tn, iteration):
            acc_buffer = acc.pick(iteration)
            self._init_acc(acc_buffer, m0, n0, tm, tn)
            PreloadOp(acc_buffer, self.array)

            def step(k0, i, accumulate):
                tk = _remaining(t, p.k, k0)
                a_buffer, b_buffer = self._move_in_operands(a, b, i, m0, n0, k0, tm, tn, tk)
                ComputeOp(_view(a_buffer, [0, 0], [r, tk]), _view(b_buffer, [0, 0], [tk, c]),
                          acc_buffer, self.array, accumulate=ir.BoolAttr.get(accumulate))

            self._reduction(t, step)
            self._move_out(acc_buffer, m0, n0, tm, tn)

        self._blocks("mn", r, c, block)

    def _is(self):
        """Lhs blocks (m x k, placed transposed) stationary; rhs columns streamed in
        chunks of t."""
        p, r, c, t = self.p, self.p.rows, self.p.cols, self.p.chunk
        a = _Buffers([c, r], self.in_elem, SpadAttr, p.buffers)
        b = _Buffers([r, t], self.in_elem, SpadAttr, p.buffers)
        acc = _Buffers([c, t], self.acc_elem, AccAttr, p.buffers)

        def block(m0, n0, tm, tn, iteration):
            acc_buffer = acc.pick(iteration)
            acc_view = _view(acc_buffer, [0, 0], [c, tn])
            self._init_acc(acc_buffer, m0, n0, tm, tn)

            def step(k0, i, accumulate):
                tk = _remaining(r, p.k, k0)
                a_buffer, b_buffer = self._move_in_operands(a, b, i, m0, n0, k0, tm, tn, tk)
                PreloadOp(a_buffer, self.array)
                ComputeOp(a_buffer, _view(b_buffer, [0, 0], [r, tn]), acc_view, self.array,
                          accumulate=ir.BoolAttr.get(accumulate))

            self._reduction(r, step)
            self._move_out(acc_buffer, m0, n0, tm, tn)

        self._blocks("mn", c, t, block)


def _kernel_function(module_op, op, plan: Plan, roles, types, options: SystolicTileOptions):
    """The outlined ISA kernel of `op`, with what the simulator needs to know about it."""
    kernel = Kernel("isa", tuple(roles), plan.batch or 1, plan.m, plan.n, plan.k, plan.block)
    memory = Memory(options.spad_bytes, options.acc_bytes, options.dram_bytes_per_cycle,
                    options.dma_latency)
    with op.context:
        attributes = {KERNEL: kernel.attr(), MEMORY: memory.attr()}

    def build(arguments):
        KernelBuilder(plan, op, dict(zip(roles, arguments)), op.array, op.epilogue).build()

    return outline(module_op, "systolic_kernel", types, op.location, attributes, build)


def systolic_tile(op, pass_, options: SystolicTileOptions) -> None:
    """Pass body: outline every systolic.matmul into an ISA-level kernel. A matmul with a
    zero-size dimension has nothing to put on the array: it stays on the host (linalg)."""

    def rewrite_matmul(matmul, rewriter):
        if 0 in shape_of(matmul.lhs.type) + shape_of(matmul.rhs.type):
            return matmul_to_linalg(matmul, rewriter)
        plan = plan_matmul(matmul, options)
        call_kernel(matmul, rewriter, plan.zero_init,
                    lambda roles, types: _kernel_function(op, matmul, plan, roles, types, options))

    rewrite_each(op, pass_, MatmulOp, rewrite_matmul, "tessera-systolic-tile")
