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
        return self.macs / (rows * cols * units * (self.cycles + 1))

    def mapping_efficiency(self, rows: int, cols: int) -> float:
        """Average fraction of the array's cells that hold real data in a fold."""
        return self.mapped_cells / (self.folds * rows * cols) if self.folds else 0.0


def _streamed(dataflow: str, instr: Compute) -> int:
    m, k = instr.lhs.shape
    n = instr.rhs.shape[1]
    return {"ws": m, "os": k, "is": n}[dataflow]


_ENGINE = {Compute: "array", Preload: "array", MoveIn: "dma-in", MoveOut: "dma-out"}


class _Machine:
    """Engine, buffer and DRAM-channel state while instructions are timed."""

    def __init__(self, program: Program):
        p = self.p = program
        self.bandwidth = p.memory.get("dram_bytes_per_cycle", 0)
        self.latency = p.memory.get("dma_latency", 0)
        self.itemsize = [b.dtype.itemsize for b in p.buffers]
        self.role = [b.role for b in p.buffers]
        self.preload_cycles = 0 if p.dataflow == "os" else p.rows
        self.free = defaultdict(int)  # (unit, engine) -> cycle the engine can start again
        self.written = defaultdict(int)  # buffer -> cycle its last write lands
        self.read = defaultdict(int)  # buffer -> cycle its last reader finishes
        self.valid = {}  # buffer -> extent of real data last moved in (the rest is padding)
        self.channel = 0  # the shared DRAM channel is free from this cycle
        self.finish = 0
        self.timing = Timing()

    def ready(self, instr) -> int:
        """Earliest cycle `instr` could start (the DRAM channel aside)."""
        kind, unit = type(instr), instr.unit
        if kind is Fence:
            return max(self.free[unit, e] for e in ENGINES)
        start = self.free[unit, _ENGINE[kind]]
        if kind is Compute:
            o = instr.out.buffer
            return max(start, self.written[instr.lhs.buffer], self.written[instr.rhs.buffer],
                       self.written[o], self.read[o])
        if kind is Preload:
            return max(start, self.written[instr.src.buffer])
        if kind is MoveIn:
            d = instr.dst.buffer
            return max(start, self.read[d], self.written[d])
        return max(start, self.written[instr.src.buffer])  # MoveOut

    def _transfer(self, start: int, nbytes: int) -> tuple[int, int]:
        """(engine free again, data arrived) for a transfer that may start at `start`."""
        if not self.bandwidth:
            return start, start + self.latency
        begin = max(start, self.channel)
        self.channel = begin + math.ceil(nbytes / self.bandwidth)
        return self.channel, self.channel + self.latency

    def run(self, instr) -> None:
        """Time `instr` and update the state."""
        p, t, kind, unit = self.p, self.timing, type(instr), instr.unit
        start = self.ready(instr)
        if kind is Fence:
            for e in ENGINES:
                self.free[unit, e] = start
            return
        engine = _ENGINE[kind]
        if kind is Compute:
            a, b, o = instr.lhs.buffer, instr.rhs.buffer, instr.out.buffer
            streamed = _streamed(p.dataflow, instr)
            end = start + p.rows + p.cols + streamed - 2
            self.free[unit, engine] = end
            self.read[a] = max(self.read[a], end)
            self.read[b] = max(self.read[b], end)
            self.written[o] = end
            t.array_busy[unit] += end - start
            t.folds += 1
            used_r, used_c = _mapped(p.dataflow, instr, self.valid)
            t.mapped_cells += used_r * used_c
            t.macs += used_r * used_c * streamed
            t.spad_reads += instr.lhs.elements + instr.rhs.elements
            t.acc_writes += instr.out.elements
            t.acc_reads += instr.out.elements if instr.accumulate else 0
            name = "compute"
        elif kind is Preload:
            s = instr.src.buffer
            end = start + self.preload_cycles
            self.free[unit, engine] = end
            self.read[s] = max(self.read[s], end)
            t.array_busy[unit] += end - start
            if p.buffers[s].space == "spad":
                t.spad_reads += instr.src.elements
            else:
                t.acc_reads += instr.src.elements
            name = "preload"
        elif kind is MoveIn:
            s, d = instr.src.buffer, instr.dst.buffer
            nbytes = instr.src.elements * self.itemsize[s]
            self.free[unit, engine], end = self._transfer(start, nbytes)
            self.written[d] = end
            self.valid[d] = instr.src.shape
            t.dram_bytes[self.role[s]] += nbytes
            if p.buffers[d].space == "spad":
                t.spad_writes += instr.dst.elements
            else:
                t.acc_writes += instr.dst.elements
            name = f"move-in {self.role[s]}"
        else:  # MoveOut
            s, d = instr.src.buffer, instr.dst.buffer
            out_bytes = instr.dst.elements * self.itemsize[d]
            nbytes = out_bytes
            if instr.bias is not None:
                bias_bytes = instr.bias.elements * self.itemsize[instr.bias.buffer]
                t.dram_bytes["bias"] += bias_bytes
                nbytes += bias_bytes
            self.free[unit, engine], end = self._transfer(start, nbytes)
            self.read[s] = max(self.read[s], end)
            t.dram_bytes[self.role[d]] += out_bytes
            t.acc_reads += instr.dst.elements
            name = "move-out"
        t.events.append(Event(name, unit, engine, start, end))
        self.finish = max(self.finish, end)


def simulate(program: Program) -> Timing:
    """Time `program` (see the module docstring for the model).

    Units issue their own instructions in program order; across units, the instruction
    that can start earliest goes next, so the shared DRAM channel is granted in time
    order (first come, first served).
    """
    machine = _Machine(program)
    queues = defaultdict(list)
    for instr in program.instrs:
        queues[instr.unit].append(instr)
    if len(queues) == 1:
        for instr in program.instrs:
            machine.run(instr)
    else:
        position = {unit: 0 for unit in queues}
        while position:
            unit = min(position, key=lambda u: machine.ready(queues[u][position[u]]))
            machine.run(queues[unit][position[unit]])
            position[unit] += 1
            if position[unit] == len(queues[unit]):
                del position[unit]
    machine.timing.cycles = max(machine.finish - 1, 0)
    return machine.timing


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
