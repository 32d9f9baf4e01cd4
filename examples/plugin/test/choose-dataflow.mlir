// RUN: tessera-opt %s --split-input-file --load %plugin --tessera-linalg-to-systolic --example-choose-dataflow | FileCheck %s
// RUN: tessera-opt %s --split-input-file --load %plugin --tessera-linalg-to-systolic --example-choose-dataflow="dataflows=ws,is" | FileCheck %s --check-prefix=NO-OS
// RUN: tessera-opt %s --split-input-file --load %plugin --pass-pipeline='builtin.module(example-npu-mapping)' | FileCheck %s
// RUN: not tessera-opt %s --load %plugin --example-choose-dataflow="dataflows=rs" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not tessera-opt %s --load %plugin --example-choose-dataflw 2>&1 | FileCheck %s --check-prefix=TYPO

// BAD: error: example-choose-dataflow: option dataflows lists rs; dataflows are ws, os, is
// TYPO: error: unknown pass 'example-choose-dataflw'; did you mean 'example-choose-dataflow'?

// A tall reduction (8x16 result, K = 1024) on a 16x16 array: weight-stationary refills
// the array 64 times, output-stationary streams all of K through one fold.
// CHECK-LABEL: func.func @tall_k_is_output_stationary
// CHECK: "systolic.matmul"{{.*}}#systolic.array<16 : i64, 16 : i64, "os">
// NO-OS-LABEL: func.func @tall_k_is_output_stationary
// NO-OS: "systolic.matmul"{{.*}}#systolic.array<16 : i64, 16 : i64, "ws">
func.func @tall_k_is_output_stationary(%a: tensor<8x1024xf32>, %b: tensor<1024x16xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x16xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<8x16xf32>) -> tensor<8x16xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<8x1024xf32>, tensor<1024x16xf32>) outs(%c : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}

// -----

// A long stream of rows (M = 1024) through a 16x16 weight block: weight-stationary
// already takes the fewest cycles, and the op is left as it is.
// CHECK-LABEL: func.func @tall_m_stays_weight_stationary
// CHECK: "systolic.matmul"{{.*}}#systolic.array<16 : i64, 16 : i64, "ws">
func.func @tall_m_stays_weight_stationary(%a: tensor<1024x16xf32>, %b: tensor<16x16xf32>) -> tensor<1024x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1024x16xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<1024x16xf32>) -> tensor<1024x16xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<1024x16xf32>, tensor<16x16xf32>) outs(%c : tensor<1024x16xf32>) -> tensor<1024x16xf32>
  return %0 : tensor<1024x16xf32>
}
