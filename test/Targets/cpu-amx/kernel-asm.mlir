// The kernels' machine code for Sapphire Rapids (printed, not run: works without AMX):
// the x86.amx ops reach real AMX instructions (tileloadd, tdpbssd / tdpbf16ps,
// tilestored) with the tile configuration (ldtilecfg) written by LLVM.
// RUN: %python -m tessera.targets.cpu_amx %s | FileCheck %s
// RUN: %python -m tessera.targets.cpu_amx %s --hw amx-bf16 | FileCheck %s --check-prefix=BF16
// RUN: not %python -m tessera.targets.cpu_amx %s --hw amx-f64 2>&1 | FileCheck %s --check-prefix=BADHW
// RUN: %python -m tessera.targets.cpu_amx %s | FileCheck %s --check-prefix=CFG
// CHECK-LABEL: amx_kernel_0:
// CHECK: ldtilecfg
// CHECK: tileloadd
// CHECK: tdpbssd %tmm{{[0-7]}}, %tmm{{[0-7]}}, %tmm{{[0-7]}}
// CHECK: tilestored
// CHECK-LABEL: amx_kernel_1:
// CHECK: ldtilecfg
// CHECK: tileloadd
// CHECK: tdpbf16ps %tmm{{[0-7]}}, %tmm{{[0-7]}}, %tmm{{[0-7]}}
// CHECK: tilestored
// CHECK: .section
// The f32 matmul stays off AMX unless bf16 is asked for.
// CHECK-NOT: amx_kernel_2:
// BF16: amx_kernel_2:
// BF16: tdpbf16ps
// Exactly one tile configuration per function (its C-interface wrapper, which inlines
// the kernel, has its own):
// CFG-LABEL: amx_kernel_0:
// CFG: ldtilecfg
// CFG-NOT: ldtilecfg
// CFG: .Lfunc_end
// CFG-LABEL: _mlir_ciface_amx_kernel_0:
// CFG-LABEL: amx_kernel_1:
// CFG: ldtilecfg
// CFG-NOT: ldtilecfg
// CFG: .Lfunc_end
// BADHW: error: unknown amx preset 'amx-f64'
func.func @main(%a: tensor<64x128xi8>, %b: tensor<128x64xi8>, %x: tensor<40x70xbf16>, %y: tensor<70x50xbf16>, %p: tensor<32x32xf32>, %q: tensor<32x32xf32>) -> (tensor<64x64xi32>, tensor<40x50xf32>, tensor<32x32xf32>) {
  %zi = arith.constant 0 : i32
  %zf = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<64x64xi32>
  %c0 = linalg.fill ins(%zi : i32) outs(%e0 : tensor<64x64xi32>) -> tensor<64x64xi32>
  %r0 = linalg.matmul ins(%a, %b : tensor<64x128xi8>, tensor<128x64xi8>) outs(%c0 : tensor<64x64xi32>) -> tensor<64x64xi32>
  %e1 = tensor.empty() : tensor<40x50xf32>
  %c1 = linalg.fill ins(%zf : f32) outs(%e1 : tensor<40x50xf32>) -> tensor<40x50xf32>
  %r1 = linalg.matmul ins(%x, %y : tensor<40x70xbf16>, tensor<70x50xbf16>) outs(%c1 : tensor<40x50xf32>) -> tensor<40x50xf32>
  %e2 = tensor.empty() : tensor<32x32xf32>
  %c2 = linalg.fill ins(%zf : f32) outs(%e2 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %r2 = linalg.matmul ins(%p, %q : tensor<32x32xf32>, tensor<32x32xf32>) outs(%c2 : tensor<32x32xf32>) -> tensor<32x32xf32>
  return %r0, %r1, %r2 : tensor<64x64xi32>, tensor<40x50xf32>, tensor<32x32xf32>
}
