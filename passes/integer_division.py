"""Pass `tessera-integer-division`: integer division that is exact and cannot trap.

Two things torch-mlir's lowering leaves that tessera's targets must not run as they are:
- a floor division of integers computed in floating point (`sitofp`, `divf`, `floor`,
  `fptosi`: how torch-mlir 20261001 lowers `torch.div(a, b, rounding_mode="floor")` and
  `a // b`), which is wrong once the integers do not fit the float's mantissa (int64
  beyond 2^53). It becomes `arith.floordivsi` on the integers themselves.
- integer division and remainder by zero, and signed division of the most negative
  number by -1: undefined in `arith`, and on x86 the `idiv` instruction kills the
  process (SIGFPE). PyTorch raises an error for a zero divisor; compiled code cannot, so
  tessera gives these cases the results RISC-V defines in hardware: x / 0 is -1 (all
  ones), x % 0 is x, MIN / -1 is MIN (wrapped) and MIN % -1 is 0. Every scalar
  `divsi`/`divui`/`remsi`/`remui`/`floordivsi`/`ceildivsi`/`ceildivui` whose divisor is
  not a constant other than 0 (or -1, signed) gets a divisor of 1 in those cases and its
  result chosen with `arith.select`.
"""

from tessera.mlir import arith, ir, math, rewrite

from tessera.passes.common import NO_MATCH, defining_op

SIGNED = (arith.DivSIOp, arith.RemSIOp, arith.FloorDivSIOp, arith.CeilDivSIOp)
UNSIGNED = (arith.DivUIOp, arith.RemUIOp, arith.CeilDivUIOp)
REMAINDERS = (arith.RemSIOp, arith.RemUIOp)


def _constant(t: ir.Type, value: int):
    return arith.constant(t, ir.IntegerAttr.get(t, value))


def _integer_constant(value) -> int | None:
    owner = defining_op(value)
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, ir.IntegerAttr):
        return owner.value.value
    return None


def _is_scalar_integer(t: ir.Type) -> bool:
    return isinstance(t, (ir.IntegerType, ir.IndexType))


def _needs_guard(divisor, signed: bool) -> bool:
    """Whether `divisor` may be 0 (or -1, for a signed op) and is not already the safe
    divisor `_guarded_division` builds."""
    known = _integer_constant(divisor)
    if known is not None:
        return known == 0 or (signed and known == -1)
    owner = defining_op(divisor, arith.SelectOp)
    return not (owner is not None and _integer_constant(owner.true_value) == 1
                and _is_guard_condition(owner.condition, owner.false_value))


def _is_guard_condition(condition, divisor) -> bool:
    """`condition` is `divisor == 0`, or `divisor == 0 | divisor == -1`."""
    owner = defining_op(condition)
    if isinstance(owner, arith.OrIOp):
        return _is_guard_condition(owner.lhs, divisor) and _is_guard_condition(owner.rhs, divisor)
    return isinstance(owner, arith.CmpIOp) and owner.lhs == divisor \
        and _integer_constant(owner.rhs) in (0, -1) \
        and ir.IntegerAttr(owner.predicate).value == int(arith.CmpIPredicate.eq)


def _guarded_division(kind, lhs, rhs):
    """`kind(lhs, rhs)` with the divisor 1 where `rhs` is 0 (or -1, signed) and the
    result RISC-V defines there (at the current insertion point)."""
    t = rhs.type
    signed = kind in SIGNED
    is_zero = arith.cmpi(arith.CmpIPredicate.eq, rhs, _constant(t, 0))
    bad = is_zero
    if signed:
        is_minus_one = arith.cmpi(arith.CmpIPredicate.eq, rhs, _constant(t, -1))
        bad = arith.ori(is_zero, is_minus_one)
    safe = arith.select(bad, _constant(t, 1), rhs)
    result = kind(lhs, safe).result
    if kind in REMAINDERS:  # x % 1 == 0 is already right for -1; x % 0 is x
        return arith.select(is_zero, lhs, result)
    if signed:  # x / 1 == x where the divisor is -1: negate (MIN wraps to MIN)
        result = arith.select(is_minus_one, arith.subi(_constant(t, 0), lhs), result)
    return arith.select(is_zero, _constant(t, -1), result)


def guard_division(op, rewriter):
    """An integer division or remainder whose divisor may be 0 (or -1): guarded."""
    if not _is_scalar_integer(op.result.type) or \
            not _needs_guard(op.rhs, isinstance(op, SIGNED)):
        return NO_MATCH
    with rewriter.ip, op.location:
        guarded = _guarded_division(type(op), op.lhs, op.rhs)
    rewriter.replace_op(op, [guarded])


def float_floor_division(op: arith.FPToSIOp, rewriter):
    """fptosi(floor(sitofp(a) / sitofp(b))) with a, b of the result's integer type ->
    a guarded `arith.floordivsi a, b`."""
    floor = defining_op(op.in_, math.FloorOp)
    divide = floor and defining_op(floor.operand, arith.DivFOp)
    lhs = divide and defining_op(divide.lhs, arith.SIToFPOp)
    rhs = divide and defining_op(divide.rhs, arith.SIToFPOp)
    if not (lhs and rhs) or lhs.in_.type != op.result.type or rhs.in_.type != op.result.type \
            or not _is_scalar_integer(op.result.type):
        return NO_MATCH
    with rewriter.ip, op.location:
        quotient = _guarded_division(arith.FloorDivSIOp, lhs.in_, rhs.in_)
    rewriter.replace_op(op, [quotient])
    converts = [lhs] if lhs.operation == rhs.operation else [lhs, rhs]
    for dead in [floor, divide, *converts]:  # the float computation nothing else uses
        if not list(dead.result.uses):
            rewriter.erase_op(dead)


def integer_division(op, pass_, options) -> None:
    """Pass body: exact floor divisions, then every division guarded (one walk each: the
    guarded ops a rewrite creates are not rewritten again)."""
    exact = rewrite.RewritePatternSet()
    exact.add(arith.FPToSIOp, float_floor_division)
    rewrite.walk_and_apply_patterns(op, exact.freeze())
    guards = rewrite.RewritePatternSet()
    for kind in SIGNED + UNSIGNED:
        guards.add(kind, guard_division)
    rewrite.walk_and_apply_patterns(op, guards.freeze())
