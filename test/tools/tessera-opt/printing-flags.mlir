// RUN: tessera-opt %s --allow-unregistered-dialect --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC
// RUN: tessera-opt %s --allow-unregistered-dialect --mlir-print-debuginfo | FileCheck %s --check-prefix=DEBUGINFO
// RUN: not tessera-opt %s 2>&1 | FileCheck %s --check-prefix=UNREGISTERED -DFILE=%s

// GENERIC: "func.func"() <{function_type = () -> (), sym_name = "f"}>
// DEBUGINFO: "mystery.op"() : () -> () loc(
// UNREGISTERED: [[FILE]]:11:15: error: operation being parsed with an unregistered dialect
// UNREGISTERED-NOT: Traceback
func.func @f() {
  // An op of a dialect nobody loaded.
  "mystery.op"() : () -> ()
  return
}
