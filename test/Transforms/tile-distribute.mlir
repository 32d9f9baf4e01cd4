// RUN: tessera-opt %s --split-input-file --tessera-systolic-tile="grid-rows=2 grid-cols=2" --tessera-tile-distribute="grid-rows=2 grid-cols=2" | FileCheck %s

// The kernel body runs per unit of a 2x2 grid; the outer parallel loop (over 128 / 16 = 8
// column blocks) is dealt out: unit u starts at u * 16 and strides by 4 * 16.
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK: "tile.launch"() ({
// CHECK-NEXT: ^bb0(%[[ROW:.+]]: index, %[[COL:.+]]: index):
// CHECK: %[[R2:.+]] = arith.muli %[[ROW]], %{{.+}} : index
// CHECK: %[[UNIT:.+]] = arith.addi %[[R2]], %[[COL]] : index
// CHECK: memref.alloc() : memref<{{.+}}, #systolic.spad>
// CHECK: %[[FIRST:.+]] = arith.muli %[[UNIT]], %[[STEP:.+]] : index
// CHECK: %[[LB:.+]] = arith.addi %{{.+}}, %[[FIRST]] : index
// CHECK: %[[STRIDE:.+]] = arith.muli %[[STEP]], %{{.+}} : index
// CHECK: scf.for %{{.+}} = %[[LB]] to %{{.+}} step %[[STRIDE]]
// CHECK: "systolic.compute"
// CHECK: "tile.yield"
// CHECK: grid = #tile.grid<2 : i64, 2 : i64, 327680 : i64, 16 : i64>
func.func @kernel_is_spread_over_the_grid(%a: tensor<16x32xf32>, %b: tensor<32x128xf32>) -> tensor<16x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x128xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<16x128xf32>) -> tensor<16x128xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<16x32xf32>, tensor<32x128xf32>, tensor<16x128xf32>) -> tensor<16x128xf32>
  return %0 : tensor<16x128xf32>
}

// -----

// os: rows of output blocks are the outer loop; with 2 row blocks for 4 units the loop
// over the 6 column blocks is the one dealt out.
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK: "tile.launch"
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[ROWS:.+]] = arith.constant 32 : index
// CHECK-DAG: %[[SIXTEEN:.+]] = arith.constant 16 : index
// CHECK: scf.for %{{.+}} = %[[ZERO]] to %[[ROWS]] step %[[SIXTEEN]]
// CHECK: %[[COLS:.+]] = arith.constant 96 : index
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[COLS]] step %{{.+}}
func.func @too_few_outer_iterations_deal_the_inner_loop(%a: tensor<32x16xf32>, %b: tensor<16x96xf32>) -> tensor<32x96xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x96xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<32x96xf32>) -> tensor<32x96xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<32x16xf32>, tensor<16x96xf32>, tensor<32x96xf32>) -> tensor<32x96xf32>
  return %0 : tensor<32x96xf32>
}
