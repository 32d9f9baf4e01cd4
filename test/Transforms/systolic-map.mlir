// RUN: tessera-opt %s --split-input-file --tessera-systolic-map="dataflows=ws+os" --tessera-systolic-tile --canonicalize | filecheck %s
// RUN: tessera-opt %s --split-input-file --tessera-systolic-map="strategy=heuristic" | filecheck %s --check-prefix=HEUR
// RUN: tessera-opt %s --split-input-file --tessera-systolic-map="grid-rows=2 grid-cols=2 strategy=heuristic" | filecheck %s --check-prefix=GRID
// RUN: tessera-opt %s --split-input-file --tessera-systolic-map="dataflows=ws+os print=true" -o /dev/null 2>&1 | filecheck %s --check-prefix=PRINT

// A hand-written mapping is followed as written, by either strategy: order mkn with tiles
// 32x16x32 keeps each 32x32 lhs tile resident while the n loop streams 32x16 rhs tiles
// past it, accumulates a 32x48 region that spans the n loop and moves it out once per m
// tile; one buffer of each kind.
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK-SAME: systolic.mapping = #systolic.mapping<[32, 16, 32], "mkn", [1, 1], "none">
// CHECK: %[[LHS:.+]] = memref.alloc() : memref<32x32xf32, #systolic.spad>
// CHECK: %[[RHS:.+]] = memref.alloc() : memref<32x16xf32, #systolic.spad>
// CHECK: %[[ACC:.+]] = memref.alloc() : memref<32x48xf32, #systolic.acc>
// CHECK: scf.for %[[M:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: "systolic.move_in"(%{{.+}}, %[[LHS]])
// CHECK-NEXT: scf.for %[[N:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: "systolic.move_in"(%{{.+}}, %[[RHS]])
// CHECK-COUNT-2: "systolic.compute"
// CHECK: }
// CHECK: memref.subview %{{.+}}[%[[M]], 0] [32, 48]
// CHECK-NEXT: "systolic.move_out"(%[[ACC]], %{{.+}})
// HEUR-LABEL: func.func @hand_written
// HEUR: systolic.mapping = #systolic.mapping<[32, 16, 32], "mkn", [1, 1], "none">
// PRINT: :[[# @LINE + 5]]:8: remark: 64x48x32 on 1 x 16x16: ws tiles 32x16x32, order mkn, buffers 1/1, split none: {{[0-9]+}} cycles (array busy 936), 12 folds, DRAM bytes lhs=8192 out=12288 rhs=12288, spad r/w 9216/5120, acc r/w 6144/6144; roofline 1664 cycles; as written in
func.func @hand_written(%a: tensor<64x32xf32>, %b: tensor<32x48xf32>) -> tensor<64x48xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x48xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x48xf32>) -> tensor<64x48xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[32, 16, 32], "mkn", [1, 1], "none">} : (tensor<64x32xf32>, tensor<32x48xf32>, tensor<64x48xf32>) -> tensor<64x48xf32>
  return %0 : tensor<64x48xf32>
}

// -----

// Without a mapping, the search picks one. On an array that also runs os, a 256^3 GEMM
// goes output-stationary: the result stays in the accumulator while the whole reduction
// streams through, so it moves out once. The heuristic keeps the preset's ws nest: R x C
// rhs blocks stationary, lhs rows streamed in the longest chunk that fits.
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK-SAME: systolic.mapping = #systolic.mapping<[[MAPPING:.+]]>
// CHECK: "systolic.preload"{{.*}}"os"
// HEUR-LABEL: func.func @searched
// HEUR: array = #systolic.array<16 : i64, 16 : i64, "ws">
// HEUR-SAME: systolic.mapping = #systolic.mapping<[256, 16, 16], "nmk", [2, 2], "none">
// PRINT: remark: 256x256x256 on 1 x 16x16: os tiles {{.+}} cycles{{.*}}; roofline 73215 cycles; search: {{[0-9]+}} candidates ranked, {{[0-9]+}} timed in
func.func @searched(%a: tensor<256x256xf32>, %b: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x256xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<256x256xf32>) -> tensor<256x256xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<256x256xf32>, tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %0 : tensor<256x256xf32>
}

// -----

// A batched matmul: on one unit nothing is split; on a 2x2 grid the batch is the loop
// dealt to the units.
// HEUR-LABEL: func.func @batched
// HEUR: systolic.mapping = #systolic.mapping<[8, 16, 16], "nmk", [2, 2], "none">
// GRID-LABEL: func.func @batched
// GRID: systolic.mapping = #systolic.mapping<[8, 16, 16], "nmk", [2, 2], "b">
// PRINT: remark: 8x16x16 (batch 4) on 1 x 16x16
func.func @batched(%a: tensor<4x8x16xf32>, %b: tensor<4x16x16xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8x16xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8x16xf32>, tensor<4x16x16xf32>, tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %0 : tensor<4x8x16xf32>
}
