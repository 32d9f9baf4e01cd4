"""Pass `tessera-conv-to-matmul`: 2-d convolutions become im2col + one matmul.

`linalg.conv_2d_nchw_fchw` and `linalg.conv_2d_nhwc_hwcf` (any stride and dilation,
static shapes) are rewritten as:

- a gather (`linalg.generic`) building the patch matrix `col[N*OH*OW, C*KH*KW]` (for
  nhwc the patch order is kh, kw, c, matching the filter's layout);
- the filter reshaped to a matrix by `tensor.collapse_shape`;
- one `linalg.matmul` col x filter (transposed maps for fchw), which
  `tessera-linalg-to-systolic` then maps onto the array;
- the result reshaped (and for nchw transposed) back to the convolution's layout.

Grouped and depthwise convolutions (`linalg.conv_2d_ngchw_gfchw`,
`linalg.conv_2d_nhwgc_gfhwc`, `linalg.depthwise_conv_2d_nchw_chw`,
`linalg.depthwise_conv_2d_nhwc_hwc`) become one `linalg.batch_matmul` over the groups:
`col[G, N*OH*OW, C*KH*KW] x filter[G, C*KH*KW, F]` (per group C input and F output
channels; depthwise is C = F = 1), with gathers building both operands (and the
accumulator, when it is not a zero fill) and one gather putting the result back in the
convolution's layout.

The gathers and layout changes run wherever linalg runs (on the host for npu-sim); the
matmul is where the work is. Depthwise convolutions with a channel multiplier (`hwcm`)
and quantized (`_q`) convolutions are left untouched.
"""

from dataclasses import dataclass

from tessera.mlir import ir, linalg, rewrite, tensor

from tessera.dialects.common import is_static, shape_of
from tessera.passes.common import NO_MATCH, is_zero_fill, spatial_pair


@dataclass(frozen=True)
class ConvToMatmulOptions:
    """This pass has no options."""


def _affine_map(text: str):
    return ir.AffineMapAttr(ir.Attribute.parse(f"affine_map<{text}>")).value


def _gather(image, rows: int, cols: int, input_map: str):
    """col[rows, cols] = image[input_map(p, q)]: the im2col patch matrix."""
    return _gather_nd(image, [rows, cols], input_map)


def _gather_nd(source, shape: list[int], source_map: str):
    """out[i...] = source[source_map(i...)], out of the given shape."""
    element = ir.ShapedType(source.type).element_type
    out = tensor.empty(shape, element)
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    identity = ir.AffineMap.get_identity(len(shape))
    maps = [_affine_map(source_map), identity]
    generic = linalg.GenericOp([out.type], [source], [out],
                               ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
                               ir.ArrayAttr.get([parallel] * len(shape)))
    block = generic.regions[0].blocks.append(element, element)
    with ir.InsertionPoint(block):
        linalg.YieldOp([block.arguments[0]])
    return generic.result


def _acc_matrix(init, rows: int, f: int, nchw: bool):
    """The convolution's accumulator as an [N*OH*OW, F] matrix."""
    element = ir.ShapedType(init.type).element_type
    if is_zero_fill(init):
        zero = init.owner.inputs[0]
        filled = linalg.fill(zero, outs=[tensor.empty([rows, f], element)])
        return filled.results[0] if isinstance(filled, ir.OpView) else filled
    if nchw:  # [N, F, OH, OW] -> [N, OH, OW, F]
        n, _, oh, ow = shape_of(init.type)
        perm_out = tensor.empty([n, oh, ow, f], element)
        init = linalg.transpose(init, outs=[perm_out], permutation=[0, 2, 3, 1]).results[0]
    matrix = ir.RankedTensorType.get([rows, f], element)
    return tensor.collapse_shape(matrix, init, [[0, 1, 2], [3]])


def conv_to_matmul(op, rewriter):
    """One static 2-d convolution -> im2col gather + linalg.matmul (+ reshapes)."""
    nchw = isinstance(op, linalg.Conv2DNchwFchwOp)
    image, weights = op.inputs
    init = op.outputs[0]
    if not all(isinstance(v.type, ir.RankedTensorType) and is_static(v.type)
               for v in (image, weights, init)):
        return NO_MATCH
    (sh, sw), (dh, dw) = spatial_pair(op, "strides"), spatial_pair(op, "dilations")
    if nchw:
        n, c, _, _ = shape_of(image.type)
        f, _, kh, kw = shape_of(weights.type)
        _, _, oh, ow = shape_of(init.type)
        # q enumerates (c, kh, kw), the order of the filter's trailing dims.
        source = (f"(p, q) -> (p floordiv {oh * ow}, q floordiv {kh * kw}, "
                  f"((p mod {oh * ow}) floordiv {ow}) * {sh} + ((q mod {kh * kw}) floordiv {kw}) * {dh}, "
                  f"(p mod {ow}) * {sw} + (q mod {kw}) * {dw})")
    else:
        n, _, _, c = shape_of(image.type)
        kh, kw, _, f = shape_of(weights.type)
        _, oh, ow, _ = shape_of(init.type)
        # q enumerates (kh, kw, c), the order of the filter's leading dims.
        source = (f"(p, q) -> (p floordiv {oh * ow}, "
                  f"((p mod {oh * ow}) floordiv {ow}) * {sh} + (q floordiv {kw * c}) * {dh}, "
                  f"(p mod {ow}) * {sw} + ((q mod {kw * c}) floordiv {c}) * {dw}, q mod {c})")
    rows, depth = n * oh * ow, c * kh * kw
    element = ir.ShapedType(weights.type).element_type
    out_element = ir.ShapedType(init.type).element_type
    with rewriter.ip, op.location:
        col = _gather(image, rows, depth, source)
        if nchw:  # [F, C, KH, KW] -> [F, C*KH*KW], used transposed
            filt = tensor.collapse_shape(ir.RankedTensorType.get([f, depth], element), weights,
                                         [[0], [1, 2, 3]])
            maps = [_affine_map("(m, n, k) -> (m, k)"), _affine_map("(m, n, k) -> (n, k)"),
                    _affine_map("(m, n, k) -> (m, n)")]
        else:  # [KH, KW, C, F] -> [KH*KW*C, F]
            filt = tensor.collapse_shape(ir.RankedTensorType.get([depth, f], element), weights,
                                         [[0, 1, 2], [3]])
            maps = None
        acc = _acc_matrix(init, rows, f, nchw)
        product = linalg.matmul(col, filt, outs=[acc], indexing_maps=maps)
        pixels = ir.RankedTensorType.get([n, oh, ow, f], out_element)
        product = product.results[0] if isinstance(product, ir.OpView) else product
        result = tensor.expand_shape(pixels, product, [[0, 1, 2], [3]], [], [n, oh, ow, f])
        if nchw:
            back = tensor.empty([n, f, oh, ow], out_element)
            result = linalg.transpose(result, outs=[back], permutation=[0, 3, 1, 2]).results[0]
    rewriter.replace_op(op, [result])


def _grouped_layout(op, oh: int, ow: int, sh: int, sw: int, dh: int, dw: int):
    """(G, C, F, KH, KW, image map, filter map, result map, init map) of a grouped or
    depthwise convolution, as maps over the batch matmul's (g, p, q) / (g, q, f) loops
    (p enumerates (n, oh, ow); q the filter's (c, kh, kw) in its own order) and between
    the convolution's result dims and the product's (g, p, f)."""
    image, weights = op.inputs
    shape = shape_of(weights.type)
    hw = oh * ow
    row = f"((p mod {hw}) floordiv {ow}) * {sh}"  # output row of p, times stride
    col = f"(p mod {ow}) * {sw}"
    if isinstance(op, linalg.DepthwiseConv2DNchwChwOp):  # [N,C,H,W] * [C,KH,KW]
        g, kh, kw = shape
        c = f = 1
        image_map = (f"(g, p, q) -> (p floordiv {hw}, g, {row} + (q floordiv {kw}) * {dh}, "
                     f"{col} + (q mod {kw}) * {dw})")
        filter_map = f"(g, q, f) -> (g, q floordiv {kw}, q mod {kw})"
        result_map = f"(n, g, y, x) -> (g, n * {hw} + y * {ow} + x, 0)"
        init_map = f"(g, p, f) -> (p floordiv {hw}, g, (p mod {hw}) floordiv {ow}, p mod {ow})"
    elif isinstance(op, linalg.DepthwiseConv2DNhwcHwcOp):  # [N,H,W,C] * [KH,KW,C]
        kh, kw, g = shape
        c = f = 1
        image_map = (f"(g, p, q) -> (p floordiv {hw}, {row} + (q floordiv {kw}) * {dh}, "
                     f"{col} + (q mod {kw}) * {dw}, g)")
        filter_map = f"(g, q, f) -> (q floordiv {kw}, q mod {kw}, g)"
        result_map = f"(n, y, x, g) -> (g, n * {hw} + y * {ow} + x, 0)"
        init_map = f"(g, p, f) -> (p floordiv {hw}, (p mod {hw}) floordiv {ow}, p mod {ow}, g)"
    elif isinstance(op, linalg.Conv2DNgchwGfchwOp):  # [N,G,C,H,W] * [G,F,C,KH,KW]
        g, f, c, kh, kw = shape
        k = kh * kw
        image_map = (f"(g, p, q) -> (p floordiv {hw}, g, q floordiv {k}, "
                     f"{row} + ((q mod {k}) floordiv {kw}) * {dh}, {col} + (q mod {kw}) * {dw})")
        filter_map = f"(g, q, f) -> (g, f, q floordiv {k}, (q mod {k}) floordiv {kw}, q mod {kw})"
        result_map = f"(n, g, f, y, x) -> (g, n * {hw} + y * {ow} + x, f)"
        init_map = (f"(g, p, f) -> (p floordiv {hw}, g, f, (p mod {hw}) floordiv {ow}, "
                    f"p mod {ow})")
    else:  # Conv2DNhwgcGfhwcOp: [N,H,W,G,C] * [G,F,KH,KW,C]
        g, f, kh, kw, c = shape
        k = kw * c
        image_map = (f"(g, p, q) -> (p floordiv {hw}, {row} + (q floordiv {k}) * {dh}, "
                     f"{col} + ((q mod {k}) floordiv {c}) * {dw}, g, q mod {c})")
        filter_map = f"(g, q, f) -> (g, f, q floordiv {k}, (q mod {k}) floordiv {c}, q mod {c})"
        result_map = f"(n, y, x, g, f) -> (g, n * {hw} + y * {ow} + x, f)"
        init_map = (f"(g, p, f) -> (p floordiv {hw}, (p mod {hw}) floordiv {ow}, p mod {ow}, "
                    f"g, f)")
    return g, c, f, kh, kw, image_map, filter_map, result_map, init_map


def grouped_conv_to_batch_matmul(op, rewriter):
    """One static grouped or depthwise 2-d convolution -> gathers + linalg.batch_matmul."""
    image, weights = op.inputs
    init = op.outputs[0]
    if not all(isinstance(v.type, ir.RankedTensorType) and is_static(v.type)
               for v in (image, weights, init)):
        return NO_MATCH
    (sh, sw), (dh, dw) = spatial_pair(op, "strides"), spatial_pair(op, "dilations")
    out_shape = shape_of(init.type)
    channels_first = isinstance(op, (linalg.DepthwiseConv2DNchwChwOp, linalg.Conv2DNgchwGfchwOp))
    n = out_shape[0]
    oh, ow = out_shape[-2:] if channels_first else out_shape[1:3]
    g, c, f, kh, kw, image_map, filter_map, result_map, init_map = \
        _grouped_layout(op, oh, ow, sh, sw, dh, dw)
    rows, depth = n * oh * ow, c * kh * kw
    out_element = ir.ShapedType(init.type).element_type
    with rewriter.ip, op.location:
        col = _gather_nd(image, [g, rows, depth], image_map)
        filt = _gather_nd(weights, [g, depth, f], filter_map)
        if is_zero_fill(init):
            empty = tensor.empty([g, rows, f], out_element)
            filled = linalg.fill(init.owner.inputs[0], outs=[empty])
            acc = filled.results[0] if isinstance(filled, ir.OpView) else filled
        else:
            acc = _gather_nd(init, [g, rows, f], init_map)
        product = linalg.batch_matmul(col, filt, outs=[acc])
        product = product.results[0] if isinstance(product, ir.OpView) else product
        result = _gather_nd(product, out_shape, result_map)
    rewriter.replace_op(op, [result])


def conv_to_matmul_pass(op, pass_, options: ConvToMatmulOptions) -> None:
    """Pass body: rewrite every supported convolution."""
    patterns = rewrite.RewritePatternSet()
    patterns.add(linalg.Conv2DNchwFchwOp, conv_to_matmul)
    patterns.add(linalg.Conv2DNhwcHwcfOp, conv_to_matmul)
    for grouped in (linalg.DepthwiseConv2DNchwChwOp, linalg.DepthwiseConv2DNhwcHwcOp,
                    linalg.Conv2DNgchwGfchwOp, linalg.Conv2DNhwgcGfhwcOp):
        patterns.add(grouped, grouped_conv_to_batch_matmul)
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
