// RUN: tessera-opt %s --split-input-file --tessera-systolic-fuse-epilogue | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
#row = affine_map<(d0, d1) -> (d0)>

// torch-mlir's Linear + ReLU: the bias add and the cmpf/select ReLU fold into the matmul.
// CHECK-LABEL: func.func @bias_then_relu_fuse
// CHECK-SAME: %[[BIAS:[^:]+]]: tensor<16xf32>
// CHECK: %[[MM:.+]] = "systolic.matmul"(%{{.+}}, %{{.+}}, %{{.+}}, %[[BIAS]]) {{.*}}epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>
// CHECK-NOT: linalg.generic
// CHECK: return %[[MM]]
func.func @bias_then_relu_fuse(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>, %bias: tensor<16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%0, %bias : tensor<4x16xf32>, tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  %2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%1 : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %p = arith.cmpf ugt, %x, %zero : f32
    %r = arith.select %p, %x, %zero : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// An integer ReLU written as maxsi fuses too.
// CHECK-LABEL: func.func @int_relu_as_maxsi
// CHECK: "systolic.matmul"{{.*}}epilogue = {relu}
// CHECK-NOT: linalg.generic
func.func @int_relu_as_maxsi(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x16xi32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi32>
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<4x16xi32>) outs(%e : tensor<4x16xi32>) {
  ^bb0(%x: i32, %o: i32):
    %r = arith.maxsi %x, %zero : i32
    linalg.yield %r : i32
  } -> tensor<4x16xi32>
  return %1 : tensor<4x16xi32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#col = affine_map<(d0, d1) -> (d1)>

// A vector added along rows is not a per-column bias; a result used twice cannot be
// changed in place; a ReLU before the bias cannot move behind it.
// CHECK-LABEL: func.func @not_fused
// CHECK: "systolic.matmul"{{.*}}epilogue = {}
// CHECK-NEXT: linalg.generic
// CHECK: "systolic.matmul"{{.*}}epilogue = {}
// CHECK-NEXT: linalg.generic
// CHECK: "systolic.matmul"{{.*}}epilogue = {relu}
// CHECK-NEXT: linalg.generic
func.func @not_fused(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>, %c: tensor<4x4xf32>, %v: tensor<4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%0, %v : tensor<4x4xf32>, tensor<4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %2 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<8 : i64, 8 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %3 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%2 : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %4 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<4 : i64, 4 : i64, "ws">, transpose = [false, false], epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %5 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%4, %v : tensor<4x4xf32>, tensor<4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  return %1, %2, %3, %5 : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
}
