// RUN: tessera-opt --list-passes | FileCheck %s
// CHECK: tessera-linalg-to-systolic
// CHECK-NEXT: rows=int (default 16)
// CHECK: tessera-systolic-to-linalg
