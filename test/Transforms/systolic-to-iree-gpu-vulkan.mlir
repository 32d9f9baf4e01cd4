// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-iree-gpu="gpu=vulkan-ampere" | FileCheck %s --check-prefix=VULKAN

// Vulkan: an f16 matmul on the 16x16 array becomes cooperative-matrix tiles (in
// elements, per level: workgroup, subgroup, K step, intrinsic).
// VULKAN-LABEL: func.func @f16_matmul_gets_cooperative_matrix_tiles
// VULKAN: linalg.matmul {tile.gpu = #tile.gpu_tiles<"CooperativeMatrixVectorize", "NV_WMMA_F32_16x16x16_F16", [64, 64], [32, 32], [], [0, 0, 32], [16, 16, 16], [64, 2, 1], 32 : i64, 1 : i64>}
func.func @f16_matmul_gets_cooperative_matrix_tiles(%a: tensor<128x64xf16>, %b: tensor<64x128xf16>, %c: tensor<128x128xf32>) -> tensor<128x128xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<128x64xf16>, tensor<64x128xf16>, tensor<128x128xf32>) -> tensor<128x128xf32>
  return %0 : tensor<128x128xf32>
}

// -----

// Vulkan's promoted SIMT pipeline needs N and K in 4-wide vectors: with N = 3 tessera
// leaves the matmul to IREE's own choice (plain linalg, no tiles).
// VULKAN-LABEL: func.func @unaligned_f32_matmul_is_left_to_iree_on_vulkan
// VULKAN: linalg.matmul ins
// VULKAN-NOT: tile.gpu
// VULKAN-NOT: systolic.matmul
func.func @unaligned_f32_matmul_is_left_to_iree_on_vulkan(%a: tensor<6x10xf32>, %b: tensor<10x3xf32>, %c: tensor<6x3xf32>) -> tensor<6x3xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<6x10xf32>, tensor<10x3xf32>, tensor<6x3xf32>) -> tensor<6x3xf32>
  return %0 : tensor<6x3xf32>
}
