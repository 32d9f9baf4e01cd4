"""Small helpers shared by tessera's rewrite patterns."""

from tessera.mlir import arith, bufferization, func, ir, linalg, memref, tensor

from tessera.dialects.common import is_static, shape_of

NO_MATCH = True  # MLIR Python patterns: a truthy return means "did not apply"


def rewrite_each(module_op, pass_, root, rewrite_one, pass_name: str) -> None:
    """Apply `rewrite_one(op, rewriter)` to every `root` op under `module_op`, once
    each. A TesseraError it raises is an error at that op (naming `pass_name`), the other
    ops are still rewritten, and the pass fails."""
    from tessera.errors import TesseraError
    from tessera.mlir import rewrite

    failed = []

    def pattern(op, rewriter):
        try:
            return rewrite_one(op, rewriter)
        except TesseraError as e:
            op.location.emit_error(f"{pass_name}: {e}")
            failed.append(op)
            return NO_MATCH

    patterns = rewrite.RewritePatternSet()
    patterns.add(root, pattern)
    rewrite.walk_and_apply_patterns(module_op, patterns.freeze())
    if failed:
        pass_.signal_pass_failure()


def defining_op(value, kind=ir.OpView):
    """The op of kind `kind` that defines `value`, or None (a block argument, another op)."""
    owner = value.owner
    if isinstance(owner, ir.Operation):
        owner = owner.opview
    return owner if isinstance(owner, kind) else None


def index(value: int):
    """An `index` constant."""
    return arith.constant(ir.IndexType.get(), value)


def zero(element: ir.Type):
    """The zero of an integer or float element type, as a constant."""
    if isinstance(element, ir.IntegerType):
        return arith.constant(element, ir.IntegerAttr.get(element, 0))
    return arith.constant(element, ir.FloatAttr.get(element, 0.0))


def parallel_iterator() -> ir.Attribute:
    """`#linalg.iterator_type<parallel>` (built from its spelling, as the bindings' own
    attribute builder for it does)."""
    return ir.Attribute.parse(f"#linalg.iterator_type<{linalg.IteratorType.parallel}>")


def round_up(value: int, multiple: int) -> int:
    """`value` rounded up to a multiple of `multiple`."""
    return -(-value // multiple) * multiple


def result_of(value):
    """The result of a builder that returns either an op (OpView) or its one value."""
    return value.results[0] if isinstance(value, ir.OpView) else value


def static_and_nonempty(op) -> bool:
    """Every operand of `op` a statically shaped tensor without a dimension of size 0
    (whose maps would divide by zero)."""
    return all(isinstance(v.type, ir.RankedTensorType) and is_static(v.type)
               and 0 not in shape_of(v.type) for v in (*op.inputs, *op.outputs))


def dim(position: int) -> ir.AffineExpr:
    """Loop dimension `position` of an affine map."""
    return ir.AffineDimExpr.get(position)


def affine_map(dims: int, results: list) -> ir.AffineMap:
    """An affine map over `dims` loops; int results become constants."""
    exprs = [ir.AffineConstantExpr.get(r) if isinstance(r, int) else r for r in results]
    return ir.AffineMap.get(dims, 0, exprs)


def gather(source, shape: list[int], source_map: ir.AffineMap,
           out_map: ir.AffineMap | None = None):
    """out[out_map(i...)] = source[source_map(i...)] over loops i, out of the given shape
    (out_map, a permutation, sets the loop order; identity by default): one parallel
    `linalg.generic`."""
    element = ir.ShapedType(source.type).element_type
    out = tensor.empty(shape, element)
    maps = [source_map, out_map or ir.AffineMap.get_identity(len(shape))]
    generic = linalg.GenericOp([out.type], [source], [out],
                               ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
                               ir.ArrayAttr.get([parallel_iterator()] * len(shape)))
    block = generic.regions[0].blocks.append(element, element)
    with ir.InsertionPoint(block):
        linalg.YieldOp([block.arguments[0]])
    return generic.result


def is_zero_fill(value) -> bool:
    """Whether `value` is a `linalg.fill` of the constant zero (an empty accumulator)."""
    owner = value.owner
    if not isinstance(owner, linalg.FillOp):
        return False
    const = owner.inputs[0].owner
    if not isinstance(const, arith.ConstantOp):
        return False
    attr = const.value
    return (isinstance(attr, ir.FloatAttr) and attr.value == 0.0) or \
        (isinstance(attr, ir.IntegerAttr) and attr.value == 0)


def spatial_pair(op, name: str) -> tuple[int, int]:
    """A 2-d convolution's or pooling's `strides` / `dilations` (1, 1 when absent)."""
    if name not in op.attributes:
        return 1, 1
    values = [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])]
    return values[0], values[1]


def memref_of(t) -> ir.MemRefType:
    """The identity-layout memref type with the shape and element type of `t`."""
    shaped = ir.ShapedType(t)
    return ir.MemRefType.get(shaped.shape, shaped.element_type)


def transposed(value):
    """A linalg.transpose of the last two dims of a tensor."""
    shape = list(ir.ShapedType(value.type).shape)
    perm = list(range(len(shape) - 2)) + [len(shape) - 1, len(shape) - 2]
    init = tensor.empty([shape[i] for i in perm], ir.ShapedType(value.type).element_type)
    return linalg.transpose(value, outs=[init], permutation=perm).results[0]


def call_kernel(op, rewriter, zero_init: bool, make_kernel) -> None:
    """Replace tensor-level `systolic.matmul` `op` by a call of a kernel on buffers.

    Transposed operands are transposed first; the kernel takes (lhs, rhs, [acc], [bias],
    out) as identity-layout memrefs; `make_kernel(roles, types)` builds it (a FuncOp).
    A zero-filled accumulator is not passed (`zero_init`): the kernel starts from zero.
    """
    from tessera.dialects.systolic import transpose_flags

    t_lhs, t_rhs = transpose_flags(op.transpose)
    with rewriter.ip, op.location:
        operands = {"lhs": transposed(op.lhs) if t_lhs else op.lhs,
                    "rhs": transposed(op.rhs) if t_rhs else op.rhs}
        if not zero_init:
            operands["acc"] = op.acc
        if op.bias is not None:
            operands["bias"] = op.bias
        buffers = [bufferization.ToBufferOp(memref_of(v.type), v, read_only=True).result
                   for v in operands.values()]
        out = memref.AllocOp(memref_of(op.res.type), [], []).result
        kernel = make_kernel(list(operands) + ["out"], [b.type for b in buffers] + [out.type])
        func.CallOp(kernel, buffers + [out])
        result = bufferization.ToTensorOp(op.res.type, out, restrict=True, writable=True)
    rewriter.replace_op(op, [result.result])


def intrinsic(module_op, name: str, inputs: list, result) -> str:
    """The symbol of LLVM intrinsic `name` (inputs) -> result, declared in the module once
    as a private function of that name: an LLVM function named `llvm.*` is the intrinsic.
    For intrinsics MLIR has no op for; a call, unlike `llvm.call_intrinsic`, passes
    bufferization and buffer deallocation (it has no memref operands)."""
    table = ir.SymbolTable(module_op)
    if name not in table:
        with ir.InsertionPoint.at_block_begin(module_op.regions[0].blocks[0]), \
                ir.Location.unknown():
            table.insert(func.FuncOp(name, ir.FunctionType.get(inputs, [result]),
                                     visibility="private"))
    return name


def outline(module_op, name: str, types, location, attributes: dict, build) -> func.FuncOp:
    """A private function `<name>_<n>(types...)` appended to the module, with
    `attributes`; `build(arguments)` emits its body (the return is added here). `n` is
    the first index the module's symbol table does not hold yet, so running a pass again,
    or on IR that has such functions, never redefines a symbol. The one outliner every
    kernel-making pass uses."""
    table = ir.SymbolTable(module_op)
    n = 0
    while f"{name}_{n}" in table:
        n += 1
    with ir.InsertionPoint(module_op.regions[0].blocks[0]), location:
        kernel = func.FuncOp(f"{name}_{n}", ir.FunctionType.get(types, []), visibility="private")
        for key, value in attributes.items():
            kernel.attributes[key] = value
        block = kernel.add_entry_block()
        with ir.InsertionPoint(block):
            build(list(block.arguments))
            func.ReturnOp([])
    table.insert(kernel)
    return kernel
