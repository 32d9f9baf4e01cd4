// RUN: tessera-opt %s --split-input-file --tessera-conv-to-matmul | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-conv-to-matmul --tessera-linalg-to-systolic | FileCheck %s --check-prefix=ARRAY

// nchw: patches gathered as [N, OH*OW, C*KH*KW] (pixels innermost in the loops), viewed
// as [N*OH*OW, C*KH*KW], times the filter as [F, C*KH*KW] (transposed maps), then back
// to [N, F, OH, OW].
// CHECK-DAG: #[[GATHER:.+]] = affine_map<(d0, d1, d2) -> (d0, d1 floordiv 9, (d2 floordiv 6) * 2 + (d1 mod 9) floordiv 3, (d2 mod 6) * 2 + d1 mod 3)>
// CHECK-DAG: #[[NPQ:.+]] = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
// CHECK-LABEL: func.func @nchw_stride_2
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x3x13x13xf32>, %[[W:[^:]+]]: tensor<4x3x3x3xf32>)
// CHECK: %[[PATCHES:.+]] = linalg.generic {indexing_maps = [#[[GATHER]], #[[NPQ]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<2x3x13x13xf32>) outs(%{{.+}} : tensor<2x36x27xf32>)
// CHECK: %[[COL:.+]] = tensor.collapse_shape %[[PATCHES]] {{\[\[}}0, 1], [2]] : tensor<2x36x27xf32> into tensor<72x27xf32>
// CHECK: %[[FILT:.+]] = tensor.collapse_shape %[[W]] {{\[\[}}0], [1, 2, 3]] : tensor<4x3x3x3xf32> into tensor<4x27xf32>
// CHECK: %[[MM:.+]] = linalg.matmul indexing_maps = [#{{.+}}, #{{.+}}, #{{.+}}] ins(%[[COL]], %[[FILT]] : tensor<72x27xf32>, tensor<4x27xf32>)
// CHECK: %[[PIX:.+]] = tensor.expand_shape %[[MM]] {{\[\[}}0, 1, 2], [3]] output_shape [2, 6, 6, 4]
// CHECK: linalg.transpose ins(%[[PIX]] : tensor<2x6x6x4xf32>) outs(%{{.+}} : tensor<2x4x6x6xf32>) permutation = [0, 3, 1, 2]
// CHECK-NOT: linalg.conv_2d
// ARRAY-LABEL: func.func @nchw_stride_2
// ARRAY: "systolic.matmul"{{.*}}transpose = [false, true]{{.*}}(tensor<72x27xf32>, tensor<4x27xf32>, tensor<72x4xf32>)
func.func @nchw_stride_2(%x: tensor<2x3x13x13xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x4x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x6x6xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<2x3x13x13xf32>, tensor<4x3x3x3xf32>) outs(%init : tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  return %0 : tensor<2x4x6x6xf32>
}

// -----

// nhwc goes through upstream img2col: patches [N, OH*OW, KH*KW*C] times the filter as
// [KH*KW*C, F] (no batch dim); linalg-to-systolic folds the batch into M, one 2-d matmul.
// CHECK-LABEL: func.func @nhwc_dilated
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x8x8x2xf32>, %[[W:[^:]+]]: tensor<3x3x2x5xf32>)
// CHECK: %[[FILT:.+]] = tensor.collapse_shape %[[W]] {{\[\[}}0, 1, 2], [3]] : tensor<3x3x2x5xf32> into tensor<18x5xf32>
// CHECK: %[[COL:.+]] = linalg.generic {{.*}} ins(%[[X]] : tensor<2x8x8x2xf32>) outs(%{{.+}} : tensor<2x16x18xf32>)
// CHECK: %[[MM:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[COL]], %[[FILT]] : tensor<2x16x18xf32>, tensor<18x5xf32>) outs(%{{.+}} : tensor<2x16x5xf32>)
// CHECK: tensor.expand_shape %[[MM]] {{\[\[}}0], [1, 2], [3]] output_shape [2, 4, 4, 5]
// CHECK-NOT: linalg.conv_2d
// CHECK-NOT: linalg.transpose
// ARRAY-LABEL: func.func @nhwc_dilated
// ARRAY: "systolic.matmul"{{.*}}transpose = [false, false]{{.*}}(tensor<32x18xf32>, tensor<18x5xf32>, tensor<32x5xf32>)
// ARRAY-NOT: linalg.generic {{.*}}"reduction"
func.func @nhwc_dilated(%x: tensor<2x8x8x2xf32>, %w: tensor<3x3x2x5xf32>) -> tensor<2x4x4x5xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x4x5xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x4x5xf32>) -> tensor<2x4x4x5xf32>
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<2x8x8x2xf32>, tensor<3x3x2x5xf32>) outs(%init : tensor<2x4x4x5xf32>) -> tensor<2x4x4x5xf32>
  return %0 : tensor<2x4x4x5xf32>
}

// -----

// nhwc with an fhwc filter: upstream img2col too, the filter as [F, KH*KW*C] (transposed).
// CHECK-LABEL: func.func @nhwc_fhwc_stride_2
// CHECK: tensor.collapse_shape %{{.+}} {{\[\[}}0], [1, 2, 3]] : tensor<5x3x3x2xf32> into tensor<5x18xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<1x9x18xf32>, tensor<5x18xf32>) outs(%{{.+}} : tensor<1x9x5xf32>)
// CHECK-NOT: linalg.conv_2d
// ARRAY-LABEL: func.func @nhwc_fhwc_stride_2
// ARRAY: "systolic.matmul"{{.*}}transpose = [false, true]{{.*}}(tensor<9x18xf32>, tensor<5x18xf32>, tensor<9x5xf32>)
func.func @nhwc_fhwc_stride_2(%x: tensor<1x7x7x2xf32>, %w: tensor<5x3x3x2xf32>, %init: tensor<1x3x3x5xf32>) -> tensor<1x3x3x5xf32> {
  %0 = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x7x7x2xf32>, tensor<5x3x3x2xf32>) outs(%init : tensor<1x3x3x5xf32>) -> tensor<1x3x3x5xf32>
  return %0 : tensor<1x3x3x5xf32>
}

// -----

// int8 nhwc: upstream's contraction sign-extends, which the array computes (i8·i8→i32).
// CHECK-LABEL: func.func @int8_nhwc
// CHECK: arith.extsi
// CHECK-NOT: linalg.conv_2d
// ARRAY-LABEL: func.func @int8_nhwc
// ARRAY: "systolic.matmul"{{.*}}(tensor<9x18xi8>, tensor<18x4xi8>, tensor<9x4xi32>) -> tensor<9x4xi32>
func.func @int8_nhwc(%x: tensor<1x5x5x2xi8>, %w: tensor<3x3x2x4xi8>, %init: tensor<1x3x3x4xi32>) -> tensor<1x3x3x4xi32> {
  %0 = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<1x5x5x2xi8>, tensor<3x3x2x4xi8>) outs(%init : tensor<1x3x3x4xi32>) -> tensor<1x3x3x4xi32>
  return %0 : tensor<1x3x3x4xi32>
}

// -----

// A non-zero accumulator (e.g. a broadcast bias) is laid out as the matmul's [N*OH*OW, F].
// CHECK-LABEL: func.func @nchw_with_initial_values
// CHECK: linalg.transpose ins(%{{.+}} : tensor<1x4x2x2xf32>) outs(%{{.+}} : tensor<1x2x2x4xf32>) permutation = [0, 2, 3, 1]
// CHECK: tensor.collapse_shape %{{.+}} {{\[\[}}0, 1, 2], [3]] : tensor<1x2x2x4xf32> into tensor<4x4xf32>
func.func @nchw_with_initial_values(%x: tensor<1x3x4x4xf32>, %w: tensor<4x3x3x3xf32>, %init: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x3x4x4xf32>, tensor<4x3x3x3xf32>) outs(%init : tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Depthwise nchw: one batch matmul over the channels, [C, N*OH*OW, KH*KW] x [C, KH*KW, 1];
// the gather reads channel g of each patch, and the result goes back to [N, C, OH, OW].
// CHECK-DAG: #[[DWCOL:.+]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, d0, ((d1 mod 16) floordiv 4) * 2 + d2 floordiv 3, (d1 mod 4) * 2 + d2 mod 3)>
// CHECK-DAG: #[[DWOUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d0 * 16 + d2 * 4 + d3, 0)>
// CHECK-LABEL: func.func @depthwise_nchw_stride_2
// CHECK: %[[COL:.+]] = linalg.generic {indexing_maps = [#[[DWCOL]], #{{.+}}]{{.*}} outs(%{{.+}} : tensor<3x32x9xf32>)
// CHECK: %[[FILT:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<3x3x3xf32>) outs(%{{.+}} : tensor<3x9x1xf32>)
// CHECK: %[[MM:.+]] = linalg.batch_matmul ins(%[[COL]], %[[FILT]] : tensor<3x32x9xf32>, tensor<3x9x1xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[DWOUT]], #{{.+}}]{{.*}} ins(%[[MM]] : tensor<3x32x1xf32>) outs(%{{.+}} : tensor<2x3x4x4xf32>)
// CHECK-NOT: linalg.depthwise_conv_2d
// ARRAY-LABEL: func.func @depthwise_nchw_stride_2
// ARRAY: "systolic.matmul"{{.*}}(tensor<3x32x9xf32>, tensor<3x9x1xf32>, tensor<3x32x1xf32>)
func.func @depthwise_nchw_stride_2(%x: tensor<2x3x9x9xf32>, %w: tensor<3x3x3xf32>) -> tensor<2x3x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  %0 = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<2x3x9x9xf32>, tensor<3x3x3xf32>) outs(%init : tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// Depthwise nhwc with a non-zero accumulator: the accumulator is gathered into the
// product's [C, N*OH*OW, 1] layout too, and the result goes back to [N, OH, OW, C].
// CHECK-DAG: #[[ACC:.+]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, (d1 mod 16) floordiv 4, d1 mod 4, d0)>
// CHECK-DAG: #[[BACK:.+]] = affine_map<(d0, d1, d2, d3) -> (d3, d0 * 16 + d1 * 4 + d2, 0)>
// CHECK-LABEL: func.func @depthwise_nhwc_with_initial_values
// CHECK-SAME: %[[INIT:[^:]+]]: tensor<1x4x4x3xf32>
// CHECK: %[[A:.+]] = linalg.generic {indexing_maps = [#[[ACC]], #{{.+}}]{{.*}} ins(%[[INIT]] : tensor<1x4x4x3xf32>) outs(%{{.+}} : tensor<3x16x1xf32>)
// CHECK: %[[MM:.+]] = linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<3x16x9xf32>, tensor<3x9x1xf32>) outs(%[[A]] : tensor<3x16x1xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[BACK]], #{{.+}}]{{.*}} ins(%[[MM]]
func.func @depthwise_nhwc_with_initial_values(%x: tensor<1x6x6x3xf32>, %w: tensor<3x3x3xf32>, %init: tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32> {
  %0 = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x6x6x3xf32>, tensor<3x3x3xf32>) outs(%init : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  return %0 : tensor<1x4x4x3xf32>
}

// -----

// Grouped nchw (torch-mlir's form for groups=2): per group [N*OH*OW, C*KH*KW] x [C*KH*KW, F].
// CHECK-DAG: #[[GFILT:.+]] = affine_map<(d0, d1, d2) -> (d0, d2, d1 floordiv 9, (d1 mod 9) floordiv 3, d1 mod 3)>
// CHECK-LABEL: func.func @grouped_ngchw_stride_2
// CHECK: linalg.generic {indexing_maps = [#[[GFILT]], #{{.+}}]{{.*}} outs(%{{.+}} : tensor<2x18x3xf32>)
// CHECK: linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<2x16x18xf32>, tensor<2x18x3xf32>)
// CHECK-NOT: linalg.conv_2d
func.func @grouped_ngchw_stride_2(%x: tensor<1x2x2x9x9xf32>, %w: tensor<2x3x2x3x3xf32>) -> tensor<1x2x3x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x3x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x3x4x4xf32>) -> tensor<1x2x3x4x4xf32>
  %0 = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<1x2x2x9x9xf32>, tensor<2x3x2x3x3xf32>) outs(%init : tensor<1x2x3x4x4xf32>) -> tensor<1x2x3x4x4xf32>
  return %0 : tensor<1x2x3x4x4xf32>
}

// -----

// Grouped nhwc, dilated: the patch order is (kh, kw, c), as in the filter's trailing dims.
// CHECK-DAG: #[[NCOL:.+]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, (d1 mod 16) floordiv 4 + (d2 floordiv 9) * 2, d1 mod 4 + ((d2 mod 9) floordiv 3) * 2, d0, d2 mod 3)>
// CHECK-LABEL: func.func @grouped_nhwgc_dilated
// CHECK: linalg.generic {indexing_maps = [#[[NCOL]], #{{.+}}]{{.*}} outs(%{{.+}} : tensor<2x16x27xf32>)
// CHECK: linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<2x16x27xf32>, tensor<2x27x4xf32>)
// CHECK-NOT: linalg.conv_2d
func.func @grouped_nhwgc_dilated(%x: tensor<1x8x8x2x3xf32>, %w: tensor<2x4x3x3x3xf32>) -> tensor<1x4x4x2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x2x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x2x4xf32>) -> tensor<1x4x4x2x4xf32>
  %0 = linalg.conv_2d_nhwgc_gfhwc {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x8x2x3xf32>, tensor<2x4x3x3x3xf32>) outs(%init : tensor<1x4x4x2x4xf32>) -> tensor<1x4x4x2x4xf32>
  return %0 : tensor<1x4x4x2x4xf32>
}

// -----

// A depthwise convolution with a channel multiplier is left alone (it stays on the host).
// CHECK-LABEL: func.func @depthwise_multiplier_is_untouched
// CHECK: linalg.depthwise_conv_2d_nhwc_hwcm
// CHECK-NOT: linalg.batch_matmul
func.func @depthwise_multiplier_is_untouched(%x: tensor<1x6x6x3xf32>, %w: tensor<3x3x3x2xf32>, %init: tensor<1x4x4x3x2xf32>) -> tensor<1x4x4x3x2xf32> {
  %0 = linalg.depthwise_conv_2d_nhwc_hwcm {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x6x6x3xf32>, tensor<3x3x3x2xf32>) outs(%init : tensor<1x4x4x3x2xf32>) -> tensor<1x4x4x3x2xf32>
  return %0 : tensor<1x4x4x3x2xf32>
}

// -----

// A kernel larger than its input leaves an empty output (OH = OW = 0): there are no
// patches to gather (their maps would divide by zero), so every layout is left alone.
// CHECK-LABEL: func.func @empty_output_is_untouched
// CHECK-NOT: floordiv 0
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: linalg.conv_2d_nhwc_fhwc
// CHECK: linalg.depthwise_conv_2d_nchw_chw
// CHECK: linalg.conv_2d_ngchw_gfchw
// CHECK-NOT: linalg.matmul
// CHECK-NOT: linalg.batch_matmul
// ARRAY-LABEL: func.func @empty_output_is_untouched
// ARRAY-NOT: systolic.matmul
func.func @empty_output_is_untouched(%a: tensor<1x2x2x2xf32>, %fa: tensor<4x2x3x3xf32>, %oa: tensor<1x4x0x0xf32>,
                                     %b: tensor<1x2x2x2xf32>, %fb: tensor<3x3x2x4xf32>, %ob: tensor<1x0x0x4xf32>,
                                     %fc: tensor<4x3x3x2xf32>, %d: tensor<1x2x2x2xf32>, %fd: tensor<2x3x3xf32>, %od: tensor<1x2x0x0xf32>,
                                     %g: tensor<1x2x2x2x2xf32>, %fg: tensor<2x3x2x3x3xf32>, %og: tensor<1x2x3x0x0xf32>)
    -> (tensor<1x4x0x0xf32>, tensor<1x0x0x4xf32>, tensor<1x0x0x4xf32>, tensor<1x2x0x0xf32>, tensor<1x2x3x0x0xf32>) {
  %0 = linalg.conv_2d_nchw_fchw ins(%a, %fa : tensor<1x2x2x2xf32>, tensor<4x2x3x3xf32>) outs(%oa : tensor<1x4x0x0xf32>) -> tensor<1x4x0x0xf32>
  %1 = linalg.conv_2d_nhwc_hwcf ins(%b, %fb : tensor<1x2x2x2xf32>, tensor<3x3x2x4xf32>) outs(%ob : tensor<1x0x0x4xf32>) -> tensor<1x0x0x4xf32>
  %2 = linalg.conv_2d_nhwc_fhwc ins(%b, %fc : tensor<1x2x2x2xf32>, tensor<4x3x3x2xf32>) outs(%ob : tensor<1x0x0x4xf32>) -> tensor<1x0x0x4xf32>
  %3 = linalg.depthwise_conv_2d_nchw_chw ins(%d, %fd : tensor<1x2x2x2xf32>, tensor<2x3x3xf32>) outs(%od : tensor<1x2x0x0xf32>) -> tensor<1x2x0x0xf32>
  %4 = linalg.conv_2d_ngchw_gfchw ins(%g, %fg : tensor<1x2x2x2x2xf32>, tensor<2x3x2x3x3xf32>) outs(%og : tensor<1x2x3x0x0xf32>) -> tensor<1x2x3x0x0xf32>
  return %0, %1, %2, %3, %4 : tensor<1x4x0x0xf32>, tensor<1x0x0x4xf32>, tensor<1x0x0x4xf32>, tensor<1x2x0x0xf32>, tensor<1x2x3x0x0xf32>
}

// -----

// An empty batch (N = 0) is left alone too.
// CHECK-LABEL: func.func @empty_batch_is_untouched
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: linalg.conv_2d_nchw_fchw
// ARRAY-LABEL: func.func @empty_batch_is_untouched
// ARRAY-NOT: systolic.matmul
func.func @empty_batch_is_untouched(%x: tensor<0x5x5x2xf32>, %w: tensor<3x3x2x4xf32>, %o: tensor<0x3x3x4xf32>,
                                    %y: tensor<0x2x5x5xf32>, %v: tensor<4x2x3x3xf32>, %p: tensor<0x4x3x3xf32>) -> (tensor<0x3x3x4xf32>, tensor<0x4x3x3xf32>) {
  %0 = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<0x5x5x2xf32>, tensor<3x3x2x4xf32>) outs(%o : tensor<0x3x3x4xf32>) -> tensor<0x3x3x4xf32>
  %1 = linalg.conv_2d_nchw_fchw ins(%y, %v : tensor<0x2x5x5xf32>, tensor<4x2x3x3xf32>) outs(%p : tensor<0x4x3x3xf32>) -> tensor<0x4x3x3xf32>
  return %0, %1 : tensor<0x3x3x4xf32>, tensor<0x4x3x3xf32>
}

// -----

// Dynamic shapes are left alone (upstream img2col would fail on them).
// CHECK-LABEL: func.func @dynamic_nhwc_is_untouched
// CHECK: linalg.conv_2d_nhwc_hwcf
func.func @dynamic_nhwc_is_untouched(%x: tensor<?x5x5x2xf32>, %w: tensor<3x3x2x4xf32>, %o: tensor<?x3x3x4xf32>) -> tensor<?x3x3x4xf32> {
  %0 = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<?x5x5x2xf32>, tensor<3x3x2x4xf32>) outs(%o : tensor<?x3x3x4xf32>) -> tensor<?x3x3x4xf32>
  return %0 : tensor<?x3x3x4xf32>
}
