"""Pass `tessera-systolic-to-linalg`: turn `systolic.matmul` back into linalg.

The inverse of `tessera-linalg-to-systolic`, used as the fallback for targets without an
array: a rank-2 matmul becomes `linalg.matmul`, a batched one `linalg.batch_matmul`
(transposed operands become transposed indexing maps), and a fused epilogue (bias, relu,
requantize) becomes one elementwise `linalg.generic` after it.
"""

from tessera.mlir import arith, ir, linalg, math, rewrite, tensor

from tessera.dialects.common import shape_of
from tessera.dialects.systolic import MatmulOp, has_scale, transpose_flags
from tessera.passes.common import parallel_iterator


def _maps(rank: int, t_lhs: bool, t_rhs: bool):
    """Indexing maps of a (batched) matmul with optionally transposed operands."""
    b = [ir.AffineDimExpr.get(0)] if rank == 3 else []
    m, n, k = (ir.AffineDimExpr.get(i) for i in range(len(b), len(b) + 3))
    n_dims = len(b) + 3
    lhs = b + ([k, m] if t_lhs else [m, k])
    rhs = b + ([n, k] if t_rhs else [k, n])
    return [ir.AffineMap.get(n_dims, 0, r) for r in (lhs, rhs, b + [m, n])]


def _const(value, t):
    if isinstance(t, ir.FloatType):
        return arith.constant(t, ir.FloatAttr.get(t, value))
    return arith.constant(t, ir.IntegerAttr.get(t, int(value)))


def _epilogue_body(x, bias, epilogue, out_type):
    """Scalar epilogue: (+ bias), relu, requantize to i8 by scale."""
    t = x.type
    is_float = isinstance(t, ir.FloatType)
    if bias is not None:
        x = arith.addf(x, bias) if is_float else arith.addi(x, bias)
    if "relu" in epilogue:
        x = arith.maximumf(x, _const(0.0, t)) if is_float else arith.maxsi(x, _const(0, t))
    if has_scale(epilogue):
        f32 = ir.F32Type.get()
        scale = ir.FloatAttr(epilogue["scale"]).value
        y = arith.mulf(arith.sitofp(f32, x), _const(scale, f32))
        y = math.roundeven(y)
        y = arith.minimumf(arith.maximumf(y, _const(-128.0, f32)), _const(127.0, f32))
        x = arith.fptosi(out_type, y)
    return x


def _apply_epilogue(value, bias, epilogue, res_type):
    """One elementwise linalg.generic applying the epilogue to `value`."""
    shape = shape_of(res_type)
    rank = len(shape)
    identity = ir.AffineMap.get_identity(rank)
    inputs, maps = [value], [identity]
    if bias is not None:
        inputs.append(bias)
        maps.append(ir.AffineMap.get(rank, 0, [ir.AffineDimExpr.get(rank - 1)]))
    out_elem = ir.ShapedType(res_type).element_type
    init = tensor.empty(shape, out_elem)
    parallel = parallel_iterator()
    generic = linalg.GenericOp(
        [res_type], inputs, [init],
        ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps + [identity]]),
        ir.ArrayAttr.get([parallel] * rank))
    block = generic.regions[0].blocks.append(
        *[ir.ShapedType(v.type).element_type for v in inputs], out_elem)
    with ir.InsertionPoint(block):
        args = list(block.arguments)
        x = _epilogue_body(args[0], args[1] if bias is not None else None,
                           ir.DictAttr(epilogue), out_elem)
        linalg.YieldOp([x])
    return generic.result


def matmul_to_linalg(op, rewriter):
    """systolic.matmul -> linalg.(batch_)matmul [+ epilogue generic]."""
    t_lhs, t_rhs = transpose_flags(op.transpose)
    rank = len(shape_of(op.acc.type))
    epilogue = ir.DictAttr(op.epilogue)
    with rewriter.ip, op.location:
        build = linalg.batch_matmul if rank == 3 else linalg.matmul
        maps = _maps(rank, t_lhs, t_rhs) if (t_lhs or t_rhs) else None
        result = build(op.lhs, op.rhs, outs=[op.acc], indexing_maps=maps)
        if op.bias is not None or len(epilogue) > 0:
            result = _apply_epilogue(result, op.bias, epilogue, op.res.type)
    rewriter.replace_op(op, [result])


def systolic_to_linalg(op, pass_, options) -> None:
    """Pass body: rewrite every systolic.matmul (no folding elsewhere)."""
    patterns = rewrite.RewritePatternSet()
    patterns.add(MatmulOp, matmul_to_linalg)
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
