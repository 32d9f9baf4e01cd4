// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-vector="vlen=256" --verify-diagnostics
// RUN: not tessera-opt %s --tessera-systolic-to-vector="lmul=3" 2>&1 | FileCheck %s --check-prefix=LMUL
// RUN: not tessera-opt %S/systolic-to-vector.mlir --split-input-file --tessera-systolic-to-vector="rows=30 lmul=8" 2>&1 | FileCheck %s --check-prefix=NOFIT
// LMUL: error: tessera-systolic-to-vector: option lmul must be one of 0, 1, 2, 4, 8, got 3
// NOFIT: error: tessera-systolic-to-vector: no register blocking with rows 30, lmul 8 fits the 32 vector registers

// A blocking set by hand that does not fit the registers is an error at its matmul.
func.func @does_not_fit(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{tessera-systolic-to-vector: the blocking (8 rows x 2 groups of LMUL 2, k unrolled 1x) needs 36 vector registers but the unit has 32}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.blocking = #systolic.blocking<8 : i64, 2 : i64, 2 : i64, 1 : i64>} : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

// -----

// A malformed blocking is rejected by the matmul's verifier.
func.func @bad_lmul(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{blocking lmul must be one of 1, 2, 4, 8, got 3}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.blocking = #systolic.blocking<2 : i64, 1 : i64, 3 : i64, 1 : i64>} : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

// -----

func.func @rows_zero(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{blocking rows must be an i64 between 1 and 64, got 0 : i64}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.blocking = #systolic.blocking<0 : i64, 1 : i64, 1 : i64, 1 : i64>} : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

// -----

func.func @not_a_blocking(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'systolic.blocking' must be a #systolic.blocking<...> attribute, got [1, 2]}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.blocking = [1, 2]} : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}
