"""Pass `tessera-tile-distribute`: spread each systolic kernel over a grid of units.

The body of every `systolic.kernel` function moves into a `tile.launch` over
`#tile.grid<rows, cols, local_bytes, dram_bytes_per_cycle>`, so each unit gets its own
scratchpad and accumulator buffers (local memory = the kernel's spad + acc bytes), and
the loop marked `systolic.parallel` by `tessera-systolic-tile` (the mapping's split) is
dealt out round-robin: unit u runs iterations u, u + U, u + 2U, ... of it (U units);
every unit runs the loops around it in full. Where several loops are marked (IR from
elsewhere), the outermost with at least U iterations is dealt (else the one with the
most). A kernel with no marked loop (split "none") runs on one unit. All units share
the DRAM channel, which is what the simulator's contention model charges.
"""

from dataclasses import dataclass

from tessera.hardware import UNBOUNDED, NpuConfig
from tessera.knobs import knobs_from
from tessera.mlir import arith, func, ir, scf

from tessera.dialects.systolic import Memory, is_parallel, kernel_functions
from tessera.dialects.tile import LaunchOp, YieldOp, grid_attr


@dataclass(frozen=True)
class TileDistributeOptions(knobs_from(NpuConfig, "grid_rows", "grid_cols")):
    """The unit grid: grid-rows x grid-cols (the NpuConfig's fields)."""


def _constant(value) -> int | None:
    owner = value.owner
    if isinstance(owner, ir.OpView) and isinstance(owner, arith.ConstantOp):
        return ir.IntegerAttr(owner.value).value
    return None


def _trip_count(loop) -> int:
    lb, ub, step = (_constant(v) for v in (loop.lowerBound, loop.upperBound, loop.step))
    if None in (lb, ub, step):
        return 0
    return max(0, -(-(ub - lb) // step))


def _parallel_loops(block) -> list:
    """The loops marked parallel under `block`, outermost first (pre-order)."""
    loops = []

    def visit(op):
        loops.append(op.opview)
        return ir.WalkResult.ADVANCE

    for op in block.operations:
        op.operation.walk(visit, ir.WalkOrder.PRE_ORDER, scf.ForOp)
    return [loop for loop in loops if is_parallel(loop)]  # a bad mark: a located error


def _choose(loops, units: int):
    for loop in loops:
        if _trip_count(loop) >= units:
            return loop
    return max(loops, key=_trip_count, default=None)


def distribute(kernel: func.FuncOp, rows: int, cols: int) -> None:
    """Wrap `kernel`'s body in a tile.launch and deal one parallel loop out to the units."""
    units = rows * cols
    block = kernel.regions[0].blocks[0]
    if not _parallel_loops(block):
        return  # nothing to share out: the kernel stays on one unit
    body_ops = list(block.operations)[:-1]  # all but the return
    memory = Memory.of(kernel)
    local = min(memory.spad_bytes + memory.acc_bytes, UNBOUNDED)
    bandwidth = memory.dram_bytes_per_cycle
    index = ir.IndexType.get()
    with ir.InsertionPoint(block.operations[0]), kernel.location:
        launch = LaunchOp(grid_attr(rows, cols, local, bandwidth))
    body = launch.body.blocks.append(index, index)
    with ir.InsertionPoint(body), kernel.location:
        row, col = body.arguments
        unit = arith.addi(arith.muli(row, arith.constant(index, cols)), col)
        end = YieldOp()
    for op in body_ops:
        op.operation.move_before(end.operation)
    loop = _choose(_parallel_loops(body), units)
    with ir.InsertionPoint(loop), kernel.location:
        step = loop.step
        first = arith.addi(loop.lowerBound, arith.muli(unit, step))
        stride = arith.muli(step, arith.constant(index, units))
    loop.operation.operands[0] = first
    loop.operation.operands[2] = stride


def tile_distribute(op, pass_, options: TileDistributeOptions) -> None:
    """Pass body: distribute every kernel that is not distributed yet."""
    for f, _ in kernel_functions(op, "isa"):
        already = any(isinstance(o, LaunchOp) for o in f.regions[0].blocks[0].operations)
        if not already:
            distribute(f, options.grid_rows, options.grid_cols)
