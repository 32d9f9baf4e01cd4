"""What a simulated run reports: cycles, stalls, utilization, memory traffic per kernel,
which ops ran on the host and their modelled cycles (`host.py`), a Chrome trace (opens
in Perfetto) and a utilization plot."""

from __future__ import annotations

from dataclasses import dataclass, field

from tessera.hardware import UNBOUNDED
from tessera.target import Report, aligned
from tessera.targets.npu_sim.energy import Energy, area_mm2, array_pe
from tessera.targets.npu_sim.energy import energy as energy_of
from tessera.targets.npu_sim.host import HostWork
from tessera.targets.npu_sim.program import Program
from tessera.targets.npu_sim.timing import Timing


@dataclass
class KernelReport:
    """One matmul on the array."""

    name: str
    gemm: dict  # batch, m, n, k
    program: Program
    timing: Timing

    @property
    def cycles(self) -> int:
        return self.timing.cycles

    @property
    def shape(self) -> str:
        """`MxNxK`, with ` xB` for a batch of B (attention, grouped convolutions)."""
        g = self.gemm
        return f"{g['m']}x{g['n']}x{g['k']}" + (f" x{g['batch']}" if g["batch"] > 1 else "")

    def row(self) -> dict:
        p, t = self.program, self.timing
        return {
            "kernel": self.name, "gemm (MxNxK)": self.shape,
            "array": f"{p.rows}x{p.cols} {p.dataflow}", "cycles": t.cycles,
            "stall": t.stall_cycles(p.units),
            "util %": 100 * t.utilization(p.rows, p.cols, p.units),
            "map eff %": 100 * t.mapping_efficiency(p.rows, p.cols),
            "folds": t.folds, "spad r/w": f"{t.spad_reads}/{t.spad_writes}",
            "acc r/w": f"{t.acc_reads}/{t.acc_writes}",
            "dram B": " ".join(f"{k}={v}" for k, v in sorted(t.dram_bytes.items())),
        }


@dataclass
class NpuReport(Report):
    """The whole model: its kernels in call order and the ops left on the host."""

    kernels: list[KernelReport] = field(default_factory=list)
    host_ops: dict[str, int] = field(default_factory=dict)
    host_work: list[HostWork] = field(default_factory=list)

    def kernel_rows(self) -> list[dict]:
        return [k.row() for k in self.kernels]

    def measures(self) -> dict[str, float]:
        return {"cycles": self.total_cycles, "array_cycles": self.array_cycles,
                "host_cycles": self.host_cycles, "stall_cycles": self.stall_cycles,
                "pe_utilization": self.utilization,
                "energy_uj": self.energy.total / 1e6, "area_mm2": self.area_mm2}

    @property
    def energy(self) -> Energy:
        """Energy of one run, pJ by component (see energy.py)."""
        return energy_of(self)

    @property
    def area_mm2(self) -> float:
        """Area of the units the program ran on (see energy.py)."""
        return area_mm2(self.hw, array_pe(self))

    def details(self) -> dict[str, object]:
        """Energy by component (uJ), DRAM bytes per operand, MACs, folds and SRAM accesses
        (elements), the kernels and the mapping each got."""
        e = self.energy
        row: dict[str, object] = {f"energy_{part}_uj": getattr(e, part) / 1e6
                                  for part in ("mac", "spad", "acc", "dram", "host")}
        dram = self.dram_bytes
        row.update({f"dram_{role}_bytes": dram.get(role, 0) for role in DRAM_ROLES})
        row.update(self.accesses())
        row["kernels"] = len(self.kernels)
        row["mappings"] = "; ".join(_mapping_text(k) for k in self.kernels)
        return row

    def accesses(self) -> dict[str, int]:
        """Element reads and writes of the scratchpads and accumulators, and MACs and folds,
        summed over kernels."""
        names = ("macs", "folds", "spad_reads", "spad_writes", "acc_reads", "acc_writes")
        return {n: sum(getattr(k.timing, n) for k in self.kernels) for n in names}

    def summary(self) -> str:
        return (f"{self.total_cycles} cycles, PE util {100 * self.utilization:.1f}% (array "
                f"{self.array_cycles}, host {self.host_cycles})")

    @property
    def array_cycles(self) -> int:
        """The kernels' cycles, one after another."""
        return sum(k.cycles for k in self.kernels)

    @property
    def host_cycles(self) -> int:
        """The host ops' modelled cycles (see host.py)."""
        return sum(w.cycles for w in self.host_work)

    @property
    def total_cycles(self) -> int:
        """The model's time: kernels and host work do not overlap."""
        return self.array_cycles + self.host_cycles

    @property
    def stall_cycles(self) -> int:
        return sum(k.timing.stall_cycles(k.program.units) for k in self.kernels)

    @property
    def utilization(self) -> float:
        """Useful MACs over what all arrays could do during the kernels' cycles."""
        capacity = sum(k.program.rows * k.program.cols * k.program.units * (k.cycles + 1)
                       for k in self.kernels)
        return sum(k.timing.macs for k in self.kernels) / capacity if capacity else 0.0

    @property
    def dram_bytes(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for k in self.kernels:
            for role, n in k.timing.dram_bytes.items():
                total[role] = total.get(role, 0) + n
        return total

    def table(self) -> str:
        """A text table: one row per kernel, then totals and the host ops."""
        hw = self.hw
        lines = [f"npu-sim {hw.name}: {hw.grid_rows}x{hw.grid_cols} unit(s) of "
                 f"{hw.rows}x{hw.cols} {hw.dataflow}, spad {_bytes(hw.spad_bytes)}, acc "
                 f"{_bytes(hw.acc_bytes)}, DRAM "
                 f"{f'{hw.dram_bytes_per_cycle} B/cycle' if hw.dram_bytes_per_cycle else 'unbounded'}"
                 f", latency {hw.dma_latency}"]
        rows = self.kernel_rows()
        if rows:
            keys = list(rows[0])
            lines += aligned(keys, [[_fmt(r[k]) for k in keys] for r in rows])
        lines.append(f"total: {self.total_cycles} cycles, {self.stall_cycles} stall cycles, "
                     f"PE utilization {100 * self.utilization:.1f}%, DRAM bytes "
                     + ", ".join(f"{k}={v}" for k, v in sorted(self.dram_bytes.items())))
        on_array = ", ".join(k.shape for k in self.kernels)
        lines.append(f"on the array: {len(self.kernels)} matmul(s) [{on_array}]")
        host = ", ".join(f"{name} x{n}" for name, n in sorted(self.host_ops.items()))
        lines.append(f"on the host: {host or 'nothing'}")
        kinds = {kind: sum(w.cycles for w in self.host_work if w.kind == kind)
                 for kind in ("compute", "move")}
        lines.append(f"time: array {self.array_cycles} cycles, host {self.host_cycles} "
                     f"cycles ({kinds['compute']} compute, {kinds['move']} moving data; "
                     f"{hw.host_ops_per_cycle} ops/cycle, {hw.host_bytes_per_cycle} "
                     f"B/cycle, {hw.host_op_cycles} per op)")
        e = self.energy
        lines.append(f"energy: {e.total / 1e6:.4g} uJ (MAC {e.mac / 1e6:.3g}, spad "
                     f"{e.spad / 1e6:.3g}, acc {e.acc / 1e6:.3g}, DRAM {e.dram / 1e6:.3g}, host "
                     f"{e.host / 1e6:.3g}); area {self.area_mm2:.3g} mm^2 (45 nm, see "
                     f"tessera.targets.npu_sim.energy)")
        return "\n".join(lines)

    def trace(self) -> dict:
        """Chrome trace-event JSON: one process per unit, one track per engine, and one
        process for the host; kernels and host ops one after another in program order.
        Times are cycles (shown as microseconds by the viewers)."""
        events, offset = [], 0
        units = max((k.program.units for k in self.kernels), default=1)
        host_ops = iter(self.host_work)
        pending = next(host_ops, None)

        def host_until(done: int):
            nonlocal offset, pending
            while pending is not None and pending.after_kernels <= done:
                events.append({"name": pending.name, "cat": "host", "ph": "X", "ts": offset,
                               "dur": pending.cycles, "pid": units, "tid": pending.kind,
                               "args": {"kind": pending.kind, "work": pending.work}})
                offset += pending.cycles
                pending = next(host_ops, None)

        for index, k in enumerate(self.kernels):
            host_until(index)
            for e in k.timing.events:
                events.append({"name": e.name, "cat": k.name, "ph": "X", "ts": offset + e.start,
                               "dur": max(e.end - e.start, 0), "pid": e.unit, "tid": e.engine,
                               "args": {"kernel": k.name}})
            offset += k.cycles + 1
        host_until(len(self.kernels))
        meta = [{"name": "process_name", "ph": "M", "pid": u, "args": {"name": f"unit {u}"}}
                for u in range(units)]
        meta.append({"name": "process_name", "ph": "M", "pid": units,
                     "args": {"name": "host"}})
        return {"traceEvents": meta + events, "displayTimeUnit": "ns",
                "otherData": {"time unit": "cycle", "hw": self.hw.name,
                              "array cycles": self.array_cycles,
                              "host cycles": self.host_cycles}}

    def plot(self, path: str, bins: int = 200) -> None:
        """PNG of array utilization over the kernels' time (busy fraction per time bin, per
        unit; host time left out)."""
        import numpy as np

        from tessera.files import pyplot, save_png

        plt = pyplot(path)

        total = max(self.array_cycles + len(self.kernels), 1)
        edges = np.linspace(0, total, bins + 1)
        fig, ax = plt.subplots(figsize=(10, 3.5))
        units = max((k.program.units for k in self.kernels), default=1)
        for unit in range(units):
            busy = np.zeros(bins)
            offset = 0
            for k in self.kernels:
                for e in k.timing.events:
                    if e.engine == "array" and e.unit == unit and e.name == "compute":
                        s, t = offset + e.start, offset + e.end
                        busy += np.clip(np.minimum(t, edges[1:]) - np.maximum(s, edges[:-1]), 0, None)
                offset += k.cycles + 1
            ax.plot((edges[:-1] + edges[1:]) / 2, 100 * busy / np.diff(edges), label=f"unit {unit}")
        ax.set_xlabel("cycle")
        ax.set_ylabel("array computing (%)")
        ax.set_ylim(0, 105)
        ax.set_title(f"npu-sim {self.hw.name}: {self.array_cycles} array cycles, "
                     f"PE utilization {100 * self.utilization:.1f}%")
        ax.legend(loc="lower right")
        save_png(fig, path)


DRAM_ROLES = ("lhs", "rhs", "acc", "bias", "out")  # what a kernel's DRAM traffic carries


def _mapping_text(k: KernelReport) -> str:
    """`MxNxK[ xB] dataflow: the mapping` of one kernel."""
    m = k.program.mapping
    return f"{k.shape} {k.program.dataflow}" + (f": {m.text()}" if m is not None else "")


def _bytes(n: int) -> str:
    return "unbounded" if n >= UNBOUNDED else f"{n} B"


def _fmt(x) -> str:
    return f"{x:.1f}" if isinstance(x, float) else str(x)
