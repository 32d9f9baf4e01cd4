// RUN: tessera-opt %s --tessera-memref-copy-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @strided_copy_becomes_linalg_copy
// CHECK-SAME: (%[[SRC:.+]]: memref<4x4xf32, strided<[8, 1]>>, %[[DST:.+]]: memref<4x4xf32>)
// CHECK: linalg.copy {{.*}}ins(%[[SRC]] : memref<4x4xf32, strided<[8, 1]>>) outs(%[[DST]] : memref<4x4xf32>)
// CHECK-NOT: memref.copy
func.func @strided_copy_becomes_linalg_copy(%src: memref<4x4xf32, strided<[8, 1]>>, %dst: memref<4x4xf32>) {
  memref.copy %src, %dst : memref<4x4xf32, strided<[8, 1]>> to memref<4x4xf32>
  return
}
