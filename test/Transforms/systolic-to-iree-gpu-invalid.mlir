// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-iree-gpu="gpu=vulkan-ampere" --verify-diagnostics
// RUN: not tessera-opt %s --tessera-systolic-to-iree-gpu="gpu=h200" 2>&1 | FileCheck %s --check-prefix=PRESET
// RUN: not tessera-opt %s --tessera-systolic-to-iree-gpu="gpu=a100,tile_m=100,subgroups_m=3" 2>&1 | FileCheck %s --check-prefix=TILE
// PRESET: error: tessera-systolic-to-iree-gpu: unknown gpu preset 'h200' (known presets: a100, h100, mi300, vulkan-ampere, vulkan-rdna3); did you mean 'h100'?
// TILE: error: tessera-systolic-to-iree-gpu: gpu tile_m (100) must be a multiple of subgroups_m (3)

// IREE's SPIR-V backend has no bf16.
func.func @bf16_is_not_supported_on_vulkan(%a: tensor<32x32xbf16>, %b: tensor<32x32xbf16>, %c: tensor<32x32xf32>) -> tensor<32x32xf32> {
  // expected-error @+1 {{tessera-systolic-to-iree-gpu: bf16·bf16→f32 matmuls are not supported on vulkan (supported: f16·f16→f32, f32·f32→f32, i8·i8→i32)}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<32x32xf32>) -> tensor<32x32xf32>
  return %0 : tensor<32x32xf32>
}
