// Input from stdin, output to a file given with -o.
// RUN: cat %s | tessera-opt - --tessera-linalg-to-systolic -o %t.mlir
// RUN: FileCheck %s < %t.mlir
// RUN: tessera-opt < %s --tessera-linalg-to-systolic | FileCheck %s

// CHECK: "systolic.matmul"
func.func @mm(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}
