"""The `systolic` dialect: one unit's matrix engine, an RxC array of multiply-accumulate
cells running a dataflow (weight-, output- or input-stationary).

Two levels live here. At tensor level, `systolic.matmul` has value semantics
(res = epilogue(acc + lhs·rhs)) and is what `tessera-linalg-to-systolic` produces from
linalg. At ISA level, after tiling to the array and its memories, ops work on memrefs in
the scratchpad (`#systolic.spad`) and accumulator (`#systolic.acc`) memory spaces, in
the spirit of Gemmini's instructions: move a block in, preload the stationary operand,
compute, move a block out (applying the epilogue), fence.

Ops are defined with MLIR's Python `ext` API (IRDL underneath), so they print in MLIR's
generic form: `"systolic.matmul"(%a, %b, %c) {...} : (...) -> ...`.
"""

from dataclasses import dataclass

from tessera.errors import LocatedError
from tessera.hardware import DATAFLOWS, MAX_ARRAY_DIM
from tessera.mlir import Operand, Pure, Result, ext, ir

from tessera.dialects.common import (COMBOS_TEXT, dims, element, element_combo, int_value,
                                     is_bool, is_i64, is_static, memory_space, shape_of,
                                     signed_int, typed, verifier)

EPILOGUE_KEYS = ("relu", "scale")


class Systolic(ext.Dialect, name="systolic"):
    """Matrix engines built as an RxC grid of multiply-accumulate cells."""


class ArrayAttr(Systolic.Attribute, name="array"):
    """The array an op targets: `#systolic.array<rows : i64, cols : i64, "ws">`."""

    rows: ir.IntegerAttr
    cols: ir.IntegerAttr
    dataflow: ir.StringAttr  # "ws" | "os" | "is"


class SpadAttr(Systolic.Attribute, name="spad"):
    """Memory space of the scratchpad that feeds the array: `memref<..., #systolic.spad>`."""


class AccAttr(Systolic.Attribute, name="acc"):
    """Memory space of the accumulator the array writes into: `memref<..., #systolic.acc>`."""


SPAD = "#systolic.spad"
ACC = "#systolic.acc"


def array_attr(rows: int, cols: int, dataflow: str) -> ArrayAttr:
    """Build `#systolic.array<rows, cols, dataflow>` in the current context."""
    i64 = ir.IntegerType.get_signless(64)
    return ArrayAttr.get(ir.IntegerAttr.get(i64, rows), ir.IntegerAttr.get(i64, cols),
                         ir.StringAttr.get(dataflow))


def array_params(attr) -> tuple[int, int, str]:
    """(rows, cols, dataflow) of a `#systolic.array` attribute."""
    return int_value(attr.rows), int_value(attr.cols), ir.StringAttr(attr.dataflow).value


def _check_array(attr) -> str | None:
    for name in ("rows", "cols"):
        if not is_i64(getattr(attr, name)):
            return f"array {name} must be an i64 integer, got {getattr(attr, name)}"
    rows, cols, dataflow = array_params(attr)
    if rows <= 0 or cols <= 0:
        return f"array must have positive rows and cols, got {rows}x{cols}"
    if rows > MAX_ARRAY_DIM or cols > MAX_ARRAY_DIM:
        return f"array is {rows}x{cols}; tessera models arrays of at most {MAX_ARRAY_DIM}x{MAX_ARRAY_DIM}"
    if dataflow not in DATAFLOWS:
        return f"array dataflow must be one of {', '.join(DATAFLOWS)}, got '{dataflow}'"
    return None


def _check_epilogue(epilogue) -> str | None:
    d = ir.DictAttr(epilogue)
    for named in d:
        if named.name not in EPILOGUE_KEYS:
            return (f"epilogue has unknown entry '{named.name}'; "
                    f"known: {', '.join(EPILOGUE_KEYS)}")
    if "relu" in d and not isinstance(d["relu"], ir.UnitAttr):
        return f"epilogue 'relu' must be a unit attribute, got {d['relu']}"
    if "scale" in d and not isinstance(d["scale"], ir.FloatAttr):
        return f"epilogue 'scale' must be a float attribute, got {d['scale']}"
    return None


def _no_epilogue():
    # An empty DictAttr is falsy, which ext's builder would take for "not given".
    return ir.DictAttr.get({})


def has_scale(epilogue) -> bool:
    return "scale" in ir.DictAttr(epilogue)


def _check_result_type(epilogue, acc_elem: ir.Type, res_elem: ir.Type, what: str) -> str | None:
    if has_scale(epilogue):
        if not (signed_int(acc_elem, 32) and signed_int(res_elem, 8)):
            return (f"requantize (epilogue scale) needs an i32 accumulator and an i8 {what}, "
                    f"got {acc_elem} and {res_elem}")
    elif acc_elem != res_elem:
        return f"{what} element type is {res_elem} but acc is {acc_elem}"
    return None


def _check_elements(lhs, rhs, acc) -> str | None:
    """lhs and rhs share an element type that, with acc's, an array computes."""
    if element(lhs) != element(rhs):
        return f"lhs element type is {element(lhs)} but rhs is {element(rhs)}"
    if element_combo(element(lhs), element(acc)) is None:
        a, c = element(lhs), element(acc)
        return f"{a}·{a}→{c} is not supported; supported: {COMBOS_TEXT}"
    return None


def transpose_flags(attr) -> tuple[bool, bool]:
    """(transpose_lhs, transpose_rhs) from `transpose = [false, true]`."""
    flags = ir.ArrayAttr(attr)
    return bool(ir.BoolAttr(flags[0]).value), bool(ir.BoolAttr(flags[1]).value)


def _verify_matmul(op) -> str | None:
    lhs, rhs, acc, res = (v.type for v in (op.lhs, op.rhs, op.acc, op.res))
    if msg := _check_array(op.array):
        return msg
    flags = ir.ArrayAttr(op.transpose)
    if len(flags) != 2 or not all(is_bool(f) for f in flags):
        return f"transpose must be two booleans [lhs, rhs], got {op.transpose}"
    t_lhs, t_rhs = transpose_flags(op.transpose)
    ranks = [len(shape_of(t)) for t in (lhs, rhs, acc, res)]
    if len(set(ranks)) != 1 or ranks[0] not in (2, 3):
        return (f"lhs, rhs, acc and result must all be rank 2 (or 3 with a leading batch "
                f"dim), got lhs {dims(lhs)}, rhs {dims(rhs)}, acc {dims(acc)}, "
                f"result {dims(res)}")
    for name, t in (("lhs", lhs), ("rhs", rhs), ("acc", acc)):
        if not is_static(t):
            return f"needs static shapes, but {name} is {dims(t)}"
    *lb, m, k = shape_of(lhs)
    *rb, k2, n = shape_of(rhs)
    if t_lhs:
        m, k = k, m
    if t_rhs:
        k2, n = n, k2
    if lb != rb:
        return f"batch dims disagree: lhs is {dims(lhs)} but rhs is {dims(rhs)}"
    if k != k2:
        how = "".join(f" ({w} transposed)" for w, t in (("lhs", t_lhs), ("rhs", t_rhs)) if t)
        return f"lhs is {dims(lhs)} but rhs is {dims(rhs)}{how}: reduction sizes {k} and {k2} differ"
    if shape_of(acc) != lb + [m, n]:
        want = "x".join(str(d) for d in lb + [m, n])
        return f"acc is {dims(acc)} but lhs·rhs is {want}"
    if shape_of(res) != shape_of(acc):
        return f"result is {dims(res)} but acc is {dims(acc)}"
    if msg := _check_elements(lhs, rhs, acc):
        return msg
    if msg := _check_epilogue(op.epilogue):
        return msg
    if msg := _check_result_type(op.epilogue, element(acc), element(res), "result"):
        return msg
    if op.bias is not None:
        bias = op.bias.type
        if shape_of(bias) != [n]:
            return f"bias is {dims(bias)} but the result has {n} columns"
        if element(bias) != element(acc):
            return f"bias element type is {element(bias)} but acc is {element(acc)}"
    if BLOCKING in op.attributes:
        blocking = Blocking.parse(op.attributes[BLOCKING])
        if isinstance(blocking, str):
            return blocking
    if MAPPING in op.attributes:
        mapping = Mapping.parse(op.attributes[MAPPING])
        if isinstance(mapping, str):
            return mapping
        rows, cols, dataflow = array_params(op.array)
        return mapping.check(rows, cols, dataflow, m, n, k, bool(lb))
    return None


class MatmulOp(Systolic.Operation, name="matmul", traits=[Pure]):
    """res = epilogue(acc + lhs·rhs) on one array (tensor level).

    lhs is MxK and rhs KxN (each optionally transposed, batch dim optional); element
    types bf16·bf16→f32, i8·i8→i32, f16·f16→f32 or f32·f32→f32. The epilogue adds the
    optional `bias` (one value per column), then applies `relu` and requantizes by
    `scale` (i32 → i8, round half to even, saturate) when those entries are present.
    """

    lhs: Operand[ir.RankedTensorType]
    rhs: Operand[ir.RankedTensorType]
    acc: Operand[ir.RankedTensorType]
    array: ArrayAttr  # the array this matmul is mapped to
    transpose: ir.ArrayAttr  # [lhs transposed, rhs transposed] as two booleans
    res: Result[ir.RankedTensorType]
    epilogue: ir.DictAttr = ext.attribute(default_factory=_no_epilogue)  # {relu?, scale?}
    bias: Operand[ir.RankedTensorType] | None = None

    verify_invariants = verifier(_verify_matmul)


# --- ISA level -------------------------------------------------------------------------


def _in_space(t, space) -> bool:
    """Whether memref type `t` lives in `space`: an attribute class (SpadAttr, AccAttr),
    a tuple of them, or None for global memory."""
    attr = memory_space(t)
    return attr is None if space is None else isinstance(attr, space)


def _space_name(t) -> str:
    attr = memory_space(t)
    return "global memory" if attr is None else str(attr)


def _verify_move_in(op) -> str | None:
    src, dst = op.src.type, op.dst.type
    if not _in_space(src, None):
        return f"source must be in global memory, got {_space_name(src)}"
    if not _in_space(dst, (SpadAttr, AccAttr)):
        return f"destination must be in {SPAD} or {ACC}, got {_space_name(dst)}"
    if msg := _check_block_copy(src, dst, "source", "destination"):
        return msg
    return _same_elem(op.src, op.dst)


def _check_block_copy(global_t, local_t, global_name, local_name) -> str | None:
    """A copy between a global block (sizes may be dynamic at matrix edges) and a static
    local block at least as large (the rest of the local block is padding)."""
    if not is_static(local_t):
        return f"{local_name} must have a static shape, got {dims(local_t)}"
    g, l = shape_of(global_t), shape_of(local_t)
    dynamic = ir.ShapedType.get_dynamic_size()
    if len(g) != len(l) or any(x != dynamic and x > y for x, y in zip(g, l)):
        return (f"{global_name} is {dims(global_t)} but {local_name} is {dims(local_t)}: "
                f"the {local_name} block must be at least as large in every dim "
                f"(extra is padding)")
    return None


class MoveInOp(Systolic.Operation, name="move_in"):
    """Copy a block from global memory into the scratchpad or accumulator.

    The destination may be larger than the source; the extra elements are zero, which
    is how blocks at the edges of a matrix are padded to the array size. The source may
    have dynamic sizes (edge blocks); the destination is static.
    """

    src: Operand[ir.MemRefType]
    dst: Operand[ir.MemRefType]

    verify_invariants = verifier(_verify_move_in)


def _same_elem(a, b) -> str | None:
    if element(a.type) != element(b.type):
        return f"source element type is {element(a.type)} but destination is {element(b.type)}"
    return None


def _verify_preload(op) -> str | None:
    if msg := _check_array(op.array):
        return msg
    t = op.stationary.type
    if not _in_space(t, (SpadAttr, AccAttr)):
        return f"stationary block must be in {SPAD} or {ACC}, got {_space_name(t)}"
    rows, cols, dataflow = array_params(op.array)
    shape = shape_of(t)
    if len(shape) != 2 or not is_static(t):
        return f"stationary block must be a static 2-d block, got {dims(t)}"
    # With is, the lhs block (m x k) sits in the array transposed: k on rows, m on cols.
    r, c = (shape[1], shape[0]) if dataflow == "is" else (shape[0], shape[1])
    if r > rows or c > cols:
        how = " (transposed, as is places it)" if dataflow == "is" else ""
        return f"stationary block is {dims(t)}{how} but the array is {rows}x{cols}"
    return None


class PreloadOp(Systolic.Operation, name="preload"):
    """Load the stationary operand of the next computes into the array's cells.

    Which operand is stationary depends on the dataflow: the rhs block (KxN) for ws, the
    accumulator block (MxN) for os, the lhs block, transposed (KxM), for is.
    """

    stationary: Operand[ir.MemRefType]
    array: ArrayAttr

    verify_invariants = verifier(_verify_preload)


def fold_dims(dataflow: str, m: int, n: int, k: int) -> tuple[int, int]:
    """The two matmul dims that must fit the array's rows and cols for a dataflow."""
    return {"os": (m, n), "ws": (k, n), "is": (k, m)}[dataflow]


def _is_dynamic(size: int) -> bool:
    return size == ir.ShapedType.get_dynamic_size()


def _agree(x: int, y: int) -> bool:
    """Two sizes agree when equal or when either is only known at run time."""
    return x == y or _is_dynamic(x) or _is_dynamic(y)


def _verify_compute(op) -> str | None:
    if msg := _check_array(op.array):
        return msg
    if not is_bool(op.accumulate):
        return f"accumulate must be a boolean, got {op.accumulate}"
    a, b, c = op.lhs.type, op.rhs.type, op.out.type
    for name, t, space in (("lhs", a, SpadAttr), ("rhs", b, SpadAttr), ("out", c, AccAttr)):
        if not _in_space(t, space):
            return f"{name} must be in #{space.attr_name}, got {_space_name(t)}"
        if len(shape_of(t)) != 2:
            return f"{name} must be a 2-d block, got {dims(t)}"
    (m, k), (k2, n), (m2, n2) = shape_of(a), shape_of(b), shape_of(c)
    if not _agree(k, k2):
        return f"lhs is {dims(a)} but rhs is {dims(b)}"
    if not (_agree(m, m2) and _agree(n, n2)):
        return f"out is {dims(c)} but lhs·rhs is {dims(a).split('x')[0]}x{dims(b).split('x')[1]}"
    if msg := _check_elements(a, b, c):
        return msg
    rows, cols, dataflow = array_params(op.array)
    r, cc = fold_dims(dataflow, m, n, k)
    if _is_dynamic(r) or _is_dynamic(cc):
        return (f"with dataflow {dataflow} the array-mapped dims of {dims(a)}·{dims(b)} "
                f"must be static (only the streamed dim may be dynamic)")
    if r > rows or cc > cols:
        return (f"computing {m}x{k}·{k}x{n} with dataflow {dataflow} needs a {r}x{cc} "
                f"array but the array is {rows}x{cols}")
    return None


class ComputeOp(Systolic.Operation, name="compute"):
    """out (+)= lhs·rhs for one fold: the two dims the dataflow maps onto the array fit
    it (k x n for ws, m x n for os, k x m for is) and the third is streamed through (any
    length, dynamic allowed). The stationary operand was preloaded; `accumulate = true`
    adds to the accumulator, `false` overwrites it."""

    lhs: Operand[ir.MemRefType]
    rhs: Operand[ir.MemRefType]
    out: Operand[ir.MemRefType]
    array: ArrayAttr
    # A boolean; the default also stands in for BoolAttr(false), which ext's builder
    # would otherwise take for "not given" (it is falsy).
    accumulate: ir.IntegerAttr = ext.attribute(default_factory=lambda: ir.BoolAttr.get(False))

    verify_invariants = verifier(_verify_compute)


def _verify_move_out(op) -> str | None:
    src, dst = op.src.type, op.dst.type
    if not _in_space(src, AccAttr):
        return f"source must be in {ACC}, got {_space_name(src)}"
    if not _in_space(dst, None):
        return f"destination must be in global memory, got {_space_name(dst)}"
    if msg := _check_block_copy(dst, src, "destination", "source"):
        return msg
    if msg := _check_epilogue(op.epilogue):
        return msg
    if op.bias is not None:
        bias = op.bias.type
        if not _in_space(bias, None):
            return f"bias must be in global memory, got {_space_name(bias)}"
        if len(shape_of(bias)) != 1 or not _agree(shape_of(bias)[0], shape_of(dst)[-1]):
            return f"bias is {dims(bias)} but the destination has {dims(dst).split('x')[-1]} columns"
        if element(bias) != element(src):
            return f"bias element type is {element(bias)} but the accumulator is {element(src)}"
    return _check_result_type(op.epilogue, element(src), element(dst), "destination")


class MoveOutOp(Systolic.Operation, name="move_out"):
    """Copy a block from the accumulator to global memory, applying the epilogue: add
    the optional `bias` (one value per column, read from global memory), then relu,
    then requantize by scale. The source may be larger (padding is dropped)."""

    src: Operand[ir.MemRefType]
    dst: Operand[ir.MemRefType]
    epilogue: ir.DictAttr = ext.attribute(default_factory=_no_epilogue)
    bias: Operand[ir.MemRefType] | None = None

    verify_invariants = verifier(_verify_move_out)


class FenceOp(Systolic.Operation, name="fence"):
    """Wait until every move and compute issued before it has finished."""


# --- what passes hand on: kernel metadata ------------------------------------------------
#
# A pass that outlines a matmul into a kernel function says what it made with attributes
# of this dialect, read back through the typed accessors below (`Kernel.of`,
# `Memory.of`, `is_parallel`): a missing or malformed one is a located error, never a
# KeyError deep in a consumer.

KERNEL = "systolic.kernel"  # on a func.func: #systolic.kernel<...>
MEMORY = "systolic.memory"  # on an ISA kernel: #systolic.memory<...>
PARALLEL = "systolic.parallel"  # on an scf.for of a kernel: #systolic.parallel
PACK = "systolic.pack"  # on a function packing a vector kernel's rhs: #systolic.pack<...>
KINDS = ("isa", "vector", "amx")
ROLES = ("lhs", "rhs", "acc", "bias", "out")


class KernelAttr(Systolic.Attribute, name="kernel"):
    """`#systolic.kernel<"isa", ["lhs", "rhs", "out"], [batch, m, n, k], [bm, bn, bk]>` on
    a function outlined from a `systolic.matmul`: its kind ("isa": NPU ISA ops, run by the
    simulator; "vector": a vector-unit microkernel; "amx": an AMX tile kernel), the role of
    each argument, the matmul it computes (after any padding) and its blocking: one step
    of the kernel handles an bm x bn block of the result and bk reduction elements."""

    kind: ir.StringAttr
    roles: ir.ArrayAttr
    gemm: ir.ArrayAttr
    block: ir.ArrayAttr


class MemoryAttr(Systolic.Attribute, name="memory"):
    """`#systolic.memory<spad_bytes, acc_bytes, dram_bytes_per_cycle, dma_latency>` (i64)
    on an ISA kernel: the memories it was cut for and the DRAM channel it is timed with."""

    spad_bytes: ir.IntegerAttr
    acc_bytes: ir.IntegerAttr
    dram_bytes_per_cycle: ir.IntegerAttr
    dma_latency: ir.IntegerAttr


class ParallelAttr(Systolic.Attribute, name="parallel"):
    """On an `scf.for` of a kernel: its iterations write disjoint parts of the result,
    so they may run on different units (tessera-tile-distribute)."""


class PackAttr(Systolic.Attribute, name="pack"):
    """`#systolic.pack<panel>` (i64) on a function that packs a matmul's rhs for a vector
    kernel: (rhs columns, packed panels) -> (), packed panel p holding rhs columns
    p x panel .. (p + 1) x panel - 1. Panels are independent, so a runtime may split
    them between cores, handing each core its columns and its panels."""

    panel: ir.IntegerAttr


def _i64(value: int) -> ir.IntegerAttr:
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), value)


def _ints(attr, what: str, count: int, low: int, location) -> tuple[int, ...]:
    values = [typed(v) for v in ir.ArrayAttr(attr)]
    ints = [v for v in values if is_i64(v)]
    if len(values) != count or len(ints) != count:
        raise LocatedError(f"{what} must be {count} i64 integers, got {attr}", location)
    out = tuple(v.value for v in ints)
    if any(v < low for v in out):
        raise LocatedError(f"{what} must be integers of at least {low}, got {attr}", location)
    return out


@dataclass(frozen=True)
class Kernel:
    """The typed view of `#systolic.kernel<...>` (see KernelAttr)."""

    kind: str
    roles: tuple[str, ...]
    batch: int
    m: int
    n: int
    k: int
    block: tuple[int, int, int]

    @staticmethod
    def of(function) -> "Kernel | None":
        """The kernel `function` (a func.func) is, None when it is no kernel; a malformed
        attribute is a LocatedError at the function."""
        if KERNEL not in function.attributes:
            return None
        attr, location = function.attributes[KERNEL], function.location
        name = f"'{KERNEL}' of @{function.sym_name.value}"
        if not isinstance(attr, KernelAttr):
            raise LocatedError(f"{name} must be a #systolic.kernel<...> attribute, got {attr}",
                               location)
        kind = ir.StringAttr(attr.kind).value
        if kind not in KINDS:
            raise LocatedError(f"{name}: kind must be one of {', '.join(KINDS)}, got '{kind}'",
                               location)
        roles = tuple(r.value if isinstance(r, ir.StringAttr) else str(r)
                      for r in map(typed, ir.ArrayAttr(attr.roles)))
        unknown = [r for r in roles if r not in ROLES]
        if unknown or len(set(roles)) != len(roles):
            raise LocatedError(f"{name}: roles must be distinct names among "
                               f"{', '.join(ROLES)}, got {attr.roles}", location)
        if not {"lhs", "rhs", "out"} <= set(roles):
            raise LocatedError(f"{name}: roles must include lhs, rhs and out, got {attr.roles}",
                               location)
        arguments = len(function.type.inputs)
        if len(roles) != arguments:
            raise LocatedError(f"{name} gives {len(roles)} roles but the function takes "
                               f"{arguments} arguments", location)
        batch, m, n, k = _ints(attr.gemm, f"{name}: gemm [batch, m, n, k]", 4, 1, location)
        block = _ints(attr.block, f"{name}: block [bm, bn, bk]", 3, 1, location)
        return Kernel(kind, roles, batch, m, n, k, block)

    def attr(self) -> KernelAttr:
        """This kernel as `#systolic.kernel<...>` (in the current context)."""
        return KernelAttr.get(ir.StringAttr.get(self.kind),
                              ir.ArrayAttr.get([ir.StringAttr.get(r) for r in self.roles]),
                              ir.ArrayAttr.get([_i64(v) for v in (self.batch, self.m, self.n,
                                                                  self.k)]),
                              ir.ArrayAttr.get([_i64(v) for v in self.block]))


def kernel_functions(module, kind: str | None = None) -> list:
    """(func.func, Kernel) of every kernel in `module` (of `kind`, when given), in order."""
    from tessera.mlir import func

    found = []
    for op in module.operation.regions[0].blocks[0].operations:
        if isinstance(op, func.FuncOp):
            kernel = Kernel.of(op)
            if kernel is not None and kind in (None, kernel.kind):
                found.append((op, kernel))
    return found


@dataclass(frozen=True)
class Memory:
    """The typed view of `#systolic.memory<...>` (see MemoryAttr)."""

    spad_bytes: int
    acc_bytes: int
    dram_bytes_per_cycle: int
    dma_latency: int

    @staticmethod
    def of(function) -> "Memory":
        """The memory of ISA kernel `function`; missing or malformed is a LocatedError."""
        name = f"'{MEMORY}' of @{function.sym_name.value}"
        if MEMORY not in function.attributes:
            raise LocatedError(f"kernel @{function.sym_name.value} has no '{MEMORY}' attribute "
                               f"(tessera-systolic-tile puts one on every ISA kernel)",
                               function.location)
        attr = function.attributes[MEMORY]
        if not isinstance(attr, MemoryAttr):
            raise LocatedError(f"{name} must be a #systolic.memory<...> attribute, got {attr}",
                               function.location)
        values = [getattr(attr, f) for f in ("spad_bytes", "acc_bytes", "dram_bytes_per_cycle",
                                             "dma_latency")]
        if not all(is_i64(v) for v in values):
            raise LocatedError(f"{name} must hold four i64 integers, got {attr}",
                               function.location)
        memory = Memory(*(ir.IntegerAttr(v).value for v in values))
        if memory.spad_bytes < 1 or memory.acc_bytes < 1 or memory.dram_bytes_per_cycle < 0 \
                or memory.dma_latency < 0:
            raise LocatedError(f"{name}: memories must be positive and bandwidth and latency "
                               f"not negative, got {attr}", function.location)
        return memory

    def attr(self) -> MemoryAttr:
        """This memory as `#systolic.memory<...>` (in the current context)."""
        return MemoryAttr.get(*(_i64(v) for v in (self.spad_bytes, self.acc_bytes,
                                                  self.dram_bytes_per_cycle, self.dma_latency)))


MAPPING = "systolic.mapping"  # on a tensor-level systolic.matmul: #systolic.mapping<...>
ORDERS = ("mnk", "mkn", "nmk", "nkm", "kmn", "knm")
SPLITS = ("none", "b", "m", "n")


class MappingAttr(Systolic.Attribute, name="mapping"):
    """`#systolic.mapping<[tm, tn, tk], "nmk", [spad_buffers, acc_buffers], "m">` on a
    `systolic.matmul`: how `tessera-systolic-tile` cuts it (see Mapping)."""

    tiles: ir.ArrayAttr
    order: ir.StringAttr
    buffers: ir.ArrayAttr
    split: ir.StringAttr


def _parsed_on(op, key: str, parse):
    """`parse` (attribute -> value, or a message saying what is wrong) of attribute `key`
    of `op`; None when `op` has none; a malformed one is a LocatedError at `op`."""
    if key not in op.attributes:
        return None
    value = parse(op.attributes[key])
    if isinstance(value, str):
        raise LocatedError(value, op.location)
    return value


def _int_list(attr, what: str, count: int, low: int, high: int | None = None):
    """`count` i64 integers in [low, high] from an ArrayAttr, or an error message."""
    if not isinstance(typed(attr), ir.ArrayAttr):
        return f"{what} must be an array of {count} i64 integers, got {attr}"
    values = [typed(v) for v in ir.ArrayAttr(attr)]
    if len(values) != count or not all(is_i64(v) for v in values):
        return f"{what} must be {count} i64 integers, got {attr}"
    out = tuple(v.value for v in values)
    if any(v < low or (high is not None and v > high) for v in out):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        return f"{what} must be integers {bound}, got {attr}"
    return out


def _string(attr, what: str, choices) -> str:
    """The value of a StringAttr among `choices`; raises ValueError with a message."""
    attr = typed(attr)
    value = attr.value if isinstance(attr, ir.StringAttr) else None
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(repr(c) for c in choices)}, "
                         f"got {attr}")
    return value


@dataclass(frozen=True)
class Mapping:
    """The typed view of `#systolic.mapping<...>`: one matmul's mapping onto one unit.

    - `tiles` (tm, tn, tk): the block of M, N and K one step of the kernel moves into the
      scratchpad (an tm x tk lhs tile and a tk x tn rhs tile) and accumulates (tm x tn);
      larger than the matmul means the whole dim. A dim the dataflow lays onto the array
      (ws: k on rows, n on cols; os: m, n; is: k, m) is cut in multiples of the array's
      size, or not at all; each step runs as many array folds as its tile needs.
    - `order`: the loops over tiles, outermost first. Each operand moves in inside the
      innermost loop it depends on, so it stays resident across the loops inside that
      (order "mkn": an lhs tile stays while every rhs tile of its k passes by). The
      result is accumulated in an accumulator region that spans every tile of the loops
      inside the k loop and moves out once, after the k loop.
    - `buffers` (scratchpad, accumulator): 1 or 2 buffers each; with 2, consecutive
      tiles alternate between them so moves overlap the array's work.
    - `split`: the loop dealt out to the units of a grid ("none": one unit runs it all;
      "b": the batch; "m" or "n": a tile loop outside the k loop).

    The dataflow the mapping runs is the matmul's `#systolic.array`'s.
    """

    tiles: tuple[int, int, int]
    order: str = "mnk"
    spad_buffers: int = 1
    acc_buffers: int = 1
    split: str = "none"

    @staticmethod
    def parse(attr) -> "Mapping | str":
        """The mapping `attr` holds, or what is wrong with it."""
        attr = typed(attr)
        if not isinstance(attr, MappingAttr):
            return f"'{MAPPING}' must be a #systolic.mapping<...> attribute, got {attr}"
        tiles = _int_list(attr.tiles, "mapping tiles [tm, tn, tk]", 3, 1)
        if isinstance(tiles, str):
            return tiles
        buffers = _int_list(attr.buffers, "mapping buffers [spad, acc]", 2, 1, 2)
        if isinstance(buffers, str):
            return buffers
        try:
            order = _string(attr.order, "mapping order", ORDERS)
            split = _string(attr.split, "mapping split", SPLITS)
        except ValueError as e:
            return str(e)
        return Mapping(tiles, order, buffers[0], buffers[1], split)

    @staticmethod
    def of(op) -> "Mapping | None":
        """The mapping on matmul `op`, None when it has none; malformed is a LocatedError."""
        return _parsed_on(op, MAPPING, Mapping.parse)

    def attr(self) -> MappingAttr:
        """This mapping as `#systolic.mapping<...>` (in the current context)."""
        return MappingAttr.get(ir.ArrayAttr.get([_i64(t) for t in self.tiles]),
                               ir.StringAttr.get(self.order),
                               ir.ArrayAttr.get([_i64(self.spad_buffers),
                                                 _i64(self.acc_buffers)]),
                               ir.StringAttr.get(self.split))

    def text(self) -> str:
        tm, tn, tk = self.tiles
        return (f"tiles {tm}x{tn}x{tk}, order {self.order}, buffers "
                f"{self.spad_buffers}/{self.acc_buffers}, split {self.split}")

    def check(self, rows: int, cols: int, dataflow: str, m: int, n: int, k: int,
              batched: bool) -> str | None:
        """What makes this mapping unusable for an m x n x k matmul (batched or not) on a
        rows x cols array running `dataflow`, or None."""
        sizes = {"m": m, "n": n, "k": k}
        tiles = dict(zip("mnk", self.tiles))
        for dim, extent, side in zip(FOLD_DIMS[dataflow], (rows, cols), ("rows", "cols")):
            tile = min(tiles[dim], sizes[dim])
            if tile % extent and tile != sizes[dim]:
                return (f"mapping tile of {dim} is {tiles[dim]}, but with dataflow "
                        f"{dataflow} {dim} is laid onto the array's {extent} {side}: cut "
                        f"it in multiples of {extent} or not at all ({dim} is {sizes[dim]})")
        if self.split == "b" and not batched:
            return "mapping split 'b' needs a batched matmul"
        if self.split in ("m", "n") and self.order.index(self.split) > self.order.index("k"):
            return (f"mapping split '{self.split}' must be a loop outside the k loop, but "
                    f"order is '{self.order}'")
        return None


FOLD_DIMS = {"ws": ("k", "n"), "os": ("m", "n"), "is": ("k", "m")}  # on (rows, cols)


# --- register blocking of vector microkernels -----------------------------------------

BLOCKING = "systolic.blocking"  # on a systolic.matmul or a vector kernel
LMULS = (1, 2, 4, 8)


class BlockingAttr(Systolic.Attribute, name="blocking"):
    """`#systolic.blocking<rows, groups, lmul, unroll>` (i64) on a `systolic.matmul` (set
    by hand, honored by `tessera-systolic-to-vector`) or on the vector kernel made from it
    (the blocking it was built with): see Blocking."""

    rows: ir.IntegerAttr
    groups: ir.IntegerAttr
    lmul: ir.IntegerAttr
    unroll: ir.IntegerAttr


@dataclass(frozen=True)
class Blocking:
    """The register blocking of a vector microkernel.

    One block of the result is `rows` rows by `groups` register groups of columns; a
    register group is `lmul` vector registers (RVV's LMUL; 1 on units without groups).
    The block's accumulators stay in registers for the whole reduction; each reduction
    step loads `groups` groups of a rhs row and multiplies each of `rows` lhs values into
    them. The reduction loop is unrolled `unroll` times.
    """

    rows: int
    groups: int
    lmul: int = 1
    unroll: int = 1

    @staticmethod
    def parse(attr) -> "Blocking | str":
        """The blocking `attr` holds, or what is wrong with it."""
        attr = typed(attr)
        if not isinstance(attr, BlockingAttr):
            return f"'{BLOCKING}' must be a #systolic.blocking<...> attribute, got {attr}"
        values = []
        for name in ("rows", "groups", "lmul", "unroll"):
            value = typed(getattr(attr, name))
            if not is_i64(value) or not 1 <= value.value <= 64:
                return f"blocking {name} must be an i64 between 1 and 64, got {value}"
            values.append(value.value)
        if values[2] not in LMULS:
            return f"blocking lmul must be one of {', '.join(map(str, LMULS))}, got {values[2]}"
        return Blocking(*values)

    @staticmethod
    def of(op) -> "Blocking | None":
        """The blocking on `op`, None when it has none; malformed is a LocatedError."""
        return _parsed_on(op, BLOCKING, Blocking.parse)

    def attr(self) -> BlockingAttr:
        """This blocking as `#systolic.blocking<...>` (in the current context)."""
        return BlockingAttr.get(*(_i64(v) for v in (self.rows, self.groups, self.lmul,
                                                      self.unroll)))

    def text(self) -> str:
        return (f"{self.rows} rows x {self.groups} groups of LMUL {self.lmul}, "
                f"k unrolled {self.unroll}x")


def pack_panel(function) -> int | None:
    """The panel width (rhs columns) of pack function `function`, None when it is none;
    a malformed `#systolic.pack` is a LocatedError at the function."""

    def parse(attr):
        attr = typed(attr)
        if not isinstance(attr, PackAttr):
            return f"'{PACK}' must be a #systolic.pack<panel> attribute, got {attr}"
        panel = typed(attr.panel)
        if not is_i64(panel) or panel.value < 1:
            return f"pack panel must be a positive i64, got {panel}"
        return panel.value

    return _parsed_on(function, PACK, parse)


def pack_attr(panel: int) -> PackAttr:
    """`#systolic.pack<panel>` (in the current context)."""
    return PackAttr.get(_i64(panel))


def mark_parallel(loop) -> None:
    """Mark an scf.for whose iterations write disjoint parts of the result."""
    loop.attributes[PARALLEL] = ParallelAttr.get()


def is_parallel(loop) -> bool:
    """Whether an scf.for is marked parallel; a malformed mark is a LocatedError."""
    if PARALLEL not in loop.attributes:
        return False
    if not isinstance(loop.attributes[PARALLEL], ParallelAttr):
        raise LocatedError(f"'{PARALLEL}' must be #systolic.parallel, got "
                           f"{loop.attributes[PARALLEL]}", loop.location)
    return True
