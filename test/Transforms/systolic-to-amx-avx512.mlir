// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-amx="engine=avx512 bf16-math=dot" | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-systolic-to-amx="engine=avx512" | FileCheck %s --check-prefix=FMA

// bf16-math=fma (the default): bf16 widened to f32 when packed (rhs panels of f32, the
// lhs block packed as f32; as bits: the bf16 is the high half of the f32), then the same
// f32 FMA kernel as f32 matmuls.
// FMA-LABEL: func.func @bf16_edges
// FMA: call @amx_pack_0({{.*}}) : (memref<50x?xbf16, strided<[17, 1]>>, memref<?x50x32xf32>) -> ()
// FMA-LABEL: func.func private @amx_pack_0
// FMA: arith.bitcast %{{.+}} : vector<16xbf16> to vector<16xi16>
// FMA: arith.shli
// FMA: arith.bitcast %{{.+}} : vector<16xi32> to vector<16xf32>
// FMA-LABEL: func.func private @vector_kernel_0
// FMA-SAME: (%{{[^:]+}}: memref<?x50xbf16>, %{{[^:]+}}: memref<1x50x32xf32>, %{{[^:]+}}: memref<?x32xf32>)
// FMA: memref.alloca() : memref<32x256x8xf32>
// FMA: arith.bitcast %{{.+}} : i32 to f32
// FMA: vector.fma
// FMA-NOT: x86.avx512.dot

// engine=avx512 bf16-math=dot: the AMX kernel's padding, VNNI packing and cache blocks,
// with vector register blocks: 8 rows x 2 groups of 16 f32 lanes (16 zmm accumulators), the blocking
// on the kernel. The rhs is packed in VNNI pairs in panels of the block's 32 columns
// (panel, k / 2, 2 x column + k % 2), so a block's steps read consecutive memory; the
// pack is a #systolic.pack of any run of panels from their columns of rhs (both sizes
// dynamic), so that the runtime splits the panels between the cores. bf16
// steps are VNNI pairs: a 32-lane bf16 load of the panel, the lhs pair broadcast as an
// i32, and x86.avx512.dot (vdpbf16ps).
// CHECK-LABEL: func.func @bf16_edges
// CHECK: %[[COLUMNS:.+]] = memref.cast %{{.+}} : memref<50x17xbf16> to memref<50x?xbf16, strided<[17, 1]>>
// CHECK: %[[PANELS:.+]] = memref.cast %[[PACKED:.+]] : memref<1x25x64xbf16> to memref<?x25x64xbf16>
// CHECK: call @amx_pack_0(%[[COLUMNS]], %[[PANELS]])
// CHECK: call @vector_kernel_0(%{{.+}}, %[[PACKED]], %{{.+}}) : (memref<?x50xbf16>, memref<1x25x64xbf16>, memref<?x32xf32>) -> ()
// The pack works 16 columns at a time: rows k and k + 1 loaded (one load where all 16
// columns are inside, else lane by lane as i16 bits, zeros past column 17: a masked
// load of bf16 would need __truncsfbf2 on CPUs without avx512_bf16) and interleaved
// into 32 bf16 of the panel.
// CHECK-LABEL: func.func private @amx_pack_0
// CHECK-SAME: systolic.pack = #systolic.pack<32 : i64>
// CHECK-NOT: linalg.fill
// CHECK: %[[N:.+]] = memref.dim %{{.+}}, %c1 : memref<50x?xbf16, strided<[17, 1]>>
// CHECK: %[[P:.+]] = memref.dim %{{.+}}, %c0{{.*}} : memref<?x25x64xbf16>
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[P]]
// CHECK: %[[WHOLE:.+]] = arith.cmpi sle, %{{.+}}, %[[N]] : index
// CHECK: scf.if %[[WHOLE]] -> (vector<16xi16>) {
// CHECK: vector.load %{{.+}} : memref<50x?xbf16, strided<[17, 1]>>, vector<16xbf16>
// CHECK: } else {
// CHECK: %[[INSIDE:.+]] = arith.cmpi slt, %{{.+}}, %[[N]] : index
// CHECK: %[[COLUMN:.+]] = arith.select %[[INSIDE]]
// CHECK: memref.load %{{.+}}[%{{.+}}, %[[COLUMN]]] : memref<50x?xbf16, strided<[17, 1]>>
// CHECK: vector.from_elements {{.*}} : vector<16xi16>
// CHECK: vector.interleave %{{.+}} : vector<16xbf16> -> vector<32xbf16>
// CHECK: vector.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x25x64xbf16>, vector<32xbf16>
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: systolic.blocking = #systolic.blocking<8 : i64, 2 : i64, 1 : i64, 4 : i64>
// Rows are not padded (300: 37 whole blocks of 8 rows, then 4 rows), columns to 32.
// CHECK-SAME: systolic.kernel = #systolic.kernel<"vector", ["lhs", "rhs", "out"], [1, 300, 32, 50], [256, 256, 512]>
// The m-block (256 rows on this engine) x k-block of lhs is packed first: 32 row blocks
// x 256 pair steps (the k-block: 256 steps) x the 8 rows' pairs side by side.
// CHECK: %[[PACKED:.+]] = memref.alloca() : memref<32x256x16xbf16>
// CHECK: vector.store %{{.+}}, %[[PACKED]]{{.*}} : memref<32x256x16xbf16>, vector<2xbf16>
// Column panels outside, row blocks inside, then the reduction in registers.
// CHECK: scf.for {{.*}} step %c32
// CHECK: scf.for {{.*}} step %c8
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.load %{{.+}} : memref<1x25x64xbf16>, vector<32xbf16>
// CHECK: vector.load %[[PACKED]]{{.*}} : memref<32x256x16xbf16>, vector<2xbf16>
// CHECK: vector.bitcast %{{.+}} : vector<2xbf16> to vector<1xi32>
// CHECK: vector.broadcast %{{.+}} : i32 to vector<16xi32>
// CHECK: x86.avx512.dot %{{.+}} : vector<32xbf16> -> vector<16xf32>
func.func @bf16_edges(%a: tensor<300x50xbf16>, %b: tensor<50x17xbf16>) -> tensor<300x17xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<300x17xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<300x17xf32>) -> tensor<300x17xf32>
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<300x50xbf16>, tensor<50x17xbf16>, tensor<300x17xf32>) -> tensor<300x17xf32>
  return %0 : tensor<300x17xf32>
}

// -----

// f32 stays f32 on this engine: FMAs on the rhs padded to 32 columns (panels of the
// block's 16 columns, not interleaved), a broadcast lhs value per row; the epilogue after
// the last k-block. A blocking set by hand is used. A matmul of one m-block (10 rows)
// takes rhs as it is and packs each panel's k-block inside the kernel, just before the
// row blocks that use it (columns past 30 masked to zeros).
// CHECK-LABEL: func.func @f32_hand_blocking
// CHECK-NOT: amx_pack
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: (%{{[^:]+}}: memref<?x20xf32>, %[[B:[^:]+]]: memref<20x30xf32>, %{{[^:]+}}: memref<?x32xf32>, %{{[^:]+}}: memref<32xf32>)
// CHECK-SAME: systolic.blocking = #systolic.blocking<4 : i64, 1 : i64, 1 : i64, 2 : i64>
// CHECK: %[[PANEL:.+]] = memref.alloca() : memref<1x256x16xf32>
// CHECK: scf.for {{.*}} step %c16
// CHECK: vector.maskedload %[[B]]{{.*}} : memref<20x30xf32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// CHECK: vector.store %{{.+}}, %[[PANEL]]
// CHECK: vector.load %[[PANEL]]{{.*}} : memref<1x256x16xf32>, vector<16xf32>
// CHECK: memref.load %{{.+}} : memref<64x256x4xf32>
// CHECK: vector.broadcast %{{.+}} : f32 to vector<16xf32>
// CHECK: vector.fma
// CHECK: arith.maximumf
func.func @f32_hand_blocking(%a: tensor<10x20xf32>, %b: tensor<20x30xf32>, %bias: tensor<30xf32>) -> tensor<10x30xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<10x30xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<10x30xf32>) -> tensor<10x30xf32>
  %0 = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>, systolic.blocking = #systolic.blocking<4 : i64, 1 : i64, 1 : i64, 2 : i64>} : (tensor<10x20xf32>, tensor<20x30xf32>, tensor<10x30xf32>, tensor<30xf32>) -> tensor<10x30xf32>
  return %0 : tensor<10x30xf32>
}

// -----

// int8: vpdpbusd multiplies unsigned bytes by signed bytes, so rhs is packed as rhs + 128
// (its bits ^ 0x80, here inside the kernel: one m-block) and the broadcast lhs quad is
// the signed operand; the lhs pack sums each row, and the epilogue takes 128 x that sum
// off the row before bias and ReLU. K is padded to whole quads (50 -> 52), the k-block
// is 256 steps (1024 elements), and the dot is LLVM's intrinsic (MLIR has no op for it).
// CHECK-LABEL: func.func private @llvm.x86.avx512.vpdpbusd.512(vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-LABEL: func.func @int8
// CHECK: call @vector_kernel_0({{.*}}) : (memref<?x52xi8>, memref<52x16xi8>, memref<?x32xi32>, memref<32xi32>) -> ()
// CHECK-LABEL: func.func private @vector_kernel_0
// CHECK-SAME: systolic.kernel = #systolic.kernel<"vector", ["lhs", "rhs", "out", "bias"], [1, 8, 32, 52], [256, 256, 1024]>
// CHECK: %[[LHS:.+]] = memref.alloca() : memref<32x256x32xi8>
// CHECK: %[[SUMS:.+]] = memref.alloca() : memref<256xi32>
// CHECK: %[[PANEL:.+]] = memref.alloca() : memref<1x256x128xi8>
// CHECK: vector.store %{{.+}}, %[[LHS]]{{.*}} : memref<32x256x32xi8>, vector<4xi8>
// CHECK: arith.extsi %{{.+}} : vector<4xi8> to vector<4xi32>
// CHECK: vector.reduction <add>, %{{.+}} : vector<4xi32> into i32
// CHECK: memref.store %{{.+}}, %[[SUMS]]
// CHECK: vector.interleave %{{.+}} : vector<16xi16> -> vector<32xi16>
// CHECK: %[[UNSIGNED:.+]] = arith.xori %{{.+}} : vector<64xi8>
// CHECK: vector.store %[[UNSIGNED]], %[[PANEL]]
// CHECK: %[[B:.+]] = vector.load %[[PANEL]]{{.*}} : memref<1x256x128xi8>, vector<64xi8>
// CHECK: vector.bitcast %{{.+}} : vector<4xi8> to vector<1xi32>
// CHECK: %[[A:.+]] = vector.bitcast %{{.+}} : vector<16xi32> to vector<64xi8>
// CHECK: func.call @llvm.x86.avx512.vpdpbusd.512(%{{.+}}, %[[B]], %[[A]])
// CHECK: memref.load %[[SUMS]]
// CHECK: arith.muli %{{.+}}, %c-128_i32 : i32
// CHECK: arith.maxsi
func.func @int8(%a: tensor<8x50xi8>, %b: tensor<50x16xi8>, %bias: tensor<16xi32>) -> tensor<8x16xi32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<8x16xi32>
  %c = linalg.fill ins(%zero : i32) outs(%e : tensor<8x16xi32>) -> tensor<8x16xi32>
  %0 = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<8x50xi8>, tensor<50x16xi8>, tensor<8x16xi32>, tensor<16xi32>) -> tensor<8x16xi32>
  return %0 : tensor<8x16xi32>
}
