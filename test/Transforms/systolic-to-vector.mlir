// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-vector="vlen=256" | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-vector="vlen=256 rows=4 groups=2 lmul=1 k-unroll=1" | FileCheck %s --check-prefix=HAND
// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-vector="vlen=128 lmul=2" | FileCheck %s --check-prefix=V128

// f32 with bias and relu. The cost model chooses the blocking, which the kernel carries:
// at VLEN 256 on a 64x64x64 matmul, 3 rows x 1 group of LMUL 8 (3 x 8 accumulator
// registers + 8 for the rhs row: all 32), reduction not unrolled (no room for a second
// rhs row). Whole blocks only: no masks in the loops; the left-over row is one block.
// CHECK-LABEL: func.func @f32_matmul_with_epilogue
// CHECK: call @vector_kernel_0
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: (%[[LHS:[^:]+]]: memref<64x64xf32>, %[[RHS:[^:]+]]: memref<64x64xf32>, %{{[^:]+}}: memref<64xf32>, %[[OUT:[^:]+]]: memref<64x64xf32>)
// CHECK-SAME: systolic.blocking = #systolic.blocking<3 : i64, 1 : i64, 8 : i64, 1 : i64>
// CHECK-SAME: systolic.kernel = #systolic.kernel<"vector", ["lhs", "rhs", "bias", "out"], [1, 64, 64, 64], [3, 64, 1]>
// CHECK-NOT: mask
// CHECK: scf.for %[[ROW:.+]] = %{{.+}} to %c63 step %c3
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<64xf32>, vector<64xf32>, vector<64xf32>)
// CHECK: vector.load %[[RHS]]
// CHECK: memref.load %[[LHS]]
// CHECK: vector.broadcast %{{.+}} : f32 to vector<64xf32>
// CHECK: vector.fma
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: vector.store %{{.+}}, %[[OUT]]
// The left-over row 63: one block of one row.
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<64xf32>) {
// CHECK-NOT: mask
// CHECK: return

// Options fix fields of the blocking: 4 rows x 2 groups of one register (8 lanes), so a
// block is 16 columns wide; columns 48..63 are whole blocks, no tail.
// HAND-LABEL: func.func private @vector_kernel_0
// HAND-SAME: systolic.blocking = #systolic.blocking<4 : i64, 2 : i64, 1 : i64, 1 : i64>
// HAND-SAME: [4, 16, 1]
// HAND: iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// HAND-NOT: mask
// HAND: return

// V128-LABEL: func.func private @vector_kernel_0
// V128-SAME: systolic.blocking = #systolic.blocking<{{[0-9]+}} : i64, {{[0-9]+}} : i64, 2 : i64
// V128: vector<8xf32>
func.func @f32_matmul_with_epilogue(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %bias: tensor<64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %0 = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}

// -----

// A blocking set by hand on the matmul wins over the model and the options. 20 columns
// are 2 whole groups of 8 lanes and a masked group of 4 (the column tail); the
// reduction, unrolled twice, leaves one step over (k = 5).
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: systolic.blocking = #systolic.blocking<2 : i64, 3 : i64, 1 : i64, 2 : i64>
// CHECK: %[[MASK:.+]] = vector.create_mask %c4 : vector<8xi1>
// CHECK: scf.for {{.*}} to %c4{{.*}} step %c2{{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.load
// CHECK: vector.load
// CHECK: vector.maskedload %{{.+}}, %[[MASK]]
// CHECK: scf.for {{.*}} = %c4{{.*}} to %c5{{.*}} step %c1
// CHECK: vector.maskedstore
// HAND-LABEL: func.func private @vector_kernel_0
// HAND-SAME: systolic.blocking = #systolic.blocking<2 : i64, 3 : i64, 1 : i64, 2 : i64>
func.func @hand_blocking(%a: tensor<6x5xf32>, %b: tensor<5x20xf32>, %c: tensor<6x20xf32>) -> tensor<6x20xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.blocking = #systolic.blocking<2 : i64, 3 : i64, 1 : i64, 2 : i64>} : (tensor<6x5xf32>, tensor<5x20xf32>, tensor<6x20xf32>) -> tensor<6x20xf32>
  return %0 : tensor<6x20xf32>
}

// -----

// int8: i8 rhs lanes widened to i16 once per step, the lhs value to i16, and the product
// accumulated in i32 (RVV's widening multiply-add, vwmacc).
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: (%{{[^:]+}}: memref<8x32xi8>, %[[RHS8:[^:]+]]: memref<32x16xi8>
// CHECK-SAME: systolic.blocking
// CHECK: vector.load %[[RHS8]]{{.*}} vector<{{[0-9]+}}xi8>
// CHECK: arith.extsi %{{.+}} : vector<{{[0-9]+}}xi8> to vector<{{[0-9]+}}xi16>
// CHECK: arith.extsi %{{.+}} : i8 to i16
// CHECK: arith.extsi %{{.+}} : vector<{{[0-9]+}}xi16> to vector<{{[0-9]+}}xi32>
// CHECK: arith.muli %{{.+}} : vector<{{[0-9]+}}xi32>
// CHECK: arith.addi %{{.+}} : vector<{{[0-9]+}}xi32>
func.func @int8_matmul_widens(%a: tensor<8x32xi8>, %b: tensor<32x16xi8>) -> tensor<8x16xi32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<8x16xi32>
  %c = linalg.fill ins(%zero : i32) outs(%e : tensor<8x16xi32>) -> tensor<8x16xi32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<8x32xi8>, tensor<32x16xi8>, tensor<8x16xi32>) -> tensor<8x16xi32>
  return %0 : tensor<8x16xi32>
}

// -----

// A batched matmul: the kernel loops over the batch and indexes with it.
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: memref<3x9x17xf32>
// CHECK-SAME: systolic.kernel = #systolic.kernel<"vector", ["lhs", "rhs", "out"], [3, 9, 21, 17]
// CHECK: scf.for %[[B:.+]] = %c0{{.*}} to %c3 step %c1
// CHECK: memref.load %{{.+}}[%[[B]], %{{.+}}, %{{.+}}] : memref<3x9x17xf32>
func.func @batched(%a: tensor<3x9x17xf32>, %b: tensor<3x17x21xf32>) -> tensor<3x9x21xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x9x21xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<3x9x21xf32>) -> tensor<3x9x21xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<3x9x17xf32>, tensor<3x17x21xf32>, tensor<3x9x21xf32>) -> tensor<3x9x21xf32>
  return %0 : tensor<3x9x21xf32>
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
