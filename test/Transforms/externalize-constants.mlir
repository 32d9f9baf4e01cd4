// RUN: tessera-opt %s --split-input-file --tessera-externalize-constants="min-bytes=64" \
// RUN:   | FileCheck %s

// A large constant leaves the module: an external declaration keeps its type and alignment.
// CHECK-LABEL: llvm.mlir.global external constant @weights()
// CHECK-SAME: {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<4 x array<8 x f32>>
// CHECK-NOT: dense<
// CHECK: llvm.mlir.addressof @weights
llvm.mlir.global private constant @weights(dense<1.500000e+00> : tensor<4x8xf32>) {addr_space = 0 : i32, alignment = 64 : i64, dso_local} : !llvm.array<4 x array<8 x f32>>
llvm.func @reads_a_large_constant() -> !llvm.ptr {
  %0 = llvm.mlir.addressof @weights : !llvm.ptr
  llvm.return %0 : !llvm.ptr
}

// -----

// A weight as torch imports it, a dense_resource blob, leaves the module too.
// CHECK-LABEL: llvm.mlir.global external constant @resource_weights()
// CHECK-NOT: dense_resource
llvm.mlir.global private constant @resource_weights(dense_resource<blob> : tensor<16xi32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<16 x i32>

{-#
  dialect_resources: {
    builtin: {
      blob: "0x04000000000000000100000002000000030000000400000005000000060000000700000008000000090000000A0000000B0000000C0000000D0000000E0000000F000000"
    }
  }
#-}

// -----

// Below min-bytes, a constant stays where LLVM can fold it.
// CHECK-LABEL: llvm.mlir.global private constant @small_stays(dense<[1, 2, 3, 4]> : tensor<4xi32>)
llvm.mlir.global private constant @small_stays(dense<[1, 2, 3, 4]> : tensor<4xi32>) {addr_space = 0 : i32} : !llvm.array<4 x i32>

// -----

// A global the code may write keeps its initializer.
// CHECK-LABEL: llvm.mlir.global private @mutable_stays(dense<0.000000e+00> : tensor<32xf32>)
llvm.mlir.global private @mutable_stays(dense<0.0> : tensor<32xf32>) {addr_space = 0 : i32} : !llvm.array<32 x f32>

// -----

// A public global is defined here for others: it stays.
// CHECK-LABEL: llvm.mlir.global external constant @public_stays(dense<0.000000e+00> : tensor<32xf32>)
llvm.mlir.global external constant @public_stays(dense<0.0> : tensor<32xf32>) {addr_space = 0 : i32} : !llvm.array<32 x f32>

// -----

// bf16 data has no numpy type to read it through: it stays, never read wrongly.
// CHECK-LABEL: llvm.mlir.global private constant @bf16_stays(dense<1.000000e+00> : tensor<64xbf16>)
llvm.mlir.global private constant @bf16_stays(dense<1.0> : tensor<64xbf16>) {addr_space = 0 : i32} : !llvm.array<64 x bf16>
