"""Helpers shared by tessera's dialect verifiers.

IRDL checks structure (which operands, attributes and results exist, and their kinds);
these helpers let each op state the semantic rules IRDL cannot say in one small function
that returns an error message, reported as a located MLIR diagnostic.
"""

from __future__ import annotations

import functools
import typing

from tessera.mlir import ext, irdl, ir

# Element types an accumulating engine supports: (operand type, accumulator type).
ELEMENT_COMBOS = (("bf16", "f32"), ("i8", "i32"), ("f16", "f32"), ("f32", "f32"))
COMBOS_TEXT = ", ".join(f"{a}·{a}→{c}" for a, c in ELEMENT_COMBOS)


def signed_int(t: ir.Type, width: int) -> bool:
    """Whether `t` is a signless or signed integer type of `width` bits."""
    return isinstance(t, ir.IntegerType) and t.width == width and not t.is_unsigned


# Each combination, tested on the types themselves (never on their printed names).
_COMBO_TESTS = {
    ("bf16", "f32"): lambda a, c: isinstance(a, ir.BF16Type) and isinstance(c, ir.F32Type),
    ("i8", "i32"): lambda a, c: signed_int(a, 8) and signed_int(c, 32),
    ("f16", "f32"): lambda a, c: isinstance(a, ir.F16Type) and isinstance(c, ir.F32Type),
    ("f32", "f32"): lambda a, c: isinstance(a, ir.F32Type) and isinstance(c, ir.F32Type),
}


def element_combo(operand: ir.Type, acc: ir.Type) -> tuple[str, str] | None:
    """The supported (operand, accumulator) combination these element types make, named
    as in ELEMENT_COMBOS, or None."""
    return next((combo for combo, test in _COMBO_TESTS.items() if test(operand, acc)), None)


def element(t: ir.Type) -> ir.Type:
    """The element type of shaped type `t`."""
    return ir.ShapedType(t).element_type


def _attr_is(value, kind) -> bool:
    # `true`/`false` come back as BoolAttr, which these bindings do not derive from IntegerAttr.
    return isinstance(value, kind) or (kind is ir.IntegerAttr and isinstance(value, ir.BoolAttr))


def _conforms(op) -> bool:
    """Whether `op` has every field its class declares, of the declared kind.

    Semantic checks assume this; when it fails, IRDL's own verifier reports the problem
    (missing operand or attribute, wrong kind) and the semantic check is skipped.
    """
    try:
        for f in type(op)._fields:
            if isinstance(f, ext.RegionDef):
                continue
            value = getattr(op, f.name)
            if value is None and f.variadicity == irdl.Variadicity.optional:
                continue
            if isinstance(f, (ext.OperandDef, ext.ResultDef)):
                kind = typing.get_args(f.constraint)[0] if typing.get_args(f.constraint) else f.constraint
                if isinstance(kind, type) and not isinstance(value.type, kind):
                    return False
            elif isinstance(f.constraint, type) and not _attr_is(value, f.constraint):
                return False
    except (IndexError, KeyError, ValueError, TypeError):
        return False
    return True


_TAKES = {irdl.Variadicity.single: "exactly 1", irdl.Variadicity.optional: "0 or 1",
          irdl.Variadicity.variadic: "any number of"}


def _segment_error(op) -> str | None:
    """What is wrong with `op`'s operandSegmentSizes (IRDL does not check it), or None."""
    segments = type(op)._ODS_OPERAND_SEGMENTS
    if not segments:
        return None
    groups = [f for f in type(op)._fields if isinstance(f, ext.OperandDef)]
    expected = ", ".join("0 or 1" if s == 0 else str(s) for s in segments)
    if "operandSegmentSizes" not in op.attributes:
        # IRDL infers the split when it can, but the op's accessors need it written.
        return f"needs operandSegmentSizes = array<i32: {expected}> (one entry per operand group)"
    attr = op.attributes["operandSegmentSizes"]
    if not isinstance(attr, ir.DenseI32ArrayAttr):
        return f"operandSegmentSizes must be array<i32: {expected}>, got {attr}"
    sizes = list(attr)
    if len(sizes) != len(groups):
        names = ", ".join(f.name for f in groups)
        return (f"operandSegmentSizes has {len(sizes)} entries but the op has {len(groups)} "
                f"operand groups ({names})")
    for size, group in zip(sizes, groups):
        allowed = {irdl.Variadicity.single: size == 1, irdl.Variadicity.optional: size in (0, 1),
                   irdl.Variadicity.variadic: size >= 0}[group.variadicity]
        if not allowed:
            return (f"operandSegmentSizes gives operand '{group.name}' {size} values; it "
                    f"takes {_TAKES[group.variadicity]}")
    if sum(sizes) != len(op.operands):
        return (f"operandSegmentSizes adds up to {sum(sizes)} operands but the op has "
                f"{len(op.operands)}")
    return None


def verifier(check):
    """Turn `check(op) -> str | None` into an ext `verify_invariants` method.

    A returned message becomes `'<op name>' op <message>` at the op's location. Before
    the semantic check, what IRDL leaves unchecked is checked here: the operand segment
    sizes (the accessors the check reads fields through depend on them). A field missing
    or of the wrong kind is IRDL's to report; the semantic check is then skipped.
    """

    @functools.wraps(check)
    def verify_invariants(op) -> bool:
        message = _segment_error(op)
        if message is None and not _conforms(op):
            return True  # IRDL reports the missing or mistyped field itself
        try:
            message = message or check(op)
        except Exception as exc:  # a verifier bug must still surface as a located error
            message = f"internal verifier error ({type(exc).__name__}: {exc})"
        if message is None:
            return True
        op.location.emit_error(f"'{op.operation.name}' op {message}")
        return False

    return verify_invariants


def dims(t: ir.Type) -> str:
    """`64x32` for a shaped type (`?` for dynamic sizes)."""
    shaped = ir.ShapedType(t)
    return "x".join("?" if shaped.is_dynamic_dim(i) else str(d)
                    for i, d in enumerate(shaped.shape)) or "scalar"


def shape_of(t: ir.Type) -> list[int]:
    return list(ir.ShapedType(t).shape)


def is_static(t: ir.Type) -> bool:
    return ir.ShapedType(t).has_static_shape


def memory_space(t: ir.Type) -> ir.Attribute | None:
    """The memory space attribute of a memref type, None for the default (global) space."""
    return ir.MemRefType(t).memory_space


def int_value(attr) -> int:
    return ir.IntegerAttr(attr).value


def typed(attr) -> ir.Attribute:
    """`attr` as its concrete class (dialect attribute parameters come back as plain
    `ir.Attribute`)."""
    return attr.maybe_downcast() if type(attr) is ir.Attribute else attr


def is_i64(attr) -> bool:
    """Whether `attr` is an integer attribute of type i64 (signless)."""
    attr = typed(attr)
    return isinstance(attr, ir.IntegerAttr) and not isinstance(attr, ir.BoolAttr) and \
        isinstance(attr.type, ir.IntegerType) and attr.type.width == 64


def is_bool(attr) -> bool:
    return isinstance(attr, ir.BoolAttr)
