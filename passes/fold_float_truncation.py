"""Pass `tessera-fold-float-truncation`: a float constant truncated to a narrower float
type becomes a constant of that type.

MLIR's own folder of `arith.truncf` folds a constant only where the truncation is exact.
torch-mlir's lowering leaves inexact ones: scalar f64 arguments of an op computing in
f32 (`torch.arange(-1, 5, 1.3)`'s step, `upsample_nearest2d`'s scale factors) become
`arith.truncf %cst : f64 to f32` outside any loop. IREE runs such scalar code in its VM,
which has no f64 once f64 is not demoted ("failed to legalize operation 'arith.truncf'").
The constant is rounded here as the instruction would round it at run time: to the
nearest value, ties to even (a truncation with another rounding mode is left alone).
"""

from tessera.mlir import arith, ir

from tessera.passes.common import NO_MATCH, defining_op, rewrite_each

EXACT_IN_PYTHON = (ir.F64Type, ir.F32Type, ir.F16Type, ir.BF16Type)  # as a Python float


def fold_truncation(op: arith.TruncFOp, rewriter):
    """`arith.truncf` of a scalar float constant -> the rounded constant."""
    source = defining_op(op.in_, arith.ConstantOp)
    if source is None or "roundingmode" in op.attributes \
            or not isinstance(source.value, ir.FloatAttr) \
            or not isinstance(source.value.type, EXACT_IN_PYTHON):
        return NO_MATCH
    with rewriter.ip, op.location:  # FloatAttr.get rounds to nearest, ties to even
        folded = arith.constant(op.result.type, ir.FloatAttr.get(op.result.type,
                                                                 source.value.value))
    rewriter.replace_op(op, [folded])


def fold_float_truncation(op, pass_, options) -> None:
    """Pass body."""
    rewrite_each(op, pass_, arith.TruncFOp, fold_truncation, "tessera-fold-float-truncation")
