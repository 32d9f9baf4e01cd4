"""Pass `tessera-amx-emulate`: run AMX kernels on a CPU without AMX, same semantics.

Rewrites the upstream `x86.amx` tile ops into ordinary memref code, so that a kernel
made by `tessera-systolic-to-amx` (packing, cache blocking, register blocking, edges,
epilogue: everything but the AMX instructions themselves) runs in the host JIT. It is a
dialect conversion: a type converter turns `!x86.amx.tile<RxCxT>` into `memref<RxCxT>`,
the tile ops are illegal, and each conversion pattern receives its tile operands already
converted to those buffers:

- a tile value becomes a small buffer (`memref.alloca` at the function's entry, one per
  value, so no stack grows inside loops);
- `tile_load` / `tile_store` copy a rows x cols block to / from a `memref.subview`;
- `tile_zero` fills the buffer with zeros;
- `tile_mulf` (bf16 pairs -> f32) and `tile_muli` (signed or unsigned i8 quads -> i32)
  call a helper with scalar loops that follow the instructions' definition
  (TDPBF16PS, TDPB[SU][SU]D): for every output element and every pair/quad in order,
  acc += ext(a) * ext(b). bf16·bf16 products are exact in f32, so each step is the FMA
  of the definition; int8 arithmetic is exact and wraps like the hardware. The
  accumulator buffer is updated in place when the multiply is its only user, otherwise
  copied first. Helpers are private functions named `amx_emulate_<insn>_<M>x<K>x<N>`,
  renamed by the module's symbol table if that name is taken.

The one difference from the hardware: AMX flushes bf16 denormal inputs and f32 denormal
results to zero (DAZ/FTZ); the emulation keeps them. This tests everything except the
AMX instruction encodings and the tile configuration.
"""

from __future__ import annotations

from tessera.mlir import arith, func, ir, linalg, memref, rewrite, scf, x86
from tessera.passes.common import index, zero

TILE_OPS = (x86.TileLoadOp, x86.TileStoreOp, x86.TileZeroOp, x86.TileMulFOp, x86.TileMulIOp)


class Emulator:
    """Pass state for one run: the tile type converter, the module's symbol table and
    the helpers made so far (one per instruction and shape)."""

    def __init__(self, module_op):
        self.module_body = module_op.regions[0].blocks[0]
        self.symbols = ir.SymbolTable(module_op)
        self.helpers: dict[tuple, func.FuncOp] = {}
        # The bindings have no Python class for the AMX tile type: one parsed instance
        # gives its TypeID, and tiles are recognised by TypeID, not by their text.
        self.tile_typeid = ir.Type.parse("!x86.amx.tile<16x16xf32>", module_op.context).typeid
        self.types = rewrite.TypeConverter()
        # TypeConverter.add_conversion keeps no reference to its callable (nor the pattern
        # set to the converter): without these attributes both are freed mid-conversion.
        self._tile_to_buffer = self.tile_to_buffer
        self.types.add_conversion(self._tile_to_buffer)

    def tile_to_buffer(self, t: ir.Type) -> ir.Type:
        """The type conversion: `!x86.amx.tile<RxCxT>` -> `memref<RxCxT>`, other types
        unchanged (a None here would make the conversion fail, not fall through)."""
        if t.typeid != self.tile_typeid:
            return t
        tile = ir.ShapedType(t)  # the tile type implements ShapedTypeInterface
        return ir.MemRefType.get(tile.shape, tile.element_type)

    def load(self, op: x86.TileLoadOp, adaptor, types, rewriter):
        """tile_load: copy the block at base[i, j] into a new buffer."""
        buffer_t = ir.MemRefType(types.convert_type(op.res.type))
        buffer = _alloca(op, buffer_t)
        with rewriter.ip, op.location:
            memref.copy(_subview(adaptor.base, list(adaptor.indices), buffer_t), buffer)
        rewriter.replace_op(op, [buffer])

    def store(self, op: x86.TileStoreOp, adaptor, types, rewriter):
        """tile_store: copy the buffer to the block at base[i, j]."""
        buffer_t = ir.MemRefType(adaptor.val.type)
        with rewriter.ip, op.location:
            memref.copy(adaptor.val, _subview(adaptor.base, list(adaptor.indices), buffer_t))
        rewriter.erase_op(op)

    def zero(self, op: x86.TileZeroOp, adaptor, types, rewriter):
        """tile_zero: a new buffer filled with zeros."""
        buffer_t = ir.MemRefType(types.convert_type(op.res.type))
        buffer = _alloca(op, buffer_t)
        with rewriter.ip, op.location:
            linalg.fill(zero(buffer_t.element_type), outs=[buffer])
        rewriter.replace_op(op, [buffer])

    def mulf(self, op: x86.TileMulFOp, adaptor, types, rewriter):
        """tile_mulf: TDPBF16PS, bf16 pairs accumulated in f32."""
        return self._mul(op, adaptor, rewriter, "tdpbf16ps", 2, (False, False))

    def muli(self, op: x86.TileMulIOp, adaptor, types, rewriter):
        """tile_muli: TDPB[SU][SU]D, i8 quads (sign- or zero-extended) accumulated in i32."""
        zext = (op.isZextLhs, op.isZextRhs)
        name = "tdpb" + "".join("u" if z else "s" for z in zext) + "d"
        return self._mul(op, adaptor, rewriter, name, 4, zext)

    def _mul(self, op, adaptor, rewriter, name, group, zext):
        helper = self._helper(name, group, zext, adaptor, op.location)
        acc = adaptor.acc
        # The driver defers replacements until the conversion ends, so `op.acc` still has
        # its original users here: when this multiply is the only one (always so in
        # tessera's kernels) the buffer is updated in place, otherwise copied first.
        with rewriter.ip, op.location:
            if len(list(op.acc.uses)) != 1:
                copy = _alloca(op, ir.MemRefType(acc.type))
                memref.copy(acc, copy)
                acc = copy
            func.CallOp(helper, [adaptor.lhs, adaptor.rhs, acc])
        rewriter.replace_op(op, [acc])

    def _helper(self, name, group, zext, adaptor, location) -> func.FuncOp:
        """The private function computing one multiply of these buffer shapes."""
        types = [ir.MemRefType(v.type) for v in (adaptor.lhs, adaptor.rhs, adaptor.acc)]
        (m, k), (_, n) = types[0].shape, types[2].shape
        key = (name, m, k, n)
        if key in self.helpers:
            return self.helpers[key]
        # Built inside the module, not detached: the bindings' SymbolTable.insert leaves a
        # detached op owned by Python, which erases it when the Python object dies.
        helper = func.FuncOp(f"amx_emulate_{name}_{m}x{k}x{n}", ir.FunctionType.get(types, []),
                             visibility="private", loc=location,
                             ip=ir.InsertionPoint(self.module_body))
        block = helper.add_entry_block()
        with ir.InsertionPoint(block), location:
            _emit_dot(list(block.arguments), m, n, k // group, group, zext, types[2].element_type)
            func.ReturnOp([])
        self.symbols.insert(helper)  # renames it if a symbol of that name exists
        self.helpers[key] = helper
        return helper


def _alloca(op, buffer_t: ir.MemRefType):
    """A buffer at the entry of the function around `op`, so that no stack grows in loops."""
    parent = op.operation.parent
    while not isinstance(parent.opview, func.FuncOp):
        parent = parent.parent
    with ir.InsertionPoint.at_block_begin(parent.opview.regions[0].blocks[0]), op.location:
        return memref.AllocaOp(buffer_t, [], []).result




def _subview(base, indices, block_t: ir.MemRefType):
    """base[i:i+rows, j:j+cols] (the shape of `block_t`) as a strided view."""
    dynamic = ir.ShapedType.get_dynamic_size()
    base_t = ir.MemRefType(base.type)
    strides, _ = base_t.get_strides_and_offset()
    layout = ir.StridedLayoutAttr.get(dynamic, strides)
    view_t = ir.MemRefType.get(block_t.shape, base_t.element_type, layout)
    return memref.SubViewOp(view_t, base, indices, [], [], [dynamic, dynamic],
                            block_t.shape, [1, 1]).result


def _emit_dot(args, m: int, n: int, groups: int, group: int, zext, acc_element):
    """c[i, j] += sum over g, q of ext(a[i, g*group + q]) * ext(b[g, j*group + q]), in
    the order of the instruction's definition."""
    a, b, c = args
    is_int = isinstance(acc_element, ir.IntegerType)

    def widen(value, unsigned):
        if not is_int:
            return arith.extf(acc_element, value)
        return arith.extui(acc_element, value) if unsigned else arith.extsi(acc_element, value)

    i_loop = scf.ForOp(index(0), index(m), index(1))
    with ir.InsertionPoint(i_loop.body):
        i = i_loop.induction_variable
        j_loop = scf.ForOp(index(0), index(n), index(1))
        with ir.InsertionPoint(j_loop.body):
            j = j_loop.induction_variable
            g_loop = scf.ForOp(index(0), index(groups), index(1), [memref.load(c, [i, j])])
            with ir.InsertionPoint(g_loop.body):
                g = g_loop.induction_variable
                acc = g_loop.inner_iter_args[0]
                for q in range(group):
                    col_a = arith.addi(arith.muli(g, index(group)), index(q))
                    col_b = arith.addi(arith.muli(j, index(group)), index(q))
                    x = widen(memref.load(a, [i, col_a]), zext[0])
                    y = widen(memref.load(b, [g, col_b]), zext[1])
                    acc = arith.addi(acc, arith.muli(x, y)) if is_int else \
                        arith.addf(acc, arith.mulf(x, y))
                scf.YieldOp([acc])
            memref.store(g_loop.results[0], c, [i, j])
            scf.YieldOp([])
        scf.YieldOp([])


def _reject_strided(op) -> bool:
    """Emit a located error for every tile load/store with an explicit stride; True if
    there was one."""
    rejected = []

    def visit(inner):
        view = inner.opview
        if isinstance(view, (x86.TileLoadOp, x86.TileStoreOp)) and view.stride is not None:
            inner.location.emit_error(
                f"tessera-amx-emulate: {inner.name} with an explicit stride is not emulated "
                f"(only 2-d memrefs with their own row stride)")
            rejected.append(inner)
        return ir.WalkResult.ADVANCE

    op.walk(visit)
    return bool(rejected)


def amx_emulate(op, pass_, options) -> None:
    """Pass body: every x86.amx tile op becomes its memref emulation."""
    # Checked before converting: a pattern's own error would only reach the user inside
    # the driver's exception, next to a second "failed to legalize" error.
    if _reject_strided(op):
        pass_.signal_pass_failure()
        return
    emulator = Emulator(op)
    patterns = rewrite.RewritePatternSet()
    patterns.add_conversion(x86.TileLoadOp, emulator.load, emulator.types)
    patterns.add_conversion(x86.TileStoreOp, emulator.store, emulator.types)
    patterns.add_conversion(x86.TileZeroOp, emulator.zero, emulator.types)
    patterns.add_conversion(x86.TileMulFOp, emulator.mulf, emulator.types)
    patterns.add_conversion(x86.TileMulIOp, emulator.muli, emulator.types)
    target = rewrite.ConversionTarget()
    # Only the AMX ops: the rest of x86 (AVX-512 dot products) stays legal.
    target.add_illegal_op(*TILE_OPS)
    try:
        rewrite.apply_partial_conversion(op, target, patterns.freeze())
    except ir.MLIRError as e:
        # The bindings raise the driver's diagnostics: hand them back as located errors.
        for diagnostic in e.error_diagnostics:
            diagnostic.location.emit_error(diagnostic.message)
        pass_.signal_pass_failure()
