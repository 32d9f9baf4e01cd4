// REQUIRES: gpu-vulkan
// The MLIR file is compiled for a GPU through Vulkan, run there and compared with iree-cpu.
// RUN: tessera-compile %s --target gpu-vulkan | FileCheck %s
// CHECK: target gpu-vulkan: compile
// CHECK: run {{.*}} ms, max abs error vs the IREE reference {{[0-9].[0-9]+e-(0[4-9]|[1-9][0-9])|0.00e\+00}}
func.func @main(%a: tensor<64x96xf32>, %b: tensor<96x40xf32>) -> tensor<64x40xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x40xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x40xf32>) -> tensor<64x40xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<64x96xf32>, tensor<96x40xf32>) outs(%c : tensor<64x40xf32>) -> tensor<64x40xf32>
  return %0 : tensor<64x40xf32>
}
