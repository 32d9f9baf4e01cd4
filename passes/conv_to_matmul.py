"""Pass `tessera-conv-to-matmul`: 2-d convolutions become im2col + one matmul.

`linalg.conv_2d_nchw_fchw` and `linalg.conv_2d_nhwc_hwcf` (any stride and dilation,
static shapes) are rewritten as:

- a gather (`linalg.generic`) building the patch matrix `col[N*OH*OW, C*KH*KW]` (for
  nhwc the patch order is kh, kw, c, matching the filter's layout);
- the filter reshaped to a matrix by `tensor.collapse_shape`;
- one `linalg.matmul` col x filter (transposed maps for fchw), which
  `tessera-linalg-to-systolic` then maps onto the array;
- the result reshaped (and for nchw transposed) back to the convolution's layout.

The gather and layout changes run wherever linalg runs (on the host for npu-sim); the
matmul is where the work is. Grouped and depthwise convolutions are left untouched.
"""

from dataclasses import dataclass

from tessera.mlir import ir, linalg, rewrite, tensor

from tessera.dialects.common import is_static, shape_of
from tessera.passes.common import NO_MATCH, is_zero_fill


@dataclass(frozen=True)
class ConvToMatmulOptions:
    """This pass has no options."""


def _pair(op, name: str) -> tuple[int, int]:
    if name not in op.attributes:
        return 1, 1
    values = [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])]
    return values[0], values[1]


def _affine_map(text: str):
    return ir.AffineMapAttr(ir.Attribute.parse(f"affine_map<{text}>")).value


def _gather(image, rows: int, cols: int, input_map: str):
    """col[rows, cols] = image[input_map(p, q)]: the im2col patch matrix."""
    element = ir.ShapedType(image.type).element_type
    out = tensor.empty([rows, cols], element)
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    maps = [_affine_map(input_map), _affine_map("(p, q) -> (p, q)")]
    generic = linalg.GenericOp([out.type], [image], [out],
                               ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
                               ir.ArrayAttr.get([parallel, parallel]))
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
    (sh, sw), (dh, dw) = _pair(op, "strides"), _pair(op, "dilations")
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


def conv_to_matmul_pass(op, pass_, options: ConvToMatmulOptions) -> None:
    """Pass body: rewrite every supported convolution."""
    patterns = rewrite.RewritePatternSet()
    patterns.add(linalg.Conv2DNchwFchwOp, conv_to_matmul)
    patterns.add(linalg.Conv2DNhwcHwcfOp, conv_to_matmul)
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
