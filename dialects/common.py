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


def verifier(check):
    """Turn `check(op) -> str | None` into an ext `verify_invariants` method.

    A returned message becomes `'<op name>' op <message>` at the op's location.
    """

    @functools.wraps(check)
    def verify_invariants(op) -> bool:
        segments = type(op)._ODS_OPERAND_SEGMENTS
        if segments and "operandSegmentSizes" not in op.attributes:
            # IRDL infers the split when it can, but the op's accessors need it written.
            sizes = ", ".join("0 or 1" if s == 0 else str(s) for s in segments)
            message = f"needs operandSegmentSizes = array<i32: {sizes}> (one entry per operand group)"
        elif not _conforms(op):
            return True  # IRDL reports the structural error itself
        else:
            message = None
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


def elem(t: ir.Type) -> str:
    return str(ir.ShapedType(t).element_type)


def is_static(t: ir.Type) -> bool:
    return ir.ShapedType(t).has_static_shape


def memory_space(t: ir.Type) -> str | None:
    """The printed memory space of a memref type, None for the default (global) space."""
    space = ir.MemRefType(t).memory_space
    return None if space is None else str(space)


def int_value(attr) -> int:
    return ir.IntegerAttr(attr).value


def is_bool(attr) -> bool:
    return isinstance(attr, ir.BoolAttr)
