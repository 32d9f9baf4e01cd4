// Malformed IR and verifier failures are reported at their file:line:col.
// RUN: not tessera-opt %s --split-input-file 2>&1 | FileCheck %s -DFILE=%s

// CHECK: [[FILE]]:8:3: error: custom op 'func.retrun' is unknown
// CHECK: [[FILE]]:14:8: error: 'systolic.matmul' op lhs is 4x7 but rhs is 8x16
// CHECK-NOT: Traceback
func.func @typo() {
  func.retrun
}

// -----

func.func @verifier_failure(%a: tensor<4x7xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x7xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}
