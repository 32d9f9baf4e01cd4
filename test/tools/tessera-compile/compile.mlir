// tessera-compile runs a model from a Python file, or an .mlir file, end to end.
// RUN: tessera-compile %S/../../../examples/models.py:mlp | FileCheck %s --check-prefix=MODEL
// RUN: tessera-compile %S/../../../examples/models.py:mlp --emit linalg | FileCheck %s --check-prefix=LINALG
// RUN: tessera-compile %s | FileCheck %s --check-prefix=MLIR

// MODEL: target iree-cpu: compile {{[0-9.]+}} s (import {{[0-9.]+}}, passes {{[0-9.]+}}, backend {{[0-9.]+}})
// MODEL: max abs error vs PyTorch eager {{[0-9]\.[0-9]+e-(0[5-9]|[1-9][0-9])|0\.00e\+00}}
// LINALG: func.func @main(%{{.+}}: tensor<8x64xf32>) -> tensor<8x32xf32>
// LINALG: linalg.matmul
// MLIR: target iree-cpu: compile
// MLIR: max abs error vs the IREE reference 0.00e+00
func.func @main(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x4xf32>) outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
