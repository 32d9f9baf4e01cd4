// RUN: tessera-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC
// RUN: tessera-opt %s --mlir-print-debuginfo | FileCheck %s --check-prefix=DEBUGINFO
// RUN: not tessera-opt %s --split-input-file 2>&1 | FileCheck %s --check-prefix=UNREGISTERED
// RUN: tessera-opt %s --allow-unregistered-dialect | FileCheck %s --check-prefix=ALLOWED

// GENERIC: "func.func"() <{function_type = () -> (), sym_name = "f"}>
// DEBUGINFO: loc(
// UNREGISTERED: error: Dialect `mystery' not found for custom op 'mystery.op'
// ALLOWED: "mystery.op"() : () -> ()
func.func @f() {
  "mystery.op"() : () -> ()
  return
}
