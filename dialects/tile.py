"""The `tile` dialect: work spread over a grid of compute units that each own a local
memory, and the DMA that moves data between global memory and those local memories.

The same ops describe an NPU's tile grid, the cores of a CPU, a GPU's workgroups and the
harts of a RISC-V machine: `tile.launch` runs its region once per unit of a
`#tile.grid<...>`, `tile.alloc` makes a unit-local buffer (`#tile.local` memory space)
and `tile.dma` copies a block between global and local memory.
"""


from tessera.mlir import Operand, Region, Result, ext, ir

from tessera.dialects.common import dims, elem, int_value, is_static, memory_space, shape_of, verifier


class Tile(ext.Dialect, name="tile"):
    """Grids of compute units with local memories, and DMA between memories."""


class GridAttr(Tile.Attribute, name="grid"):
    """`#tile.grid<rows, cols, local_bytes, dram_bytes_per_cycle>` (all i64): the unit
    grid's shape, each unit's local memory, and the global-memory bandwidth they share
    (0 = unbounded)."""

    rows: ir.IntegerAttr
    cols: ir.IntegerAttr
    local_bytes: ir.IntegerAttr
    dram_bytes_per_cycle: ir.IntegerAttr


class LocalAttr(Tile.Attribute, name="local"):
    """Memory space of a unit's local memory: `memref<..., #tile.local>`."""


LOCAL = "#tile.local"
# Ops whose results take a unit's local memory (its own or its engine's, e.g. a scratchpad).
LOCAL_ALLOCS = ("tile.alloc", "memref.alloc")


def grid_attr(rows: int, cols: int, local_bytes: int, dram_bytes_per_cycle: int) -> GridAttr:
    """Build `#tile.grid<...>` in the current context."""
    i64 = ir.IntegerType.get_signless(64)
    return GridAttr.get(*(ir.IntegerAttr.get(i64, v)
                          for v in (rows, cols, local_bytes, dram_bytes_per_cycle)))


def grid_params(attr) -> tuple[int, int, int, int]:
    """(rows, cols, local_bytes, dram_bytes_per_cycle) of a `#tile.grid`."""
    return tuple(int_value(getattr(attr, f))
                 for f in ("rows", "cols", "local_bytes", "dram_bytes_per_cycle"))


def buffer_bytes(t: ir.Type) -> int:
    """Bytes a static memref occupies."""
    shaped = ir.ShapedType(t)
    width = shaped.element_type.width
    count = 1
    for d in shaped.shape:
        count *= d
    return count * ((width + 7) // 8)


def _verify_launch(op) -> str | None:
    rows, cols, local_bytes, bandwidth = grid_params(op.grid)
    for name, value in (("rows", rows), ("cols", cols), ("local_bytes", local_bytes)):
        if value <= 0:
            return f"grid {name} must be positive, got {value}"
    if bandwidth < 0:
        return f"grid dram_bytes_per_cycle must not be negative, got {bandwidth}"
    if len(op.body.blocks) != 1:
        return f"body must have one block, got {len(op.body.blocks)}"
    args = op.body.blocks[0].arguments
    if len(args) != 2 or any(str(a.type) != "index" for a in args):
        kinds = ", ".join(str(a.type) for a in args) or "none"
        return f"body must take two index arguments (unit row, unit col), got {kinds}"
    used = sum(buffer_bytes(o.result.type) for o in op.body.blocks[0].operations
               if o.operation.name in LOCAL_ALLOCS
               and memory_space(o.result.type) is not None)
    if used > local_bytes:
        return (f"unit-local buffers need {used} bytes but each unit has "
                f"{local_bytes} bytes of local memory")
    return None


class LaunchOp(Tile.Operation, name="launch"):
    """Run the body once on every unit of `grid`; the body's two index arguments are
    the unit's row and column. Buffers the body allocates outside global memory
    (`tile.alloc`, or `memref.alloc` in an engine's memory such as `#systolic.spad`)
    must fit in one unit's local memory together."""

    grid: GridAttr
    body: Region

    verify_invariants = verifier(_verify_launch)


def _verify_yield(op) -> str | None:
    parent = op.operation.parent
    if parent is None or parent.name != "tile.launch":
        return "must be the last op of a 'tile.launch' body"
    return None


class YieldOp(Tile.Operation, name="yield", traits=[ir.IsTerminatorTrait]):
    """Ends the body of a `tile.launch`."""

    verify_invariants = verifier(_verify_yield)


def _verify_alloc(op) -> str | None:
    t = op.buffer.type
    if memory_space(t) != LOCAL:
        return f"buffer must be in {LOCAL}, got {memory_space(t) or 'global memory'}"
    if not is_static(t):
        return f"buffer must have a static shape, got {dims(t)}"
    parent = op.operation.parent
    if parent is None or parent.name != "tile.launch":
        return "must be directly inside a 'tile.launch' body"
    return None


class AllocOp(Tile.Operation, name="alloc"):
    """A buffer in the local memory of the unit running the enclosing `tile.launch`."""

    buffer: Result[ir.MemRefType]

    verify_invariants = verifier(_verify_alloc)


def _verify_dma(op) -> str | None:
    src, dst = op.src.type, op.dst.type
    spaces = (memory_space(src), memory_space(dst))
    if spaces not in ((None, LOCAL), (LOCAL, None)):
        names = " and ".join(s or "global memory" for s in spaces)
        return f"must copy between global memory and {LOCAL}, got {names}"
    if not (is_static(src) and is_static(dst)):
        return f"needs static shapes, got source {dims(src)} and destination {dims(dst)}"
    if shape_of(src) != shape_of(dst):
        return f"source is {dims(src)} but destination is {dims(dst)}"
    if elem(src) != elem(dst):
        return f"source element type is {elem(src)} but destination is {elem(dst)}"
    return None


class DmaOp(Tile.Operation, name="dma"):
    """Copy a block between global memory and a unit's local memory (either way)."""

    src: Operand[ir.MemRefType]
    dst: Operand[ir.MemRefType]

    verify_invariants = verifier(_verify_dma)
