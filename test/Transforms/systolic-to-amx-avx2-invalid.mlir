// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-amx="engine=avx2 bf16-math=dot" --verify-diagnostics

// A blocking that fits AVX-512's 32 registers but not AVX2's 16 (an AVX-512 one: 16 lanes).
func.func @too_many_registers(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{tessera-systolic-to-amx: the blocking (8 rows x 2 groups of LMUL 1, k unrolled 4x) needs 21 vector registers but the avx2 engine has 16}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.blocking = #systolic.blocking<8 : i64, 2 : i64, 1 : i64, 4 : i64>} : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

// -----

// bf16 dots (vdpbf16ps) are AVX-512 only.
func.func @bf16_dots(%a: tensor<8x8xbf16>, %b: tensor<8x8xbf16>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{tessera-systolic-to-amx: bf16-math=dot needs vdpbf16ps (AVX-512 bf16), which the avx2 engine does not use: it widens bf16 to f32 (bf16-math=fma)}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<8x8xbf16>, tensor<8x8xbf16>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}
