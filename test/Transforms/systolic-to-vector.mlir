// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-vector="vlen=256 rows=4" | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-vector="vlen=128 rows=2" | FileCheck %s --check-prefix=V128

// f32 with bias and relu: 4 rows x 2 vectors of 8 lanes per block, accumulators carried
// through the reduction loop, masked columns at the edge, epilogue before the store.
// CHECK-LABEL: func.func @f32_matmul_with_epilogue
// CHECK: call @vector_kernel_0
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: (%[[LHS:[^:]+]]: memref<10x16xf32>, %[[RHS:[^:]+]]: memref<16x20xf32>, %{{[^:]+}}: memref<20xf32>, %[[OUT:[^:]+]]: memref<10x20xf32>)
// CHECK-SAME: systolic.kernel = #systolic.kernel<"vector", ["lhs", "rhs", "bias", "out"], [1, 10, 20, 16], [4, 16, 1]>
// CHECK: vector.create_mask %{{.+}} : vector<8xi1>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.maskedload %[[RHS]]
// CHECK: memref.load %[[LHS]]
// CHECK: vector.broadcast %{{.+}} : f32 to vector<8xf32>
// CHECK: vector.fma
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: vector.maskedstore %[[OUT]]
// V128-LABEL: func.func private @vector_kernel_0
// V128: iter_args({{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
func.func @f32_matmul_with_epilogue(%a: tensor<10x16xf32>, %b: tensor<16x20xf32>, %bias: tensor<20xf32>) -> tensor<10x20xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<10x20xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<10x20xf32>) -> tensor<10x20xf32>
  %0 = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<10x16xf32>, tensor<16x20xf32>, tensor<10x20xf32>, tensor<20xf32>) -> tensor<10x20xf32>
  return %0 : tensor<10x20xf32>
}

// -----

// int8: rhs rows are loaded as i8 lanes and widened; products accumulate in i32.
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: (%{{[^:]+}}: memref<8x32xi8>, %[[RHS8:[^:]+]]: memref<32x16xi8>
// CHECK: vector.maskedload %[[RHS8]]{{.*}} into vector<8xi8>
// CHECK: arith.extsi %{{.+}} : vector<8xi8> to vector<8xi32>
// CHECK: arith.extsi %{{.+}} : i8 to i32
// CHECK: arith.muli %{{.+}} : vector<8xi32>
// CHECK: arith.addi %{{.+}} : vector<8xi32>
func.func @int8_matmul_widens(%a: tensor<8x32xi8>, %b: tensor<32x16xi8>) -> tensor<8x16xi32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<8x16xi32>
  %c = linalg.fill ins(%zero : i32) outs(%e : tensor<8x16xi32>) -> tensor<8x16xi32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<8x32xi8>, tensor<32x16xi8>, tensor<8x16xi32>) -> tensor<8x16xi32>
  return %0 : tensor<8x16xi32>
}

// -----

// bf16 and requantizing epilogues are not handled: the op stays for the linalg fallback.
// CHECK-LABEL: func.func @unsupported_stays
// CHECK: "systolic.matmul"
// CHECK-NOT: vector_kernel
func.func @unsupported_stays(%a: tensor<8x32xbf16>, %b: tensor<32x16xbf16>, %c: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<8x32xbf16>, tensor<32x16xbf16>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}
