"""Pass `tessera-externalize-constants`: large constant globals of a module in the LLVM
dialect become declarations, their data handed to whoever links the module.

LLVM's code generator writes a global's initializer into the object one element at a
time: BERT-base's 440 MB of weights took ~11 s of its first npu-sim call (the JIT
compiles on first use), more than the rest of its host code and simulation together.
Declared `external constant` instead, a global is an address the JIT resolves to a
numpy array that holds the same bytes (`HostProgram` binds them); LLVM still knows the
memory is read-only. `externalize_constants` returns the data by symbol name, each array
aligned to at least 64 bytes (the alignment the bufferized globals declare);
`constants_declared` does the same for the duration of a `with` block and then puts the
module back as it was (the JIT has translated it by then; a caller may keep the module,
as cpu-amx does to save it).

Only private or internal globals marked `constant`, initialized by a `dense` or
`dense_resource` attribute of at least `min-bytes` bytes whose elements lie in memory as
whole bytes (integers and floats of 1 to 64 bits), become declarations; anything else,
and any data this cannot read, stays as it is. Run as a pass (`tessera-opt`), the data
is dropped: what is left declares the symbols a caller must define.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from tessera.elements import dense_bytes, dense_size
from tessera.knobs import Options, knob
from tessera.mlir import ir, llvm

ALIGNMENT = 64  # bytes: the data's alignment at least, whatever the global declares
# What a global may say and still be declared elsewhere (no thread-local, section, comdat).
_PLAIN = {"sym_name", "global_type", "linkage", "constant", "value", "alignment",
          "addr_space", "dso_local", "unnamed_addr", "visibility_", "tls_mode"}
_TAKEN = ("value", "linkage", "dso_local")  # what a definition has and a declaration not


@dataclass(frozen=True)
class ExternalizeConstantsOptions(Options):
    """min-bytes: the smallest initializer that moves out of the module."""

    min_bytes: int = knob(4096, "declare constant globals of at least this many bytes "
                                "external", low=1)


def _aligned(data: np.ndarray, alignment: int) -> np.ndarray:
    """A copy of `data` (uint8) starting at a multiple of `alignment` bytes."""
    raw = np.empty(data.size + alignment, np.uint8)
    start = -raw.ctypes.data % alignment
    copy = raw[start:start + data.size]
    copy[...] = data
    return copy


def _data(op: llvm.GlobalOp, local: set, min_bytes: int) -> np.ndarray | None:
    """The bytes of a global this pass declares external (aligned), or None."""
    if not op.constant or op.value is None or op.linkage not in local \
            or any(a not in _PLAIN for a in op.attributes) \
            or (op.tls_mode is not None and ir.IntegerAttr(op.tls_mode).value):
        return None
    size = dense_size(op.value)
    if size is None or size < min_bytes:
        return None
    content = dense_bytes(op.value)
    if content is None:
        return None
    declared = op.alignment.value if op.alignment is not None else 1
    return _aligned(content, max(ALIGNMENT, declared))


def _declare(module_op, min_bytes: int) -> tuple[dict[str, np.ndarray], list]:
    """Declare the large constants of `module_op` external, in place: (their data by
    name, [(global, the attributes it gave up)])."""
    module_op = getattr(module_op, "operation", module_op)  # an ir.Module or its op
    context = module_op.context
    local = {ir.Attribute.parse(f"#llvm.linkage<{kind}>", context)
             for kind in ("private", "internal")}
    external = ir.Attribute.parse("#llvm.linkage<external>", context)
    data, taken = {}, []
    for op in module_op.regions[0].blocks[0].operations:
        if not isinstance(op, llvm.GlobalOp):
            continue
        content = _data(op, local, min_bytes)
        if content is None:
            continue
        data[op.sym_name.value] = content
        attributes = op.operation.attributes
        taken.append((op, {a: attributes[a] for a in _TAKEN if a in attributes}))
        for a in taken[-1][1]:
            del attributes[a]
        attributes["linkage"] = external
    return data, taken


def externalize_constants(module_op, min_bytes: int = 4096) -> dict[str, np.ndarray]:
    """Declare the large constant globals of `module_op` (LLVM dialect) external; return
    their data (uint8 arrays, aligned) by symbol name."""
    return _declare(module_op, min_bytes)[0]


@contextlib.contextmanager
def constants_declared(module, min_bytes: int = 4096):
    """Within the block, `module`'s large constant globals are declared external and the
    value of the `with` is their data by name; after it, `module` is as it was."""
    data, taken = _declare(module, min_bytes)
    try:
        yield data
    finally:
        for op, attributes in taken:
            for name, value in attributes.items():
                op.operation.attributes[name] = value


def externalize_constants_pass(op, pass_, options: ExternalizeConstantsOptions) -> None:
    """Pass body: the declarations only (the data is not kept)."""
    externalize_constants(op, options.min_bytes)
