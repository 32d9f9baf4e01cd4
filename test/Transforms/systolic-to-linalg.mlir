// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @plain_matmul_becomes_linalg_matmul
// CHECK-SAME: (%[[A:.+]]: tensor<4x8xf32>, %[[B:.+]]: tensor<8x16xf32>, %[[C:.+]]: tensor<4x16xf32>)
// CHECK: %[[R:.+]] = linalg.matmul ins(%[[A]], %[[B]] : {{.*}}) outs(%[[C]] : tensor<4x16xf32>)
// CHECK-NOT: systolic
// CHECK: return %[[R]]
func.func @plain_matmul_becomes_linalg_matmul(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// CHECK-DAG: #[[MK:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[NK:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @transposed_rhs_becomes_indexing_maps
// CHECK: linalg.matmul indexing_maps = [#[[MK]], #[[NK]], #[[MN]]]
func.func @transposed_rhs_becomes_indexing_maps(%a: tensor<4x8xf32>, %bt: tensor<16x8xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = "systolic.matmul"(%a, %bt, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, true], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @batched_matmul_becomes_batch_matmul
// CHECK: linalg.batch_matmul
// CHECK-SAME: outs({{.*}} : tensor<2x4x16xf32>)
func.func @batched_matmul_becomes_batch_matmul(%a: tensor<2x4x8xbf16>, %b: tensor<2x8x16xbf16>, %c: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x4x8xbf16>, tensor<2x8x16xbf16>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

// CHECK-LABEL: func.func @bias_and_relu_become_one_elementwise_generic
// CHECK-SAME: %[[BIAS:[^:]+]]: tensor<16xf32>
// CHECK: %[[MM:.+]] = linalg.matmul
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[MM]], %[[BIAS]] : tensor<4x16xf32>, tensor<16xf32>)
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: linalg.yield
func.func @bias_and_relu_become_one_elementwise_generic(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>, %bias: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @requantize_rounds_and_saturates_to_i8
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK: arith.maxsi
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: math.roundeven
// CHECK: arith.fptosi {{.*}} to i8
// CHECK: -> tensor<4x16xi8>
func.func @requantize_rounds_and_saturates_to_i8(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi8> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu, scale = 2.500000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi8>
  return %0 : tensor<4x16xi8>
}
