"""Pass `tessera-outline-linalg`: every linalg op on tensors left in a function moves into
a function of its own, called on buffers.

LLVM's loop passes (loop vectorizer, induction-variable simplification, loop rotation)
slow down more than linearly with the number of loops in one function, and a small
model's host function holds 100-200 loop nests after `convert-linalg-to-loops`: LLVM's
-O3 took 2.5-3.6 s CPU on the tiny models of examples/architectures.py, 1.6-2.0 s with
one function per op.

The op keeps its tensor form inside the new function. Its tensor inputs arrive as
read-only buffers and each result is written into a fresh buffer the caller allocates,
as the vector kernels' results are (`passes.common.call_kernel`), so no buffer a call
writes overlaps another it touches. `noalias_pointers` tells LLVM so once the module is
in the LLVM dialect (the conversion drops `llvm.noalias` from memref arguments); LLVM's
vectorizer then needs no runtime overlap checks in these loops (the tiny models execute
5-48% fewer instructions). The price: an op no longer updates a dead input in place,
one more pointer per loop (the int8 MLP of examples/models.py, whose loops LLVM does not
vectorize, executes 7% more). The new functions are internal and `noinline`: LLVM would
inline each back into its only caller. A function with fewer than `min-ops` such ops
keeps them (one loop nest alone gains nothing).

An init the op reads (a reduction's, an accumulating named op's) comes along: a
`linalg.fill` used only there is done again inside, on the new buffer; any other init is
passed read-only and copied in. Scalars the op uses are passed as arguments, constants
are copied into the new function. Ops with dynamic shapes, or with buffers or tensors
that are not operands, stay where they are; so does everything inside functions this pass
or a kernel-making pass made.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.knobs import Options, knob
from tessera.mlir import bufferization, func, ir, memref

from tessera.dialects.systolic import KERNEL
from tessera.passes.common import memref_of, outline

OUTLINED = "tessera.outlined"  # unit attribute of the functions this pass makes


@dataclass(frozen=True)
class OutlineLinalgOptions(Options):
    """min-ops: the fewest outlinable ops a function must hold to have them outlined."""

    min_ops: int = knob(2, "outline a function's linalg ops only when it holds this many",
                        low=1)


def _is_scalar(t: ir.Type) -> bool:
    return isinstance(t, (ir.IntegerType, ir.FloatType, ir.IndexType))


def _is_static_tensor(t: ir.Type) -> bool:
    return isinstance(t, ir.RankedTensorType) and t.has_static_shape


def _operation(op) -> ir.Operation:
    return op.operation if isinstance(op, ir.OpView) else op


def _defined_by(value: ir.Value, name: str):
    """The op named `name` that defines `value`, or None."""
    if isinstance(value.owner, ir.Block):
        return None
    owner = _operation(value.owner)
    return owner if owner.name == name else None


def _captured(op: ir.Operation) -> list:
    """The values the ops inside `op`'s region use but that are defined outside `op`."""
    nested, inside = [], set()

    def visit(o):
        if o != op:
            nested.append(o)
            inside.update(o.results)
        for region in o.regions:
            for block in region.blocks:
                inside.update(block.arguments)
        return ir.WalkResult.ADVANCE

    op.walk(visit)
    seen = []
    for o in nested:
        for v in o.operands:
            if v not in inside and v not in seen:
                seen.append(v)
    return seen


class _Call:
    """What one outlined op takes from its caller, in argument order: tensors (passed as
    read-only buffers), scalars; and the constants copied in, the fills redone inside."""

    def __init__(self, op: ir.Operation):
        n_out = len(op.results)
        self.op = op
        self.ins = list(op.operands)[:-n_out]
        self.inits = list(op.operands)[-n_out:]
        self.tensors, self.scalars, self.constants = [], [], []
        self.fills = [None] * n_out  # the linalg.fill redone inside, per init
        self.copied = [False] * n_out  # the init copied into the output buffer, per init
        for v in self.ins:
            if _is_static_tensor(v.type):
                self._tensor(v)
            else:
                self._scalar(v)
        for i, init in enumerate(self.inits):
            if not _reads_init(op, i) or _defined_by(init, "tensor.empty") is not None:
                continue
            fill = _defined_by(init, "linalg.fill")
            if fill is not None and len(list(init.uses)) == 1:
                self.fills[i] = fill
                self._scalar(fill.operands[0])
            else:
                self.copied[i] = True
                self._tensor(init)
        for v in _captured(op):
            self._scalar(v)

    def _tensor(self, v: ir.Value) -> None:
        if v not in self.tensors:
            self.tensors.append(v)

    def _scalar(self, v: ir.Value) -> None:
        if not _is_scalar(v.type):
            raise _Stays()
        if _defined_by(v, "arith.constant") is not None:
            if v not in self.constants:
                self.constants.append(v)
        elif v not in self.scalars:
            self.scalars.append(v)


def _reads_init(op: ir.Operation, i: int) -> bool:
    """Whether `op`'s body reads its `i`-th init (a block argument per operand,
    destination style; linalg.map has none for its init, which it never reads)."""
    body = op.regions[0].blocks[0]
    n_in = len(op.operands) - len(op.results)
    return len(body.arguments) == len(op.operands) and bool(list(body.arguments[n_in + i].uses))


class _Stays(Exception):
    """The op cannot be outlined (a buffer or a non-operand tensor in its body)."""


def _outlinable(op: ir.Operation) -> bool:
    """A linalg op on static tensors (destination style: its inits are its last operands,
    one per result), directly in a function's body."""
    if not op.name.startswith("linalg.") or len(op.regions) != 1 or not op.results:
        return False
    if not isinstance(op.parent.opview, func.FuncOp):
        return False
    results = [r.type for r in op.results]
    inits = [v.type for v in list(op.operands)[-len(results):]]
    return all(_is_static_tensor(t) for t in results) and inits == results


def _body(call: _Call, arguments: list) -> None:
    """The outlined function's body: the op on tensor views of its buffers, its results
    written into the output buffers."""
    op, args = call.op, iter(arguments)
    buffers = {v: next(args) for v in call.tensors}
    mapping = {v: bufferization.ToTensorOp(v.type, buffers[v], restrict=True).result
               for v in call.tensors if v in call.ins}
    for v in call.scalars:
        mapping[v] = next(args)
    for v in call.constants:
        mapping[v] = _defined_by(v, "arith.constant").clone().results[0]
    outs = list(args)
    inits = []
    for init, fill, copied, out in zip(call.inits, call.fills, call.copied, outs):
        if copied:
            memref.CopyOp(buffers[init], out)
        dest = bufferization.ToTensorOp(init.type, out, restrict=True, writable=True).result
        if fill is not None:
            redone = fill.clone()
            redone.operands[0] = mapping[fill.operands[0]]
            redone.operands[1] = dest
            dest = redone.results[0]
        inits.append(dest)
    moved = op.clone()
    for i, v in enumerate(call.ins):
        moved.operands[i] = mapping[v]
    for i, dest in enumerate(inits):
        moved.operands[len(call.ins) + i] = dest

    def remap(o):
        if o != moved:
            for i, v in enumerate(o.operands):
                if v in mapping:
                    o.operands[i] = mapping[v]
        return ir.WalkResult.ADVANCE

    moved.walk(remap)
    for result, out in zip(moved.results, outs):
        bufferization.MaterializeInDestinationOp(None, result, out, restrict=True,
                                                 writable=True)


def outline_op(module_op, op: ir.Operation) -> bool:
    """Move `op` into a new function called on buffers; False when it stays."""
    try:
        call = _Call(op)
    except _Stays:
        return False
    with ir.InsertionPoint(op), op.location:
        buffers = [bufferization.ToBufferOp(memref_of(v.type), v, read_only=True).result
                   for v in call.tensors]
        outs = [memref.AllocOp(memref_of(r.type), [], []).result for r in op.results]
        operands = buffers + call.scalars + outs
        attributes = {OUTLINED: ir.UnitAttr.get(), "llvm.no_inline": ir.UnitAttr.get(),
                      "llvm.linkage": ir.Attribute.parse("#llvm.linkage<internal>")}
        name = "tessera_" + op.name.split(".", 1)[1]
        callee = outline(module_op, name, [v.type for v in operands], op.location,
                         attributes, lambda arguments: _body(call, arguments))
        func.CallOp(callee, operands)
        results = [bufferization.ToTensorOp(r.type, out, restrict=True, writable=True).result
                   for r, out in zip(op.results, outs)]
    for old, new in zip(op.results, results):
        old.replace_all_uses_with(new)
    op.erase()
    for fill in call.fills:
        if fill is not None:
            fill.erase()
    return True


def _absorbed(op: ir.Operation) -> bool:
    """A linalg.fill whose only user is an op it will move into (see _Call)."""
    if op.name != "linalg.fill" or len(list(op.results[0].uses)) != 1:
        return False
    return _outlinable(_operation(next(iter(op.results[0].uses)).owner))


def outline_linalg(op, pass_, options: OutlineLinalgOptions) -> None:
    """Pass body: outline the linalg ops of every function but kernels and functions
    this pass made."""
    module_op = op.operation if hasattr(op, "operation") else op
    functions = [_operation(f) for f in module_op.regions[0].blocks[0].operations
                 if isinstance(f, func.FuncOp) and len(f.regions[0].blocks)
                 and OUTLINED not in f.attributes and KERNEL not in f.attributes]
    for f in functions:
        ops = [o for o in map(_operation, f.regions[0].blocks[0].operations)
               if _outlinable(o) and not _absorbed(o)]
        if len(ops) >= options.min_ops:
            for o in ops:
                outline_op(module_op, o)


def noalias_pointers(module: ir.Module) -> None:
    """Once `module` is in the LLVM dialect: mark every pointer argument of the functions
    this pass made `llvm.noalias` (their buffers do not overlap; see above)."""
    for f in module.body.operations:
        if f.operation.name != "llvm.func" or OUTLINED not in f.attributes \
                or not len(f.regions[0].blocks):
            continue
        attrs = [{"llvm.noalias": ir.UnitAttr.get()} if str(a.type) == "!llvm.ptr" else {}
                 for a in f.regions[0].blocks[0].arguments]
        f.attributes["arg_attrs"] = ir.ArrayAttr.get([ir.DictAttr.get(a) for a in attrs])
