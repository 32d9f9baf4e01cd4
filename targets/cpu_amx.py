"""Target `cpu-amx`: matmuls on Intel AMX (TMUL) through compiler-generated tile kernels.

`compile` runs the cpu-amx pipeline (bf16/int8 matmuls -> VNNI packing + blocked AMX
kernels, `tessera-systolic-to-amx`), then builds two pieces:

- the kernels: lowered with the x86 AMX conversions (`convert-vector-to-llvm{enable-x86}`),
  translated to LLVM IR, emitted as an x86-64 object by llvmlite (LLVM 22) for the host
  CPU and linked into a shared object with `cc -shared`; LLVM's X86 backend writes one
  `ldtilecfg` per kernel function;
- the host code (everything else in the model): JIT-compiled by MLIR's ExecutionEngine
  (`tessera.host`), calling each kernel through a Python callback.

Cores (the `tile` level): the callback splits the kernel's rows into runs of whole
register blocks (AMX: 32 rows; vector engines: the blocking's rows), one per core (a
batched kernel: its batch), and calls the shared object's `_mlir_ciface_` entry of the
kernel on each run, the first on the calling thread, the others from a thread pool;
ctypes releases the GIL for the call, so the runs go in parallel. A rhs known only at run
time is packed first, where the kernels need it packed, by a `#systolic.pack` function of
the shared object, its panels split between the cores the same way. Threads rather than OpenMP because the lowered code
then needs no OpenMP runtime.

The process asks Linux for AMX state once (`arch_prctl(ARCH_REQ_XCOMP_PERM,
XFEATURE_XTILEDATA)`) before the first AMX instruction. `executable.report.save(dir)`
writes the shared object plus the host code (LLVM dialect) and `load(dir)` runs it again
without any tessera pass or kernel compilation (only the host glue is JIT-compiled again).

The matmul engine (`AmxConfig.engine`): AMX tiles where the CPU has AMX; on a CPU with
AVX-512 (avx512f, avx512_bf16, avx512_vnni) but no AMX, or with `hw="avx512"`, the same
kernels with AVX-512 register blocks (`tessera-systolic-to-amx` engine=avx512: f32 FMA,
bf16 as f32 FMA or vdpbf16ps, int8 vpdpbusd vector microkernels); on a CPU with only
AVX2 and FMA, or with `hw="avx2"`, 256-bit ones (f32 FMA, bf16 as f32 FMA, int8 as
vpmaddwd on pairs widened to i16). The report says which engine ran. Without any of
them the target is unavailable (with the reason);
`EMULATED` (and `emulate(module)`) builds the AMX program with the tile ops rewritten by
`tessera-amx-emulate`, which tests everything but the AMX instructions themselves.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tessera import llvm
from tessera.errors import DiagnosticError, TesseraError
from tessera.executable import Executable, TensorSpec, numpy_dtype
from tessera.hardware import AMX_PRESETS, AmxConfig, cpu_flags
from tessera.host import (HostProgram, add_entry, copy_module, declare_externals, descriptor,
                          keep_freed_memory, lower_to_llvm)
from tessera.mlir import func, ir
from tessera.passes.systolic_to_amx import VECTOR_ENGINES
from tessera.target import Report, Target

from tessera.dialects.systolic import Blocking, kernel_functions, pack_panel

AMX_FLAGS = ("amx_tile", "amx_bf16", "amx_int8")
ENGINES = ("amx", *VECTOR_ENGINES)  # what auto takes: the first the CPU has
ENGINE_NAMES = {"amx": "AMX tile",
                **{name: f"{e.title} vector" for name, e in VECTOR_ENGINES.items()}}
KERNEL_KINDS = ("amx", "vector")  # AMX tile kernels, vector engines' kernels
TRIPLE = "x86_64-unknown-linux-gnu"
AMX_FEATURES = "+amx-tile,+amx-bf16,+amx-int8"
ROW_BLOCK = 32  # rows of one AMX register block: the unit its rows are split between cores in

_SYS_ARCH_PRCTL = 158
_ARCH_REQ_XCOMP_PERM = 0x1023
_XFEATURE_XTILEDATA = 18


def _missing(flags) -> str:
    """"a/b missing from /proc/cpuinfo" for the `flags` this CPU lacks, or ""."""
    missing = [f for f in flags if f not in cpu_flags()]
    return f"{'/'.join(missing)} missing from /proc/cpuinfo" if missing else ""


def has_amx() -> tuple[bool, str]:
    """Whether this CPU has AMX (bf16 and int8 tiles), and why not."""
    missing = _missing(AMX_FLAGS)
    return not missing, f"this CPU has no AMX ({missing})" if missing else ""


def has_vector_engine(engine: str) -> tuple[bool, str]:
    """Whether this CPU has what vector engine `engine` uses (avx512: f32 FMA, bf16 and
    int8 dots; avx2: AVX2 and FMA), and why not."""
    spec = VECTOR_ENGINES[engine]
    missing = _missing(spec.flags)
    return not missing, f"this CPU has no {spec.needs} ({missing})" if missing else ""


def _has(engine: str) -> tuple[bool, str]:
    return has_amx() if engine == "amx" else has_vector_engine(engine)


def resolve_engine(engine: str) -> str:
    """The engine `engine` ("auto" or one of ENGINES) means on this CPU: auto is the
    first of AMX, AVX-512 and AVX2 the CPU has (AVX2 when it has none: `available` says
    why it cannot run)."""
    if engine != "auto":
        return engine
    return next((e for e in ENGINES if _has(e)[0]), ENGINES[-1])


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


def available(engine: str = "auto") -> tuple[bool, str]:
    """Whether `engine` runs here: for AMX, AMX in the CPU and permission from the
    kernel; for AVX-512, avx512f, avx512_bf16 and avx512_vnni; for AVX2, avx2 and fma;
    for auto, any of them; and llvmlite and a linker."""
    if engine == "auto" and not any(_has(e)[0] for e in ENGINES):
        return False, "; ".join(_has(e)[1] for e in ENGINES)
    engine = resolve_engine(engine)
    checks = ((has_amx, _toolchain, request_amx_permission) if engine == "amx"
              else (lambda: has_vector_engine(engine), _toolchain))
    for check in checks:
        ok, why = check()
        if not ok:
            return False, why
    return True, ""


# --- kernels: MLIR -> LLVM IR -> object -> shared object ----------------------------------


def _kernels(module: ir.Module) -> list:
    """(func.func, Kernel) of the AMX and AVX-512 kernels `tessera-systolic-to-amx`
    outlined in `module`."""
    return [(f, k) for f, k in kernel_functions(module) if k.kind in KERNEL_KINDS]


def kernel_names(module: ir.Module) -> list[str]:
    """The kernels `tessera-systolic-to-amx` outlined in `module` (AMX or AVX-512)."""
    return [f.sym_name.value for f, _ in _kernels(module)]


def _packs(module: ir.Module) -> list:
    """(func.func, panel) of the `#systolic.pack` functions `tessera-systolic-to-amx`
    outlined in `module`: the vector engines' packs of a rhs known at run time."""
    return [(op, pack_panel(op)) for op in module.body.operations
            if isinstance(op, func.FuncOp) and pack_panel(op) is not None]


def library_names(module: ir.Module) -> list[str]:
    """What the shared object exports: the kernels and the packs."""
    return kernel_names(module) + [f.sym_name.value for f, _ in _packs(module)]


def _callees(function) -> set[str]:
    """Names of the functions `function` calls."""
    names = set()

    def visit(op):
        if isinstance(op.opview, func.CallOp):
            names.add(ir.FlatSymbolRefAttr(op.opview.callee).value)
        return ir.WalkResult.ADVANCE

    function.operation.walk(visit)
    return names


def kernel_library(module: ir.Module, names: list[str]) -> set[str]:
    """Functions `names` and every function they call, directly or not (e.g. the
    helpers of tessera-amx-emulate): what goes into the shared object."""
    functions = {op.sym_name.value: op for op in module.body.operations
                 if isinstance(op, func.FuncOp)}
    library, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in library and name in functions:
            library.add(name)
            todo.extend(_callees(functions[name]))
    return library


def kernel_llvm_ir(module: ir.Module, names: list[str] | None = None) -> str:
    """LLVM IR of `module`'s kernels alone (functions `names`, by default the kernels and
    packs of `library_names`, and the functions they call), with `names` public so that
    the shared object exports them."""
    from tessera.pipeline import Pipeline

    names = library_names(module) if names is None else names
    kernels, library, public = copy_module(module), kernel_library(module, names), set(names)
    for op in list(kernels.body.operations):
        if not isinstance(op, func.FuncOp):
            continue
        name = op.sym_name.value
        if name not in library:
            op.erase()
        elif name in public and "sym_visibility" in op.attributes:
            del op.attributes["sym_visibility"]
    from tessera.host import host_pipeline

    try:
        Pipeline(module.context).add(host_pipeline(x86=True)).run(kernels)
    except DiagnosticError as e:
        raise DiagnosticError(e.diags, "lowering the AMX kernels to LLVM failed:") from None
    return llvm.to_llvm_ir(kernels, "the AMX kernels")


def _machine(cpu: str, features: str):
    return llvm.target_machine(TRIPLE, cpu, features, reloc="pic", codemodel="default")


def assembly(llvm_ir: str, cpu: str = "sapphirerapids", features: str = AMX_FEATURES) -> str:
    """x86-64 assembly of LLVM IR (optimized like the object), for inspection and tests:
    it runs nowhere, so it can be made for an AMX CPU on any machine."""
    return llvm.emit_assembly(llvm_ir, _machine(cpu, features), TRIPLE, "the kernels'")


def build_shared_object(llvm_ir: str, path: Path, cpu: str = "host", features: str = "") -> Path:
    """`path` (a .so) from the kernels' LLVM IR, for `cpu` ("host": this machine)."""
    obj = path.with_suffix(".o")
    obj.write_bytes(llvm.emit_object(llvm_ir, _machine(cpu, features), TRIPLE, "the kernels'"))
    result = subprocess.run(["cc", "-shared", "-o", str(path), str(obj)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise TesseraError(f"linking the AMX kernels failed: {result.stderr.strip()[:400]}")
    return path


# --- running: host JIT + kernels split over cores ----------------------------------------


def _arguments(function, rows: int | None) -> list:
    """[(shape, dtype name)] of `function`'s memref arguments, a dynamic size made `rows`
    (None: left -1, read from each call's descriptors)."""
    arguments = []
    for t in function.type.inputs:
        t = ir.MemRefType(t)
        dynamic = ir.ShapedType.get_dynamic_size()
        shape = [(-1 if rows is None else rows) if d == dynamic else d for d in t.shape]
        arguments.append([shape, numpy_dtype(t.element_type).name])
    return arguments


def _kernel_arguments(module: ir.Module) -> dict[str, list]:
    """name -> [(shape, dtype name)] of each kernel's memref arguments, rows (batched
    kernels: the batch) made static."""
    return {op.sym_name.value: _arguments(op, kernel.batch if _batched(op) else kernel.m)
            for op, kernel in _kernels(module)}


def _row_units(module: ir.Module) -> dict[str, int]:
    """name -> the unit of rows the runtime splits a kernel's rows between cores in: a
    vector kernel's register block (its `#systolic.blocking` rows; it runs any count of
    rows, the last run may end in fewer), an AMX kernel's 2x2 tiles (32, its rows padded
    to them); a batched kernel's batch is split instead, one by one."""
    units = {}
    for op, _ in _kernels(module):
        blocking = Blocking.of(op)
        units[op.sym_name.value] = (1 if _batched(op) else ROW_BLOCK if blocking is None
                                    else blocking.rows)
    return units


def _batched(function) -> bool:
    """Whether kernel `function` is batched: rank-3 lhs, rhs and out, the batch first."""
    return ir.MemRefType(function.type.inputs[0]).rank == 3


def _pack_arguments(module: ir.Module) -> dict[str, list]:
    """name -> [[(shape, dtype name)] of its arguments, panel] of each pack."""
    return {op.sym_name.value: [_arguments(op, None), panel] for op, panel in _packs(module)}


def _dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


class AmxProgram:
    """Kernels and packs in a shared object, host code in the JIT."""

    def __init__(self, directory: Path, host_module: ir.Module, outputs: list[TensorSpec],
                 kernels: dict[str, list], threads: int, packs: dict[str, list] | None = None,
                 row_units: dict[str, int] | None = None):
        self.directory, self.outputs, self.kernels = directory, outputs, kernels
        self.packs = packs or {}
        self.row_units = row_units or {}  # a kernel not named: ROW_BLOCK (files before)
        self.threads = threads or os.cpu_count() or 1
        self.host_module = host_module
        try:
            self.library = ctypes.CDLL(str(directory / "kernels.so"))
        except OSError as e:  # e.g. a symbol the kernels need that this system lacks
            raise TesseraError(f"loading the kernels' shared object failed: {e}") from None
        keep_freed_memory()
        self.pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        externals = {}
        calls = [(name, arguments,
                  functools.partial(self._call, self.row_units.get(name, ROW_BLOCK)))
                 for name, arguments in kernels.items()]
        calls += [(name, arguments, functools.partial(self._call_pack, panel))
                  for name, (arguments, panel) in self.packs.items()]
        for name, arguments, split in calls:
            function = getattr(self.library, f"_mlir_ciface_{name}")
            function.argtypes = [ctypes.c_void_p] * len(arguments)
            function.restype = None
            specs = [(tuple(shape), _dtype(dtype)) for shape, dtype in arguments]
            externals[name] = (functools.partial(split, function), specs)
        self.host = HostProgram(host_module, outputs, externals)

    def _call(self, unit: int, function, arrays):
        """One kernel call: its rows split into runs of whole register blocks (`unit`
        rows; a vector kernel's last run may end in fewer), one per thread. lhs (0) and
        out (2) are split by rows; packed rhs and bias are shared.
        (Rows in m-blocks that the threads take as they become free ran int8 1024^3 in
        17.6 ms against 14.6, 2048^3 108 against 101, AVX2, 2 threads.) A batched kernel's
        batch is split instead (its unit: 1): lhs, rhs and out (rank 3), bias shared."""
        rows = arrays[0].shape[0]
        batched = arrays[0].ndim == 3
        split = [a.ndim == 3 if batched else i in (0, 2) for i, a in enumerate(arrays)]
        blocks = -(-rows // unit)
        size = -(-blocks // self.threads) * unit
        self._parallel(function, [[a[start:start + size] if cut else a
                                   for a, cut in zip(arrays, split)]
                                  for start in range(0, rows, size)])

    def _call_pack(self, panel: int, function, arrays):
        """One pack call: its panels split into runs, one per thread, each with the rhs
        columns it packs (the last run also the panels past rhs's last column: zeros)."""
        rhs, packed = arrays
        n, panels = rhs.shape[1], packed.shape[0]
        filled = max(1, -(-n // panel))  # panels holding columns of rhs
        size = -(-filled // self.threads)
        starts = list(range(0, filled, size))
        ends = starts[1:] + [panels]
        self._parallel(function, [[rhs[:, start * panel:min(end * panel, n)], packed[start:end]]
                                  for start, end in zip(starts, ends)])

    def _parallel(self, function, jobs):
        """`function` called on each job's arrays: the first job on the calling thread,
        the others on the thread pool (the caller would only wait: one hand-over less a
        call: a 12 x 8x8x8 batched kernel on 2 threads 0.24-0.28 -> 0.19 ms)."""

        def run(parts):
            descriptors = [descriptor(p) for p in parts]
            function(*[ctypes.addressof(d) for d in descriptors])

        if self.pool is None or len(jobs) == 1:
            for parts in jobs:
                run(parts)
            return
        futures = [self.pool.submit(run, parts) for parts in jobs[1:]]
        try:
            run(jobs[0])
        finally:
            for future in futures:
                future.result()

    def run(self, arrays):
        return self.host.run(arrays)


@dataclass
class AmxReport(Report):
    """The kernels of the program (one row each) and how it runs; `save` writes it."""

    program: AmxProgram | None = None
    signature: list = field(default_factory=list)
    emulated: bool = False
    keep: object = None  # a TemporaryDirectory owning the program's files, if any
    engine: str = "amx"  # the matmul kernels: "amx" tiles, "avx512" or "avx2" vectors

    def details(self) -> dict[str, object]:
        return {"engine": self.engine, "kernels": len(self.program.kernels)}

    def summary(self) -> str:
        what = ENGINE_NAMES[self.engine]
        emulated = " (emulated)" if self.emulated else ""
        return f"{len(self.program.kernels)} {what} kernels{emulated}"

    @property
    def kernels(self) -> list[str]:
        return list(self.program.kernels)

    @property
    def threads(self) -> int:
        return self.program.threads

    def kernel_rows(self) -> list[dict]:
        return [{"kernel": name, "rows": arguments[0][0][0],
                 "arguments": " ".join("x".join(map(str, s)) for s, _ in arguments)}
                for name, arguments in self.program.kernels.items()]

    def save(self, directory) -> Path:
        """Write kernels.so, host.mlirbc (LLVM dialect) and program.json to `directory`."""
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            p = self.program
            if directory.resolve() != p.directory.resolve():
                shutil.copy(p.directory / "kernels.so", directory / "kernels.so")
            with open(directory / "host.mlirbc", "wb") as f:
                p.host_module.operation.write_bytecode(f)
            meta = {"signature": [[list(s.shape), s.dtype.name] for s in self.signature],
                    "outputs": [[list(s.shape), s.dtype.name] for s in p.outputs],
                    "kernels": p.kernels, "packs": p.packs, "row_units": p.row_units,
                    "threads": p.threads,
                    "emulated": self.emulated,
                    "engine": self.engine}
            (directory / "program.json").write_text(json.dumps(meta, indent=1))
        except OSError as e:
            raise TesseraError(f"could not save the cpu-amx program to '{directory}': "
                               f"{e.strerror or e}") from None
        return directory


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
    try:
        meta = json.loads((directory / "program.json").read_text())
        signature = [TensorSpec(tuple(s), _dtype(d)) for s, d in meta["signature"]]
        outputs = [TensorSpec(tuple(s), _dtype(d)) for s, d in meta["outputs"]]
        kernels, emulated = meta["kernels"], bool(meta["emulated"])
        packs = {name: [arguments, int(panel)]
                 for name, (arguments, panel) in meta.get("packs", {}).items()}
        engine = meta.get("engine", "amx")
        row_units = {name: int(unit) for name, unit in meta.get("row_units", {}).items()}
        threads = int(meta["threads"] if threads is None else threads)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise TesseraError(f"{directory}/program.json is not a cpu-amx program description: "
                           f"{e}") from None
    if engine not in ENGINES:
        raise TesseraError(f"{directory}/program.json names engine '{engine}' (one of "
                           f"{', '.join(ENGINES)})")
    if not emulated:
        ok, why = available(engine)
        if not ok:
            raise TesseraError(f"target cpu-amx is not available here: {why}")
    with make_context():
        host = ir.Module.parse((directory / "host.mlirbc").read_bytes())
    program = AmxProgram(directory, host, outputs, kernels, threads, packs, row_units)
    report = AmxReport("cpu-amx", AmxConfig(threads=threads, engine=engine), program=program,
                       signature=signature, emulated=emulated, engine=engine)
    return Executable("cpu-amx", program.run, signature, report)


class CpuAmx(Target[AmxConfig]):
    """Intel AMX tile kernels in a shared object, the rest of the model in the host JIT;
    with `emulated`, the AMX tile ops run as scalar code (any x86-64 CPU)."""

    hw_type = AmxConfig
    presets = AMX_PRESETS
    default_preset = "amx"

    def __init__(self, emulated: bool = False):
        self.emulated = emulated
        self.name = "cpu-amx-emulated" if emulated else "cpu-amx"

    def available(self) -> tuple[bool, str]:
        return _toolchain() if self.emulated else available()

    def engine(self, hw: AmxConfig) -> str:
        """The engine this target runs `hw` with (emulation is of AMX)."""
        return "amx" if self.emulated else resolve_engine(hw.engine)

    def pipeline(self, context: ir.Context, hw: AmxConfig):
        from tessera.pipelines import cpu_amx

        return cpu_amx.pipeline(context, hw, emulate=self.emulated, engine=self.engine(hw))

    def compile(self, module, hw=None, *, func_name: str = "main"):
        hw = self.hardware(hw)
        if not self.emulated:
            ok, why = available(hw.engine)
            if not ok:
                raise TesseraError(f"target cpu-amx with engine {hw.engine} cannot run here: "
                                   f"{why}")
        return super().compile(module, hw, func_name=func_name)

    def build(self, module, hw: AmxConfig, func_name, signature):
        keep = tempfile.TemporaryDirectory(prefix="tessera-amx-")
        directory = Path(keep.name)
        kernels, packs = _kernel_arguments(module), _pack_arguments(module)
        llvm_ir = kernel_llvm_ir(module)
        (directory / "kernels.ll").write_text(llvm_ir)
        build_shared_object(llvm_ir, directory / "kernels.so")
        host = copy_module(module)
        declare_externals(host, set(kernels) | set(packs))
        outputs = add_entry(host, func_name)
        lower_to_llvm(host)
        program = AmxProgram(directory, host, outputs, kernels, hw.threads, packs,
                             _row_units(module))
        report = AmxReport(self.name, hw, program=program, signature=signature,
                           emulated=self.emulated, keep=keep, engine=self.engine(hw))
        return program.run, report

    def understands(self, module: ir.Module) -> bool:
        """Modules holding AMX kernels run with their tile ops emulated."""
        return bool(kernel_names(module))

    def evaluate(self, module, arrays, func_name="main"):
        from tessera.pipeline import Pipeline

        if self.understands(module) and not self.emulated:
            # AMX tile ops as scalar code of the same meaning, so any CPU runs them.
            module = copy_module(module)
            Pipeline(module.context).add("tessera-amx-emulate").run(module)
        return super().evaluate(module, arrays, func_name)


TARGET = CpuAmx()
EMULATED = CpuAmx(emulated=True)


def emulate(module: ir.Module, hw=None, *, func_name: str = "main") -> Executable:
    """The cpu-amx program of `module` with its AMX tile ops emulated
    (`tessera-amx-emulate`), for CPUs without AMX: packing, blocking, edges, epilogue, the
    shared object, the split over cores and save/load are the real ones; the AMX
    instructions are not."""
    return EMULATED.compile(module, hw, func_name=func_name)


def main(argv=None) -> int:
    """`python -m tessera.targets.cpu_amx FILE.mlir [--hw PRESET]`: print the x86-64
    assembly (Sapphire Rapids) of the AMX kernels compiled from FILE (linalg on tensors).
    Works on any machine: the code is printed, not run."""
    import argparse

    from tessera.context import make_context, parse_module
    from tessera.files import read_text
    from tessera.errors import print_error

    parser = argparse.ArgumentParser(prog="python -m tessera.targets.cpu_amx",
                                     description=main.__doc__)
    parser.add_argument("source")
    parser.add_argument("--hw", default=None, help="amx (default), amx-bf16, avx512 or avx2")
    args = parser.parse_args(argv)
    try:
        text = read_text(args.source)
        with make_context() as context, ir.Location.unknown():
            from tessera.pipelines import cpu_amx as pipelines

            module = parse_module(text, args.source)
            hw = TARGET.hardware(args.hw)
            # The code is for Sapphire Rapids, not this CPU: auto means AMX.
            engine = "amx" if hw.engine == "auto" else hw.engine
            pipelines.pipeline(context, hw, engine=engine).run(module)
            if not kernel_names(module):
                raise TesseraError(f"{args.source}: no matmul became an AMX kernel")
            print(assembly(kernel_llvm_ir(module)))
    except TesseraError as e:
        print_error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
