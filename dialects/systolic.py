"""The `systolic` dialect: one unit's matrix engine, an RxC array of multiply-accumulate
cells running a dataflow (weight-, output- or input-stationary).

Two levels live here. At tensor level, `systolic.matmul` has value semantics
(res = epilogue(acc + lhs·rhs)) and is what `tessera-linalg-to-systolic` produces from
linalg. At ISA level, after tiling to the array and its memories, ops work on memrefs in
the scratchpad (`#systolic.spad`) and accumulator (`#systolic.acc`) memory spaces, in
the spirit of Gemmini's instructions: move a block in, preload the stationary operand,
compute, move a block out (applying the epilogue), fence.

Ops are defined with MLIR's Python `ext` API (IRDL underneath), so they print in MLIR's
generic form: `"systolic.matmul"(%a, %b, %c) {...} : (...) -> ...`.
"""


from tessera.hardware import DATAFLOWS
from tessera.mlir import Operand, Pure, Result, ext, ir

from tessera.dialects.common import (COMBOS_TEXT, ELEMENT_COMBOS, dims, elem, int_value,
                                     is_bool, is_static, memory_space, shape_of, verifier)

EPILOGUE_KEYS = ("relu", "scale")


class Systolic(ext.Dialect, name="systolic"):
    """Matrix engines built as an RxC grid of multiply-accumulate cells."""


class ArrayAttr(Systolic.Attribute, name="array"):
    """The array an op targets: `#systolic.array<rows : i64, cols : i64, "ws">`."""

    rows: ir.IntegerAttr
    cols: ir.IntegerAttr
    dataflow: ir.StringAttr  # "ws" | "os" | "is"


class SpadAttr(Systolic.Attribute, name="spad"):
    """Memory space of the scratchpad that feeds the array: `memref<..., #systolic.spad>`."""


class AccAttr(Systolic.Attribute, name="acc"):
    """Memory space of the accumulator the array writes into: `memref<..., #systolic.acc>`."""


SPAD = "#systolic.spad"
ACC = "#systolic.acc"


def array_attr(rows: int, cols: int, dataflow: str) -> ArrayAttr:
    """Build `#systolic.array<rows, cols, dataflow>` in the current context."""
    i64 = ir.IntegerType.get_signless(64)
    return ArrayAttr.get(ir.IntegerAttr.get(i64, rows), ir.IntegerAttr.get(i64, cols),
                         ir.StringAttr.get(dataflow))


def array_params(attr) -> tuple[int, int, str]:
    """(rows, cols, dataflow) of a `#systolic.array` attribute."""
    return int_value(attr.rows), int_value(attr.cols), ir.StringAttr(attr.dataflow).value


def _check_array(attr) -> str | None:
    rows, cols, dataflow = array_params(attr)
    if rows <= 0 or cols <= 0:
        return f"array must have positive rows and cols, got {rows}x{cols}"
    if dataflow not in DATAFLOWS:
        return f"array dataflow must be one of {', '.join(DATAFLOWS)}, got '{dataflow}'"
    return None


def _check_epilogue(epilogue) -> str | None:
    d = ir.DictAttr(epilogue)
    for named in d:
        if named.name not in EPILOGUE_KEYS:
            return (f"epilogue has unknown entry '{named.name}'; "
                    f"known: {', '.join(EPILOGUE_KEYS)}")
    if "relu" in d and not isinstance(d["relu"], ir.UnitAttr):
        return f"epilogue 'relu' must be a unit attribute, got {d['relu']}"
    if "scale" in d and not isinstance(d["scale"], ir.FloatAttr):
        return f"epilogue 'scale' must be a float attribute, got {d['scale']}"
    return None


def _no_epilogue():
    # An empty DictAttr is falsy, which ext's builder would take for "not given".
    return ir.DictAttr.get({})


def has_scale(epilogue) -> bool:
    return "scale" in ir.DictAttr(epilogue)


def _check_result_type(epilogue, acc_elem: str, res_elem: str, what: str) -> str | None:
    if has_scale(epilogue):
        if (acc_elem, res_elem) != ("i32", "i8"):
            return (f"requantize (epilogue scale) needs an i32 accumulator and an i8 {what}, "
                    f"got {acc_elem} and {res_elem}")
    elif acc_elem != res_elem:
        return f"{what} element type is {res_elem} but acc is {acc_elem}"
    return None


def transpose_flags(attr) -> tuple[bool, bool]:
    """(transpose_lhs, transpose_rhs) from `transpose = [false, true]`."""
    flags = ir.ArrayAttr(attr)
    return bool(ir.BoolAttr(flags[0]).value), bool(ir.BoolAttr(flags[1]).value)


def _verify_matmul(op) -> str | None:
    lhs, rhs, acc, res = (v.type for v in (op.lhs, op.rhs, op.acc, op.res))
    if msg := _check_array(op.array):
        return msg
    flags = ir.ArrayAttr(op.transpose)
    if len(flags) != 2 or not all(is_bool(f) for f in flags):
        return f"transpose must be two booleans [lhs, rhs], got {op.transpose}"
    t_lhs, t_rhs = transpose_flags(op.transpose)
    ranks = [len(shape_of(t)) for t in (lhs, rhs, acc, res)]
    if len(set(ranks)) != 1 or ranks[0] not in (2, 3):
        return (f"lhs, rhs, acc and result must all be rank 2 (or 3 with a leading batch "
                f"dim), got lhs {dims(lhs)}, rhs {dims(rhs)}, acc {dims(acc)}, "
                f"result {dims(res)}")
    for name, t in (("lhs", lhs), ("rhs", rhs), ("acc", acc)):
        if not is_static(t):
            return f"needs static shapes, but {name} is {dims(t)}"
    *lb, m, k = shape_of(lhs)
    *rb, k2, n = shape_of(rhs)
    if t_lhs:
        m, k = k, m
    if t_rhs:
        k2, n = n, k2
    if lb != rb:
        return f"batch dims disagree: lhs is {dims(lhs)} but rhs is {dims(rhs)}"
    if k != k2:
        how = "".join(f" ({w} transposed)" for w, t in (("lhs", t_lhs), ("rhs", t_rhs)) if t)
        return f"lhs is {dims(lhs)} but rhs is {dims(rhs)}{how}: reduction sizes {k} and {k2} differ"
    if shape_of(acc) != lb + [m, n]:
        want = "x".join(str(d) for d in lb + [m, n])
        return f"acc is {dims(acc)} but lhs·rhs is {want}"
    if shape_of(res) != shape_of(acc):
        return f"result is {dims(res)} but acc is {dims(acc)}"
    if elem(lhs) != elem(rhs):
        return f"lhs element type is {elem(lhs)} but rhs is {elem(rhs)}"
    if (elem(lhs), elem(acc)) not in ELEMENT_COMBOS:
        a, c = elem(lhs), elem(acc)
        return f"{a}·{a}→{c} is not supported; supported: {COMBOS_TEXT}"
    if msg := _check_epilogue(op.epilogue):
        return msg
    if msg := _check_result_type(op.epilogue, elem(acc), elem(res), "result"):
        return msg
    if op.bias is not None:
        bias = op.bias.type
        if shape_of(bias) != [n]:
            return f"bias is {dims(bias)} but the result has {n} columns"
        if elem(bias) != elem(acc):
            return f"bias element type is {elem(bias)} but acc is {elem(acc)}"
    return None


class MatmulOp(Systolic.Operation, name="matmul", traits=[Pure]):
    """res = epilogue(acc + lhs·rhs) on one array (tensor level).

    lhs is MxK and rhs KxN (each optionally transposed, batch dim optional); element
    types bf16·bf16→f32, i8·i8→i32, f16·f16→f32 or f32·f32→f32. The epilogue adds the
    optional `bias` (one value per column), then applies `relu` and requantizes by
    `scale` (i32 → i8, round half to even, saturate) when those entries are present.
    """

    lhs: Operand[ir.RankedTensorType]
    rhs: Operand[ir.RankedTensorType]
    acc: Operand[ir.RankedTensorType]
    array: ArrayAttr  # the array this matmul is mapped to
    transpose: ir.ArrayAttr  # [lhs transposed, rhs transposed] as two booleans
    res: Result[ir.RankedTensorType]
    epilogue: ir.DictAttr = ext.attribute(default_factory=_no_epilogue)  # {relu?, scale?}
    bias: Operand[ir.RankedTensorType] | None = None

    verify_invariants = verifier(_verify_matmul)


# --- ISA level -------------------------------------------------------------------------


def _in_space(t, space: str | None) -> bool:
    return memory_space(t) == space


def _space_name(t) -> str:
    return memory_space(t) or "global memory"


def _verify_move_in(op) -> str | None:
    src, dst = op.src.type, op.dst.type
    if not _in_space(src, None):
        return f"source must be in global memory, got {_space_name(src)}"
    if memory_space(dst) not in (SPAD, ACC):
        return f"destination must be in {SPAD} or {ACC}, got {_space_name(dst)}"
    if msg := _check_block_copy(src, dst, "source", "destination"):
        return msg
    return _same_elem(op.src, op.dst)


def _check_block_copy(global_t, local_t, global_name, local_name) -> str | None:
    """A copy between a global block (sizes may be dynamic at matrix edges) and a static
    local block at least as large (the rest of the local block is padding)."""
    if not is_static(local_t):
        return f"{local_name} must have a static shape, got {dims(local_t)}"
    g, l = shape_of(global_t), shape_of(local_t)
    dynamic = ir.ShapedType.get_dynamic_size()
    if len(g) != len(l) or any(x != dynamic and x > y for x, y in zip(g, l)):
        return (f"{global_name} is {dims(global_t)} but {local_name} is {dims(local_t)}: "
                f"the {local_name} block must be at least as large in every dim "
                f"(extra is padding)")
    return None


class MoveInOp(Systolic.Operation, name="move_in"):
    """Copy a block from global memory into the scratchpad or accumulator.

    The destination may be larger than the source; the extra elements are zero, which
    is how blocks at the edges of a matrix are padded to the array size. The source may
    have dynamic sizes (edge blocks); the destination is static.
    """

    src: Operand[ir.MemRefType]
    dst: Operand[ir.MemRefType]

    verify_invariants = verifier(_verify_move_in)


def _same_elem(a, b) -> str | None:
    if elem(a.type) != elem(b.type):
        return f"source element type is {elem(a.type)} but destination is {elem(b.type)}"
    return None


def _verify_preload(op) -> str | None:
    if msg := _check_array(op.array):
        return msg
    t = op.stationary.type
    if memory_space(t) not in (SPAD, ACC):
        return f"stationary block must be in {SPAD} or {ACC}, got {_space_name(t)}"
    rows, cols, dataflow = array_params(op.array)
    shape = shape_of(t)
    if len(shape) != 2 or not is_static(t):
        return f"stationary block must be a static 2-d block, got {dims(t)}"
    # With is, the lhs block (m x k) sits in the array transposed: k on rows, m on cols.
    r, c = (shape[1], shape[0]) if dataflow == "is" else (shape[0], shape[1])
    if r > rows or c > cols:
        how = " (transposed, as is places it)" if dataflow == "is" else ""
        return f"stationary block is {dims(t)}{how} but the array is {rows}x{cols}"
    return None


class PreloadOp(Systolic.Operation, name="preload"):
    """Load the stationary operand of the next computes into the array's cells.

    Which operand is stationary depends on the dataflow: the rhs block (KxN) for ws, the
    accumulator block (MxN) for os, the lhs block, transposed (KxM), for is.
    """

    stationary: Operand[ir.MemRefType]
    array: ArrayAttr

    verify_invariants = verifier(_verify_preload)


def fold_dims(dataflow: str, m: int, n: int, k: int) -> tuple[int, int]:
    """The two matmul dims that must fit the array's rows and cols for a dataflow."""
    return {"os": (m, n), "ws": (k, n), "is": (k, m)}[dataflow]


def _is_dynamic(size: int) -> bool:
    return size == ir.ShapedType.get_dynamic_size()


def _agree(x: int, y: int) -> bool:
    """Two sizes agree when equal or when either is only known at run time."""
    return x == y or _is_dynamic(x) or _is_dynamic(y)


def _verify_compute(op) -> str | None:
    if msg := _check_array(op.array):
        return msg
    if not is_bool(op.accumulate):
        return f"accumulate must be a boolean, got {op.accumulate}"
    a, b, c = op.lhs.type, op.rhs.type, op.out.type
    for name, t, space in (("lhs", a, SPAD), ("rhs", b, SPAD), ("out", c, ACC)):
        if memory_space(t) != space:
            return f"{name} must be in {space}, got {_space_name(t)}"
        if len(shape_of(t)) != 2:
            return f"{name} must be a 2-d block, got {dims(t)}"
    (m, k), (k2, n), (m2, n2) = shape_of(a), shape_of(b), shape_of(c)
    if not _agree(k, k2):
        return f"lhs is {dims(a)} but rhs is {dims(b)}"
    if not (_agree(m, m2) and _agree(n, n2)):
        return f"out is {dims(c)} but lhs·rhs is {dims(a).split('x')[0]}x{dims(b).split('x')[1]}"
    if elem(a) != elem(b):
        return f"lhs element type is {elem(a)} but rhs is {elem(b)}"
    if (elem(a), elem(c)) not in ELEMENT_COMBOS:
        return f"{elem(a)}·{elem(a)}→{elem(c)} is not supported; supported: {COMBOS_TEXT}"
    rows, cols, dataflow = array_params(op.array)
    r, cc = fold_dims(dataflow, m, n, k)
    if _is_dynamic(r) or _is_dynamic(cc):
        return (f"with dataflow {dataflow} the array-mapped dims of {dims(a)}·{dims(b)} "
                f"must be static (only the streamed dim may be dynamic)")
    if r > rows or cc > cols:
        return (f"computing {m}x{k}·{k}x{n} with dataflow {dataflow} needs a {r}x{cc} "
                f"array but the array is {rows}x{cols}")
    return None


class ComputeOp(Systolic.Operation, name="compute"):
    """out (+)= lhs·rhs for one fold: the two dims the dataflow maps onto the array fit
    it (k x n for ws, m x n for os, k x m for is) and the third is streamed through (any
    length, dynamic allowed). The stationary operand was preloaded; `accumulate = true`
    adds to the accumulator, `false` overwrites it."""

    lhs: Operand[ir.MemRefType]
    rhs: Operand[ir.MemRefType]
    out: Operand[ir.MemRefType]
    array: ArrayAttr
    # A boolean; the default also stands in for BoolAttr(false), which ext's builder
    # would otherwise take for "not given" (it is falsy).
    accumulate: ir.IntegerAttr = ext.attribute(default_factory=lambda: ir.BoolAttr.get(False))

    verify_invariants = verifier(_verify_compute)


def _verify_move_out(op) -> str | None:
    src, dst = op.src.type, op.dst.type
    if memory_space(src) != ACC:
        return f"source must be in {ACC}, got {_space_name(src)}"
    if not _in_space(dst, None):
        return f"destination must be in global memory, got {_space_name(dst)}"
    if msg := _check_block_copy(dst, src, "destination", "source"):
        return msg
    if msg := _check_epilogue(op.epilogue):
        return msg
    if op.bias is not None:
        bias = op.bias.type
        if not _in_space(bias, None):
            return f"bias must be in global memory, got {_space_name(bias)}"
        if len(shape_of(bias)) != 1 or not _agree(shape_of(bias)[0], shape_of(dst)[-1]):
            return f"bias is {dims(bias)} but the destination has {dims(dst).split('x')[-1]} columns"
        if elem(bias) != elem(src):
            return f"bias element type is {elem(bias)} but the accumulator is {elem(src)}"
    return _check_result_type(op.epilogue, elem(src), elem(dst), "destination")


class MoveOutOp(Systolic.Operation, name="move_out"):
    """Copy a block from the accumulator to global memory, applying the epilogue: add
    the optional `bias` (one value per column, read from global memory), then relu,
    then requantize by scale. The source may be larger (padding is dropped)."""

    src: Operand[ir.MemRefType]
    dst: Operand[ir.MemRefType]
    epilogue: ir.DictAttr = ext.attribute(default_factory=_no_epilogue)
    bias: Operand[ir.MemRefType] | None = None

    verify_invariants = verifier(_verify_move_out)


class FenceOp(Systolic.Operation, name="fence"):
    """Wait until every move and compute issued before it has finished."""
