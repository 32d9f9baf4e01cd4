// Bad hardware: one `error:` line naming the field, non-zero exit, no traceback.
// RUN: not tessera-sim %s --hw gemini-16x16 2>&1 | FileCheck %s --check-prefix=PRESET
// RUN: not tessera-sim %s --rows 0 2>&1 | FileCheck %s --check-prefix=ROWS
// RUN: not tessera-sim %s --spad-bytes 100 2>&1 | FileCheck %s --check-prefix=SPAD
// RUN: not tessera-sim %s --dataflow xs 2>&1 | FileCheck %s --check-prefix=DATAFLOW
// RUN: not tessera-sim %s --grid 2by2 2>&1 | FileCheck %s --check-prefix=GRID
// RUN: not tessera-sim %s --spad-bytes 1024 --acc-bytes 256 2>&1 | FileCheck %s --check-prefix=FOLD -DFILE=%s

// PRESET: error: unknown npu preset 'gemini-16x16' (known presets: gemmini-16x16, tpu-128x128, grid-2x2-16x16); did you mean 'gemmini-16x16'
// ROWS: error: npu rows must be a positive integer, got 0
// SPAD: error: npu spad_bytes is 100 but one 16x16 array tile needs at least 256 bytes
// DATAFLOW: error: npu dataflow must be one of ws, os, is, got 'xs'
// GRID: error: --grid expects ROWSxCOLS, e.g. 2x2, got '2by2'
// FOLD: [[FILE]]:20:8: error: tessera-systolic-map: a 16x16 ws array cannot hold one fold of this matmul: it needs 1088 bytes of scratchpad (spad-bytes is 1024)
// CHECK-NOT: Traceback
func.func @main(%a: tensor<2x16xf32>, %b: tensor<16x16xf32>) -> tensor<2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x16xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<2x16xf32>) -> tensor<2x16xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<2x16xf32>, tensor<16x16xf32>) outs(%c : tensor<2x16xf32>) -> tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}
