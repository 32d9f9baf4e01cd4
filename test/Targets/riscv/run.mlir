// REQUIRES: qemu
// The MLIR file is compiled for RISC-V with RVV, run under QEMU and compared with iree-cpu.
// RUN: tessera-compile %s --target riscv | FileCheck %s
// CHECK: target riscv: compile
// CHECK: run {{.*}} ms, max abs error vs the IREE reference {{[0-9].[0-9]+e-(0[5-9]|[1-9][0-9])|0.00e\+00}}
func.func @main(%a: tensor<20x33xf32>, %b: tensor<33x19xf32>) -> tensor<20x19xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<20x19xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<20x19xf32>) -> tensor<20x19xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<20x33xf32>, tensor<33x19xf32>) outs(%c : tensor<20x19xf32>) -> tensor<20x19xf32>
  return %0 : tensor<20x19xf32>
}
