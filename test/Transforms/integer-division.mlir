// RUN: tessera-opt %s --split-input-file --tessera-integer-division | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-integer-division --tessera-integer-division \
// RUN:   | FileCheck %s --check-prefix=TWICE

// A floor division torch-mlir computes in f64 is done on the integers (exact past 2^53).
// CHECK-LABEL: func.func @float_floor_division_becomes_floordivsi
// CHECK-SAME: (%[[A:.+]]: i64, %[[B:.+]]: i64)
// CHECK: %[[SAFE:.+]] = arith.select %{{.+}}, %{{.+}}, %[[B]] : i64
// CHECK: arith.floordivsi %[[A]], %[[SAFE]] : i64
// CHECK-NOT: arith.divf
// CHECK-NOT: arith.fptosi
func.func @float_floor_division_becomes_floordivsi(%a: i64, %b: i64) -> i64 {
  %fa = arith.sitofp %a : i64 to f64
  %fb = arith.sitofp %b : i64 to f64
  %q = arith.divf %fa, %fb : f64
  %f = math.floor %q : f64
  %r = arith.fptosi %f : f64 to i64
  return %r : i64
}

// -----

// A signed division gets divisor 1 where it is 0 or -1, then -1 (x / 0) or -x (x / -1).
// CHECK-LABEL: func.func @signed_division_cannot_trap
// CHECK-SAME: (%[[A:.+]]: i32, %[[B:.+]]: i32)
// CHECK-DAG: %[[ZERO:.+]] = arith.cmpi eq, %[[B]], %c0_i32 : i32
// CHECK-DAG: %[[MINUS1:.+]] = arith.cmpi eq, %[[B]], %c-1_i32 : i32
// CHECK: %[[BAD:.+]] = arith.ori %[[ZERO]], %[[MINUS1]] : i1
// CHECK: %[[SAFE:.+]] = arith.select %[[BAD]], %c1_i32, %[[B]] : i32
// CHECK: %[[Q:.+]] = arith.divsi %[[A]], %[[SAFE]] : i32
// CHECK: %[[NEG:.+]] = arith.subi %c0_i32{{.*}}, %[[A]] : i32
// CHECK: %[[QN:.+]] = arith.select %[[MINUS1]], %[[NEG]], %[[Q]] : i32
// CHECK: %[[R:.+]] = arith.select %[[ZERO]], %c-1_i32{{.*}}, %[[QN]] : i32
// CHECK: return %[[R]]
// Run again, the pass leaves its own guard as it is.
// TWICE-LABEL: func.func @signed_division_cannot_trap
// TWICE-COUNT-1: arith.ori
// TWICE-NOT: arith.ori
// TWICE: return
func.func @signed_division_cannot_trap(%a: i32, %b: i32) -> i32 {
  %q = arith.divsi %a, %b : i32
  return %q : i32
}

// -----

// A remainder by zero is the dividend.
// CHECK-LABEL: func.func @unsigned_remainder_by_zero_is_the_dividend
// CHECK-SAME: (%[[A:.+]]: i8, %[[B:.+]]: i8)
// CHECK: %[[ZERO:.+]] = arith.cmpi eq, %[[B]], %c0_i8 : i8
// CHECK: %[[SAFE:.+]] = arith.select %[[ZERO]], %c1_i8, %[[B]] : i8
// CHECK: %[[R:.+]] = arith.remui %[[A]], %[[SAFE]] : i8
// CHECK: arith.select %[[ZERO]], %[[A]], %[[R]] : i8
func.func @unsigned_remainder_by_zero_is_the_dividend(%a: i8, %b: i8) -> i8 {
  %r = arith.remui %a, %b : i8
  return %r : i8
}

// -----

// A constant divisor other than 0 and -1 needs no guard; a constant 0 is guarded.
// CHECK-LABEL: func.func @constant_divisors
// CHECK-DAG: %[[C:.+]] = arith.constant 1073741824 : i64
// CHECK-DAG: %[[Z:.+]] = arith.constant 0 : i64
// CHECK: arith.divsi %{{.+}}, %[[C]] : i64
// CHECK: %[[SAFE:.+]] = arith.select %{{.+}}, %{{.+}}, %[[Z]] : i64
// CHECK: arith.divui %{{.+}}, %[[SAFE]] : i64
func.func @constant_divisors(%a: i64) -> (i64, i64) {
  %c = arith.constant 1073741824 : i64
  %z = arith.constant 0 : i64
  %k = arith.divsi %a, %c : i64
  %q = arith.divui %a, %z : i64
  return %k, %q : i64, i64
}

// -----

// Vector divisions are left to their own lowering (the pass runs on linalg bodies).
// CHECK-LABEL: func.func @vectors_are_left_alone
// CHECK-NOT: arith.select
func.func @vectors_are_left_alone(%a: vector<4xi32>, %b: vector<4xi32>) -> vector<4xi32> {
  %q = arith.divsi %a, %b : vector<4xi32>
  return %q : vector<4xi32>
}
