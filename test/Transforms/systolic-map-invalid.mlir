// RUN: tessera-opt %s --split-input-file --tessera-systolic-map="spad-bytes=300 acc-bytes=4096" --verify-diagnostics
// RUN: not tessera-opt %s --tessera-systolic-map="dataflows=ws+xs" 2>&1 | filecheck %s --check-prefix=OPTION
// RUN: not tessera-opt %s --tessera-systolic-map="strategy=best" 2>&1 | filecheck %s --check-prefix=STRATEGY
// OPTION: error: tessera-systolic-map: option dataflows must be '+'-separated names among ws, os, is, got 'ws+xs'
// STRATEGY: error: {{.*}}strategy{{.*}}search{{.*}}heuristic

// A hand-written mapping whose buffers do not fit the memories is an error at the matmul.
func.func @mapping_does_not_fit(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{tessera-systolic-map: the mapping (tiles 64x64x64, order mnk, buffers 2/2, split none) does not fit this 16x16 ws unit}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[64, 64, 64], "mnk", [2, 2], "none">} : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}

// -----

// One fold of a 16x16 f32 array needs 1088 bytes of scratchpad: no mapping fits in 300.
func.func @nothing_fits(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{tessera-systolic-map: a 16x16 ws array cannot hold one fold of this matmul: it needs 1088 bytes of scratchpad (spad-bytes is 300)}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}

// -----

// The other matmuls of the function are still mapped when one fails.
func.func @one_fails_the_other_is_mapped(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>, %d: tensor<8x8xi8>) -> tensor<64x64xf32> {
  // expected-error @+1 {{cannot hold one fold of this matmul}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  %e = tensor.empty() : tensor<8x8xi32>
  %1 = "systolic.matmul"(%d, %d, %e) {array = #systolic.array<8 : i64, 8 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<8x8xi8>, tensor<8x8xi8>, tensor<8x8xi32>) -> tensor<8x8xi32>
  return %0 : tensor<64x64xf32>
}
