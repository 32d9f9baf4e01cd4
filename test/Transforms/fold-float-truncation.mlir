// RUN: tessera-opt %s --split-input-file --tessera-fold-float-truncation | FileCheck %s

// An inexact truncation of a constant (MLIR folds only exact ones) is rounded to nearest.
// CHECK-LABEL: func.func @inexact_constant_is_rounded
// CHECK-DAG: arith.constant 1.300000e+00 : f32
// CHECK-DAG: arith.constant 3.660160e+00 : f16
// CHECK-DAG: arith.constant 4.187500e+00 : bf16
// CHECK-NOT: arith.truncf
func.func @inexact_constant_is_rounded() -> (f32, f16, bf16) {
  %step = arith.constant 1.3 : f64
  %a = arith.constant 3.66 : f64
  %b = arith.constant 4.2 : f32
  %0 = arith.truncf %step : f64 to f32
  %1 = arith.truncf %a : f64 to f16
  %2 = arith.truncf %b : f32 to bf16
  return %0, %1, %2 : f32, f16, bf16
}

// -----

// Ties go to even: 1 + 2^-24 lies halfway between 1 and the next f32, 1 + 2^-23.
// CHECK-LABEL: func.func @ties_to_even
// CHECK: arith.constant 1.000000e+00 : f32
func.func @ties_to_even() -> f32 {
  %c = arith.constant 1.0000000596046448 : f64
  %0 = arith.truncf %c : f64 to f32
  return %0 : f32
}

// -----

// A value computed at run time, and a truncation with its own rounding mode, stay.
// CHECK-LABEL: func.func @not_a_constant_or_another_rounding
// CHECK: arith.truncf %{{.+}} : f64 to f32
// CHECK: arith.truncf %{{.+}} downward : f64 to f32
func.func @not_a_constant_or_another_rounding(%x: f64) -> (f32, f32) {
  %c = arith.constant 1.3 : f64
  %0 = arith.truncf %x : f64 to f32
  %1 = arith.truncf %c downward : f64 to f32
  return %0, %1 : f32, f32
}
