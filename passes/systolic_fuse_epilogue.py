"""Pass `tessera-systolic-fuse-epilogue`: fold a bias add and a ReLU that follow a
`systolic.matmul` into its epilogue, so they happen at move-out instead of on the host.

Matched forms (the matmul's result must have no other use):
- bias: an elementwise `linalg.generic` adding the result and a 1-d tensor indexed by
  the last dim (`addf`/`addi`, either operand order), when the epilogue is still empty;
- relu: an elementwise `linalg.generic` computing max(x, 0), as `maximumf`, `maxsi`, or
  the `cmpf ugt` + `select` that torch-mlir emits, when the epilogue has no relu or
  requantize yet.
The same ordering as the epilogue itself (bias, then relu, then requantize) is kept.
"""

from dataclasses import dataclass

from tessera.mlir import arith, ir, linalg, rewrite

from tessera.dialects.common import shape_of
from tessera.dialects.systolic import MatmulOp
from tessera.passes.common import NO_MATCH


@dataclass(frozen=True)
class SystolicFuseEpilogueOptions:
    """This pass has no options."""


def _identity(map_attr) -> bool:
    m = ir.AffineMapAttr(map_attr).value
    return m == ir.AffineMap.get_identity(m.n_dims)


def _is_last_dim(map_attr) -> bool:
    m = ir.AffineMapAttr(map_attr).value
    results = m.results
    return (len(results) == 1 and isinstance(results[0], ir.AffineDimExpr)
            and ir.AffineDimExpr(results[0]).position == m.n_dims - 1)


def _is_zero(value) -> bool:
    owner = value.owner
    if not isinstance(owner, arith.ConstantOp):
        return False
    attr = owner.value
    return (isinstance(attr, ir.FloatAttr) and attr.value == 0.0) or \
        (isinstance(attr, ir.IntegerAttr) and attr.value == 0)


def _elementwise(op) -> bool:
    parallel = all(str(t) == "#linalg.iterator_type<parallel>" for t in op.iterator_types)
    maps = list(op.indexing_maps)  # (ArrayAttr does not take negative indices)
    return parallel and len(op.outputs) == 1 and _identity(maps[-1])


def _producer(value):
    """The systolic.matmul producing `value`, if it has no other use."""
    owner = value.owner
    if not isinstance(owner, MatmulOp):
        return None
    uses = list(owner.res.uses)
    return owner if len(uses) == 1 else None


def _body(op):
    block = op.regions[0].blocks[0]
    return block, list(block.operations)


def _rebuild(rewriter, generic, mm, epilogue: dict, bias=None):
    """Replace `generic` by a copy of `mm` with a new epilogue (and bias)."""
    with rewriter.ip, generic.location:
        fused = MatmulOp(mm.lhs, mm.rhs, mm.acc, mm.array, mm.transpose, generic.results[0].type,
                         epilogue=ir.DictAttr.get(epilogue),
                         bias=bias if bias is not None else mm.bias)
    rewriter.replace_op(generic, [fused.res])
    # The old matmul is now dead; being pure, the greedy driver erases it.


def fuse_bias(op, rewriter):
    """matmul result + bias[last dim] -> matmul with bias."""
    if len(op.inputs) != 2 or not _elementwise(op):
        return NO_MATCH
    maps = list(op.indexing_maps)
    for mm_index in (0, 1):
        bias_index = 1 - mm_index
        mm = _producer(op.inputs[mm_index])
        if mm is None or mm.bias is not None or len(ir.DictAttr(mm.epilogue)):
            continue
        if not (_identity(maps[mm_index]) and _is_last_dim(maps[bias_index])):
            continue
        block, ops = _body(op)
        if len(ops) != 2 or not isinstance(ops[0], (arith.AddFOp, arith.AddIOp)):
            continue
        args = {ops[0].lhs, ops[0].rhs}
        if args != {block.arguments[0], block.arguments[1]} or ops[1].operands[0] != ops[0].result:
            continue
        bias = op.inputs[bias_index]
        if shape_of(bias.type) != shape_of(mm.acc.type)[-1:] or \
                str(ir.ShapedType(bias.type).element_type) != str(ir.ShapedType(mm.acc.type).element_type) or \
                op.results[0].type != mm.res.type:
            continue
        _rebuild(rewriter, op, mm, {}, bias=bias)
        return None
    return NO_MATCH


def _relu_of(block, ops) -> bool:
    x = block.arguments[0]
    if len(ops) == 2 and isinstance(ops[0], (arith.MaximumFOp, arith.MaxNumFOp, arith.MaxSIOp)):
        a, b = ops[0].lhs, ops[0].rhs
        return ((a == x and _is_zero(b)) or (b == x and _is_zero(a))) and \
            ops[1].operands[0] == ops[0].result
    if len(ops) == 3 and isinstance(ops[0], arith.CmpFOp) and isinstance(ops[1], arith.SelectOp):
        cmp, sel = ops[0], ops[1]
        predicate = ir.IntegerAttr(cmp.predicate).value
        greater = predicate in (2, 9)  # ogt, ugt
        return (greater and cmp.lhs == x and _is_zero(cmp.rhs) and sel.condition == cmp.result
                and sel.true_value == x and _is_zero(sel.false_value)
                and ops[2].operands[0] == sel.result)
    return False


def fuse_relu(op, rewriter):
    """relu(matmul result) -> matmul with relu in its epilogue."""
    if len(op.inputs) != 1 or not _elementwise(op) or not _identity(op.indexing_maps[0]):
        return NO_MATCH
    mm = _producer(op.inputs[0])
    if mm is None:
        return NO_MATCH
    epilogue = {n.name: n.attr for n in ir.DictAttr(mm.epilogue)}
    if "relu" in epilogue or "scale" in epilogue or op.results[0].type != mm.res.type:
        return NO_MATCH
    block, ops = _body(op)
    if not _relu_of(block, ops):
        return NO_MATCH
    epilogue["relu"] = ir.UnitAttr.get()
    _rebuild(rewriter, op, mm, epilogue)
    return None


def fuse_epilogue(op, rewriter):
    """Either fusion that applies to this generic."""
    if fuse_bias(op, rewriter) is None:
        return None
    return fuse_relu(op, rewriter)


def systolic_fuse_epilogue(op, pass_, options: SystolicFuseEpilogueOptions) -> None:
    """Pass body: fuse bias adds, then ReLUs, greedily (a bias+relu chain fuses fully)."""
    patterns = rewrite.RewritePatternSet()
    patterns.add(linalg.GenericOp, fuse_epilogue)
    rewrite.apply_patterns_and_fold_greedily(op, patterns.freeze(), _no_folding())


def _no_folding():
    config = rewrite.GreedyRewriteConfig()
    config.enable_folding = False
    config.enable_constant_cse = False
    return config
