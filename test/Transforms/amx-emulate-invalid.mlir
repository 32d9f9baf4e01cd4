// RUN: tessera-opt %s --split-input-file --tessera-amx-emulate --verify-diagnostics

// Tile loads and stores through a 1-d memref with an explicit stride are not emulated.
func.func @explicit_stride(%a: memref<1024xi8>, %c: memref<16x16xi32>) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  // expected-error @+1 {{tessera-amx-emulate: x86.amx.tile_load with an explicit stride is not emulated (only 2-d memrefs with their own row stride)}}
  %ta = x86.amx.tile_load %a[%c0], %c64 : memref<1024xi8> into !x86.amx.tile<16x64xi8>
  return
}
