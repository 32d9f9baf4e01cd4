// A textual pipeline mixes tessera and upstream passes, nested anchors included.
// RUN: tessera-opt %s --pass-pipeline='builtin.module(func.func(canonicalize),tessera-linalg-to-systolic{rows=8 cols=8 dataflow=is},cse)' | FileCheck %s

// CHECK-LABEL: func.func @mm
// CHECK: "systolic.matmul"{{.*}}#systolic.array<8 : i64, 8 : i64, "is">
// The duplicated matmul is merged by cse (systolic.matmul is pure).
// CHECK-NOT: "systolic.matmul"
func.func @mm(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  %1 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0, %1 : tensor<4x16xf32>, tensor<4x16xf32>
}
