"""Hardware descriptions: frozen dataclasses of knobs with named presets.

An `ArrayConfig` describes one matrix engine (a `systolic` array); an `NpuConfig` a grid
of such units with their memories and DRAM; a `RiscvConfig` a vector hart; an
`AmxConfig` the AMX tiles of a CPU's cores; a `GpuConfig` a GPU as IREE sees it. Every
field is a knob (tessera.knobs): declared once with its type, bounds and help, validated
when the description is made, and inherited by the pass options and command-line flags
that set it. They become MLIR attributes (`#systolic.array<...>`, `#systolic.memory<...>`,
`#tile.grid<...>`), so a `.mlir` file carries the hardware it was compiled for.

`resolve(spec, ...)` turns what a user writes into a description: an instance, `None`
(the default preset), or text `preset[:variant][,field=value...]`, e.g.
`gemmini-16x16:ideal` or `gemmini-16x16,rows=32,dataflow=os`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from tessera import knobs
from tessera.errors import TesseraError, suggest
from tessera.knobs import knob

DATAFLOWS = ("ws", "os", "is")  # weight-, output-, input-stationary
MAX_ARRAY_DIM = 4096  # rows or columns of one array
MAX_GRID_DIM = 64  # units per grid row or column
UNBOUNDED = 1 << 62  # bytes: "as much memory as the program wants"
MAX_RATE = 1 << 30  # bytes per cycle, or cycles of latency
_GRID = re.compile(r"([0-9]+)x([0-9]+)")  # a unit grid, ROWSxCOLS


@dataclass(frozen=True)
class ArrayConfig:
    """One RxC systolic array and the dataflow it runs."""

    KIND: ClassVar[str] = "array"  # how messages name this kind of hardware

    rows: int = knob(16, "array rows (PEs per column)", low=1, high=MAX_ARRAY_DIM)
    cols: int = knob(16, "array columns (PEs per row)", low=1, high=MAX_ARRAY_DIM)
    dataflow: str = knob("ws", "ws (weight-), os (output-) or is (input-stationary)",
                         choices=DATAFLOWS)

    def __post_init__(self):
        knobs.validate(self, "array")


@dataclass(frozen=True)
class NpuConfig(ArrayConfig):
    """An NPU: a grid of units, each one systolic array with its own scratchpad and
    accumulator, all sharing one DRAM channel.

    `dram_bytes_per_cycle = 0` means unbounded bandwidth; `dma_latency` is the cycles
    from issuing a transfer to its first byte. `double_buffer` lets the tiler give each
    operand two buffers when they fit, so moves overlap computes.
    """

    KIND: ClassVar[str] = "npu"

    spad_bytes: int = knob(256 * 1024, "scratchpad bytes per unit", low=1, high=UNBOUNDED)
    acc_bytes: int = knob(64 * 1024, "accumulator bytes per unit", low=1, high=UNBOUNDED)
    dram_bytes_per_cycle: int = knob(16, "shared DRAM bandwidth in bytes/cycle (0: unbounded)",
                                     low=0, high=MAX_RATE)
    dma_latency: int = knob(64, "cycles from issuing a transfer to its data", low=0,
                            high=MAX_RATE)
    grid_rows: int = knob(1, "rows of the unit grid", low=1, high=MAX_GRID_DIM)
    grid_cols: int = knob(1, "columns of the unit grid", low=1, high=MAX_GRID_DIM)
    double_buffer: bool = knob(True, "two buffers per operand when they fit")
    dataflows: str = knob("", "dataflows the array can also switch to per matmul, "
                          "'+'-separated (e.g. ws+os; empty: only `dataflow`)")
    host_ops_per_cycle: int = knob(16, "host vector unit: arithmetic operations per cycle",
                                   low=1, high=UNBOUNDED)
    host_bytes_per_cycle: int = knob(32, "host: bytes per cycle its copies, transposes and "
                                     "gathers write", low=1, high=UNBOUNDED)
    host_math_ops: int = knob(8, "host: operations one exp, tanh, sqrt, division... costs",
                              low=1, high=1 << 20)
    host_op_cycles: int = knob(32, "host: fixed cycles per op (loop set-up)", low=0,
                               high=1 << 20)
    mapper: str = knob("search", "how tessera-systolic-map maps matmuls: search (the cost "
                       "model's best) or heuristic (each dataflow's fixed nest)",
                       choices=("search", "heuristic"))
    # Energy and area (targets/npu_sim/energy.py): 45 nm figures of Horowitz, "Computing's
    # energy problem", ISSCC 2014, unless said otherwise. A MAC is a multiply of the
    # operand type plus an add of the accumulator type.
    mac_pj_int8: float = knob(0.3, "energy of an int8 MAC into int32, pJ (8b mult 0.2 + "
                              "32b add 0.1)", low=0)
    mac_pj_int32: float = knob(3.2, "energy of an int16/int32 MAC, pJ (32b mult 3.1 + 32b "
                               "add 0.1)", low=0)
    mac_pj_fp16: float = knob(2.0, "energy of a bf16/f16 MAC into f32, pJ (16b FP mult 1.1 "
                              "+ 32b FP add 0.9)", low=0)
    mac_pj_fp32: float = knob(4.6, "energy of an f32 MAC, pJ (32b FP mult 3.7 + add 0.9)",
                              low=0)
    sram_pj_per_byte: float = knob(1.25, "energy per byte read or written in an 8 KiB SRAM, "
                                   "pJ (10 pJ per 64 bits); a memory of S bytes costs "
                                   "sqrt(S / 8 KiB) times as much", low=0)
    dram_pj_per_byte: float = knob(250.0, "energy per DRAM byte, pJ (2 nJ per 64 bits, in "
                                   "the published 1.3-2.6 nJ)", low=0)
    host_pj_per_op: float = knob(2.3, "energy of one host arithmetic operation, pJ (mean "
                                 "of a 32b FP add and mult)", low=0)
    host_pj_per_byte: float = knob(2.5, "energy per byte a host copy or gather writes, pJ "
                                   "(one 8 KiB-SRAM read and one write)", low=0)
    pe_um2_int8: float = knob(419.0, "area of an int8 PE, um^2 (8b mult 282 + 32b add 137)",
                              low=0)
    pe_um2_int32: float = knob(3632.0, "area of an int16/int32 PE, um^2 (32b mult 3495 + "
                               "32b add 137)", low=0)
    pe_um2_fp16: float = knob(5824.0, "area of a bf16/f16 PE, um^2 (16b FP mult 1640 + "
                              "32b FP add 4184)", low=0)
    pe_um2_fp32: float = knob(11884.0, "area of an f32 PE, um^2 (32b FP mult 7700 + add "
                              "4184)", low=0)
    sram_um2_per_kib: float = knob(4049.0, "SRAM area per KiB, um^2 (45 nm 6T cell of "
                                   "0.346 um^2, 70% array efficiency)", low=0)
    name: str = "custom"

    def __post_init__(self):
        knobs.validate(self, "npu")
        unknown = [d for d in self.dataflows.split("+") if d and d not in DATAFLOWS]
        if unknown or (self.dataflows and "" in self.dataflows.split("+")):
            raise TesseraError(f"npu dataflows must be '+'-separated names among "
                               f"{', '.join(DATAFLOWS)}, got {self.dataflows!r}")
        # The smallest useful scratchpad holds one rows x cols block of 1-byte elements.
        if self.spad_bytes < self.rows * self.cols:
            raise TesseraError(
                f"npu spad_bytes is {self.spad_bytes} but one {self.rows}x{self.cols} array "
                f"tile needs at least {self.rows * self.cols} bytes")
        if self.acc_bytes < self.rows * self.cols:
            raise TesseraError(
                f"npu acc_bytes is {self.acc_bytes} but one {self.rows}x{self.cols} "
                f"accumulator tile needs at least {self.rows * self.cols} bytes")

    @property
    def array(self) -> ArrayConfig:
        return ArrayConfig(self.rows, self.cols, self.dataflow)

    @property
    def units(self) -> int:
        return self.grid_rows * self.grid_cols

    @property
    def supported_dataflows(self) -> tuple[str, ...]:
        """The dataflows a matmul may be mapped to: `dataflow` first, then `dataflows`."""
        return tuple(dict.fromkeys([self.dataflow, *filter(None, self.dataflows.split("+"))]))

    def ideal(self) -> "NpuConfig":
        """The same arrays with ideal memory: unbounded capacity and bandwidth, no latency."""
        return replace(self, spad_bytes=UNBOUNDED, acc_bytes=UNBOUNDED, dram_bytes_per_cycle=0,
                       dma_latency=0, name=f"{self.name}:ideal")


NPU_PRESETS = {
    # Gemmini's default: 16x16, weight- or output-stationary per layer, 256 KiB
    # scratchpad, 64 KiB accumulator, a 128-bit DMA bus.
    "gemmini-16x16": NpuConfig(16, 16, "ws", 256 * 1024, 64 * 1024, 16, 64,
                               dataflows="ws+os"),
    # TPU-v1-like: 128x128 weight-stationary, 24 MiB unified buffer, 4 MiB accumulators.
    "tpu-128x128": NpuConfig(128, 128, "ws", 24 << 20, 4 << 20, 32, 200),
    # Four Gemmini-like 16x16 units (ws or os), each with 64 KiB + 16 KiB, sharing one
    # 16 B/cycle DRAM channel.
    "grid-2x2-16x16": NpuConfig(16, 16, "ws", 64 * 1024, 16 * 1024, 16, 64, 2, 2,
                                dataflows="ws+os"),
}
NPU_VARIANTS = {"ideal": NpuConfig.ideal}


def resolve(spec, cls: type, presets: dict, default: str, kind: str | None = None,
            variants=None):
    """The description `spec` names: a `cls` instance (returned as is), None (preset
    `default`), or text `preset[:variant][,field=value...]`. Anything else, an unknown
    preset, variant or field, or a bad value is a TesseraError naming what is allowed."""
    kind = kind or cls.KIND
    if isinstance(spec, cls):
        return spec
    if spec is None:
        spec = default
    if not isinstance(spec, str):
        raise TesseraError(f"{kind} hardware must be a {cls.__name__} or a preset name "
                           f"({', '.join(presets)}), got {type(spec).__name__}")
    head, *overrides = [part.strip() for part in spec.split(",")]
    name, _, variant = head.partition(":")
    if name not in presets:
        raise TesseraError(f"unknown {kind} preset '{name}' (known presets: "
                           f"{', '.join(presets)}){suggest(name, presets)}")
    config = replace(presets[name], name=name)
    items = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise TesseraError(f"{kind} hardware '{spec}': expected field=value after the "
                               f"preset, got '{item}'")
        items.append((key, value))
    config = knobs.with_overrides(config, items, kind)
    if variant:
        variants = variants or {}
        if variant not in variants:
            known = ", ".join(f"':{v}'" for v in variants) or "none"
            raise TesseraError(f"unknown {kind} preset variant ':{variant}' (variants: {known})")
        config = variants[variant](config)
    return replace(config, name=spec) if overrides else config


def grid_fields(text: str, what: str) -> list[tuple[str, str]]:
    """`ROWSxCOLS` (e.g. 2x2) as the NpuConfig fields it sets; errors start with `what`."""
    match = _GRID.fullmatch(text.strip())
    if match is None:
        raise TesseraError(f"{what} expects ROWSxCOLS, e.g. 2x2, got '{text}'")
    return [("grid_rows", match.group(1)), ("grid_cols", match.group(2))]


def spec_text(config, presets: dict, default: str) -> str:
    """Text that `resolve` turns back into `config`: the preset it was made from (else
    `default`) and `field=value` for every knob that differs from it."""
    base_name = config.name.split(",")[0].split(":")[0]
    if base_name not in presets:
        base_name = default
    base = presets[base_name]
    changes = [f"{n}={knobs.text(getattr(config, n))}" for n in knobs.fields(type(config))
               if getattr(config, n) != getattr(base, n)]
    return ",".join([base_name] + changes)


def npu_preset(spec) -> NpuConfig:
    """An NpuConfig from a preset spec (`gemmini-16x16`, `tpu-128x128:ideal`, ...) or an
    NpuConfig (returned as is); None is gemmini-16x16."""
    return resolve(spec, NpuConfig, NPU_PRESETS, "gemmini-16x16", "npu", NPU_VARIANTS)


@dataclass(frozen=True)
class RiscvConfig:
    """A RISC-V hart with the vector extension (RVV 1.0) of `vlen` bits per register;
    `vector = False` lowers matmuls to scalar loops (the baseline)."""

    KIND: ClassVar[str] = "riscv"

    vlen: int = knob(256, "bits of one vector register (RVV VLEN)", low=64, high=65536,
                     power_of_two=True)
    vector: bool = knob(True, "use the vector extension (false: scalar code)")
    unroll: bool = knob(False, "let LLVM's -O3 unroll loops (compiles about 3x slower; "
                               "tessera's RVV matmul kernels are register-blocked already)")
    name: str = "custom"

    def __post_init__(self):
        knobs.validate(self, "riscv")


RISCV_PRESETS = {
    "rvv-128": RiscvConfig(128),
    "rvv-256": RiscvConfig(256),
    "rvv-512": RiscvConfig(512),
    "scalar": RiscvConfig(256, vector=False),
}


def riscv_preset(spec) -> RiscvConfig:
    """A RiscvConfig from a preset spec or a RiscvConfig (default rvv-256)."""
    return resolve(spec, RiscvConfig, RISCV_PRESETS, "rvv-256", "riscv")


def cpu_flags(path: str = "/proc/cpuinfo") -> set[str]:
    """The CPU feature flags Linux reports (first processor)."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError):
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


@dataclass(frozen=True)
class IreeCpuConfig:
    """The CPU IREE's llvm-cpu backend compiles for (`host`: this machine), and how: IREE's
    data tiling with its microkernels and convolutions as im2col matmuls, both on by
    default (measured 2026-12-02, full-size ResNet-18 / MobileNet-V2 / ViT-B/16 / BERT /
    GPT-2: 143 / 53 / 599 / 185 / 132 ms against 312 / 70 / 2422 / 304 / 205 without;
    `benchmarks/models.py`). Vector loops are peeled to whole vectors rather than masked
    (2026-12-03: ViT's attention, 12 heads of 197 tokens, 2.06 vs 2.74 ms; the five
    models 0-9% faster, none slower), and floating-point reductions vectorized in any
    order, IREE's own default at -O2 (ViT 1-4% faster; 24 LayerNorms 7.0 vs 2.2 ms)."""

    KIND: ClassVar[str] = "iree-cpu"

    cpu: str = knob("host", "LLVM CPU name for IREE's llvm-cpu backend (host: this machine)")
    data_tiling: bool = knob(True, "IREE's data tiling with its ukernels (--iree-opt-data-tiling "
                                   "--iree-llvmcpu-enable-ukernels=all, stack allocations up "
                                   "to 64 KiB)")
    im2col: bool = knob(True, "convolutions as im2col + matmul "
                              "(--iree-global-opt-use-im2col-for-convs)")
    mmt4d_convs: bool = knob(True, "f32 nchw convolutions of batch 1 as tessera's im2col into "
                                   "linalg.mmt4d's packed layout + linalg.mmt4d "
                                   "(tessera-conv-to-mmt4d), before IREE")
    peel: bool = knob(True, "vector loops peeled to whole vectors, not masked "
                             "(--iree-llvmcpu-vector-pproc-strategy=peel)")
    reassociate: bool = knob(True, "f32/f64 reductions vectorized in any order "
                                   "(--iree-llvmcpu-reassociate-fp-reductions)")
    system_link: bool = knob(False, "code linked by the system linker into a shared library "
                                    "that may call the C math library "
                                    "(--iree-llvmcpu-link-embedded=false); chosen by itself "
                                    "where IREE's self-contained code lacks a function")
    inline_constants: bool = knob(True, "small constants inlined into IREE's dispatches "
                                        "(--iree-flow-inline-constants-max-byte-length=0 "
                                        "when off); turned off by itself where IREE's bf16 "
                                        "emulation fails on an inlined bf16 constant")
    name: str = "custom"

    def __post_init__(self):
        knobs.validate(self, "iree-cpu")
        if not self.cpu or not all(c.isalnum() or c in "-_." for c in self.cpu):
            raise TesseraError(f"iree-cpu cpu must be an LLVM CPU name, got {self.cpu!r}")


IREE_CPU_PRESETS = {"host": IreeCpuConfig()}

GPU_APIS = ("cuda", "rocm", "vulkan")  # IREE HAL devices: cuda, hip, vulkan


@dataclass(frozen=True)
class GpuConfig:
    """A GPU as tessera's `tile`/`systolic` decisions see it: a workgroup is one `tile`
    unit, the tensor-core / matrix-core MMA is the `systolic` engine.

    `api` and `arch` name the IREE backend and chip (`sm_80`, `gfx942`, or a Vulkan
    target such as `ampere`); `mma` lists the MMA intrinsics (IREE's names, whose shape
    and types are in the name) the chip offers, preferred first; `tile_m x tile_n x
    tile_k` is the workgroup tile tessera starts from, split over `subgroups_m x
    subgroups_n` subgroups of `subgroup_size` threads; `pipeline_depth` is how many K
    steps of operands are in flight in shared memory (IREE's prefetch stages; Vulkan's
    pipeline depth). `explicit_target` spells the whole chip description out to IREE,
    for arches IREE 3.13 has no entry for (Hopper's sm_90).
    """

    KIND: ClassVar[str] = "gpu"

    api: str = knob("cuda", "IREE backend", choices=GPU_APIS)
    arch: str = knob("sm_80", "chip for IREE (sm_80, gfx942, ampere, ...)")
    mma: tuple[str, ...] = knob(("NV_MMA_SYNC_F32_16x8x16_BF16", "NV_MMA_SYNC_F32_16x8x16_F16"),
                                "MMA intrinsics (IREE names), preferred first, '|'-separated")
    subgroup_size: int = knob(32, "threads per subgroup", low=1, high=1024)
    tile_m: int = knob(128, "workgroup tile rows", low=1, high=1 << 16)
    tile_n: int = knob(128, "workgroup tile columns", low=1, high=1 << 16)
    tile_k: int = knob(64, "workgroup tile reduction step", low=1, high=1 << 16)
    subgroups_m: int = knob(2, "subgroups along rows", low=1, high=1024)
    subgroups_n: int = knob(2, "subgroups along columns", low=1, high=1024)
    pipeline_depth: int = knob(2, "K steps of operands in flight in shared memory", low=1,
                               high=8)
    shared_memory_bytes: int = knob(163 * 1024, "shared memory per workgroup", low=1,
                                    high=1 << 30)
    features: str = knob("", "target features for IREE (e.g. +ptx80)")
    explicit_target: bool = knob(False, "describe the chip to IREE in full (arches it lacks)")
    name: str = "custom"

    def __post_init__(self):
        knobs.validate(self, "gpu")
        if not self.arch:
            raise TesseraError(f"gpu arch must be a non-empty string, got {self.arch!r}")
        if not isinstance(self.mma, tuple) or not all(isinstance(m, str) for m in self.mma):
            raise TesseraError(f"gpu mma must be a tuple of intrinsic names, got {self.mma!r}")
        for tile, split in (("tile_m", "subgroups_m"), ("tile_n", "subgroups_n")):
            if getattr(self, tile) % getattr(self, split):
                raise TesseraError(f"gpu {tile} ({getattr(self, tile)}) must be a multiple of "
                                   f"{split} ({getattr(self, split)})")
        threads = self.subgroups_m * self.subgroups_n * self.subgroup_size
        if threads > 1024:
            raise TesseraError(f"gpu subgroups_m x subgroups_n x subgroup_size is {threads} "
                               f"threads; a workgroup has at most 1024")
        # Operand blocks of 2-byte elements, one set per stage in flight.
        need = (self.tile_m + self.tile_n) * self.tile_k * 2 * self.pipeline_depth
        if need > self.shared_memory_bytes:
            raise TesseraError(
                f"gpu tile_m x tile_n x tile_k = {self.tile_m}x{self.tile_n}x{self.tile_k} with "
                f"pipeline_depth {self.pipeline_depth} needs {need} bytes of shared memory for "
                f"16-bit operands, more than shared_memory_bytes ({self.shared_memory_bytes})")


_NV_MMA = ("NV_MMA_SYNC_F32_16x8x16_BF16", "NV_MMA_SYNC_F32_16x8x16_F16")
GPU_PRESETS = {
    # A100 (sm_80): mma.sync 16x8x16 tensor cores, 164 KiB shared memory per SM.
    "a100": GpuConfig("cuda", "sm_80", _NV_MMA, 32, 128, 128, 64, 2, 2, 2, 163 * 1024),
    # H100 (sm_90): IREE 3.13 knows no sm_90 target ("missing GPU target"), so tessera
    # describes it itself: Ampere-class mma.sync (IREE has no wgmma), PTX 8.0, 227 KiB.
    "h100": GpuConfig("cuda", "sm_90", _NV_MMA, 32, 128, 128, 64, 2, 2, 3, 227 * 1024,
                      "+ptx80", explicit_target=True),
    # MI300 (gfx942, CDNA3): MFMA 16x16 matrix cores, 64-wide subgroups, 64 KiB LDS.
    "mi300": GpuConfig("rocm", "gfx942",
                       ("MFMA_F32_16x16x16_BF16", "MFMA_F32_16x16x16_F16", "MFMA_F32_16x16x4_F32",
                        "MFMA_I32_16x16x32_I8"), 64, 128, 128, 32, 2, 2, 2, 64 * 1024),
    # Vulkan on an Ampere-class GPU: cooperative-matrix 16x16x16 f16 (SPIR-V has no bf16).
    "vulkan-ampere": GpuConfig("vulkan", "ampere", ("NV_WMMA_F32_16x16x16_F16",), 32,
                               64, 64, 32, 2, 2, 1, 48 * 1024),
    # Vulkan on RDNA3: WMMA 16x16x16 f16 through cooperative matrix, subgroups of 32.
    "vulkan-rdna3": GpuConfig("vulkan", "rdna3", ("WMMA_F32_16x16x16_F16",), 32,
                              64, 64, 32, 2, 2, 1, 64 * 1024),
}
GPU_DEFAULT_PRESET = {"cuda": "a100", "rocm": "mi300", "vulkan": "vulkan-ampere"}


def gpu_presets(api: str | None) -> dict[str, GpuConfig]:
    """The GPU presets of `api` (all of them for None)."""
    return {n: c for n, c in GPU_PRESETS.items() if api is None or c.api == api}


def gpu_preset(spec, api: str | None = None) -> GpuConfig:
    """A GpuConfig from a preset spec or a GpuConfig; `None` is the default preset of
    `api`. A config for another api than `api` is an error."""
    config = resolve(spec, GpuConfig, GPU_PRESETS, GPU_DEFAULT_PRESET[api or "cuda"], "gpu")
    if api is not None and config.api != api:
        raise TesseraError(f"gpu config '{config.name}' is for {config.api}, not {api}")
    return config


@dataclass(frozen=True)
class AmxConfig:
    """An x86-64 CPU's matrix engine on each core: AMX tiles (`engine = "amx"`) or, on
    CPUs without AMX, AVX-512 vector microkernels (`"avx512"`: f32 FMA; bf16 widened to
    f32 as it is packed and run as f32 FMAs, `bf16_math = "fma"`, or as vdpbf16ps dots on
    VNNI pairs, `"dot"`: a product of two bf16 is exact in f32 either way, and on the
    CPUs measured an f32 FMA core does as many multiply-adds per cycle as a vdpbf16ps
    one or twice as many; int8 as vpdpbusd dots on VNNI quads), or on CPUs with neither,
    AVX2 ones (`"avx2"`: 256-bit registers, f32 FMA, bf16 widened to f32, int8 widened to
    i16 and multiplied by vpmaddwd); `"auto"` takes the first of AMX, AVX-512 and AVX2
    the CPU has. Also the cache blocks of the
    kernels (elements), how many cores share a matmul's rows (`threads`, 0 = all), and
    how f32 matmuls run on AMX: `precision = "f32"` leaves them off AMX (f32 stays f32;
    the vector engines run them with f32 FMAs), `"bf16"` rounds their operands to bf16
    (f32 accumulation) so they run on the bf16 kernels — an explicit choice. (f32
    matmuls of bf16 values widened to f32, as torch writes bf16 layers, are bf16
    already and use the bf16 kernels either way.)"""

    KIND: ClassVar[str] = "amx"

    m_block: int = knob(0, "result rows per cache block (0: the engine's, 64 on AMX, 256 "
                           "on AVX-512/AVX2)", low=0, high=1 << 16, multiple_of=32)
    n_block: int = knob(256, "result columns per cache block", low=32, high=1 << 16,
                        multiple_of=32)
    k_block: int = knob(0, "reduction elements per cache block (0: the engine's, 256 on "
                           "AMX, 256 steps on AVX-512/AVX2: 256 f32, 512 bf16, 1024 int8 "
                           "(AVX2: 512))",
                        low=0, high=1 << 16, multiple_of=64)
    threads: int = knob(0, "cores sharing a matmul's rows (0: all)", low=0, high=1024)
    precision: str = knob("f32", "f32 matmuls: stay f32 (off AMX) or run in bf16",
                          choices=("f32", "bf16"))
    engine: str = knob("auto", "matmul kernels: AMX tiles, AVX-512 or AVX2 vectors, or "
                               "auto (the first of them the CPU has)",
                       choices=("auto", "amx", "avx512", "avx2"))
    bf16_math: str = knob("fma", "vector engines' bf16: fma (widened to f32 when packed, f32 "
                                 "FMAs: the same exact products) or dot (vdpbf16ps on VNNI "
                                 "pairs, avx512 only)", choices=("fma", "dot"))
    name: str = "custom"

    def __post_init__(self):
        knobs.validate(self, "amx")


AMX_PRESETS = {
    "amx": AmxConfig(),
    "amx-bf16": AmxConfig(precision="bf16"),  # f32 models run in bf16, by request
    "avx512": AmxConfig(engine="avx512"),  # vector microkernels even where AMX exists
    "avx2": AmxConfig(engine="avx2"),  # 256-bit ones, on any x86-64 CPU with AVX2 and FMA
}


def amx_preset(spec) -> AmxConfig:
    """An AmxConfig from a preset spec or an AmxConfig (default "amx")."""
    return resolve(spec, AmxConfig, AMX_PRESETS, "amx", "amx")
