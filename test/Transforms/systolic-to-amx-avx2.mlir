// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-amx="engine=avx2" | FileCheck %s

// engine=avx2 (x86-64 CPUs with AVX2 and FMA, no AVX-512): the avx512 engine's padding,
// packing and cache blocks on 256-bit registers of 8 f32 lanes, 16 of them: the default
// blocking is 4 rows x 2 groups (8 accumulators, 2 rhs groups and a broadcast).
// int8: pairs of reduction steps widened to i16 when packed (rhs in the kernel's panel,
// lhs in its block), multiplied by vpmaddwd (each lane: the sum of a pair's two
// products, in i32; an LLVM intrinsic, MLIR's x86 dialect has no op for it) and added
// to the accumulators. Exact; no unsigned offset or row sums as vpdpbusd needs.
// CHECK-LABEL: func.func private @llvm.x86.avx2.pmadd.wd(vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// CHECK-LABEL: func.func @int8
// CHECK: call @vector_kernel_0({{.*}}) : (memref<?x70xi8>, memref<70x20xi8>, memref<?x32xi32>) -> ()
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: systolic.blocking = #systolic.blocking<4 : i64, 2 : i64, 1 : i64, 4 : i64>
// CHECK: %[[PACKED:.+]] = memref.alloca() : memref<64x256x8xi16>
// CHECK: %[[PANEL:.+]] = memref.alloca() : memref<1x256x32xi16>
// The lhs block: each pair of a row widened to i16, the 4 rows' pairs side by side.
// CHECK: %[[PAIR:.+]] = vector.load %{{.+}} : memref<?x70xi8>, vector<2xi8>
// CHECK: %[[WIDE:.+]] = arith.extsi %[[PAIR]] : vector<2xi8> to vector<2xi16>
// CHECK: vector.store %[[WIDE]], %[[PACKED]]{{.*}} : memref<64x256x8xi16>, vector<2xi16>
// Each panel of 16 columns: rows k and k + 1 widened and interleaved.
// CHECK: scf.for {{.*}} step %c16
// CHECK: arith.extsi %{{.+}} : vector<8xi8> to vector<8xi16>
// CHECK: vector.interleave %{{.+}} : vector<8xi16> -> vector<16xi16>
// CHECK: vector.store %{{.+}}, %[[PANEL]]{{.*}} : memref<1x256x32xi16>, vector<16xi16>
// Each row block of 4 rows first prefetches (to write) the next one's accumulators,
// one cache line a row (rows a whole out row apart: beyond the hardware prefetchers).
// CHECK: scf.for %[[ROW:.+]] = {{.*}} step %c4
// CHECK: %[[AHEAD:.+]] = arith.addi %[[ROW]], %c4
// CHECK: %[[NEXT:.+]] = arith.minsi %[[AHEAD]], %{{.+}} : index
// CHECK: memref.prefetch %{{.+}}[%[[NEXT]], %{{.+}}], write, locality<3>, data : memref<?x32xi32>
// CHECK-COUNT-3: memref.prefetch %{{.+}}, write, locality<3>, data : memref<?x32xi32>
// CHECK-NOT: memref.prefetch
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>)
// CHECK: %[[B:.+]] = vector.load %[[PANEL]]{{.*}} : memref<1x256x32xi16>, vector<16xi16>
// CHECK: vector.broadcast %{{.+}} : i32 to vector<8xi32>
// CHECK: %[[A:.+]] = vector.bitcast %{{.+}} : vector<8xi32> to vector<16xi16>
// CHECK: %[[DOT:.+]] = func.call @llvm.x86.avx2.pmadd.wd(%[[B]], %[[A]])
// CHECK: arith.addi %[[DOT]], %{{.+}} : vector<8xi32>
func.func @int8(%a: tensor<40x70xi8>, %b: tensor<70x20xi8>) -> tensor<40x20xi32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<40x20xi32>
  %c = linalg.fill ins(%zero : i32) outs(%e : tensor<40x20xi32>) -> tensor<40x20xi32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<40x70xi8>, tensor<70x20xi8>, tensor<40x20xi32>) -> tensor<40x20xi32>
  return %0 : tensor<40x20xi32>
}

// -----

// bf16: widened to f32 when packed, then f32 FMAs on 8 lanes.
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: (%{{[^:]+}}: memref<?x50xbf16>, %{{[^:]+}}: memref<50x17xbf16>, %{{[^:]+}}: memref<?x32xf32>)
// CHECK-SAME: [1, 33, 32, 50]
// CHECK: memref.alloca() : memref<64x256x4xf32>
// CHECK: memref.alloca() : memref<1x256x16xf32>
// CHECK: arith.bitcast %{{.+}} : vector<8xi32> to vector<8xf32>
// CHECK: vector.fma %{{.+}} : vector<8xf32>
// Rows are not padded: the whole blocks of 4 rows, then the rows left (33: 1) by their
// count, each a block of 2^i rows reading its lanes of the packed block: 1 row (2
// accumulators), 2 rows (4), 3 rows as 2 + 1.
// CHECK: arith.cmpi eq, %{{.+}}, %c1{{.*}} : index
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>) {
// CHECK: arith.cmpi eq, %{{.+}}, %c2{{.*}} : index
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK: arith.cmpi eq, %{{.+}}, %c3{{.*}} : index
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>) {
func.func @bf16(%a: tensor<33x50xbf16>, %b: tensor<50x17xbf16>) -> tensor<33x17xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<33x17xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<33x17xf32>) -> tensor<33x17xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<33x50xbf16>, tensor<50x17xbf16>, tensor<33x17xf32>) -> tensor<33x17xf32>
  return %0 : tensor<33x17xf32>
}

// -----

// Batched (rank 3, as attention's q·kᵀ): one kernel whose buffers carry the batch first,
// dynamic (the runtime splits the batch between cores), and a loop over it around the
// 2-D kernel on each batch's matrices as views; each batch's rhs is packed inside the
// kernel a panel at a time (no pack kernel). Rows are padded to whole register blocks
// (40 stays 40 on 4-row blocks), columns to 32.
// CHECK-LABEL: func.func @batched
// CHECK: linalg.transpose
// CHECK: call @vector_kernel_0({{.*}}) : (memref<?x40x70xf32>, memref<?x70x20xf32>, memref<?x40x32xf32>) -> ()
// CHECK: tensor.extract_slice %{{.+}}[0, 0, 0] [3, 40, 20] [1, 1, 1] : tensor<3x40x32xf32> to tensor<3x40x20xf32>
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: systolic.blocking = #systolic.blocking<4 : i64, 2 : i64, 1 : i64, 4 : i64>
// CHECK-SAME: systolic.kernel = #systolic.kernel<"vector", ["lhs", "rhs", "out"], [3, 40, 32, 70], [256, 256, 256]>
// CHECK: memref.alloca() : memref<64x256x4xf32>
// CHECK: memref.alloca() : memref<1x256x16xf32>
// CHECK: %[[B:.+]] = memref.dim %arg0, %{{.+}} : memref<?x40x70xf32>
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %[[B]] step %{{.+}} {
// CHECK: memref.subview %arg0[%[[I]], 0, 0] [1, 40, 70] [1, 1, 1] : memref<?x40x70xf32> to memref<40x70xf32, strided<[70, 1], offset: ?>>
// CHECK: memref.subview %arg1[%[[I]], 0, 0] [1, 70, 20] [1, 1, 1] : memref<?x70x20xf32> to memref<70x20xf32, strided<[20, 1], offset: ?>>
// CHECK: memref.subview %arg2[%[[I]], 0, 0] [1, 40, 32] [1, 1, 1] : memref<?x40x32xf32> to memref<40x32xf32, strided<[32, 1], offset: ?>>
// CHECK: vector.fma %{{.+}} : vector<8xf32>
// CHECK-NOT: call @amx_pack
func.func @batched(%a: tensor<3x40x70xf32>, %b: tensor<3x20x70xf32>) -> tensor<3x40x20xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x40x20xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<3x40x20xf32>) -> tensor<3x40x20xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, true], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<3x40x70xf32>, tensor<3x20x70xf32>, tensor<3x40x20xf32>) -> tensor<3x40x20xf32>
  return %0 : tensor<3x40x20xf32>
}
