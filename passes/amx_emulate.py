"""Pass `tessera-amx-emulate`: run AMX kernels on a CPU without AMX, same semantics.

Rewrites the upstream `x86.amx` tile ops into ordinary memref code, so that a kernel
made by `tessera-systolic-to-amx` (packing, cache blocking, register blocking, edges,
epilogue: everything but the AMX instructions themselves) runs in the host JIT:

- a tile value becomes a small buffer (`memref.alloca` at the function's entry, one per
  value, so no stack grows inside loops);
- `tile_load` / `tile_store` copy a rows x cols block to / from a `memref.subview`;
- `tile_zero` fills the buffer with zeros;
- `tile_mulf` (bf16 pairs -> f32) and `tile_muli` (signed or unsigned i8 quads -> i32)
  call a helper with scalar loops that follow the instructions' definition
  (TDPBF16PS, TDPB[SU][SU]D): for every output element and every pair/quad in order,
  acc += ext(a) * ext(b). bf16·bf16 products are exact in f32, so each step is the FMA
  of the definition; int8 arithmetic is exact and wraps like the hardware.

The one difference from the hardware: AMX flushes bf16 denormal inputs and f32 denormal
results to zero (DAZ/FTZ); the emulation keeps them. This tests everything except the
AMX instruction encodings and the tile configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.mlir import arith, func, ir, linalg, memref, rewrite, scf, x86



@dataclass(frozen=True)
class AmxEmulateOptions:
    """No options: the emulation has one meaning."""


def _c(value: int):
    return arith.constant(ir.IndexType.get(), value)


def _tile_shape(t) -> tuple[int, int, ir.Type]:
    """(rows, cols, element) of `!x86.amx.tile<RxCxT>`."""
    text = str(t)
    inner = text[text.index("<") + 1:text.rindex(">")]
    rows, cols, element = inner.split("x", 2)
    return int(rows), int(cols), ir.Type.parse(element)


def _buffer_type(t) -> ir.MemRefType:
    rows, cols, element = _tile_shape(t)
    return ir.MemRefType.get([rows, cols], element)


class Emulator:
    """Pass state: the function entry blocks (for buffers) and the helpers made so far."""

    def __init__(self, module_body):
        self.body = module_body
        self.helpers: dict[str, func.FuncOp] = {}
        self.sole_users = []  # tile multiplies that are the only user of their accumulator
        self.failed = False

    def _entry(self, op):
        parent = op.operation.parent
        while not isinstance(parent.opview, func.FuncOp):
            parent = parent.parent
        return parent.opview.regions[0].blocks[0]

    def _buffer(self, op, t):
        with ir.InsertionPoint.at_block_begin(self._entry(op)), op.location:
            return memref.AllocaOp(_buffer_type(t), [], []).result

    def load(self, op, rewriter):
        if op.stride is not None:
            return self._unsupported(op, "an explicit stride")
        buffer = self._buffer(op, op.res.type)
        with rewriter.ip, op.location:
            memref.copy(_subview(op.base, list(op.indices), *_tile_shape(op.res.type)[:2]), buffer)
        rewriter.replace_op(op, [buffer])

    def store(self, op, rewriter):
        if op.stride is not None:
            return self._unsupported(op, "an explicit stride")
        with rewriter.ip, op.location:
            rows, cols, _ = _tile_shape(_tile_type_of(op.val))
            memref.copy(op.val, _subview(op.base, list(op.indices), rows, cols))
        rewriter.erase_op(op)

    def zero(self, op, rewriter):
        buffer = self._buffer(op, op.res.type)
        _, _, element = _tile_shape(op.res.type)
        with rewriter.ip, op.location:
            linalg.fill(_zero(element), outs=[buffer])
        rewriter.replace_op(op, [buffer])

    def mulf(self, op, rewriter):
        return self._mul(op, rewriter, "tdpbf16ps", 2, (False, False))

    def muli(self, op, rewriter):
        zext = ("isZextLhs" in op.attributes, "isZextRhs" in op.attributes)
        name = "tdpb" + "".join("u" if z else "s" for z in zext) + "d"
        return self._mul(op, rewriter, name, 4, zext)

    def _mul(self, op, rewriter, name, group, zext):
        res_t = op.results[0].type
        lhs_t, rhs_t = _tile_type_of(op.lhs), _tile_type_of(op.rhs)
        shapes = [_tile_shape(t) for t in (lhs_t, rhs_t, res_t)]
        helper = self._helper(name, group, zext, shapes, op.location)
        # The accumulator is updated in place when this op is its only user (always so
        # in tessera's kernels); otherwise it is copied first to keep value semantics.
        acc = op.acc
        with rewriter.ip, op.location:
            if not any(op.operation == sole for sole in self.sole_users):
                copy = self._buffer(op, res_t)
                memref.copy(acc, copy)
                acc = copy
            func.CallOp(helper, [op.lhs, op.rhs, acc])
        rewriter.replace_op(op, [acc])

    def _helper(self, name, group, zext, shapes, location) -> func.FuncOp:
        (m, ka, el_a), (kb, nb, el_b), (mc, n, el_c) = shapes
        key = f"amx_emulate_{name}_{m}x{ka}x{n}"
        if key in self.helpers:
            return self.helpers[key]
        types = [ir.MemRefType.get([m, ka], el_a), ir.MemRefType.get([kb, nb], el_b),
                 ir.MemRefType.get([mc, n], el_c)]
        with ir.InsertionPoint(self.body), location:
            helper = func.FuncOp(key, ir.FunctionType.get(types, []), visibility="private")
            block = helper.add_entry_block()
            with ir.InsertionPoint(block):
                _emit_dot(list(block.arguments), m, n, ka // group, group, zext, el_c)
                func.ReturnOp([])
        self.helpers[key] = helper
        return helper

    def _unsupported(self, op, what):
        op.location.emit_error(f"tessera-amx-emulate: {op.operation.name} with {what} is not "
                               f"emulated (only 2-d memrefs with their own row stride)")
        self.failed = True
        return True  # did not apply


def _tile_type_of(value):
    """The tile type a value had (a buffer made by this pass stands for a tile)."""
    t = value.type
    if isinstance(t, ir.MemRefType):
        rows, cols = t.shape
        return ir.Type.parse(f"!x86.amx.tile<{rows}x{cols}x{t.element_type}>")
    return t


def _zero(element):
    if isinstance(element, ir.IntegerType):
        return arith.constant(element, ir.IntegerAttr.get(element, 0))
    return arith.constant(element, ir.FloatAttr.get(element, 0.0))


def _subview(base, indices, rows: int, cols: int):
    """base[i:i+rows, j:j+cols] as a strided view."""
    dynamic = ir.ShapedType.get_dynamic_size()
    base_t = ir.MemRefType(base.type)
    strides, _ = base_t.get_strides_and_offset()
    layout = ir.StridedLayoutAttr.get(dynamic, strides)
    view_t = ir.MemRefType.get([rows, cols], base_t.element_type, layout)
    return memref.SubViewOp(view_t, base, indices, [], [], [dynamic, dynamic],
                            [rows, cols], [1, 1]).result


def _emit_dot(args, m: int, n: int, groups: int, group: int, zext, acc_element):
    """c[i, j] += sum over g, q of ext(a[i, g*group + q]) * ext(b[g, j*group + q]), in
    the order of the instruction's definition."""
    a, b, c = args
    is_int = isinstance(acc_element, ir.IntegerType)

    def widen(value, unsigned):
        if not is_int:
            return arith.extf(acc_element, value)
        return arith.extui(acc_element, value) if unsigned else arith.extsi(acc_element, value)

    i_loop = scf.ForOp(_c(0), _c(m), _c(1))
    with ir.InsertionPoint(i_loop.body):
        i = i_loop.induction_variable
        j_loop = scf.ForOp(_c(0), _c(n), _c(1))
        with ir.InsertionPoint(j_loop.body):
            j = j_loop.induction_variable
            g_loop = scf.ForOp(_c(0), _c(groups), _c(1), [memref.load(c, [i, j])])
            with ir.InsertionPoint(g_loop.body):
                g = g_loop.induction_variable
                acc = g_loop.inner_iter_args[0]
                for q in range(group):
                    col_a = arith.addi(arith.muli(g, _c(group)), _c(q))
                    col_b = arith.addi(arith.muli(j, _c(group)), _c(q))
                    x = widen(memref.load(a, [i, col_a]), zext[0])
                    y = widen(memref.load(b, [g, col_b]), zext[1])
                    acc = arith.addi(acc, arith.muli(x, y)) if is_int else \
                        arith.addf(acc, arith.mulf(x, y))
                scf.YieldOp([acc])
            memref.store(g_loop.results[0], c, [i, j])
            scf.YieldOp([])
        scf.YieldOp([])


def amx_emulate(op, pass_, options: AmxEmulateOptions) -> None:
    """Pass body: every x86.amx tile op becomes its memref emulation."""
    emulator = Emulator(op.regions[0].blocks[0])

    def note_sole_user(inner):
        if isinstance(inner.opview, (x86.TileMulFOp, x86.TileMulIOp)) and \
                len(list(inner.opview.acc.uses)) == 1:
            emulator.sole_users.append(inner)
        return ir.WalkResult.ADVANCE

    op.walk(note_sole_user)
    patterns = rewrite.RewritePatternSet()
    # Loads and zeros come before their users in a block; the walk sees them first.
    patterns.add(x86.TileLoadOp, emulator.load)
    patterns.add(x86.TileZeroOp, emulator.zero)
    patterns.add(x86.TileMulFOp, emulator.mulf)
    patterns.add(x86.TileMulIOp, emulator.muli)
    patterns.add(x86.TileStoreOp, emulator.store)
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
    if emulator.failed:
        pass_.signal_pass_failure()

