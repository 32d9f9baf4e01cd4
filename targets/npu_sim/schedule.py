"""One mapped matmul as a loop nest, written once for the two that need it.

`tessera-systolic-tile` walks a `Schedule` with an emitter that builds IR (loops, views,
`systolic` ops); the cost model (`cost.py`) walks the same schedule with an emitter that
records instructions with concrete sizes and times them. Both follow one `walk`, so a
prediction and a simulated kernel move the same bytes in the same order.

The nest (see `Mapping` for the attribute):

    [for b in batch]                                     (split "b": dealt to units)
      for each loop of `order`, outermost first:         tiles of m, n or k
        - an operand moves in right inside the innermost loop it depends on (lhs: m, k;
          rhs: k, n; a loop of one iteration does not count), so it stays resident
          across the loops inside that one;
        - before the k loop an accumulator region is picked (and, without a zero
          accumulator, moved in); it covers every tile of the m/n loops inside the k
          loop; after the k loop it moves out (epilogue applied). The first k step is
          peeled: with a zero accumulator it overwrites instead of adding;
      innermost: the step's folds on the array.

A step's folds (R x C array; actual tile sizes tm, tn, tk at matrix edges):
- ws: each R x C block of the rhs tile is preloaded (R cycles) and the tile's tm lhs
  rows stream through it (R + C + tm - 2 cycles): ceil(tk/R) * ceil(tn/C) folds;
- os: each R x C block of the result stays in the cells (preload free) while tk
  reduction elements stream through (R + C + tk - 2): ceil(tm/R) * ceil(tn/C) folds;
- is: each lhs block, transposed (k on rows, m on cols), is preloaded (R) and tn rhs
  columns stream through (R + C + tn - 2): ceil(tk/R) * ceil(tm/C) folds.
Buffers alternate (with 2 of a kind) by the parity of the linear index of the loop
iterations around the place they are filled.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.dialects.systolic import FOLD_DIMS, Mapping


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Gemm:
    """A matmul as a kernel sees it: sizes, element bytes, what it reads besides lhs/rhs."""

    m: int
    n: int
    k: int
    batch: int = 1
    batched: bool = False  # a leading batch dim (even of size 1)
    in_bytes: int = 4  # per lhs/rhs element
    acc_bytes: int = 4  # per accumulator element
    out_bytes: int = 4  # per result element (1 after requantize)
    zero_init: bool = True  # the accumulator starts at zero (not read from memory)
    bias: bool = False

    def min_dram_bytes(self) -> int:
        """Reading lhs and rhs once and writing the result once (plus the accumulator and
        bias when there are ones): what no mapping can go below."""
        b = self.batch
        total = b * (self.m * self.k + self.k * self.n) * self.in_bytes
        total += b * self.m * self.n * self.out_bytes
        if not self.zero_init:
            total += b * self.m * self.n * self.acc_bytes
        if self.bias:
            total += self.n * self.acc_bytes
        return total


class Schedule:
    """The geometry of `mapping` applied to `gemm` on a rows x cols `dataflow` array."""

    def __init__(self, gemm: Gemm, rows: int, cols: int, dataflow: str, mapping: Mapping):
        self.gemm, self.rows, self.cols, self.dataflow = gemm, rows, cols, dataflow
        self.mapping, self.order = mapping, mapping.order
        self.size = {"m": gemm.m, "n": gemm.n, "k": gemm.k}
        self.tile = {d: min(t, self.size[d]) for d, t in zip("mnk", mapping.tiles)}
        self.trips = {d: ceil_div(self.size[d], self.tile[d]) for d in "mnk"}
        granule = dict(zip(FOLD_DIMS[dataflow], (rows, cols)))
        # Buffer extent per dim: a dim laid onto the array is padded to whole folds.
        self.padded = {d: ceil_div(self.tile[d], granule.get(d, 1)) * granule.get(d, 1)
                       for d in "mnk"}
        position = {d: self.order.index(d) for d in "mnk"}
        self.inside_k = {d for d in "mn" if position[d] > position["k"]}
        # The accumulator region spans the whole of a dim whose loop runs inside k's.
        self.region = {d: self.trips[d] * self.padded[d] if d in self.inside_k
                       else self.padded[d] for d in "mn"}
        # Loop depth (0 = outermost, -1 = outside every tile loop) inside which each
        # operand moves in: that of the innermost loop it depends on, a loop of one
        # iteration not counting (its tile is the same every time).
        self.depth = {role: max([position[d] for d in deps if self.trips[d] > 1], default=-1)
                      for role, deps in (("lhs", "mk"), ("rhs", "kn"))}

    # --- memories ------------------------------------------------------------------------

    @property
    def lhs_shape(self) -> tuple[int, int]:
        return self.padded["m"], self.padded["k"]

    @property
    def rhs_shape(self) -> tuple[int, int]:
        return self.padded["k"], self.padded["n"]

    @property
    def acc_shape(self) -> tuple[int, int]:
        return self.region["m"], self.region["n"]

    def spad_need(self) -> int:
        (a, b), (c, d) = self.lhs_shape, self.rhs_shape
        return self.mapping.spad_buffers * (a * b + c * d) * self.gemm.in_bytes

    def acc_need(self) -> int:
        r, c = self.acc_shape
        return self.mapping.acc_buffers * r * c * self.gemm.acc_bytes

    def misfit(self, spad_bytes: int, acc_bytes: int) -> str | None:
        """Why the buffers do not fit the memories, or None."""
        spad, acc = self.spad_need(), self.acc_need()
        if spad > spad_bytes:
            return (f"its buffers need {spad} bytes of scratchpad but spad-bytes is "
                    f"{spad_bytes}")
        if acc > acc_bytes:
            return (f"its accumulator region ({'x'.join(map(str, self.acc_shape))} x "
                    f"{self.mapping.acc_buffers}) needs {acc} bytes but acc-bytes is "
                    f"{acc_bytes}")
        return None

    # --- the array ---------------------------------------------------------------------

    def folds(self, tm: int, tn: int, tk: int) -> tuple[int, int, int]:
        """(folds, preload cycles, compute cycles) of one step with these actual sizes."""
        r, c = self.rows, self.cols
        if self.dataflow == "ws":
            return ceil_div(tk, r) * ceil_div(tn, c), r, r + c + tm - 2
        if self.dataflow == "os":
            return ceil_div(tm, r) * ceil_div(tn, c), 0, r + c + tk - 2
        return ceil_div(tk, r) * ceil_div(tm, c), r, r + c + tn - 2

    def compute_cycles(self) -> int:
        """Array cycles of the whole matmul (its folds back to back), in closed form."""
        r, c, t, size = self.rows, self.cols, self.trips, self.size
        if self.dataflow == "ws":
            return self.gemm.batch * ceil_div(size["k"], r) * ceil_div(size["n"], c) * \
                (t["m"] * (2 * r + c - 2) + size["m"])
        if self.dataflow == "os":
            return self.gemm.batch * ceil_div(size["m"], r) * ceil_div(size["n"], c) * \
                (t["k"] * (r + c - 2) + size["k"])
        return self.gemm.batch * ceil_div(size["k"], r) * ceil_div(size["m"], c) * \
            (t["n"] * (2 * r + c - 2) + size["n"])

    def dram_bytes(self) -> dict[str, int]:
        """Bytes each global operand moves, in closed form: an operand is read again for
        every iteration of a loop it does not depend on outside the place it moves in."""
        g, t, order = self.gemm, self.trips, self.order
        lhs = g.batch * g.m * g.k * g.in_bytes
        if order.index("n") < self.depth["lhs"]:
            lhs *= t["n"]
        rhs = g.batch * g.k * g.n * g.in_bytes
        if order.index("m") < self.depth["rhs"]:
            rhs *= t["m"]
        out = {"lhs": lhs, "rhs": rhs, "out": g.batch * g.m * g.n * g.out_bytes}
        if not g.zero_init:
            out["acc"] = g.batch * g.m * g.n * g.acc_bytes
        if g.bias:  # once per accumulator region, over its columns
            regions_along_m = 1 if "m" in self.inside_k else t["m"]
            out["bias"] = g.batch * regions_along_m * g.n * g.acc_bytes
        return out

    def steps(self) -> int:
        return self.gemm.batch * self.trips["m"] * self.trips["n"] * self.trips["k"]


def walk(s: Schedule, e) -> None:
    """Drive emitter `e` through schedule `s` (see the module docstring).

    `e` provides: add/mul/div/remaining (on ints or its own values), loop(lo, hi, step,
    parallel, body), buffers(role, shape, space, count) -> a pick(parity) object,
    move_in(role, batch, offsets, sizes, buffer), move_out(buffer, batch, offsets,
    sizes), and folds(lhs, rhs, acc, region offsets, sizes, overwrite) (overwrite: the
    step's first folds along k overwrite the accumulator instead of adding).
    """
    g, m = s.gemm, s.mapping
    local = {"lhs": e.buffers("lhs", s.lhs_shape, "spad", m.spad_buffers),
             "rhs": e.buffers("rhs", s.rhs_shape, "spad", m.spad_buffers)}
    acc = e.buffers("acc", s.acc_shape, "acc", m.acc_buffers)

    def size(dim, ivs):
        return e.remaining(s.tile[dim], s.size[dim], ivs[dim])

    def move_ins(depth, ivs, lin, held):
        held = dict(held)
        for role, rows, cols in (("lhs", "m", "k"), ("rhs", "k", "n")):
            if s.depth[role] == depth:
                buffer = local[role].pick(lin)
                e.move_in(role, ivs["b"], (ivs[rows], ivs[cols]),
                          (size(rows, ivs), size(cols, ivs)), buffer)
                held[role] = buffer
        return held

    def region_extent(dim, ivs):
        """(offset, size) in the global result of the accumulator region along `dim`."""
        if dim in s.inside_k:
            return 0, s.size[dim]
        return ivs[dim], size(dim, ivs)

    def level(depth, ivs, lin, held, first):
        if depth == 3:
            offsets = [ivs[d] if d in s.inside_k else 0 for d in "mn"]
            e.folds(held["lhs"], held["rhs"], held["acc"], offsets,
                    [size(d, ivs) for d in "mnk"], first and g.zero_init)
            return
        dim = s.order[depth]
        if dim == "k":
            region = acc.pick(lin)
            (m0, rows), (n0, cols) = region_extent("m", ivs), region_extent("n", ivs)
            if not g.zero_init:
                e.move_in("acc", ivs["b"], (m0, n0), (rows, cols), region)
            held = {**held, "acc": region}

            def k_step(k0, index, first_step):
                inner = {**ivs, "k": k0}
                lin_k = e.add(e.mul(lin, s.trips["k"]), index)
                level(depth + 1, inner, lin_k, move_ins(depth, inner, lin_k, held), first_step)

            k_step(0, 0, True)
            if s.trips["k"] > 1:
                tk = s.tile["k"]
                e.loop(tk, s.size["k"], tk, False,
                       lambda k0: k_step(k0, e.div(k0, tk), False))
            e.move_out(region, ivs["b"], (m0, n0), (rows, cols))
            return

        def body(x):
            inner = {**ivs, dim: x}
            lin_d = e.add(e.mul(lin, s.trips[dim]), e.div(x, s.tile[dim]))
            level(depth + 1, inner, lin_d, move_ins(depth, inner, lin_d, held), first)

        e.loop(0, s.size[dim], s.tile[dim], m.split == dim, body)

    def start(b):
        ivs = {"b": b, "m": 0, "n": 0, "k": 0}
        level(0, ivs, 0 if b is None else b, move_ins(-1, ivs, 0 if b is None else b, {}), True)

    if g.batched:
        e.loop(0, g.batch, 1, m.split == "b", start)
    else:
        start(None)
