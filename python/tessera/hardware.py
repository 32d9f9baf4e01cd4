"""Hardware descriptions: plain dataclasses with named presets.

An `ArrayConfig` describes one matrix engine (a `systolic` array); a `GridConfig` a set of
units that each own local memory (the `tile` level). Both become MLIR attributes on the
ops (`#systolic.array<...>`, `#tile.grid<...>`), so a `.mlir` file carries the hardware it
was compiled for.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class GridConfig:
    """A rows x cols grid of units, each with `local_bytes` of local memory, sharing
    `dram_bytes_per_cycle` of global-memory bandwidth."""

    rows: int = 1
    cols: int = 1
    local_bytes: int = 256 * 1024
    dram_bytes_per_cycle: int = 16

    def __post_init__(self):
        for name in ("rows", "cols", "local_bytes", "dram_bytes_per_cycle"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise TesseraError(f"grid {name} must be a positive integer, got {value!r}")


ARRAY_PRESETS = {
    "gemmini-16x16": ArrayConfig(16, 16, "ws"),
    "tpu-128x128": ArrayConfig(128, 128, "ws"),
    "amx-16x16": ArrayConfig(16, 16, "os"),
}


def array_preset(name: str) -> ArrayConfig:
    """The named `ArrayConfig`; an unknown name is a user error listing the known ones."""
    if name not in ARRAY_PRESETS:
        raise TesseraError(
            f"unknown array preset '{name}'; known presets: {', '.join(sorted(ARRAY_PRESETS))}")
    return ARRAY_PRESETS[name]
