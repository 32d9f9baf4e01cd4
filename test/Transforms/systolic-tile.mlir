// RUN: tessera-opt %s --split-input-file --tessera-systolic-tile | FileCheck %s

// A ws matmul whose accumulator is a zero fill: the kernel takes lhs, rhs and out only,
// the first reduction step overwrites, the others accumulate.
// CHECK-LABEL: func.func @ws_matmul_becomes_a_kernel_call
// CHECK-DAG: %[[A:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<40x24xf32> to memref<40x24xf32>
// CHECK-DAG: %[[B:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<24x20xf32> to memref<24x20xf32>
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<40x20xf32>
// CHECK: call @systolic_kernel_0(%[[A]], %[[B]], %[[OUT]])
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: "systolic.matmul"
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK-SAME: systolic.kernel = #systolic.kernel<"isa", ["lhs", "rhs", "out"], [1, 40, 20, 24], [40, 16, 16]>
// CHECK-SAME: systolic.memory = #systolic.memory<262144 : i64, 65536 : i64, 16 : i64, 64 : i64>
// CHECK-DAG: memref.alloc() : memref<40x16xf32, #systolic.spad>
// CHECK-DAG: memref.alloc() : memref<16x16xf32, #systolic.spad>
// CHECK-DAG: memref.alloc() : memref<40x16xf32, #systolic.acc>
// CHECK: scf.for
// CHECK: scf.for
// CHECK: "systolic.move_in"
// CHECK: "systolic.preload"
// CHECK: "systolic.compute"{{.*}}accumulate = false
// CHECK: scf.for
// CHECK: "systolic.compute"{{.*}}accumulate = true
// CHECK: "systolic.move_out"
func.func @ws_matmul_becomes_a_kernel_call(%a: tensor<40x24xf32>, %b: tensor<24x20xf32>) -> tensor<40x20xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<40x20xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<40x20xf32>) -> tensor<40x20xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<40x24xf32>, tensor<24x20xf32>, tensor<40x20xf32>) -> tensor<40x20xf32>
  return %0 : tensor<40x20xf32>
}

// -----

// Double buffering alternates two buffers per operand by iteration parity.
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK: %[[B0:.+]] = memref.alloc() : memref<16x16xf32, #systolic.spad>
// CHECK: %[[B1:.+]] = memref.alloc() : memref<16x16xf32, #systolic.spad>
// CHECK: arith.select %{{.+}}, %[[B1]], %[[B0]]
func.func @k_steps_alternate_buffers(%a: tensor<16x64xf32>, %b: tensor<64x16xf32>) -> tensor<16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<16x64xf32>, tensor<64x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// -----

// A real accumulator is passed in and moved into the accumulator memory; every step adds.
// CHECK-LABEL: func.func @accumulator_input_is_moved_in
// CHECK: call @systolic_kernel_0(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}})
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK-SAME: #systolic.kernel<"isa", ["lhs", "rhs", "acc", "out"]
// CHECK: "systolic.move_in"(%{{.+}}, %{{.+}}) : (memref<8x16xf32, strided<[16, 1], offset: ?>>, memref<8x16xf32, #systolic.acc>)
// CHECK-NOT: accumulate = false
// CHECK: "systolic.move_out"
func.func @accumulator_input_is_moved_in(%a: tensor<8x16xf32>, %b: tensor<16x16xf32>, %c: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<8x16xf32>, tensor<16x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}

// -----

// os keeps the output block in the array: the accumulator block is what is preloaded,
// and the reduction streams through.
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK: %[[ACC:.+]] = memref.alloc() : memref<8x8xi32, #systolic.acc>
// CHECK: "systolic.preload"(%{{.+}}) {array = #systolic.array<8 : i64, 8 : i64, "os">} : (memref<8x8xi32, #systolic.acc>)
// CHECK: "systolic.compute"{{.*}}(memref<8x40xi8, #systolic.spad>, memref<40x8xi8, #systolic.spad>, memref<8x8xi32, #systolic.acc>)
func.func @os_preloads_the_output_block(%a: tensor<20x40xi8>, %b: tensor<40x12xi8>) -> tensor<20x12xi32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<20x12xi32>
  %c = linalg.fill ins(%zero : i32) outs(%e : tensor<20x12xi32>) -> tensor<20x12xi32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<8 : i64, 8 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<20x40xi8>, tensor<40x12xi8>, tensor<20x12xi32>) -> tensor<20x12xi32>
  return %0 : tensor<20x12xi32>
}

// -----

// is keeps an lhs block (m on the array's columns, k on its rows) and streams rhs columns.
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK: %[[A:.+]] = memref.alloc() : memref<32x8xbf16, #systolic.spad>
// CHECK: "systolic.preload"(%{{.+}}) {array = #systolic.array<8 : i64, 32 : i64, "is">} : (memref<32x8xbf16, #systolic.spad>)
// CHECK: "systolic.compute"{{.*}}(memref<32x8xbf16, #systolic.spad>, memref<8x12xbf16, #systolic.spad>, memref<32x12xf32, #systolic.acc>)
func.func @is_preloads_an_lhs_block(%a: tensor<20x16xbf16>, %b: tensor<16x12xbf16>) -> tensor<20x12xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<20x12xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<20x12xf32>) -> tensor<20x12xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<8 : i64, 32 : i64, "is">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<20x16xbf16>, tensor<16x12xbf16>, tensor<20x12xf32>) -> tensor<20x12xf32>
  return %0 : tensor<20x12xf32>
}

// -----

// Transposed operands are transposed on the host; a batch dim becomes the kernel's outer
// loop, with rank-reducing views of the global operands.
// CHECK-LABEL: func.func @batched_with_transposed_rhs
// CHECK: linalg.transpose ins(%{{.+}} : tensor<3x12x8xf32>) outs(%{{.+}} : tensor<3x8x12xf32>) permutation = [0, 2, 1]
// CHECK: call @systolic_kernel_0
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK-SAME: #systolic.kernel<"isa", ["lhs", "rhs", "out"], [3, 4, 12, 8]
// CHECK: scf.for %[[BATCH:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: memref.subview %{{.+}}[%[[BATCH]], 0, 0] [1, 4, 8] [1, 1, 1] : memref<3x4x8xf32> to memref<4x8xf32
func.func @batched_with_transposed_rhs(%a: tensor<3x4x8xf32>, %bt: tensor<3x12x8xf32>) -> tensor<3x4x12xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x4x12xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4x12xf32>) -> tensor<3x4x12xf32>
  %0 = "systolic.matmul"(%a, %bt, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, true], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<3x4x8xf32>, tensor<3x12x8xf32>, tensor<3x4x12xf32>) -> tensor<3x4x12xf32>
  return %0 : tensor<3x4x12xf32>
}

// -----

// The epilogue is applied at move-out: the bias slice is read there.
// CHECK-LABEL: func.func private @systolic_kernel_0
// CHECK-SAME: (%{{.+}}: memref<8x32xi8>, %{{.+}}: memref<32x16xi8>, %[[BIAS_ARG:[^:]+]]: memref<16xi32>
// CHECK-SAME: #systolic.kernel<"isa", ["lhs", "rhs", "bias", "out"]
// CHECK: %[[BIAS:.+]] = memref.subview %[[BIAS_ARG]][%{{.+}}] [16] [1] : memref<16xi32> to memref<16xi32
// CHECK: "systolic.move_out"(%{{.+}}, %{{.+}}, %[[BIAS]]) {epilogue = {relu, scale = 1.250000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 1>} : (memref<8x16xi32, #systolic.acc>, memref<8x16xi8
func.func @requantizing_epilogue_with_bias(%a: tensor<8x32xi8>, %b: tensor<32x16xi8>, %bias: tensor<16xi32>) -> tensor<8x16xi8> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<8x16xi32>
  %c = linalg.fill ins(%zero : i32) outs(%e : tensor<8x16xi32>) -> tensor<8x16xi32>
  %0 = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu, scale = 0.125 : f32}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<8x32xi8>, tensor<32x16xi8>, tensor<8x16xi32>, tensor<16xi32>) -> tensor<8x16xi8>
  return %0 : tensor<8x16xi8>
}

// -----

// Kernels are named through the module's symbol table: on IR that already has a
// @systolic_kernel_0 (an earlier run, or the user's own), the new kernel takes the next
// free name instead of redefining the symbol.
// CHECK-LABEL: func.func @name_already_taken
// CHECK: call @systolic_kernel_1(
// CHECK-LABEL: func.func private @systolic_kernel_0()
// CHECK-LABEL: func.func private @systolic_kernel_1(
func.func @name_already_taken(%a: tensor<16x16xf32>, %b: tensor<16x16xf32>, %c: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}
func.func private @systolic_kernel_0() {
  return
}
