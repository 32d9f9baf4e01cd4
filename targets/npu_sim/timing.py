"""The timing half of the simulator: cycles of a loaded kernel, computed per instruction.

Each unit has three engines that run their own instructions in program order: a load
DMA (move-in), the array (preload, compute) and a store DMA (move-out). An instruction
starts when its engine is free and the blocks it reads were written (and the blocks it
writes were read by whoever needed the old contents); nothing is stepped cycle by cycle.

- compute: one fold, R + C + T - 2 cycles, T the streamed length (fill, stream, drain);
- preload: R cycles for ws and is (the stationary block shifts in row by row), 0 for os
  (the output block stays in the cells);
- move: the DRAM channel, shared by every unit, carries bytes / bandwidth cycles (one
  transfer at a time); the data arrive `dma_latency` cycles after the transfer, and the
  engine may start its next transfer meanwhile. Unbounded bandwidth means 0 cycles.

With ideal memory this gives, per matmul, folds x (R + C + T - 2) for os and folds x
(2R + C + T - 2) for ws/is: the standard systolic model (SCALE-Sim). A kernel's cycle
count is the time its last instruction finishes, minus one (cycles are numbered from 0,
as SCALE-Sim numbers them).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from tessera.targets.npu_sim.program import Compute, Fence, MoveIn, MoveOut, Preload, Program

ENGINES = ("dma-in", "array", "dma-out")


@dataclass
class Event:
    """One instruction on one engine, for the trace."""

    name: str
    unit: int
    engine: str
    start: int
    end: int


@dataclass
class Timing:
    """Everything the timing pass measures for one kernel."""

    cycles: int = 0
    array_busy: dict = field(default_factory=lambda: defaultdict(int))  # unit -> cycles
    folds: int = 0
    macs: int = 0  # useful multiply-accumulates (padding excluded)
    mapped_cells: int = 0  # sum over folds of the cells holding real data
    spad_reads: int = 0
    spad_writes: int = 0
    acc_reads: int = 0
    acc_writes: int = 0
    dram_bytes: dict = field(default_factory=lambda: defaultdict(int))  # role -> bytes
    events: list = field(default_factory=list)

    def stall_cycles(self, units: int) -> int:
        """Cycles the arrays sat idle, summed over units."""
        return sum(self.cycles + 1 - self.array_busy[u] for u in range(units))

    def utilization(self, rows: int, cols: int, units: int) -> float:
        """Useful MACs over what every cell of every array could do in the run."""
        return self.macs / (rows * cols * units * (self.cycles + 1)) if self.cycles >= 0 else 0.0

    def mapping_efficiency(self, rows: int, cols: int) -> float:
        """Average fraction of the array's cells that hold real data in a fold."""
        return self.mapped_cells / (self.folds * rows * cols) if self.folds else 0.0


def _streamed(dataflow: str, instr: Compute) -> int:
    m, k = instr.lhs.shape
    n = instr.rhs.shape[1]
    return {"ws": m, "os": k, "is": n}[dataflow]


def simulate(program: Program) -> Timing:
    """Time `program` (see the module docstring for the model)."""
    p = program
    bandwidth = p.memory.get("dram_bytes_per_cycle", 0)
    latency = p.memory.get("dma_latency", 0)
    itemsize = [b.dtype.itemsize for b in p.buffers]
    role = [b.role for b in p.buffers]
    timing = Timing()
    free = defaultdict(int)  # (unit, engine) -> cycle the engine can start again
    written = defaultdict(int)  # buffer -> cycle its last write lands
    read = defaultdict(int)  # buffer -> cycle its last reader finishes
    valid = {}  # buffer -> extent of real data last moved in (the rest is padding)
    channel = 0  # the shared DRAM channel is free from this cycle
    preload_cycles = 0 if p.dataflow == "os" else p.rows
    finish = 0

    def transfer(start: int, nbytes: int) -> tuple[int, int]:
        nonlocal channel
        if not bandwidth:
            return start, start + latency
        begin = max(start, channel)
        channel = begin + math.ceil(nbytes / bandwidth)
        return channel, channel + latency

    def record(name, unit, engine, start, end):
        timing.events.append(Event(name, unit, engine, start, end))

    for instr in p.instrs:
        kind = type(instr)
        if kind is Compute:
            unit, engine = instr.unit, "array"
            a, b, o = instr.lhs.buffer, instr.rhs.buffer, instr.out.buffer
            start = max(free[unit, engine], written[a], written[b], written[o], read[o])
            t = _streamed(p.dataflow, instr)
            end = start + p.rows + p.cols + t - 2
            free[unit, engine] = end
            read[a] = max(read[a], end)
            read[b] = max(read[b], end)
            written[o] = end
            timing.array_busy[unit] += end - start
            timing.folds += 1
            used_r, used_c = _mapped(p.dataflow, instr, valid)
            timing.mapped_cells += used_r * used_c
            timing.macs += used_r * used_c * t
            timing.spad_reads += instr.lhs.elements + instr.rhs.elements
            timing.acc_writes += instr.out.elements
            timing.acc_reads += instr.out.elements if instr.accumulate else 0
            record("compute", unit, engine, start, end)
        elif kind is Preload:
            unit, engine, s = instr.unit, "array", instr.src.buffer
            start = max(free[unit, engine], written[s])
            end = start + preload_cycles
            free[unit, engine] = end
            read[s] = max(read[s], end)
            timing.array_busy[unit] += end - start
            if p.buffers[s].space == "spad":
                timing.spad_reads += instr.src.elements
            else:
                timing.acc_reads += instr.src.elements
            record("preload", unit, engine, start, end)
        elif kind is MoveIn:
            unit, engine = instr.unit, "dma-in"
            s, d = instr.src.buffer, instr.dst.buffer
            start = max(free[unit, engine], read[d], written[d])
            nbytes = instr.src.elements * itemsize[s]
            free[unit, engine], end = transfer(start, nbytes)
            written[d] = end
            valid[d] = instr.src.shape
            timing.dram_bytes[role[s]] += nbytes
            if p.buffers[d].space == "spad":
                timing.spad_writes += instr.dst.elements
            else:
                timing.acc_writes += instr.dst.elements
            record(f"move-in {role[s]}", unit, engine, start, end)
        elif kind is MoveOut:
            unit, engine = instr.unit, "dma-out"
            s, d = instr.src.buffer, instr.dst.buffer
            start = max(free[unit, engine], written[s])
            nbytes = instr.dst.elements * itemsize[d]
            if instr.bias is not None:
                bias_bytes = instr.bias.elements * itemsize[instr.bias.buffer]
                timing.dram_bytes["bias"] += bias_bytes
                nbytes += bias_bytes
            free[unit, engine], end = transfer(start, nbytes)
            read[s] = max(read[s], end)
            timing.dram_bytes[role[d]] += instr.dst.elements * itemsize[d]
            timing.acc_reads += instr.dst.elements
            record("move-out", unit, engine, start, end)
        elif kind is Fence:
            unit = instr.unit
            now = max([free[unit, e] for e in ENGINES] + list(written.values()) + list(read.values()))
            for e in ENGINES:
                free[unit, e] = now
            continue
        finish = max(finish, end)
    timing.cycles = max(finish - 1, 0)
    return timing


def _mapped(dataflow: str, instr: Compute, valid: dict) -> tuple[int, int]:
    """Rows and columns of the array that hold real data in this fold."""
    (m, k), n = instr.lhs.shape, instr.rhs.shape[1]
    a = valid.get(instr.lhs.buffer, (m, k))
    b = valid.get(instr.rhs.buffer, (k, n))
    if dataflow == "ws":
        return min(b[0], k), min(b[1], n)
    if dataflow == "os":
        return min(a[0], m), min(b[1], n)
    return min(a[1], k), min(a[0], m)
