// RUN: tessera-opt --help | FileCheck %s
// CHECK: usage: tessera-opt
// CHECK-DAG: --pass-pipeline
// CHECK-DAG: --split-input-file
// CHECK-DAG: --verify-diagnostics
// CHECK-DAG: --mlir-print-ir-after-all
// CHECK-DAG: --list-passes
// CHECK-DAG: --dump-irdl
