"""Pass `tessera-linalg-to-systolic`: map matmul-like linalg contractions onto an array.

`linalg.matmul` and `linalg.batch_matmul` (with their default or transposed indexing
maps) and any `linalg.generic` whose body is a multiply-accumulate and whose maps make it
a (batched) matmul become `systolic.matmul` on `#systolic.array<rows, cols, dataflow>`,
when shapes are static and non-empty and the element types are ones an array computes
(bf16·bf16→f32, i8·i8→i32, f16·f16→f32, f32·f32→f32, signed). A batched contraction
whose rhs has no batch dim (`out[b, m, n] = lhs[b, m, k] · rhs[k, n]`, as upstream
img2col makes) becomes one 2-d `systolic.matmul` over b*m rows: lhs and accumulator
collapsed (`tensor.collapse_shape`), the result expanded back (`tensor.expand_shape`).
Everything else is left untouched.
"""

from dataclasses import dataclass

from tessera.hardware import ArrayConfig
from tessera.knobs import knobs_from
from tessera.mlir import arith, ir, linalg, rewrite, tensor

from tessera.dialects.common import element_combo, is_static, shape_of
from tessera.dialects.systolic import MatmulOp, array_attr
from tessera.passes.common import NO_MATCH, parallel_iterator, result_of


# Casts that make a contraction unsigned; arrays here compute signed integers.
UNSIGNED_CASTS = (arith.ExtUIOp, arith.UIToFPOp)


@dataclass(frozen=True)
class LinalgToSystolicOptions(knobs_from(ArrayConfig, "rows", "cols", "dataflow")):
    """rows x cols is the array the matmuls are mapped to; dataflow is ws, os or is (the
    ArrayConfig's fields)."""


def _dim_positions(map_attr) -> list[int] | None:
    """Loop dims a projected-permutation indexing map reads, or None if it is not one."""
    results = ir.AffineMapAttr(map_attr).value.results
    if not all(isinstance(e, ir.AffineDimExpr) for e in results):
        return None
    return [ir.AffineDimExpr(e).position for e in results]


@dataclass(frozen=True)
class _Layout:
    """Where a contraction's operands sit: each transposed within its matrix or not, and
    whether the batch (in lhs and out, absent from rhs) folds into M."""

    transpose_lhs: bool
    transpose_rhs: bool
    fold_batch: bool = False


def _operand_layout(op) -> _Layout | None:
    """The layout when `op`'s maps make it a (batched) matmul with output (batch, m, n)
    whose batch dim leads every operand, or leads lhs as (batch, m, k) and is absent
    from rhs; else None."""
    dims = linalg.infer_contraction_dimensions(op)
    if dims is None or not (len(dims.n) == len(dims.k) == 1) or len(dims.batch) > 1:
        return None
    lhs, rhs, out = (_dim_positions(a) for a in linalg.get_indexing_maps(op))
    if None in (lhs, rhs, out):
        return None
    n, k = dims.n[0], dims.k[0]
    # A batch missing from rhs (img2col's shared filter) counts as a second M dim: one
    # GEMM over batch*m rows, when batch and m are adjacent in lhs and out (a collapse).
    if not dims.batch and len(dims.m) == 2:
        b, m = out[:2]
        if out == [b, m, n] and lhs == [b, m, k] and rhs in ([k, n], [n, k]):
            return _Layout(False, rhs == [n, k], fold_batch=True)
        return None
    if len(dims.m) != 1:
        return None
    batch, m = list(dims.batch), dims.m[0]
    if out != batch + [m, n]:
        return None
    if lhs not in (batch + [m, k], batch + [k, m]) or rhs not in (batch + [k, n], batch + [n, k]):
        return None
    return _Layout(lhs == batch + [k, m], rhs == batch + [n, k])


def _is_unsigned(op) -> bool:
    """Whether a contraction widens its operands as unsigned (by attribute or body)."""
    if "cast" in op.attributes:
        unsigned = ir.AttrBuilder.get("linalg.TypeFnAttr")(linalg.TypeFn.cast_unsigned,
                                                            op.context)
        if op.attributes["cast"] == unsigned:
            return True
    body = op.regions[0].blocks[0] if op.regions and op.regions[0].blocks else None
    return body is not None and any(isinstance(o, UNSIGNED_CASTS) for o in body.operations)


def _has_zero_size(t) -> bool:
    """Whether a shaped type has a dimension of size 0."""
    return 0 in ir.ShapedType(t).shape


def _collapsed_acc(acc, matrix_type, reassociation):
    """`acc` collapsed to `matrix_type`; a fill (seen through collapses) is filled anew
    at that shape, so that the kernels still see a filled (e.g. empty) accumulator."""
    source = acc
    while isinstance(source.owner, tensor.CollapseShapeOp):
        source = source.owner.src
    if isinstance(source.owner, linalg.FillOp):
        empty = tensor.empty(matrix_type.shape, matrix_type.element_type)
        filled = linalg.fill(source.owner.inputs[0], outs=[empty])
        return result_of(filled)
    return tensor.collapse_shape(matrix_type, acc, reassociation)


def _folded_matmul(lhs, rhs, acc, array, transpose):
    """systolic.matmul of a contraction whose batch folds into M: lhs and acc collapsed
    to matrices, the product expanded back to (batch, m, n)."""
    (b, m, k), n = shape_of(lhs.type), shape_of(acc.type)[2]
    lhs_matrix = ir.RankedTensorType.get([b * m, k], ir.ShapedType(lhs.type).element_type)
    acc_matrix = ir.RankedTensorType.get([b * m, n], ir.ShapedType(acc.type).element_type)
    rows = [[0, 1], [2]]
    matrix = MatmulOp(tensor.collapse_shape(lhs_matrix, lhs, rows), rhs,
                      _collapsed_acc(acc, acc_matrix, rows), array, transpose, acc_matrix)
    return tensor.expand_shape(acc.type, matrix.result, rows, [], [b, m, n])


def _batch_broadcast_source(value):
    """The matrix a (batch, r, c) tensor broadcasts along its leading dim — the value of
    a `linalg.broadcast` (dimensions [0]) or of an all-parallel `linalg.generic` whose
    body yields its one input, read at (d1, d2) — else None."""
    owner = value.owner
    if not isinstance(owner, (ir.Operation, ir.OpView)):
        return None  # a block argument
    view = owner.opview
    if isinstance(view, linalg.BroadcastOp):
        source = view.input
        if list(view.dimensions) == [0] and len(shape_of(source.type)) == 2:
            return source
        return None
    if not isinstance(view, linalg.GenericOp) or len(view.inputs) != 1 or \
            len(view.outputs) != 1:
        return None
    if any(t != parallel_iterator() for t in view.iterator_types):
        return None
    source_map, out_map = (_dim_positions(a) for a in linalg.get_indexing_maps(view))
    body = view.regions[0].blocks[0]
    ops = list(body.operations)
    if source_map != [1, 2] or out_map != [0, 1, 2] or len(ops) != 1 or \
            list(ops[0].operands) != [body.arguments[0]]:
        return None
    return view.inputs[0]


def contraction_to_systolic(op, rewriter, options: LinalgToSystolicOptions):
    """One matmul-like linalg op -> systolic.matmul, guard first."""
    if len(op.inputs) != 2 or len(op.outputs) != 1 or len(op.results) != 1:
        return NO_MATCH
    lhs, rhs = op.inputs
    acc = op.outputs[0]
    types = [v.type for v in (lhs, rhs, acc)]
    if not all(isinstance(t, ir.RankedTensorType) and is_static(t) for t in types):
        return NO_MATCH
    operand, result = (ir.ShapedType(t).element_type for t in (types[0], types[2]))
    if ir.ShapedType(types[1]).element_type != operand or \
            element_combo(operand, result) is None:
        return NO_MATCH
    if not linalg.isa_contraction_op(op.operation) or _is_unsigned(op):
        return NO_MATCH
    layout = _operand_layout(op.operation)
    if layout is None:
        return NO_MATCH
    if not _has_zero_size(types[2]) and any(_has_zero_size(t) for t in types[:2]):
        # K = 0: the sum over nothing leaves the accumulator as it is (and IREE 3.13
        # crashes compiling such a contraction).
        rewriter.replace_op(op, [acc])
        return None
    # An empty M, N or batch has nothing to put on an array (and tiles it by zero).
    if _has_zero_size(types[2]):
        return NO_MATCH
    with rewriter.ip, op.location:
        transpose = ir.ArrayAttr.get([ir.BoolAttr.get(t)
                                      for t in (layout.transpose_lhs, layout.transpose_rhs)])
        array = array_attr(options.rows, options.cols, options.dataflow)
        # A batched rhs that only repeats one matrix (attention's in-projection weight)
        # is that matrix: the batch folds into M, one GEMM instead of a batch of thin ones.
        shared = None
        if len(shape_of(types[0])) == 3 and not layout.transpose_lhs and \
                not layout.fold_batch:
            shared = _batch_broadcast_source(rhs)
        if layout.fold_batch or shared is not None:
            result = _folded_matmul(lhs, shared if shared is not None else rhs, acc, array,
                                    transpose)
        else:
            result = MatmulOp(lhs, rhs, acc, array, transpose, acc.type).result
    rewriter.replace_op(op, [result])


def linalg_to_systolic(op, pass_, options: LinalgToSystolicOptions) -> None:
    """Pass body: apply the rewrite once to every matching op (no folding elsewhere)."""
    patterns = rewrite.RewritePatternSet()
    for root in (linalg.MatmulOp, linalg.BatchMatmulOp, linalg.GenericOp):
        patterns.add(root, lambda o, r: contraction_to_systolic(o, r, options))
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
