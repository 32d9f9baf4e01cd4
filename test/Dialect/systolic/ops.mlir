// RUN: tessera-opt %s --split-input-file | tessera-opt --split-input-file | FileCheck %s

// Round trips of every systolic op and attribute (parse, print, re-parse).

// CHECK-LABEL: func.func @matmul_bf16_to_f32
// CHECK: %[[RES:.+]] = "systolic.matmul"({{.*}}) {array = #systolic.array<16 : i64, 16 : i64, "ws">, {{.*}}transpose = [false, false]} : (tensor<4x8xbf16>, tensor<8x16xbf16>, tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK: return %[[RES]]
func.func @matmul_bf16_to_f32(%a: tensor<4x8xbf16>, %b: tensor<8x16xbf16>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xbf16>, tensor<8x16xbf16>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @batched_matmul_bf16_to_f32
// CHECK: "systolic.matmul"{{.*}} : (tensor<2x4x8xbf16>, tensor<2x8x16xbf16>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
func.func @batched_matmul_bf16_to_f32(%a: tensor<2x4x8xbf16>, %b: tensor<2x8x16xbf16>, %c: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x4x8xbf16>, tensor<2x8x16xbf16>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %r : tensor<2x4x16xf32>
}

// -----

// CHECK-LABEL: func.func @matmul_i8_to_i32_output_stationary
// CHECK: "systolic.matmul"({{.*}}) {array = #systolic.array<8 : i64, 4 : i64, "os">, {{.*}} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi32>
func.func @matmul_i8_to_i32_output_stationary(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<8 : i64, 4 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi32>
  return %r : tensor<4x16xi32>
}

// -----

// CHECK-LABEL: func.func @batched_matmul_i8_to_i32
// CHECK: "systolic.matmul"{{.*}} : (tensor<3x4x8xi8>, tensor<3x8x16xi8>, tensor<3x4x16xi32>) -> tensor<3x4x16xi32>
func.func @batched_matmul_i8_to_i32(%a: tensor<3x4x8xi8>, %b: tensor<3x8x16xi8>, %c: tensor<3x4x16xi32>) -> tensor<3x4x16xi32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<3x4x8xi8>, tensor<3x8x16xi8>, tensor<3x4x16xi32>) -> tensor<3x4x16xi32>
  return %r : tensor<3x4x16xi32>
}

// -----

// CHECK-LABEL: func.func @matmul_f16_to_f32_input_stationary
// CHECK: "systolic.matmul"({{.*}}) {array = #systolic.array<16 : i64, 16 : i64, "is">, {{.*}} : (tensor<4x8xf16>, tensor<8x16xf16>, tensor<4x16xf32>) -> tensor<4x16xf32>
func.func @matmul_f16_to_f32_input_stationary(%a: tensor<4x8xf16>, %b: tensor<8x16xf16>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "is">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf16>, tensor<8x16xf16>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @batched_matmul_f16_to_f32
// CHECK: "systolic.matmul"{{.*}} : (tensor<2x4x8xf16>, tensor<2x8x16xf16>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
func.func @batched_matmul_f16_to_f32(%a: tensor<2x4x8xf16>, %b: tensor<2x8x16xf16>, %c: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "is">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x4x8xf16>, tensor<2x8x16xf16>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %r : tensor<2x4x16xf32>
}

// -----

// CHECK-LABEL: func.func @matmul_f32_to_f32
// CHECK: "systolic.matmul"{{.*}} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
func.func @matmul_f32_to_f32(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @batched_matmul_f32_to_f32
// CHECK: "systolic.matmul"{{.*}} : (tensor<2x4x8xf32>, tensor<2x8x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
func.func @batched_matmul_f32_to_f32(%a: tensor<2x4x8xf32>, %b: tensor<2x8x16xf32>, %c: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x4x8xf32>, tensor<2x8x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %r : tensor<2x4x16xf32>
}

// -----

// lhs is stored KxM (8x4) and read transposed.
// CHECK-LABEL: func.func @matmul_transposed_lhs
// CHECK: "systolic.matmul"{{.*}}transpose = [true, false]} : (tensor<8x4xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
func.func @matmul_transposed_lhs(%a: tensor<8x4xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [true, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<8x4xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// rhs is stored NxK (16x8) and read transposed.
// CHECK-LABEL: func.func @matmul_transposed_rhs
// CHECK: "systolic.matmul"{{.*}}transpose = [false, true]} : (tensor<4x8xbf16>, tensor<16x8xbf16>, tensor<4x16xf32>) -> tensor<4x16xf32>
func.func @matmul_transposed_rhs(%a: tensor<4x8xbf16>, %b: tensor<16x8xbf16>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, true], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xbf16>, tensor<16x8xbf16>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @batched_matmul_both_transposed
// CHECK: "systolic.matmul"{{.*}}transpose = [true, true]} : (tensor<2x8x4xi8>, tensor<2x16x8xi8>, tensor<2x4x16xi32>) -> tensor<2x4x16xi32>
func.func @batched_matmul_both_transposed(%a: tensor<2x8x4xi8>, %b: tensor<2x16x8xi8>, %c: tensor<2x4x16xi32>) -> tensor<2x4x16xi32> {
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "os">, transpose = [true, true], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x8x4xi8>, tensor<2x16x8xi8>, tensor<2x4x16xi32>) -> tensor<2x4x16xi32>
  return %r : tensor<2x4x16xi32>
}

// -----

// i8·i8 accumulates in i32, then bias, relu and requantize to an i8 result.
// CHECK-LABEL: func.func @matmul_bias_relu_requantize
// CHECK-SAME: %[[BIAS:[^:]+]]: tensor<16xi32>
// CHECK: "systolic.matmul"(%{{.*}}, %[[BIAS]]) {{.*}}epilogue = {relu, scale = 5.000000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 1, 1>{{.*}} -> tensor<4x16xi8>
func.func @matmul_bias_relu_requantize(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>, %bias: tensor<16xi32>) -> tensor<4x16xi8> {
  %r = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu, scale = 5.000000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>, tensor<16xi32>) -> tensor<4x16xi8>
  return %r : tensor<4x16xi8>
}

// -----

// CHECK-LABEL: func.func @batched_matmul_bias_relu_f32
// CHECK: "systolic.matmul"{{.*}}epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>
func.func @batched_matmul_bias_relu_f32(%a: tensor<2x4x8xf32>, %b: tensor<2x8x16xf32>, %c: tensor<2x4x16xf32>, %bias: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %r = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<2x4x8xf32>, tensor<2x8x16xf32>, tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  return %r : tensor<2x4x16xf32>
}

// -----

// A 10x12 block padded to the 16x16 scratchpad block.
// CHECK-LABEL: func.func @move_in_pads_to_spad
// CHECK: "systolic.move_in"(%{{.*}}) : (memref<10x12xi8>, memref<16x16xi8, #systolic.spad>) -> ()
func.func @move_in_pads_to_spad(%src: memref<10x12xi8>, %dst: memref<16x16xi8, #systolic.spad>) {
  "systolic.move_in"(%src, %dst) : (memref<10x12xi8>, memref<16x16xi8, #systolic.spad>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @move_in_to_acc
// CHECK: "systolic.move_in"(%{{.*}}) : (memref<16x16xi32>, memref<16x16xi32, #systolic.acc>) -> ()
func.func @move_in_to_acc(%src: memref<16x16xi32>, %dst: memref<16x16xi32, #systolic.acc>) {
  "systolic.move_in"(%src, %dst) : (memref<16x16xi32>, memref<16x16xi32, #systolic.acc>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @preload_weights
// CHECK: "systolic.preload"(%{{.*}}) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<8x16xi8, #systolic.spad>) -> ()
func.func @preload_weights(%w: memref<8x16xi8, #systolic.spad>) {
  "systolic.preload"(%w) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<8x16xi8, #systolic.spad>) -> ()
  return
}

// -----

// Output-stationary: the accumulator block is preloaded.
// CHECK-LABEL: func.func @preload_accumulator
// CHECK: "systolic.preload"(%{{.*}}) {array = #systolic.array<16 : i64, 16 : i64, "os">} : (memref<16x16xf32, #systolic.acc>) -> ()
func.func @preload_accumulator(%acc: memref<16x16xf32, #systolic.acc>) {
  "systolic.preload"(%acc) {array = #systolic.array<16 : i64, 16 : i64, "os">} : (memref<16x16xf32, #systolic.acc>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @compute_overwrite_then_accumulate
// CHECK: "systolic.compute"(%{{.*}}) {accumulate = false, array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
// CHECK: "systolic.compute"(%{{.*}}) {accumulate = true, array = #systolic.array<16 : i64, 16 : i64, "ws">}
func.func @compute_overwrite_then_accumulate(%a: memref<4x8xi8, #systolic.spad>, %b: memref<8x16xi8, #systolic.spad>, %c: memref<4x16xi32, #systolic.acc>) {
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = true} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

// Input-stationary needs K rows and M cols: 8x4 fits an 8x4 array.
// CHECK-LABEL: func.func @compute_input_stationary_bf16
// CHECK: "systolic.compute"(%{{.*}}) {accumulate = true, array = #systolic.array<8 : i64, 4 : i64, "is">} : (memref<4x8xbf16, #systolic.spad>, memref<8x32xbf16, #systolic.spad>, memref<4x32xf32, #systolic.acc>) -> ()
func.func @compute_input_stationary_bf16(%a: memref<4x8xbf16, #systolic.spad>, %b: memref<8x32xbf16, #systolic.spad>, %c: memref<4x32xf32, #systolic.acc>) {
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<8 : i64, 4 : i64, "is">, accumulate = true} : (memref<4x8xbf16, #systolic.spad>, memref<8x32xbf16, #systolic.spad>, memref<4x32xf32, #systolic.acc>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @move_out_plain
// CHECK: "systolic.move_out"(%{{.*}}) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xf32, #systolic.acc>, memref<10x12xf32>) -> ()
func.func @move_out_plain(%src: memref<16x16xf32, #systolic.acc>, %dst: memref<10x12xf32>) {
  "systolic.move_out"(%src, %dst) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xf32, #systolic.acc>, memref<10x12xf32>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @move_out_relu_requantize
// CHECK: "systolic.move_out"(%{{.*}}) {epilogue = {relu, scale = 2.500000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi8>) -> ()
func.func @move_out_relu_requantize(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x16xi8>) {
  "systolic.move_out"(%src, %dst) {epilogue = {relu, scale = 2.500000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi8>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @fence
// CHECK: "systolic.fence"() : () -> ()
func.func @fence() {
  "systolic.fence"() : () -> ()
  return
}

// -----

// One weight-stationary block, start to finish.
// CHECK-LABEL: func.func @isa_sequence
// CHECK: "systolic.move_in"
// CHECK: "systolic.move_in"
// CHECK: "systolic.preload"
// CHECK: "systolic.compute"
// CHECK: "systolic.move_out"
// CHECK: "systolic.fence"
func.func @isa_sequence(%a: memref<16x16xi8>, %b: memref<16x16xi8>, %out: memref<16x16xi8>) {
  %sa = memref.alloc() : memref<16x16xi8, #systolic.spad>
  %sb = memref.alloc() : memref<16x16xi8, #systolic.spad>
  %acc = memref.alloc() : memref<16x16xi32, #systolic.acc>
  "systolic.move_in"(%a, %sa) : (memref<16x16xi8>, memref<16x16xi8, #systolic.spad>) -> ()
  "systolic.move_in"(%b, %sb) : (memref<16x16xi8>, memref<16x16xi8, #systolic.spad>) -> ()
  "systolic.preload"(%sb) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<16x16xi8, #systolic.spad>) -> ()
  "systolic.compute"(%sa, %sb, %acc) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<16x16xi8, #systolic.spad>, memref<16x16xi8, #systolic.spad>, memref<16x16xi32, #systolic.acc>) -> ()
  "systolic.move_out"(%acc, %out) {epilogue = {scale = 1.250000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi8>) -> ()
  "systolic.fence"() : () -> ()
  return
}

// -----

// Edge blocks: the global side of a move may be dynamic, and so may the streamed dim of a compute.
// CHECK-LABEL: func.func @edge_blocks_and_bias_at_move_out
// CHECK: "systolic.move_in"(%{{.+}}, %{{.+}}) : (memref<?x?xf32, strided<[64, 1], offset: ?>>, memref<32x16xf32, #systolic.spad>) -> ()
// CHECK: "systolic.compute"{{.*}}(memref<?x16xf32, strided<[16, 1]>, #systolic.spad>, memref<16x16xf32, #systolic.spad>, memref<?x16xf32, strided<[16, 1]>, #systolic.acc>) -> ()
// CHECK: "systolic.move_out"{{.*}}operandSegmentSizes = array<i32: 1, 1, 1>
func.func @edge_blocks_and_bias_at_move_out(%g: memref<?x?xf32, strided<[64, 1], offset: ?>>, %a: memref<?x16xf32, strided<[16, 1]>, #systolic.spad>, %w: memref<16x16xf32, #systolic.spad>, %acc: memref<?x16xf32, strided<[16, 1]>, #systolic.acc>, %full: memref<32x16xf32, #systolic.acc>, %spad: memref<32x16xf32, #systolic.spad>, %out: memref<?x?xf32, strided<[64, 1], offset: ?>>, %bias: memref<?xf32, strided<[1], offset: ?>>) {
  "systolic.move_in"(%g, %spad) : (memref<?x?xf32, strided<[64, 1], offset: ?>>, memref<32x16xf32, #systolic.spad>) -> ()
  "systolic.preload"(%w) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<16x16xf32, #systolic.spad>) -> ()
  "systolic.compute"(%a, %w, %acc) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = true} : (memref<?x16xf32, strided<[16, 1]>, #systolic.spad>, memref<16x16xf32, #systolic.spad>, memref<?x16xf32, strided<[16, 1]>, #systolic.acc>) -> ()
  "systolic.move_out"(%full, %out, %bias) {epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1>} : (memref<32x16xf32, #systolic.acc>, memref<?x?xf32, strided<[64, 1], offset: ?>>, memref<?xf32, strided<[1], offset: ?>>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @is_preloads_the_lhs_block_transposed
// CHECK: "systolic.preload"{{.*}}"is"
func.func @is_preloads_the_lhs_block_transposed(%a: memref<32x8xi8, #systolic.spad>) {
  "systolic.preload"(%a) {array = #systolic.array<8 : i64, 32 : i64, "is">} : (memref<32x8xi8, #systolic.spad>) -> ()
  return
}
