"""Target `cpu-amx`: matmuls on Intel AMX (TMUL) through compiler-generated tile kernels.

`compile` runs the cpu-amx pipeline (bf16/int8 matmuls -> VNNI packing + blocked AMX
kernels, `tessera-systolic-to-amx`), then builds two pieces:

- the kernels: lowered with the x86 AMX conversions (`convert-vector-to-llvm{enable-x86}`),
  translated to LLVM IR, emitted as an x86-64 object by llvmlite (LLVM 22) for the host
  CPU and linked into a shared object with `cc -shared`; LLVM's X86 backend writes one
  `ldtilecfg` per kernel function;
- the host code (everything else in the model): JIT-compiled by MLIR's ExecutionEngine
  (`tessera.host`), calling each kernel through a Python callback.

Cores (the `tile` level): the callback splits the kernel's rows into blocks of whole
32-row register blocks, one per core, and calls the shared object's
`_mlir_ciface_amx_kernel_<i>` on each block from a thread pool; ctypes releases the GIL
for the call, so the blocks run in parallel. Threads rather than OpenMP because the
lowered code then needs no OpenMP runtime.

The process asks Linux for AMX state once (`arch_prctl(ARCH_REQ_XCOMP_PERM,
XFEATURE_XTILEDATA)`) before the first AMX instruction. `executable.report.save(dir)`
writes the shared object plus the host code (LLVM dialect) and `load(dir)` runs it again
without any tessera pass or kernel compilation (only the host glue is JIT-compiled again).

On a CPU without AMX the target is unavailable (with the reason); `emulate` builds the
same program with the AMX tile ops rewritten by `tessera-amx-emulate`, which tests
everything but the AMX instructions themselves.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from tessera.errors import TesseraError
from tessera.executable import Executable, TensorSpec, entry_signature, numpy_dtype
from tessera.hardware import amx_preset
from tessera.host import (HOST_PIPELINE, HostProgram, _descriptor, add_entry, copy_module,
                          declare_externals, lower_to_llvm)
from tessera.mlir import func, ir, translate_to_llvm_ir

NAME = "cpu-amx"
AMX_FLAGS = ("amx_tile", "amx_bf16", "amx_int8")
TRIPLE = "x86_64-unknown-linux-gnu"
AMX_FEATURES = "+amx-tile,+amx-bf16,+amx-int8"
ROW_BLOCK = 32  # rows of one register block: the unit rows are split between cores in

# The host pipeline with the x86 conversions on (x86.amx ops -> LLVM AMX intrinsics).
KERNEL_PIPELINE = HOST_PIPELINE.replace(
    "convert-vector-to-llvm", "convert-vector-to-llvm{enable-x86}")

_SYS_ARCH_PRCTL = 158
_ARCH_REQ_XCOMP_PERM = 0x1023
_XFEATURE_XTILEDATA = 18


def cpu_flags(path: str = "/proc/cpuinfo") -> set[str]:
    """The CPU feature flags Linux reports (first processor)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def has_amx() -> tuple[bool, str]:
    """Whether this CPU has AMX (bf16 and int8 tiles), and why not."""
    missing = [f for f in AMX_FLAGS if f not in cpu_flags()]
    if missing:
        return False, f"this CPU has no AMX ({'/'.join(missing)} missing from /proc/cpuinfo)"
    return True, ""


@functools.cache
def request_amx_permission() -> tuple[bool, str]:
    """Ask Linux, once per process, for the AMX tile data state (XTILEDATA)."""
    libc = ctypes.CDLL(None, use_errno=True)
    status = libc.syscall(ctypes.c_long(_SYS_ARCH_PRCTL), ctypes.c_long(_ARCH_REQ_XCOMP_PERM),
                          ctypes.c_long(_XFEATURE_XTILEDATA))
    if status != 0:
        errno = ctypes.get_errno()
        return False, (f"arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) failed: "
                       f"{os.strerror(errno)}")
    return True, ""


def _toolchain() -> tuple[bool, str]:
    try:
        import llvmlite  # noqa: F401
    except ImportError:
        return False, "llvmlite is not installed (pip install llvmlite==0.50.0)"
    if shutil.which("cc") is None:
        return False, "no C compiler driver 'cc' to link the kernels' shared object"
    return True, ""


def available() -> tuple[bool, str]:
    """AMX in the CPU, permission from the kernel, llvmlite and a linker."""
    for check in (has_amx, _toolchain, request_amx_permission):
        ok, why = check()
        if not ok:
            return False, why
    return True, ""


# --- kernels: MLIR -> LLVM IR -> object -> shared object ----------------------------------


def kernel_names(module: ir.Module) -> list[str]:
    """The AMX kernels `tessera-systolic-to-amx` outlined in `module`."""
    return [op.sym_name.value for op in module.body.operations
            if isinstance(op, func.FuncOp) and "amx.kernel" in op.attributes]


def kernel_llvm_ir(module: ir.Module) -> str:
    """LLVM IR of `module`'s kernels alone (and the emulation helpers they call), with
    the kernels public so that the shared object exports them."""
    from tessera.errors import DiagnosticError
    from tessera.pipeline import Pipeline

    kernels = copy_module(module)
    for op in list(kernels.body.operations):
        if not isinstance(op, func.FuncOp):
            continue
        if "amx.kernel" in op.attributes:
            if "sym_visibility" in op.attributes:
                del op.attributes["sym_visibility"]
        elif not op.sym_name.value.startswith("amx_emulate_"):
            op.erase()
    try:
        Pipeline(module.context).add(KERNEL_PIPELINE).run(kernels)
    except DiagnosticError as e:
        raise DiagnosticError(e.diags, "lowering the AMX kernels to LLVM failed:") from None
    try:
        return translate_to_llvm_ir(kernels)
    except RuntimeError as e:
        raise TesseraError(f"translating the AMX kernels to LLVM IR failed: {e}") from None


def _machine(cpu: str, features: str):
    import llvmlite.binding as llvm

    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    if cpu == "host":
        cpu, features = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    return llvm.Target.from_triple(TRIPLE).create_target_machine(
        cpu=cpu, features=features, opt=3, reloc="pic", codemodel="default")


def _optimized(llvm_ir: str, machine):
    from tessera.targets.riscv.toolchain import optimized_module

    return optimized_module(llvm_ir, machine, TRIPLE, "the kernels'")


def assembly(llvm_ir: str, cpu: str = "sapphirerapids", features: str = AMX_FEATURES) -> str:
    """x86-64 assembly of LLVM IR (optimized like the object), for inspection and tests:
    it runs nowhere, so it can be made for an AMX CPU on any machine."""
    machine = _machine(cpu, features)
    return machine.emit_assembly(_optimized(llvm_ir, machine))


def build_shared_object(llvm_ir: str, path: Path, cpu: str = "host", features: str = "") -> Path:
    """`path` (a .so) from the kernels' LLVM IR, for `cpu` ("host": this machine)."""
    machine = _machine(cpu, features)
    obj = path.with_suffix(".o")
    obj.write_bytes(machine.emit_object(_optimized(llvm_ir, machine)))
    result = subprocess.run(["cc", "-shared", "-o", str(path), str(obj)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise TesseraError(f"linking the AMX kernels failed: {result.stderr.strip()[:400]}")
    return path


# --- running: host JIT + kernels split over cores ----------------------------------------


def _kernel_arguments(module: ir.Module) -> dict[str, list]:
    """name -> [(shape, dtype)] of each kernel's memref arguments, rows made static."""
    table = {}
    for op in module.body.operations:
        if isinstance(op, func.FuncOp) and "amx.kernel" in op.attributes:
            rows = ir.IntegerAttr(op.attributes["amx.rows"]).value
            arguments = []
            for t in op.type.inputs:
                t = ir.MemRefType(t)
                shape = [rows if d == ir.ShapedType.get_dynamic_size() else d for d in t.shape]
                arguments.append((shape, str(t.element_type)))
            table[op.sym_name.value] = arguments
    return table


class AmxProgram:
    """Kernels in a shared object, host code in the JIT; `save` / `load` it."""

    def __init__(self, directory: Path, host_module: ir.Module, outputs: list[TensorSpec],
                 signature: list[TensorSpec], kernels: dict[str, list], threads: int,
                 emulated: bool, keep=None):
        self._keep = keep  # a TemporaryDirectory owning `directory`, if any
        self.directory = directory
        self.signature, self.outputs, self.kernels = signature, outputs, kernels
        self.emulated = emulated
        self.threads = threads or os.cpu_count() or 1
        self.host_module = host_module
        self.library = ctypes.CDLL(str(directory / "kernels.so"))
        self.pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        externals = {}
        for name, arguments in kernels.items():
            function = getattr(self.library, f"_mlir_ciface_{name}")
            function.argtypes = [ctypes.c_void_p] * len(arguments)
            function.restype = None
            specs = [(tuple(shape), numpy_dtype(dtype)) for shape, dtype in arguments]
            externals[name] = (functools.partial(self._call, function), specs)
        self.host = HostProgram(host_module, outputs, externals)

    def _call(self, function, arrays):
        """One kernel call: its rows split into blocks of whole register blocks, one per
        thread. lhs (0) and out (2) are split by rows; packed rhs and bias are shared."""
        rows = arrays[0].shape[0]
        blocks = -(-rows // ROW_BLOCK)
        per_thread = -(-blocks // self.threads) * ROW_BLOCK
        starts = list(range(0, rows, per_thread))

        def run(start):
            parts = [a[start:start + per_thread] if i in (0, 2) else a
                     for i, a in enumerate(arrays)]
            descriptors = [_descriptor(p) for p in parts]
            function(*[ctypes.addressof(d) for d in descriptors])

        if self.pool is None or len(starts) == 1:
            for start in starts:
                run(start)
        else:
            for future in [self.pool.submit(run, s) for s in starts]:
                future.result()

    def run(self, arrays):
        return self.host.run(arrays)

    def save(self, directory) -> Path:
        """Write kernels.so, host.mlirbc (LLVM dialect) and program.json to `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if directory.resolve() != self.directory.resolve():
            shutil.copy(self.directory / "kernels.so", directory / "kernels.so")
        with open(directory / "host.mlirbc", "wb") as f:
            self.host_module.operation.write_bytecode(f)
        meta = {"signature": [[list(s.shape), str(s.dtype)] for s in self.signature],
                "outputs": [[list(s.shape), str(s.dtype)] for s in self.outputs],
                "kernels": self.kernels, "threads": self.threads, "emulated": self.emulated}
        (directory / "program.json").write_text(json.dumps(meta, indent=1))
        return directory


def _spec(item) -> TensorSpec:
    shape, dtype = item
    return TensorSpec(tuple(shape), numpy_dtype("bf16") if dtype == "bfloat16" else np.dtype(dtype))


def load(directory, threads: int | None = None) -> Executable:
    """An executable from a directory written by `save`: no tessera pass runs and no
    kernel is compiled again (the host glue is JIT-compiled from its LLVM dialect)."""
    from tessera.context import make_context

    directory = Path(directory)
    missing = [f for f in ("program.json", "kernels.so", "host.mlirbc")
               if not (directory / f).is_file()]
    if missing:
        raise TesseraError(f"{directory} is not a saved cpu-amx program: "
                           f"{', '.join(missing)} missing (write one with "
                           f"executable.report.save(directory))")
    meta = json.loads((directory / "program.json").read_text())
    if not meta["emulated"]:
        ok, why = available()
        if not ok:
            raise TesseraError(f"target {NAME} is not available here: {why}")
    context = make_context()
    with context:
        host = ir.Module.parse((directory / "host.mlirbc").read_bytes())
    program = AmxProgram(directory, host, [_spec(o) for o in meta["outputs"]],
                         [_spec(s) for s in meta["signature"]], meta["kernels"],
                         meta["threads"] if threads is None else threads, meta["emulated"])
    executable = Executable(NAME, program.run, program.signature, {})
    executable.report = program
    return executable


def pipeline(context: ir.Context, hw=None):
    """The tessera passes for `hw` (a preset name or an AmxConfig), AMX ops not emulated."""
    from tessera.pipelines import cpu_amx

    return cpu_amx.pipeline(context, amx_preset(hw))


def _build(module: ir.Module, hw, func_name: str, emulate: bool) -> Executable:
    with module.context, ir.Location.unknown():
        return _build_in_context(module, amx_preset(hw), func_name, emulate)


def _build_in_context(module: ir.Module, config, func_name: str, emulate: bool) -> Executable:
    from tessera.pipelines.cpu_amx import pipeline

    signature = entry_signature(module, func_name)
    start = time.perf_counter()
    pipeline(module.context, config, emulate=emulate).run(module)
    passes_s = time.perf_counter() - start

    start = time.perf_counter()
    keep = tempfile.TemporaryDirectory(prefix="tessera-amx-")
    directory = Path(keep.name)
    kernels = _kernel_arguments(module)
    llvm_ir = kernel_llvm_ir(module)
    (directory / "kernels.ll").write_text(llvm_ir)
    build_shared_object(llvm_ir, directory / "kernels.so")
    host = copy_module(module)
    declare_externals(host, set(kernels))
    outputs = add_entry(host, func_name)
    lower_to_llvm(host)
    program = AmxProgram(directory, host, outputs, signature, kernels, config.threads, emulate,
                         keep)
    backend_s = time.perf_counter() - start
    executable = Executable(NAME, program.run, signature,
                            {"passes_s": passes_s, "backend_s": backend_s})
    executable.report = program
    return executable


def compile(module: ir.Module, hw=None, *, func_name: str = "main") -> Executable:
    """Compile `module` for AMX (`hw`: a preset name — amx, amx-bf16 — or an AmxConfig).
    Needs a CPU with AMX (see `available`)."""
    ok, why = available()
    if not ok:
        raise TesseraError(f"target {NAME} is not available here: {why}")
    return _build(module, hw, func_name, emulate=False)


def emulate(module: ir.Module, hw=None, *, func_name: str = "main") -> Executable:
    """The same program with the AMX tile ops emulated (`tessera-amx-emulate`), for CPUs
    without AMX: packing, blocking, edges, epilogue, the shared object, the split over
    cores and save/load are the real ones; the AMX instructions are not."""
    ok, why = _toolchain()
    if not ok:
        raise TesseraError(f"target {NAME} (emulated) is not available here: {why}")
    return _build(module, hw, func_name, emulate=True)


def main(argv=None) -> int:
    """`python -m tessera.targets.cpu_amx FILE.mlir [--hw PRESET]`: print the x86-64
    assembly (Sapphire Rapids) of the AMX kernels compiled from FILE (linalg on tensors).
    Works on any machine: the code is printed, not run."""
    import argparse
    import sys

    from tessera.context import make_context, parse_module
    from tessera.pipelines.cpu_amx import pipeline

    parser = argparse.ArgumentParser(prog="python -m tessera.targets.cpu_amx",
                                     description=main.__doc__)
    parser.add_argument("source")
    parser.add_argument("--hw", default=None, help="amx (default) or amx-bf16")
    args = parser.parse_args(argv)
    try:
        text = Path(args.source).read_text()
        with make_context() as context, ir.Location.unknown():
            module = parse_module(text, args.source)
            pipeline(context, amx_preset(args.hw)).run(module)
            if not kernel_names(module):
                raise TesseraError(f"{args.source}: no matmul became an AMX kernel")
            print(assembly(kernel_llvm_ir(module)))
    except (TesseraError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
