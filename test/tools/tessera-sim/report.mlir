// tessera-sim checks the outputs against the iree-cpu reference and prints the report.
// RUN: tessera-sim %s --hw gemmini-16x16 --ideal --dataflow os --trace %t.json | FileCheck %s
// RUN: %python -c "import json,sys; t=json.load(open(sys.argv[1])); print(sorted({e['tid'] for e in t['traceEvents'] if e['ph']=='X'}))" %t.json | FileCheck %s --check-prefix=TRACE
// RUN: tessera-sim %s --grid 2x2 --rows 8 --cols 8 --no-double-buffer | FileCheck %s --check-prefix=GRID

// 100x60x70 on a 16x16 os array with ideal memory: 7 x 4 folds of 16 + 16 + 70 - 2 cycles, minus 1.
// CHECK: outputs: max abs error vs the IREE reference {{0\.00e\+00|[0-9]\.[0-9]+e-(0[5-9]|[1-9][0-9])}}
// CHECK: npu-sim gemmini-16x16+custom:ideal: 1x1 unit(s) of 16x16 os, spad unbounded, acc unbounded, DRAM unbounded, latency 0
// CHECK: systolic_kernel_0  100x60x70 {{ +}}16x16 os {{ +}}2799 {{ +}}0
// CHECK: on the array: 1 matmul(s) [100x60x70]
// CHECK: on the host: nothing
// TRACE: ['array', 'dma-in', 'dma-out']
// GRID: 2x2 unit(s) of 8x8 ws
func.func @main(%a: tensor<100x70xf32>, %b: tensor<70x60xf32>) -> tensor<100x60xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<100x60xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<100x60xf32>) -> tensor<100x60xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<100x70xf32>, tensor<70x60xf32>) outs(%c : tensor<100x60xf32>) -> tensor<100x60xf32>
  return %0 : tensor<100x60xf32>
}
