// Pass flags run in the order given: to systolic and back, or back first (a no-op) then to systolic.
// RUN: tessera-opt %s --tessera-linalg-to-systolic="rows=4 cols=4" --tessera-systolic-to-linalg | FileCheck %s --check-prefix=THERE-AND-BACK
// RUN: tessera-opt %s --tessera-systolic-to-linalg --tessera-linalg-to-systolic=rows=4 | FileCheck %s --check-prefix=TO-SYSTOLIC

// THERE-AND-BACK: linalg.matmul
// THERE-AND-BACK-NOT: systolic
// TO-SYSTOLIC: #systolic.array<4 : i64, 16 : i64, "ws">
func.func @mm(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}
