"""The npu-sim cost model: what a matmul costs under a mapping, without building a kernel.

`predict(gemm, hw, mapping)` walks the mapping's schedule (`schedule.walk`, the nest
`tessera-systolic-tile` emits) with concrete sizes, issues the kernel's moves one by one
and each step's folds as one `Folds` instruction, and times them with the simulator's
own timing engine. DRAM bytes per operand and SRAM reads/writes are therefore the
kernel's, and cycles match the simulated kernel's (exactly on one unit; on a grid the
units' turns on the shared channel can come out a little differently); it costs one
instruction per move and per step instead of per fold, and no IR.

`bound(gemm, hw, mapping)` is the analytic part the search ranks candidates with: the
exact compute cycles and DRAM bytes in closed form and a simple overlap model (moves
hide behind computes with two buffers, add to them with one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tessera.hardware import NpuConfig

from tessera.dialects.systolic import Mapping
from tessera.targets.npu_sim.program import Buffer, MoveIn, MoveOut, Program
from tessera.targets.npu_sim.schedule import Gemm, Schedule, ceil_div, walk
from tessera.targets.npu_sim.timing import Folds, simulate

_DTYPES = {1: np.dtype(np.int8), 2: np.dtype(np.float16), 4: np.dtype(np.float32)}


@dataclass(frozen=True)
class Prediction:
    """The cost model's account of one matmul under one mapping."""

    dataflow: str
    mapping: Mapping
    cycles: int
    compute_cycles: int  # the array's busy cycles (every fold, back to back)
    dram_bytes: dict = field(default_factory=dict)  # role -> bytes
    folds: int = 0
    macs: int = 0
    spad_reads: int = 0
    spad_writes: int = 0
    acc_reads: int = 0
    acc_writes: int = 0
    units: int = 1

    @property
    def total_dram_bytes(self) -> int:
        return sum(self.dram_bytes.values())

    def text(self) -> str:
        dram = " ".join(f"{k}={v}" for k, v in sorted(self.dram_bytes.items()))
        return (f"{self.dataflow} {self.mapping.text()}: {self.cycles} cycles (array busy "
                f"{self.compute_cycles}), {self.folds} folds, DRAM bytes {dram}, spad r/w "
                f"{self.spad_reads}/{self.spad_writes}, acc r/w {self.acc_reads}/"
                f"{self.acc_writes}")


class _Block:
    """What the timing engine reads of a view: its buffer, shape and element count."""

    __slots__ = ("buffer", "shape", "elements")

    def __init__(self, buffer: int, shape: tuple):
        self.buffer, self.shape, self.elements = buffer, shape, math.prod(shape)


class _Pick:
    """One or two buffer ids; alternates by parity like the kernel's select."""

    def __init__(self, ids):
        self.ids = ids

    def pick(self, iteration):
        return self.ids[iteration % len(self.ids)]


class _Replay:
    """A `walk` emitter that records one unit's instructions with concrete sizes."""

    def __init__(self, s: Schedule, program: Program, globals_: dict, unit: int, units: int):
        self.s, self.p, self.globals, self.unit, self.units = s, program, globals_, unit, units
        self.blocks = {}  # local buffer -> its whole block

    @staticmethod
    def add(a, b):
        return a + b

    @staticmethod
    def mul(a, b):
        return a * b

    @staticmethod
    def div(a, b):
        return a // b

    @staticmethod
    def remaining(tile, total, start):
        return min(tile, total - start)

    def loop(self, lo, hi, step, parallel, body):
        if parallel and self.units > 1:
            lo, step = lo + self.unit * step, step * self.units
        for x in range(lo, hi, step):
            body(x)

    def buffers(self, role, shape, space, count):
        ids = []
        dtype = _DTYPES[self.s.gemm.in_bytes if space == "spad" else self.s.gemm.acc_bytes]
        for _ in range(count):
            self.p.buffers.append(Buffer(f"{space}{len(self.p.buffers)}", space, tuple(shape),
                                         dtype, self.unit))
            ids.append(len(self.p.buffers) - 1)
        return _Pick(ids)

    def _local(self, buffer):
        block = self.blocks.get(buffer)
        if block is None:
            block = self.blocks[buffer] = _Block(buffer, self.p.buffers[buffer].shape)
        return block

    def _global(self, role, batch, offsets, sizes):
        return _Block(self.globals[role], tuple(sizes))

    def move_in(self, role, batch, offsets, sizes, buffer):
        self.p.instrs.append(MoveIn(self._global(role, batch, offsets, sizes),
                                    self._local(buffer), self.unit))

    def move_out(self, buffer, batch, offsets, sizes):
        bias = None
        if "bias" in self.globals:
            bias = _Block(self.globals["bias"], (sizes[1],))
        self.p.instrs.append(MoveOut(self._local(buffer), self._global("out", batch, offsets,
                                                                       sizes),
                                     bias, False, None, self.unit))

    def folds(self, lhs, rhs, acc, offsets, sizes, overwrite):
        s, (tm, tn, tk) = self.s, sizes
        r, c = s.rows, s.cols
        count, preload, compute = s.folds(tm, tn, tk)
        macs = tm * tn * tk
        if s.dataflow == "os":
            block = r * c
            stationary, cells = acc, tm * tn
            spad = count * (r * tk + tk * c)
            acc_reads = count * block * (1 if overwrite else 2)
            acc_writes = count * block
        else:
            # ws: rhs blocks (k x n) preloaded, tm rows stream; is: lhs blocks (k x m)
            # preloaded, tn columns stream. The first row of folds along k may overwrite.
            streamed = tm if s.dataflow == "ws" else tn
            across = ceil_div(tn if s.dataflow == "ws" else tm, c)
            stationary = rhs if s.dataflow == "ws" else lhs
            cells = tk * (tn if s.dataflow == "ws" else tm)
            spad = count * (r * c + streamed * r)
            acc_writes = count * streamed * c
            acc_reads = (count - (across if overwrite else 0)) * streamed * c
        self.p.instrs.append(Folds(lhs, rhs, acc, stationary, count, preload, compute, macs,
                                   cells, spad, acc_reads, acc_writes, self.unit))


def _program(s: Schedule, hw: NpuConfig, units: int) -> Program:
    """The schedule's instructions for `units` units (the split loop dealt round-robin)."""
    g = s.gemm
    memory = {"spad_bytes": hw.spad_bytes, "acc_bytes": hw.acc_bytes,
              "dram_bytes_per_cycle": hw.dram_bytes_per_cycle, "dma_latency": hw.dma_latency}
    p = Program("prediction", [], [], rows=s.rows, cols=s.cols, dataflow=s.dataflow,
                units=units, memory=memory,
                gemm={"batch": g.batch, "m": g.m, "n": g.n, "k": g.k})
    lead = (g.batch,) if g.batched else ()
    shapes = {"lhs": (g.m, g.k, g.in_bytes), "rhs": (g.k, g.n, g.in_bytes),
              "acc": (g.m, g.n, g.acc_bytes), "out": (g.m, g.n, g.out_bytes)}
    roles = ["lhs", "rhs"] + ([] if g.zero_init else ["acc"]) + ["out"]
    globals_ = {}
    for role in roles:
        rows, cols, nbytes = shapes[role]
        p.buffers.append(Buffer(role, "global", lead + (rows, cols), _DTYPES[nbytes], 0, role))
        globals_[role] = len(p.buffers) - 1
    if g.bias:
        p.buffers.append(Buffer("bias", "global", (g.n,), _DTYPES[g.acc_bytes], 0, "bias"))
        globals_["bias"] = len(p.buffers) - 1
    p.arguments = list(globals_.values())
    for unit in range(units):
        walk(s, _Replay(s, p, globals_, unit, units))
    return p


def units_used(mapping: Mapping, hw: NpuConfig) -> int:
    """Units a kernel with this mapping runs on: the grid when a loop is split over it."""
    return hw.units if mapping.split != "none" else 1


def predict(gemm: Gemm, hw: NpuConfig, mapping: Mapping, dataflow: str | None = None
            ) -> Prediction:
    """Replay `mapping` of `gemm` on `hw` (running `dataflow`, by default hw's) and time
    it with the simulator's timing engine."""
    dataflow = dataflow or hw.dataflow
    s = Schedule(gemm, hw.rows, hw.cols, dataflow, mapping)
    units = units_used(mapping, hw)
    timing = simulate(_program(s, hw, units))
    return Prediction(dataflow, mapping, timing.cycles, max(timing.array_busy.values(),
                                                            default=0),
                      dict(timing.dram_bytes), timing.folds, timing.macs, timing.spad_reads,
                      timing.spad_writes, timing.acc_reads, timing.acc_writes, units)


@dataclass(frozen=True)
class Bound:
    """The search's quick account of a candidate: exact compute cycles (per unit) and
    DRAM bytes, and an estimate of cycles from how well moves overlap computes."""

    compute: int
    dram_bytes: int
    estimate: float
    steps: int


def bound(s: Schedule, hw: NpuConfig, units: int = 1) -> Bound:
    """The analytic account of schedule `s` on `hw` (see the module docstring)."""
    g, m = s.gemm, s.mapping
    split_trips = {"none": 1, "b": g.batch, **s.trips}[m.split] if units > 1 else 1
    share = ceil_div(split_trips, units) / split_trips if units > 1 else 1.0
    compute = s.compute_cycles() * share
    dram = sum(s.dram_bytes().values())
    bw = hw.dram_bytes_per_cycle
    transfer = dram / bw if bw else 0.0
    steps = s.steps()
    latency = hw.dma_latency
    # The first tiles arrive before anything computes; the last region leaves after.
    first = (s.tile["m"] * s.tile["k"] + s.tile["k"] * s.tile["n"]) * g.in_bytes
    last = s.tile["m"] * s.tile["n"] * g.out_bytes
    edges = (first + last) / bw + 2 * latency if bw else 2 * latency
    rest = max(0.0, transfer - edges + 2 * latency)
    if m.spad_buffers == 2:
        body = max(compute, rest)
    else:  # each step's moves wait for the previous step's folds, and the other way round
        body = compute + rest + steps * share * latency
    if m.acc_buffers == 1 and bw:  # a region's move-out holds up the next region
        regions = s.trips["m"] * s.trips["n"] // max(
            1, math.prod(s.trips[d] for d in s.inside_k)) * g.batch
        body += regions * share * (s.acc_shape[0] * s.acc_shape[1] * g.out_bytes / bw)
    return Bound(int(compute), dram, body + edges, steps)


_ELEMENTS = {1: ("i8", "i32"), 2: ("bf16", "f32"), 4: ("f32", "f32")}


def matmul_text(gemm: Gemm, hw: NpuConfig, dataflow: str, mapping: Mapping | None) -> str:
    """MLIR text of `main`: one `systolic.matmul` of `gemm` (i8, bf16 or f32 operands by
    `in_bytes`; no bias) on `hw`'s array running `dataflow`, with `mapping` if given."""
    e, acc = _ELEMENTS[gemm.in_bytes]
    b = f"{gemm.batch}x" if gemm.batched else ""
    lhs, rhs, out = (f"tensor<{b}{gemm.m}x{gemm.k}x{e}>", f"tensor<{b}{gemm.k}x{gemm.n}x{e}>",
                     f"tensor<{b}{gemm.m}x{gemm.n}x{acc}>")
    zero = "0.0" if acc == "f32" else "0"
    init = (f"%zero = arith.constant {zero} : {acc}\n  %e = tensor.empty() : {out}\n"
            f"  %c = linalg.fill ins(%zero : {acc}) outs(%e : {out}) -> {out}"
            if gemm.zero_init else "")
    args = f"%a: {lhs}, %b: {rhs}" + ("" if gemm.zero_init else f", %c: {out}")
    attr = ""
    if mapping is not None:
        (tm, tn, tk), order = mapping.tiles, mapping.order
        attr = (f', systolic.mapping = #systolic.mapping<[{tm}, {tn}, {tk}], "{order}", '
                f'[{mapping.spad_buffers}, {mapping.acc_buffers}], "{mapping.split}">')
    return (f"func.func @main({args}) -> {out} {{\n  {init}\n"
            f'  %0 = "systolic.matmul"(%a, %b, %c) {{array = #systolic.array<{hw.rows} : i64, '
            f'{hw.cols} : i64, "{dataflow}">, transpose = [false, false], epilogue = {{}}, '
            f"operandSegmentSizes = array<i32: 1, 1, 1, 0>{attr}}} : ({lhs}, {rhs}, {out}) "
            f"-> {out}\n  return %0 : {out}\n}}")


def build_kernel(gemm: Gemm, hw: NpuConfig, mapping: Mapping, dataflow: str | None = None):
    """The simulator's program of the kernel tessera builds for `gemm` under `mapping`
    (`tessera-systolic-tile`, and `tessera-tile-distribute` on a grid): what `predict`
    accounts for, to simulate or run."""
    from tessera.context import make_context
    from tessera.mlir import ir
    from tessera.pipeline import Pipeline
    from tessera.targets.npu_sim.program import kernels, load_kernel

    with make_context(), ir.Location.unknown() as location:
        module = ir.Module.parse(matmul_text(gemm, hw, dataflow or hw.dataflow, mapping))
        pm = Pipeline(location.context)
        pm.add("tessera-systolic-tile", hw=hw)
        if hw.units > 1:
            pm.add("tessera-tile-distribute", hw=hw)
        pm.run(module)
        (kernel,) = kernels(module)
        return load_kernel(kernel)
