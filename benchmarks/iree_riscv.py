"""IREE's code for a GEMM on RISC-V (RVV), counted under QEMU the way tessera's is.

The peer column of riscv_instructions.py. IREE (the pip package iree-base-compiler)
compiles the same MLIR for riscv64 with RVV (`+v,+zvl<VLEN>b`, lp64d) in three
configurations:
- default: IREE's own codegen;
- dt+ukernels: `--iree-opt-data-tiling --iree-llvmcpu-enable-ukernels=all` (pack/encode
  dispatches, an mmt4d dispatch, unpack);
- scalable: `--iree-llvmcpu-enable-scalable-vectorization` with vscale fixed at
  VLEN/64 (`--iree-llvmcpu-vscale-range=V,V`; RVV's vscale is VLEN/64).

One `iree-compile --compile-to=hal` per configuration gives both halves of a program:
- the dispatch code: each executable's object file as IREE emits it before linking it
  into an embedded ELF (`--iree-hal-dump-executable-intermediates-to`); its symbols are
  renamed per executable (objcopy) and the objects combined (`ld -r`) into `model.o`, so
  toolchain.code_range counts exactly IREE's code (dispatches, linked-in ukernels and
  the library query function);
- the host program: the HAL-level module, parsed with iree.compiler.ir and walked op by
  op (`host_program`): buffers (inputs, queue allocations), the command buffer a queue
  execute runs (memoized in an initializer or recorded inline), and in it each dispatch
  (export, workgroup count, constants, bindings through the binding table), fill and
  copy, in order; the result views name the output buffers.
A generated C harness calls each executable library's query function (the executable
library ABI v0.6 of IREE's runtime/src/iree/hal/local/executable_library.h, declared
here with only the fields used), then runs the dispatches in order, every workgroup,
over the same buffers IREE's runtime would bind; it is linked statically with
toolchain.link and run and counted with toolchain.run / count_instructions. Each
configuration's output is checked against numpy; one that does not compile, link, run
or match is reported with the reason and never counted. The library query function
is counted too (7 instructions per executable, run once).

    .venv/bin/python benchmarks/riscv_instructions.py --vlen 256 --sizes 64 128 \
        --int8-sizes 128 [--iree-configs default dt+ukernels scalable]
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np

from tessera.executable import TensorSpec
from tessera.targets.riscv import toolchain

OBJCOPY = "riscv64-linux-gnu-objcopy"
LD = "riscv64-linux-gnu-ld"
ABI_VERSION = 6  # IREE_HAL_EXECUTABLE_LIBRARY_VERSION_0_6 (IREE 3.11 to 3.13)
COMPILE_TIMEOUT_S = 600

CONFIGS = ("default", "dt+ukernels", "scalable")


def config_flags(config: str, vlen: int) -> list[str]:
    """iree-compile flags of one configuration, for riscv64 with RVV of length `vlen`."""
    flags = ["--iree-hal-target-backends=llvm-cpu",
             "--iree-llvmcpu-target-triple=riscv64-unknown-linux-gnu",
             "--iree-llvmcpu-target-abi=lp64d",
             f"--iree-llvmcpu-target-cpu-features=+m,+a,+f,+d,+c,+v,+zvl{vlen}b"]
    if config == "dt+ukernels":
        flags += ["--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=all"]
    elif config == "scalable":
        vscale = vlen // 64
        flags += ["--iree-llvmcpu-enable-scalable-vectorization",
                  f"--iree-llvmcpu-vscale-range={vscale},{vscale}"]
    elif config != "default":
        raise ValueError(f"unknown IREE configuration {config!r}")
    return flags


@dataclasses.dataclass
class Outcome:
    """One configuration's result: instructions executed in IREE's code (and weighted by
    register-group size, when the plugin could tell), or why there is no count."""

    insns: int | None = None
    weighted: int | None = None
    error: str | None = None

    def __str__(self) -> str:
        return f"{self.insns:,}" if self.error is None else f"failed ({self.error})"


class HostProgramError(Exception):
    """The HAL-level host program does something this harness does not reproduce."""


# --- the host program --------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class BufRef:
    buffer: int  # index into Program.buffer_sizes
    offset: int


@dataclasses.dataclass
class Dispatch:
    executable: tuple[str, str]  # (hal.executable, variant)
    export: str
    workgroups: tuple[int, int, int]
    constants: list[int]
    bindings: list[tuple[BufRef, int]]  # (where, length)


@dataclasses.dataclass
class Fill:
    target: BufRef
    length: int
    pattern: int
    pattern_bytes: int


@dataclasses.dataclass
class Copy:
    source: BufRef
    target: BufRef
    length: int


@dataclasses.dataclass
class Program:
    """What IREE's runtime would do for one call of the entry function."""

    inputs: int  # buffers 0 .. inputs-1 are the arguments'
    buffer_sizes: list[int | None]  # None: an input (its size is the array's)
    commands: list[Dispatch | Fill | Copy]
    outputs: list[tuple[BufRef, int]]  # (where, length)


def _segments(op, fixed: int, variadic: int) -> list[list]:
    """Operands of `op` grouped: by its operandSegmentSizes, or else (ops whose variadic
    operands are all as long) `fixed` single operands, then `variadic` equal groups."""
    operands = list(op.operands)
    if "operandSegmentSizes" in op.attributes:
        from iree.compiler import ir
        sizes = list(ir.DenseI32ArrayAttr(op.attributes["operandSegmentSizes"]))
    else:
        each, rest = divmod(len(operands) - fixed, variadic)
        if rest:
            raise HostProgramError(f"cannot group the operands of {op.name}")
        sizes = [1] * fixed + [each] * variadic
    groups, at = [], 0
    for size in sizes:
        groups.append(operands[at:at + size])
        at += size
    return groups


class _Interpreter:
    """Walks the straight-line host code of IREE's HAL-level module."""

    IGNORED = {"hal.buffer_view.assert", "hal.buffer.assert", "hal.device.allocator",
               "hal.fence.create", "hal.fence.join", "hal.fence.await", "hal.element_type",
               "hal.encoding_type", "hal.memory_type", "hal.buffer_usage",
               "hal.device.queue.dealloca", "hal.device.queue.barrier",
               "util.status.check_ok", "hal.command_buffer.execution_barrier",
               "hal.command_buffer.finalize", "util.null", "hal.device.queue.flush"}
    ARITH = {"arith.addi": lambda a, b: a + b, "arith.subi": lambda a, b: a - b,
             "arith.muli": lambda a, b: a * b, "arith.divui": lambda a, b: a // b,
             "arith.ceildivui": lambda a, b: -(-a // b)}

    def __init__(self, module):
        from iree.compiler import ir
        self.ir = ir
        self.symbols = {}
        for op in module.body.operations:
            op = op.operation
            if "sym_name" in op.attributes:
                self.symbols[ir.StringAttr(op.attributes["sym_name"]).value] = op
        self.initializers = [op.operation for op in module.body.operations
                             if op.operation.name == "util.initializer"]
        self.buffer_sizes: list[int | None] = []

    def int_of(self, env, value) -> int:
        v = env.get(value)
        if not isinstance(v, int):
            raise HostProgramError(f"a value the harness needs is not a constant: {value}")
        return v

    def buffer_of(self, env, value) -> BufRef:
        v = env.get(value)
        if not isinstance(v, BufRef):
            raise HostProgramError(f"unknown buffer {value}")
        return v

    def memoized_commands(self, name: str):
        """The command list an initializer records into global `name`."""
        ir = self.ir
        for init in self.initializers:
            for op in init.regions[0].blocks[0].operations:
                op = op.operation
                if (op.name == "util.global.store"
                        and ir.FlatSymbolRefAttr(op.attributes["global"]).value == name):
                    call = op.operands[0].owner
                    if not hasattr(call, "name") or call.name != "util.call":
                        raise HostProgramError(f"global {name} is not set by a call")
                    callee = ir.FlatSymbolRefAttr(call.attributes["callee"]).value
                    returned = self.run(self.symbols[callee], [])
                    return returned[0]
        raise HostProgramError(f"no initializer sets command buffer {name}")

    def record(self, env, op, commands: list):
        """Add a command-buffer op (dispatch, fill, copy) to `commands`: bindings stay
        ("slot", n, offset) when they index the execute's binding table."""
        ir = self.ir

        def where(value, offset_value):
            offset = self.int_of(env, offset_value)
            if isinstance(value.type, ir.IndexType):
                return ("slot", self.int_of(env, value), offset)
            ref = self.buffer_of(env, value)
            return BufRef(ref.buffer, ref.offset + offset)

        if op.name == "hal.command_buffer.dispatch":
            groups = _segments(op, 6, 4)
            (_, _, [function], [x], [y], [z], consts, bufs, offsets, lengths) = groups
            target = env.get(function)
            if not (isinstance(target, tuple) and target[0] == "function"):
                raise HostProgramError("a dispatch's function is not a looked-up export")
            commands.append(Dispatch(target[1], target[2],
                                     (self.int_of(env, x), self.int_of(env, y),
                                      self.int_of(env, z)),
                                     [self.int_of(env, c) & 0xFFFFFFFF for c in consts],
                                     [(where(b, o), self.int_of(env, n))
                                      for b, o, n in zip(bufs, offsets, lengths)]))
        elif op.name == "hal.command_buffer.fill_buffer":
            _, target, offset, length, pattern = list(op.operands)
            commands.append(Fill(where(target, offset), self.int_of(env, length),
                                 self.int_of(env, pattern),
                                 ir.IntegerType(pattern.type).width // 8))
        elif op.name == "hal.command_buffer.copy_buffer":
            _, source, s_off, target, t_off, length = list(op.operands)
            commands.append(Copy(where(source, s_off), where(target, t_off),
                                 self.int_of(env, length)))
        else:
            raise HostProgramError(f"unsupported command {op.name}")

    def execute(self, env, op, program_commands: list):
        """A queue execute: its command list, with binding-table slots resolved."""
        groups = _segments(op, 5, 3)
        commands = env.get(groups[4][0])
        if not isinstance(commands, list):
            raise HostProgramError("a queue execute runs an unknown command buffer")
        table = []
        if op.name == "hal.device.queue.execute.indirect":
            bufs, offsets, lengths = groups[5:8]
            table = [(self.buffer_of(env, b), self.int_of(env, o), self.int_of(env, n))
                     for b, o, n in zip(bufs, offsets, lengths)]

        def resolve(w):
            if isinstance(w, BufRef):
                return w
            _, slot, offset = w
            if slot >= len(table):
                raise HostProgramError(f"binding slot {slot} is not in the binding table")
            ref, base, _ = table[slot]
            return BufRef(ref.buffer, ref.offset + base + offset)

        for c in commands:
            if isinstance(c, Dispatch):
                program_commands.append(dataclasses.replace(
                    c, bindings=[(resolve(w), n) for w, n in c.bindings]))
            elif isinstance(c, Fill):
                program_commands.append(dataclasses.replace(c, target=resolve(c.target)))
            else:
                program_commands.append(dataclasses.replace(
                    c, source=resolve(c.source), target=resolve(c.target)))

    def run(self, func, args, program_commands=None):
        """Interpret a single-block function; returns what its util.return returns."""
        ir = self.ir
        blocks = list(func.regions[0].blocks)
        if len(blocks) != 1:
            raise HostProgramError(f"{func.name} has control flow")
        env = dict(zip(blocks[0].arguments, args))
        for op in blocks[0].operations:
            op = op.operation
            name = op.name
            if name in self.IGNORED:
                continue
            if name == "arith.constant":
                attr = op.attributes["value"]
                env[op.results[0]] = (ir.IntegerAttr(attr).value
                                      if isinstance(attr, ir.IntegerAttr) else None)
            elif name in self.ARITH:
                a, b = (self.int_of(env, v) for v in op.operands)
                env[op.results[0]] = self.ARITH[name](a, b)
            elif name in ("arith.index_cast", "arith.index_castui"):
                env[op.results[0]] = self.int_of(env, op.operands[0])
            elif name == "util.global.load":
                symbol = ir.FlatSymbolRefAttr(op.attributes["global"]).value
                if str(op.results[0].type) == "!hal.command_buffer":
                    env[op.results[0]] = self.memoized_commands(symbol)
                else:
                    env[op.results[0]] = ("global", symbol)
            elif name == "hal.executable.lookup.function":
                path = ir.SymbolRefAttr(op.attributes["entry_point"]).value
                if len(path) != 3:
                    raise HostProgramError(f"unexpected export reference {path}")
                env[op.results[0]] = ("function", (path[0], path[1]), path[2])
            elif name == "hal.command_buffer.create":
                env[op.results[0]] = []
            elif name.startswith("hal.command_buffer."):
                commands = env.get(op.operands[0])
                if not isinstance(commands, list):
                    raise HostProgramError(f"{name} on an unknown command buffer")
                self.record(env, op, commands)
            elif name == "hal.buffer_view.buffer":
                view = env.get(op.operands[0])
                if not (isinstance(view, tuple) and view[0] == "arg"):
                    raise HostProgramError("a buffer view that is not an argument")
                env[op.results[0]] = BufRef(view[1], 0)
            elif name == "hal.buffer.subspan":
                ref = self.buffer_of(env, op.operands[0])
                env[op.results[0]] = BufRef(ref.buffer,
                                            ref.offset + self.int_of(env, op.operands[1]))
            elif name == "hal.device.queue.alloca":
                size = self.int_of(env, list(op.operands)[7])
                self.buffer_sizes.append(size)
                env[op.results[0]] = BufRef(len(self.buffer_sizes) - 1, 0)
            elif name in ("hal.device.queue.execute", "hal.device.queue.execute.indirect"):
                if program_commands is None:
                    raise HostProgramError(f"{name} outside the entry function")
                self.execute(env, op, program_commands)
            elif name == "hal.buffer_view.create":
                source, offset, length = list(op.operands)[:3]
                ref = self.buffer_of(env, source)
                env[op.results[0]] = ("view", BufRef(ref.buffer,
                                                     ref.offset + self.int_of(env, offset)),
                                      self.int_of(env, length))
            elif name == "util.return":
                return [env.get(v) for v in op.operands]
            else:
                raise HostProgramError(f"unsupported op in IREE's host program: {name}")
        raise HostProgramError(f"{func.name} does not return")


def host_program(hal_text: str, entry: str = "main") -> Program:
    """The buffers, commands and outputs of one call of `entry` in IREE's HAL-level
    module (iree-compile --compile-to=hal)."""
    from iree.compiler import ir
    with ir.Context() as context:
        module = ir.Module.parse(hal_text, context)
        interpreter = _Interpreter(module)
        func = interpreter.symbols.get(entry)
        if func is None or func.name != "util.func":
            raise HostProgramError(f"no function @{entry}")
        inputs = len(func.regions[0].blocks[0].arguments)
        interpreter.buffer_sizes = [None] * inputs
        commands: list = []
        returned = interpreter.run(func, [("arg", i) for i in range(inputs)], commands)
        outputs = []
        for value in returned:
            if not (isinstance(value, tuple) and value[0] == "view"):
                raise HostProgramError("a result that is not a buffer view")
            outputs.append((value[1], value[2]))
        return Program(inputs, interpreter.buffer_sizes, commands, outputs)


# --- the harness -------------------------------------------------------------------------

# The executable library ABI (IREE_HAL_EXECUTABLE_LIBRARY_VERSION_0_6), as declared in
# IREE's runtime/src/iree/hal/local/executable_library.h: the structs the dispatch code
# reads are complete (environment, dispatch state, workgroup state, dispatch attributes);
# of the library and its header only the leading fields the harness reads.
HARNESS_HEAD = r"""#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint32_t version; const char *name; uint32_t features; int32_t sanitizer; }
    lib_header;
typedef struct {
  const uint32_t *constants;
  void *import_thunk;
  const void *const *import_funcs;
  const void **import_contexts;
  uint64_t processor[8];
} environment;
typedef struct {
  uint32_t workgroup_size_x, workgroup_size_y;
  uint16_t workgroup_size_z, constant_count;
  uint32_t workgroup_count_x, workgroup_count_y;
  uint16_t workgroup_count_z;
  uint8_t max_concurrency, binding_count;
  const uint32_t *constants;
  void *const *binding_ptrs;
  const size_t *binding_lengths;
} dispatch_state;
typedef struct {
  uint32_t workgroup_id_x, workgroup_id_y;
  uint16_t workgroup_id_z, reserved;
  uint32_t processor_id;
  void *local_memory;
  uint32_t local_memory_size;
} workgroup_state;
typedef int (*dispatch_fn)(const environment *, const dispatch_state *,
                           const workgroup_state *);
typedef struct {
  uint64_t flags;
  uint16_t local_memory_pages;
  uint8_t constant_count, binding_count;
  uint32_t workgroup_size_x, workgroup_size_y;
  uint16_t workgroup_size_z, parameter_count;
  uint64_t reserved[5];
} dispatch_attrs;
typedef struct {
  const lib_header *header;
  struct { uint32_t count; const char *const *symbols; } imports;
  struct {
    uint32_t count;
    const dispatch_fn *ptrs;
    const dispatch_attrs *attrs;
    const void *params, *occupancy;
    const char *const *names;
  } exports;
} library;
typedef const lib_header **(*query_fn)(uint32_t max_version, const environment *env);

static environment env;  /* no constants, no imports, processor data all zero */

static const library *open_library(query_fn query) {
  const library *lib = (const library *)query(ABI_VERSION, &env);
  if (!lib || lib->header->version != ABI_VERSION) {
    fprintf(stderr, "executable library: ABI version %u, expected %u\n",
            lib ? lib->header->version : 0u, ABI_VERSION);
    exit(4);
  }
  if (lib->imports.count) {
    fprintf(stderr, "executable library %s imports %s (not provided)\n",
            lib->header->name, lib->imports.symbols[0]);
    exit(4);
  }
  return lib;
}

static void dispatch(const library *lib, const char *name, uint32_t x, uint32_t y,
                     uint32_t z, int n_constants, const uint32_t *constants,
                     int n_bindings, void *const *ptrs, const size_t *lengths) {
  uint32_t e = 0;
  while (e < lib->exports.count && strcmp(lib->exports.names[e], name)) e++;
  if (e == lib->exports.count) { fprintf(stderr, "no export %s\n", name); exit(4); }
  const dispatch_attrs *attrs = &lib->exports.attrs[e];
  if (attrs->constant_count != n_constants || attrs->binding_count != n_bindings) {
    fprintf(stderr, "%s: %d constants, %d bindings given, %d and %d declared\n", name,
            n_constants, n_bindings, attrs->constant_count, attrs->binding_count);
    exit(4);
  }
  dispatch_state state = {
      attrs->workgroup_size_x ? attrs->workgroup_size_x : 1,
      attrs->workgroup_size_y ? attrs->workgroup_size_y : 1,
      attrs->workgroup_size_z ? attrs->workgroup_size_z : 1,
      (uint16_t)n_constants, x, y, (uint16_t)z, 1, (uint8_t)n_bindings,
      constants, ptrs, lengths};
  size_t local_bytes = (size_t)attrs->local_memory_pages * 4096;
  void *local = local_bytes ? aligned_alloc(64, local_bytes) : NULL;
  for (uint32_t k = 0; k < z; k++)
    for (uint32_t j = 0; j < y; j++)
      for (uint32_t i = 0; i < x; i++) {
        workgroup_state wg = {i, j, (uint16_t)k, 0, 0, local, (uint32_t)local_bytes};
        int status = lib->exports.ptrs[e](&env, &state, &wg);
        if (status) { fprintf(stderr, "%s returned %d\n", name, status); exit(5); }
      }
  free(local);
}

static unsigned char *buffer(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  unsigned char *p = aligned_alloc(64, rounded ? rounded : 64);
  if (!p) exit(2);
  memset(p, 0, rounded);
  return p;
}
"""


def harness_source(program: Program, input_bytes: list[int],
                   queries: dict[tuple[str, str], str]) -> str:
    """C source that runs `program` with the executables' query functions `queries`."""
    sizes = [input_bytes[i] if s is None else s for i, s in enumerate(program.buffer_sizes)]
    libs = list(queries)
    lines = [f"#define ABI_VERSION {ABI_VERSION}u", HARNESS_HEAD]
    lines += [f"extern const lib_header **{queries[k]}(uint32_t, const environment *);"
              for k in libs]
    lines += ["", "int main(int argc, char **argv) {",
              f"  if (argc != {program.inputs + len(program.outputs) + 1}) return 2;",
              f"  unsigned char *B[{len(sizes)}];"]
    for i, size in enumerate(sizes):
        lines.append(f"  B[{i}] = buffer({size});")
    for i in range(program.inputs):
        lines += [f"  {{ FILE *f = fopen(argv[{i + 1}], \"rb\");",
                  f"    if (!f || fread(B[{i}], 1, {sizes[i]}, f) != {sizes[i]}) return 2;"
                  " fclose(f); }"]
    for n, k in enumerate(libs):
        lines.append(f"  const library *L{n} = open_library({queries[k]});")
    for c in program.commands:
        if isinstance(c, Dispatch):
            consts = ", ".join(f"{v}u" for v in c.constants) or "0"
            ptrs = ", ".join(f"B[{w.buffer}] + {w.offset}" for w, _ in c.bindings) or "0"
            lengths = ", ".join(str(n) for _, n in c.bindings) or "0"
            lines += ["  {", f"    static const uint32_t k[] = {{{consts}}};",
                      f"    void *const p[] = {{{ptrs}}};",
                      f"    static const size_t n[] = {{{lengths}}};",
                      f"    dispatch(L{libs.index(c.executable)}, \"{c.export}\", "
                      f"{c.workgroups[0]}, {c.workgroups[1]}, {c.workgroups[2]}, "
                      f"{len(c.constants)}, k, {len(c.bindings)}, p, n);", "  }"]
        elif isinstance(c, Fill):
            ctype = {1: "uint8_t", 2: "uint16_t", 4: "uint32_t"}[c.pattern_bytes]
            lines += [f"  for (size_t i = 0; i < {c.length // c.pattern_bytes}; i++)",
                      f"    (({ctype} *)(B[{c.target.buffer}] + {c.target.offset}))[i] = "
                      f"({ctype}){c.pattern}u;"]
        else:
            lines.append(f"  memmove(B[{c.target.buffer}] + {c.target.offset}, "
                         f"B[{c.source.buffer}] + {c.source.offset}, {c.length});")
    for j, (w, length) in enumerate(program.outputs):
        lines += [f"  {{ FILE *f = fopen(argv[{program.inputs + j + 1}], \"wb\");",
                  f"    if (!f || fwrite(B[{w.buffer}] + {w.offset}, 1, {length}, f) != "
                  f"{length}) return 3; fclose(f); }}"]
    lines += ["  return 0;", "}", ""]
    return "\n".join(lines)


# --- compile, link, run, count -----------------------------------------------------------

def _iree_compile() -> str:
    from iree.compiler.tools.binaries import find_tool
    return find_tool("iree-compile")


def _tail(text: str, lines: int = 3) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:])[:400]


def _combine_objects(dump: Path, executables: list[tuple[str, str]], out: Path) -> dict:
    """model.o from the executables' objects, each one's symbols prefixed (IREE's objects
    all define iree_hal_executable_library_query, and local copies of libc names such
    as memcpy that would make code_range take glibc's for IREE's); returns each
    executable's query function name."""
    queries, renamed = {}, []
    for n, (exe, variant) in enumerate(executables):
        found = [p for p in dump.glob("*.o") if p.name.endswith(f"_{exe}_{variant}.o")]
        if len(found) != 1:
            raise RuntimeError(f"{len(found)} objects for executable {exe}::{variant}")
        names = subprocess.run([toolchain.NM, "--defined-only", str(found[0])],
                               capture_output=True, text=True, check=True).stdout
        symbols = {line.split()[-1] for line in names.splitlines() if len(line.split()) == 3}
        table = out.parent / f"iree{n}.syms"
        table.write_text("".join(f"{s} iree{n}_{s}\n" for s in sorted(symbols)))
        obj = out.parent / f"iree{n}.o"
        subprocess.run([OBJCOPY, f"--redefine-syms={table}", str(found[0]), str(obj)],
                       check=True, capture_output=True)
        renamed.append(str(obj))
        queries[(exe, variant)] = f"iree{n}_iree_hal_executable_library_query"
    done = subprocess.run([LD, "-r", "-o", str(out)] + renamed, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ld -r: {_tail(done.stderr)}")
    return queries


def build(text: str, config: str, vlen: int, arrays, work: Path) -> tuple[Path, Program]:
    """Compile `text` with IREE in one configuration; returns the linked RISC-V program
    (harness + IREE's code as model.o) and the host program it reproduces."""
    work.mkdir(parents=True, exist_ok=True)
    source, hal, dump = work / "input.mlir", work / "program.hal.mlir", work / "dump"
    source.write_text(text)
    done = subprocess.run([_iree_compile(), *config_flags(config, vlen), "--compile-to=hal",
                           f"--iree-hal-dump-executable-intermediates-to={dump}",
                           str(source), "-o", str(hal)],
                          capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"iree-compile: {_tail(done.stderr)}")
    program = host_program(hal.read_text())
    executables = list(dict.fromkeys(c.executable for c in program.commands
                                     if isinstance(c, Dispatch)))
    if not executables:
        raise RuntimeError("the host program runs no dispatch")
    queries = _combine_objects(dump, executables, work / "model.o")
    (work / "harness.c").write_text(
        harness_source(program, [np.asarray(a).nbytes for a in arrays], queries))
    return toolchain.link(work), program


def measure(text: str, config: str, vlen: int, arrays, expected, work: Path) -> Outcome:
    """One configuration: build, run (result checked against `expected`), count."""
    try:
        binary, program = build(text, config, vlen, arrays, work)
        if len(program.outputs) != 1 or program.outputs[0][1] != expected.nbytes:
            return Outcome(error=f"outputs {[n for _, n in program.outputs]} bytes, "
                                 f"expected one of {expected.nbytes}")
        spec = TensorSpec(expected.shape, np.dtype(expected.dtype))
        out, _ = toolchain.run(binary, vlen, list(arrays), [spec])
        if not np.allclose(out[0], expected, rtol=1e-4, atol=1e-3):
            error = np.max(np.abs(out[0].astype(np.float64) - expected))
            return Outcome(error=f"wrong result (max abs error {error:.3g})")
        counts = toolchain.count_instructions(binary, vlen, list(arrays), [spec])
    except subprocess.TimeoutExpired:
        return Outcome(error="iree-compile timed out")
    except (RuntimeError, HostProgramError, subprocess.CalledProcessError) as e:
        return Outcome(error=str(e))
    except Exception as e:  # a TesseraError from linking or QEMU, with its message
        return Outcome(error=f"{type(e).__name__}: {_tail(str(e))}")
    return Outcome(counts.model, counts.weighted)


def iree_count(text: str, vlen: int, arrays, expected, work_dir: Path,
               configs=CONFIGS) -> dict[str, Outcome]:
    """Each configuration's Outcome for the MLIR `text` run on `arrays`."""
    return {c: measure(text, c, vlen, arrays, expected, Path(work_dir) / f"iree_{c}")
            for c in configs}


def best(outcomes: dict[str, Outcome]) -> tuple[str, Outcome] | None:
    """The configuration with the fewest instructions among those that counted."""
    counted = [(o.insns, c) for c, o in outcomes.items() if o.error is None]
    if not counted:
        return None
    config = min(counted)[1]
    return config, outcomes[config]
