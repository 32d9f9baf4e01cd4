"""The `tile` dialect: work spread over a grid of compute units that each own a local
memory, and the DMA that moves data between global memory and those local memories.

The same ops describe an NPU's tile grid, the cores of a CPU, a GPU's workgroups and the
harts of a RISC-V machine: `tile.launch` runs its region once per unit of a
`#tile.grid<...>`, `tile.alloc` makes a unit-local buffer (`#tile.local` memory space)
and `tile.dma` copies a block between global and local memory.
"""

from dataclasses import dataclass

from tessera.errors import LocatedError
from tessera.hardware import MAX_GRID_DIM
from tessera.mlir import Operand, Region, Result, ext, ir

from tessera.dialects.common import (dims, element, int_value, is_i64, is_static, memory_space,
                                     shape_of, typed, verifier)


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
    for name in ("rows", "cols", "local_bytes", "dram_bytes_per_cycle"):
        if not is_i64(getattr(op.grid, name)):
            return f"grid {name} must be an i64 integer, got {getattr(op.grid, name)}"
    rows, cols, local_bytes, bandwidth = grid_params(op.grid)
    for name, value in (("rows", rows), ("cols", cols), ("local_bytes", local_bytes)):
        if value <= 0:
            return f"grid {name} must be positive, got {value}"
    if rows > MAX_GRID_DIM or cols > MAX_GRID_DIM:
        return f"grid is {rows}x{cols}; tessera models grids of at most {MAX_GRID_DIM}x{MAX_GRID_DIM}"
    if bandwidth < 0:
        return f"grid dram_bytes_per_cycle must not be negative, got {bandwidth}"
    if len(op.body.blocks) != 1:
        return f"body must have one block, got {len(op.body.blocks)}"
    args = op.body.blocks[0].arguments
    if len(args) != 2 or not all(isinstance(a.type, ir.IndexType) for a in args):
        kinds = ", ".join(str(a.type) for a in args) or "none"
        return f"body must take two index arguments (unit row, unit col), got {kinds}"
    from tessera.mlir import memref

    # Allocations that take a unit's local memory (its own or its engine's, e.g. a scratchpad).
    used = sum(buffer_bytes(o.result.type) for o in op.body.blocks[0].operations
               if isinstance(o, (AllocOp, memref.AllocOp))
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
    if not isinstance(memory_space(t), LocalAttr):
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
    local = [isinstance(s, LocalAttr) for s in spaces]
    if not (local in ([False, True], [True, False]) and any(s is None for s in spaces)):
        names = " and ".join(str(s) if s is not None else "global memory" for s in spaces)
        return f"must copy between global memory and {LOCAL}, got {names}"
    if not (is_static(src) and is_static(dst)):
        return f"needs static shapes, got source {dims(src)} and destination {dims(dst)}"
    if shape_of(src) != shape_of(dst):
        return f"source is {dims(src)} but destination is {dims(dst)}"
    if element(src) != element(dst):
        return f"source element type is {element(src)} but destination is {element(dst)}"
    return None


class DmaOp(Tile.Operation, name="dma"):
    """Copy a block between global memory and a unit's local memory (either way)."""

    src: Operand[ir.MemRefType]
    dst: Operand[ir.MemRefType]

    verify_invariants = verifier(_verify_dma)


# --- what passes hand on: a GPU workgroup's tiles ---------------------------------------

GPU_TILES = "tile.gpu"  # on the linalg op a GPU target compiles: #tile.gpu_tiles<...>
GPU_PIPELINES = ("TileAndFuse", "CooperativeMatrixVectorize", "MatmulPromoteVectorize")


class GpuTilesAttr(Tile.Attribute, name="gpu_tiles"):
    """`#tile.gpu_tiles<pipeline, mma, workgroup, subgroup, thread, reduction, intrinsic,
    workgroup_size, subgroup_size, pipeline_depth>`: how one matmul is spread over a GPU
    (a workgroup is one `tile` unit): IREE's codegen pipeline, the MMA intrinsic ("" for
    SIMT), tile sizes per level (lists of i64, empty when the pipeline has no such level),
    the workgroup's thread counts, the subgroup size and the number of K steps in flight."""

    pipeline: ir.StringAttr
    mma: ir.StringAttr
    workgroup: ir.ArrayAttr
    subgroup: ir.ArrayAttr
    thread: ir.ArrayAttr
    reduction: ir.ArrayAttr
    intrinsic: ir.ArrayAttr
    workgroup_size: ir.ArrayAttr
    subgroup_size: ir.IntegerAttr
    pipeline_depth: ir.IntegerAttr


_LEVELS = ("workgroup", "subgroup", "thread", "reduction", "intrinsic", "workgroup_size")


@dataclass(frozen=True)
class GpuTiles:
    """The typed view of `#tile.gpu_tiles<...>` (see GpuTilesAttr)."""

    pipeline: str
    mma: str = ""
    workgroup: tuple[int, ...] = ()
    subgroup: tuple[int, ...] = ()
    thread: tuple[int, ...] = ()
    reduction: tuple[int, ...] = ()
    intrinsic: tuple[int, ...] = ()
    workgroup_size: tuple[int, ...] = ()
    subgroup_size: int = 32
    pipeline_depth: int = 1

    @staticmethod
    def of(op) -> "GpuTiles | None":
        """The tiles on `op`, None when it has none; malformed is a LocatedError."""
        if GPU_TILES not in op.attributes:
            return None
        attr = op.attributes[GPU_TILES]
        if not isinstance(attr, GpuTilesAttr):
            raise LocatedError(f"'{GPU_TILES}' must be a #tile.gpu_tiles<...> attribute, got "
                               f"{attr}", op.location)
        pipeline = ir.StringAttr(attr.pipeline).value
        if pipeline not in GPU_PIPELINES:
            raise LocatedError(f"'{GPU_TILES}': pipeline must be one of "
                               f"{', '.join(GPU_PIPELINES)}, got '{pipeline}'", op.location)
        levels = {}
        for name in _LEVELS:
            values = [typed(v) for v in ir.ArrayAttr(getattr(attr, name))]
            if not all(isinstance(v, ir.IntegerAttr) and v.value >= 0 for v in values):
                raise LocatedError(f"'{GPU_TILES}': {name} must be non-negative integers, got "
                                   f"{getattr(attr, name)}", op.location)
            levels[name] = tuple(v.value for v in values)
        sizes = [ir.IntegerAttr(getattr(attr, f)).value for f in ("subgroup_size", "pipeline_depth")]
        if min(sizes) < 1:
            raise LocatedError(f"'{GPU_TILES}': subgroup_size and pipeline_depth must be "
                               f"positive, got {sizes[0]} and {sizes[1]}", op.location)
        return GpuTiles(pipeline, ir.StringAttr(attr.mma).value, **levels,
                        subgroup_size=sizes[0], pipeline_depth=sizes[1])

    def attr(self) -> GpuTilesAttr:
        """These tiles as `#tile.gpu_tiles<...>` (in the current context)."""
        i64 = ir.IntegerType.get_signless(64)

        def ints(values):
            return ir.ArrayAttr.get([ir.IntegerAttr.get(i64, v) for v in values])

        return GpuTilesAttr.get(ir.StringAttr.get(self.pipeline), ir.StringAttr.get(self.mma),
                                *(ints(getattr(self, name)) for name in _LEVELS),
                                ir.IntegerAttr.get(i64, self.subgroup_size),
                                ir.IntegerAttr.get(i64, self.pipeline_depth))
