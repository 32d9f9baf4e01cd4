// RUN: tessera-opt %s --split-input-file --tessera-linalg-to-systolic | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-linalg-to-systolic="rows=8 cols=32 dataflow=os" | FileCheck %s --check-prefix=OPTS

// CHECK-LABEL: func.func @static_matmul_becomes_systolic
// CHECK-SAME: (%[[A:.+]]: tensor<4x8xf32>, %[[B:.+]]: tensor<8x16xf32>, %[[C:.+]]: tensor<4x16xf32>)
// CHECK: %[[R:.+]] = "systolic.matmul"(%[[A]], %[[B]], %[[C]])
// CHECK-SAME: array = #systolic.array<16 : i64, 16 : i64, "ws">
// CHECK-SAME: transpose = [false, false]
// CHECK-NOT: linalg.matmul
// CHECK: return %[[R]]
// OPTS-LABEL: func.func @static_matmul_becomes_systolic
// OPTS: array = #systolic.array<8 : i64, 32 : i64, "os">
func.func @static_matmul_becomes_systolic(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @int8_matmul_accumulates_in_i32
// CHECK: "systolic.matmul"
// CHECK-SAME: (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi32>
func.func @int8_matmul_accumulates_in_i32(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xi8>, tensor<8x16xi8>) outs(%c : tensor<4x16xi32>) -> tensor<4x16xi32>
  return %0 : tensor<4x16xi32>
}

// -----

// CHECK-LABEL: func.func @bf16_and_f16_matmuls_accumulate_in_f32
// CHECK: "systolic.matmul"{{.*}}(tensor<4x8xbf16>, tensor<8x16xbf16>, tensor<4x16xf32>)
// CHECK: "systolic.matmul"{{.*}}(tensor<4x8xf16>, tensor<8x16xf16>, tensor<4x16xf32>)
func.func @bf16_and_f16_matmuls_accumulate_in_f32(%a: tensor<4x8xbf16>, %b: tensor<8x16xbf16>, %h: tensor<4x8xf16>, %g: tensor<8x16xf16>, %c: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xbf16>, tensor<8x16xbf16>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  %1 = linalg.matmul ins(%h, %g : tensor<4x8xf16>, tensor<8x16xf16>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0, %1 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#km = affine_map<(m, n, k) -> (k, m)>
#kn = affine_map<(m, n, k) -> (k, n)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>

// CHECK-LABEL: func.func @transposed_operands_set_transpose_flags
// CHECK: "systolic.matmul"{{.*}}transpose = [false, true]
// CHECK: "systolic.matmul"{{.*}}transpose = [true, false]
// CHECK: "systolic.matmul"{{.*}}transpose = [true, true]
func.func @transposed_operands_set_transpose_flags(%a: tensor<4x8xf32>, %at: tensor<8x4xf32>, %b: tensor<8x16xf32>, %bt: tensor<16x8xf32>, %c: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = linalg.matmul indexing_maps = [#mk, #nk, #mn] ins(%a, %bt : tensor<4x8xf32>, tensor<16x8xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  %1 = linalg.matmul indexing_maps = [#km, #kn, #mn] ins(%at, %b : tensor<8x4xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = linalg.matmul indexing_maps = [#km, #nk, #mn] ins(%at, %bt : tensor<8x4xf32>, tensor<16x8xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0, %1, %2 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @batch_matmul_keeps_its_batch_dim
// CHECK: "systolic.matmul"
// CHECK-SAME: (tensor<2x4x8xf32>, tensor<2x8x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// CHECK-NOT: linalg.batch_matmul
func.func @batch_matmul_keeps_its_batch_dim(%a: tensor<2x4x8xf32>, %b: tensor<2x8x16xf32>, %c: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<2x4x8xf32>, tensor<2x8x16xf32>) outs(%c : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

#bmk = affine_map<(b, m, n, k) -> (b, m, k)>
#bnk = affine_map<(b, m, n, k) -> (b, n, k)>
#bmn = affine_map<(b, m, n, k) -> (b, m, n)>

// CHECK-LABEL: func.func @batch_matmul_with_transposed_rhs
// CHECK: "systolic.matmul"{{.*}}transpose = [false, true]
func.func @batch_matmul_with_transposed_rhs(%a: tensor<2x4x8xf32>, %bt: tensor<2x16x8xf32>, %c: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %0 = linalg.batch_matmul indexing_maps = [#bmk, #bnk, #bmn] ins(%a, %bt : tensor<2x4x8xf32>, tensor<2x16x8xf32>) outs(%c : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// CHECK-LABEL: func.func @generic_contraction_is_a_matmul
// CHECK: "systolic.matmul"
// CHECK-NOT: linalg.generic
func.func @generic_contraction_is_a_matmul(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// CHECK-LABEL: func.func @generic_int8_contraction_with_sign_extension
// CHECK: "systolic.matmul"{{.*}}-> tensor<4x16xi32>
func.func @generic_int8_contraction_with_sign_extension(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %0 = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<4x8xi8>, tensor<8x16xi8>) outs(%c : tensor<4x16xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extsi %x : i8 to i32
    %ye = arith.extsi %y : i8 to i32
    %p = arith.muli %xe, %ye : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  } -> tensor<4x16xi32>
  return %0 : tensor<4x16xi32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// An unsigned int8 contraction is not what the array computes: left alone.
// CHECK-LABEL: func.func @unsigned_contraction_is_untouched
// CHECK: linalg.generic
// CHECK-NOT: systolic.matmul
func.func @unsigned_contraction_is_untouched(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %0 = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<4x8xi8>, tensor<8x16xi8>) outs(%c : tensor<4x16xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extui %x : i8 to i32
    %ye = arith.extui %y : i8 to i32
    %p = arith.muli %xe, %ye : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  } -> tensor<4x16xi32>
  return %0 : tensor<4x16xi32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A generic with matmul maps but a max-plus body is not a contraction.
// CHECK-LABEL: func.func @max_plus_generic_is_untouched
// CHECK: linalg.generic
// CHECK-NOT: systolic.matmul
func.func @max_plus_generic_is_untouched(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.addf %x, %y : f32
    %s = arith.maximumf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @dynamic_matmul_is_untouched
// CHECK: linalg.matmul
// CHECK-NOT: systolic.matmul
func.func @dynamic_matmul_is_untouched(%a: tensor<?x8xf32>, %b: tensor<8x16xf32>, %c: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// CHECK-LABEL: func.func @f64_matmul_is_untouched
// CHECK: linalg.matmul
// CHECK-NOT: systolic.matmul
func.func @f64_matmul_is_untouched(%a: tensor<4x8xf64>, %b: tensor<8x16xf64>, %c: tensor<4x16xf64>) -> tensor<4x16xf64> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf64>, tensor<8x16xf64>) outs(%c : tensor<4x16xf64>) -> tensor<4x16xf64>
  return %0 : tensor<4x16xf64>
}

// -----

// CHECK-LABEL: func.func @memref_matmul_is_untouched
// CHECK: linalg.matmul
// CHECK-NOT: systolic.matmul
func.func @memref_matmul_is_untouched(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}

// -----

// Convolutions, elementwise ops and fills are not matmuls.
// CHECK-LABEL: func.func @conv_fill_and_elementwise_are_untouched
// CHECK: linalg.fill
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK: linalg.add
// CHECK-NOT: systolic
func.func @conv_fill_and_elementwise_are_untouched(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %e: tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %0 = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%init : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %1 = linalg.add ins(%0, %0 : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) outs(%e : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %1 : tensor<1x4x6x6xf32>
}

// -----

#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (k, n)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>

// Upstream img2col's contraction: the filter has no batch dim, so the batch folds into M
// and the whole convolution is one 2-d matmul of 2*9 rows.
// CHECK-LABEL: func.func @shared_rhs_folds_the_batch_into_m
// CHECK-SAME: (%[[A:[^:]+]]: tensor<2x9x18xf32>, %[[W:[^:]+]]: tensor<18x5xf32>, %[[C:[^:]+]]: tensor<2x9x5xf32>)
// CHECK: %[[LHS:.+]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1], [2]] : tensor<2x9x18xf32> into tensor<18x18xf32>
// CHECK: %[[ACC:.+]] = tensor.collapse_shape %[[C]] {{\[\[}}0, 1], [2]] : tensor<2x9x5xf32> into tensor<18x5xf32>
// CHECK: %[[R:.+]] = "systolic.matmul"(%[[LHS]], %[[W]], %[[ACC]])
// CHECK-SAME: transpose = [false, false]
// CHECK-SAME: -> tensor<18x5xf32>
// CHECK: %[[OUT:.+]] = tensor.expand_shape %[[R]] {{\[\[}}0, 1], [2]] output_shape [2, 9, 5] : tensor<18x5xf32> into tensor<2x9x5xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[OUT]]
func.func @shared_rhs_folds_the_batch_into_m(%a: tensor<2x9x18xf32>, %w: tensor<18x5xf32>, %c: tensor<2x9x5xf32>) -> tensor<2x9x5xf32> {
  %0 = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %w : tensor<2x9x18xf32>, tensor<18x5xf32>) outs(%c : tensor<2x9x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x9x5xf32>
  return %0 : tensor<2x9x5xf32>
}

// -----

#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs_t = affine_map<(b, m, n, k) -> (n, k)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>

// A transposed shared rhs (upstream img2col of an fhwc filter) sets the transpose flag;
// a zero-filled accumulator, even seen through a reshape, is filled anew as a matrix so
// that later passes still see an empty accumulator.
// CHECK-LABEL: func.func @shared_transposed_rhs_with_a_zero_fill
// CHECK-SAME: (%[[A:[^:]+]]: tensor<2x9x18xf32>, %[[W:[^:]+]]: tensor<5x18xf32>
// CHECK: %[[ZERO:.+]] = arith.constant 0.0
// CHECK: %[[LHS:.+]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1], [2]]
// CHECK: %[[ACC:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<18x5xf32>)
// CHECK: "systolic.matmul"(%[[LHS]], %[[W]], %[[ACC]])
// CHECK-SAME: transpose = [false, true]
// CHECK: tensor.expand_shape
func.func @shared_transposed_rhs_with_a_zero_fill(%a: tensor<2x9x18xf32>, %w: tensor<5x18xf32>, %o: tensor<2x3x3x5xf32>) -> tensor<2x9x5xf32> {
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<2x3x3x5xf32>) -> tensor<2x3x3x5xf32>
  %c = tensor.collapse_shape %f [[0], [1, 2], [3]] : tensor<2x3x3x5xf32> into tensor<2x9x5xf32>
  %0 = linalg.generic {indexing_maps = [#lhs, #rhs_t, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %w : tensor<2x9x18xf32>, tensor<5x18xf32>) outs(%c : tensor<2x9x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x9x5xf32>
  return %0 : tensor<2x9x5xf32>
}

// -----

#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (k, n)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>

// linalg.batch_matmul with a broadcast rhs folds the same way.
// CHECK-LABEL: func.func @batch_matmul_with_broadcast_rhs
// CHECK: "systolic.matmul"{{.*}}(tensor<8x8xi8>, tensor<8x16xi8>, tensor<8x16xi32>) -> tensor<8x16xi32>
// CHECK: tensor.expand_shape {{.*}} into tensor<2x4x16xi32>
// CHECK-NOT: linalg.batch_matmul
func.func @batch_matmul_with_broadcast_rhs(%a: tensor<2x4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<2x4x16xi32>) -> tensor<2x4x16xi32> {
  %0 = linalg.batch_matmul indexing_maps = [#lhs, #rhs, #out] ins(%a, %b : tensor<2x4x8xi8>, tensor<8x16xi8>) outs(%c : tensor<2x4x16xi32>) -> tensor<2x4x16xi32>
  return %0 : tensor<2x4x16xi32>
}

// -----

#mat = affine_map<(d0, d1, d2) -> (d1, d2)>
#all = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// A batched rhs materialized by repeating one matrix (attention's in-projection weight as
// torch.export writes it: a broadcast generic or linalg.broadcast, then a batch_matmul)
// is that matrix: the batch folds into M, one 16x96x32 GEMM instead of 8 of 2x96x32. A
// broadcast along another dim is a real batch and stays one.
// CHECK-LABEL: func.func @repeated_rhs_is_one_matrix
// CHECK: %[[L1:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2]] : tensor<8x2x32xf32> into tensor<16x32xf32>
// CHECK: "systolic.matmul"(%[[L1]], %arg1, %{{.+}}){{.*}}(tensor<16x32xf32>, tensor<32x96xf32>, tensor<16x96xf32>) -> tensor<16x96xf32>
// CHECK: tensor.expand_shape {{.*}} into tensor<8x2x96xf32>
// CHECK: "systolic.matmul"(%{{.+}}, %arg1, %{{.+}}){{.*}}(tensor<16x32xf32>, tensor<32x96xf32>, tensor<16x96xf32>)
// CHECK: linalg.broadcast ins(%arg1 : tensor<32x96xf32>) outs(%{{.+}} : tensor<32x8x96xf32>) dimensions = [1]
// CHECK-NOT: linalg.batch_matmul
func.func @repeated_rhs_is_one_matrix(%x: tensor<8x2x32xf32>, %w: tensor<32x96xf32>, %c: tensor<8x2x96xf32>, %y: tensor<32x2x8xf32>) -> (tensor<8x2x96xf32>, tensor<8x2x96xf32>, tensor<32x2x96xf32>) {
  %e = tensor.empty() : tensor<8x32x96xf32>
  %g = linalg.generic {indexing_maps = [#mat, #all], iterator_types = ["parallel", "parallel", "parallel"]} ins(%w : tensor<32x96xf32>) outs(%e : tensor<8x32x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x32x96xf32>
  %0 = linalg.batch_matmul ins(%x, %g : tensor<8x2x32xf32>, tensor<8x32x96xf32>) outs(%c : tensor<8x2x96xf32>) -> tensor<8x2x96xf32>
  %b = linalg.broadcast ins(%w : tensor<32x96xf32>) outs(%e : tensor<8x32x96xf32>) dimensions = [0]
  %1 = linalg.batch_matmul ins(%x, %b : tensor<8x2x32xf32>, tensor<8x32x96xf32>) outs(%c : tensor<8x2x96xf32>) -> tensor<8x2x96xf32>
  %e2 = tensor.empty() : tensor<32x8x96xf32>
  %o = tensor.empty() : tensor<32x2x96xf32>
  %b2 = linalg.broadcast ins(%w : tensor<32x96xf32>) outs(%e2 : tensor<32x8x96xf32>) dimensions = [1]
  %2 = linalg.batch_matmul ins(%y, %b2 : tensor<32x2x8xf32>, tensor<32x8x96xf32>) outs(%o : tensor<32x2x96xf32>) -> tensor<32x2x96xf32>
  return %0, %1, %2 : tensor<8x2x96xf32>, tensor<8x2x96xf32>, tensor<32x2x96xf32>
}

// -----

#lhs_t = affine_map<(b, m, n, k) -> (b, k, m)>
#rhs = affine_map<(b, m, n, k) -> (k, n)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>
#w = affine_map<(b, f, p, k) -> (f, k)>
#col = affine_map<(b, f, p, k) -> (b, k, p)>
#bfp = affine_map<(b, f, p, k) -> (b, f, p)>

// Batch and m apart in lhs (a collapse cannot join them), or a lhs shared over the batch
// (upstream img2col of an nchw convolution): not one 2-d matmul without copies, untouched.
// CHECK-LABEL: func.func @unfoldable_batches_are_untouched
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: systolic.matmul
func.func @unfoldable_batches_are_untouched(%a: tensor<2x8x4xf32>, %b: tensor<8x16xf32>, %c: tensor<2x4x16xf32>,
                                            %fw: tensor<4x27xf32>, %fc: tensor<2x27x36xf32>, %fo: tensor<2x4x36xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x36xf32>) {
  %0 = linalg.generic {indexing_maps = [#lhs_t, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %b : tensor<2x8x4xf32>, tensor<8x16xf32>) outs(%c : tensor<2x4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x4x16xf32>
  %1 = linalg.generic {indexing_maps = [#w, #col, #bfp], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%fw, %fc : tensor<4x27xf32>, tensor<2x27x36xf32>) outs(%fo : tensor<2x4x36xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x4x36xf32>
  return %0, %1 : tensor<2x4x16xf32>, tensor<2x4x36xf32>
}

// -----

// An empty M, N or batch leaves nothing for an array to do: left in linalg. An empty K
// sums nothing: the result is the accumulator itself.
// CHECK-LABEL: func.func @empty_dimensions_are_untouched
// CHECK-SAME: %[[C:[^:]+]]: tensor<4x16xf32>, %{{[^:]+}}: tensor<0x4x8xf32>
// CHECK-COUNT-2: linalg.matmul
// CHECK: %[[B:.+]] = linalg.batch_matmul
// CHECK-NOT: systolic.matmul
// CHECK: return %{{.+}}, %{{.+}}, %[[C]], %[[B]]
func.func @empty_dimensions_are_untouched(%a0: tensor<0x8xf32>, %b: tensor<8x16xf32>, %c0: tensor<0x16xf32>,
                                          %a: tensor<4x8xf32>, %b0: tensor<8x0xf32>, %c1: tensor<4x0xf32>,
                                          %ak: tensor<4x0xf32>, %bk: tensor<0x16xf32>, %c: tensor<4x16xf32>,
                                          %ba: tensor<0x4x8xf32>, %bb: tensor<0x8x16xf32>, %bc: tensor<0x4x16xf32>)
    -> (tensor<0x16xf32>, tensor<4x0xf32>, tensor<4x16xf32>, tensor<0x4x16xf32>) {
  %0 = linalg.matmul ins(%a0, %b : tensor<0x8xf32>, tensor<8x16xf32>) outs(%c0 : tensor<0x16xf32>) -> tensor<0x16xf32>
  %1 = linalg.matmul ins(%a, %b0 : tensor<4x8xf32>, tensor<8x0xf32>) outs(%c1 : tensor<4x0xf32>) -> tensor<4x0xf32>
  %2 = linalg.matmul ins(%ak, %bk : tensor<4x0xf32>, tensor<0x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  %3 = linalg.batch_matmul ins(%ba, %bb : tensor<0x4x8xf32>, tensor<0x8x16xf32>) outs(%bc : tensor<0x4x16xf32>) -> tensor<0x4x16xf32>
  return %0, %1, %2, %3 : tensor<0x16xf32>, tensor<4x0xf32>, tensor<4x16xf32>, tensor<0x4x16xf32>
}

// -----

// An unsigned cast attribute is as unsigned as an arith.extui in a body.
// CHECK-LABEL: func.func @unsigned_cast_matmul_is_untouched
// CHECK: linalg.matmul
// CHECK-NOT: systolic.matmul
func.func @unsigned_cast_matmul_is_untouched(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %0 = linalg.matmul {cast = #linalg.type_fn<cast_unsigned>} ins(%a, %b : tensor<4x8xi8>, tensor<8x16xi8>) outs(%c : tensor<4x16xi32>) -> tensor<4x16xi32>
  return %0 : tensor<4x16xi32>
}
