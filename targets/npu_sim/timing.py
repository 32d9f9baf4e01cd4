"""The timing half of the simulator: cycles of a loaded kernel, computed per instruction.

Each unit has three engines that run their own instructions in program order: a load
DMA (move-in), the array (preload, compute) and a store DMA (move-out). An instruction
starts when its engine is free and the blocks it reads were written (and the blocks it
writes were read by whoever needed the old contents); nothing is stepped cycle by cycle.

- compute: one fold, R + C + T - 2 cycles, T the streamed length (fill, stream, drain);
- preload: R cycles for ws and is (the stationary block shifts in row by row), 0 for os
  (the output block stays in the cells);
- move: the DRAM channel, shared by every unit and by both DMA engines, carries
  bytes / bandwidth cycles (one transfer at a time); the data arrive `dma_latency`
  cycles after the transfer, and the engine may start its next transfer meanwhile. A
  transfer takes the first idle stretch of the channel long enough for it from the
  cycle it is ready, even one before a transfer timed earlier (a load need not wait
  behind a store that is itself waiting for the array); transfers do not preempt each
  other. Unbounded bandwidth means 0 cycles.

With ideal memory this gives, per matmul, folds x (R + C + T - 2) for os and folds x
(2R + C + T - 2) for ws/is: the standard systolic model (SCALE-Sim). A kernel's cycle
count is the time its last instruction finishes, minus one (cycles are numbered from 0,
as SCALE-Sim numbers them).
"""

from __future__ import annotations

import bisect
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


@dataclass(frozen=True)
class Folds:
    """`count` folds back to back on one array, as the cost model issues a step (the
    kernel issues them one preload and compute at a time; this times them the same way):
    each fold preloads from `stationary` (`preload` cycles) and computes (`compute`
    cycles), reading buffers `lhs` and `rhs` and writing `out`. The counters are the
    step's totals."""

    lhs: int
    rhs: int
    out: int
    stationary: int
    count: int
    preload: int
    compute: int
    macs: int
    cells: int
    spad_reads: int
    acc_reads: int
    acc_writes: int
    unit: int


_ENGINE = {Compute: "array", Preload: "array", Folds: "array", MoveIn: "dma-in",
           MoveOut: "dma-out"}


class _Channel:
    """The shared DRAM channel: the stretches it is busy, to place transfers in."""

    def __init__(self):
        self.starts: list[int] = []  # disjoint busy stretches [start, end), in order
        self.ends: list[int] = []

    def reserve(self, ready: int, duration: int) -> int:
        """The cycle a transfer ready at `ready` begins; the channel is busy then."""
        starts, ends = self.starts, self.ends
        i = bisect.bisect_right(ends, ready)
        begin = ready
        while i < len(starts) and begin + duration > starts[i]:
            begin = max(begin, ends[i])
            i += 1
        end = begin + duration
        # Insert [begin, end) before stretch i, merging with touching neighbours.
        if i > 0 and ends[i - 1] == begin:
            i -= 1
            ends[i] = end
        else:
            starts.insert(i, begin)
            ends.insert(i, end)
        if i + 1 < len(starts) and starts[i + 1] == end:
            ends[i] = ends.pop(i + 1)
            starts.pop(i + 1)
        return begin

    def forget(self, floor: int) -> None:
        """Drop stretches that end before `floor`: no transfer can use time before it."""
        cut = bisect.bisect_right(self.ends, floor)
        if cut > 16:
            del self.starts[:cut], self.ends[:cut]


class _Machine:
    """Engine, buffer and DRAM-channel state while instructions are timed."""

    def __init__(self, program: Program):
        p = self.p = program
        self.bandwidth = p.memory.get("dram_bytes_per_cycle", 0)
        self.latency = p.memory.get("dma_latency", 0)
        self.itemsize = [b.dtype.itemsize for b in p.buffers]
        self.role = [b.role for b in p.buffers]
        self.preload_cycles = 0 if p.dataflow == "os" else p.rows
        self.units = range(p.units)
        self.free = defaultdict(int)  # (unit, engine) -> cycle the engine can start again
        self.written = defaultdict(int)  # buffer -> cycle its last write lands
        self.read = defaultdict(int)  # buffer -> cycle its last reader finishes
        self.valid = {}  # buffer -> extent of real data last moved in (the rest is padding)
        self.channel = _Channel()
        self.finish = 0
        self.last_fold = 0  # when the last fold of the last Folds started
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
        if kind is Folds:  # its first preload
            return max(start, self.written[instr.stationary])
        if kind is MoveIn:
            d = instr.dst.buffer
            return max(start, self.read[d], self.written[d])
        return max(start, self.written[instr.src.buffer])  # MoveOut

    def _transfer(self, start: int, nbytes: int) -> tuple[int, int]:
        """(engine free again, data arrived) for a transfer that may start at `start`."""
        if not self.bandwidth:
            return start, start + self.latency
        duration = math.ceil(nbytes / self.bandwidth)
        if len(self.channel.starts) > 64:
            self.channel.forget(min(self.free[u, e] for u in self.units
                                    for e in ("dma-in", "dma-out")))
        end = self.channel.reserve(start, duration) + duration
        return end, end + self.latency

    def run(self, instr) -> None:
        """Time `instr` and update the state."""
        p, t, kind, unit = self.p, self.timing, type(instr), instr.unit
        start = self.ready(instr)
        if kind is Fence:
            for e in ENGINES:
                self.free[unit, e] = start
            return
        engine = _ENGINE[kind]
        if kind is Folds:
            self._folds(instr, start)
            return
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
            # The operand a preload made stationary (ws: rhs, is: lhs) sits in the cells:
            # the compute reads only what it streams from the scratchpad.
            t.spad_reads += {"ws": instr.lhs.elements, "is": instr.rhs.elements}.get(
                p.dataflow, instr.lhs.elements + instr.rhs.elements)
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

    def _folds(self, f: Folds, start: int) -> None:
        """Time a run of folds exactly as its preloads and computes one by one."""
        w, r, t = self.written, self.read, self.timing
        first = max(start + f.preload, w[f.lhs], w[f.rhs], w[f.out], r[f.out])
        per_fold = f.preload + f.compute
        end = first + f.compute + (f.count - 1) * per_fold
        self.last_fold = end - per_fold
        self.free[f.unit, "array"] = end
        r[f.stationary] = max(r[f.stationary], end - f.compute)
        r[f.lhs] = max(r[f.lhs], end)
        r[f.rhs] = max(r[f.rhs], end)
        w[f.out] = end
        t.array_busy[f.unit] += f.count * per_fold
        t.folds += f.count
        t.macs += f.macs
        t.mapped_cells += f.cells
        t.spad_reads += f.spad_reads
        t.acc_reads += f.acc_reads
        t.acc_writes += f.acc_writes
        t.events.append(Event(f"{f.count} folds", f.unit, "array", start, end))
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
        # A unit's instruction after a run of Folds is not considered before the run's
        # last fold starts: one by one, its folds would have held the unit's queue until
        # then. (Exact for instructions; for the cost model's Folds, close.)
        position = {unit: 0 for unit in queues}
        not_before = defaultdict(int)

        def key(u):
            return max(machine.ready(queues[u][position[u]]), not_before[u])

        while position:
            unit = min(position, key=key)
            instr = queues[unit][position[unit]]
            machine.run(instr)
            if type(instr) is Folds:
                not_before[unit] = machine.last_fold
            position[unit] += 1
            if position[unit] == len(queues[unit]):
                del position[unit]
    machine.timing.cycles = max(machine.finish - 1, 0)
    return machine.timing


def _valid(view, valid: dict) -> tuple[int, int]:
    """The extent of real data in a 2-d view of a local buffer: what the last move-in
    brought (the rest of the buffer is padding), seen from the view's offsets."""
    extent = valid.get(view.buffer, view.sizes)
    return tuple(max(0, min(s, e - o)) for s, e, o in zip(view.sizes, extent, view.offsets))


def _mapped(dataflow: str, instr: Compute, valid: dict) -> tuple[int, int]:
    """Rows and columns of the array that hold real data in this fold."""
    a, b = _valid(instr.lhs, valid), _valid(instr.rhs, valid)
    if dataflow == "ws":
        return b
    if dataflow == "os":
        return a[0], b[1]
    return a[1], a[0]
