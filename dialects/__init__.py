"""tessera's dialects, `systolic` and `tile`, defined in Python with MLIR's `ext` API.

`load_dialects()` makes both usable in the current (or given) context; `irdl_text()`
returns their IRDL so that other MLIR tools (`torch-mlir-opt --irdl-file=`) can load them.
"""

from __future__ import annotations

from contextlib import nullcontext

from tessera.mlir import PassManager, ir

from tessera.dialects.systolic import Systolic
from tessera.dialects.tile import Tile

DIALECTS = (Systolic, Tile)


def load_dialects(context: ir.Context | None = None) -> None:
    """Load `systolic` and `tile` into `context` (default: the current one); idempotent."""
    with context or nullcontext():
        current = ir.Context.current
        for dialect in DIALECTS:
            if not current.is_dialect_loaded(dialect.DIALECT_NAMESPACE):
                dialect.load()


def irdl_text() -> str:
    """The IRDL definition of both dialects, as one module of text.

    IRDL describes operands, attributes, results and regions but not traits, so a tool
    that loads this text sees `tile.yield` as an ordinary op: it accepts every op except
    a `tile.launch` body, which it reports as a block with no terminator.
    """
    with ir.Context(), ir.Location.unknown():
        module = ir.Module.create()
        with ir.InsertionPoint(module.body):
            for dialect in DIALECTS:
                dialect._emit_dialect()
        pm = PassManager()
        pm.add("canonicalize,cse")
        pm.run(module.operation)
        return str(module)
