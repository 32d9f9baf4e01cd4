// --verify-diagnostics passes when every expected diagnostic appears, and fails when one is
// missing or an unexpected one appears.
// RUN: tessera-opt %s --split-input-file --verify-diagnostics
// RUN: sed -e 's/reduction sizes 7 and 8/no such message/' %s > %t.wrong.mlir
// RUN: not tessera-opt %t.wrong.mlir --split-input-file --verify-diagnostics 2>&1 | FileCheck %s --check-prefix=WRONG
// RUN: sed -e 's/expected-error/not-expected/' %s > %t.unexpected.mlir
// RUN: not tessera-opt %t.unexpected.mlir --split-input-file --verify-diagnostics 2>&1 | FileCheck %s --check-prefix=UNEXPECTED

// WRONG: error: unexpected error: 'systolic.matmul' op lhs is 4x7 but rhs is 8x16
// WRONG: error: expected error on line {{[0-9]+}} was not produced: no such message
// UNEXPECTED: error: unexpected error: 'systolic.matmul' op lhs is 4x7
// UNEXPECTED-NOT: Traceback

func.func @bad_reduction(%a: tensor<4x7xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{reduction sizes 7 and 8 differ}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x7xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @good() {
  return
}
