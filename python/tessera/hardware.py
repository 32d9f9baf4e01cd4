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


def riscv_preset(spec) -> RiscvConfig:
    """A RiscvConfig from a preset name or a RiscvConfig (default rvv-256)."""
    if isinstance(spec, RiscvConfig):
        return spec
    spec = spec or "rvv-256"
    if spec not in RISCV_PRESETS:
        from tessera.passes.registry import suggest

        raise TesseraError(f"unknown riscv preset '{spec}'{suggest(spec, RISCV_PRESETS)}; "
                           f"known presets: {', '.join(RISCV_PRESETS)}")
    return replace(RISCV_PRESETS[spec], name=spec)
