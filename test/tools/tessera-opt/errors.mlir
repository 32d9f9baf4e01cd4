// User mistakes give one located `error:` line and a non-zero exit, never a traceback.

// RUN: not tessera-opt %t.does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: could not open input file '{{.*}}does-not-exist.mlir': no such file
// MISSING-NOT: Traceback

// RUN: not tessera-opt %s --canonicalise 2>&1 | FileCheck %s --check-prefix=UNKNOWN-PASS
// UNKNOWN-PASS: error: unknown pass 'canonicalise'; did you mean 'canonicalize'?
// UNKNOWN-PASS-NOT: Traceback

// RUN: not tessera-opt %s --tessera-linalg-to-sistolic 2>&1 | FileCheck %s --check-prefix=UNKNOWN-TESSERA-PASS
// UNKNOWN-TESSERA-PASS: error: unknown pass 'tessera-linalg-to-sistolic'; did you mean 'tessera-linalg-to-systolic'

// RUN: not tessera-opt %s --tessera-linalg-to-systolic="rws=8" 2>&1 | FileCheck %s --check-prefix=UNKNOWN-OPTION
// UNKNOWN-OPTION: error: unknown option 'rws' for pass 'tessera-linalg-to-systolic'; did you mean 'rows'? (options: rows, cols, dataflow)

// RUN: not tessera-opt %s --tessera-linalg-to-systolic="rows=many" 2>&1 | FileCheck %s --check-prefix=BAD-VALUE
// BAD-VALUE: error: option 'rows' of pass 'tessera-linalg-to-systolic' expects an integer, got 'many'

// RUN: not tessera-opt %s --tessera-linalg-to-systolic="dataflow=rs" 2>&1 | FileCheck %s --check-prefix=BAD-DATAFLOW
// BAD-DATAFLOW: error: tessera-linalg-to-systolic: option dataflow must be one of ws, os, is, got 'rs'

// RUN: not tessera-opt %s --tessera-linalg-to-systolic="cols=0" 2>&1 | FileCheck %s --check-prefix=ZERO-COLS
// ZERO-COLS: error: tessera-linalg-to-systolic: option cols must be a positive integer, got 0

// RUN: not tessera-opt %s --pass-pipeline='builtin.module(func.func(tessera-linalg-to-systolic))' 2>&1 | FileCheck %s --check-prefix=NESTED
// NESTED: error: tessera passes run on the whole module; move them out of 'func.func(...)'

// RUN: not tessera-opt %s --pass-pipeline='builtin.module(cse' 2>&1 | FileCheck %s --check-prefix=UNBALANCED
// UNBALANCED: error: invalid pass pipeline 'builtin.module(cse': unbalanced brackets or quotes

// RUN: not tessera-opt %s --canonicalize="bogus=1" 2>&1 | FileCheck %s --check-prefix=UPSTREAM-OPTION
// UPSTREAM-OPTION: error: invalid pass pipeline 'canonicalize{bogus=1}': {{.*}}no such option bogus

func.func @ok() {
  return
}
