"""The one place that imports the upstream MLIR Python bindings.

The real bindings ship inside the torch-mlir wheel (`torch_mlir.ir`, `passmanager`,
`rewrite`, `dialects.*`); the `mlir-python-bindings` package on PyPI is empty. Every other
tessera module imports MLIR from here, so that moving to a standalone MLIR wheel changes
this file only. IREE carries its own MLIR copy: never pass these objects to IREE, hand it
text instead.
"""

import ctypes
from pathlib import Path

from torch_mlir import ir, passmanager, rewrite
from torch_mlir.dialects import (arith, bufferization, builtin, ext, func, irdl, linalg, llvm,
                                 math, memref, scf, tensor, vector)
from torch_mlir.dialects import x86  # x86.amx.* tile ops (cpu-amx)
from torch_mlir.dialects import transform  # the transform dialect (upstream rewrites as scripts)
from torch_mlir.dialects.transform import interpreter as transform_interpreter
from torch_mlir.dialects.transform import structured as transform_structured
from torch_mlir.dialects._ods_common import _cext as _bindings
from torch_mlir.dialects.ext import Operand, Pure, Region, Result

PassManager = passmanager.PassManager
MLIRError = ir.MLIRError

# Where the bindings look for a dialect's Python module when they meet one of its ops:
# tessera's dialects live in tessera.dialects (without this, every op of theirs costs a
# failed import).
if "tessera.dialects" not in _bindings.globals.dialect_search_modules:
    _bindings.globals.append_dialect_search_prefix("tessera.dialects")

# The wheel's own mlir-opt-like binary: IRDL loading checks and the upstream pass list.
TORCH_MLIR_OPT = Path(ir.__file__).parent / "_mlir_libs" / "torch-mlir-opt"


# The wheel's C API library, loaded once: the translation to LLVM IR below, and the
# registration of torch-mlir's own passes beyond the import pipelines (tm-tensor-bufferize,
# tm-tensor-to-loops: its scatter, scan, sort ops as loops), which the Python package
# leaves unregistered; registered once here, they are pipeline names.
_CAPI = ctypes.CDLL(str(Path(ir.__file__).parent / "_mlir_libs" /
                       "libTorchMLIRAggregateCAPI.so"))
_CAPI.torchMlirRegisterAllPasses()


def translate_to_llvm_ir(module) -> str:
    """LLVM IR text of a module in the LLVM dialect (MLIR's C API; the bindings have no
    Python entry for it)."""
    class MlirOperation(ctypes.Structure):
        _fields_ = [("ptr", ctypes.c_void_p)]

    _CAPI.mlirTranslateModuleToLLVMIRToString.argtypes = [MlirOperation]
    _CAPI.mlirTranslateModuleToLLVMIRToString.restype = ctypes.c_void_p
    capsule = module.operation._CAPIPtr
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    pointer = get_pointer(capsule, get_name(capsule))
    text = _CAPI.mlirTranslateModuleToLLVMIRToString(MlirOperation(pointer))
    if not text:
        raise RuntimeError("translation to LLVM IR failed")
    try:
        return ctypes.string_at(text).decode()
    finally:
        ctypes.CDLL(None).free(ctypes.c_void_p(text))


def torch_importer():
    """torch-mlir's FX importer pieces (imported on demand: they pull in torch)."""
    from torch_mlir.dialects import torch as torch_dialect
    from torch_mlir.extras.fx_decomp_util import get_decomposition_table
    from torch_mlir.extras.fx_importer import FxImporter

    return FxImporter, torch_dialect, get_decomposition_table


def torch_importer_hooks():
    """(FxImporterHooks, create_mlir_tensor_type) of torch-mlir's FX importer."""
    from torch_mlir.extras.fx_importer import FxImporterHooks, create_mlir_tensor_type

    return FxImporterHooks, create_mlir_tensor_type


__all__ = [
    "ir", "passmanager", "rewrite", "ext", "irdl", "arith", "bufferization", "builtin", "func",
    "linalg", "llvm", "math", "memref", "scf", "tensor", "vector", "x86", "transform",
    "transform_interpreter", "transform_structured", "Operand", "Result", "Region", "Pure",
    "PassManager", "MLIRError", "TORCH_MLIR_OPT", "torch_importer", "torch_importer_hooks",
    "translate_to_llvm_ir",
]
