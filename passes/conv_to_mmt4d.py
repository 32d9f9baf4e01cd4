"""Pass `tessera-conv-to-mmt4d`: f32 nchw convolutions of batch 1 become tessera's own
im2col, written straight into the packed layout of `linalg.mmt4d`, and one `linalg.mmt4d`.

For the iree-cpu path. IREE 3.13 turns a convolution into im2col + matmul
(`--iree-global-opt-use-im2col-for-convs`) and data-tiles the matmul: its im2col is fused
into the pack of the matmul's operand, a dispatch that copies one element at a time with
stores K x 32 bytes apart (about a quarter of ResNet-18's time on an AVX2 CPU). Here the
gather writes the packed operand itself, in the order it is stored, so that both its
reads and its writes are runs of `tile` elements:

- rhs `[OH x OW' / T, C x KH x KW, T, 1]`: for each output row, tile of T output
  columns and patch entry (c, kh, kw), the T input columns the tile reads (OW padded to
  OW', a multiple of T: the extra columns read zeros padded onto the image and are
  sliced off the result);
- lhs: the filter `[F, C x KH x KW]` (F padded with zero filters to a multiple of T) by
  `linalg.pack` into `[F' / T, K, T, 1]` (IREE packs a constant filter when it evaluates
  constants at compile time);
- `linalg.mmt4d` from zeros into `[F' / T, OH x OW' / T, T, T]`, `linalg.unpack` to
  `[F', OH x OW']`, reshaped and sliced to `[1, F, OH, OW]`, plus the convolution's
  accumulator unless it is a zero fill (torch's bias).

T is IREE's f32 ukernel tile for the CPU (8 on AVX2, 16 on AVX-512): the mmt4d then runs
as IREE's microkernel. A 3x3 convolution of ResNet-18 (64 channels, 56x56; 2 threads,
AVX2) ran in 5.0 ms against 8.6 through IREE's im2col. Other convolutions (batch > 1,
other layouts or types, dynamic shapes) are left to IREE.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.dialects.common import shape_of
from tessera.knobs import Options, knob
from tessera.mlir import arith, ir, linalg, rewrite, tensor
from tessera.passes.common import (NO_MATCH, affine_map, dim, gather, is_zero_fill,
                                   parallel_iterator, result_of, round_up, spatial_pair,
                                   static_and_nonempty)


@dataclass(frozen=True)
class ConvToMmt4dOptions(Options):
    """The tile: output channels x pixels of one mmt4d tile (IREE's f32 ukernel tile)."""

    tile: int = knob(8, "output channels and pixels of one linalg.mmt4d tile (8: AVX2, 16: "
                        "AVX-512)", low=1, high=64)


def _padded(value, shape: list[int]):
    """`value` (a tensor) zero-padded at the end of each dim to `shape`."""
    t = ir.RankedTensorType(value.type)
    if list(t.shape) == shape:
        return value
    zero = arith.constant(t.element_type, 0.0)
    padded = tensor.PadOp(ir.RankedTensorType.get(shape, t.element_type), value, [], [],
                          [0] * len(shape), [s - d for s, d in zip(shape, t.shape)])
    block = padded.region.blocks.append(*[ir.IndexType.get()] * len(shape))
    with ir.InsertionPoint(block):
        tensor.YieldOp(zero)
    return padded.result


def conv_to_mmt4d(op: linalg.Conv2DNchwFchwOp, rewriter, tile: int):
    """One static f32 nchw/fchw convolution of batch 1 -> packed gather + linalg.mmt4d."""
    image, weights = op.inputs
    init = op.outputs[0]
    if not static_and_nonempty(op) or any(ir.RankedTensorType(v.type).element_type
                                          != ir.F32Type.get() for v in (image, weights, init)):
        return NO_MATCH
    n, c, ih, iw = shape_of(image.type)
    f, _, kh, kw = shape_of(weights.type)
    _, _, oh, ow = shape_of(init.type)
    if n != 1 or kh * kw == 1:  # a 1x1 convolution is a matmul IREE packs as it is
        return NO_MATCH
    (sh, sw), (dh, dw) = spatial_pair(op, "strides"), spatial_pair(op, "dilations")
    ow_p, f_p, depth = round_up(ow, tile), round_up(f, tile), c * kh * kw
    tiles = oh * ow_p // tile
    f32 = ir.F32Type.get()
    with rewriter.ip, op.location:
        # Columns the padded output row reads: past the image's, zeros.
        image = _padded(image, [1, c, ih, max(iw, (ow_p - 1) * sw + (kw - 1) * dw + 1)])
        y, t, ci, ky, kx, p = (dim(i) for i in range(6))
        source = affine_map(6, [0, ci, y * sh + ky * dh, (t * tile + p) * sw + kx * dw])
        patches = gather(image, [oh, ow_p // tile, c, kh, kw, tile], source)
        rhs = tensor.collapse_shape(ir.RankedTensorType.get([tiles, depth, tile], f32),
                                    patches, [[0, 1], [2, 3, 4], [5]])
        rhs = tensor.expand_shape(ir.RankedTensorType.get([tiles, depth, tile, 1], f32), rhs,
                                  [[0], [1], [2, 3]], [], [tiles, depth, tile, 1])
        matrix = tensor.collapse_shape(ir.RankedTensorType.get([f, depth], f32), weights,
                                       [[0], [1, 2, 3]])
        lhs = linalg.pack(_padded(matrix, [f_p, depth]),
                          tensor.empty([f_p // tile, depth, tile, 1], f32), [0, 1], [tile, 1])
        zero = arith.constant(f32, 0.0)
        acc = result_of(linalg.fill(zero, outs=[tensor.empty([f_p // tile, tiles, tile, tile],
                                                           f32)]))
        product = result_of(linalg.mmt4d(lhs, rhs, outs=[acc]))
        flat = linalg.unpack(product, tensor.empty([f_p, oh * ow_p], f32), [0, 1],
                             [tile, tile])
        grid = tensor.expand_shape(ir.RankedTensorType.get([1, f_p, oh, ow_p], f32), flat,
                                   [[0, 1], [2, 3]], [], [1, f_p, oh, ow_p])
        result = grid
        if (f_p, ow_p) != (f, ow):
            result = tensor.extract_slice(ir.RankedTensorType.get([1, f, oh, ow], f32), grid,
                                          [], [], [], [0, 0, 0, 0], [1, f, oh, ow],
                                          [1, 1, 1, 1])
        if not is_zero_fill(init):
            result = _sum(result, init)
    rewriter.replace_op(op, [result])


def _sum(a, b):
    """a + b (tensors of one static shape) as a parallel linalg.generic (IREE 3.13 parses
    no linalg.add)."""
    t = ir.RankedTensorType(a.type)
    identity = ir.AffineMapAttr.get(ir.AffineMap.get_identity(t.rank))
    generic = linalg.GenericOp([t], [a, b], [tensor.empty(list(t.shape), t.element_type)],
                               ir.ArrayAttr.get([identity] * 3),
                               ir.ArrayAttr.get([parallel_iterator()] * t.rank))
    block = generic.regions[0].blocks.append(*[t.element_type] * 3)
    with ir.InsertionPoint(block):
        linalg.YieldOp([arith.addf(block.arguments[0], block.arguments[1])])
    return generic.result


def conv_to_mmt4d_pass(op, pass_, options: ConvToMmt4dOptions) -> None:
    """Pass body: every static f32 nchw convolution of batch 1."""
    patterns = rewrite.RewritePatternSet()
    patterns.add(linalg.Conv2DNchwFchwOp, lambda o, r: conv_to_mmt4d(o, r, options.tile))
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
