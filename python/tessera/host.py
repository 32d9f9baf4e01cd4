"""Host code: a tensor-level module lowered to LLVM and run by MLIR's ExecutionEngine.

Targets whose accelerator is simulated or reached through calls (npu-sim; later
cpu-amx) keep the rest of the model here: the module is bufferized, lowered to loops and
LLVM, and JIT-compiled. Functions the module only declares are served by Python
callbacks that receive their memref arguments as numpy arrays (views, no copies).

The entry point is a generated wrapper `tessera_entry(inputs..., outputs...)` that calls
the model's function and writes its results into caller-provided buffers, so that the
caller (this module) owns every array.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools

import numpy as np

from tessera.errors import TesseraError
from tessera.executable import TensorSpec, entry_function, is_scalar, result_signature
from tessera.mlir import bufferization, builtin, func, ir, tensor

ENTRY = "tessera_entry"

def host_pipeline(x86: bool = False) -> str:
    """The pipeline text that bufferizes a module and lowers it to the LLVM dialect;
    `x86` turns on the x86 vector conversions (AMX tile ops, AVX-512 dots)."""
    return ",".join([
        "func.func(convert-elementwise-to-linalg)",
        "one-shot-bufferize{bufferize-function-boundaries allow-unknown-ops "
        "function-boundary-type-conversion=identity-layout-map}",
        "func.func(tm-tensor-bufferize)",  # torch-mlir's scatter, scan, sort, ... ops
        "buffer-deallocation-pipeline",
        "convert-bufferization-to-memref",
        "tessera-memref-copy-to-linalg",
        "func.func(tm-tensor-to-loops)",
        "convert-linalg-to-loops",
        "lower-affine",
        "convert-scf-to-cf",
        "expand-strided-metadata",
        "lower-affine",  # again: expand-strided-metadata makes affine.apply of subview offsets
        "convert-complex-to-standard",
        # bf16 arithmetic and math (add, exp, atan, ...) computed in f32 between an extf
        # and a truncf, and bf16 <-> f32 as integer ops (round to nearest even): left to
        # LLVM, without avx512_bf16 it calls compiler-rt's __truncsfbf2, which neither the
        # JIT nor libgcc 12 provides.
        "func.func(math-extend-to-supported-types{target-type=f32})",
        "func.func(arith-emulate-unsupported-floats{source-types=bf16 target-type=f32})",
        "arith-expand{include-bf16=true}",
        "convert-vector-to-llvm{enable-x86}" if x86 else "convert-vector-to-llvm",
        "finalize-memref-to-llvm",
        "convert-math-to-llvm",
        "convert-math-to-libm",
        "convert-complex-to-llvm",
        "convert-arith-to-llvm",
        "convert-cf-to-llvm",
        "convert-func-to-llvm",
        "convert-index-to-llvm",
        "reconcile-unrealized-casts",
    ])


MODEL = "tessera_model"  # the model's function, renamed so it cannot clash with C's main


def add_entry(module: ir.Module, func_name: str) -> list[TensorSpec]:
    """Add `tessera_entry(inputs..., out buffers...)` calling `func_name` (renamed
    `tessera_model`); return the output specs."""
    specs = result_signature(module, func_name)
    target = entry_function(module, func_name)
    for op in module.body.operations:
        if isinstance(op, func.FuncOp) and op.sym_name.value in (ENTRY, MODEL) \
                and op.operation != target.operation:
            raise TesseraError(f"the module defines a function '{op.sym_name.value}', a name "
                               f"tessera reserves for the program's entry; rename it")
    target.attributes["sym_name"] = ir.StringAttr.get(MODEL, module.context)
    inputs = list(target.type.inputs)
    # A scalar result is handed back as a 0-d array.
    outputs = [ir.RankedTensorType.get([], t) if is_scalar(t) else ir.RankedTensorType(t)
               for t in target.type.results]
    with ir.InsertionPoint(module.body), ir.Location.unknown():
        out_buffers = [ir.MemRefType.get(t.shape, t.element_type) for t in outputs]
        entry = func.FuncOp(ENTRY, ir.FunctionType.get(inputs + out_buffers, []))
        entry.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
        block = entry.add_entry_block()
        with ir.InsertionPoint(block):
            args = list(block.arguments)
            call = func.CallOp(target, args[:len(inputs)])
            for result, buffer, t in zip(call.results, args[len(inputs):], outputs):
                if is_scalar(result.type):
                    result = tensor.from_elements(t, [result])
                bufferization.MaterializeInDestinationOp(None, result, buffer, restrict=True,
                                                         writable=True)
            func.ReturnOp([])
    return specs


def copy_module(module: ir.Module) -> ir.Module:
    """An independent copy of `module` in the same context: its ops cloned, its attributes
    shared (they are immutable; a weight's dense resource is not copied: BERT-base's 440
    MB took 0.8-1.5 s through bytecode)."""
    copy = ir.Module.create(module.operation.location)
    attributes = module.operation.attributes
    for name in attributes:
        copy.operation.attributes[name] = attributes[name]
    body = ir.InsertionPoint(copy.body)
    for op in module.body.operations:
        op.operation.clone(body)
    return copy


def declare_externals(module: ir.Module, names: set[str]) -> None:
    """Turn the functions called `names` into declarations served by callbacks."""
    for op in list(module.body.operations):
        if isinstance(op, func.FuncOp) and op.sym_name.value in names:
            with ir.InsertionPoint(op), op.location:
                decl = func.FuncOp(op.sym_name.value, op.type, visibility="private")
                decl.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
            op.erase()


def verify(module: ir.Module) -> None:
    """Raise a DiagnosticError unless `module` verifies."""
    from tessera.errors import error_from_mlir

    try:
        module.operation.verify()
    except ir.MLIRError as e:
        raise error_from_mlir(e) from None


def lower_to_llvm(module: ir.Module, x86: bool = False) -> None:
    """Bufferize and lower the host module to the LLVM dialect, in place."""
    from tessera.errors import DiagnosticError
    from tessera.pipeline import Pipeline

    # The module is verified before and after, not after each of the ~20 upstream
    # conversions (that took 0.8 of BERT-base's 2 s here).
    try:
        verify(module)
        Pipeline(module.context, verify_each=False).add(host_pipeline(x86)).run(module)
        verify(module)
    except DiagnosticError as e:
        raise DiagnosticError(e.diags, "lowering the host code to LLVM failed:") from None
    # A cast left between types nothing lowered would make LLVM's translation fail (and
    # the C API crash): it is an op of the model the host path cannot run.
    left = []

    def visit(op):
        if isinstance(op.opview, builtin.UnrealizedConversionCastOp):
            left.append(op)
            return ir.WalkResult.INTERRUPT
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    if left:
        from tessera.errors import LocatedError

        types = ", ".join(str(v.type) for v in left[0].operands)
        raise LocatedError(f"the host code uses values of type {types}, which tessera's LLVM "
                           f"lowering does not handle", left[0].location)


def lowered_copy(module: ir.Module, func_name: str, externals=()) -> tuple[ir.Module, list]:
    """A copy of `module` with `externals` declared, the entry wrapper added and
    everything lowered to LLVM; returns it with the entry's output specs. `module` is
    left as it was."""
    lowered = copy_module(module)
    declare_externals(lowered, set(externals))
    outputs = add_entry(lowered, func_name)
    lower_to_llvm(lowered)
    return lowered, outputs


# glibc's mallopt parameters.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@functools.cache
def keep_freed_memory(trim: int = 256 << 20, mmap: int = 32 << 20) -> None:
    """Once per process: glibc keeps up to `trim` bytes of freed heap instead of giving it
    back to Linux, and serves blocks up to `mmap` bytes from the heap. A program's host
    code allocates its buffers (kernel outputs, packed operands) on every call; with
    glibc's defaults the freed heap is trimmed, and the next call takes fresh pages, each
    a page fault and a page cleared by the kernel (measured: ~25% of a cpu-amx int8
    1024^3 call's samples; 10-15% of its time). A process-wide setting, like the
    allocators of other runtimes; no effect where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_TRIM_THRESHOLD, trim)
    libc.mallopt(_M_MMAP_THRESHOLD, mmap)


class _Descriptor(ctypes.Structure):
    """The head of a ranked memref descriptor; sizes and strides follow it."""

    _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                ("offset", ctypes.c_longlong)]


def array_at(address: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A numpy view of the memref whose descriptor is at `address`: `shape` its sizes, an
    identity layout; or, where `shape` has a -1 (a dynamic size), the sizes and strides
    the descriptor holds."""
    head = _Descriptor.from_address(address)
    start = head.aligned + head.offset * dtype.itemsize
    if any(size < 0 for size in shape):
        full = _descriptor_type(len(shape)).from_address(address)
        sizes = tuple(full.shape[i] for i in range(len(shape)))
        strides = tuple(full.strides[i] for i in range(len(shape)))
        extent = 1 + sum((n - 1) * s for n, s in zip(sizes, strides)) if all(sizes) else 0
        raw = (ctypes.c_byte * (extent * dtype.itemsize)).from_address(start)
        return np.ndarray(sizes, dtype, buffer=raw, strides=[s * dtype.itemsize for s in strides])
    count = int(np.prod(shape)) if shape else 1
    raw = (ctypes.c_byte * (count * dtype.itemsize)).from_address(start)
    return np.frombuffer(raw, dtype=dtype, count=count).reshape(shape)


@functools.cache
def _descriptor_type(rank: int) -> type:
    """The ctypes structure of a rank-`rank` memref descriptor (one class per rank: making
    a class costs tens of microseconds, more than a small kernel call)."""

    class Descriptor(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_longlong), ("shape", ctypes.c_longlong * max(rank, 1)),
                    ("strides", ctypes.c_longlong * max(rank, 1))]

    return Descriptor


def descriptor(array: np.ndarray):
    """A ranked memref descriptor (ctypes) viewing `array` (no copy)."""
    rank = array.ndim
    d = _descriptor_type(rank)()
    d.allocated = d.aligned = array.ctypes.data
    d.offset = 0
    for i in range(rank):
        d.shape[i] = array.shape[i]
        d.strides[i] = array.strides[i] // array.itemsize
    return d


@contextlib.contextmanager
def code_unoptimized(module: ir.Module):
    """While in the block, every function `module` (LLVM dialect) defines is marked
    `optnone` (and `noinline`, which LLVM requires with it); then `module` is as it was.
    The ExecutionEngine's opt_level chooses its IR passes only: its code generator stays at
    -O2, whose register allocator took ~1.2 s on BERT-base's unoptimized host code, ~0.5 s
    at -O0 (what optnone asks of it)."""
    marked = []
    for op in module.body.operations:
        attributes = op.operation.attributes
        if op.operation.name != "llvm.func" or not len(op.regions[0].blocks) \
                or "always_inline" in attributes:
            continue
        added = [a for a in ("optimize_none", "no_inline") if a not in attributes]
        for a in added:
            attributes[a] = ir.UnitAttr.get(module.context)
        marked.append((attributes, added))
    try:
        yield
    finally:
        for attributes, added in marked:
            for a in added:
                del attributes[a]


class HostProgram:
    """A JIT-compiled host module; `run(arrays)` returns the outputs as numpy arrays."""

    def __init__(self, module: ir.Module, outputs: list[TensorSpec], externals: dict,
                 opt_level: int = 2):
        """`module`: in the LLVM dialect (left as it is; its large constants are linked
        to arrays, see tessera-externalize-constants); `externals`: name ->
        (callable(list of arrays), [(shape, dtype) per argument]); `opt_level`: LLVM's
        optimization level for the JIT."""
        from torch_mlir.execution_engine import ExecutionEngine

        from tessera.passes.externalize_constants import constants_declared

        self.outputs = outputs
        self._callbacks = []  # ctypes callbacks must outlive the engine
        self._error = None  # an exception raised inside a callback, re-raised after the call
        # LLVM would write each element of the weights into the JIT's code (seconds for a
        # large model): the JIT links their symbols to these arrays, kept as long as it.
        unoptimized = code_unoptimized(module) if opt_level == 0 else contextlib.nullcontext()
        with constants_declared(module) as self._constants, unoptimized:
            try:
                self.engine = ExecutionEngine(module, opt_level=opt_level)
            except Exception as e:  # the engine reports LLVM failures as RuntimeError
                raise TesseraError(f"JIT compilation of the host code failed: {e}") from None
        for name, data in self._constants.items():
            self.engine.raw_register_runtime(name, ctypes.c_void_p(data.ctypes.data))
        for name, (callback, arguments) in externals.items():
            self._register(name, callback, arguments)
        try:  # LLVM links on the first lookup: a symbol missing from this process fails it
            self.engine.lookup(ENTRY)
        except RuntimeError:
            raise TesseraError("JIT linking of the host code failed: a function it calls is in "
                               "none of this process's libraries (LLVM prints its name "
                               "above)") from None

    def _register(self, name, callback, arguments):
        prototype = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * len(arguments))

        def trampoline(*addresses):
            if self._error is not None:
                return
            try:
                callback([array_at(a, shape, dtype)
                          for a, (shape, dtype) in zip(addresses, arguments)])
            except BaseException as e:  # ctypes would print and drop it: keep it for run()
                self._error = e

        c_callback = prototype(trampoline)
        self._callbacks.append(c_callback)
        self.engine.register_runtime(name, c_callback)

    def run(self, arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        outputs = [np.empty(spec.shape, spec.dtype) for spec in self.outputs]
        descriptors = [descriptor(a) for a in list(arrays) + outputs]
        self.engine.invoke(ENTRY, *[ctypes.pointer(ctypes.pointer(d)) for d in descriptors])
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return tuple(outputs)
