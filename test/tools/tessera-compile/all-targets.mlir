// tessera-compile --all-targets: one row per target (status, compile s, run ms, max
// error, what the target measures); targets this machine cannot use say why.
// RUN: tessera-compile %s --all-targets | FileCheck %s
// CHECK: model      target      status
// CHECK-DAG: all-targets  iree-cpu    ok
// CHECK-DAG: all-targets  npu-sim     ok {{.*}} cycles, PE util
// CHECK-DAG: all-targets  riscv
func.func @main(%a: tensor<6x10xf32>, %b: tensor<10x3xf32>) -> tensor<6x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x3xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<6x3xf32>) -> tensor<6x3xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<6x10xf32>, tensor<10x3xf32>) outs(%c : tensor<6x3xf32>) -> tensor<6x3xf32>
  return %0 : tensor<6x3xf32>
}
