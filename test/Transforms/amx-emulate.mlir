// RUN: tessera-opt %s --split-input-file --tessera-amx-emulate | FileCheck %s

// Tiles become buffers allocated once at the function entry; loads and stores copy
// blocks through subviews; tdpbf16ps becomes a call of a scalar helper that
// accumulates bf16 pairs in f32, in place when the multiply is the accumulator's only
// user.
// CHECK-LABEL: func.func @bf16_tile_ops
// CHECK-SAME: (%[[LHS:[^:]+]]: memref<64x64xbf16>, %{{[^:]+}}: memref<32x64xbf16>, %[[OUT:[^:]+]]: memref<64x32xf32>)
// CHECK-COUNT-3: memref.alloca() : memref<16x{{16xf32|32xbf16}}>
// CHECK: scf.for
// CHECK: %[[A:.+]] = memref.subview %[[LHS]][%{{.+}}, %{{.+}}] [16, 32] [1, 1]
// CHECK: memref.copy %[[A]], %{{.+}} : memref<16x32xbf16, strided<[64, 1], offset: ?>> to memref<16x32xbf16>
// CHECK: call @amx_emulate_tdpbf16ps_16x32x16(%{{.+}}, %{{.+}}, %[[ACC:.+]]) : (memref<16x32xbf16>, memref<16x32xbf16>, memref<16x16xf32>) -> ()
// CHECK: %[[C:.+]] = memref.subview %[[OUT]]
// CHECK: memref.copy %[[ACC]], %[[C]]
// CHECK-NOT: x86.amx
// CHECK-LABEL: func.func private @amx_emulate_tdpbf16ps_16x32x16
// CHECK: scf.for {{.*}} iter_args(%[[SUM:.+]] = %{{.+}}) -> (f32)
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: arith.mulf
// CHECK: arith.addf %[[SUM]]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: scf.yield
func.func @bf16_tile_ops(%a: memref<64x64xbf16>, %b: memref<32x64xbf16>, %c: memref<64x32xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  scf.for %i = %c0 to %c64 step %c16 {
    %ta = x86.amx.tile_load %a[%i, %c0] : memref<64x64xbf16> into !x86.amx.tile<16x32xbf16>
    %tb = x86.amx.tile_load %b[%c0, %c0] : memref<32x64xbf16> into !x86.amx.tile<16x32xbf16>
    %tc = x86.amx.tile_load %c[%i, %c0] : memref<64x32xf32> into !x86.amx.tile<16x16xf32>
    %r = x86.amx.tile_mulf %ta, %tb, %tc : !x86.amx.tile<16x32xbf16>, !x86.amx.tile<16x32xbf16>, !x86.amx.tile<16x16xf32>
    x86.amx.tile_store %c[%i, %c0], %r : memref<64x32xf32>, !x86.amx.tile<16x16xf32>
  }
  return
}

// -----

// int8 quads, sign- or zero-extended as the op's flags say; tile_zero fills with zeros.
// CHECK-LABEL: func.func @int8_tile_ops
// CHECK: linalg.fill ins(%{{.+}} : i32) outs(%{{.+}} : memref<16x16xi32>)
// CHECK: call @amx_emulate_tdpbssd_16x64x16
// CHECK: call @amx_emulate_tdpbuud_16x64x16
// CHECK-LABEL: func.func private @amx_emulate_tdpbssd_16x64x16
// CHECK-COUNT-4: arith.muli
// CHECK-LABEL: func.func private @amx_emulate_tdpbuud_16x64x16
// CHECK: arith.extui %{{.+}} : i8 to i32
func.func @int8_tile_ops(%a: memref<16x64xi8>, %b: memref<16x64xi8>, %c: memref<16x16xi32>) {
  %c0 = arith.constant 0 : index
  %ta = x86.amx.tile_load %a[%c0, %c0] : memref<16x64xi8> into !x86.amx.tile<16x64xi8>
  %tb = x86.amx.tile_load %b[%c0, %c0] : memref<16x64xi8> into !x86.amx.tile<16x64xi8>
  %z = x86.amx.tile_zero : !x86.amx.tile<16x16xi32>
  %r = x86.amx.tile_muli %ta, %tb, %z : !x86.amx.tile<16x64xi8>, !x86.amx.tile<16x64xi8>, !x86.amx.tile<16x16xi32>
  %u = x86.amx.tile_muli %ta zext, %tb zext, %r : !x86.amx.tile<16x64xi8>, !x86.amx.tile<16x64xi8>, !x86.amx.tile<16x16xi32>
  x86.amx.tile_store %c[%c0, %c0], %u : memref<16x16xi32>, !x86.amx.tile<16x16xi32>
  return
}

// -----

// An accumulator that is still used after the multiply keeps its value: the multiply
// works on a copy, and the later store reads the untouched buffer.
// CHECK-LABEL: func.func @shared_accumulator_is_copied
// CHECK-SAME: (%{{[^:]+}}: memref<16x64xi8>, %[[C_ARG:[^:]+]]: memref<16x16xi32>, %[[D_ARG:[^:]+]]: memref<16x16xi32>)
// CHECK: %[[COPY:.+]] = memref.alloca() : memref<16x16xi32>
// CHECK: %[[ACC:.+]] = memref.alloca() : memref<16x16xi32>
// CHECK: memref.copy %{{.+}}, %[[ACC]] : memref<16x16xi32, strided<[16, 1], offset: ?>> to memref<16x16xi32>
// CHECK: memref.copy %[[ACC]], %[[COPY]] : memref<16x16xi32> to memref<16x16xi32>
// CHECK: call @amx_emulate_tdpbssd_16x64x16(%{{.+}}, %{{.+}}, %[[COPY]])
// CHECK: %[[OLD:.+]] = memref.subview %[[D_ARG]]
// CHECK: memref.copy %[[ACC]], %[[OLD]]
// CHECK: %[[NEW:.+]] = memref.subview %[[C_ARG]]
// CHECK: memref.copy %[[COPY]], %[[NEW]]
func.func @shared_accumulator_is_copied(%a: memref<16x64xi8>, %c: memref<16x16xi32>, %d: memref<16x16xi32>) {
  %c0 = arith.constant 0 : index
  %ta = x86.amx.tile_load %a[%c0, %c0] : memref<16x64xi8> into !x86.amx.tile<16x64xi8>
  %tc = x86.amx.tile_load %c[%c0, %c0] : memref<16x16xi32> into !x86.amx.tile<16x16xi32>
  %r = x86.amx.tile_muli %ta, %ta, %tc : !x86.amx.tile<16x64xi8>, !x86.amx.tile<16x64xi8>, !x86.amx.tile<16x16xi32>
  x86.amx.tile_store %d[%c0, %c0], %tc : memref<16x16xi32>, !x86.amx.tile<16x16xi32>
  x86.amx.tile_store %c[%c0, %c0], %r : memref<16x16xi32>, !x86.amx.tile<16x16xi32>
  return
}

// -----

// A function that already has a helper's name keeps it; the helper is renamed by the
// module's symbol table and called by its new name. Two multiplies of one shape share
// one helper.
// CHECK-LABEL: func.func @helper_name_taken
// CHECK-COUNT-2: call @amx_emulate_tdpbf16ps_16x32x16_0(
// CHECK: func.func @amx_emulate_tdpbf16ps_16x32x16(%{{.+}}: f32) -> f32
// CHECK: func.func private @amx_emulate_tdpbf16ps_16x32x16_0(
// CHECK-NOT: func.func private @amx_emulate_tdpbf16ps_16x32x16_1
func.func @helper_name_taken(%a: memref<16x32xbf16>, %c: memref<16x16xf32>) {
  %c0 = arith.constant 0 : index
  %ta = x86.amx.tile_load %a[%c0, %c0] : memref<16x32xbf16> into !x86.amx.tile<16x32xbf16>
  %z = x86.amx.tile_zero : !x86.amx.tile<16x16xf32>
  %r = x86.amx.tile_mulf %ta, %ta, %z : !x86.amx.tile<16x32xbf16>, !x86.amx.tile<16x32xbf16>, !x86.amx.tile<16x16xf32>
  %s = x86.amx.tile_mulf %ta, %ta, %r : !x86.amx.tile<16x32xbf16>, !x86.amx.tile<16x32xbf16>, !x86.amx.tile<16x16xf32>
  x86.amx.tile_store %c[%c0, %c0], %s : memref<16x16xf32>, !x86.amx.tile<16x16xf32>
  return
}
func.func @amx_emulate_tdpbf16ps_16x32x16(%x: f32) -> f32 {
  return %x : f32
}
