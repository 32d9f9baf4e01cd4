// tessera's ops have no custom syntax; writing one that way gets a located hint.
// RUN: not tessera-opt %s 2>&1 | FileCheck %s -DFILE=%s

// CHECK: [[FILE]]:9:8: error: 'systolic.matmul' must be written in MLIR's generic form, e.g. "systolic.matmul"(...)
// CHECK-NOT: Traceback
// CHECK-NOT: Unable to parse

func.func @custom_form(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = systolic.matmul %a, %b, %c : tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}
