// RUN: tessera-opt %s --split-input-file --tessera-outline-linalg="min-ops=1" | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(\
// RUN:   tessera-outline-linalg{min-ops=1},tessera-outline-linalg{min-ops=1})' \
// RUN:   | FileCheck %s --check-prefix=TWICE
// RUN: tessera-opt %s --split-input-file --tessera-outline-linalg \
// RUN:   | FileCheck %s --check-prefix=DEFAULT

// By default a function with one op keeps it: a lone loop nest gains nothing.
// DEFAULT-LABEL: func.func @elementwise_op_becomes_a_call
// DEFAULT-NOT: call
// DEFAULT: linalg.generic
// DEFAULT-NOT: call
// DEFAULT: return
// DEFAULT-LABEL: func.func @reduction_takes_its_fill_along
// DEFAULT-NOT: call
// DEFAULT: linalg.fill
// DEFAULT: linalg.reduce
// DEFAULT-NOT: call
// DEFAULT: return

// An elementwise op: its input goes in as a read-only buffer, its result comes back in a
// fresh buffer; the new function is internal and noinline.
// CHECK-LABEL: func.func @elementwise_op_becomes_a_call
// CHECK-SAME: (%[[X:.+]]: tensor<8xf32>)
// CHECK: %[[IN:.+]] = bufferization.to_buffer %[[X]] read_only : tensor<8xf32> to memref<8xf32>
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<8xf32>
// CHECK: call @tessera_generic_0(%[[IN]], %[[OUT]]) : (memref<8xf32>, memref<8xf32>) -> ()
// CHECK: %[[R:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]
// CHECK: func.func private @tessera_generic_0(%[[A:.+]]: memref<8xf32>, %[[B:.+]]: memref<8xf32>)
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>, llvm.no_inline, tessera.outlined
// CHECK: %[[T:.+]] = bufferization.to_tensor %[[A]] restrict : memref<8xf32>
// CHECK: %[[D:.+]] = bufferization.to_tensor %[[B]] restrict writable
// CHECK-NOT: memref.copy
// CHECK: %[[G:.+]] = linalg.generic {{.*}} ins(%[[T]] : tensor<8xf32>) outs(%[[D]] : tensor<8xf32>)
// CHECK: arith.negf
// CHECK: bufferization.materialize_in_destination %[[G]] in restrict writable %[[B]]
#map = affine_map<(d0) -> (d0)>
func.func @elementwise_op_becomes_a_call(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %0 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// A reduction's zero fill is done again inside, on the output buffer.
// CHECK-LABEL: func.func @reduction_takes_its_fill_along
// CHECK-NOT: linalg.fill
// CHECK: call @tessera_reduce_0(%{{.+}}, %{{.+}}) : (memref<8x4xf32>, memref<8xf32>) -> ()
// CHECK: func.func private @tessera_reduce_0(%[[A:.+]]: memref<8x4xf32>, %[[B:.+]]: memref<8xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[D:.+]] = bufferization.to_tensor %[[B]] restrict writable
// CHECK: %[[F:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[D]] : tensor<8xf32>)
// CHECK: linalg.reduce ins(%{{.+}} : tensor<8x4xf32>) outs(%[[F]] : tensor<8xf32>)
func.func @reduction_takes_its_fill_along(%x: tensor<8x4xf32>) -> tensor<8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %0 = linalg.reduce ins(%x : tensor<8x4xf32>) outs(%f : tensor<8xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %0 : tensor<8xf32>
}

// -----

#map = affine_map<(d0) -> (d0)>

// An init the body reads that is not a fill is passed in and copied into the output
// buffer; a scalar the body uses is passed, a constant it uses is copied in.
// CHECK-LABEL: func.func @read_init_is_copied_in
// CHECK-SAME: (%[[X:.+]]: tensor<8xf32>, %[[Y:.+]]: tensor<8xf32>, %[[S:.+]]: f32)
// CHECK: %[[BX:.+]] = bufferization.to_buffer %[[X]] read_only
// CHECK: %[[BY:.+]] = bufferization.to_buffer %[[Y]] read_only
// CHECK: call @tessera_generic_0(%[[BX]], %[[BY]], %[[S]], %{{.+}}) : (memref<8xf32>, memref<8xf32>, f32, memref<8xf32>) -> ()
// CHECK: func.func private @tessera_generic_0(%[[A:.+]]: memref<8xf32>, %[[I:.+]]: memref<8xf32>, %[[SA:.+]]: f32, %[[B:.+]]: memref<8xf32>)
// CHECK: %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
// CHECK: memref.copy %[[I]], %[[B]]
// CHECK: arith.mulf %{{.+}}, %[[TWO]]
// CHECK: arith.addf %{{.+}}, %[[SA]]
func.func @read_init_is_copied_in(%x: tensor<8xf32>, %y: tensor<8xf32>, %s: f32) -> tensor<8xf32> {
  %two = arith.constant 2.0 : f32
  %0 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%y : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %two : f32
    %a = arith.addf %m, %s : f32
    %r = arith.addf %a, %out : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Dynamic shapes stay where they are.
// CHECK-LABEL: func.func @dynamic_op_stays
// CHECK-NOT: call
// CHECK: linalg.generic
// CHECK-NOT: call
// CHECK: return
#map = affine_map<(d0) -> (d0)>
func.func @dynamic_op_stays(%x: tensor<?xf32>) -> tensor<?xf32> {
  %0 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]} ins(%x : tensor<?xf32>) outs(%x : tensor<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// A second run leaves the functions the first one made alone.
// TWICE-LABEL: func.func @outlined_once
// TWICE: call @tessera_transpose_0
// TWICE: func.func private @tessera_transpose_0
// TWICE-NEXT: bufferization.to_tensor
// TWICE-NEXT: bufferization.to_tensor
// TWICE-NEXT: linalg.transpose
// TWICE-NOT: func.func
func.func @outlined_once(%x: tensor<8x4xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %0 = linalg.transpose ins(%x : tensor<8x4xf32>) outs(%e : tensor<4x8xf32>) permutation = [1, 0]
  return %0 : tensor<4x8xf32>
}

// -----

// Two ops: both outlined by default.
// TWICE-LABEL: func.func @two_ops_are_outlined_by_default
// DEFAULT-LABEL: func.func @two_ops_are_outlined_by_default
// DEFAULT: call @tessera_transpose_0
// DEFAULT: call @tessera_generic_0
// DEFAULT: func.func private @tessera_transpose_0
// DEFAULT: func.func private @tessera_generic_0
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @two_ops_are_outlined_by_default(%x: tensor<8x4xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %0 = linalg.transpose ins(%x : tensor<8x4xf32>) outs(%e : tensor<4x8xf32>) permutation = [1, 0]
  %1 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}
