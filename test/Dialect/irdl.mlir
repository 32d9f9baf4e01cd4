// The IRDL that `tessera-opt --dump-irdl` prints lets a plain MLIR tool load both
// dialects: torch-mlir-opt parses and verifies this file with it, and prints what
// tessera-opt prints.
// RUN: tessera-opt --dump-irdl -o %t.irdl
// RUN: FileCheck %s --check-prefix=IRDL < %t.irdl
// RUN: %torch-mlir-opt --irdl-file=%t.irdl %s | FileCheck %s
// RUN: tessera-opt %s | FileCheck %s

// IRDL-LABEL: irdl.dialect @systolic
// IRDL: irdl.attribute @array
// IRDL: irdl.attribute @spad
// IRDL: irdl.attribute @acc
// IRDL: irdl.operation @matmul
// IRDL: irdl.operands(lhs: %{{.+}}, rhs: %{{.+}}, acc: %{{.+}}, bias: optional %{{.+}})
// IRDL: irdl.operation @move_in
// IRDL: irdl.operation @preload
// IRDL: irdl.operation @compute
// IRDL: irdl.operation @move_out
// IRDL: irdl.operation @fence
// IRDL-LABEL: irdl.dialect @tile
// IRDL: irdl.attribute @grid
// IRDL: irdl.attribute @local
// IRDL: irdl.operation @launch
// IRDL: irdl.operation @yield
// IRDL: irdl.operation @alloc
// IRDL: irdl.operation @dma

// CHECK-LABEL: func.func @requantized_matmul
// CHECK: "systolic.matmul"{{.*}}epilogue = {relu, scale = 5.000000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 1, 1>, transpose = [false, true]}
func.func @requantized_matmul(%a: tensor<4x8xi8>, %b: tensor<16x8xi8>, %c: tensor<4x16xi32>, %bias: tensor<16xi32>) -> tensor<4x16xi8> {
  %r = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, true], epilogue = {relu, scale = 5.000000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<4x8xi8>, tensor<16x8xi8>, tensor<4x16xi32>, tensor<16xi32>) -> tensor<4x16xi8>
  return %r : tensor<4x16xi8>
}

// CHECK-LABEL: func.func @dma_both_directions
// CHECK: "tile.dma"(%{{.*}}) : (memref<4x4xf32>, memref<4x4xf32, #tile.local>) -> ()
// CHECK: "tile.dma"(%{{.*}}) : (memref<4x4xf32, #tile.local>, memref<4x4xf32>) -> ()
func.func @dma_both_directions(%g: memref<4x4xf32>, %l: memref<4x4xf32, #tile.local>) {
  "tile.dma"(%g, %l) : (memref<4x4xf32>, memref<4x4xf32, #tile.local>) -> ()
  "tile.dma"(%l, %g) : (memref<4x4xf32, #tile.local>, memref<4x4xf32>) -> ()
  return
}

// CHECK-LABEL: func.func @isa_block
// CHECK: "systolic.move_in"(%{{.*}}) : (memref<16x16xi8>, memref<16x16xi8, #systolic.spad>)
// CHECK: "systolic.preload"(%{{.*}}) {array = #systolic.array<16 : i64, 16 : i64, "ws">}
// CHECK: "systolic.compute"(%{{.*}}) {accumulate = false, array = #systolic.array<16 : i64, 16 : i64, "ws">}
// CHECK: "systolic.move_out"(%{{.*}}) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi32>)
// CHECK: "systolic.fence"() : () -> ()
func.func @isa_block(%a: memref<16x16xi8>, %w: memref<16x16xi8>, %sa: memref<16x16xi8, #systolic.spad>, %sb: memref<16x16xi8, #systolic.spad>, %acc: memref<16x16xi32, #systolic.acc>, %out: memref<16x16xi32>) {
  "systolic.move_in"(%a, %sa) : (memref<16x16xi8>, memref<16x16xi8, #systolic.spad>) -> ()
  "systolic.move_in"(%w, %sb) : (memref<16x16xi8>, memref<16x16xi8, #systolic.spad>) -> ()
  "systolic.preload"(%sb) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<16x16xi8, #systolic.spad>) -> ()
  "systolic.compute"(%sa, %sb, %acc) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<16x16xi8, #systolic.spad>, memref<16x16xi8, #systolic.spad>, memref<16x16xi32, #systolic.acc>) -> ()
  "systolic.move_out"(%acc, %out) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi32>) -> ()
  "systolic.fence"() : () -> ()
  return
}
