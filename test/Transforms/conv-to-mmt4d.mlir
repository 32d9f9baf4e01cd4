// RUN: tessera-opt %s --split-input-file --tessera-conv-to-mmt4d=tile=8 | FileCheck %s
// RUN: not tessera-opt %s --split-input-file --tessera-conv-to-mmt4d=tile=0 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: tessera-conv-to-mmt4d: option tile must be a positive integer, got 0

// A 3x3 stride-2 convolution with 12 filters (padded to 16) and 14 output columns
// (padded to 16: the image gets 3 zero columns so that the extra pixels read inside it).
// The gather writes mmt4d's rhs directly: [output row, 8-pixel tile, c, kh, kw, pixel],
// each tile the 8 input columns (stride 2) its pixels read.
// CHECK: #[[IMAGE:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (0, d2, d0 * 2 + d3, (d1 * 8 + d5) * 2 + d4)>
// CHECK-LABEL: func.func @strided_conv_with_bias
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x30x30xf32>, %[[W:.+]]: tensor<12x8x3x3xf32>, %[[B:.+]]: tensor<1x12x14x14xf32>)
// CHECK: %[[PADDED:.+]] = tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 0, 0, 3]
// CHECK: %[[PATCHES:.+]] = linalg.generic {indexing_maps = [#[[IMAGE]], #{{.+}}]{{.*}} ins(%[[PADDED]] : tensor<1x8x30x33xf32>) outs(%{{.+}} : tensor<14x2x8x3x3x8xf32>)
// CHECK: %[[COLS:.+]] = tensor.collapse_shape %[[PATCHES]] {{.*}} into tensor<28x72x8xf32>
// CHECK: %[[RHS:.+]] = tensor.expand_shape %[[COLS]] {{.*}} into tensor<28x72x8x1xf32>
// CHECK: %[[FILTERS:.+]] = tensor.collapse_shape %[[W]] {{.*}} into tensor<12x72xf32>
// CHECK: %[[SIXTEEN:.+]] = tensor.pad %[[FILTERS]] low[0, 0] high[4, 0]
// CHECK: %[[LHS:.+]] = linalg.pack %[[SIXTEEN]] inner_dims_pos = [0, 1] inner_tiles = [8, 1] into %{{.+}} : tensor<16x72xf32> -> tensor<2x72x8x1xf32>
// CHECK: %[[PRODUCT:.+]] = linalg.mmt4d ins(%[[LHS]], %[[RHS]] : {{.*}}) outs(%{{.+}} : tensor<2x28x8x8xf32>)
// CHECK: %[[FLAT:.+]] = linalg.unpack %[[PRODUCT]] inner_dims_pos = [0, 1] inner_tiles = [8, 8] into %{{.+}} : tensor<2x28x8x8xf32> -> tensor<16x224xf32>
// CHECK: %[[GRID:.+]] = tensor.expand_shape %[[FLAT]] {{.*}} into tensor<1x16x14x16xf32>
// CHECK: %[[CUT:.+]] = tensor.extract_slice %[[GRID]][0, 0, 0, 0] [1, 12, 14, 14] [1, 1, 1, 1]
// The accumulator (torch's bias) is added to the result.
// CHECK: linalg.generic {{.*}} ins(%[[CUT]], %[[B]] : tensor<1x12x14x14xf32>, tensor<1x12x14x14xf32>)
// CHECK: arith.addf
// CHECK-NOT: linalg.conv_2d_nchw_fchw
func.func @strided_conv_with_bias(%x: tensor<1x8x30x30xf32>, %w: tensor<12x8x3x3xf32>, %b: tensor<1x12x14x14xf32>) -> tensor<1x12x14x14xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<1x8x30x30xf32>, tensor<12x8x3x3xf32>) outs(%b : tensor<1x12x14x14xf32>) -> tensor<1x12x14x14xf32>
  return %r : tensor<1x12x14x14xf32>
}

// -----

// Whole tiles (16 filters, 16 output columns) from a zero fill: no padding, no slice,
// no sum; dilation 2 spreads each tile's reads.
// CHECK: #[[DILATED:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (0, d2, d0 + d3 * 2, d1 * 8 + d5 + d4 * 2)>
// CHECK-LABEL: func.func @dilated_whole_tiles
// CHECK-NOT: tensor.pad
// CHECK: linalg.generic {indexing_maps = [#[[DILATED]]
// CHECK: linalg.mmt4d
// CHECK-NOT: tensor.extract_slice
// CHECK-NOT: arith.addf
func.func @dilated_whole_tiles(%x: tensor<1x4x20x20xf32>, %w: tensor<16x4x3x3xf32>) -> tensor<1x16x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x16x16x16xf32>
  %o = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<2> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x4x20x20xf32>, tensor<16x4x3x3xf32>) outs(%o : tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32>
  return %r : tensor<1x16x16x16xf32>
}

// -----

// Left to IREE: a batch of 2, a 1x1 convolution (a matmul IREE packs as it is), bf16.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-3: linalg.conv_2d_nchw_fchw
// CHECK-NOT: linalg.mmt4d
func.func @left_alone(%x: tensor<2x4x8x8xf32>, %w: tensor<8x4x3x3xf32>, %o: tensor<2x8x6x6xf32>,
                      %y: tensor<1x4x8x8xf32>, %v: tensor<8x4x1x1xf32>, %p: tensor<1x8x8x8xf32>,
                      %z: tensor<1x4x8x8xbf16>, %u: tensor<8x4x3x3xbf16>, %q: tensor<1x8x6x6xbf16>)
    -> (tensor<2x8x6x6xf32>, tensor<1x8x8x8xf32>, tensor<1x8x6x6xbf16>) {
  %a = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<2x4x8x8xf32>, tensor<8x4x3x3xf32>) outs(%o : tensor<2x8x6x6xf32>) -> tensor<2x8x6x6xf32>
  %b = linalg.conv_2d_nchw_fchw ins(%y, %v : tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>) outs(%p : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %c = linalg.conv_2d_nchw_fchw ins(%z, %u : tensor<1x4x8x8xbf16>, tensor<8x4x3x3xbf16>) outs(%q : tensor<1x8x6x6xbf16>) -> tensor<1x8x6x6xbf16>
  return %a, %b, %c : tensor<2x8x6x6xf32>, tensor<1x8x8x8xf32>, tensor<1x8x6x6xbf16>
}
