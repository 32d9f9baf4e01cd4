// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-iree-gpu | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-iree-gpu="gpu=a100,tile_m=64,tile_n=32,pipeline_depth=3" | FileCheck %s --check-prefix=SMALL
// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-iree-gpu="gpu=mi300" | FileCheck %s --check-prefix=MI300

// The a100 preset: mma.sync 16x8x16 on a 16x8 array, a 128x128 tile over 2x2 subgroups
// (each 64x64: 4x8 intrinsics), K steps of 64 (4 intrinsics), 2 stages in flight.
// CHECK-LABEL: func.func @bf16_matmul_gets_tensor_core_tiles
// CHECK: linalg.matmul {tile.gpu = #tile.gpu_tiles<"TileAndFuse", "NV_MMA_SYNC_F32_16x8x16_BF16", [128, 128, 0], [4, 8, 0], [], [0, 0, 4], [], [128, 1, 1], 32 : i64, 2 : i64>}
// CHECK-NOT: systolic.matmul
// SMALL-LABEL: func.func @bf16_matmul_gets_tensor_core_tiles
// SMALL: #tile.gpu_tiles<"TileAndFuse", "{{.+}}", [64, 32, 0], [2, 2, 0], [], [0, 0, 4], [], [{{.+}}], 32 : i64, 3 : i64>
// The mi300 preset has no 16x8 intrinsic: the 16x8 array gets SIMT tiles there.
// MI300-LABEL: func.func @bf16_matmul_gets_tensor_core_tiles
// MI300: tile.gpu = #tile.gpu_tiles<"TileAndFuse", "", [32, 128, 0], [], [4, 4, 0], [0, 0, {{[0-9]+}}], [], [256, 1, 1], 64 : i64
func.func @bf16_matmul_gets_tensor_core_tiles(%a: tensor<256x512xbf16>, %b: tensor<512x256xbf16>, %c: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 8 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<256x512xbf16>, tensor<512x256xbf16>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %0 : tensor<256x256xf32>
}

// -----

// On a 16x16 array mi300's MFMA 16x16x16 fits; 48 rows shrink the tile to 48, which
// two subgroups cannot split into whole intrinsics, so one subgroup takes 3.
// MI300-LABEL: func.func @tile_shrinks_to_divide_the_problem
// MI300: #tile.gpu_tiles<"TileAndFuse", "MFMA_F32_16x16x16_BF16", [48, 128, 0], [3, 4, 0], [], [{{.+}}], [], [128, 1, 1]
func.func @tile_shrinks_to_divide_the_problem(%a: tensor<48x64xbf16>, %b: tensor<64x256xbf16>, %c: tensor<48x256xf32>) -> tensor<48x256xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<48x64xbf16>, tensor<64x256xbf16>, tensor<48x256xf32>) -> tensor<48x256xf32>
  return %0 : tensor<48x256xf32>
}

// -----

// f32 has no tensor-core intrinsic on NVIDIA: SIMT tiles, threads on 4-wide strips of N.
// The tiles go on the contraction, not on the epilogue that follows it.
// CHECK-LABEL: func.func @f32_matmul_with_epilogue_gets_simt_tiles
// CHECK: %[[MM:.+]] = linalg.matmul {tile.gpu = #tile.gpu_tiles<"TileAndFuse", "", [8, 128, 0], [], [1, 4, 0], [0, 0, 32], [], [256, 1, 1], 32 : i64, 2 : i64>}
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[MM]],
// CHECK-NOT: tile.gpu
// CHECK: arith.maximumf
func.func @f32_matmul_with_epilogue_gets_simt_tiles(%a: tensor<8x64xf32>, %b: tensor<64x128xf32>, %c: tensor<8x128xf32>, %bias: tensor<128xf32>) -> tensor<8x128xf32> {
  %0 = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 8 : i64, "os">, transpose = [false, false], epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<8x64xf32>, tensor<64x128xf32>, tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  return %0 : tensor<8x128xf32>
}

// -----

// A batch dim is tiled by one workgroup per batch entry.
// CHECK-LABEL: func.func @batched_matmul_tiles_one_batch_per_workgroup
// CHECK: linalg.batch_matmul {tile.gpu = #tile.gpu_tiles<"TileAndFuse", "{{.+}}", [1, 64, 64, 0], [0, 2, 4, 0], [], [0, 0, 0, 4]
func.func @batched_matmul_tiles_one_batch_per_workgroup(%a: tensor<4x64x64xf16>, %b: tensor<4x64x64xf16>, %c: tensor<4x64x64xf32>) -> tensor<4x64x64xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 8 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x64x64xf16>, tensor<4x64x64xf16>, tensor<4x64x64xf32>) -> tensor<4x64x64xf32>
  return %0 : tensor<4x64x64xf32>
}
