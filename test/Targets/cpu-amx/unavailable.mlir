// UNSUPPORTED: amx
// Without AMX, the AMX engine asked for by name says so, and why, and exits non-zero
// without a traceback (auto would take a vector engine where the CPU has one).
// RUN: not tessera-compile %s --target cpu-amx --hw amx,engine=amx 2>&1 | FileCheck %s
// CHECK: error: target cpu-amx with engine amx cannot run here: this CPU has no AMX ({{.*}} missing from /proc/cpuinfo)
// CHECK-NOT: Traceback
func.func @main(%a: tensor<32x64xi8>, %b: tensor<64x32xi8>) -> tensor<32x32xi32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<32x32xi32>
  %c = linalg.fill ins(%zero : i32) outs(%e : tensor<32x32xi32>) -> tensor<32x32xi32>
  %0 = linalg.matmul ins(%a, %b : tensor<32x64xi8>, tensor<64x32xi8>) outs(%c : tensor<32x32xi32>) -> tensor<32x32xi32>
  return %0 : tensor<32x32xi32>
}
