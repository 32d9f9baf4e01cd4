"""Pass `tessera-systolic-to-amx`: tensor-level `systolic.matmul` -> Intel AMX kernels.

Each rank-2 bf16·bf16→f32 or i8·i8→i32 `systolic.matmul` becomes, at its call site:

- edges: lhs (and acc, bias) are padded with zeros to whole register blocks (M to 32,
  K to one tile step: 32 bf16 / 64 int8) with `tensor.insert_slice` into a zero-filled
  tensor; the kernel then only sees full 16x16 tiles, and the result is sliced back;
- packing: rhs is repacked into AMX's VNNI layout (K/v x N*v, v = 2 for bf16, 4 for
  int8; zero-padded to whole tiles) by a separate kernel `amx_pack_<i>` at run time, or,
  when rhs is a constant weight (dense or a `dense_resource` blob as torch imports
  them, possibly through a `linalg.transpose`), by numpy at compile time: the packed
  weight is a constant and nothing is packed at run time;
- compute: a call of `amx_kernel_<i>(lhs, packed rhs, out, [bias])` on memrefs whose
  row count is dynamic (so that a runtime can hand row blocks of it to different cores).
  The kernel blocks the loops for the caches (m-block x n-block of the result, k-block
  of the reduction: an lhs block m_block x k_block stays in L1, the packed rhs block
  k_block x n_block in L2) and computes 32x32 register blocks with the upstream
  `x86.amx` ops: 2 lhs tiles, 2 rhs tiles and 4 accumulator tiles (8 tile registers).
  Accumulator tiles are loaded from `out` and stored back once per k-block; the k-steps
  of a block are unrolled, because AMX tile values cannot be carried through `scf.for`
  iter_args into LLVM. The epilogue (bias, relu) runs on the f32/i32 result of each
  m-block x n-block right after its last k-block, while it is still in cache.

f32 matmuls: when both operands are bf16 values widened elementwise (`arith.extf`, how
torch writes bf16 layers) they are the same numbers in bf16 and go to AMX as such; other
f32 matmuls stay f32 (left for linalg) unless `f32-as-bf16` asks for rounding their
operands to bf16 (f32 accumulation). Precision never changes silently.

The tile configuration is not an op: LLVM's X86 backend (pre-tile-config) materializes
one `ldtilecfg` per function from the tile shapes, which are the same for every tile of
a kernel. Other element types, batched matmuls and requantizing epilogues are left to
`tessera-systolic-to-linalg`.

`engine=avx512` (CPUs without AMX, or by choice) keeps the padding, the packing at
compile time of constant weights and the M/K cache blocks, with vector register blocks:
each is a microkernel of `tessera-systolic-to-vector`'s generator (`Microkernel`) on
512-bit registers, R rows x C groups of 16 f32 lanes accumulated in registers over a
k-block. The rhs is packed in panels of the block's C x 16 columns (each panel
contiguous, so a block's steps read consecutive memory; at run time by a vectorized
pack), and each m-block x k-block of lhs is packed inside the kernel with a block's R
rows side by side per step; the loops run m-block, k-block, column panel, row block (a
panel's k-block stays in L1). f32 matmuls run as f32 FMAs; bf16 ones either as f32 FMAs
on operands widened when packed (`bf16-math=fma`, the default: the products are exact
in f32 either way) or with `x86.avx512.dot` (vdpbf16ps) on VNNI pairs (`bf16-math=dot`);
int8 ones with `vpdpbusd` on VNNI quads (an LLVM intrinsic: MLIR has no op for it). That
instruction multiplies unsigned by signed bytes: rhs is packed as rhs + 128 (its bits ^
0x80) and the broadcast lhs quad is the signed operand, so the kernel sums each row of
lhs as it packs it and takes 128 x that sum off the row in the epilogue: exact, wrapping
as i32 accumulation does.
`engine=avx2` (x86-64 CPUs with AVX2 and FMA but no AVX-512) builds the same kernels on
16 registers of 8 f32 lanes (`VECTOR_ENGINES`): f32 and bf16 (always widened) as f32
FMAs; int8 as pairs widened to i16 when packed, multiplied by `vpmaddwd` (each i32
lane the sum of a pair's two products, exact) and added. Packs load a row's last
columns (those that end inside a register) masked, bf16 lane by lane as i16 bits
(`_source_row`).
The blocking (#systolic.blocking on the kernel, or set by hand on the matmul) has R
dividing the 32-row padding and C x lanes dividing the 32-column padding; the default
(`x86_blocking`) is the one with the fewest instructions per multiply-add that fits the
engine's registers (AVX-512 8 x 2 groups, AVX2 4 x 2). The default k-block is 256 steps
(1 KiB of each packed lhs row on AVX-512: 256 f32, 512 bf16, 1024 int8 elements).
`engine=auto` means amx here (the cpu-amx target resolves it from the CPU).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from tessera.elements import dense_bytes
from tessera.executable import numpy_dtype
from tessera.hardware import AmxConfig
from tessera.knobs import knobs_from
from tessera.mlir import (arith, bufferization, func, ir, linalg, memref, scf, tensor, vector,
                          x86)

from tessera.dialects.common import element, element_combo, shape_of
from tessera.dialects.systolic import (BLOCKING, KERNEL, PACK, Blocking, Kernel, MatmulOp,
                                       has_scale, pack_attr, transpose_flags)
from tessera.errors import TesseraError
from tessera.passes.common import (NO_MATCH, index, is_zero_fill, memref_of, outline,
                                   rewrite_each, round_up, transposed, zero)
from tessera.passes.systolic_to_vector import Microkernel

ROWS = 16  # rows of an AMX tile
BLOCK = 32  # a register block is 2x2 tiles: 32 rows x 32 columns of the result


@dataclass(frozen=True)
class Dtypes:
    """One supported element combination and its AMX shapes (vector engines: their
    steps)."""

    operand: str
    acc: str
    vnni: int  # operand elements packed into one 32-bit lane of a tile row
    k_step: int  # reduction elements per tile: 64 bytes of a tile row
    kind: str = ""  # vector engines: the `Microkernel` kind of a step
    packed: str = ""  # vector engines: the element operands are widened to when packed


COMBOS = {("bf16", "f32"): Dtypes("bf16", "f32", 2, 32), ("i8", "i32"): Dtypes("i8", "i32", 4, 64)}
# Vector engines: an f32 step is one element; with bf16-math=fma (avx2: always), bf16 is
# widened to f32 when packed and runs as f32 (WIDENED); avx512: a bf16-math=dot step is
# one VNNI pair (vdpbf16ps), an int8 step one VNNI quad (vpdpbusd); avx2: an int8 step is
# a pair widened to i16 when packed (vpmaddwd).
F32 = Dtypes("f32", "f32", 1, 1, "f32")
WIDENED = Dtypes("bf16", "f32", 1, 1, "f32", "f32")


@dataclass(frozen=True)
class VectorEngine:
    """An x86 vector engine of `tessera-systolic-to-amx`: registers of `lanes` f32
    lanes, how many, the CPU flags it needs (and what they are, in words), its element
    combinations, and its name in reports."""

    name: str
    lanes: int
    registers: int
    flags: tuple
    needs: str
    combos: dict
    title: str


VECTOR_ENGINES = {
    "avx512": VectorEngine(
        "avx512", 16, 32, ("avx512f", "avx512_bf16", "avx512_vnni"), "AVX-512 with bf16 and VNNI",
        {("bf16", "f32"): Dtypes("bf16", "f32", 2, 2, "bf16-pairs"), ("f32", "f32"): F32,
         ("i8", "i32"): Dtypes("i8", "i32", 4, 4, "i8-quads")}, "AVX-512"),
    "avx2": VectorEngine(
        "avx2", 8, 16, ("avx2", "fma"), "AVX2 with FMA",
        {("bf16", "f32"): WIDENED, ("f32", "f32"): F32,
         ("i8", "i32"): Dtypes("i8", "i32", 2, 2, "i16-pairs", "i16")}, "AVX2"),
}
# The default m-block (rows of lhs packed and of out swept per pass over B), AMX and
# vector engines: on an AVX-512 machine's kernels 256 rows ran bf16 2048^3 on 2 threads in
# 127 ms against 160-168 ms with 64 (1 thread: even), as each pass streams all of B.
M_BLOCK = {False: 64, True: 256}
# The default k-block: AMX 256 elements; vector engines 256 steps (1 KiB of a packed lhs
# row whatever the type on AVX-512: int8 ran 1024^3 in 6.98 ms with 1024 elements against
# 7.70 with 256).
K_BLOCK_AMX, K_BLOCK_STEPS = 256, 256


def x86_blocking(engine: VectorEngine, unroll: int = 4) -> Blocking:
    """The engine's register blocking with the fewest instructions per multiply-add
    (per step: a rhs load per group, a broadcast per row, a multiply-add per row and
    group) whose accumulators, rhs groups and a broadcast fit the registers, with R
    dividing and C x lanes dividing the 32-row / 32-column padding of the kernel."""
    fits = [(rows, groups) for rows in (1, 2, 4, 8, 16, 32) for groups in (1, 2, 4)
            if BLOCK % (groups * engine.lanes) == 0
            and _registers(rows, groups) <= engine.registers]
    rows, groups = min(fits, key=lambda rg: (rg[1] + rg[0] + rg[0] * rg[1]) / (rg[0] * rg[1]))
    return Blocking(rows, groups, 1, unroll)


def _registers(rows: int, groups: int) -> int:
    return rows * groups + 2 * groups + 1


def check_x86_blocking(blocking: Blocking, engine: VectorEngine) -> None:
    """A TesseraError unless `blocking` can run on the engine's padded kernel."""
    lanes = engine.lanes
    if blocking.lmul != 1 or BLOCK % blocking.rows or BLOCK % (blocking.groups * lanes):
        raise TesseraError(f"the blocking ({blocking.text()}) does not fit the {engine.name} "
                           f"engine: rows must divide {BLOCK}, groups x {lanes} must divide "
                           f"{BLOCK} and lmul must be 1")
    needed = _registers(blocking.rows, blocking.groups)
    if needed > engine.registers:
        raise TesseraError(f"the blocking ({blocking.text()}) needs {needed} vector registers "
                           f"but the {engine.name} engine has {engine.registers}")


@dataclass(frozen=True)
class SystolicToAmxOptions(knobs_from(AmxConfig, "m_block", "n_block", "k_block", "precision",
                                      "engine", "bf16_math")):
    """Cache blocks in elements (the AmxConfig's): m-block x n-block of the result and the
    k-block of the reduction whose tile steps are unrolled (a multiple of 64 so that both
    bf16 and int8 steps divide it). precision=bf16 rounds the operands of f32 matmuls to
    bf16 (f32 accumulation); with f32 they are left alone, never silently converted.
    engine: amx (auto) or avx512 register blocks; bf16_math: how the avx512 engine
    multiplies bf16 (vdpbf16ps dots, or f32 FMAs on operands widened when packed)."""


def padded_shapes(m: int, n: int, k: int, dtypes: Dtypes,
                  rows: int = BLOCK) -> tuple[int, int, int]:
    """(Mp, Np, Kp): the sizes the kernel works on; rows a multiple of `rows` (AMX: its
    32-row blocks; a vector kernel: 1, it runs the rows left after its whole register
    blocks as smaller blocks, so that M = 197 needs no copy of lhs padded to 224 and of
    the result sliced back, and 2 cores take 100 and 97 rows instead of 128 and 96)."""
    return round_up(m, rows), round_up(n, BLOCK), round_up(k, dtypes.k_step)


def pack_vnni(rhs: np.ndarray, vnni: int, kp: int, np_: int, panel: int | None = None):
    """rhs (K x N) zero-padded to Kp x Np and packed VNNI: P[k // v, n * v + k % v]; with
    `panel` (columns), in panels of that many columns, each contiguous:
    P[n // panel, k // v, (n % panel) * v + k % v]."""
    k, n = rhs.shape
    padded = np.zeros((kp, np_), rhs.dtype)
    padded[:k, :n] = rhs
    if panel is None:
        return padded.reshape(kp // vnni, vnni, np_).transpose(0, 2, 1).reshape(
            kp // vnni, np_ * vnni)
    return np.ascontiguousarray(padded.reshape(kp // vnni, vnni, np_ // panel, panel).transpose(
        2, 0, 3, 1).reshape(np_ // panel, kp // vnni, panel * vnni))




def tile_type(rows: int, cols: int, element) -> ir.Type:
    return ir.Type.parse(f"!x86.amx.tile<{rows}x{cols}x{element}>")


def _padded_tensor(value, shape: list[int]):
    """`value` inside a zero-filled tensor of `shape` (itself when already that shape)."""
    t = ir.RankedTensorType(value.type)
    if list(t.shape) == shape:
        return value
    filled = linalg.fill(zero(t.element_type),
                         outs=[tensor.empty(shape, t.element_type)])
    rank = len(shape)
    return tensor.insert_slice(value, filled, [], [], [], [0] * rank, list(t.shape), [1] * rank)


def _widened_from_bf16(value):
    """The bf16 tensor that `value` is an elementwise `arith.extf` of, or None."""
    owner = value.owner
    if not isinstance(owner, linalg.GenericOp) or len(owner.inputs) != 1:
        return None
    source = owner.inputs[0]
    if not isinstance(element(source.type), ir.BF16Type) or \
            shape_of(source.type) != shape_of(value.type):
        return None
    identity = ir.AffineMap.get_identity(len(shape_of(value.type)))
    if any(ir.AffineMapAttr(m).value != identity for m in owner.indexing_maps):
        return None
    body = list(owner.regions[0].blocks[0].operations)
    if len(body) != 2 or not isinstance(body[0], arith.ExtFOp) or \
            body[0].operands[0] != owner.regions[0].blocks[0].arguments[0]:
        return None
    return source


def _to_bf16(value):
    """An f32 tensor rounded to bf16 (round to nearest even)."""
    t = ir.RankedTensorType(value.type)
    return arith.truncf(ir.RankedTensorType.get(t.shape, ir.BF16Type.get()), value)


def _weight_dtype(t: ir.RankedTensorType) -> np.dtype | None:
    """The numpy dtype of a weight tensor AMX can take (i8, bf16, f32), else None."""
    e = t.element_type
    if isinstance(e, (ir.BF16Type, ir.F32Type)) or \
            (isinstance(e, ir.IntegerType) and e.width == 8 and not e.is_unsigned):
        return numpy_dtype(e)
    return None


def _resource_constant(attr) -> np.ndarray | None:
    """A dense_resource weight's value (its blob read by `tessera.elements`: the bindings
    have no accessor for it), or None."""
    t = ir.RankedTensorType(attr.type)
    dtype = _weight_dtype(t)
    data = None if dtype is None else dense_bytes(attr)
    if data is None:
        return None
    return data.view(dtype).reshape(t.shape).copy()


def _dense_constant(value) -> np.ndarray | None:
    """The numpy value of a constant i8, bf16 or f32 weight (dense, not splat, or a
    dense_resource blob), or None."""
    owner = value.owner
    if isinstance(owner, linalg.TransposeOp) and list(owner.permutation) == [1, 0]:
        # Linear layers arrive as a transposed weight (torch stores it N x K).
        weight = _dense_constant(owner.input)
        return None if weight is None else np.ascontiguousarray(weight.T)
    if not isinstance(owner, arith.ConstantOp):
        return None
    if not isinstance(owner.value, ir.DenseElementsAttr):
        return _resource_constant(owner.value)
    attr = ir.DenseElementsAttr(owner.value)
    t = ir.RankedTensorType(attr.type)
    dtype = _weight_dtype(t)
    if attr.is_splat or dtype is None:
        return None  # a splat weight is rare and cheap to pack at run time
    if isinstance(t.element_type, ir.BF16Type):
        return _bf16_bits(attr).view(dtype)
    return np.array(memoryview(attr), dtype=dtype).reshape(t.shape)


def _bf16_bits(attr) -> np.ndarray:
    """The bits of a bf16 DenseElementsAttr as int16: the bindings give no buffer for
    bf16, so MLIR folds an `arith.bitcast` to i16 in a scratch module."""
    from tessera.mlir import PassManager

    t = ir.RankedTensorType(attr.type)
    bits_t = ir.RankedTensorType.get(t.shape, ir.IntegerType.get_signless(16))
    scratch = ir.Module.create()
    with ir.InsertionPoint(scratch.body):
        fold = func.FuncOp("fold", ir.FunctionType.get([], [bits_t]))
        with ir.InsertionPoint(fold.add_entry_block()):
            func.ReturnOp([arith.bitcast(bits_t, arith.ConstantOp(t, attr).result)])
    PassManager.parse("builtin.module(canonicalize)").run(scratch.operation)
    folded = fold.regions[0].blocks[0].operations[0]
    return np.array(memoryview(ir.DenseElementsAttr(folded.value)), dtype=np.int16).reshape(t.shape)


def _packed_constant(array: np.ndarray, element, dtypes: Dtypes, kp: int, np_: int,
                     panel: int | None):
    packed = pack_vnni(array, dtypes.vnni, kp, np_, panel)
    if panel is not None and packed.dtype == np.int8:  # vpdpbusd's unsigned operand
        packed = packed ^ np.int8(-128)
    t = ir.RankedTensorType.get(list(packed.shape), element)
    if dtypes.operand == "bf16":
        attr = ir.DenseElementsAttr.get(packed.view(np.int16), type=t)
    else:
        attr = ir.DenseElementsAttr.get(packed, type=t)
    return arith.ConstantOp(t, attr).result


class _Kernel:
    """Builds the body of one `amx_kernel_<i>`."""

    def __init__(self, args: dict, np_: int, kp: int, dtypes: Dtypes, element, acc_element,
                 options: SystolicToAmxOptions, relu: bool):
        self.args, self.np_, self.kp, self.d = args, np_, kp, dtypes
        self.options, self.relu = options, relu
        self.a_tile = tile_type(ROWS, dtypes.k_step, element)
        self.b_tile = tile_type(ROWS, ROWS * dtypes.vnni, element)
        self.c_tile = tile_type(ROWS, ROWS, acc_element)
        self.acc_element = acc_element
        self.is_int = isinstance(acc_element, ir.IntegerType)
        self.row_sums = None

    def _mul(self, a, b, c):
        if self.is_int:
            return x86.TileMulIOp(a, b, c, results=[self.c_tile]).result
        return x86.TileMulFOp(a, b, c, results=[self.c_tile]).result

    def microkernel(self, m1, n1, k0, steps: int):
        """out[m1:m1+32, n1:n1+32] += lhs[.., k0:k0+steps*k_step] · rhs[..]: 2 lhs tiles,
        2 rhs tiles and 4 accumulator tiles, k-steps unrolled."""
        out, lhs, rhs = self.args["out"], self.args["lhs"], self.args["rhs"]
        rows = [m1, arith.addi(m1, index(ROWS))]
        cols = [n1, arith.addi(n1, index(ROWS))]
        packed_cols = [arith.muli(c, index(self.d.vnni)) for c in cols]
        acc = [[x86.TileLoadOp(self.c_tile, out, [r, c]).result for c in cols] for r in rows]
        for s in range(steps):
            k = arith.addi(k0, index(s * self.d.k_step))
            k_packed = arith.divui(k, index(self.d.vnni))
            a = [x86.TileLoadOp(self.a_tile, lhs, [r, k]).result for r in rows]
            b = [x86.TileLoadOp(self.b_tile, rhs, [k_packed, c]).result for c in packed_cols]
            acc = [[self._mul(a[i], b[j], acc[i][j]) for j in range(2)] for i in range(2)]
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                x86.TileStoreOp(out, [r, c], acc[i][j])

    def _register_blocks(self, m0, m_end, n0, n_end, k0, steps: int):
        m_loop = scf.ForOp(m0, m_end, index(BLOCK))
        with ir.InsertionPoint(m_loop.body):
            n_loop = scf.ForOp(n0, n_end, index(BLOCK))
            with ir.InsertionPoint(n_loop.body):
                self.microkernel(m_loop.induction_variable, n_loop.induction_variable, k0, steps)
                scf.YieldOp([])
            scf.YieldOp([])

    def epilogue(self, m0, m_end, n0, n_end):
        """bias and relu on out[m0:m_end, n0:n_end], 16 lanes at a time; with row_sums
        (int8 on vpdpbusd), -128 x row_sums[m - m0] added to each row first."""
        out = self.args["out"]
        vec = ir.VectorType.get([ROWS], self.acc_element)
        zeros = vector.broadcast(vec, zero(self.acc_element))
        m_loop = scf.ForOp(m0, m_end, index(1))
        with ir.InsertionPoint(m_loop.body):
            m = m_loop.induction_variable
            offset = None
            if self.row_sums is not None:
                total = memref.load(self.row_sums, [arith.subi(m, m0)])
                offset = vector.broadcast(vec, arith.muli(
                    total, arith.constant(self.acc_element, -128)))
            n_loop = scf.ForOp(n0, n_end, index(ROWS))
            with ir.InsertionPoint(n_loop.body):
                n = n_loop.induction_variable
                value = vector.load(vec, out, [m, n])
                if offset is not None:
                    value = arith.addi(value, offset)
                if "bias" in self.args:
                    bias = vector.load(vec, self.args["bias"], [n])
                    value = arith.addi(value, bias) if self.is_int else arith.addf(value, bias)
                if self.relu:
                    value = arith.maxsi(value, zeros) if self.is_int else arith.maximumf(value, zeros)
                vector.store(value, out, [m, n])
                scf.YieldOp([])
            scf.YieldOp([])

    def build(self):
        o = self.options
        rows = memref.dim(self.args["out"], index(0))
        k_full = (self.kp // o.k_block) * o.k_block
        k_left = (self.kp - k_full) // self.d.k_step
        m_loop = scf.ForOp(index(0), rows, index(o.m_block))
        with ir.InsertionPoint(m_loop.body):
            m0 = m_loop.induction_variable
            m_end = arith.minsi(arith.addi(m0, index(o.m_block)), rows)
            n_loop = scf.ForOp(index(0), index(self.np_), index(o.n_block))
            with ir.InsertionPoint(n_loop.body):
                n0 = n_loop.induction_variable
                n_end = arith.minsi(arith.addi(n0, index(o.n_block)), index(self.np_))
                if k_full:
                    k_loop = scf.ForOp(index(0), index(k_full), index(o.k_block))
                    with ir.InsertionPoint(k_loop.body):
                        self._register_blocks(m0, m_end, n0, n_end, k_loop.induction_variable,
                                              o.k_block // self.d.k_step)
                        scf.YieldOp([])
                if k_left:
                    self._register_blocks(m0, m_end, n0, n_end, index(k_full), k_left)
                if "bias" in self.args or self.relu:
                    self.epilogue(m0, m_end, n0, n_end)
                scf.YieldOp([])
            scf.YieldOp([])


class _VectorKernel(_Kernel):
    """The same cache blocks with AVX-512 register blocks (`Microkernel`), in the order
    m-block, k-block, column panel (n-block does not apply): each m-block x k-block of
    lhs is first packed into a
    local buffer with the R rows of a register block side by side per step
    (L[row block, step, r x v + lane]), so the broadcasts of a step read one cache line
    and rows K elements apart never compete for the same cache sets; the packed block
    is then used by every n-block. The epilogue runs on an m-block's rows after its last
    k-block."""

    def __init__(self, args: dict, np_: int, kp: int, dtypes: Dtypes, element, acc_element,
                 options: SystolicToAmxOptions, relu: bool, blocking: Blocking,
                 zero_init: bool, module_op, lanes: int):
        self.args, self.np_, self.kp, self.d = args, np_, kp, dtypes
        self.options, self.relu, self.blocking = options, relu, blocking
        self.zero_init = zero_init  # out is not filled: the first k-block starts from zeros
        self.element, self.acc_element = element, acc_element  # element: as packed
        self.is_int = isinstance(acc_element, ir.IntegerType)
        self.row_sums = None  # vpdpbusd: allocated by build
        self.lanes, self.panel = lanes, blocking.groups * lanes
        self.micro = Microkernel(args, lanes, acc_element, dtypes.kind, panel=self.panel,
                                 module_op=module_op)

    def _pack_lhs(self, packed, m0, m_end, k0, steps: int, first: bool):
        """packed[(m - m0) / R, s, (m - m0) % R x v + lane] = lhs[m, k0 + s x v + lane],
        a VNNI group (v > 1) moved as one vector; bf16 widened to f32 and int8 to i16 as
        it is moved where the engine packs them so. vpdpbusd: each row's sum is added to
        row_sums[m - m0] (set on the first k-block)."""
        rows, v, lhs = self.blocking.rows, self.d.vnni, self.args["lhs"]
        group = ir.VectorType.get([v], ir.MemRefType(lhs.type).element_type)
        summed = self.row_sums is not None
        m_loop = scf.ForOp(m0, m_end, index(1))
        with ir.InsertionPoint(m_loop.body):
            m = m_loop.induction_variable
            local = arith.subi(m, m0)
            block = arith.divui(local, index(rows))
            lane0 = arith.muli(arith.remui(local, index(rows)), index(v))
            sums = []
            if summed:
                sums = [vector.broadcast(ir.VectorType.get([v], self.acc_element),
                                         zero(self.acc_element))]
            s_loop = scf.ForOp(index(0), index(steps), index(1), sums)
            with ir.InsertionPoint(s_loop.body):
                s = s_loop.induction_variable
                k = arith.addi(k0, arith.muli(s, index(v)) if v > 1 else s)
                if v > 1:
                    value = vector.load(group, lhs, [m, k])
                    vector.store(_as_packed(value, self.element), packed, [block, s, lane0])
                else:
                    value = memref.load(lhs, [m, k])
                    memref.store(_as_packed(value, self.element), packed, [block, s, lane0])
                if summed:
                    total = s_loop.inner_iter_args[0]
                    scf.YieldOp([arith.addi(total, arith.extsi(total.type, value))])
                else:
                    scf.YieldOp([])
            if summed:
                total = vector.reduction(self.acc_element, vector.CombiningKind.ADD,
                                         s_loop.results[0])
                if not first:
                    total = arith.addi(total, memref.load(self.row_sums, [local]))
                memref.store(total, self.row_sums, [local])
            scf.YieldOp([])

    def _pack_rhs(self, panel, col0, k0, steps: int):
        """panel[0, s, (n - col0) x v + lane] = rhs[k0 + s x v + lane, n] for the block's
        columns col0.. (zeros past N): one panel's k-block, packed where it is used when
        rhs comes unpacked (an input: no pass of its own over memory, and each core packs
        what its rows use)."""
        rhs, v = self.args["rhs"], self.d.vnni
        s_loop = scf.ForOp(index(0), index(steps), index(1))
        with ir.InsertionPoint(s_loop.body):
            s = s_loop.induction_variable
            k = arith.addi(k0, arith.muli(s, index(v)) if v > 1 else s)
            for c in range(0, self.panel, self.lanes):
                vector.store(_vnni_group(rhs, k, arith.addi(col0, index(c)), v, self.element,
                                         self.lanes), panel, [index(0), s, index(v * c)])
            scf.YieldOp([])

    def _k_block(self, packed, m0, m_end, k0, steps: int, first: bool = False,
                 panel=None):
        """Pack lhs[m0:m_end, this k-block], then every register block of the m-block:
        column panels outside (packed into `panel` first when rhs comes unpacked), row
        blocks inside, so a panel's k-block of rhs (R x 16 x groups x k-block elements)
        stays in L1 while the packed lhs comes from L2."""
        b = self.blocking
        self._pack_lhs(packed, m0, m_end, k0, steps, first)
        step0 = arith.divui(k0, index(self.d.k_step)) if self.d.k_step > 1 else k0
        n_loop = scf.ForOp(index(0), index(self.np_), index(self.panel))
        with ir.InsertionPoint(n_loop.body):
            if panel is not None:
                self._pack_rhs(panel, n_loop.induction_variable, k0, steps)
            col0 = n_loop.induction_variable
            init = None if first and self.zero_init else "out"
            # Whole row blocks, then the rows left (fewer than a block: rows are not
            # padded) as blocks of 2^i rows, each read at its place in the packed block.
            whole = arith.subi(m_end, arith.remui(arith.subi(m_end, m0), index(b.rows)))
            m_loop = scf.ForOp(m0, whole, index(b.rows))
            with ir.InsertionPoint(m_loop.body):
                m1 = m_loop.induction_variable
                block = arith.divui(arith.subi(m1, m0), index(b.rows))
                self._prefetch_out(m1, m_end, col0)
                self.micro.block(m1, b.rows, col0, [None] * b.groups, step0, steps,
                                 min(b.unroll, steps), init, packed_lhs=(packed, block),
                                 packed_rhs=panel)
                scf.YieldOp([])
            self._tail(arith.subi(m_end, whole), whole, m0, col0, step0, steps, init, packed,
                       panel)
            scf.YieldOp([])

    def _tail(self, left, row0, m0, col0, step0, steps: int, init, packed, panel):
        """The `left` rows from row0 (0 to R - 1: an m-block's last rows, not a whole
        register block): for each count, blocks of its binary digits' rows (3 = 2 + 1),
        which read the packed block's lanes at their rows' place."""
        b = self.blocking
        block = arith.divui(arith.subi(row0, m0), index(b.rows))
        for count in range(1, b.rows):
            branch = scf.IfOp(arith.cmpi(arith.CmpIPredicate.eq, left, index(count)))
            with ir.InsertionPoint(branch.then_block):
                offset = 0
                for bit in reversed(range(count.bit_length())):
                    rows = 1 << bit
                    if count & rows:
                        self.micro.block(arith.addi(row0, index(offset)) if offset else row0,
                                         rows, col0, [None] * b.groups, step0, steps,
                                         min(b.unroll, steps), init,
                                         packed_lhs=(packed, block, offset), packed_rhs=panel)
                        offset += rows
                scf.YieldOp([])

    def _prefetch_out(self, m1, m_end, col0):
        """Prefetch (to write) the next row block's accumulators while this one runs: its
        rows are a whole out row apart (8 KiB at N = 2048), too far for the hardware's
        stride prefetchers, so each block began with misses. Measured on AVX2 int8 2048^3
        (15 alternating rounds): 1 thread 203 ms against 211, 2 threads 111 against 121."""
        b, out = self.blocking, self.args["out"]
        row = arith.minsi(arith.addi(m1, index(b.rows)), arith.subi(m_end, index(b.rows)))
        width = b.groups * self.lanes * 4
        for r in range(b.rows):
            for byte in range(0, width, 64):
                memref.prefetch(out, [arith.addi(row, index(r)) if r else row,
                                      arith.addi(col0, index(byte // 4)) if byte else col0],
                                True, 3, True)

    def build(self):
        """The kernel's body; batched (rank-3 buffers, the batch dim dynamic: what the
        runtime splits between cores), a loop over the batch around it, on each batch's
        matrices as 2-D views."""
        o, b, d = self.options, self.blocking, self.d
        k_steps = o.k_block // d.k_step
        packed = memref.alloca(ir.MemRefType.get([o.m_block // b.rows, k_steps, b.rows * d.vnni],
                                                 self.element), [], [])
        if self.d.kind == "i8-quads":  # each row's sum, for the epilogue (see _pack_lhs)
            self.row_sums = memref.alloca(ir.MemRefType.get([o.m_block], self.acc_element),
                                          [], [])
        panel = None
        ranks = [ir.MemRefType(self.args[role].type).rank for role in ("lhs", "rhs")]
        if ranks[0] == ranks[1]:  # rhs unpacked (2-D, or batched): a panel at a time
            panel = memref.alloca(ir.MemRefType.get([1, k_steps, self.panel * d.vnni],
                                                    self.element), [], [])
        if ranks[0] == 2:
            self._matrix(packed, panel)
            return
        whole = dict(self.args)
        batch_loop = scf.ForOp(index(0), memref.dim(whole["lhs"], index(0)), index(1))
        with ir.InsertionPoint(batch_loop.body):
            # In place: the microkernel reads the same dict.
            self.args.update({role: _batch_view(whole[role], batch_loop.induction_variable)
                              for role in ("lhs", "rhs", "out")})
            self._matrix(packed, panel)
            self.args.update(whole)
            scf.YieldOp([])

    def _matrix(self, packed, panel):
        """out = lhs · rhs (+ bias, relu) for the 2-D buffers of `args`."""
        o, d = self.options, self.d
        k_steps = o.k_block // d.k_step
        rows = memref.dim(self.args["out"], index(0))
        k_full = (self.kp // o.k_block) * o.k_block
        k_left = (self.kp - k_full) // d.k_step
        m_loop = scf.ForOp(index(0), rows, index(o.m_block))
        with ir.InsertionPoint(m_loop.body):
            m0 = m_loop.induction_variable
            m_end = arith.minsi(arith.addi(m0, index(o.m_block)), rows)
            # The first k-block is peeled: it starts from zeros when out was not filled.
            if k_full:
                self._k_block(packed, m0, m_end, index(0), k_steps, first=True, panel=panel)
            if k_full > o.k_block:
                k_loop = scf.ForOp(index(o.k_block), index(k_full), index(o.k_block))
                with ir.InsertionPoint(k_loop.body):
                    self._k_block(packed, m0, m_end, k_loop.induction_variable, k_steps,
                                  panel=panel)
                    scf.YieldOp([])
            if k_left:
                self._k_block(packed, m0, m_end, index(k_full), k_left, first=not k_full,
                              panel=panel)
            if "bias" in self.args or self.relu or self.row_sums is not None:
                self.epilogue(m0, m_end, index(0), index(self.np_))
            scf.YieldOp([])


def _batch_view(buffer, b):
    """buffer[b] (a rank-3 buffer's matrix at batch index `b`) as a 2-D strided view."""
    t = ir.MemRefType(buffer.type)
    shape = list(t.shape[1:])
    dynamic = ir.ShapedType.get_dynamic_size()
    view_t = ir.MemRefType.get(shape, t.element_type,
                               ir.StridedLayoutAttr.get(dynamic, [shape[1], 1]))
    return memref.SubViewOp(view_t, buffer, [b], [], [], [dynamic, 0, 0], [1, *shape],
                            [1, 1, 1]).result


def _build_pack(args, vnni: int, element):
    """amx_pack body: zero the packed buffer, then P[k // v, n * v + k % v] = B[k, n]."""
    source, packed = args
    k, n = ir.MemRefType(source.type).shape
    linalg.fill(zero(element), outs=[packed])
    k_loop = scf.ForOp(index(0), index(k), index(1))
    with ir.InsertionPoint(k_loop.body):
        kk = k_loop.induction_variable
        row = arith.divui(kk, index(vnni))
        lane = arith.remui(kk, index(vnni))
        n_loop = scf.ForOp(index(0), index(n), index(1))
        with ir.InsertionPoint(n_loop.body):
            nn = n_loop.induction_variable
            col = arith.addi(arith.muli(nn, index(vnni)), lane)
            memref.store(memref.load(source, [kk, nn]), packed, [row, col])
            scf.YieldOp([])
        scf.YieldOp([])


def _like(value, element):
    """The type of `value` (a scalar or a vector) with elements `element`."""
    t = value.type
    return ir.VectorType.get(ir.VectorType(t).shape, element) \
        if isinstance(t, ir.VectorType) else element


def widen_bf16(value):
    """bf16 (scalar or vector) -> f32, exactly, as bits: the bf16 is the f32's high half.
    (LLVM lowers `arith.extf` of bf16 to a library call per element on x86.)"""
    i16, i32 = ir.IntegerType.get_signless(16), ir.IntegerType.get_signless(32)
    bits = arith.extui(_like(value, i32), arith.bitcast(_like(value, i16), value))
    sixteen = arith.constant(i32, 16)
    if isinstance(value.type, ir.VectorType):
        sixteen = vector.broadcast(_like(value, i32), sixteen)
    return arith.bitcast(_like(value, ir.F32Type.get()), arith.shli(bits, sixteen))


def _build_panel_pack(args, vnni: int, panel: int, packed_element, lanes: int):
    """The vector engines' pack, `lanes` columns at a time: P[p, k // v, (n % panel) x v +
    k % v] = B[k, p x panel + n % panel] for each of P's panels p (their number is P's
    first size, B's column count its second: both known at run time only, so a caller may
    hand over any run of panels with their columns). Every element is written (columns
    past B's and the missing rows of a last VNNI group are zeros), so no fill is needed. A
    group interleaves rows k..k+v-1; bf16 packed as f32 or int8 as i16 (`packed_element`)
    is widened (exactly) on the way, int8 packed as such made unsigned (`_unsigned`)."""
    source, packed = args
    k = ir.MemRefType(source.type).shape[0]
    n = memref.dim(source, index(1))

    def group(p, col0, kk, c, first_row):
        """Packs the group of rows first_row.. at column col0 + c."""
        vector.store(_vnni_group(source, first_row, arith.addi(col0, index(c)), vnni,
                                 packed_element, lanes, n), packed, [p, kk, index(vnni * c)])

    p_loop = scf.ForOp(index(0), memref.dim(packed, index(0)), index(1))
    with ir.InsertionPoint(p_loop.body):
        p = p_loop.induction_variable
        col0 = arith.muli(p, index(panel))
        k_loop = scf.ForOp(index(0), index(k // vnni), index(1))
        with ir.InsertionPoint(k_loop.body):
            kk = k_loop.induction_variable
            for c in range(0, panel, lanes):
                group(p, col0, kk, c, arith.muli(kk, index(vnni)) if vnni > 1 else kk)
            scf.YieldOp([])
        if k % vnni:  # the last rows, in a group with zeros
            for c in range(0, panel, lanes):
                group(p, col0, index(k // vnni), c, k - k % vnni)
        scf.YieldOp([])


def _unsigned(packed):
    """int8 VNNI quads as `vpdpbusd`'s unsigned operand: x + 128, i.e. its bits ^ 0x80
    (the kernel takes 128 x the row sums of lhs off); other types as they are."""
    t = ir.VectorType(packed.type)
    if not isinstance(t.element_type, ir.IntegerType) or t.element_type.width != 8:
        return packed
    return arith.xori(packed, vector.broadcast(t, arith.constant(t.element_type, -128)))


def _as_packed(value, packed_element):
    """`value` (a scalar or a vector) as the engine packs it: bf16 widened to f32, int8
    sign-extended to i16 (both exact), else as it is."""
    t = value.type
    element = ir.VectorType(t).element_type if isinstance(t, ir.VectorType) else t
    if element == packed_element:
        return value
    if isinstance(element, ir.BF16Type):
        return widen_bf16(value)
    return arith.extsi(_like(value, packed_element), value)


def _vnni_group(source, first_row, col, vnni: int, packed_element, lanes: int, n=None):
    """Rows first_row..first_row + vnni - 1 of source (an int or an index value) at
    columns col..col + lanes - 1 as one VNNI-packed vector of `packed_element`: rows past
    the last (first_row an int) and columns past the last (`n`, an index value, when the
    column count is dynamic) are zeros; int8 packed as such made unsigned."""
    k, static_n = ir.MemRefType(source.type).shape
    n = index(static_n) if n is None else n
    rows = []
    for lane in range(vnni):
        if isinstance(first_row, int):
            if first_row + lane >= k:  # the last group of a K that is not a multiple
                rows.append(vector.broadcast(ir.VectorType.get([lanes], packed_element),
                                             zero(packed_element)))
                continue
            row = index(first_row + lane)
        else:
            row = arith.addi(first_row, index(lane)) if lane else first_row
        rows.append(_source_row(source, n, row, col, packed_element, lanes))
    return _unsigned(_interleaved(rows))


def _source_row(source, n, k, col, packed_element, lanes: int):
    """source[k, col:col + lanes] (zeros past column n, an index value), as packed
    (`_as_packed`): one load where every column is inside, else a masked load; bf16 lane
    by lane as i16 bits. (AVX2 has no masked load of bytes or halves: LLVM breaks one
    into a branch per lane, so it is kept to the last columns; and a masked load of bf16
    into bf16 scalars that, on a CPU without avx512_bf16, go through f32 and back by
    calls of __truncsfbf2, a function neither the JIT nor libgcc 12 provides.)"""
    element = ir.MemRefType(source.type).element_type
    vec = ir.VectorType.get([lanes], element)
    is_bf16 = isinstance(element, ir.BF16Type)
    i16 = ir.IntegerType.get_signless(16)
    as_loaded = ir.VectorType.get([lanes], i16) if is_bf16 else vec
    whole = arith.cmpi(arith.CmpIPredicate.sle, arith.addi(col, index(lanes)), n)
    branch = scf.IfOp(whole, [as_loaded], has_else=True)
    with ir.InsertionPoint(branch.then_block):
        row = vector.load(vec, source, [k, col])
        scf.YieldOp([vector.bitcast(as_loaded, row) if is_bf16 else row])
    with ir.InsertionPoint(branch.else_block):
        if is_bf16:
            bits = []
            for lane in range(lanes):
                c = arith.addi(col, index(lane))
                inside = arith.cmpi(arith.CmpIPredicate.slt, c, n)
                value = memref.load(source, [k, arith.select(inside, c, index(0))])
                bits.append(arith.select(inside, arith.bitcast(i16, value),
                                         arith.constant(i16, 0)))
            scf.YieldOp([vector.from_elements(as_loaded, bits)])
        else:
            mask = vector.create_mask(ir.VectorType.get([lanes], ir.IntegerType.get_signless(1)),
                                      [arith.subi(n, col)])
            scf.YieldOp([vector.maskedload(vec, source, [k, col], mask,
                                           vector.broadcast(vec, zero(element)))])
    loaded = branch.results[0]
    if is_bf16:
        loaded = vector.bitcast(vec, loaded)
    return _as_packed(loaded, packed_element)


def _interleaved(rows: list):
    """Rows r0..r(v-1) of L lanes as one VNNI-packed vector: r0[0], r1[0], .., r0[1], .."""
    if len(rows) == 1:
        return rows[0]
    if len(rows) == 2:
        return vector.interleave(*rows)
    t = ir.VectorType(rows[0].type)
    lanes = t.shape[0]
    i16 = ir.VectorType.get([lanes], ir.IntegerType.get_signless(16))
    low, high = (vector.bitcast(i16, vector.interleave(*pair)) for pair in (rows[:2], rows[2:]))
    quads = vector.interleave(low, high)
    return vector.bitcast(ir.VectorType.get([4 * lanes], t.element_type), quads)


class AmxOutliner:
    """Pass state: the module kernels go to and the options with the engine's defaults."""

    def __init__(self, module_op, options: SystolicToAmxOptions):
        self.engine = VECTOR_ENGINES.get(options.engine)  # None: AMX tiles
        if not options.m_block:  # the engine's own: vector blocks reuse B over more rows
            options = dataclasses.replace(options, m_block=M_BLOCK[self.engine is not None])
        self.module_op, self.options = module_op, options

    def rewrite(self, op, rewriter):
        acc_t = op.acc.type
        combo = element_combo(element(op.lhs.type), element(acc_t))
        lhs_in, rhs_in = op.lhs, op.rhs
        as_bf16 = False
        engine = self.engine
        combos = COMBOS if engine is None else engine.combos
        if combo == ("f32", "f32"):
            widened = (_widened_from_bf16(op.lhs), _widened_from_bf16(op.rhs))
            if all(v is not None for v in widened):
                # bf16 values widened to f32 (how torch writes bf16 layers): the same
                # numbers in bf16, so AMX computes this matmul with no rounding added.
                lhs_in, rhs_in = widened
                combo = ("bf16", "f32")
            elif self.options.precision == "bf16":
                as_bf16 = True
                combo = ("bf16", "f32")
        # Batched (rank 3): vector engines only, AMX tiles take rank 2.
        if combo not in combos or has_scale(op.epilogue) \
                or len(shape_of(acc_t)) not in ((2,) if engine is None else (2, 3)) \
                or 0 in shape_of(op.lhs.type) + shape_of(op.rhs.type):
            return NO_MATCH
        dtypes = combos[combo]
        if engine is not None and combo == ("bf16", "f32"):
            if self.options.bf16_math == "fma":
                dtypes = WIDENED
            elif dtypes.kind != "bf16-pairs":  # the engine has no bf16 dot
                raise TesseraError(f"bf16-math=dot needs vdpbf16ps (AVX-512 bf16), which the "
                                   f"{engine.name} engine does not use: it widens bf16 to f32 "
                                   f"(bf16-math=fma)")
        options = self.options
        if not options.k_block:  # the engine's own
            options = dataclasses.replace(options, k_block=K_BLOCK_AMX if engine is None
                                          else K_BLOCK_STEPS * dtypes.k_step)
        blocking = None
        if engine is not None:
            blocking = Blocking.of(op) or x86_blocking(engine)
            check_x86_blocking(blocking, engine)
        *batch, m, n = shape_of(acc_t)  # batch: [] or [B]
        if batch and n < blocking.groups * engine.lanes:
            # Fewer columns than a register block has (MobileNet's depthwise convolutions:
            # B = channels of [pixels x 9] · [9 x 1]): most of the kernel's padded columns
            # would be zeros (N = 1: 31 of 32), and the host's loops ran MobileNet-V2 in
            # 73 ms against 365 with these on the kernels.
            return NO_MATCH
        t_lhs, t_rhs = transpose_flags(op.transpose)
        k = shape_of(op.lhs.type)[-2 if t_lhs else -1]
        mp, np_, kp = padded_shapes(m, n, k, dtypes, BLOCK if blocking is None else 1)
        acc_element = ir.ShapedType(acc_t).element_type
        operand = ir.BF16Type.get(op.context) if as_bf16 else element(lhs_in.type)
        packed_element = ir.Type.parse(dtypes.packed) if dtypes.packed else operand
        relu = "relu" in ir.DictAttr(op.epilogue)
        with rewriter.ip, op.location:
            lhs = transposed(lhs_in) if t_lhs else lhs_in
            lhs = _to_bf16(lhs) if as_bf16 else lhs
            lhs = _padded_tensor(lhs, [*batch, mp, kp])
            panel = None if blocking is None else blocking.groups * engine.lanes
            packed_type = ir.MemRefType.get(
                [kp // dtypes.vnni, np_ * dtypes.vnni] if panel is None
                else [np_ // panel, kp // dtypes.vnni, panel * dtypes.vnni], packed_element)
            weight = None if batch else _dense_constant(rhs_in)
            if weight is not None:
                import ml_dtypes

                weight = weight.T if t_rhs else weight
                # f32 -> bf16 rounds to nearest even, as arith.truncf does at run time.
                weight = weight.astype(ml_dtypes.bfloat16) if as_bf16 else weight
                if dtypes.packed:  # widened: exact
                    weight = weight.astype(numpy_dtype(packed_element))
                packed = bufferization.ToBufferOp(
                    packed_type, _packed_constant(weight, packed_element, dtypes, kp, np_,
                                                  panel), read_only=True).result
            else:
                rhs = transposed(rhs_in) if t_rhs else rhs_in
                rhs = _to_bf16(rhs) if as_bf16 else rhs
                # Batched: each batch's rhs packed inside the kernel, a panel at a time.
                packed = self._runtime_packed(op, rhs, packed_type, kp, n,
                                              bool(batch) or mp <= options.m_block,
                                              dtypes, operand, panel, packed_element)
            out_type = ir.MemRefType.get([*batch, mp, np_], acc_element)
            out = memref.AllocOp(out_type, [], [], alignment=64).result
            zero_init = is_zero_fill(op.acc)
            if zero_init and blocking is None:
                linalg.fill(zero(acc_element), outs=[out])
            elif not zero_init:
                acc = bufferization.ToBufferOp(out_type, _padded_tensor(op.acc, [*batch, mp, np_]),
                                               read_only=True).result
                memref.copy(acc, out)
            dynamic = ir.ShapedType.get_dynamic_size()
            lhs_buffer = bufferization.ToBufferOp(memref_of(lhs.type), lhs, read_only=True).result
            # The rows (batched: the batch) dynamic: what the runtime splits between cores.
            rows = [dynamic, mp] if batch else [dynamic]
            if batch:
                packed = memref.cast(ir.MemRefType.get([dynamic, kp, n], operand), packed)
            operands = [memref.cast(ir.MemRefType.get([*rows, kp], operand), lhs_buffer),
                        packed,
                        memref.cast(ir.MemRefType.get([*rows, np_], acc_element), out)]
            roles = ["lhs", "rhs", "out"]
            if op.bias is not None:
                bias = _padded_tensor(op.bias, [np_])
                operands.append(bufferization.ToBufferOp(memref_of(bias.type), bias,
                                                         read_only=True).result)
                roles.append("bias")
            kernel = self._kernel(op, roles, [v.type for v in operands], batch[0] if batch else 1,
                                  mp, np_, kp, dtypes, packed_element, acc_element, relu,
                                  blocking, zero_init, options)
            func.CallOp(kernel, operands)
            result = bufferization.ToTensorOp(ir.RankedTensorType.get([*batch, mp, np_],
                                                                      acc_element),
                                              out, restrict=True, writable=True).result
            if (mp, np_) != (m, n):
                rank = len(batch) + 2
                result = tensor.extract_slice(op.res.type, result, [], [], [], [0] * rank,
                                              [*batch, m, n], [1] * rank)
        rewriter.replace_op(op, [result])

    def _runtime_packed(self, op, rhs, packed_type, kp: int, n: int, one_m_block: bool,
                        dtypes: Dtypes, operand, panel: int | None, packed_element):
        """The buffer the kernel reads a rhs known only at run time from. Vector engines,
        one m-block: rhs itself (rows padded to whole VNNI groups), packed inside the
        kernel a panel's k-block where it is used (each core its own, no pass of its own
        over memory; measured bf16 128x4096x1024 19.4 ms against 21.8, 2 threads 13.5
        against 15.2; with more m-blocks each would pack it again: 2048^3 236 ms against
        208). Otherwise packed first by a function of its own (`amx_pack_<i>`); a vector
        engine's is a `#systolic.pack` of any number of panels from their columns of rhs,
        so that the runtime splits its panels between the cores."""
        if panel is not None and one_m_block:
            rhs = _padded_tensor(rhs, [*shape_of(rhs.type)[:-2], kp, n])
            return bufferization.ToBufferOp(memref_of(rhs.type), rhs, read_only=True).result
        rhs_buffer = bufferization.ToBufferOp(memref_of(rhs.type), rhs, read_only=True).result
        packed = memref.AllocOp(packed_type, [], [], alignment=64).result
        if panel is None:
            pack = outline(self.module_op, "amx_pack", [rhs_buffer.type, packed_type],
                           op.location, {}, lambda args: _build_pack(args, dtypes.vnni, operand))
            func.CallOp(pack, [rhs_buffer, packed])
            return packed
        dynamic = ir.ShapedType.get_dynamic_size()
        k = ir.MemRefType(rhs_buffer.type).shape[0]
        columns = ir.MemRefType.get([k, dynamic], operand,
                                    ir.StridedLayoutAttr.get(0, [n, 1]))
        panels = ir.MemRefType.get([dynamic, *packed_type.shape[1:]], packed_element)
        attributes = {PACK: pack_attr(panel), "llvm.emit_c_interface": ir.UnitAttr.get()}
        pack = outline(self.module_op, "amx_pack", [columns, panels], op.location, attributes,
                       lambda args: _build_panel_pack(args, dtypes.vnni, panel, packed_element,
                                                      self.engine.lanes))
        func.CallOp(pack, [memref.cast(columns, rhs_buffer), memref.cast(panels, packed)])
        return packed

    def _kernel(self, op, roles, types, batch, rows, np_, kp, dtypes, element, acc_element,
                relu, blocking: Blocking | None, zero_init: bool,
                options: SystolicToAmxOptions):
        o = options
        # gemm rows: the padded row count a runtime may split between cores (batched: the
        # batch it splits).
        kind = "amx" if blocking is None else "vector"
        kernel = Kernel(kind, tuple(roles), batch, rows, np_, kp,
                        (o.m_block, o.n_block, o.k_block))
        with op.context:
            attributes = {KERNEL: kernel.attr(), "llvm.emit_c_interface": ir.UnitAttr.get()}
            if blocking is not None:
                attributes[BLOCKING] = blocking.attr()

        def build(arguments):
            args = dict(zip(roles, arguments))
            if blocking is None:
                _Kernel(args, np_, kp, dtypes, element, acc_element, options, relu).build()
            else:
                _VectorKernel(args, np_, kp, dtypes, element, acc_element, options, relu,
                              blocking, zero_init, self.module_op, self.engine.lanes).build()

        return outline(self.module_op, f"{kind}_kernel", types, op.location, attributes, build)


def systolic_to_amx(op, pass_, options: SystolicToAmxOptions) -> None:
    """Pass body: every bf16/int8 rank-2 systolic.matmul becomes an AMX kernel call (with
    engine=avx512 or avx2: every f32/bf16/int8 one a vector kernel call); a hand-set
    blocking that does not fit is an error at its matmul."""
    rewrite_each(op, pass_, MatmulOp, AmxOutliner(op, options).rewrite, "tessera-systolic-to-amx")
