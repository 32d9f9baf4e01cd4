// RUN: tessera-opt %s --split-input-file --verify-diagnostics

// One case per verifier error of the tile dialect.

// --- structure checked by IRDL ----------------------------------------------------------

func.func @dma_three_operands(%g: memref<4x4xf32>, %l: memref<4x4xf32, #tile.local>) {
  // expected-error @+1 {{expects exactly 2 operands, but got 3}}
  "tile.dma"(%g, %l, %l) : (memref<4x4xf32>, memref<4x4xf32, #tile.local>, memref<4x4xf32, #tile.local>) -> ()
  return
}

// -----

func.func @dma_source_is_a_tensor(%g: tensor<4x4xf32>, %l: memref<4x4xf32, #tile.local>) {
  // expected-error @+1 {{expected base type 'builtin.memref' but got 'builtin.tensor'}}
  "tile.dma"(%g, %l) : (tensor<4x4xf32>, memref<4x4xf32, #tile.local>) -> ()
  return
}

// -----

func.func @launch_missing_grid() {
  // expected-error @+1 {{'tile.launch' op attribute "grid" is expected but not provided}}
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.yield"() : () -> ()
  }) : () -> ()
  return
}

// -----

func.func @launch_grid_not_a_tile_grid() {
  // expected-error @+1 {{expected base attribute 'tile.grid' but got 'builtin.integer'}}
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.yield"() : () -> ()
  }) {grid = 4 : i64} : () -> ()
  return
}

// -----

func.func @grid_parameter_not_an_integer() {
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.yield"() : () -> ()
  // expected-error @+1 {{expected base attribute 'builtin.integer' but got 'builtin.string'}}
  }) {grid = #tile.grid<2 : i64, 2 : i64, "1k", 16 : i64>} : () -> ()
  return
}

// -----

// --- tile.launch ------------------------------------------------------------------------

func.func @grid_zero_rows() {
  // expected-error @+1 {{grid rows must be positive, got 0}}
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<0 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

func.func @grid_negative_cols() {
  // expected-error @+1 {{grid cols must be positive, got -2}}
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, -2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

func.func @grid_without_local_memory() {
  // expected-error @+1 {{grid local_bytes must be positive, got 0}}
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 0 : i64, 16 : i64>} : () -> ()
  return
}

// -----

func.func @grid_with_negative_bandwidth() {
  // expected-error @+1 {{grid dram_bytes_per_cycle must not be negative, got -1}}
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, -1 : i64>} : () -> ()
  return
}

// -----

func.func @launch_body_empty() {
  // expected-error @+1 {{body must have one block, got 0}}
  "tile.launch"() ({
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

func.func @launch_body_two_blocks() {
  // expected-error @+1 {{body must have one block, got 2}}
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    "tile.yield"() : () -> ()
  ^bb1:
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

func.func @launch_body_without_arguments() {
  // expected-error @+1 {{body must take two index arguments (unit row, unit col), got none}}
  "tile.launch"() ({
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

func.func @launch_body_one_argument() {
  // expected-error @+1 {{body must take two index arguments (unit row, unit col), got index}}
  "tile.launch"() ({
  ^bb0(%unit: index):
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

func.func @launch_body_arguments_not_index() {
  // expected-error @+1 {{body must take two index arguments (unit row, unit col), got i32, index}}
  "tile.launch"() ({
  ^bb0(%row: i32, %col: index):
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

// --- tile.yield -------------------------------------------------------------------------

func.func @yield_with_operand() {
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    // expected-error @+1 {{expects exactly 0 operands, but got 1}}
    "tile.yield"(%row) : (index) -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

func.func @yield_outside_launch() {
  // expected-error @+1 {{must be the last op of a 'tile.launch' body}}
  "tile.yield"() : () -> ()
}

// -----

// --- tile.alloc -------------------------------------------------------------------------

func.func @alloc_in_global_memory() {
  // expected-error @+1 {{buffer must be in #tile.local, got global memory}}
  %buf = "tile.alloc"() : () -> memref<4x4xf32>
  return
}

// -----

func.func @alloc_in_scratchpad() {
  // expected-error @+1 {{buffer must be in #tile.local, got #systolic.spad}}
  %buf = "tile.alloc"() : () -> memref<4x4xf32, #systolic.spad>
  return
}

// -----

func.func @alloc_dynamic_shape() {
  // expected-error @+1 {{buffer must have a static shape, got ?x4}}
  %buf = "tile.alloc"() : () -> memref<?x4xf32, #tile.local>
  return
}

// -----

func.func @alloc_outside_launch() {
  // expected-error @+1 {{must be directly inside a 'tile.launch' body}}
  %buf = "tile.alloc"() : () -> memref<4x4xf32, #tile.local>
  return
}

// -----

// Nested deeper, the buffer would escape the launch's local-memory accounting.
func.func @alloc_nested_inside_launch() {
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    scf.execute_region {
      // expected-error @+1 {{must be directly inside a 'tile.launch' body}}
      %buf = "tile.alloc"() : () -> memref<4x4xf32, #tile.local>
      scf.yield
    }
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

// --- tile.dma ---------------------------------------------------------------------------

func.func @dma_global_to_global(%a: memref<4x4xf32>, %b: memref<4x4xf32>) {
  // expected-error @+1 {{must copy between global memory and #tile.local, got global memory and global memory}}
  "tile.dma"(%a, %b) : (memref<4x4xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

func.func @dma_local_to_local(%a: memref<4x4xf32, #tile.local>, %b: memref<4x4xf32, #tile.local>) {
  // expected-error @+1 {{must copy between global memory and #tile.local, got #tile.local and #tile.local}}
  "tile.dma"(%a, %b) : (memref<4x4xf32, #tile.local>, memref<4x4xf32, #tile.local>) -> ()
  return
}

// -----

func.func @dma_to_scratchpad(%g: memref<4x4xf32>, %s: memref<4x4xf32, #systolic.spad>) {
  // expected-error @+1 {{must copy between global memory and #tile.local, got global memory and #systolic.spad}}
  "tile.dma"(%g, %s) : (memref<4x4xf32>, memref<4x4xf32, #systolic.spad>) -> ()
  return
}

// -----

func.func @dma_shapes_differ(%g: memref<8x4xf32>, %l: memref<4x4xf32, #tile.local>) {
  // expected-error @+1 {{source is 8x4 but destination is 4x4}}
  "tile.dma"(%g, %l) : (memref<8x4xf32>, memref<4x4xf32, #tile.local>) -> ()
  return
}

// -----

func.func @dma_dynamic_shape(%g: memref<?x4xf32>, %l: memref<4x4xf32, #tile.local>) {
  // expected-error @+1 {{needs static shapes, got source ?x4 and destination 4x4}}
  "tile.dma"(%g, %l) : (memref<?x4xf32>, memref<4x4xf32, #tile.local>) -> ()
  return
}

// -----

func.func @dma_element_types_differ(%l: memref<4x4xf32, #tile.local>, %g: memref<4x4xf16>) {
  // expected-error @+1 {{source element type is f32 but destination is f16}}
  "tile.dma"(%l, %g) : (memref<4x4xf32, #tile.local>, memref<4x4xf16>) -> ()
  return
}

// -----

func.func @local_buffers_overflow_local_memory() {
  // expected-error @+1 {{unit-local buffers need 1152 bytes but each unit has 1024 bytes of local memory}}
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    %a = "tile.alloc"() : () -> memref<16x16xf32, #tile.local>
    %b = "tile.alloc"() : () -> memref<4x16xbf16, #tile.local>
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}

// -----

func.func @engine_buffers_count_against_local_memory() {
  // expected-error @+1 {{unit-local buffers need 2048 bytes but each unit has 1024 bytes of local memory}}
  "tile.launch"() ({
  ^bb0(%row: index, %col: index):
    %a = memref.alloc() : memref<16x16xi32, #systolic.acc>
    %b = memref.alloc() : memref<16x16xf32, #systolic.spad>
    "tile.yield"() : () -> ()
  }) {grid = #tile.grid<2 : i64, 2 : i64, 1024 : i64, 16 : i64>} : () -> ()
  return
}
