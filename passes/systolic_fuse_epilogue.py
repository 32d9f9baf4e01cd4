"""Pass `tessera-systolic-fuse-epilogue`: fold a bias add, a ReLU and an int8
requantization that follow a `systolic.matmul` into its epilogue, so they happen at
move-out instead of on the host.

Matched forms (the matmul's result must have no other use):
- bias: an elementwise `linalg.generic` adding the result and a 1-d tensor indexed by
  the last dim (`addf`/`addi`, either operand order), when the epilogue is still empty;
- relu: an elementwise `linalg.generic` computing max(x, 0), as `maximumf`, `maxsi`, or
  the `cmpf ugt` + `select` that torch-mlir emits, when the epilogue has no relu or
  requantize yet;
- requantize (i32 -> i8): a chain of one-input elementwise `linalg.generic`s (or one
  generic doing it all) computing `fptosi(clamp(roundeven(sitofp(x) * s), -128, 127))`
  in f32, the clamp as `maximumf`/`minimumf` or torch-mlir's `cmpf` + `select`, in either
  order, and an `addf 0.0` (a zero point of 0) allowed anywhere; `s` becomes the
  epilogue's `scale`. Division by a scale is not matched (it rounds differently).
The same ordering as the epilogue itself (bias, then relu, then requantize) is kept.
"""

from dataclasses import dataclass

import numpy as np

from tessera.knobs import Options, knob
from tessera.mlir import arith, ir, linalg, math, rewrite

from tessera.dialects.common import element, shape_of, signed_int
from tessera.dialects.systolic import MatmulOp
from tessera.passes.common import NO_MATCH, parallel_iterator


@dataclass(frozen=True)
class SystolicFuseEpilogueOptions(Options):
    """requantize=false leaves requantizations alone (for targets whose matmul kernels
    cannot requantize and would otherwise give the whole matmul up)."""

    requantize: bool = knob(True, "fold an int8 requantize into the epilogue")


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
    parallel = all(t == parallel_iterator() for t in op.iterator_types)
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
                element(bias.type) != element(mm.acc.type) or \
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


# arith.cmpf predicates (CmpFPredicate): x < c and x > c, ordered or not.
_LESS = (4, 11)  # olt, ult
_GREATER = (2, 9)  # ogt, ugt


def _float_constant(value) -> float | None:
    """The value of a float constant (through a truncf/extf of one), as its type holds it."""
    owner = value.owner
    if isinstance(owner, (arith.TruncFOp, arith.ExtFOp)):
        inner = _float_constant(owner.operands[0])
        if inner is None:
            return None
        return float(np.float32(inner)) if isinstance(value.type, ir.F32Type) else inner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, ir.FloatAttr):
        return owner.value.value
    return None


def _other(op, x):
    """The operand of a binary `op` that is not `x`, or None if `x` is not exactly one."""
    a, b = op.operands[0], op.operands[1]
    if (a == x) == (b == x):
        return None
    return b if a == x else a


def _steps(op) -> list[tuple] | None:
    """What a one-input elementwise generic does to its input, as (kind, constant) steps:
    sitofp, mul, round, max, min, toi8 (an `addf 0.0` is no step); None otherwise."""
    if len(op.inputs) != 1 or not _elementwise(op) or not _identity(op.indexing_maps[0]):
        return None
    block, ops = _body(op)
    x, steps, compare = block.arguments[0], [], None
    for o in ops[:-1]:
        if isinstance(o, (arith.TruncFOp, arith.ExtFOp)) and _float_constant(o.result) is not None:
            continue  # a scalar constant changing type
        if isinstance(o, arith.CmpFOp):
            c = _other(o, x)
            if compare is not None or c is None or o.lhs != x or _float_constant(c) is None:
                return None
            compare = (ir.IntegerAttr(o.predicate).value, _float_constant(c), o.result)
            continue
        step = _step(o, x, compare)
        if step is None:
            return None
        compare = None
        if step[0] != "zero point":
            steps.append(step)
        x = o.result
    if compare is not None or ops[-1].operands[0] != x:
        return None
    return steps


def _step(o, x, compare) -> tuple | None:
    """One body op applied to the running value `x`, as a step (see `_steps`)."""
    if isinstance(o, (arith.SIToFPOp, math.RoundEvenOp)):
        if o.operands[0] != x:
            return None
        if isinstance(o, math.RoundEvenOp):
            return ("round",)
        return ("sitofp",) if isinstance(o.result.type, ir.F32Type) else None
    if isinstance(o, arith.FPToSIOp):
        return ("toi8",) if o.operands[0] == x and signed_int(o.result.type, 8) else None
    if isinstance(o, arith.SelectOp):
        if compare is None or o.condition != compare[2] or o.false_value != x:
            return None
        predicate, bound, _ = compare
        if _float_constant(o.true_value) != bound:
            return None
        if predicate in _LESS:
            return ("max", bound)
        return ("min", bound) if predicate in _GREATER else None
    kinds = {arith.MulFOp: "mul", arith.AddFOp: "zero point", arith.MaximumFOp: "max",
             arith.MaxNumFOp: "max", arith.MinimumFOp: "min", arith.MinNumFOp: "min"}
    kind = next((k for cls, k in kinds.items() if isinstance(o, cls)), None)
    if kind is None or not isinstance(o.result.type, ir.F32Type):
        return None
    c = _other(o, x)
    value = _float_constant(c) if c is not None else None
    if value is None or (kind == "zero point" and value != 0.0):
        return None
    return (kind, value)


def _requantize_scale(steps: list[tuple]) -> float | None:
    """s when `steps` are sitofp, mul s, round, clamp to [-128, 127], toi8."""
    if len(steps) != 6 or [s[0] for s in steps[:3]] != ["sitofp", "mul", "round"]:
        return None
    if sorted(steps[3:5]) != [("max", -128.0), ("min", 127.0)] or steps[5] != ("toi8",):
        return None
    return steps[1][1]


def fuse_requantize(op, rewriter):
    """requantize(matmul result) -> matmul with scale in its epilogue and an i8 result."""
    steps = _steps(op)
    if not steps or steps[-1] != ("toi8",):
        return NO_MATCH
    value = op.inputs[0]
    # Walk up the chain of one-use elementwise generics to the matmul.
    while isinstance(value.owner, linalg.GenericOp):
        producer = value.owner
        earlier = _steps(producer)
        if earlier is None or len(list(producer.results[0].uses)) != 1:
            return NO_MATCH
        steps = earlier + steps
        value = producer.inputs[0]
    mm = _producer(value)
    scale = _requantize_scale(steps)
    if mm is None or scale is None or not signed_int(element(mm.res.type), 32):
        return NO_MATCH
    if shape_of(op.results[0].type) != shape_of(mm.res.type):
        return NO_MATCH
    epilogue = {n.name: n.attr for n in ir.DictAttr(mm.epilogue)}
    if "scale" in epilogue:
        return NO_MATCH
    epilogue["scale"] = ir.FloatAttr.get(ir.F32Type.get(), scale)
    _rebuild(rewriter, op, mm, epilogue)
    return None


def fuse_epilogue(op, rewriter):
    """Either fusion that applies to this generic."""
    if fuse_bias(op, rewriter) is None:
        return None
    return fuse_relu(op, rewriter)


def systolic_fuse_epilogue(op, pass_, options: SystolicFuseEpilogueOptions) -> None:
    """Pass body: fuse bias adds, then ReLUs, greedily (a bias+relu chain fuses fully);
    then requantizations, once bias and ReLU are in place before them."""
    patterns = rewrite.RewritePatternSet()
    patterns.add(linalg.GenericOp, fuse_epilogue)
    rewrite.apply_patterns_and_fold_greedily(op, patterns.freeze(), _no_folding())
    if not options.requantize:
        return
    patterns = rewrite.RewritePatternSet()
    patterns.add(linalg.GenericOp, fuse_requantize)
    rewrite.apply_patterns_and_fold_greedily(op, patterns.freeze(), _no_folding())


def _no_folding():
    config = rewrite.GreedyRewriteConfig()
    config.enable_folding = False
    config.enable_constant_cse = False
    return config
