"""Pass `tessera-systolic-map`: choose each `systolic.matmul`'s mapping onto the NPU.

Every matmul without a `#systolic.mapping` gets one (a matmul that has one keeps it: a
hand-written mapping is followed as written). Two strategies:

- `search` (the default): the mapping the cost model (`targets/npu_sim/cost.py`) predicts
  fastest, over the dataflows the array runs (`dataflows`), the six loop orders, tile
  sizes of M, N and K, single or double buffers and, on a grid, the loop split over the
  units (or none: one unit runs it alone). An analytic bound ranks every candidate that
  fits the memories; the best few are then timed exactly by replaying their schedule
  through the simulator's timing engine (with the few that move the fewest DRAM bytes).
  Among those within `slack` percent (default 5) of the fastest, the one moving the
  fewest DRAM bytes wins (DRAM traffic is energy and the shared channel's time; ties:
  fewer cycles, then the first in a fixed enumeration order, so the choice is
  deterministic).
- `heuristic`: the fixed nest of each dataflow that tessera used before it had a cost
  model (ws: R x C rhs blocks stationary, lhs rows streamed in the longest chunk that
  fits; os and is likewise), kept as the baseline the benchmarks compare with.

The chosen dataflow is written into the matmul's `#systolic.array`. With `print=true` the
pass prints, per matmul, the mapping and the cost model's prediction (cycles, DRAM bytes
per operand, array and SRAM activity) to stderr.
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass

from tessera.errors import LocatedError, TesseraError
from tessera.hardware import NpuConfig
from tessera.knobs import knob, knobs_from, validate
from tessera.mlir import ir

from tessera.dialects.common import shape_of
from tessera.dialects.systolic import (FOLD_DIMS, MAPPING, ORDERS, MatmulOp, Mapping,
                                       array_attr, array_params)
from tessera.targets.npu_sim.schedule import Gemm, Schedule

STRATEGIES = ("search", "heuristic")  # NpuConfig.mapper's choices too


def _split_for(order: str, trips: dict, batched: bool, units: int) -> str:
    """The loop a grid deals out: the outermost (batch first) with at least one iteration
    per unit, else the one with the most; only loops outside the k loop qualify. None on
    one unit."""
    loops = (["b"] if batched else []) + list(order[:order.index("k")])
    if not loops or units == 1:
        return "none"
    return next((d for d in loops if trips[d] >= units), max(loops, key=lambda d: trips[d]))


def heuristic_mapping(gemm: Gemm, rows: int, cols: int, dataflow: str, spad_bytes: int,
                      acc_bytes: int, double_buffer: bool, units: int = 1) -> Mapping:
    """The fixed nest of `dataflow` with the longest streamed chunk that fits (two buffers
    of each kind when they fit and `double_buffer`); a TesseraError if one fold does not."""
    streamed = {"ws": "m", "os": "k", "is": "n"}[dataflow]
    stationary = dict(zip(FOLD_DIMS[dataflow], (rows, cols)))
    order = "nmk" if dataflow == "ws" else "mnk"
    size = {"m": gemm.m, "n": gemm.n, "k": gemm.k}

    def mapping(chunk: int, buffers: int) -> Mapping:
        tiles = tuple(chunk if d == streamed else stationary[d] for d in "mnk")
        return Mapping(tiles, order, buffers, buffers)

    def fits(chunk: int, buffers: int) -> bool:
        s = Schedule(gemm, rows, cols, dataflow, mapping(chunk, buffers))
        return s.misfit(spad_bytes, acc_bytes) is None

    limit = size[streamed]
    want = min(limit, rows if dataflow != "is" else cols)
    for buffers in ((2, 1) if double_buffer else (1,)):
        lo, hi = 0, limit  # the largest chunk that fits, by bisection
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if fits(mid, buffers) else (lo, mid - 1)
        if lo >= want or (buffers == 1 and lo > 0):
            chosen = mapping(lo, buffers)
            trips = {**Schedule(gemm, rows, cols, dataflow, chosen).trips, "b": gemm.batch}
            split = _split_for(order, trips, gemm.batched, units)
            return Mapping(chosen.tiles, order, buffers, buffers, split)
    one = Schedule(gemm, rows, cols, dataflow, mapping(1, 1))
    raise TesseraError(
        f"a {rows}x{cols} {dataflow} array cannot hold one fold of this matmul: it needs "
        f"{one.spad_need()} bytes of scratchpad (spad-bytes is {spad_bytes}) and "
        f"{one.acc_need()} bytes of accumulator (acc-bytes is {acc_bytes})")


# --- the search ------------------------------------------------------------------------

MAX_REPLAYS = 40  # the best-ranked candidates considered for an exact replay
FRUGAL_REPLAYS = 10  # and those moving the fewest DRAM bytes
REPLAY_BUDGET = 3_000  # unit-steps replayed per matmul (the best-ranked always is)
REPLAY_LIMIT = 100_000  # unless it is longer: then the analytic ranking alone decides
CYCLE_SLACK = 5  # percent of cycles the search gives up, at most, for less DRAM traffic
PRINT_REPLAY_LIMIT = 200_000  # unit-steps `print` replays; beyond, the analytic account


def _tile_sizes(size: int, granule: int) -> list[int]:
    """Candidate tile sizes of a dim, largest first: one per trip count (the smallest
    tile reaching it, in whole granules), for trip counts 1..24 and then growing by
    about a quarter each, down to one granule."""
    units = -(-size // granule)
    trips, t = list(range(1, min(units, 24) + 1)), 24
    while t < units:
        t = min(units, t + max(1, t // 4))
        trips.append(t)
    sizes = {min(size, -(-units // t) * granule) for t in trips}
    return sorted(sizes, reverse=True)


@dataclass(frozen=True)
class Choice:
    """What the search settled on for one matmul, and what it looked at."""

    dataflow: str
    mapping: Mapping
    cycles: int  # predicted cycles: replayed exactly, or the bound's estimate if replayed is 0
    dram_bytes: int
    candidates: int  # mappings that fit and were ranked
    replayed: int  # candidates timed exactly


def _candidates(gemm: Gemm, hw: NpuConfig, dataflow: str, units: int):
    """Every schedule the search ranks for one dataflow: each loop order and
    buffering, tm among the candidate sizes, the three largest tn that fit with it and
    for each the largest tk that fits (and half of it), each split."""
    r, c = hw.rows, hw.cols
    granule = dict(zip(FOLD_DIMS[dataflow], (r, c)))
    size = {"m": gemm.m, "n": gemm.n, "k": gemm.k}
    sizes = {d: _tile_sizes(size[d], granule.get(d, 1)) for d in "mnk"}
    pad = {d: {t: -(-t // granule.get(d, 1)) * granule.get(d, 1) for t in sizes[d]}
           for d in "mnk"}
    trips = {d: {t: -(-size[d] // t) for t in sizes[d]} for d in "mnk"}
    e_in, e_acc = gemm.in_bytes, gemm.acc_bytes
    seen = set()
    for order in ORDERS:
        inside = {d for d in "mn" if order.index(d) > order.index("k")}
        loops = (["b"] if gemm.batched else []) + list(order[:order.index("k")])
        splits = ["none"] + (loops if units > 1 else [])
        for spad_buffers in (2, 1):
            for acc_buffers in (2, 1):
                for tm in sizes["m"]:
                    rows = trips["m"][tm] * pad["m"][tm] if "m" in inside else pad["m"][tm]
                    k_min = pad["k"][sizes["k"][-1]]
                    fitting = []
                    for tn in sizes["n"]:
                        cols = trips["n"][tn] * pad["n"][tn] if "n" in inside else pad["n"][tn]
                        if acc_buffers * rows * cols * e_acc > hw.acc_bytes:
                            continue
                        if spad_buffers * k_min * (pad["m"][tm] + pad["n"][tn]) * e_in \
                                > hw.spad_bytes:
                            continue
                        fitting.append(tn)
                        if len(fitting) == 3:
                            break
                    for tn in fitting:
                        room = hw.spad_bytes // (spad_buffers * e_in *
                                                 (pad["m"][tm] + pad["n"][tn]))
                        ks = [t for t in sizes["k"] if pad["k"][t] <= room]
                        for tk in dict.fromkeys(ks[:1] + ks[len(ks) // 2:len(ks) // 2 + 1]):
                            # A loop of one trip is no loop: orders that differ only
                            # in where it sits build the same kernel.
                            nest = "".join(d for d in order if d == "k" or trips[d][
                                {"m": tm, "n": tn, "k": tk}[d]] > 1)
                            for split in splits:
                                key = (nest, tm, tn, tk, spad_buffers, acc_buffers, split)
                                if key in seen:
                                    continue
                                seen.add(key)
                                mapping = Mapping((tm, tn, tk), order, spad_buffers,
                                                  acc_buffers, split)
                                yield Schedule(gemm, r, c, dataflow, mapping)


@functools.lru_cache(maxsize=512)  # a model repeats its matmuls (one per layer)
def search_mapping(gemm: Gemm, hw: NpuConfig, slack: int = CYCLE_SLACK) -> Choice:
    """The mapping of `gemm` the cost model predicts fastest on `hw` (see the module
    docstring); a TesseraError when no mapping fits the memories. The best-ranked
    candidate is replayed, the others within a budget of REPLAY_BUDGET unit-steps; a
    matmul so large that the best-ranked one takes more than REPLAY_LIMIT is mapped by
    the analytic ranking alone. A pure function of its arguments, so it is memoized."""
    from tessera.targets.npu_sim.cost import bound, predict, units_used

    ranked = []
    for dataflow in hw.supported_dataflows:
        for s in _candidates(gemm, hw, dataflow, hw.units):
            units = units_used(s.mapping, hw)
            b = bound(s, hw, units)
            ranked.append((b.estimate, b.dram_bytes, len(ranked), s, b))
    if not ranked:  # the heuristic's error says what one fold needs
        heuristic_mapping(gemm, hw.rows, hw.cols, hw.dataflow, hw.spad_bytes, hw.acc_bytes,
                          hw.double_buffer, hw.units)
        raise TesseraError(
            f"no mapping of this {gemm.m}x{gemm.n}x{gemm.k} matmul fits a {hw.rows}x"
            f"{hw.cols} unit with {hw.spad_bytes} bytes of scratchpad and {hw.acc_bytes} "
            f"of accumulator")
    ranked.sort(key=lambda x: x[:3])
    shortlist = ranked[:MAX_REPLAYS]
    # The least DRAM traffic, for the choice among near-fastest candidates.
    frugal = sorted(ranked[MAX_REPLAYS:], key=lambda x: (x[1], x[0], x[2]))
    shortlist += frugal[:FRUGAL_REPLAYS]
    try:  # the heuristic's nest competes too: with slack 0 the search is never slower
        fixed = Schedule(gemm, hw.rows, hw.cols, hw.dataflow, heuristic_mapping(
            gemm, hw.rows, hw.cols, hw.dataflow, hw.spad_bytes, hw.acc_bytes,
            hw.double_buffer, hw.units))
        b = bound(fixed, hw, units_used(fixed.mapping, hw))
        shortlist.append((b.estimate, b.dram_bytes, len(ranked), fixed, b))
    except TesseraError:  # not even one fold fits this way
        pass

    def replay_cost(s, b):  # unit-steps to replay
        units = units_used(s.mapping, hw)
        return b.steps * units * (2 if units > 1 else 1)

    estimate, dram, order, s, b = shortlist[0]
    if replay_cost(s, b) > REPLAY_LIMIT:  # too large to replay: the best-ranked one
        return Choice(s.dataflow, s.mapping, int(estimate), dram, len(ranked), 0)
    budget, timed = REPLAY_BUDGET, []
    for i, (estimate, dram, order, s, b) in enumerate(shortlist):
        cost = replay_cost(s, b)
        if i and cost > budget:
            continue  # too long to replay: only exactly timed candidates can win
        budget -= cost
        timed.append((predict(gemm, hw, s.mapping, s.dataflow).cycles, dram, order, s))
    fastest = min(cycles for cycles, *_ in timed)
    # Within `slack` percent of the fastest, the least DRAM traffic (then fewest cycles).
    cycles, dram, _, s = min((t for t in timed if t[0] * 100 <= fastest * (100 + slack)),
                             key=lambda t: (t[1], t[0], t[2]))
    return Choice(s.dataflow, s.mapping, cycles, dram, len(ranked), len(timed))


def roofline(gemm: Gemm, hw: NpuConfig) -> tuple[int, float]:
    """(ideal-memory cycles, DRAM cycles) a mapping's efficiency is measured against: the
    standard systolic model's cycles with unbounded memories and bandwidth (each
    dataflow's fixed nest streaming its whole dim, split over the grid; the best of the
    array's dataflows), and the minimum DRAM bytes over the bandwidth. Replayed when
    that is cheap; else in closed form (on ideal memory the array never waits: its busy
    cycles, exact on one unit)."""
    from tessera.hardware import UNBOUNDED
    from tessera.targets.npu_sim.cost import bound, predict, units_used

    ideal, best = hw.ideal(), None
    for dataflow in hw.supported_dataflows:
        mapping = heuristic_mapping(gemm, hw.rows, hw.cols, dataflow, UNBOUNDED, UNBOUNDED,
                                    True, hw.units)
        s, units = Schedule(gemm, hw.rows, hw.cols, dataflow, mapping), units_used(mapping, ideal)
        if s.steps() * units <= REPLAY_LIMIT:
            cycles = predict(gemm, ideal, mapping, dataflow).cycles
        else:
            cycles = bound(s, ideal, units).compute - 1
        best = cycles if best is None else min(best, cycles)
    bw = hw.dram_bytes_per_cycle
    return best, gemm.min_dram_bytes() / bw if bw else 0.0


# --- the pass --------------------------------------------------------------------------


@dataclass(frozen=True)
class SystolicMapOptions(knobs_from(NpuConfig, "spad_bytes", "acc_bytes",
                                    "dram_bytes_per_cycle", "dma_latency", "grid_rows",
                                    "grid_cols", "double_buffer", "dataflows")):
    """The unit the matmuls are mapped onto (its array is each matmul's `#systolic.array`;
    the rest are the NpuConfig's fields), how to choose, and whether to print what was
    chosen."""

    strategy: str = knob("search", "search (the cost model's best) or heuristic (the "
                                    "fixed nest of the array's dataflow)", choices=STRATEGIES)
    slack: int = knob(CYCLE_SLACK, "percent of cycles the search may give up for less "
                                   "DRAM traffic", low=0, high=1000)
    print: bool = knob(False, "print each matmul's mapping and predicted cost to stderr")

    def __post_init__(self):
        validate(self, "option", dashes=True)
        try:
            NpuConfig(dataflows=self.dataflows)
        except TesseraError as e:
            raise TesseraError(f"option {str(e).removeprefix('npu ')}") from None


def hardware_of(op, options) -> NpuConfig:
    """The NpuConfig matmul `op` is mapped onto: its array, the options' memories, channel
    and grid."""
    rows, cols, dataflow = array_params(op.array)
    try:
        return NpuConfig(rows, cols, dataflow, options.spad_bytes, options.acc_bytes,
                         options.dram_bytes_per_cycle, options.dma_latency,
                         options.grid_rows, options.grid_cols, options.double_buffer,
                         options.dataflows)
    except TesseraError as e:
        raise LocatedError(str(e), op.location) from None


def _where(location) -> str:
    """`file:line:col` of a location, else its text."""
    try:
        return f"{location.filename}:{location.start_line}:{location.start_col}"
    except AttributeError:
        return str(location)


def map_matmul(op, options) -> None:
    """Give matmul `op` a mapping (and its dataflow) unless it has one; with `print`,
    report the mapping and its predicted cost."""
    from tessera.passes.systolic_tile import gemm_of
    from tessera.targets.npu_sim.cost import bound, predict, units_used

    if 0 in shape_of(op.lhs.type) + shape_of(op.rhs.type):
        return  # nothing for the array: tessera-systolic-tile leaves it on the host
    hw, gemm = hardware_of(op, options), gemm_of(op)
    mapping, how, started = Mapping.of(op), "as written", time.perf_counter()
    if mapping is not None:
        dataflow = hw.dataflow
    elif options.strategy == "heuristic":
        dataflow, how = hw.dataflow, "heuristic"
        mapping = heuristic_mapping(gemm, hw.rows, hw.cols, dataflow, hw.spad_bytes,
                                    hw.acc_bytes, hw.double_buffer, hw.units)
    else:
        choice = search_mapping(gemm, hw, slack=options.slack)
        dataflow, mapping = choice.dataflow, choice.mapping
        how = (f"search: {choice.candidates} candidates ranked, {choice.replayed} "
               f"timed")
    seconds = time.perf_counter() - started
    schedule = Schedule(gemm, hw.rows, hw.cols, dataflow, mapping)
    if problem := schedule.misfit(hw.spad_bytes, hw.acc_bytes):
        raise LocatedError(f"the mapping ({mapping.text()}) does not fit this {hw.rows}x"
                           f"{hw.cols} {dataflow} unit: {problem}", op.location)
    with op.context:
        op.attributes["array"] = array_attr(hw.rows, hw.cols, dataflow)
        op.attributes[MAPPING] = mapping.attr()
    if options.print:
        ideal, memory = roofline(gemm, hw)
        units = units_used(mapping, hw)
        if schedule.steps() * units <= PRINT_REPLAY_LIMIT:
            cost = predict(gemm, hw, mapping, dataflow).text()
        else:  # too long to replay while compiling: the analytic account
            b = bound(schedule, hw, units)
            cost = (f"{dataflow} {mapping.text()}: about {int(b.estimate)} cycles (analytic; "
                    f"{b.steps} steps are too many to replay), DRAM bytes {b.dram_bytes}")
        print(f"{_where(op.location)}: remark: {gemm.m}x{gemm.n}x{gemm.k}"
              f"{f' (batch {gemm.batch})' if gemm.batched else ''} on {hw.units} x "
              f"{hw.rows}x{hw.cols}: {cost}; roofline {max(ideal, round(memory))} cycles; "
              f"{how} in {seconds:.3f} s", file=sys.stderr)


def systolic_map(op, pass_, options: SystolicMapOptions) -> None:
    """Pass body: map every systolic.matmul under `op` that has no mapping. A matmul that
    cannot be mapped is an error at it; the others are still mapped."""
    failed = []

    def visit(child):
        if isinstance(child.opview, MatmulOp):
            try:
                map_matmul(child.opview, options)
            except LocatedError as e:
                e.location.emit_error(f"tessera-systolic-map: {e.message}")
                failed.append(child)
            except TesseraError as e:
                child.location.emit_error(f"tessera-systolic-map: {e}")
                failed.append(child)
        return ir.WalkResult.ADVANCE

    op.walk(visit)
    if failed:
        pass_.signal_pass_failure()
