// RUN: tessera-opt %s --split-input-file | tessera-opt --split-input-file | FileCheck %s

// Round trips of every tile op and attribute (parse, print, re-parse).

// CHECK-LABEL: func.func @dma_global_to_local_and_back
// CHECK: "tile.dma"(%{{.*}}) : (memref<4x4xf32>, memref<4x4xf32, #tile.local>) -> ()
// CHECK: "tile.dma"(%{{.*}}) : (memref<4x4xf32, #tile.local>, memref<4x4xf32>) -> ()
func.func @dma_global_to_local_and_back(%g: memref<4x4xf32>, %l: memref<4x4xf32, #tile.local>) {
  "tile.dma"(%g, %l) : (memref<4x4xf32>, memref<4x4xf32, #tile.local>) -> ()
  "tile.dma"(%l, %g) : (memref<4x4xf32, #tile.local>, memref<4x4xf32>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @empty_launch
// CHECK: "tile.launch"() ({
// CHECK: ^bb0(%{{.+}}: index, %{{.+}}: index):
// CHECK: "tile.yield"() : () -> ()
// CHECK: }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
func.func @empty_launch() {
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

// CHECK-LABEL: func.func @launch_with_dma_both_directions
// CHECK: "tile.launch"() ({
// CHECK: "tile.dma"(%{{.*}}) : (memref<4x4xf32>, memref<4x4xf32, #tile.local>) -> ()
// CHECK: "tile.dma"(%{{.*}}) : (memref<4x4xf32, #tile.local>, memref<4x4xf32>) -> ()
// CHECK: "tile.yield"
// CHECK: }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>}
func.func @launch_with_dma_both_directions(%g: memref<4x4xf32>, %l: memref<4x4xf32, #tile.local>) {
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.dma"(%g, %l) : (memref<4x4xf32>, memref<4x4xf32, #tile.local>) -> ()
    "tile.dma"(%l, %g) : (memref<4x4xf32, #tile.local>, memref<4x4xf32>) -> ()
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

// A 1x4 grid of units, each driving its own systolic array.
// CHECK-LABEL: func.func @launch_with_systolic_isa
// CHECK: "tile.launch"() ({
// CHECK: "systolic.move_in"
// CHECK: "systolic.preload"
// CHECK: "systolic.compute"
// CHECK: "systolic.move_out"
// CHECK: "systolic.fence"
// CHECK: "tile.yield"
// CHECK: }) {grid = #tile.grid<1 : i64, 4 : i64, 262144 : i64, 64 : i64>}
func.func @launch_with_systolic_isa(%a: memref<16x16xi8>, %b: memref<16x16xi8>, %out: memref<16x16xi8>, %sa: memref<16x16xi8, #systolic.spad>, %sb: memref<16x16xi8, #systolic.spad>, %acc: memref<16x16xi32, #systolic.acc>) {
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "systolic.move_in"(%a, %sa) : (memref<16x16xi8>, memref<16x16xi8, #systolic.spad>) -> ()
    "systolic.move_in"(%b, %sb) : (memref<16x16xi8>, memref<16x16xi8, #systolic.spad>) -> ()
    "systolic.preload"(%sb) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<16x16xi8, #systolic.spad>) -> ()
    "systolic.compute"(%sa, %sb, %acc) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<16x16xi8, #systolic.spad>, memref<16x16xi8, #systolic.spad>, memref<16x16xi32, #systolic.acc>) -> ()
    "systolic.move_out"(%acc, %out) {epilogue = {relu, scale = 6.250000e-02 : f32}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi8>) -> ()
    "systolic.fence"() : () -> ()
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<1 : i64, 4 : i64, 262144 : i64, 64 : i64>} : () -> ()
  return
}

// -----

// CHECK-LABEL: func.func @launch_with_local_buffers
// CHECK: "tile.launch"()
// CHECK: %[[L:.+]] = "tile.alloc"() : () -> memref<16x16xf32, #tile.local>
// CHECK: "tile.dma"(%{{.+}}, %[[L]])
// CHECK: "tile.dma"(%[[L]], %{{.+}})
// CHECK: "tile.yield"
// CHECK: grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>
func.func @launch_with_local_buffers(%in: memref<16x16xf32>, %out: memref<16x16xf32>) {
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    %l = "tile.alloc"() : () -> memref<16x16xf32, #tile.local>
    "tile.dma"(%in, %l) : (memref<16x16xf32>, memref<16x16xf32, #tile.local>) -> ()
    "tile.dma"(%l, %out) : (memref<16x16xf32, #tile.local>, memref<16x16xf32>) -> ()
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}
