// RUN: tessera-opt %s --tessera-linalg-to-systolic --canonicalize --mlir-print-ir-after-all 2>&1 >/dev/null | FileCheck %s

// CHECK: IR Dump After tessera-linalg-to-systolic
// CHECK: "systolic.matmul"
// CHECK: IR Dump After Canonicalizer
func.func @mm(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}
