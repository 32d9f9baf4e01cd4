"""Energy and area of a simulated run, from the simulator's access counts.

Every figure is a field of the NpuConfig (so a design space can vary it, and
`tessera-sim --dram-pj-per-byte 100` overrides it); the defaults are the 45 nm numbers
of M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014:

- a MAC costs a multiply of the operand type plus an add of the accumulator type
  (int8 x int8 -> int32, bf16/f16 -> f32, f32 -> f32, int16/int32 -> int32); only useful
  MACs are charged (a cell holding padding is assumed clock-gated); f64 has no published
  figure and its energy is reported as NaN;
- SRAM: Horowitz's 64-bit reads (8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ) follow the square
  root of the size, so a byte of a memory of S bytes costs `sram_pj_per_byte` x
  sqrt(S / 8 KiB); reads and writes cost the same; the scratchpad and the accumulator are
  charged by their own sizes;
- DRAM: 2 nJ per 64 bits (the paper gives 1.3-2.6 nJ);
- host work (targets/npu_sim/host.py): `host_pj_per_op` per arithmetic operation and
  `host_pj_per_byte` per byte a copy or gather writes (tessera's assumption: one read
  and one write of a small SRAM);
- area: each unit's rows x cols PEs (sized for the costliest operand type the program's
  matmuls use; f32 when nothing runs on the array) plus its scratchpad and accumulator
  at `sram_um2_per_kib` (a 45 nm 6T cell of 0.346 um^2, Intel, IEDM 2007, at 70% array
  efficiency). The host and the DRAM are not part of the area.

Leakage is not modelled. Ideal (unbounded) memories have no energy or area: NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tessera.hardware import UNBOUNDED, NpuConfig

KIB = 1024
SRAM_REFERENCE_BYTES = 8 * KIB  # the SRAM `sram_pj_per_byte` describes


@dataclass(frozen=True)
class Energy:
    """Energy of one run (one inference), pJ, by where it is spent."""

    mac: float
    spad: float
    acc: float
    dram: float
    host: float

    @property
    def total(self) -> float:
        return self.mac + self.spad + self.acc + self.dram + self.host


def pe_class(dtype) -> str | None:
    """Which PE a matmul on operands of `dtype` needs: int8, int32, fp16 or fp32 (None for
    types without published figures, like f64)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return "int8" if dtype.itemsize == 1 else ("int32" if dtype.itemsize <= 4 else None)
    if dtype.itemsize == 2:  # float16, and bfloat16 (ml_dtypes' kind is "V")
        return "fp16"
    if dtype.kind == "f" and dtype.itemsize == 4:
        return "fp32"
    return None


def mac_pj(hw: NpuConfig, pe: str | None) -> float:
    return getattr(hw, f"mac_pj_{pe}") if pe else math.nan


def pe_um2(hw: NpuConfig, pe: str | None) -> float:
    return getattr(hw, f"pe_um2_{pe}") if pe else math.nan


def sram_pj_per_byte(hw: NpuConfig, size_bytes: int) -> float:
    """Energy per byte of an SRAM of `size_bytes` (NaN when unbounded)."""
    if size_bytes >= UNBOUNDED:
        return math.nan
    return hw.sram_pj_per_byte * math.sqrt(size_bytes / SRAM_REFERENCE_BYTES)


def _itemsize(program, space: str) -> int:
    return next((b.dtype.itemsize for b in program.buffers if b.space == space), 0)


def operand_dtype(program):
    """The element type of a kernel's lhs operand."""
    return next(b.dtype for b in program.buffers if b.role == "lhs")


def energy(report) -> Energy:
    """The energy of `report`'s run (an NpuReport) on its hardware."""
    hw: NpuConfig = report.hw
    spad_pj, acc_pj = sram_pj_per_byte(hw, hw.spad_bytes), sram_pj_per_byte(hw, hw.acc_bytes)
    mac = spad = acc = dram = 0.0
    for k in report.kernels:
        t, p = k.timing, k.program
        mac += t.macs * mac_pj(hw, pe_class(operand_dtype(p)))
        spad += (t.spad_reads + t.spad_writes) * _itemsize(p, "spad") * spad_pj
        acc += (t.acc_reads + t.acc_writes) * _itemsize(p, "acc") * acc_pj
        dram += sum(t.dram_bytes.values()) * hw.dram_pj_per_byte
    host = sum(w.work * (hw.host_pj_per_op if w.kind == "compute" else hw.host_pj_per_byte)
               for w in report.host_work)
    return Energy(mac, spad, acc, dram, host)


_PE_COST = ("int8", "int32", "fp16", "fp32")  # cheapest first


def array_pe(report) -> str | None:
    """The PE the design needs for `report`'s program: the costliest operand type of its
    matmuls (fp32 when none; None when one has no published figure)."""
    kinds = [pe_class(operand_dtype(k.program)) for k in report.kernels]
    if not kinds:
        return "fp32"
    if None in kinds:
        return None
    return max(kinds, key=_PE_COST.index)


def area_mm2(hw: NpuConfig, pe: str | None) -> float:
    """Area of all units of `hw` with PEs of kind `pe`, mm^2 (NaN for unbounded memory)."""
    if max(hw.spad_bytes, hw.acc_bytes) >= UNBOUNDED:
        return math.nan
    sram = (hw.spad_bytes + hw.acc_bytes) / KIB * hw.sram_um2_per_kib
    return hw.units * (hw.rows * hw.cols * pe_um2(hw, pe) + sram) / 1e6
