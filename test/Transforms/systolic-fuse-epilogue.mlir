// RUN: tessera-opt %s --split-input-file --tessera-systolic-fuse-epilogue | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-systolic-fuse-epilogue="requantize=false" | FileCheck %s --check-prefix=NOREQ

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

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>

// torch-mlir's int8 linear: i32 bias and ReLU, then requantize as five generics
// (sitofp, mulf by a truncf'd f64 multiplier, roundeven, cmpf/select clamp, fptosi):
// all of it becomes the epilogue, the result is i8 and no generic is left.
// CHECK-LABEL: func.func @int8_bias_relu_requantize_fuse
// CHECK-SAME: %[[BIAS:[^:]+]]: tensor<16xi32>
// CHECK: %[[MM:.+]] = "systolic.matmul"(%{{.+}}, %{{.+}}, %{{.+}}, %[[BIAS]]) {{.*}}epilogue = {relu, scale = 1.230000e-02 : f32}{{.*}} -> tensor<4x16xi8>
// CHECK-NOT: linalg.generic
// CHECK: return %[[MM]]
// With requantize=false the bias and ReLU still fuse; the requantization stays.
// NOREQ-LABEL: func.func @int8_bias_relu_requantize_fuse
// NOREQ: "systolic.matmul"{{.*}}epilogue = {relu}{{.*}} -> tensor<4x16xi32>
// NOREQ: arith.fptosi
func.func @int8_bias_relu_requantize_fuse(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>, %bias: tensor<16xi32>) -> tensor<4x16xi8> {
  %zero = arith.constant 0 : i32
  %s = arith.constant 1.230000e-02 : f64
  %lo = arith.constant -1.280000e+02 : f32
  %hi = arith.constant 1.270000e+02 : f32
  %ei = tensor.empty() : tensor<4x16xi32>
  %ef = tensor.empty() : tensor<4x16xf32>
  %e8 = tensor.empty() : tensor<4x16xi8>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi32>
  %1 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%0, %bias : tensor<4x16xi32>, tensor<16xi32>) outs(%ei : tensor<4x16xi32>) {
  ^bb0(%x: i32, %y: i32, %o: i32):
    %r = arith.addi %x, %y : i32
    linalg.yield %r : i32
  } -> tensor<4x16xi32>
  %2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%1 : tensor<4x16xi32>) outs(%ei : tensor<4x16xi32>) {
  ^bb0(%x: i32, %o: i32):
    %r = arith.maxsi %x, %zero : i32
    linalg.yield %r : i32
  } -> tensor<4x16xi32>
  %3 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%2 : tensor<4x16xi32>) outs(%ef : tensor<4x16xf32>) {
  ^bb0(%x: i32, %o: f32):
    %r = arith.sitofp %x : i32 to f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  %4 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%3 : tensor<4x16xf32>) outs(%ef : tensor<4x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.truncf %s : f64 to f32
    %r = arith.mulf %x, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  %5 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%4 : tensor<4x16xf32>) outs(%ef : tensor<4x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = math.roundeven %x : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  %6 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%5 : tensor<4x16xf32>) outs(%ef : tensor<4x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %p = arith.cmpf ult, %x, %lo : f32
    %y = arith.select %p, %lo, %x : f32
    %q = arith.cmpf ugt, %y, %hi : f32
    %r = arith.select %q, %hi, %y : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  %7 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%6 : tensor<4x16xf32>) outs(%e8 : tensor<4x16xi8>) {
  ^bb0(%x: f32, %o: i8):
    %r = arith.fptosi %x : f32 to i8
    linalg.yield %r : i8
  } -> tensor<4x16xi8>
  return %7 : tensor<4x16xi8>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// One generic doing it all (clamp as minimumf before maximumf, a zero point of 0.0) fuses;
// the same with a division by the scale, a narrower clamp, or on an f32 matmul does not.
// CHECK-LABEL: func.func @requantize_in_one_generic
// CHECK: %[[MM:.+]] = "systolic.matmul"{{.*}}epilogue = {scale = 2.500000e-01 : f32}{{.*}} -> tensor<4x16xi8>
// CHECK: return %[[MM]]
// CHECK-LABEL: func.func @requantize_not_fused
// CHECK: "systolic.matmul"{{.*}}epilogue = {}
// CHECK: arith.divf
// CHECK: arith.fptosi
// CHECK: "systolic.matmul"{{.*}}epilogue = {}
// CHECK: arith.fptosi
// CHECK: "systolic.matmul"{{.*}}epilogue = {}
// CHECK: arith.fptosi
func.func @requantize_in_one_generic(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi8> {
  %s = arith.constant 2.500000e-01 : f32
  %zp = arith.constant 0.0 : f32
  %lo = arith.constant -1.280000e+02 : f32
  %hi = arith.constant 1.270000e+02 : f32
  %e8 = tensor.empty() : tensor<4x16xi8>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi32>
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<4x16xi32>) outs(%e8 : tensor<4x16xi8>) {
  ^bb0(%x: i32, %o: i8):
    %f = arith.sitofp %x : i32 to f32
    %m = arith.mulf %s, %f : f32
    %r = math.roundeven %m : f32
    %z = arith.addf %r, %zp : f32
    %u = arith.minimumf %z, %hi : f32
    %l = arith.maximumf %u, %lo : f32
    %i = arith.fptosi %l : f32 to i8
    linalg.yield %i : i8
  } -> tensor<4x16xi8>
  return %1 : tensor<4x16xi8>
}
func.func @requantize_not_fused(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>, %fa: tensor<4x8xf32>, %fb: tensor<8x16xf32>, %fc: tensor<4x16xf32>) -> (tensor<4x16xi8>, tensor<4x16xi8>, tensor<4x16xi8>) {
  %s = arith.constant 2.500000e-01 : f32
  %lo = arith.constant -1.280000e+02 : f32
  %narrow = arith.constant -1.270000e+02 : f32
  %hi = arith.constant 1.270000e+02 : f32
  %e8 = tensor.empty() : tensor<4x16xi8>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi32>
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<4x16xi32>) outs(%e8 : tensor<4x16xi8>) {
  ^bb0(%x: i32, %o: i8):
    %f = arith.sitofp %x : i32 to f32
    %m = arith.divf %f, %s : f32
    %r = math.roundeven %m : f32
    %u = arith.minimumf %r, %hi : f32
    %l = arith.maximumf %u, %lo : f32
    %i = arith.fptosi %l : f32 to i8
    linalg.yield %i : i8
  } -> tensor<4x16xi8>
  %2 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi32>
  %3 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%2 : tensor<4x16xi32>) outs(%e8 : tensor<4x16xi8>) {
  ^bb0(%x: i32, %o: i8):
    %f = arith.sitofp %x : i32 to f32
    %m = arith.mulf %f, %s : f32
    %r = math.roundeven %m : f32
    %u = arith.minimumf %r, %hi : f32
    %l = arith.maximumf %u, %narrow : f32
    %i = arith.fptosi %l : f32 to i8
    linalg.yield %i : i8
  } -> tensor<4x16xi8>
  %4 = "systolic.matmul"(%fa, %fb, %fc) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %5 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%4 : tensor<4x16xf32>) outs(%e8 : tensor<4x16xi8>) {
  ^bb0(%x: f32, %o: i8):
    %m = arith.mulf %x, %s : f32
    %r = math.roundeven %m : f32
    %u = arith.minimumf %r, %hi : f32
    %l = arith.maximumf %u, %lo : f32
    %i = arith.fptosi %l : f32 to i8
    linalg.yield %i : i8
  } -> tensor<4x16xi8>
  return %1, %3, %5 : tensor<4x16xi8>, tensor<4x16xi8>, tensor<4x16xi8>
}
