// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-amx="engine=avx512" --verify-diagnostics
// RUN: not tessera-opt %s --tessera-systolic-to-amx="engine=sse" 2>&1 | FileCheck %s --check-prefix=ENGINE
// ENGINE: error: tessera-systolic-to-amx: option engine must be one of auto, amx, avx512, avx2, got 'sse'

// A hand-set blocking the padded kernel cannot run is an error at its matmul.
func.func @bad_blocking(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{tessera-systolic-to-amx: the blocking (6 rows x 2 groups of LMUL 1, k unrolled 1x) does not fit the avx512 engine: rows must divide 32, groups x 16 must divide 32 and lmul must be 1}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.blocking = #systolic.blocking<6 : i64, 2 : i64, 1 : i64, 1 : i64>} : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}
