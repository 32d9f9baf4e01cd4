"""Pass `tessera-systolic-to-vector`: `systolic.matmul` -> a register-blocked vector
microkernel.

For a vector unit of `vlen` bits per register (RISC-V RVV, fixed length), each matmul
becomes a call to an outlined kernel on buffers. Its register blocking
(`#systolic.blocking<rows, groups, lmul, unroll>`, see `Blocking`) is chosen per matmul
by a small cost model (`choose_blocking`) from the unit's registers, VLEN, the element
type and the matmul's sizes, unless the matmul carries one (set by hand) or the pass's
options fix some of its fields; the kernel function carries the blocking it was built
with.

One block of the result is `rows` rows by `groups` register groups of `lmul` registers.
Per reduction step the block loads `groups` groups of a rhs row and multiply-adds each
of its `rows` lhs values (a scalar, broadcast) into its accumulators, which stay in
registers for the whole reduction (unrolled `unroll` times). The main loops touch only
whole blocks, so they need no masks and one vector type (one `vsetvli`, hoisted out of
the loops by LLVM); the rows left over run as one smaller block, the columns left over
as a block of fewer groups whose last group is masked. The epilogue (bias, relu) is
applied to the accumulators before they are stored. Batched (rank-3) matmuls loop over
the batch around that.

Handled: f32·f32→f32, and i8·i8→i32 (rhs lanes sign-extended to i16 once per step and
multiplied by the i16 lhs value into i32 accumulators: RVV's widening multiply-add).
Other element types and requantizing epilogues are left to `tessera-systolic-to-linalg`.
"""

import itertools
import math
from dataclasses import dataclass

from tessera.errors import TesseraError
from tessera.hardware import RiscvConfig
from tessera.knobs import knob, knobs_from
from tessera.mlir import arith, ir, memref, scf, vector

from tessera.dialects.common import element, element_combo, shape_of
from tessera.dialects.systolic import (BLOCKING, KERNEL, LMULS, Blocking, Kernel, MatmulOp,
                                       has_scale, transpose_flags)
from tessera.passes.common import NO_MATCH, call_kernel, index, is_zero_fill, outline, \
    rewrite_each

SUPPORTED = {("f32", "f32"), ("i8", "i32")}
REGISTERS = 32  # vector registers of RVV (and of AVX-512)
UNROLLS = (1, 2, 4)
LOOP_OVERHEAD = 3  # scalar instructions per reduction step: two pointer steps, the branch


@dataclass(frozen=True)
class SystolicToVectorOptions(knobs_from(RiscvConfig, "vlen")):
    """vlen: bits of one vector register (the RiscvConfig's); rows, groups, lmul,
    k_unroll: fix that field of every kernel's blocking (0: the cost model chooses)."""

    rows: int = knob(0, "result rows per block (0: chosen by the cost model)", low=0, high=64)
    groups: int = knob(0, "register groups of columns per block (0: chosen)", low=0, high=64)
    lmul: int = knob(0, "vector registers per group, RVV LMUL (0: chosen)", choices=(0,) + LMULS)
    k_unroll: int = knob(0, "reduction steps per loop iteration (0: chosen)", low=0, high=64)


# --- the cost model -------------------------------------------------------------------

def registers_needed(blocking: Blocking, is_int: bool) -> int:
    """Vector registers a block holds at once: its accumulators, the rhs groups of one
    step (i16 halves of them for int8; two steps' when the loop is unrolled, as LLVM's
    scheduler loads the next step's early: with less room it spills) and, for int8, the
    i8 lanes being widened."""
    acc = blocking.rows * blocking.groups * blocking.lmul
    steps = 2 if blocking.unroll > 1 else 1
    if not is_int:
        return acc + steps * blocking.groups * blocking.lmul
    half = max(1, blocking.lmul // 2)
    return acc + steps * (blocking.groups * half + 1)


def lanes_of(blocking: Blocking, vlen: int) -> int:
    """32-bit lanes in one register group."""
    return blocking.lmul * vlen // 32


def estimate(blocking: Blocking, vlen: int, m: int, n: int, k: int,
             is_int: bool) -> tuple[float, float]:
    """(instructions, LMUL-weighted instructions) the kernel executes for an m x n x k
    matmul, counted per block: per reduction step a rhs load (and widening, for int8) per
    group, a scalar lhs load per row, a multiply-add per row and group, and the loop's
    overhead; per block the stores. Used only to rank blockings."""
    lanes = lanes_of(blocking, vlen)
    width = blocking.groups * lanes
    columns = [(blocking.groups, n // width)]
    if n % width:
        columns.append((math.ceil(n % width / lanes), 1))
    rows = [(blocking.rows, m // blocking.rows)]
    if m % blocking.rows:
        rows.append((m % blocking.rows, 1))
    steps = k // blocking.unroll * blocking.unroll
    overhead = steps / blocking.unroll * LOOP_OVERHEAD + (k - steps) * LOOP_OVERHEAD
    instructions = weighted = 0.0
    for (r, r_count), (c, c_count) in itertools.product(rows, columns):
        vec = c * (2 if is_int else 1) + r * c
        scalar = r
        count = r_count * c_count
        instructions += count * (k * (vec + scalar) + overhead + 2 * r * c)
        weighted += count * (k * (vec * blocking.lmul + scalar) + overhead
                             + 2 * r * c * blocking.lmul)
    return instructions, weighted


def choose_blocking(vlen: int, m: int, n: int, k: int, is_int: bool,
                    fixed: dict | None = None) -> Blocking:
    """The blocking with the fewest estimated instructions plus LMUL-weighted
    instructions (so neither a narrow nor a merely wide kernel wins) among those whose
    registers fit, with the fields in `fixed` (name -> value) held."""
    fixed = fixed or {}
    options = {"rows": range(1, min(m, REGISTERS) + 1), "groups": range(1, 9), "lmul": LMULS,
               "unroll": [u for u in UNROLLS if u <= k] or [1]}
    for name, value in fixed.items():
        options[name] = [value]
    best, best_cost = None, None
    for values in itertools.product(*options.values()):
        blocking = Blocking(*values)
        if registers_needed(blocking, is_int) > REGISTERS:
            continue
        cost = sum(estimate(blocking, vlen, m, n, k, is_int))
        if best_cost is None or cost < best_cost:
            best, best_cost = blocking, cost
    if best is None:
        held = ", ".join(f"{name} {value}" for name, value in fixed.items())
        raise TesseraError(f"no register blocking with {held} fits the {REGISTERS} vector "
                           f"registers")
    return best


def check_fits(blocking: Blocking, is_int: bool) -> None:
    """A TesseraError unless `blocking` fits the vector registers."""
    needed = registers_needed(blocking, is_int)
    if needed > REGISTERS:
        raise TesseraError(f"the blocking ({blocking.text()}) needs {needed} vector registers "
                           f"but the unit has {REGISTERS}")


# --- the kernel -----------------------------------------------------------------------

class _Kernel:
    """Builds one microkernel function body."""

    def __init__(self, args: dict, gemm: tuple, blocking: Blocking, vlen: int, acc_type,
                 relu: bool):
        self.args, self.blocking, self.relu = args, blocking, relu
        self.batch, self.m, self.n, self.k = gemm
        self.batched = len(ir.MemRefType(args["out"].type).shape) == 3
        self.lanes = lanes_of(blocking, vlen)
        self.is_int = isinstance(acc_type, ir.IntegerType)
        self.acc_type = acc_type
        self.vec = ir.VectorType.get([self.lanes], acc_type)
        self.mask_type = ir.VectorType.get([self.lanes], ir.IntegerType.get_signless(1))
        self.zero = arith.constant(acc_type, ir.IntegerAttr.get(acc_type, 0) if self.is_int
                                   else ir.FloatAttr.get(acc_type, 0.0))
        self.zeros = vector.broadcast(self.vec, self.zero)
        if self.is_int:
            self.i8 = ir.IntegerType.get_signless(8)
            self.i16 = ir.IntegerType.get_signless(16)
            self.narrow = ir.VectorType.get([self.lanes], self.i8)
            self.half = ir.VectorType.get([self.lanes], self.i16)
            self.zeros8 = vector.broadcast(self.narrow, arith.constant(
                self.i8, ir.IntegerAttr.get(self.i8, 0)))
        self.b = None  # the batch index while building a batched kernel

    def _at(self, *indices):
        return ([self.b] if self.batched else []) + list(indices)

    def _load(self, base, mask, *indices):
        """A vector of accumulator-typed lanes from `base` (masked when `mask`)."""
        if mask is None:
            return vector.load(self.vec, base, self._at(*indices))
        return vector.maskedload(self.vec, base, self._at(*indices), mask, self.zeros)

    def _rhs(self, kk, col, mask):
        """A rhs row slice: f32 lanes, or int8 lanes sign-extended to i16."""
        rhs = self.args["rhs"]
        if not self.is_int:
            return self._load(rhs, mask, kk, col)
        if mask is None:
            loaded = vector.load(self.narrow, rhs, self._at(kk, col))
        else:
            loaded = vector.maskedload(self.narrow, rhs, self._at(kk, col), mask, self.zeros8)
        return arith.extsi(self.half, loaded)

    def _multiply_add(self, a, b, acc):
        """acc + a·b for a broadcast lhs value `a`: an FMA, or for int8 a widening
        multiply-add of i16 lanes into i32 (sign-extended products)."""
        if not self.is_int:
            return vector.fma(a, b, acc)
        return arith.addi(arith.muli(arith.extsi(self.vec, a), arith.extsi(self.vec, b)), acc)

    def _step(self, kk, row0, rows: int, cols: list, masks: list, acc: list) -> list:
        """One reduction step of a block: acc + lhs[rows, kk] · rhs[kk, cols]."""
        b = [self._rhs(kk, col, mask) for col, mask in zip(cols, masks)]
        out = []
        for r in range(rows):
            a = memref.load(self.args["lhs"], self._at(arith.addi(row0, index(r)), kk))
            if self.is_int:
                a = vector.broadcast(self.half, arith.extsi(self.i16, a))
            else:
                a = vector.broadcast(self.vec, a)
            out += [self._multiply_add(a, b[g], acc[r * len(cols) + g])
                    for g in range(len(cols))]
        return out

    def _reduce(self, row0, rows: int, cols: list, masks: list, init: list) -> list:
        """The block's accumulators after the whole reduction: a loop unrolled
        `unroll` times, then a loop over the steps left over."""
        unroll = self.blocking.unroll
        main = self.k // unroll * unroll
        acc = init
        for start, stop, step in ((0, main, unroll), (main, self.k, 1)):
            if start == stop:
                continue
            loop = scf.ForOp(index(start), index(stop), index(step), acc)
            with ir.InsertionPoint(loop.body):
                values = list(loop.inner_iter_args)
                for u in range(step):
                    kk = loop.induction_variable
                    if u:
                        kk = arith.addi(kk, index(u))
                    values = self._step(kk, row0, rows, cols, masks, values)
                scf.YieldOp(values)
            acc = list(loop.results)
        return acc

    def block(self, row0, rows: int, col0, groups: int, masks: list):
        """Result rows row0..row0+rows, `groups` register groups of columns from col0."""
        cols = [col0 if g == 0 else arith.addi(col0, index(g * self.lanes))
                for g in range(groups)]
        init = []
        for r in range(rows):
            row = arith.addi(row0, index(r))
            for col, mask in zip(cols, masks):
                init.append(self._load(self.args["acc"], mask, row, col) if "acc" in self.args
                            else self.zeros)
        acc = self._reduce(row0, rows, cols, masks, init)
        for r in range(rows):
            row = arith.addi(row0, index(r))
            for g, (col, mask) in enumerate(zip(cols, masks)):
                value = acc[r * groups + g]
                if "bias" in self.args:
                    bias = (vector.load(self.vec, self.args["bias"], [col]) if mask is None
                            else vector.maskedload(self.vec, self.args["bias"], [col], mask,
                                                   self.zeros))
                    value = arith.addi(value, bias) if self.is_int else arith.addf(value, bias)
                if self.relu:
                    value = (arith.maxsi(value, self.zeros) if self.is_int
                             else arith.maximumf(value, self.zeros))
                if mask is None:
                    vector.store(value, self.args["out"], self._at(row, col))
                else:
                    vector.maskedstore(self.args["out"], self._at(row, col), mask, value)

    def _row_blocks(self, col0, groups: int, masks: list):
        rows = self.blocking.rows
        full = self.m // rows * rows
        if full:
            loop = scf.ForOp(index(0), index(full), index(rows))
            with ir.InsertionPoint(loop.body):
                self.block(loop.induction_variable, rows, col0, groups, masks)
                scf.YieldOp([])
        if full < self.m:
            self.block(index(full), self.m - full, col0, groups, masks)

    def _columns(self):
        groups = self.blocking.groups
        width = groups * self.lanes
        full = self.n // width * width
        if full:
            loop = scf.ForOp(index(0), index(full), index(width))
            with ir.InsertionPoint(loop.body):
                self._row_blocks(loop.induction_variable, groups, [None] * groups)
                scf.YieldOp([])
        left = self.n - full
        if left:
            whole, part = divmod(left, self.lanes)
            masks = [None] * whole
            if part:
                masks.append(vector.create_mask(self.mask_type, [index(part)]))
            self._row_blocks(index(full), len(masks), masks)

    def build(self):
        if not self.batched:
            self._columns()
            return
        loop = scf.ForOp(index(0), index(self.batch), index(1))
        with ir.InsertionPoint(loop.body):
            self.b = loop.induction_variable
            self._columns()
            scf.YieldOp([])


def _blocking_for(op, options: SystolicToVectorOptions, m: int, n: int, k: int,
                  is_int: bool) -> Blocking:
    """The matmul's own blocking (checked), else the options' fields held and the rest
    chosen by the cost model."""
    blocking = Blocking.of(op)
    if blocking is None:
        chosen = {"rows": options.rows, "groups": options.groups, "lmul": options.lmul,
                  "unroll": options.k_unroll}
        fixed = {name: value for name, value in chosen.items() if value}
        blocking = choose_blocking(options.vlen, m, n, k, is_int, fixed)
    check_fits(blocking, is_int)
    return blocking


def _rewrite(module_op, op, rewriter, options: SystolicToVectorOptions):
    """One supported systolic.matmul -> a call of a new microkernel."""
    acc_t = op.acc.type
    combo = element_combo(element(op.lhs.type), element(acc_t))
    if combo not in SUPPORTED or has_scale(op.epilogue) \
            or 0 in shape_of(op.lhs.type) + shape_of(op.rhs.type):
        return NO_MATCH
    *batch, m, n = shape_of(acc_t)
    k = shape_of(op.lhs.type)[-2 if transpose_flags(op.transpose)[0] else -1]
    acc_type = element(acc_t)
    is_int = isinstance(acc_type, ir.IntegerType)
    blocking = _blocking_for(op, options, m, n, k, is_int)
    gemm = (batch[0] if batch else 1, m, n, k)
    relu = "relu" in ir.DictAttr(op.epilogue)

    def make_kernel(roles, types):
        kernel = Kernel("vector", tuple(roles), *gemm,
                        (blocking.rows, blocking.groups * lanes_of(blocking, options.vlen), 1))
        with op.context:
            attributes = {KERNEL: kernel.attr(), BLOCKING: blocking.attr()}

        def build(arguments):
            _Kernel(dict(zip(roles, arguments)), gemm, blocking, options.vlen, acc_type,
                    relu).build()

        return outline(module_op, "vector_kernel", types, op.location, attributes, build)

    call_kernel(op, rewriter, is_zero_fill(op.acc), make_kernel)


def systolic_to_vector(op, pass_, options: SystolicToVectorOptions) -> None:
    """Pass body: every supported systolic.matmul becomes a microkernel call; a blocking
    that does not fit is an error at its matmul."""
    rewrite_each(op, pass_, MatmulOp,
                 lambda matmul, rewriter: _rewrite(op, matmul, rewriter, options),
                 "tessera-systolic-to-vector")
