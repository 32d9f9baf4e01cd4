"""Creating the MLIR context every tessera component works in."""

from __future__ import annotations

from tessera.mlir import ir


def make_context() -> ir.Context:
    """A fresh context with tessera's dialects loaded (upstream dialects load on demand)."""
    from tessera.dialects import load_dialects

    context = ir.Context()
    load_dialects(context)
    return context
