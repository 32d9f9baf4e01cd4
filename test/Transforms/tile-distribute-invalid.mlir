// RUN: tessera-opt %s --split-input-file --tessera-tile-distribute="grid-rows=2 grid-cols=1" --verify-diagnostics

// What tessera-systolic-tile hands on about a kernel is a verified attribute of the
// systolic dialect, read through typed accessors: a missing or malformed one is an error
// at the kernel, never a crash in the pass that reads it.

// expected-error @+1 {{'systolic.kernel' of @not_a_kernel_attribute must be a #systolic.kernel<...> attribute, got 5 : i64}}
func.func private @not_a_kernel_attribute(%a: memref<4x4xf32>) attributes {systolic.kernel = 5 : i64} {
  return
}

// -----

// expected-error @+1 {{kind must be one of isa, vector, amx, got 'gpu'}}
func.func private @unknown_kind(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) attributes {systolic.kernel = #systolic.kernel<"gpu", ["lhs", "rhs", "out"], [1, 4, 4, 4], [4, 4, 4]>} {
  return
}

// -----

// expected-error @+1 {{gives 4 roles but the function takes 3 arguments}}
func.func private @roles_do_not_match_arguments(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) attributes {systolic.kernel = #systolic.kernel<"isa", ["lhs", "rhs", "bias", "out"], [1, 4, 4, 4], [4, 4, 4]>} {
  return
}

// -----

// expected-error @+1 {{roles must include lhs, rhs and out}}
func.func private @no_rhs(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) attributes {systolic.kernel = #systolic.kernel<"isa", ["lhs", "acc", "out"], [1, 4, 4, 4], [4, 4, 4]>} {
  return
}

// -----

// expected-error @+1 {{gemm [batch, m, n, k] must be 4 i64 integers, got [1, 4, 4]}}
func.func private @gemm_too_short(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) attributes {systolic.kernel = #systolic.kernel<"isa", ["lhs", "rhs", "out"], [1, 4, 4], [4, 4, 4]>} {
  return
}

// -----

// expected-error @+1 {{block [bm, bn, bk] must be integers of at least 1, got [0, 4, 4]}}
func.func private @empty_block(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) attributes {systolic.kernel = #systolic.kernel<"isa", ["lhs", "rhs", "out"], [1, 4, 4, 4], [0, 4, 4]>} {
  return
}

// -----

// expected-error @+1 {{kernel @no_memory has no 'systolic.memory' attribute}}
func.func private @no_memory(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) attributes {systolic.kernel = #systolic.kernel<"isa", ["lhs", "rhs", "out"], [1, 4, 4, 4], [4, 4, 4]>} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c4 step %c1 {
  } {systolic.parallel = #systolic.parallel}
  return
}

// -----

func.func private @parallel_mark_of_the_wrong_kind(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) attributes {systolic.kernel = #systolic.kernel<"isa", ["lhs", "rhs", "out"], [1, 4, 4, 4], [4, 4, 4]>, systolic.memory = #systolic.memory<1024 : i64, 1024 : i64, 16 : i64, 0 : i64>} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{'systolic.parallel' must be #systolic.parallel, got true}}
  scf.for %i = %c0 to %c4 step %c1 {
  } {systolic.parallel = true}
  return
}

// -----

// expected-error @+1 {{memories must be positive and bandwidth and latency not negative}}
func.func private @negative_latency(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) attributes {systolic.kernel = #systolic.kernel<"isa", ["lhs", "rhs", "out"], [1, 4, 4, 4], [4, 4, 4]>, systolic.memory = #systolic.memory<1024 : i64, 1024 : i64, 16 : i64, -5 : i64>} {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c4 step %c1 {
  } {systolic.parallel = #systolic.parallel}
  return
}
