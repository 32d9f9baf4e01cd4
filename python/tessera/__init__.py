"""tessera: a multi-level MLIR compiler toolkit, from PyTorch to systolic arrays, AMX,
RISC-V and GPUs. The public entry points live here."""

from tessera.errors import TesseraError

__all__ = ["TesseraError", "compile", "import_torch", "make_context", "load_dialects"]


def __getattr__(name):
    # Import lazily: `import tessera` must stay cheap (torch and IREE are heavy).
    if name == "compile":
        from tessera.compiler import compile
        return compile
    if name == "import_torch":
        from tessera.frontend import import_torch
        return import_torch
    if name == "make_context":
        from tessera.context import make_context
        return make_context
    if name == "load_dialects":
        from tessera.dialects import load_dialects
        return load_dialects
    raise AttributeError(f"module 'tessera' has no attribute {name!r}")
