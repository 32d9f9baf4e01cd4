// linalg -> systolic -> linalg gives back the matmuls it started from.
// RUN: tessera-opt %s --tessera-linalg-to-systolic --tessera-systolic-to-linalg | FileCheck %s
// RUN: tessera-opt %s --pass-pipeline='builtin.module(tessera-linalg-to-systolic{rows=8 cols=8},tessera-systolic-to-linalg,canonicalize)' | FileCheck %s

// CHECK-LABEL: func.func @matmuls_survive_the_round_trip
// CHECK: linalg.matmul ins
// CHECK: linalg.matmul indexing_maps
// CHECK: linalg.batch_matmul
// CHECK-NOT: systolic
#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @matmuls_survive_the_round_trip(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %bt: tensor<16x8xf32>, %c: tensor<4x16xf32>, %x: tensor<3x4x8xi8>, %y: tensor<3x8x16xi8>, %z: tensor<3x4x16xi32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<3x4x16xi32>) {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  %1 = linalg.matmul indexing_maps = [#mk, #nk, #mn] ins(%a, %bt : tensor<4x8xf32>, tensor<16x8xf32>) outs(%0 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = linalg.batch_matmul ins(%x, %y : tensor<3x4x8xi8>, tensor<3x8x16xi8>) outs(%z : tensor<3x4x16xi32>) -> tensor<3x4x16xi32>
  return %0, %1, %2 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<3x4x16xi32>
}
