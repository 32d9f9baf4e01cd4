// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-amx | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-amx="precision=bf16" | FileCheck %s --check-prefix=BF16
// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-amx="m-block=32 n-block=32 k-block=64" | FileCheck %s --check-prefix=SMALL
// RUN: not tessera-opt %s --tessera-systolic-to-amx="m-block=48" 2>&1 | FileCheck %s --check-prefix=BAD-M
// RUN: not tessera-opt %s --tessera-systolic-to-amx="k-block=100" 2>&1 | FileCheck %s --check-prefix=BAD-K
// BAD-M: error: tessera-systolic-to-amx: option m-block must be a positive multiple of 32, got 48
// BAD-K: error: tessera-systolic-to-amx: option k-block must be a positive multiple of 64, got 100

// bf16 with edges (33x50 · 50x17), bias and relu: lhs and bias are zero-padded to whole
// register blocks, rhs is packed into VNNI pairs by its own kernel, the compute kernel
// works on 2x2 accumulator tiles with the k-steps unrolled, and the result is sliced back.
// CHECK-LABEL: func.func @bf16_edges_with_epilogue
// CHECK-SAME: (%[[A:[^:]+]]: tensor<33x50xbf16>, %{{[^:]+}}: tensor<50x17xbf16>, %[[BIAS:[^:]+]]: tensor<17xf32>)
// CHECK: %[[PADDED:.+]] = tensor.insert_slice %[[A]] into %{{.+}}[0, 0] [33, 50] [1, 1] : tensor<33x50xbf16> into tensor<64x64xbf16>
// CHECK: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<32x64xbf16>
// CHECK: call @amx_pack_0(%{{.+}}, %[[PACKED]]) : (memref<50x17xbf16>, memref<32x64xbf16>) -> ()
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[OUT:.+]] : memref<64x32xf32>)
// CHECK: tensor.insert_slice %[[BIAS]] into %{{.+}}[0] [17] [1] : tensor<17xf32> into tensor<32xf32>
// CHECK: call @amx_kernel_0({{.*}}) : (memref<?x64xbf16>, memref<32x64xbf16>, memref<?x32xf32>, memref<32xf32>) -> ()
// CHECK: tensor.extract_slice %{{.+}}[0, 0] [33, 17] [1, 1] : tensor<64x32xf32> to tensor<33x17xf32>
// The pack: zero padding, then element (k, n) goes to row k / 2, column 2 * n + k % 2.
// CHECK-LABEL: func.func private @amx_pack_0
// CHECK-SAME: (%[[SRC:[^:]+]]: memref<50x17xbf16>, %[[DST:[^:]+]]: memref<32x64xbf16>)
// CHECK: linalg.fill ins(%{{.+}} : bf16) outs(%[[DST]] : memref<32x64xbf16>)
// CHECK: %[[TWO:.+]] = arith.constant 2 : index
// CHECK: %[[ROW:.+]] = arith.divui %[[K:.+]], %[[TWO]]
// CHECK: %[[TWO_AGAIN:.+]] = arith.constant 2 : index
// CHECK: %[[LANE:.+]] = arith.remui %[[K]], %[[TWO_AGAIN]]
// CHECK: %[[TWO_ONCE_MORE:.+]] = arith.constant 2 : index
// CHECK: %[[N2:.+]] = arith.muli %[[N:.+]], %[[TWO_ONCE_MORE]]
// CHECK: %[[COL:.+]] = arith.addi %[[N2]], %[[LANE]]
// CHECK: %[[V:.+]] = memref.load %[[SRC]][%[[K]], %[[N]]]
// CHECK: memref.store %[[V]], %[[DST]][%[[ROW]], %[[COL]]]
// The microkernel: 4 accumulator tiles loaded once, per k-step 2 lhs + 2 rhs tiles and 4
// tile multiplies, then 4 stores; the epilogue follows the k-loop.
// CHECK-LABEL: func.func private @amx_kernel_0
// CHECK-SAME: (%[[LHS:[^:]+]]: memref<?x64xbf16>, %[[RHS:[^:]+]]: memref<32x64xbf16>, %[[OUT:[^:]+]]: memref<?x32xf32>, %[[KBIAS:[^:]+]]: memref<32xf32>)
// CHECK-SAME: llvm.emit_c_interface
// CHECK-SAME: systolic.kernel = #systolic.kernel<"amx", ["lhs", "rhs", "out", "bias"], [1, 64, 32, 64], [64, 256, 256]>
// CHECK-COUNT-4: x86.amx.tile_load %[[OUT]]{{.*}} into !x86.amx.tile<16x16xf32>
// CHECK: x86.amx.tile_load %[[LHS]]{{.*}} into !x86.amx.tile<16x32xbf16>
// CHECK: x86.amx.tile_load %[[LHS]]{{.*}} into !x86.amx.tile<16x32xbf16>
// CHECK: x86.amx.tile_load %[[RHS]]{{.*}} into !x86.amx.tile<16x32xbf16>
// CHECK: x86.amx.tile_load %[[RHS]]{{.*}} into !x86.amx.tile<16x32xbf16>
// CHECK-COUNT-4: x86.amx.tile_mulf
// CHECK: x86.amx.tile_load %[[LHS]]
// CHECK-COUNT-4: x86.amx.tile_store %[[OUT]]{{.*}}tile<16x16xf32>
// CHECK-NOT: x86.amx
// CHECK: vector.load %[[KBIAS]]
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
// CHECK: vector.store
// SMALL-LABEL: func.func private @amx_kernel_0
// SMALL: %[[BLOCK:.+]] = arith.constant 32 : index
// SMALL: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[BLOCK]]
// SMALL: %[[BLOCK_N:.+]] = arith.constant 32 : index
// SMALL: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[BLOCK_N]]
func.func @bf16_edges_with_epilogue(%a: tensor<33x50xbf16>, %b: tensor<50x17xbf16>, %bias: tensor<17xf32>) -> tensor<33x17xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<33x17xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<33x17xf32>) -> tensor<33x17xf32>
  %0 = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<33x50xbf16>, tensor<50x17xbf16>, tensor<33x17xf32>, tensor<17xf32>) -> tensor<33x17xf32>
  return %0 : tensor<33x17xf32>
}

// -----

// int8: quads (k / 4, 4 * n + k % 4), 16x64 i8 operand tiles, i32 accumulators; a
// non-zero accumulator is copied into the output buffer first.
// CHECK-LABEL: func.func @int8_with_accumulator
// CHECK: memref.copy %{{.+}}, %{{.+}} : memref<32x32xi32> to memref<32x32xi32>
// CHECK: call @amx_kernel_0({{.*}}) : (memref<?x128xi8>, memref<32x128xi8>, memref<?x32xi32>) -> ()
// CHECK-LABEL: func.func private @amx_pack_0
// CHECK: %[[FOUR:.+]] = arith.constant 4 : index
// CHECK: arith.divui %{{.+}}, %[[FOUR]]
// CHECK: %[[FOUR_AGAIN:.+]] = arith.constant 4 : index
// CHECK: arith.remui %{{.+}}, %[[FOUR_AGAIN]]
// CHECK-LABEL: func.func private @amx_kernel_0
// CHECK-SAME: (%[[LHS8:[^:]+]]: memref<?x128xi8>, %[[RHS8:[^:]+]]: memref<32x128xi8>
// CHECK: x86.amx.tile_load %[[LHS8]]{{.*}} into !x86.amx.tile<16x64xi8>
// CHECK: x86.amx.tile_load %[[RHS8]]{{.*}} into !x86.amx.tile<16x64xi8>
// CHECK: x86.amx.tile_muli {{.*}} : !x86.amx.tile<16x64xi8>, !x86.amx.tile<16x64xi8>, !x86.amx.tile<16x16xi32>
// CHECK-NOT: vector.load
func.func @int8_with_accumulator(%a: tensor<20x100xi8>, %b: tensor<100x30xi8>, %c: tensor<20x30xi32>) -> tensor<20x30xi32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<20x100xi8>, tensor<100x30xi8>, tensor<20x30xi32>) -> tensor<20x30xi32>
  return %0 : tensor<20x30xi32>
}

// -----

// A constant weight is packed at compile time (pairs 1,3 | 2,4 in row 0): no pack
// kernel runs.
// CHECK-LABEL: func.func @constant_weight_packed_at_compile_time
// CHECK: %[[W:.+]] = arith.constant dense<"0x803F4040004080400000
// CHECK-SAME: tensor<16x64xbf16>
// CHECK: bufferization.to_buffer %[[W]]
// CHECK-NOT: amx_pack
// CHECK: call @amx_kernel_0
func.func @constant_weight_packed_at_compile_time(%a: tensor<4x3xbf16>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xbf16>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %0 = "systolic.matmul"(%a, %w, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x3xbf16>, tensor<3x2xbf16>, tensor<4x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// f32 is never silently run in bf16: it stays unless precision=bf16 is asked for, which
// rounds the operands (arith.truncf) and accumulates in f32.
// CHECK-LABEL: func.func @f32_needs_explicit_bf16
// CHECK: "systolic.matmul"
// CHECK-NOT: amx_kernel
// BF16-LABEL: func.func @f32_needs_explicit_bf16
// BF16: arith.truncf %arg0 : tensor<16x32xf32> to tensor<16x32xbf16>
// BF16: arith.truncf %arg1 : tensor<32x16xf32> to tensor<32x16xbf16>
// BF16: call @amx_kernel_0
// BF16-NOT: "systolic.matmul"
func.func @f32_needs_explicit_bf16(%a: tensor<16x32xf32>, %b: tensor<32x16xf32>, %c: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<16x32xf32>, tensor<32x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// -----

// An f32 matmul of bf16 values widened elementwise (how torch writes bf16 layers) is
// the same computation in bf16: it goes to AMX with no option and no truncation.
// CHECK-LABEL: func.func @widened_bf16_is_bf16
// CHECK-SAME: (%[[A16:[^:]+]]: tensor<16x40xbf16>
// CHECK-NOT: arith.truncf
// CHECK: tensor.insert_slice %[[A16]] into %{{.+}} : tensor<16x40xbf16> into tensor<32x64xbf16>
// CHECK: call @amx_pack_0(%{{.+}}, %{{.+}}) : (memref<40x16xbf16>, memref<32x64xbf16>) -> ()
// CHECK: call @amx_kernel_0
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @widened_bf16_is_bf16(%a: tensor<16x40xbf16>, %b: tensor<40x16xbf16>, %c: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %ea = tensor.empty() : tensor<16x40xf32>
  %wa = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%a : tensor<16x40xbf16>) outs(%ea : tensor<16x40xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<16x40xf32>
  %eb = tensor.empty() : tensor<40x16xf32>
  %wb = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<40x16xbf16>) outs(%eb : tensor<40x16xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<40x16xf32>
  %0 = "systolic.matmul"(%wa, %wb, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<16x40xf32>, tensor<40x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// -----

// Requantizing epilogues and f16 are not AMX work here: left for the linalg fallback.
// CHECK-LABEL: func.func @unsupported_stay
// CHECK-COUNT-2: "systolic.matmul"
// BF16-LABEL: func.func @unsupported_stay
// BF16-COUNT-2: "systolic.matmul"
// CHECK-NOT: amx_kernel
func.func @unsupported_stay(%a: tensor<16x64xi8>, %b: tensor<64x16xi8>, %c: tensor<16x16xi32>, %x: tensor<16x32xf16>, %y: tensor<32x16xf16>, %z: tensor<16x16xf32>) -> (tensor<16x16xi8>, tensor<16x16xf32>) {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {scale = 0.5 : f32}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<16x64xi8>, tensor<64x16xi8>, tensor<16x16xi32>) -> tensor<16x16xi8>
  %1 = "systolic.matmul"(%x, %y, %z) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<16x32xf16>, tensor<32x16xf16>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0, %1 : tensor<16x16xi8>, tensor<16x16xf32>
}
