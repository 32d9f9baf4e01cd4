// Each chunk is processed on its own; the outputs are joined by the marker.
// RUN: tessera-opt %s --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @first
// CHECK: // -----
// CHECK-LABEL: func.func @second
func.func @first() {
  return
}

// -----

func.func @second() {
  return
}
