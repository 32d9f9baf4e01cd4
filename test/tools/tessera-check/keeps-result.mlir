// tessera-check FILE.mlir --pass-pipeline=P: evaluate the module before and after P on
// seeded random inputs (the RUN line tessera check writes into its reproducers).
// RUN: tessera-check %s --pass-pipeline='builtin.module(tessera-linalg-to-systolic{rows=4 cols=4},tessera-systolic-tile)' | FileCheck %s
// CHECK: keeps-result.mlir: ok: 'builtin.module(tessera-linalg-to-systolic{rows=4 cols=4},tessera-systolic-tile)' keeps the result (max abs difference {{.+}})

// The same through the umbrella command.
// RUN: tessera check %s --pass-pipeline='builtin.module(tessera-linalg-to-systolic)' | FileCheck %s --check-prefix=UMBRELLA
// UMBRELLA: ok: 'builtin.module(tessera-linalg-to-systolic)' keeps the result
func.func @main(%a: tensor<5x7xf32>, %b: tensor<7x9xf32>) -> tensor<5x9xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x9xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<5x9xf32>) -> tensor<5x9xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<5x7xf32>, tensor<7x9xf32>) outs(%c : tensor<5x9xf32>) -> tensor<5x9xf32>
  return %0 : tensor<5x9xf32>
}
