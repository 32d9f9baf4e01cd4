// tessera-compile --all-targets: one row per target (status, compile s, run ms, max
// error, what the target measures); targets this machine cannot use say why. Each
// target's row is what this machine allows: run and measured where it has QEMU, AMX or
// a GPU, compile-only or unavailable (with the reason) where not; cpu-amx runs on AMX
// or a vector engine (AVX-512, AVX2) and says which.
// RUN: tessera-compile %s --all-targets | FileCheck %s --check-prefixes=CHECK,%if qemu %{QEMU%} %else %{NO-QEMU%},%if amx %{AMX%} %else %{%if cpu-amx %{VECTOR%} %else %{NO-AMX%}%},%if gpu-cuda %{CUDA%} %else %{NO-CUDA%}
// CHECK: model      target      status
// CHECK-DAG: all-targets  iree-cpu    ok
// CHECK-DAG: all-targets  npu-sim     ok {{.*}} cycles, PE util
// QEMU-DAG: all-targets  riscv       ok {{.*}} instructions, {{[0-9]+}} LMUL-weighted (RVV VLEN 256)
// NO-QEMU-DAG: all-targets  riscv       compile-only {{.*}} not found
// AMX-DAG: all-targets  cpu-amx     ok
// VECTOR-DAG: all-targets  cpu-amx     ok {{.*}} {{AVX-512|AVX2}} vector kernels
// NO-AMX-DAG: all-targets  cpu-amx     unavailable {{.*}} this CPU has no AMX
// CUDA-DAG: all-targets  gpu-cuda    ok
// NO-CUDA-DAG: all-targets  gpu-cuda    compile-only {{.*}} cuda driver
// CHECK-NOT: mismatch
// CHECK-NOT: error
func.func @main(%a: tensor<6x10xf32>, %b: tensor<10x3xf32>) -> tensor<6x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x3xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<6x3xf32>) -> tensor<6x3xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<6x10xf32>, tensor<10x3xf32>) outs(%c : tensor<6x3xf32>) -> tensor<6x3xf32>
  return %0 : tensor<6x3xf32>
}
