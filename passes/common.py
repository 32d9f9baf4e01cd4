"""Small helpers shared by tessera's rewrite patterns."""

from tessera.mlir import arith, ir, linalg

NO_MATCH = True  # MLIR Python patterns: a truthy return means "did not apply"


def is_zero_fill(value) -> bool:
    """Whether `value` is a `linalg.fill` of the constant zero (an empty accumulator)."""
    owner = value.owner
    if not isinstance(owner, linalg.FillOp):
        return False
    const = owner.inputs[0].owner
    if not isinstance(const, arith.ConstantOp):
        return False
    attr = const.value
    return (isinstance(attr, ir.FloatAttr) and attr.value == 0.0) or \
        (isinstance(attr, ir.IntegerAttr) and attr.value == 0)
