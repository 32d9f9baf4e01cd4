// RUN: tessera-opt %s --split-input-file --verify-diagnostics

// One case per verifier error of the systolic dialect.

// --- structure checked by IRDL (operand and attribute kinds, missing attributes) ------

func.func @matmul_operand_not_a_tensor(%a: memref<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected base type 'builtin.tensor' but got 'builtin.memref'}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (memref<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @array_dataflow_not_a_string(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected base attribute 'builtin.string' but got 'builtin.integer'}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, 1 : i64>, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @matmul_missing_transpose(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'systolic.matmul' op attribute "transpose" is expected but not provided}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @matmul_array_not_a_systolic_array(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expected base attribute 'systolic.array' but got 'builtin.integer'}}
  %r = "systolic.matmul"(%a, %b, %c) {array = 16 : i64, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @move_in_source_is_a_tensor(%src: tensor<16x16xi8>, %dst: memref<16x16xi8, #systolic.spad>) {
  // expected-error @+1 {{expected base type 'builtin.memref' but got 'builtin.tensor'}}
  "systolic.move_in"(%src, %dst) : (tensor<16x16xi8>, memref<16x16xi8, #systolic.spad>) -> ()
  return
}

// -----

func.func @move_out_missing_epilogue(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x16xi32>) {
  // expected-error @+1 {{'systolic.move_out' op attribute "epilogue" is expected but not provided}}
  "systolic.move_out"(%src, %dst) {operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi32>) -> ()
  return
}

// -----

// --- systolic.matmul: array -------------------------------------------------------------

func.func @matmul_array_zero_rows(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{array must have positive rows and cols, got 0x16}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<0 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @matmul_unknown_dataflow(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{array dataflow must be one of ws, os, is, got 'rs'}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "rs">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// --- systolic.matmul: transpose ---------------------------------------------------------

func.func @transpose_has_one_flag(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{transpose must be two booleans [lhs, rhs], got [false]}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @transpose_flags_not_booleans(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{transpose must be two booleans [lhs, rhs], got [0, 1]}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [0, 1], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// --- systolic.matmul: shapes ------------------------------------------------------------

func.func @matmul_ranks_differ(%a: tensor<2x4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{lhs, rhs, acc and result must all be rank 2 (or 3 with a leading batch dim), got lhs 2x4x8, rhs 8x16, acc 4x16, result 4x16}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @matmul_rank_four(%a: tensor<1x2x4x8xf32>, %b: tensor<1x2x8x16xf32>, %c: tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32> {
  // expected-error @+1 {{must all be rank 2 (or 3 with a leading batch dim), got lhs 1x2x4x8}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<1x2x4x8xf32>, tensor<1x2x8x16xf32>, tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %r : tensor<1x2x4x16xf32>
}

// -----

func.func @matmul_dynamic_shape(%a: tensor<?x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{needs static shapes, but lhs is ?x8}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @batch_dims_disagree(%a: tensor<2x4x8xf32>, %b: tensor<3x8x16xf32>, %c: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  // expected-error @+1 {{batch dims disagree: lhs is 2x4x8 but rhs is 3x8x16}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x4x8xf32>, tensor<3x8x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %r : tensor<2x4x16xf32>
}

// -----

func.func @reduction_sizes_differ(%a: tensor<4x8xf32>, %b: tensor<6x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{lhs is 4x8 but rhs is 6x16: reduction sizes 8 and 6 differ}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<6x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// Shapes that would fit untransposed do not fit once lhs is read transposed.
func.func @reduction_sizes_differ_lhs_transposed(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{lhs is 4x8 but rhs is 8x16 (lhs transposed): reduction sizes 4 and 8 differ}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [true, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

func.func @reduction_sizes_differ_rhs_transposed(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{lhs is 4x8 but rhs is 8x16 (rhs transposed): reduction sizes 8 and 16 differ}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, true], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

func.func @acc_shape_mismatch(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{acc is 4x8 but lhs·rhs is 4x16}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

func.func @batched_acc_shape_mismatch(%a: tensor<2x4x8xf32>, %b: tensor<2x8x16xf32>, %c: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  // expected-error @+1 {{acc is 1x4x16 but lhs·rhs is 2x4x16}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x4x8xf32>, tensor<2x8x16xf32>, tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  return %r : tensor<1x4x16xf32>
}

// -----

func.func @result_shape_mismatch(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<16x4xf32> {
  // expected-error @+1 {{result is 16x4 but acc is 4x16}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<16x4xf32>
  return %r : tensor<16x4xf32>
}

// -----

// --- systolic.matmul: element types -----------------------------------------------------

func.func @lhs_rhs_element_types_differ(%a: tensor<4x8xbf16>, %b: tensor<8x16xf16>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{lhs element type is bf16 but rhs is f16}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xbf16>, tensor<8x16xf16>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @i8_accumulating_in_f32(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{i8·i8→f32 is not supported; supported: bf16·bf16→f32, i8·i8→i32, f16·f16→f32, f32·f32→f32}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @bf16_accumulating_in_bf16(%a: tensor<4x8xbf16>, %b: tensor<8x16xbf16>, %c: tensor<4x16xbf16>) -> tensor<4x16xbf16> {
  // expected-error @+1 {{bf16·bf16→bf16 is not supported}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xbf16>, tensor<8x16xbf16>, tensor<4x16xbf16>) -> tensor<4x16xbf16>
  return %r : tensor<4x16xbf16>
}

// -----

func.func @result_element_type_differs_from_acc(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf16> {
  // expected-error @+1 {{result element type is f16 but acc is f32}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf16>
  return %r : tensor<4x16xf16>
}

// -----

// --- systolic.matmul: epilogue ----------------------------------------------------------

func.func @epilogue_unknown_entry(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{epilogue has unknown entry 'gelu'; known: relu, scale}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {gelu}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @epilogue_relu_not_unit(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{epilogue 'relu' must be a unit attribute, got true}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {relu = true}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @epilogue_scale_not_float(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi8> {
  // expected-error @+1 {{epilogue 'scale' must be a float attribute, got 2 : i32}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {scale = 2 : i32}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi8>
  return %r : tensor<4x16xi8>
}

// -----

func.func @requantize_from_f32(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xi8> {
  // expected-error @+1 {{requantize (epilogue scale) needs an i32 accumulator and an i8 result, got f32 and i8}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {scale = 5.000000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xi8>
  return %r : tensor<4x16xi8>
}

// -----

func.func @requantize_to_i32(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>) -> tensor<4x16xi32> {
  // expected-error @+1 {{requantize (epilogue scale) needs an i32 accumulator and an i8 result, got i32 and i32}}
  %r = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {scale = 5.000000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>) -> tensor<4x16xi32>
  return %r : tensor<4x16xi32>
}

// -----

// --- systolic.matmul: bias --------------------------------------------------------------

func.func @bias_wrong_size(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>, %bias: tensor<4xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{bias is 4 but the result has 16 columns}}
  %r = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<4xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @bias_per_element_not_per_column(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>, %bias: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{bias is 4x16 but the result has 16 columns}}
  %r = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

func.func @bias_element_type_differs_from_acc(%a: tensor<4x8xi8>, %b: tensor<8x16xi8>, %c: tensor<4x16xi32>, %bias: tensor<16xi8>) -> tensor<4x16xi32> {
  // expected-error @+1 {{bias element type is i8 but acc is i32}}
  %r = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<4x8xi8>, tensor<8x16xi8>, tensor<4x16xi32>, tensor<16xi8>) -> tensor<4x16xi32>
  return %r : tensor<4x16xi32>
}

// -----

// --- systolic.move_in -------------------------------------------------------------------

func.func @move_in_from_spad(%src: memref<16x16xi8, #systolic.spad>, %dst: memref<16x16xi8, #systolic.spad>) {
  // expected-error @+1 {{source must be in global memory, got #systolic.spad}}
  "systolic.move_in"(%src, %dst) : (memref<16x16xi8, #systolic.spad>, memref<16x16xi8, #systolic.spad>) -> ()
  return
}

// -----

func.func @move_in_to_global(%src: memref<16x16xi8>, %dst: memref<16x16xi8>) {
  // expected-error @+1 {{destination must be in #systolic.spad or #systolic.acc, got global memory}}
  "systolic.move_in"(%src, %dst) : (memref<16x16xi8>, memref<16x16xi8>) -> ()
  return
}

// -----

func.func @move_in_dynamic_destination(%src: memref<16x16xi8>, %dst: memref<?x16xi8, #systolic.spad>) {
  // expected-error @+1 {{destination must have a static shape, got ?x16}}
  "systolic.move_in"(%src, %dst) : (memref<16x16xi8>, memref<?x16xi8, #systolic.spad>) -> ()
  return
}

// -----

func.func @move_in_source_larger_than_destination(%src: memref<32x16xi8>, %dst: memref<16x16xi8, #systolic.spad>) {
  // expected-error @+1 {{source is 32x16 but destination is 16x16: the destination block must be at least as large in every dim (extra is padding)}}
  "systolic.move_in"(%src, %dst) : (memref<32x16xi8>, memref<16x16xi8, #systolic.spad>) -> ()
  return
}

// -----

func.func @move_in_ranks_differ(%src: memref<16xi8>, %dst: memref<16x16xi8, #systolic.spad>) {
  // expected-error @+1 {{source is 16 but destination is 16x16: the destination block must be at least as large}}
  "systolic.move_in"(%src, %dst) : (memref<16xi8>, memref<16x16xi8, #systolic.spad>) -> ()
  return
}

// -----

func.func @move_in_element_types_differ(%src: memref<16x16xi8>, %dst: memref<16x16xi32, #systolic.acc>) {
  // expected-error @+1 {{source element type is i8 but destination is i32}}
  "systolic.move_in"(%src, %dst) : (memref<16x16xi8>, memref<16x16xi32, #systolic.acc>) -> ()
  return
}

// -----

// --- systolic.preload -------------------------------------------------------------------

func.func @preload_array_zero_cols(%w: memref<16x16xi8, #systolic.spad>) {
  // expected-error @+1 {{array must have positive rows and cols, got 16x0}}
  "systolic.preload"(%w) {array = #systolic.array<16 : i64, 0 : i64, "ws">} : (memref<16x16xi8, #systolic.spad>) -> ()
  return
}

// -----

func.func @preload_unknown_dataflow(%w: memref<16x16xi8, #systolic.spad>) {
  // expected-error @+1 {{array dataflow must be one of ws, os, is, got 'WS'}}
  "systolic.preload"(%w) {array = #systolic.array<16 : i64, 16 : i64, "WS">} : (memref<16x16xi8, #systolic.spad>) -> ()
  return
}

// -----

func.func @preload_from_global(%w: memref<16x16xi8>) {
  // expected-error @+1 {{stationary block must be in #systolic.spad or #systolic.acc, got global memory}}
  "systolic.preload"(%w) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<16x16xi8>) -> ()
  return
}

// -----

func.func @preload_block_larger_than_array(%w: memref<16x32xi8, #systolic.spad>) {
  // expected-error @+1 {{stationary block is 16x32 but the array is 16x16}}
  "systolic.preload"(%w) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<16x32xi8, #systolic.spad>) -> ()
  return
}

// -----

func.func @preload_block_not_2d(%w: memref<2x8x8xi8, #systolic.spad>) {
  // expected-error @+1 {{stationary block must be a static 2-d block, got 2x8x8}}
  "systolic.preload"(%w) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<2x8x8xi8, #systolic.spad>) -> ()
  return
}

// -----

// --- systolic.compute -------------------------------------------------------------------

func.func @compute_accumulate_not_boolean(%a: memref<4x8xi8, #systolic.spad>, %b: memref<8x16xi8, #systolic.spad>, %c: memref<4x16xi32, #systolic.acc>) {
  // expected-error @+1 {{accumulate must be a boolean, got 1 : i32}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = 1 : i32} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

// --- systolic.move_out ------------------------------------------------------------------

func.func @move_out_from_spad(%src: memref<16x16xi32, #systolic.spad>, %dst: memref<16x16xi32>) {
  // expected-error @+1 {{source must be in #systolic.acc, got #systolic.spad}}
  "systolic.move_out"(%src, %dst) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.spad>, memref<16x16xi32>) -> ()
  return
}

// -----

func.func @move_out_to_acc(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x16xi32, #systolic.acc>) {
  // expected-error @+1 {{destination must be in global memory, got #systolic.acc}}
  "systolic.move_out"(%src, %dst) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @move_out_dynamic_source(%src: memref<16x?xi32, #systolic.acc>, %dst: memref<16x16xi32>) {
  // expected-error @+1 {{source must have a static shape, got 16x?}}
  "systolic.move_out"(%src, %dst) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x?xi32, #systolic.acc>, memref<16x16xi32>) -> ()
  return
}

// -----

func.func @move_out_destination_larger_than_source(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x32xi32>) {
  // expected-error @+1 {{destination is 16x32 but source is 16x16: the source block must be at least as large in every dim (extra is padding)}}
  "systolic.move_out"(%src, %dst) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x32xi32>) -> ()
  return
}

// -----

func.func @move_out_epilogue_unknown_entry(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x16xi32>) {
  // expected-error @+1 {{epilogue has unknown entry 'bias'; known: relu, scale}}
  "systolic.move_out"(%src, %dst) {epilogue = {bias}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi32>) -> ()
  return
}

// -----

func.func @move_out_epilogue_relu_not_unit(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x16xi32>) {
  // expected-error @+1 {{epilogue 'relu' must be a unit attribute, got "yes"}}
  "systolic.move_out"(%src, %dst) {epilogue = {relu = "yes"}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi32>) -> ()
  return
}

// -----

func.func @move_out_epilogue_scale_not_float(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x16xi8>) {
  // expected-error @+1 {{epilogue 'scale' must be a float attribute, got "0.5"}}
  "systolic.move_out"(%src, %dst) {epilogue = {scale = "0.5"}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi8>) -> ()
  return
}

// -----

func.func @move_out_requantize_to_i32(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x16xi32>) {
  // expected-error @+1 {{requantize (epilogue scale) needs an i32 accumulator and an i8 destination, got i32 and i32}}
  "systolic.move_out"(%src, %dst) {epilogue = {scale = 5.000000e-01 : f32}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi32>) -> ()
  return
}

// -----

func.func @move_out_element_types_differ(%src: memref<16x16xf32, #systolic.acc>, %dst: memref<16x16xbf16>) {
  // expected-error @+1 {{destination element type is bf16 but acc is f32}}
  "systolic.move_out"(%src, %dst) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 0>} : (memref<16x16xf32, #systolic.acc>, memref<16x16xbf16>) -> ()
  return
}

// -----

// --- systolic.fence ---------------------------------------------------------------------

func.func @fence_with_result() {
  // expected-error @+1 {{expects exactly 0 results, but got 1}}
  %done = "systolic.fence"() : () -> i1
  return
}

// -----

func.func @compute_array_negative_rows(%a: memref<4x8xi8, #systolic.spad>, %b: memref<8x16xi8, #systolic.spad>, %c: memref<4x16xi32, #systolic.acc>) {
  // expected-error @+1 {{array must have positive rows and cols, got -1x16}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<-1 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @compute_unknown_dataflow(%a: memref<4x8xi8, #systolic.spad>, %b: memref<8x16xi8, #systolic.spad>, %c: memref<4x16xi32, #systolic.acc>) {
  // expected-error @+1 {{array dataflow must be one of ws, os, is, got ''}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "">, accumulate = false} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @compute_lhs_in_global(%a: memref<4x8xi8>, %b: memref<8x16xi8, #systolic.spad>, %c: memref<4x16xi32, #systolic.acc>) {
  // expected-error @+1 {{lhs must be in #systolic.spad, got global memory}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xi8>, memref<8x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @compute_rhs_in_acc(%a: memref<4x8xi8, #systolic.spad>, %b: memref<8x16xi8, #systolic.acc>, %c: memref<4x16xi32, #systolic.acc>) {
  // expected-error @+1 {{rhs must be in #systolic.spad, got #systolic.acc}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.acc>, memref<4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @compute_out_in_spad(%a: memref<4x8xi8, #systolic.spad>, %b: memref<8x16xi8, #systolic.spad>, %c: memref<4x16xi32, #systolic.spad>) {
  // expected-error @+1 {{out must be in #systolic.acc, got #systolic.spad}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.spad>) -> ()
  return
}

// -----

func.func @compute_array_dim_dynamic(%a: memref<4x?xi8, #systolic.spad>, %b: memref<?x16xi8, #systolic.spad>, %c: memref<4x16xi32, #systolic.acc>) {
  // expected-error @+1 {{with dataflow ws the array-mapped dims of 4x?·?x16 must be static (only the streamed dim may be dynamic)}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x?xi8, #systolic.spad>, memref<?x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @compute_out_not_2d(%a: memref<4x8xi8, #systolic.spad>, %b: memref<8x16xi8, #systolic.spad>, %c: memref<1x4x16xi32, #systolic.acc>) {
  // expected-error @+1 {{out must be a 2-d block, got 1x4x16}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.spad>, memref<1x4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @compute_reduction_sizes_differ(%a: memref<4x8xi8, #systolic.spad>, %b: memref<4x16xi8, #systolic.spad>, %c: memref<4x16xi32, #systolic.acc>) {
  // expected-error @+1 {{lhs is 4x8 but rhs is 4x16}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xi8, #systolic.spad>, memref<4x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @compute_out_shape_mismatch(%a: memref<4x8xi8, #systolic.spad>, %b: memref<8x16xi8, #systolic.spad>, %c: memref<16x16xi32, #systolic.acc>) {
  // expected-error @+1 {{out is 16x16 but lhs·rhs is 4x16}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xi8, #systolic.spad>, memref<8x16xi8, #systolic.spad>, memref<16x16xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @compute_element_types_differ(%a: memref<4x8xf16, #systolic.spad>, %b: memref<8x16xbf16, #systolic.spad>, %c: memref<4x16xf32, #systolic.acc>) {
  // expected-error @+1 {{lhs element type is f16 but rhs is bf16}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xf16, #systolic.spad>, memref<8x16xbf16, #systolic.spad>, memref<4x16xf32, #systolic.acc>) -> ()
  return
}

// -----

func.func @compute_unsupported_combination(%a: memref<4x8xf32, #systolic.spad>, %b: memref<8x16xf32, #systolic.spad>, %c: memref<4x16xf16, #systolic.acc>) {
  // expected-error @+1 {{f32·f32→f16 is not supported; supported: bf16·bf16→f32}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x8xf32, #systolic.spad>, memref<8x16xf32, #systolic.spad>, memref<4x16xf16, #systolic.acc>) -> ()
  return
}

// -----

// Weight-stationary holds the KxN rhs block: K=32 does not fit 16 rows.
func.func @compute_block_does_not_fit_array(%a: memref<4x32xi8, #systolic.spad>, %b: memref<32x16xi8, #systolic.spad>, %c: memref<4x16xi32, #systolic.acc>) {
  // expected-error @+1 {{computing 4x32·32x16 with dataflow ws needs a 32x16 array but the array is 16x16}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, accumulate = false} : (memref<4x32xi8, #systolic.spad>, memref<32x16xi8, #systolic.spad>, memref<4x16xi32, #systolic.acc>) -> ()
  return
}

// -----

// Output-stationary holds the MxN accumulator block: N=32 does not fit 16 cols.
func.func @compute_output_stationary_does_not_fit(%a: memref<16x8xi8, #systolic.spad>, %b: memref<8x32xi8, #systolic.spad>, %c: memref<16x32xi32, #systolic.acc>) {
  // expected-error @+1 {{computing 16x8·8x32 with dataflow os needs a 16x32 array but the array is 16x16}}
  "systolic.compute"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "os">, accumulate = false} : (memref<16x8xi8, #systolic.spad>, memref<8x32xi8, #systolic.spad>, memref<16x32xi32, #systolic.acc>) -> ()
  return
}

// -----

func.func @preload_dynamic_block(%w: memref<?x16xi8, #systolic.spad>) {
  // expected-error @+1 {{stationary block must be a static 2-d block, got ?x16}}
  "systolic.preload"(%w) {array = #systolic.array<16 : i64, 16 : i64, "ws">} : (memref<?x16xi8, #systolic.spad>) -> ()
  return
}

// -----

func.func @move_out_without_segment_sizes(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x16xi32>) {
  // expected-error @+1 {{needs operandSegmentSizes = array<i32: 1, 1, 0 or 1>}}
  "systolic.move_out"(%src, %dst) {epilogue = {}} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi32>) -> ()
  return
}

// -----

func.func @move_out_bias_wrong_length(%src: memref<16x16xi32, #systolic.acc>, %dst: memref<16x16xi32>, %bias: memref<8xi32>) {
  // expected-error @+1 {{bias is 8 but the destination has 16 columns}}
  "systolic.move_out"(%src, %dst, %bias) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1>} : (memref<16x16xi32, #systolic.acc>, memref<16x16xi32>, memref<8xi32>) -> ()
  return
}

// -----

func.func @move_out_bias_wrong_type(%src: memref<16x16xf32, #systolic.acc>, %dst: memref<16x16xf32>, %bias: memref<16xf16>) {
  // expected-error @+1 {{bias element type is f16 but the accumulator is f32}}
  "systolic.move_out"(%src, %dst, %bias) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1>} : (memref<16x16xf32, #systolic.acc>, memref<16x16xf32>, memref<16xf16>) -> ()
  return
}

// -----

func.func @move_out_bias_in_accumulator(%src: memref<16x16xf32, #systolic.acc>, %dst: memref<16x16xf32>, %bias: memref<16xf32, #systolic.acc>) {
  // expected-error @+1 {{bias must be in global memory, got #systolic.acc}}
  "systolic.move_out"(%src, %dst, %bias) {epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1>} : (memref<16x16xf32, #systolic.acc>, memref<16x16xf32>, memref<16xf32, #systolic.acc>) -> ()
  return
}

// -----

func.func @is_preload_checks_the_transposed_block(%a: memref<8x32xi8, #systolic.spad>) {
  // expected-error @+1 {{stationary block is 8x32 (transposed, as is places it) but the array is 16x16}}
  "systolic.preload"(%a) {array = #systolic.array<16 : i64, 16 : i64, "is">} : (memref<8x32xi8, #systolic.spad>) -> ()
  return
}

// -----

// --- #systolic.mapping on systolic.matmul ----------------------------------------------

func.func @mapping_must_be_a_mapping(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{'systolic.mapping' must be a #systolic.mapping<...> attribute, got "tiles"}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = "tiles"} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// -----

func.func @mapping_needs_three_tiles(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{mapping tiles [tm, tn, tk] must be 3 i64 integers, got [16, 16]}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[16, 16], "mnk", [2, 2], "none">} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// -----

func.func @mapping_tiles_are_positive(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{mapping tiles [tm, tn, tk] must be integers at least 1, got [16, 0, 16]}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[16, 0, 16], "mnk", [2, 2], "none">} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// -----

func.func @mapping_order_is_a_permutation(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{mapping order must be one of 'mnk', 'mkn', 'nmk', 'nkm', 'kmn', 'knm', got "mmk"}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[16, 16, 16], "mmk", [2, 2], "none">} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// -----

func.func @mapping_buffers_are_one_or_two(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{mapping buffers [spad, acc] must be integers between 1 and 2, got [3, 2]}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[16, 16, 16], "mnk", [3, 2], "none">} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// -----

func.func @mapping_split_is_known(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{mapping split must be one of 'none', 'b', 'm', 'n', got "k"}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[16, 16, 16], "mnk", [2, 2], "k">} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// -----

func.func @mapping_cuts_array_dims_in_array_multiples(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{mapping tile of k is 24, but with dataflow ws k is laid onto the array's 16 rows: cut it in multiples of 16 or not at all (k is 64)}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[16, 16, 24], "mnk", [2, 2], "none">} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// -----

func.func @mapping_os_cuts_m_in_array_multiples(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{mapping tile of m is 8, but with dataflow os m is laid onto the array's 16 rows: cut it in multiples of 16 or not at all (m is 32)}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "os">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[8, 16, 24], "mnk", [2, 2], "none">} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// -----

func.func @mapping_split_b_needs_a_batch(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{mapping split 'b' needs a batched matmul}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[16, 16, 16], "mnk", [2, 2], "b">} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// -----

func.func @mapping_split_is_outside_k(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>, %c: tensor<32x48xf32>) -> tensor<32x48xf32> {
  // expected-error @+1 {{mapping split 'n' must be a loop outside the k loop, but order is 'mkn'}}
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 0>, systolic.mapping = #systolic.mapping<[16, 16, 16], "mkn", [2, 2], "n">} : (tensor<32x64xf32>, tensor<64x48xf32>, tensor<32x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}
