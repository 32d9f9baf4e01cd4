// Bad models and bad arguments: one `error:` line, non-zero exit, no traceback.

// RUN: not tessera-compile %S/Inputs/bad_models.py:unsupported_op 2>&1 | FileCheck %s --check-prefix=NO-LOWERING
// NO-LOWERING: error: cannot lower UsesFFT to linalg
// NO-LOWERING: bad_models.py:8:{{[0-9]+}}: error: failed to legalize operation
// NO-LOWERING-NOT: Traceback

// RUN: not tessera-compile %S/Inputs/bad_models.py:raises 2>&1 | FileCheck %s --check-prefix=RAISES
// RAISES: error: {{.*}}bad_models.py:raises() failed: RuntimeError: the user's factory is broken
// RAISES-NOT: Traceback

// RUN: not tessera-compile %S/Inputs/bad_models.py:not_a_pair 2>&1 | FileCheck %s --check-prefix=PAIR
// PAIR: error: {{.*}}not_a_pair() must return (model, example_inputs)

// RUN: not tessera-compile %S/Inputs/bad_models.py:nothing 2>&1 | FileCheck %s --check-prefix=MISSING-NAME
// MISSING-NAME: error: {{.*}}bad_models.py defines no 'nothing'

// RUN: not tessera-compile %S/Inputs/no_such_file.py:x 2>&1 | FileCheck %s --check-prefix=MISSING-FILE
// MISSING-FILE: error: could not open '{{.*}}no_such_file.py': no such file

// RUN: not tessera-compile %S/Inputs/bad_models.py:unsupported_op --target npu 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: unknown target 'npu'

// RUN: not tessera-compile %s 2>&1 | FileCheck %s --check-prefix=BAD-MLIR -DFILE=%s
// BAD-MLIR: error: {{.*}}custom op 'linalg.matmool' is unknown
// BAD-MLIR-NOT: Traceback
func.func @main(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = linalg.matmool ins(%a, %b : tensor<2x3xf32>, tensor<3x4xf32>) outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
