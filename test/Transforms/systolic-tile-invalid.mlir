// RUN: tessera-opt %s --split-input-file --tessera-systolic-tile="spad-bytes=300 acc-bytes=4096" --verify-diagnostics

// A 16x16 f32 array needs more than 300 bytes of scratchpad for one fold.
func.func @scratchpad_too_small(%a: tensor<16x16xf32>, %b: tensor<16x16xf32>, %c: tensor<16x16xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{tessera-systolic-tile: a 16x16 ws array cannot hold one fold of this matmul: it needs 1088 bytes of scratchpad (spad-bytes is 300)}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}
