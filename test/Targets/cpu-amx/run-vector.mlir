// REQUIRES: cpu-amx-avx2
// The same int8 GEMM with edges on the vector engines (AVX2 here; AVX-512 too where the
// CPU has it), run and compared with iree-cpu (exact).
// RUN: tessera-compile %s --target cpu-amx --hw avx2 | FileCheck %s
// RUN: %if cpu-amx-avx512 %{ tessera-compile %s --target cpu-amx --hw avx512 | FileCheck %s %}
// CHECK: target cpu-amx: compile
// CHECK: run {{.*}} ms, max abs error vs the IREE reference 0.00e+00
func.func @main(%a: tensor<70x300xi8>, %b: tensor<300x50xi8>) -> tensor<70x50xi32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<70x50xi32>
  %c = linalg.fill ins(%zero : i32) outs(%e : tensor<70x50xi32>) -> tensor<70x50xi32>
  %0 = linalg.matmul ins(%a, %b : tensor<70x300xi8>, tensor<300x50xi8>) outs(%c : tensor<70x50xi32>) -> tensor<70x50xi32>
  return %0 : tensor<70x50xi32>
}
