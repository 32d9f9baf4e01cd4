"""Pass `tessera-linalg-to-systolic`: map matmul-like linalg contractions onto an array.

`linalg.matmul` and `linalg.batch_matmul` (with their default or transposed indexing
maps) and any `linalg.generic` whose body is a multiply-accumulate and whose maps make it
a (batched) matmul become `systolic.matmul` on `#systolic.array<rows, cols, dataflow>`,
when shapes are static and the element types are ones an array computes (bf16·bf16→f32,
i8·i8→i32, f16·f16→f32, f32·f32→f32, signed). Everything else is left untouched.
"""

from dataclasses import dataclass

from tessera.errors import TesseraError
from tessera.hardware import ArrayConfig
from tessera.mlir import ir, linalg, rewrite

from tessera.dialects.common import ELEMENT_COMBOS, elem, is_static
from tessera.dialects.systolic import MatmulOp, array_attr
from tessera.passes.common import NO_MATCH


# Casts that make a contraction unsigned; arrays here compute signed integers.
UNSIGNED_CASTS = ("arith.extui", "arith.uitofp")


@dataclass(frozen=True)
class LinalgToSystolicOptions:
    """rows x cols is the array the matmuls are mapped to; dataflow is ws, os or is."""

    rows: int = 16
    cols: int = 16
    dataflow: str = "ws"

    def __post_init__(self):
        try:
            ArrayConfig(self.rows, self.cols, self.dataflow)
        except TesseraError as e:
            raise TesseraError(f"tessera-linalg-to-systolic: {e}") from None


def _dim_positions(map_attr) -> list[int] | None:
    """Loop dims a projected-permutation indexing map reads, or None if it is not one."""
    results = ir.AffineMapAttr(map_attr).value.results
    if not all(isinstance(e, ir.AffineDimExpr) for e in results):
        return None
    return [ir.AffineDimExpr(e).position for e in results]


def _operand_layout(op):
    """(transpose_lhs, transpose_rhs) when `op`'s maps make it a (batched) matmul whose
    batch dim leads every operand and whose output is (batch, m, n); else None."""
    dims = linalg.infer_contraction_dimensions(op)
    if dims is None or not (len(dims.m) == len(dims.n) == len(dims.k) == 1):
        return None
    if len(dims.batch) > 1:
        return None
    batch = list(dims.batch)
    m, n, k = dims.m[0], dims.n[0], dims.k[0]
    lhs, rhs, out = (_dim_positions(a) for a in linalg.get_indexing_maps(op))
    if out != batch + [m, n]:
        return None
    if lhs not in (batch + [m, k], batch + [k, m]) or rhs not in (batch + [k, n], batch + [n, k]):
        return None
    return lhs == batch + [k, m], rhs == batch + [n, k]


def _is_unsigned(op) -> bool:
    cast = op.attributes["cast"] if "cast" in op.attributes else None
    if cast is not None and "unsigned" in str(cast):
        return True
    body = op.regions[0].blocks[0] if op.regions and op.regions[0].blocks else None
    return body is not None and any(o.operation.name in UNSIGNED_CASTS for o in body.operations)


def contraction_to_systolic(op, rewriter, options: LinalgToSystolicOptions):
    """One matmul-like linalg op -> systolic.matmul, guard first."""
    if len(op.inputs) != 2 or len(op.outputs) != 1 or len(op.results) != 1:
        return NO_MATCH
    lhs, rhs = op.inputs
    acc = op.outputs[0]
    types = [v.type for v in (lhs, rhs, acc)]
    if not all(isinstance(t, ir.RankedTensorType) and is_static(t) for t in types):
        return NO_MATCH
    if elem(types[0]) != elem(types[1]) or (elem(types[0]), elem(types[2])) not in ELEMENT_COMBOS:
        return NO_MATCH
    if not linalg.isa_contraction_op(op.operation) or _is_unsigned(op):
        return NO_MATCH
    layout = _operand_layout(op.operation)
    if layout is None:
        return NO_MATCH
    with rewriter.ip, op.location:
        transpose = ir.ArrayAttr.get([ir.BoolAttr.get(t) for t in layout])
        new = MatmulOp(lhs, rhs, acc, array_attr(options.rows, options.cols, options.dataflow),
                       transpose, acc.type)
    rewriter.replace_op(op, new)


def linalg_to_systolic(op, pass_, options: LinalgToSystolicOptions) -> None:
    """Pass body: apply the rewrite once to every matching op (no folding elsewhere)."""
    patterns = rewrite.RewritePatternSet()
    for root in (linalg.MatmulOp, linalg.BatchMatmulOp, linalg.GenericOp):
        patterns.add(root, lambda o, r: contraction_to_systolic(o, r, options))
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
