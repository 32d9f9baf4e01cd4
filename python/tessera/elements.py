"""The data of MLIR's dense elements attributes (`dense<...>`, `dense_resource<...>`) as
numpy bytes, without a Python object per element.

A `dense` attribute hands numpy its buffer. A `dense_resource` one (how torch's weights
arrive, see frontend.py) has no accessor for its blob in the bindings; its bytes are read
from MLIR bytecode instead: a module holding only a constant of the attribute carries
exactly one resource blob, stored raw in the bytecode's resource section (see MLIR's
BytecodeFormat.md). Anything this reader does not recognize gives None, never data.
The bytecode is read where the bindings wrote it, chunk by chunk: the blob, handed over
in one piece, is not copied again.
"""

from __future__ import annotations

import bisect

import numpy as np

from tessera.mlir import arith, ir

_MAGIC = b"ML\xefR"
_RESOURCE, _RESOURCE_OFFSET = 5, 6  # bytecode section ids
_BLOB = 0  # the resource entry kind of a blob


def _varint(data, at: int) -> tuple[int, int]:
    """A bytecode prefix varint at `at`: (value, offset after it). The first byte's
    trailing zeros say how many bytes follow; a zero byte means eight."""
    first = data[at]
    if first & 1:
        return first >> 1, at + 1
    if first == 0:
        return int.from_bytes(data[at + 1:at + 9], "little"), at + 9
    size = (first & -first).bit_length()
    return int.from_bytes(data[at:at + size], "little") >> size, at + size


def _align(at: int, alignment: int) -> int:
    return -(-at // alignment) * alignment if alignment > 1 else at


def _sections(data) -> dict[int, tuple[int, int]]:
    """Section id -> (offset, length) of a bytecode buffer."""
    if bytes(data[:4]) != _MAGIC:
        return {}
    _, at = _varint(data, 4)  # version
    at = bytes(data[at:at + 1024]).index(b"\0", 0) + at + 1  # producer string
    found = {}
    while at < len(data):
        code = data[at]
        length, at = _varint(data, at + 1)
        if code & 0x80:  # aligned section: its alignment, then padding
            alignment, at = _varint(data, at)
            at = _align(at, alignment)
        found[code & 0x7F] = (at, length)
        at += length
    return found


def _only_blob(data) -> memoryview | None:
    """The one blob of a bytecode buffer holding one resource, or None when it holds
    something else."""
    sections = _sections(data)
    if _RESOURCE not in sections or _RESOURCE_OFFSET not in sections:
        return None
    start, length = sections[_RESOURCE_OFFSET]
    external, at = _varint(data, start)
    entries = []
    while at < start + length:
        _, at = _varint(data, at)  # the group's key: an external printer or a dialect
        count, at = _varint(data, at)
        for _ in range(count):
            _, at = _varint(data, at)  # the resource's key
            _, at = _varint(data, at)  # its entry's size
            entries.append(data[at])
            at += 1
    if external or entries != [_BLOB]:
        return None
    start, length = sections[_RESOURCE]
    alignment, at = _varint(data, start)
    size, at = _varint(data, at)
    at = _align(at, alignment)
    if at + size > start + length:
        return None
    return data[at:at + size]


class _Chunks:
    """A file for `write_bytecode` that keeps the chunks it is handed, read back as one
    buffer (an index or a slice) without joining them: a slice within one chunk is a
    view of it."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.starts: list[int] = [0]

    def write(self, data) -> None:
        self.chunks.append(data)
        self.starts.append(self.starts[-1] + len(data))

    def __len__(self) -> int:
        return self.starts[-1]

    def __getitem__(self, key):
        if isinstance(key, int):
            i = bisect.bisect_right(self.starts, key) - 1
            return self.chunks[i][key - self.starts[i]]
        start, stop = max(key.start or 0, 0), min(key.stop, len(self))
        if start >= stop:
            return b""
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_left(self.starts, stop) - 1
        views = [memoryview(self.chunks[i])[max(start - self.starts[i], 0):
                                            stop - self.starts[i]]
                 for i in range(first, last + 1)]
        return views[0] if len(views) == 1 else b"".join(views)


def _resource_bytes(attr: ir.DenseResourceElementsAttr) -> memoryview | None:
    module = ir.Module.create(ir.Location.unknown(attr.context))
    with ir.InsertionPoint(module.body), ir.Location.unknown(attr.context):
        arith.ConstantOp(attr.type, attr)
    written = _Chunks()
    module.operation.write_bytecode(written)
    return _only_blob(written)


def storage_bytes(element: ir.Type) -> int | None:
    """Bytes one element of type `element` takes in memory (LLVM's layout of integers
    and floats of 1, 8, 16, 32 or 64 bits; i1 takes a byte), or None for other types."""
    if isinstance(element, (ir.IntegerType, ir.FloatType)):
        width = element.width
        if width in (1, 8, 16, 32, 64):
            return max(1, width // 8)
    return None


def _dense(attr: ir.Attribute):
    """`attr` as a DenseElementsAttr or DenseResourceElementsAttr (the bindings hand an
    op's dense_resource attribute back as a plain Attribute), or None."""
    for kind in (ir.DenseElementsAttr, ir.DenseResourceElementsAttr):
        if isinstance(attr, kind):
            return attr
        try:
            return kind(attr)
        except ValueError:
            pass
    return None


def dense_size(attr: ir.Attribute) -> int | None:
    """Bytes the elements of a dense or dense_resource attribute take in memory (each in
    whole bytes, as `storage_bytes` says); None for other attributes or element types."""
    attr = _dense(attr)
    if attr is None:
        return None
    shaped = ir.ShapedType(attr.type)
    element = storage_bytes(shaped.element_type)
    if element is None or not shaped.has_static_shape:
        return None
    return element * int(np.prod(shaped.shape, dtype=np.int64))


def dense_bytes(attr: ir.Attribute) -> np.ndarray | None:
    """The elements of a dense or dense_resource attribute as they lie in memory
    (row-major, `dense_size` bytes), as a flat uint8 array; None for other attributes,
    other element types, or data that is not of that size."""
    size, attr = dense_size(attr), _dense(attr)
    if size is None:
        return None
    if isinstance(attr, ir.DenseResourceElementsAttr):
        data = _resource_bytes(attr)
        array = None if data is None else np.frombuffer(data, np.uint8)
    else:
        try:  # the bindings' buffer (a splat is a broadcast; i1 a byte each)
            array = np.ascontiguousarray(attr).reshape(-1).view(np.uint8)
        except (TypeError, ValueError):
            return None  # a type numpy has no dtype for (bf16, f8, ...)
    return array if array is not None and array.size == size else None
