// How much of the streamed dim (here M = 40, ws) one block holds follows the memories.
// RUN: tessera-opt %s --tessera-systolic-tile | FileCheck %s --check-prefix=ROOMY
// RUN: tessera-opt %s --tessera-systolic-tile="double-buffer=false" | FileCheck %s --check-prefix=SINGLE
// RUN: tessera-opt %s --tessera-systolic-tile="spad-bytes=2048 acc-bytes=1024" | FileCheck %s --check-prefix=SMALL

// Everything fits twice: all 40 rows in one block, two buffers of each.
// ROOMY-COUNT-2: memref.alloc() : memref<40x16xf32, #systolic.spad>
// ROOMY-COUNT-2: memref.alloc() : memref<16x16xf32, #systolic.spad>
// ROOMY-COUNT-2: memref.alloc() : memref<40x16xf32, #systolic.acc>
// ROOMY: arith.select

// SINGLE: memref.alloc() : memref<40x16xf32, #systolic.spad>
// SINGLE-NEXT: memref.alloc() : memref<16x16xf32, #systolic.spad>
// SINGLE-NEXT: memref.alloc() : memref<40x16xf32, #systolic.acc>
// SINGLE-NOT: memref.alloc
// SINGLE-NOT: arith.select

// (16 x 16 + 16 x 16) f32 = 2048 bytes of scratchpad and 16 x 16 x 4 = 1024 of accumulator
// leave room for one 16-row block, single-buffered; the 40 rows take three blocks.
// SMALL: memref.alloc() : memref<16x16xf32, #systolic.spad>
// SMALL-NEXT: memref.alloc() : memref<16x16xf32, #systolic.spad>
// SMALL-NEXT: memref.alloc() : memref<16x16xf32, #systolic.acc>
// SMALL-NOT: memref.alloc
// SMALL: scf.for %{{.+}} = %{{.+}} to %c40{{.*}} step %c16
func.func @rows_per_block_follow_the_memories(%a: tensor<40x24xf32>, %b: tensor<24x20xf32>) -> tensor<40x20xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<40x20xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<40x20xf32>) -> tensor<40x20xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<40x24xf32>, tensor<24x20xf32>, tensor<40x20xf32>) -> tensor<40x20xf32>
  return %0 : tensor<40x20xf32>
}
