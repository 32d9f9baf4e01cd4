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
from tessera.mlir import arith, func, ir, memref, scf, vector, x86

from tessera.dialects.common import element, element_combo, shape_of
from tessera.dialects.systolic import (BLOCKING, KERNEL, LMULS, Blocking, Kernel, MatmulOp,
                                       has_scale, transpose_flags)
from tessera.passes.common import NO_MATCH, call_kernel, index, intrinsic, is_zero_fill, \
    outline, rewrite_each

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

def _plus(base, offset: int):
    """base + offset as an index value; `base` is an int or an index value."""
    if isinstance(base, int):
        return index(base + offset)
    return arith.addi(base, index(offset)) if offset else base


# Reduction elements one step of a Microkernel kind takes (x86 dots: a VNNI group).
GROUP = {"f32": 1, "i8": 1, "bf16-pairs": 2, "i8-quads": 4, "i16-pairs": 2}
# LLVM intrinsics MLIR's x86 dialect has no op for: the u8 x s8 dot, and the i16 pair
# multiply-add by lanes of its register.
VPDPBUSD = "llvm.x86.avx512.vpdpbusd.512"
PMADDWD = {8: "llvm.x86.avx2.pmadd.wd", 16: "llvm.x86.avx512.pmaddw.d.512"}


class Microkernel:
    """Emits register blocks of a vector unit, each an R x (groups of `lanes` lanes) block
    of the result accumulated in registers over a run of reduction steps. Shared by this
    pass's RVV kernels and the AVX-512 kernels of `tessera-systolic-to-amx`.

    `kind` is how a step multiplies: "f32" (broadcast lhs value, FMA), "i8" (i8 rhs
    lanes widened to i16, i16 lhs value, products accumulated in i32), or an x86 dot
    whose step takes a VNNI group of reduction elements (`GROUP`): "bf16-pairs"
    (`vdpbf16ps`: a broadcast pair of lhs values dotted with 16 column pairs into f32
    lanes) or "i8-quads" (`vpdpbusd`: 16 column quads of rhs bytes, taken as UNSIGNED,
    dotted with a broadcast quad of signed lhs bytes into i32 lanes; the caller offsets
    rhs and corrects the result) or "i16-pairs" (`vpmaddwd`: column pairs of i16 times a
    broadcast pair, each pair's two products summed into an i32 lane, then added: int8
    widened to i16 when packed, exact); `module_op` is where their LLVM intrinsics are
    declared.
    `args` holds the buffers by role (lhs, rhs, acc, bias, out). With `panel`, the rhs
    is packed in panels of that many columns (a block's columns lie in one panel), each
    contiguous: P[n // panel, step, (n % panel) x group + lane], so that the steps of a
    block read consecutive memory; the dots need it."""

    def __init__(self, args: dict, lanes: int, acc_type, kind: str, batched: bool = False,
                 panel: int | None = None, module_op=None):
        self.args, self.lanes, self.kind, self.batched = args, lanes, kind, batched
        self.panel, self.group = panel, GROUP[kind]
        if self.group > 1 and panel is None:
            raise ValueError(f"the {kind} microkernel reads rhs from panels")
        self.acc_type = acc_type
        self.is_int = isinstance(acc_type, ir.IntegerType)
        self.vec = ir.VectorType.get([lanes], acc_type)
        self.zero = arith.constant(acc_type, ir.IntegerAttr.get(acc_type, 0) if self.is_int
                                   else ir.FloatAttr.get(acc_type, 0.0))
        self.zeros = vector.broadcast(self.vec, self.zero)
        i8 = ir.IntegerType.get_signless(8)
        if kind == "i8":
            self.i16 = ir.IntegerType.get_signless(16)
            self.narrow = ir.VectorType.get([lanes], i8)
            self.half = ir.VectorType.get([lanes], self.i16)
            self.zeros8 = vector.broadcast(self.narrow, arith.constant(
                i8, ir.IntegerAttr.get(i8, 0)))
        if self.group > 1:  # a VNNI group is one 32-bit lane, broadcast as such
            i32 = ir.IntegerType.get_signless(32)
            operand = {"bf16-pairs": ir.BF16Type.get(),
                       "i16-pairs": ir.IntegerType.get_signless(16)}.get(kind, i8)
            self.rhs_vec = ir.VectorType.get([self.group * lanes], operand)
            self.lhs_group = ir.VectorType.get([self.group], operand)
            self.group_bits = ir.VectorType.get([1], i32)
            self.broadcast_bits = ir.VectorType.get([lanes], i32)
        if kind == "i8-quads":
            self.dot = intrinsic(module_op, VPDPBUSD, [self.vec, self.rhs_vec, self.rhs_vec],
                                 self.vec)
        if kind == "i16-pairs":
            self.dot = intrinsic(module_op, PMADDWD[lanes], [self.rhs_vec, self.rhs_vec],
                                 self.vec)
        self.b = None  # the batch index while building a batched kernel
        self.rhs_block = None  # (buffer, first step) while building a block on one

    def _at(self, *indices):
        return ([self.b] if self.batched else []) + list(indices)

    def _load(self, base, mask, *indices):
        """A vector of accumulator-typed lanes from `base` (masked when `mask`)."""
        if mask is None:
            return vector.load(self.vec, base, self._at(*indices))
        return vector.maskedload(self.vec, base, self._at(*indices), mask, self.zeros)

    def _rhs(self, kk, col, mask):
        """The rhs lanes of one step: f32, int8 widened to i16, or VNNI column groups."""
        rhs = self.args["rhs"]
        if self.panel is not None:
            at = [arith.divui(col, index(self.panel)), kk,
                  arith.muli(arith.remui(col, index(self.panel)), index(self.group))]
            if self.rhs_block is not None:  # one panel's steps, packed by the caller
                rhs, first = self.rhs_block
                at[:2] = [index(0), kk if first is None else arith.subi(kk, first)]
            return vector.load(self.rhs_vec if self.group > 1 else self.vec, rhs, at)
        if self.kind == "f32":
            return self._load(rhs, mask, kk, col)
        if mask is None:
            loaded = vector.load(self.narrow, rhs, self._at(kk, col))
        else:
            loaded = vector.maskedload(self.narrow, rhs, self._at(kk, col), mask, self.zeros8)
        return arith.extsi(self.half, loaded)

    def _lhs(self, row0, r: int, kk, packed):
        """The lhs value (VNNI group) of row row0 + r at one step, broadcast to a vector;
        from the packed block `packed` (buffer, row block, first step) when given."""
        if packed is None:
            lhs, row = self.args["lhs"], arith.addi(row0, index(r))
            at = self._at(row, arith.muli(kk, index(self.group)) if self.group > 1 else kk)
        else:
            lhs, block, offset, first = packed
            at = [block, arith.subi(kk, first) if first is not None else kk,
                  index((offset + r) * self.group)]
        if self.group > 1:
            grouped = vector.load(self.lhs_group, lhs, at)
            bits = vector.extract(vector.bitcast(self.group_bits, grouped), [], [0])
            return vector.bitcast(self.rhs_vec, vector.broadcast(self.broadcast_bits, bits))
        value = memref.load(lhs, at)
        if self.kind == "i8":
            return vector.broadcast(self.half, arith.extsi(self.i16, value))
        return vector.broadcast(self.vec, value)

    def _multiply_add(self, a, b, acc):
        if self.kind == "f32":
            return vector.fma(a, b, acc)
        if self.kind == "bf16-pairs":
            return x86.DotBF16Op(acc, a, b, results=[self.vec]).result
        if self.kind == "i8-quads":
            return func.CallOp([self.vec], self.dot, [acc, b, a]).result
        if self.kind == "i16-pairs":
            return arith.addi(func.CallOp([self.vec], self.dot, [b, a]).result, acc)
        return arith.addi(arith.muli(arith.extsi(self.vec, a), arith.extsi(self.vec, b)), acc)

    def _step(self, kk, row0, rows: int, cols: list, masks: list, acc: list, packed) -> list:
        """One reduction step of a block (kk counts steps: pairs for bf16-pairs)."""
        b = [self._rhs(kk, col, mask) for col, mask in zip(cols, masks)]
        out = []
        for r in range(rows):
            a = self._lhs(row0, r, kk, packed)
            out += [self._multiply_add(a, b[g], acc[r * len(cols) + g])
                    for g in range(len(cols))]
        return out

    def _reduce(self, row0, rows: int, cols: list, masks: list, init: list, k0, steps: int,
                unroll: int, packed=None) -> list:
        """The accumulators after steps k0..k0+steps (k0 an int or an index value): a
        loop unrolled `unroll` times, then a loop over the steps left over."""
        main = steps // unroll * unroll
        acc = init
        for start, stop, step in ((0, main, unroll), (main, steps, 1)):
            if start == stop:
                continue
            loop = scf.ForOp(_plus(k0, start), _plus(k0, stop), index(step), acc)
            with ir.InsertionPoint(loop.body):
                values = list(loop.inner_iter_args)
                for u in range(step):
                    kk = loop.induction_variable
                    if u:
                        kk = arith.addi(kk, index(u))
                    values = self._step(kk, row0, rows, cols, masks, values, packed)
                scf.YieldOp(values)
            acc = list(loop.results)
        return acc

    def block(self, row0, rows: int, col0, masks: list, k0, steps: int, unroll: int,
              init: str | None, relu: bool = False, bias: bool = False, packed_lhs=None,
              packed_rhs=None):
        """out[rows row0.., one register group per entry of `masks` from col0] = init
        (the buffer of that role, or zeros) + the steps k0..k0+steps, then + bias and
        relu when asked; a group with a mask (its last) is loaded and stored masked.
        `packed_lhs` (buffer, row block[, first row]): the block's lhs values are
        buffer[row block, step - k0, (first row + r) x v + lane], the rows of a step side
        by side, instead of lhs (first row: where a block of fewer rows, a tail's, starts
        among the packed block's).
        `packed_rhs` (a buffer): the block's rhs panel is buffer[0, step - k0, ..] instead
        of its panel of rhs."""
        first = None if isinstance(k0, int) and k0 == 0 else k0
        packed = None
        if packed_lhs is not None:
            buffer, block, *offset = packed_lhs
            packed = (buffer, block, offset[0] if offset else 0, first)
        self.rhs_block = None if packed_rhs is None else (packed_rhs, first)
        cols = [col0 if g == 0 else arith.addi(col0, index(g * self.lanes))
                for g in range(len(masks))]
        start = []
        for r in range(rows):
            row = arith.addi(row0, index(r))
            for col, mask in zip(cols, masks):
                start.append(self.zeros if init is None
                             else self._load(self.args[init], mask, row, col))
        acc = self._reduce(row0, rows, cols, masks, start, k0, steps, unroll, packed)
        self.rhs_block = None
        for r in range(rows):
            row = arith.addi(row0, index(r))
            for g, (col, mask) in enumerate(zip(cols, masks)):
                value = acc[r * len(cols) + g]
                if bias:
                    b = (vector.load(self.vec, self.args["bias"], [col]) if mask is None
                         else vector.maskedload(self.vec, self.args["bias"], [col], mask,
                                                self.zeros))
                    value = arith.addi(value, b) if self.is_int else arith.addf(value, b)
                if relu:
                    value = (arith.maxsi(value, self.zeros) if self.is_int
                             else arith.maximumf(value, self.zeros))
                if mask is None:
                    vector.store(value, self.args["out"], self._at(row, col))
                else:
                    vector.maskedstore(self.args["out"], self._at(row, col), mask, value)


class _Kernel:
    """Builds one RVV microkernel function body: the batch, then the columns in whole
    blocks and a tail, then the rows in whole blocks and a tail, each a register block
    over the whole reduction."""

    def __init__(self, args: dict, gemm: tuple, blocking: Blocking, vlen: int, acc_type,
                 relu: bool):
        self.batch, self.m, self.n, self.k = gemm
        self.blocking, self.relu, self.args = blocking, relu, args
        self.lanes = lanes_of(blocking, vlen)
        kind = "i8" if isinstance(acc_type, ir.IntegerType) else "f32"
        batched = len(ir.MemRefType(args["out"].type).shape) == 3
        self.micro = Microkernel(args, self.lanes, acc_type, kind, batched)
        self.mask_type = ir.VectorType.get([self.lanes], ir.IntegerType.get_signless(1))

    def _row_blocks(self, col0, masks: list):
        rows = self.blocking.rows
        full = self.m // rows * rows

        def block(row0, count):
            self.micro.block(row0, count, col0, masks, 0, self.k, self.blocking.unroll,
                             "acc" if "acc" in self.args else None, self.relu,
                             "bias" in self.args)

        if full:
            loop = scf.ForOp(index(0), index(full), index(rows))
            with ir.InsertionPoint(loop.body):
                block(loop.induction_variable, rows)
                scf.YieldOp([])
        if full < self.m:
            block(index(full), self.m - full)

    def _columns(self):
        groups = self.blocking.groups
        width = groups * self.lanes
        full = self.n // width * width
        if full:
            loop = scf.ForOp(index(0), index(full), index(width))
            with ir.InsertionPoint(loop.body):
                self._row_blocks(loop.induction_variable, [None] * groups)
                scf.YieldOp([])
        left = self.n - full
        if left:
            whole, part = divmod(left, self.lanes)
            masks = [None] * whole
            if part:
                masks.append(vector.create_mask(self.mask_type, [index(part)]))
            self._row_blocks(index(full), masks)

    def build(self):
        if not self.micro.batched:
            self._columns()
            return
        loop = scf.ForOp(index(0), index(self.batch), index(1))
        with ir.InsertionPoint(loop.body):
            self.micro.b = loop.induction_variable
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
