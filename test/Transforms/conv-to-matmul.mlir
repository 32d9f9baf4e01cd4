// RUN: tessera-opt %s --split-input-file --tessera-conv-to-matmul | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-conv-to-matmul --tessera-linalg-to-systolic | FileCheck %s --check-prefix=ARRAY

// nchw: patches [N*OH*OW, C*KH*KW] times the filter as [F, C*KH*KW] (transposed maps),
// then back to [N, F, OH, OW].
// CHECK-DAG: #[[GATHER:.+]] = affine_map<(d0, d1) -> (d0 floordiv 36, d1 floordiv 9, ((d0 mod 36) floordiv 6) * 2 + (d1 mod 9) floordiv 3, (d0 mod 6) * 2 + d1 mod 3)>
// CHECK-LABEL: func.func @nchw_stride_2
// CHECK: %[[COL:.+]] = linalg.generic {indexing_maps = [#[[GATHER]], #{{.+}}], iterator_types = ["parallel", "parallel"]} ins(%{{.+}} : tensor<2x3x13x13xf32>) outs(%{{.+}} : tensor<72x27xf32>)
// CHECK: %[[FILT:.+]] = tensor.collapse_shape %{{.+}} {{\[\[}}0], [1, 2, 3]] : tensor<4x3x3x3xf32> into tensor<4x27xf32>
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

// nhwc: the filter is already [KH*KW*C, F]; the result reshapes straight back.
// CHECK-LABEL: func.func @nhwc_dilated
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<32x18xf32>)
// CHECK: tensor.collapse_shape %{{.+}} {{\[\[}}0, 1, 2], [3]] : tensor<3x3x2x5xf32> into tensor<18x5xf32>
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<32x18xf32>, tensor<18x5xf32>)
// CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0, 1, 2], [3]] output_shape [2, 4, 4, 5]
// CHECK-NOT: linalg.transpose
func.func @nhwc_dilated(%x: tensor<2x8x8x2xf32>, %w: tensor<3x3x2x5xf32>) -> tensor<2x4x4x5xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x4x5xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x4x5xf32>) -> tensor<2x4x4x5xf32>
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<2x8x8x2xf32>, tensor<3x3x2x5xf32>) outs(%init : tensor<2x4x4x5xf32>) -> tensor<2x4x4x5xf32>
  return %0 : tensor<2x4x4x5xf32>
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

// Depthwise and grouped convolutions are left alone (they stay on the host).
// CHECK-LABEL: func.func @depthwise_is_untouched
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc
// CHECK-NOT: linalg.matmul
func.func @depthwise_is_untouched(%x: tensor<1x6x6x3xf32>, %w: tensor<3x3x3xf32>, %init: tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32> {
  %0 = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x6x6x3xf32>, tensor<3x3x3xf32>) outs(%init : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  return %0 : tensor<1x4x4x3xf32>
}
