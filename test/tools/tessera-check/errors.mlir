// Bad arguments to tessera-check: one `error:` line, exit 1, no traceback.

// RUN: not tessera-check %s --pass-pipeline='builtin.module(tessera-no-such-pass)' 2>&1 | FileCheck %s --check-prefix=PASS
// PASS: error: unknown pass 'tessera-no-such-pass'
// PASS-NOT: Traceback

// RUN: not tessera-check %s --targets iree-cpu,npu 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: unknown target 'npu'{{.*}}(targets: iree-cpu

// RUN: not tessera-check %s --hw npu-sim 2>&1 | FileCheck %s --check-prefix=HW
// HW: error: --hw expects TARGET=PRESET, e.g. npu-sim=tpu-128x128, got 'npu-sim'

// RUN: not tessera-check %S/no-such-file.mlir 2>&1 | FileCheck %s --check-prefix=FILE
// FILE: error: could not open input file '{{.*}}no-such-file.mlir': no such file
func.func @main(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x4xf32>) outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
