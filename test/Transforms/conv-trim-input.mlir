// RUN: tessera-opt %s --split-input-file --tessera-conv-trim-input | FileCheck %s

// A 3x3 window at stride 2 reads rows 0..2 of a 4-row image: the last row is cut.
// CHECK-LABEL: func.func @strided_conv_with_an_unread_edge_is_trimmed
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x2x4x4xf32>, %[[W:[^:]+]]: tensor<1x2x3x3xf32>
// CHECK: %[[S:.+]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [1, 2, 3, 3] [1, 1, 1, 1] : tensor<1x2x4x4xf32> to tensor<1x2x3x3xf32>
// CHECK: linalg.conv_2d_nchw_fchw {{.*}} ins(%[[S]], %[[W]] : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>)
func.func @strided_conv_with_an_unread_edge_is_trimmed(%x: tensor<1x2x4x4xf32>, %w: tensor<1x2x3x3xf32>, %o: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>) outs(%o : tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32>
  return %0 : tensor<1x1x1x1xf32>
}

// -----

// Every row and column is read: nothing changes.
// CHECK-LABEL: func.func @conv_that_reads_everything_is_unchanged
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x5x5x2xf32>, %[[W:[^:]+]]: tensor<3x3x2x4xf32>
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[X]], %[[W]] : tensor<1x5x5x2xf32>
func.func @conv_that_reads_everything_is_unchanged(%x: tensor<1x5x5x2xf32>, %w: tensor<3x3x2x4xf32>, %o: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<1x5x5x2xf32>, tensor<3x3x2x4xf32>) outs(%o : tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %0 : tensor<1x2x2x4xf32>
}

// -----

// Pooling windows too; dilation counts: (2-1)*1 + (2-1)*2 + 1 = 4 of 6 columns read.
// CHECK-LABEL: func.func @dilated_pooling_is_trimmed
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x1x6x6xf32>
// CHECK: tensor.extract_slice %[[X]][0, 0, 0, 0] [1, 1, 4, 4] [1, 1, 1, 1] : tensor<1x1x6x6xf32> to tensor<1x1x4x4xf32>
// CHECK: linalg.pooling_nchw_max
func.func @dilated_pooling_is_trimmed(%x: tensor<1x1x6x6xf32>, %w: tensor<2x2xf32>, %o: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %0 = linalg.pooling_nchw_max {dilations = dense<2> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x1x6x6xf32>, tensor<2x2xf32>) outs(%o : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// A kernel larger than its input leaves an empty output: nothing is read, nothing is cut.
// CHECK-LABEL: func.func @empty_output_is_untouched
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x2x2x2xf32>, %[[W:[^:]+]]: tensor<3x3x2x4xf32>
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[X]], %[[W]] : tensor<1x2x2x2xf32>, tensor<3x3x2x4xf32>)
func.func @empty_output_is_untouched(%x: tensor<1x2x2x2xf32>, %w: tensor<3x3x2x4xf32>, %o: tensor<1x0x0x4xf32>) -> tensor<1x0x0x4xf32> {
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<1x2x2x2xf32>, tensor<3x3x2x4xf32>) outs(%o : tensor<1x0x0x4xf32>) -> tensor<1x0x0x4xf32>
  return %0 : tensor<1x0x0x4xf32>
}

// -----

// An empty batch, the same.
// CHECK-LABEL: func.func @empty_batch_is_untouched
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.conv_2d_nchw_fchw
func.func @empty_batch_is_untouched(%x: tensor<0x2x4x4xf32>, %w: tensor<1x2x3x3xf32>, %o: tensor<0x1x1x1xf32>) -> tensor<0x1x1x1xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<0x2x4x4xf32>, tensor<1x2x3x3xf32>) outs(%o : tensor<0x1x1x1xf32>) -> tensor<0x1x1x1xf32>
  return %0 : tensor<0x1x1x1xf32>
}
