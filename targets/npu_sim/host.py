"""Host work on npu-sim: cycles for the ops that stay off the array.

Everything the pipeline leaves outside the kernels (softmax, layer norm, im2col gathers,
transposes, residual adds, ...) runs on the host, a vector unit beside the array. Its
model is a throughput per kind of op, from the NpuConfig's `host_*` fields:

- *move*: ops that only move data — `linalg.transpose`, `linalg.copy`,
  `linalg.broadcast`, `linalg.fill`, `tensor.pad`, `tensor.insert_slice`,
  `tensor.concat`, and `linalg.generic`s whose body does no arithmetic (gathers):
  bytes written / `host_bytes_per_cycle`.
- *compute*: every other linalg op: iteration points x operations per point /
  `host_ops_per_cycle`, where a point's operations are its body's arithmetic ops, each
  transcendental or division (`math.*`, `arith.divf`, `arith.divsi`, ...) counting
  `host_math_ops`; named elementwise, reduction and contraction ops count one (two for a
  multiply-add) per point.
- views (`tensor.extract_slice`, reshapes, casts) are free.
Each op costs `host_op_cycles` more (loop set-up). Host ops run one after another and do
not overlap the kernels: the model's time is the kernels' cycles plus the host's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tessera.hardware import NpuConfig
from tessera.mlir import ir

MOVES = {"linalg.transpose", "linalg.copy", "linalg.broadcast", "linalg.fill",
         "tensor.pad", "tensor.insert_slice", "tensor.concat", "tensor.insert",
         "tensor.generate", "tensor.splat"}
VIEWS = {"tensor.extract_slice", "tensor.collapse_shape", "tensor.expand_shape",
         "tensor.reshape", "tensor.cast", "tensor.bitcast", "tensor.extract", "tensor.dim",
         "tensor.empty"}
# Body ops that do no arithmetic: they index, read or pass values on.
NOT_ARITHMETIC = {"linalg.yield", "linalg.index", "tensor.extract", "arith.constant",
                  "arith.index_cast", "arith.index_castui", "arith.select", "affine.apply"}
EXPENSIVE_PREFIXES = ("math.",)
EXPENSIVE = {"arith.divf", "arith.divsi", "arith.divui", "arith.remf", "arith.remsi",
             "arith.remui", "arith.ceildivsi", "arith.floordivsi"}
TWO_PER_POINT = {"linalg.matmul", "linalg.batch_matmul", "linalg.matvec", "linalg.vecmat",
                 "linalg.dot", "linalg.conv_2d_nhwc_hwcf", "linalg.conv_2d_nchw_fchw",
                 "linalg.depthwise_conv_2d_nhwc_hwc", "linalg.contract"}


@dataclass(frozen=True)
class HostWork:
    """One op on the host and what the model charges it."""

    name: str  # the op's name, e.g. linalg.generic
    kind: str  # move or compute
    work: int  # bytes (move) or operations (compute)
    cycles: int
    after_kernels: int  # kernels called before it in program order


def _shape(value) -> list[int] | None:
    if not isinstance(value.type, ir.ShapedType):
        return None
    shaped = ir.ShapedType(value.type)
    return list(shaped.shape) if shaped.has_static_shape else None


def _bytes(value) -> int:
    shape = _shape(value)
    if shape is None:
        return 0
    width = ir.ShapedType(value.type).element_type
    bits = getattr(width, "width", 32)
    return math.prod(shape) * ((bits + 7) // 8)


def _points(op) -> int:
    """Iteration points of a linalg op: the loop ranges its indexing maps give, else
    its largest operand or result."""
    ranges: dict[int, int] = {}
    if "indexing_maps" in op.attributes:
        values = list(op.operands)
        for value, attr in zip(values, ir.ArrayAttr(op.attributes["indexing_maps"])):
            shape = _shape(value)
            if shape is None:
                continue
            for size, expr in zip(shape, ir.AffineMapAttr(attr).value.results):
                if isinstance(expr, ir.AffineDimExpr):
                    ranges[ir.AffineDimExpr(expr).position] = size
    if ranges:
        return math.prod(ranges.values())
    sizes = [math.prod(s) for s in map(_shape, list(op.operands) + list(op.results)) if s]
    return max(sizes, default=0)


def _body_ops(op, math_ops: int) -> int:
    """Operations per iteration point of a linalg op's body (0: it only moves data)."""
    count = 0
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                name = inner.operation.name
                if name in NOT_ARITHMETIC:
                    continue
                count += math_ops if name in EXPENSIVE or name.startswith(
                    EXPENSIVE_PREFIXES) else 1
    return count


def cost(op, hw: NpuConfig) -> tuple[str, int, int] | None:
    """(kind, work, cycles) of one host op; None for a view, which costs nothing."""
    name = op.name
    if name in VIEWS:
        return None
    written = sum(_bytes(r) for r in op.results) or \
        (_bytes(op.operands[-1]) if len(op.operands) else 0)
    if name in MOVES:
        kind, work = "move", written
    elif name.startswith("linalg."):
        per_point = _body_ops(op, hw.host_math_ops) if op.regions else 0
        if name == "linalg.generic" and per_point == 0:
            kind, work = "move", written  # a gather or copy written as a generic
        else:
            if name != "linalg.generic":
                per_point = 2 if name in TWO_PER_POINT else max(per_point, 1)
            kind, work = "compute", _points(op) * per_point
    else:
        kind, work = "compute", max((math.prod(s) for s in map(_shape, op.results) if s),
                                    default=1)
    rate = hw.host_bytes_per_cycle if kind == "move" else hw.host_ops_per_cycle
    return kind, work, hw.host_op_cycles + -(-work // rate)
