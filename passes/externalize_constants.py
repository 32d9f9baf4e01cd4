"""Pass `tessera-externalize-constants`: large constant globals of a module in the LLVM
dialect become declarations, their data handed to whoever links the module.

LLVM's code generator writes a global's initializer into the object one element at a
time: BERT-base's 440 MB of weights took ~11 s of its first npu-sim call (the JIT
compiles on first use), more than the rest of its host code and simulation together.
Declared `external constant` instead, a global is an address the JIT resolves to a
numpy array that holds the same bytes (`HostProgram` binds them); LLVM still knows the
memory is read-only. `externalize_constants` returns the data by symbol name: arrays
that view the attribute's storage or the bytecode it was read from, not copies.
`constants_declared` does the same for the duration of a `with` block, each declaration
saying the alignment its data has where that is less than the global's (16 rather than
the 64 bufferization asks for: copying 440 MB to align it cost ~0.5 s), and then puts
the module back as it was (the JIT has translated it by then; a caller may keep the
module, as cpu-amx does to save it).

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

# What a global may say and still be declared elsewhere (no thread-local, section, comdat).
_PLAIN = {"sym_name", "global_type", "linkage", "constant", "value", "alignment",
          "addr_space", "dso_local", "unnamed_addr", "visibility_", "tls_mode"}
_CHANGED = ("value", "linkage", "dso_local", "alignment")  # what the declaration changes


@dataclass(frozen=True)
class ExternalizeConstantsOptions(Options):
    """min-bytes: the smallest initializer that moves out of the module."""

    min_bytes: int = knob(4096, "declare constant globals of at least this many bytes "
                                "external", low=1)


def _data(op: llvm.GlobalOp, local: set, min_bytes: int) -> np.ndarray | None:
    """The bytes of a global this pass declares external, or None."""
    if not op.constant or op.value is None or op.linkage not in local \
            or any(a not in _PLAIN for a in op.attributes) \
            or (op.tls_mode is not None and ir.IntegerAttr(op.tls_mode).value):
        return None
    size = dense_size(op.value)
    if size is None or size < min_bytes:
        return None
    return dense_bytes(op.value)


def _declare(module_op, min_bytes: int, data_alignment: bool) -> tuple[dict, list]:
    """Declare the large constants of `module_op` external, in place: (their data by
    name, [(global, its attributes before)]). `data_alignment`: each declaration says
    the alignment its data has, where that is less than the global's."""
    module_op = getattr(module_op, "operation", module_op)  # an ir.Module or its op
    context = module_op.context
    local = {ir.Attribute.parse(f"#llvm.linkage<{kind}>", context)
             for kind in ("private", "internal")}
    external = ir.Attribute.parse("#llvm.linkage<external>", context)
    i64 = ir.IntegerType.get_signless(64, context)
    data, changed = {}, []
    for op in module_op.regions[0].blocks[0].operations:
        if not isinstance(op, llvm.GlobalOp):
            continue
        content = _data(op, local, min_bytes)
        if content is None:
            continue
        data[op.sym_name.value] = content
        attributes = op.operation.attributes
        changed.append((op, {a: attributes[a] if a in attributes else None for a in _CHANGED}))
        for a in ("value", "dso_local"):
            if a in attributes:
                del attributes[a]
        attributes["linkage"] = external
        address = content.ctypes.data
        alignment = min(address & -address, 4096) if address else 4096
        if data_alignment and (op.alignment is None or alignment < op.alignment.value):
            attributes["alignment"] = ir.IntegerAttr.get(i64, alignment)
    return data, changed


def externalize_constants(module_op, min_bytes: int = 4096) -> dict[str, np.ndarray]:
    """Declare the large constant globals of `module_op` (LLVM dialect) external; return
    their data (read-only uint8 arrays, as aligned as they happen to be) by symbol name."""
    return _declare(module_op, min_bytes, data_alignment=False)[0]


@contextlib.contextmanager
def constants_declared(module, min_bytes: int = 4096):
    """Within the block, `module`'s large constant globals are declared external, with the
    alignment their data has, and the value of the `with` is their data by name; after
    it, `module` is as it was."""
    data, changed = _declare(module, min_bytes, data_alignment=True)
    try:
        yield data
    finally:
        for op, before in changed:
            attributes = op.operation.attributes
            for name, value in before.items():
                if value is not None:
                    attributes[name] = value
                elif name in attributes:
                    del attributes[name]


def externalize_constants_pass(op, pass_, options: ExternalizeConstantsOptions) -> None:
    """Pass body: the declarations only (the data is not kept)."""
    externalize_constants(op, options.min_bytes)
