// Compile-only: tessera's tiles, MMA intrinsic and pipelining depth are what IREE's
// codegen uses for the dispatch (its dumped configuration), on all three GPU targets.
// RUN: %python -m tessera.targets.gpu %s --target gpu-cuda | FileCheck %s --check-prefix=CUDA
// RUN: %python -m tessera.targets.gpu %s --target gpu-cuda --hw h100 | FileCheck %s --check-prefix=H100
// RUN: %python -m tessera.targets.gpu %s --target gpu-rocm | FileCheck %s --check-prefix=ROCM
// RUN: %python -m tessera.targets.gpu %s --target gpu-vulkan | FileCheck %s --check-prefix=VULKAN
// RUN: %python -m tessera.targets.gpu %s --target gpu-cuda --print input | FileCheck %s --check-prefix=INPUT
// RUN: not %python -m tessera.targets.gpu %s --target gpu-rocm --hw a100 2>&1 | FileCheck %s --check-prefix=WRONGAPI

// CUDA: arch = "sm_80"
// CUDA: translation_info = #iree_codegen.translation_info<pipeline = #iree_gpu.pipeline<TileAndFuse> workgroup_size = [128, 1, 1] subgroup_size = 32, {gpu_pipeline_options = #iree_gpu.pipeline_options<prefetch_num_stages = 2>}>
// CUDA: lowering_config = #iree_gpu.lowering_config<{mma_kind = #iree_gpu.mma_layout<NV_MMA_SYNC_F32_16x8x16_F16>, promote_operands = [0, 1], reduction = [0, 0, 4], subgroup = [4, 8, 0], workgroup = [128, 128, 0]}>

// Hopper is described to IREE in full (IREE 3.13 has no sm_90 entry); 3 stages in flight.
// H100: #iree_gpu.target<arch = "sm_90", features = "+ptx80"
// H100-SAME: max_workgroup_memory_bytes = 232448
// H100: prefetch_num_stages = 3
// H100: workgroup = [128, 128, 0]

// ROCM: arch = "gfx942"
// ROCM: workgroup_size = [256, 1, 1] subgroup_size = 64
// ROCM: lowering_config = #iree_gpu.lowering_config<{mma_kind = #iree_gpu.mma_layout<MFMA_F32_16x16x16_F16>, promote_operands = [0, 1], reduction = [0, 0, 2], subgroup = [4, 4, 0], workgroup = [128, 128, 0]}>

// VULKAN: #iree_gpu.spirv_pipeline<CooperativeMatrixVectorize> workgroup_size = [64, 2, 1] subgroup_size = 32, {pipeline_depth = 1 : i64, store_stage = 0 : i64}
// VULKAN: lowering_config = #iree_codegen.lowering_config<tile_sizes = {{\[}}[64, 64], [32, 32], [0, 0, 32], [16, 16, 16]]>

// INPUT: linalg.matmul {compilation_info = #iree_codegen.compilation_info<lowering_config = #iree_gpu.lowering_config<{workgroup = [128, 128, 0], reduction = [0, 0, 4]
// INPUT-NOT: tile.gpu

// WRONGAPI: error: gpu config 'a100' is for cuda, not rocm

func.func @main(%a: tensor<256x512xf16>, %b: tensor<512x256xf16>) -> tensor<256x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x256xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<256x256xf32>) -> tensor<256x256xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<256x512xf16>, tensor<512x256xf16>) outs(%c : tensor<256x256xf32>) -> tensor<256x256xf32>
  return %0 : tensor<256x256xf32>
}
