// RUN: tessera-opt %s --split-input-file --tessera-amx-emulate --verify-diagnostics

// Tile loads and stores through a 1-d memref with an explicit stride are not emulated.
func.func @explicit_stride(%a: memref<1024xi8>, %c: memref<16x16xi32>) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  // expected-error @+1 {{tessera-amx-emulate: x86.amx.tile_load with an explicit stride is not emulated (only 2-d memrefs with their own row stride)}}
  %ta = x86.amx.tile_load %a[%c0], %c64 : memref<1024xi8> into !x86.amx.tile<16x64xi8>
  return
}

// -----

func.func @strided_store(%a: memref<1024xi32>, %b: memref<16x16xi32>) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %tb = x86.amx.tile_load %b[%c0, %c0] : memref<16x16xi32> into !x86.amx.tile<16x16xi32>
  // expected-error @+1 {{tessera-amx-emulate: x86.amx.tile_store with an explicit stride is not emulated}}
  x86.amx.tile_store %a[%c0], %tb, %c64 : memref<1024xi32>, !x86.amx.tile<16x16xi32>
  return
}

// -----

// A tile value used by an op that is not an AMX tile op (here a return) has no buffer
// to stand for it.
func.func @tile_escapes(%a: memref<16x64xi8>) -> !x86.amx.tile<16x64xi8> {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{from ('memref<16x64xi8>') to ('!x86.amx.tile<16x64xi8>') that remained live after conversion}}
  %ta = x86.amx.tile_load %a[%c0, %c0] : memref<16x64xi8> into !x86.amx.tile<16x64xi8>
  return %ta : !x86.amx.tile<16x64xi8>
}
