"""Pass `tessera-conv-trim-input`: cut a 2-d convolution's or pooling's input to the
rows and columns its windows read.

A strided window can leave the last rows or columns of the input unread (a 4x4 image,
a 3x3 kernel, stride 2: one output, three rows read). IREE 3.13 fails to compile such a
convolution when its output is 1x1 ("inferred input/output operand #1 has shape's
dimension #0 to be 4, but found 3"). Slicing the input to
`(out - 1) * stride + (kernel - 1) * dilation + 1` leaves what is computed unchanged and
lets the iree-cpu reference path compile every shape.
"""

from tessera.mlir import ir, linalg, tensor
from tessera.passes.common import NO_MATCH, spatial_pair

# op class -> (input spatial dims, kernel spatial dims, output spatial dims)
_SPATIAL = {
    linalg.Conv2DNchwFchwOp: ((2, 3), (2, 3), (2, 3)),
    linalg.Conv2DNhwcHwcfOp: ((1, 2), (0, 1), (1, 2)),
    linalg.Conv2DNhwcFhwcOp: ((1, 2), (1, 2), (1, 2)),
    linalg.Conv2DNgchwFgchwOp: ((3, 4), (3, 4), (3, 4)),
    linalg.Conv2DNgchwGfchwOp: ((3, 4), (3, 4), (3, 4)),
    linalg.Conv2DNhwgcGfhwcOp: ((1, 2), (2, 3), (1, 2)),
    linalg.DepthwiseConv2DNchwChwOp: ((2, 3), (1, 2), (2, 3)),
    linalg.DepthwiseConv2DNhwcHwcOp: ((1, 2), (0, 1), (1, 2)),
    linalg.PoolingNchwMaxOp: ((2, 3), (0, 1), (2, 3)),
    linalg.PoolingNchwSumOp: ((2, 3), (0, 1), (2, 3)),
    linalg.PoolingNhwcMaxOp: ((1, 2), (0, 1), (1, 2)),
    linalg.PoolingNhwcSumOp: ((1, 2), (0, 1), (1, 2)),
}


def trim_input(op, rewriter):
    """Slice the input of `op` to the extent its windows read, when it is larger."""
    image_dims, kernel_dims, out_dims = _SPATIAL[type(op)]
    image, kernel = op.inputs[0], op.inputs[1]
    types = [ir.RankedTensorType(v.type) for v in (image, kernel, op.outputs[0])
             if isinstance(v.type, ir.RankedTensorType)]
    if len(types) != 3 or not all(t.has_static_shape for t in types):
        return NO_MATCH
    # An empty output (a kernel larger than its input) reads nothing: no slice to cut.
    if any(0 in t.shape for t in types):
        return NO_MATCH
    image_t, kernel_t, out_t = types
    sizes = list(image_t.shape)
    for i, (d_in, d_k, d_out) in enumerate(zip(image_dims, kernel_dims, out_dims)):
        stride, dilation = spatial_pair(op, "strides")[i], spatial_pair(op, "dilations")[i]
        read = (out_t.shape[d_out] - 1) * stride + (kernel_t.shape[d_k] - 1) * dilation + 1
        sizes[d_in] = min(sizes[d_in], read)
    if sizes == list(image_t.shape):
        return NO_MATCH
    rank = len(sizes)
    with rewriter.ip, op.location:
        sliced_type = ir.RankedTensorType.get(sizes, image_t.element_type)
        sliced = tensor.extract_slice(sliced_type, image, [], [], [], [0] * rank, sizes,
                                      [1] * rank)
        trimmed = op.operation.clone()
    # The clone is new, so setting its operand is building it, not editing `op`.
    trimmed.operands[0] = sliced
    rewriter.replace_op(op, trimmed)


def conv_trim_input(op, pass_, options) -> None:
    """Pass body: trim every convolution and pooling input that has unread edges."""
    from tessera.mlir import rewrite

    patterns = rewrite.RewritePatternSet()
    for op_class in _SPATIAL:
        patterns.add(op_class, trim_input)
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
