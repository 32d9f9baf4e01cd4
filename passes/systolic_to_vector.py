"""Pass `tessera-systolic-to-vector`: `systolic.matmul` -> a vector microkernel.

For a vector unit of `vlen` bits (RISC-V RVV, fixed length), each matmul becomes a call
to an outlined kernel on buffers that computes `rows` x (2 vectors) blocks of the result
with broadcast-FMA outer products: per reduction step, two vectors of a rhs row are
loaded, each of the `rows` lhs values is broadcast and multiplied into its two
accumulators, which stay in registers for the whole reduction. Columns at the right edge
use masked loads and stores; leftover rows run through a one-row copy of the kernel.
The epilogue (bias, relu) is applied to the accumulators before they are stored.

Handled: f32·f32→f32 and i8·i8→i32 (operands widened to i32 lanes). Other element types
and requantizing epilogues are left to `tessera-systolic-to-linalg`.
"""

from dataclasses import dataclass

from tessera.hardware import RiscvConfig
from tessera.knobs import knob, knobs_from
from tessera.mlir import arith, ir, memref, rewrite, scf, vector

from tessera.dialects.common import element, element_combo, shape_of
from tessera.dialects.systolic import KERNEL, Kernel, MatmulOp, has_scale, transpose_flags
from tessera.passes.common import NO_MATCH, call_kernel, index, is_zero_fill, outline

SUPPORTED = {("f32", "f32"), ("i8", "i32")}


@dataclass(frozen=True)
class SystolicToVectorOptions(knobs_from(RiscvConfig, "vlen")):
    """vlen: bits of one vector register (the RiscvConfig's); rows: result rows per
    microkernel block."""

    rows: int = knob(4, "result rows per microkernel block", low=1, high=64)



class _Kernel:
    """Builds one microkernel function body."""

    def __init__(self, args: dict, m: int, n: int, k: int, lanes: int, rows: int, acc_type,
                 is_int: bool, relu: bool):
        self.args, self.m, self.n, self.k = args, m, n, k
        self.lanes, self.rows, self.is_int, self.relu = lanes, rows, is_int, relu
        self.vec = ir.VectorType.get([lanes], acc_type)
        self.mask_type = ir.VectorType.get([lanes], ir.IntegerType.get_signless(1))
        self.acc_type = acc_type
        self.zero = arith.constant(acc_type, ir.IntegerAttr.get(acc_type, 0) if is_int
                                   else ir.FloatAttr.get(acc_type, 0.0))

    def _widen(self, scalar):
        return arith.extsi(self.acc_type, scalar) if self.is_int else scalar

    def _fma(self, a, b, acc):
        if self.is_int:
            return arith.addi(arith.muli(a, b), acc)
        return vector.fma(a, b, acc)

    def _load(self, base, row, col, mask, passthru):
        return vector.maskedload(self.vec, base, [row, col], mask, passthru)

    def _rhs_row(self, k, col, mask):
        """A rhs row slice as accumulator-typed lanes (i8 widened to i32)."""
        rhs = self.args["rhs"]
        if not self.is_int:
            return self._load(rhs, k, col, mask, vector.broadcast(self.vec, self.zero))
        narrow = ir.VectorType.get([self.lanes], ir.MemRefType(rhs.type).element_type)
        zero8 = arith.constant(ir.MemRefType(rhs.type).element_type,
                               ir.IntegerAttr.get(ir.MemRefType(rhs.type).element_type, 0))
        loaded = vector.maskedload(narrow, rhs, [k, col], mask, vector.broadcast(narrow, zero8))
        return arith.extsi(self.vec, loaded)

    def block(self, row0, rows: int, col0, masks):
        """Compute result rows row0..row0+rows, two vectors of columns from col0."""
        cols = [col0, arith.addi(col0, index(self.lanes))]
        init = []
        for r in range(rows):
            row = arith.addi(row0, index(r))
            for v in range(2):
                if "acc" in self.args:
                    init.append(self._load(self.args["acc"], row, cols[v], masks[v],
                                           vector.broadcast(self.vec, self.zero)))
                else:
                    init.append(vector.broadcast(self.vec, self.zero))
        loop = scf.ForOp(index(0), index(self.k), index(1), init)
        with ir.InsertionPoint(loop.body):
            kk = loop.induction_variable
            b = [self._rhs_row(kk, cols[v], masks[v]) for v in range(2)]
            acc = list(loop.inner_iter_args)
            out = []
            for r in range(rows):
                a = memref.load(self.args["lhs"], [arith.addi(row0, index(r)), kk])
                a = vector.broadcast(self.vec, self._widen(a))
                out += [self._fma(a, b[0], acc[2 * r]), self._fma(a, b[1], acc[2 * r + 1])]
            scf.YieldOp(out)
        for r in range(rows):
            row = arith.addi(row0, index(r))
            for v in range(2):
                value = loop.results[2 * r + v]
                if "bias" in self.args:
                    bias = vector.maskedload(self.vec, self.args["bias"], [cols[v]], masks[v],
                                             vector.broadcast(self.vec, self.zero))
                    value = arith.addi(value, bias) if self.is_int else arith.addf(value, bias)
                if self.relu:
                    zeros = vector.broadcast(self.vec, self.zero)
                    value = arith.maxsi(value, zeros) if self.is_int else arith.maximumf(value, zeros)
                vector.maskedstore(self.args["out"], [row, cols[v]], masks[v], value)

    def build(self):
        width = 2 * self.lanes
        full = (self.m // self.rows) * self.rows
        n_loop = scf.ForOp(index(0), index(self.n), index(width))
        with ir.InsertionPoint(n_loop.body):
            col0 = n_loop.induction_variable
            left = arith.subi(index(self.n), col0)
            masks = [vector.create_mask(self.mask_type, [left]),
                     vector.create_mask(self.mask_type, [arith.subi(left, index(self.lanes))])]
            if full:
                m_loop = scf.ForOp(index(0), index(full), index(self.rows))
                with ir.InsertionPoint(m_loop.body):
                    self.block(m_loop.induction_variable, self.rows, col0, masks)
                    scf.YieldOp([])
            if full < self.m:
                tail = scf.ForOp(index(full), index(self.m), index(1))
                with ir.InsertionPoint(tail.body):
                    self.block(tail.induction_variable, 1, col0, masks)
                    scf.YieldOp([])
            scf.YieldOp([])


def _rewrite(module_op, op, rewriter, options: SystolicToVectorOptions):
    """One supported rank-2 systolic.matmul -> a call of a new microkernel."""
    acc_t = op.acc.type
    combo = element_combo(element(op.lhs.type), element(acc_t))
    if combo not in SUPPORTED or has_scale(op.epilogue) or len(shape_of(acc_t)) != 2 \
            or 0 in shape_of(op.lhs.type) + shape_of(op.rhs.type):
        return NO_MATCH
    m, n = shape_of(acc_t)
    k = shape_of(op.lhs.type)[0 if transpose_flags(op.transpose)[0] else 1]
    lanes = options.vlen // 32
    relu = "relu" in ir.DictAttr(op.epilogue)
    acc_type = element(acc_t)

    def make_kernel(roles, types):
        kernel = Kernel("vector", tuple(roles), 1, m, n, k, (options.rows, 2 * lanes, 1))
        with op.context:
            attributes = {KERNEL: kernel.attr()}

        def build(arguments):
            _Kernel(dict(zip(roles, arguments)), m, n, k, lanes, options.rows, acc_type,
                    isinstance(acc_type, ir.IntegerType), relu).build()

        return outline(module_op, "vector_kernel", types, op.location, attributes, build)

    call_kernel(op, rewriter, is_zero_fill(op.acc), make_kernel)


def systolic_to_vector(op, pass_, options: SystolicToVectorOptions) -> None:
    """Pass body: every supported rank-2 systolic.matmul becomes a microkernel call."""
    patterns = rewrite.RewritePatternSet()
    patterns.add(MatmulOp, lambda matmul, rewriter: _rewrite(op, matmul, rewriter, options))
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
