"""Hardware descriptions: plain dataclasses with named presets.

An `ArrayConfig` describes one matrix engine (a `systolic` array); an `NpuConfig` a grid
of such units with their memories and DRAM; a `RiscvConfig` a vector hart. They become
MLIR attributes (`#systolic.array<...>`, `systolic.memory`, `#tile.grid<...>`), so a
`.mlir` file carries the hardware it was compiled for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tessera.errors import TesseraError

DATAFLOWS = ("ws", "os", "is")  # weight-, output-, input-stationary


@dataclass(frozen=True)
class ArrayConfig:
    """One RxC systolic array and the dataflow it runs."""

    rows: int = 16
    cols: int = 16
    dataflow: str = "ws"

    def __post_init__(self):
        for name in ("rows", "cols"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise TesseraError(f"array {name} must be a positive integer, got {value!r}")
        if self.dataflow not in DATAFLOWS:
            raise TesseraError(
                f"array dataflow must be one of {', '.join(DATAFLOWS)}, got {self.dataflow!r}")


UNBOUNDED = 1 << 62  # bytes: "as much memory as the program wants"


@dataclass(frozen=True)
class NpuConfig:
    """An NPU: a grid of units, each one systolic array with its own scratchpad and
    accumulator, all sharing one DRAM channel.

    `dram_bytes_per_cycle = 0` means unbounded bandwidth; `dma_latency` is the cycles
    from issuing a transfer to its first byte. `double_buffer` lets the tiler give each
    operand two buffers when they fit, so moves overlap computes.
    """

    rows: int = 16
    cols: int = 16
    dataflow: str = "ws"
    spad_bytes: int = 256 * 1024
    acc_bytes: int = 64 * 1024
    dram_bytes_per_cycle: int = 16
    dma_latency: int = 64
    grid_rows: int = 1
    grid_cols: int = 1
    double_buffer: bool = True
    name: str = "custom"

    def __post_init__(self):
        for f in ("rows", "cols", "spad_bytes", "acc_bytes", "grid_rows", "grid_cols"):
            value = getattr(self, f)
            if not isinstance(value, int) or value <= 0:
                raise TesseraError(f"npu {f} must be a positive integer, got {value!r}")
        for f in ("dram_bytes_per_cycle", "dma_latency"):
            value = getattr(self, f)
            if not isinstance(value, int) or value < 0:
                raise TesseraError(f"npu {f} must be a non-negative integer, got {value!r}")
        if self.dataflow not in DATAFLOWS:
            raise TesseraError(f"npu dataflow must be one of {', '.join(DATAFLOWS)}, "
                               f"got {self.dataflow!r}")
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

    def ideal(self) -> "NpuConfig":
        """The same arrays with ideal memory: unbounded capacity and bandwidth, no latency."""
        return replace(self, spad_bytes=UNBOUNDED, acc_bytes=UNBOUNDED, dram_bytes_per_cycle=0,
                       dma_latency=0, name=f"{self.name}:ideal")


NPU_PRESETS = {
    # Gemmini's default: 16x16 weight-stationary, 256 KiB scratchpad, 64 KiB accumulator,
    # a 128-bit DMA bus.
    "gemmini-16x16": NpuConfig(16, 16, "ws", 256 * 1024, 64 * 1024, 16, 64),
    # TPU-v1-like: 128x128 weight-stationary, 24 MiB unified buffer, 4 MiB accumulators.
    "tpu-128x128": NpuConfig(128, 128, "ws", 24 << 20, 4 << 20, 32, 200),
    # Four 16x16 units, each with 64 KiB + 16 KiB, sharing one 16 B/cycle DRAM channel.
    "grid-2x2-16x16": NpuConfig(16, 16, "ws", 64 * 1024, 16 * 1024, 16, 64, 2, 2),
}


def npu_preset(spec) -> NpuConfig:
    """An NpuConfig from a preset name, `name:ideal`, or an NpuConfig (returned as is)."""
    if isinstance(spec, NpuConfig):
        return spec
    if spec is None:
        spec = "gemmini-16x16"
    if not isinstance(spec, str):
        raise TesseraError(f"hw must be an NpuConfig or a preset name, got {type(spec).__name__}")
    name, _, variant = spec.partition(":")
    if name not in NPU_PRESETS:
        from tessera.passes.registry import suggest

        raise TesseraError(f"unknown npu preset '{name}'{suggest(name, NPU_PRESETS)}; "
                           f"known presets: {', '.join(NPU_PRESETS)}")
    if variant not in ("", "ideal"):
        raise TesseraError(f"unknown preset variant ':{variant}' (only ':ideal')")
    config = replace(NPU_PRESETS[name], name=name)
    return config.ideal() if variant == "ideal" else config


@dataclass(frozen=True)
class RiscvConfig:
    """A RISC-V hart with the vector extension (RVV 1.0) of `vlen` bits per register;
    `vector = False` lowers matmuls to scalar loops (the baseline)."""

    vlen: int = 256
    vector: bool = True
    name: str = "custom"

    def __post_init__(self):
        if not isinstance(self.vlen, int) or self.vlen < 64 or self.vlen & (self.vlen - 1):
            raise TesseraError(f"riscv vlen must be a power of two >= 64, got {self.vlen!r}")


RISCV_PRESETS = {
    "rvv-128": RiscvConfig(128),
    "rvv-256": RiscvConfig(256),
    "rvv-512": RiscvConfig(512),
    "scalar": RiscvConfig(256, vector=False),
}


def _preset(kind: str, spec, presets: dict, cls: type, default: str):
    """`spec` if it is a `cls`, else the preset it names (None: `default`) renamed to it."""
    if isinstance(spec, cls):
        return spec
    spec = spec or default
    if spec not in presets:
        from tessera.passes.registry import suggest

        raise TesseraError(f"unknown {kind} preset '{spec}'{suggest(spec, presets)}; "
                           f"known presets: {', '.join(presets)}")
    return replace(presets[spec], name=spec)


def riscv_preset(spec) -> RiscvConfig:
    """A RiscvConfig from a preset name or a RiscvConfig (default rvv-256)."""
    return _preset("riscv", spec, RISCV_PRESETS, RiscvConfig, "rvv-256")


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

    api: str = "cuda"
    arch: str = "sm_80"
    mma: tuple[str, ...] = ("NV_MMA_SYNC_F32_16x8x16_BF16", "NV_MMA_SYNC_F32_16x8x16_F16")
    subgroup_size: int = 32
    tile_m: int = 128
    tile_n: int = 128
    tile_k: int = 64
    subgroups_m: int = 2
    subgroups_n: int = 2
    pipeline_depth: int = 2
    shared_memory_bytes: int = 163 * 1024
    features: str = ""
    explicit_target: bool = False
    name: str = "custom"

    def __post_init__(self):
        if self.api not in GPU_APIS:
            raise TesseraError(f"gpu api must be one of {', '.join(GPU_APIS)}, got {self.api!r}")
        if not isinstance(self.arch, str) or not self.arch:
            raise TesseraError(f"gpu arch must be a non-empty string, got {self.arch!r}")
        if isinstance(self.mma, str) or not all(isinstance(m, str) for m in self.mma):
            raise TesseraError(f"gpu mma must be a tuple of intrinsic names, got {self.mma!r}")
        for f in ("subgroup_size", "tile_m", "tile_n", "tile_k", "subgroups_m", "subgroups_n",
                  "pipeline_depth", "shared_memory_bytes"):
            value = getattr(self, f)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise TesseraError(f"gpu {f} must be a positive integer, got {value!r}")
        for tile, split in (("tile_m", "subgroups_m"), ("tile_n", "subgroups_n")):
            if getattr(self, tile) % getattr(self, split):
                raise TesseraError(f"gpu {tile} ({getattr(self, tile)}) must be a multiple of "
                                   f"{split} ({getattr(self, split)})")
        threads = self.subgroups_m * self.subgroups_n * self.subgroup_size
        if threads > 1024:
            raise TesseraError(f"gpu subgroups_m x subgroups_n x subgroup_size is {threads} "
                               f"threads; a workgroup has at most 1024")
        if self.pipeline_depth > 8:
            raise TesseraError(f"gpu pipeline_depth must be at most 8, got {self.pipeline_depth}")
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


def gpu_preset(spec, api: str | None = None) -> GpuConfig:
    """A GpuConfig from a preset name or a GpuConfig (returned as is); `None` is the
    default preset of `api`. A config for another api than `api` is an error."""
    if spec is None:
        spec = GPU_DEFAULT_PRESET[api or "cuda"]
    if isinstance(spec, str):
        if spec not in GPU_PRESETS:
            from tessera.passes.registry import suggest

            raise TesseraError(f"unknown gpu preset '{spec}'{suggest(spec, GPU_PRESETS)}; "
                               f"known presets: {', '.join(GPU_PRESETS)}")
        spec = replace(GPU_PRESETS[spec], name=spec)
    if not isinstance(spec, GpuConfig):
        raise TesseraError(f"hw must be a GpuConfig or a preset name, got {type(spec).__name__}")
    if api is not None and spec.api != api:
        raise TesseraError(f"gpu config '{spec.name}' is for {spec.api}, not {api}")
    return spec


@dataclass(frozen=True)
class AmxConfig:
    """Intel AMX on the CPU's cores: cache blocks of the kernels (elements), how many
    cores share a matmul's rows (`threads`, 0 = all), and how f32 matmuls run:
    `precision = "f32"` leaves them off AMX (f32 stays f32), `"bf16"` rounds their
    operands to bf16 (f32 accumulation) so they run on AMX — an explicit choice. (f32
    matmuls of bf16 values widened to f32, as torch writes bf16 layers, are bf16
    already and use AMX either way.)"""

    m_block: int = 64
    n_block: int = 256
    k_block: int = 256
    threads: int = 0
    precision: str = "f32"
    name: str = "custom"

    def __post_init__(self):
        if self.precision not in ("f32", "bf16"):
            raise TesseraError(f"amx precision must be 'f32' or 'bf16', got {self.precision!r}")
        if not isinstance(self.threads, int) or self.threads < 0:
            raise TesseraError(f"amx threads must be a non-negative integer, got {self.threads!r}")


AMX_PRESETS = {
    "amx": AmxConfig(),
    "amx-bf16": AmxConfig(precision="bf16"),  # f32 models run in bf16, by request
}


def amx_preset(spec) -> AmxConfig:
    """An AmxConfig from a preset name or an AmxConfig (default "amx")."""
    return _preset("amx", spec, AMX_PRESETS, AmxConfig, "amx")
