"""npu-sim mapping quality: the heuristic's fixed nests (before) against the searched
mappings (after) on single GEMMs, per preset, with the roofline and ZigZag side by side.

For each GEMM x element type x preset, both mappings are compiled to kernels
(`tessera-systolic-tile`, `tessera-tile-distribute` on a grid) and simulated; reported:
- cycles (simulated) and the roofline bound: max(ideal-memory cycles, minimum DRAM bytes /
  bandwidth), where the ideal-memory cycles are the array's with unbounded memories and
  bandwidth (the best of its dataflows; SCALE-Sim's model) and the minimum reads A and B
  once and writes C once;
- efficiency = roofline / cycles, and DRAM traffic as a multiple of the minimum;
- the search's wall time (median of --runs searches) and its choice;
- on a grid preset, the cycles of one of its units running the same GEMM alone (the
  search on that unit), which the grid must not be slower than;
- with --zigzag (gemmini-16x16 only): ZigZag 3.9.1's best mapping on a gemmini-like
  description (benchmarks/zigzag_gemm.py, in its own venv created on first use): its
  DRAM traffic and search time, next to tessera's.
Outputs are checked against numpy (int8 exactly, f32 within 1e-3 relative) unless
--no-check. With --models, the demo models of examples/models.py are compiled for npu-sim
on each preset with `mapper=heuristic` and `mapper=search`: total kernel cycles, max
error against PyTorch.

    .venv/bin/python benchmarks/npu_mapping.py [--presets gemmini-16x16 ...]
        [--dtypes f32 int8] [--gemms 0 3 512,512,512] [--runs 3] [--zigzag] [--models]
        [--json out]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

from tessera.hardware import NPU_PRESETS, NpuConfig  # noqa: E402
from tessera.passes.systolic_map import heuristic_mapping, roofline, search_mapping  # noqa: E402
from tessera.targets.npu_sim import functional  # noqa: E402
from tessera.targets.npu_sim.cost import build_kernel, predict  # noqa: E402
from tessera.targets.npu_sim.schedule import Gemm  # noqa: E402
from tessera.targets.npu_sim.timing import simulate  # noqa: E402

GEMMS = [(128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
         (64, 4096, 1024), (1024, 64, 4096), (8, 512, 512), (196, 64, 576), (3136, 64, 64)]
DTYPES = {"f32": 4, "int8": 1}


def parse_gemms(items: list[str]) -> list[tuple[int, int, int]]:
    out = []
    for item in items:
        out.append(GEMMS[int(item)] if item.isdigit() else
                   tuple(int(x) for x in item.split(",")))
    return out


def run_kernel(gemm: Gemm, hw: NpuConfig, mapping, dataflow: str, check: bool) -> dict:
    """Simulated cycles and DRAM bytes of the kernel, and (if `check`) its output error."""
    program = build_kernel(gemm, hw, mapping, dataflow)
    timing = simulate(program)
    result = {"cycles": timing.cycles, "dram_bytes": sum(timing.dram_bytes.values())}
    if check:
        rng = np.random.default_rng(0)
        if gemm.in_bytes == 1:
            a = rng.integers(-128, 128, (gemm.m, gemm.k), dtype=np.int8)
            b = rng.integers(-128, 128, (gemm.k, gemm.n), dtype=np.int8)
            want = a.astype(np.int32) @ b.astype(np.int32)
        else:
            a = rng.random((gemm.m, gemm.k), dtype=np.float32)
            b = rng.random((gemm.k, gemm.n), dtype=np.float32)
            want = a @ b
        out = np.zeros_like(want)
        functional.run(program, [a, b, out])
        if gemm.in_bytes == 1:
            result["exact"] = bool(np.array_equal(out, want))
        else:
            result["exact"] = bool(np.allclose(out, want, rtol=1e-3, atol=1e-3))
    return result


def one_unit(hw: NpuConfig) -> NpuConfig:
    """One unit of grid `hw`, alone on the same channel."""
    return dataclasses.replace(hw, grid_rows=1, grid_cols=1)


def measure(preset: str, hw: NpuConfig, dims, dtype: str, runs: int, check: bool) -> dict:
    m, n, k = dims
    gemm = Gemm(m, n, k, in_bytes=DTYPES[dtype], acc_bytes=4, out_bytes=4)
    ideal, memory = roofline(gemm, hw)
    roof = max(ideal, memory)
    row = {"preset": preset, "m": m, "n": n, "k": k, "dtype": dtype, "ideal_cycles": ideal,
           "memory_cycles": memory, "roofline": roof, "minimum_dram_bytes":
           gemm.min_dram_bytes()}
    fixed = heuristic_mapping(gemm, hw.rows, hw.cols, hw.dataflow, hw.spad_bytes,
                              hw.acc_bytes, hw.double_buffer, hw.units)
    before = run_kernel(gemm, hw, fixed, hw.dataflow, check)
    times, choice = [], None
    for _ in range(runs):
        start = time.perf_counter()
        choice = search_mapping(gemm, hw)
        times.append(time.perf_counter() - start)
    after = run_kernel(gemm, hw, choice.mapping, choice.dataflow, check)
    row["before"] = dict(before, mapping=fixed.text(), dataflow=hw.dataflow,
                         predicted=predict(gemm, hw, fixed, hw.dataflow).cycles)
    row["after"] = dict(after, mapping=choice.mapping.text(), dataflow=choice.dataflow,
                        predicted=choice.cycles, candidates=choice.candidates,
                        timed=choice.replayed, search_s=statistics.median(times),
                        search_s_runs=times)
    for key in ("before", "after"):
        row[key]["efficiency"] = roof / row[key]["cycles"]
        row[key]["dram_x_minimum"] = row[key]["dram_bytes"] / gemm.min_dram_bytes()
    if hw.units > 1:
        unit = one_unit(hw)
        alone = search_mapping(gemm, unit)
        row["unit_alone"] = run_kernel(gemm, unit, alone.mapping, alone.dataflow, False)
    return row


def zigzag_rows(gemms, dtypes, timeout: float) -> dict:
    """ZigZag's best mapping per (gemm, dtype) on its gemmini-like description."""
    sys.path.insert(0, str(HERE))
    import zigzag_gemm

    python = zigzag_gemm.zigzag_python()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for (m, n, k) in gemms:
            for dtype in dtypes:
                result = zigzag_gemm.run_zigzag(python, m, n, k, dtype, "latency", None,
                                                timeout, Path(tmp))
                out[(m, n, k, dtype)] = zigzag_gemm.summarize(m, n, k, dtype, None, [result])
                print(f"  zigzag {m},{n},{k} {dtype}: {out[(m, n, k, dtype)].get('status')}",
                      file=sys.stderr, flush=True)
    return out


def model_rows(presets) -> list[dict]:
    """Each demo model on each preset, heuristic and searched mappings: kernel cycles."""
    import tessera

    sys.path.insert(0, str(HERE.parent / "examples"))
    from models import MODELS, example

    rows = []
    print(f"\n{'model':>10} {'preset':>15} {'array: heuristic':>16} {'search':>8} "
          f"{'ratio':>6} {'host':>7} {'total: heuristic':>16} {'search':>8} {'max err':>8}")
    for name in MODELS:
        model, inputs = example(name)
        want = model(*inputs).detach().numpy()
        for preset in presets:
            array, total, error = {}, {}, 0.0
            for mapper in ("heuristic", "search"):
                program = tessera.compile(model, inputs, target="npu-sim",
                                          hw=f"{preset},mapper={mapper}")
                got = program(*inputs)
                error = max(error, float(np.abs(np.asarray(got, np.float64) - want).max()))
                array[mapper] = program.report.array_cycles
                total[mapper] = program.report.total_cycles
                host = program.report.host_cycles
            rows.append({"model": name, "preset": preset, "array_cycles": array,
                         "total_cycles": total, "host_cycles": host, "error": error})
            print(f"{name:>10} {preset:>15} {array['heuristic']:16d} {array['search']:8d} "
                  f"{array['heuristic'] / array['search']:6.2f} {host:7d} "
                  f"{total['heuristic']:16d} {total['search']:8d} {error:8.1e}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=sorted(NPU_PRESETS),
                        choices=sorted(NPU_PRESETS))
    parser.add_argument("--dtypes", nargs="+", default=list(DTYPES), choices=list(DTYPES))
    parser.add_argument("--gemms", nargs="*", default=[str(i) for i in range(len(GEMMS))],
                        help="indices into the issue's list, or M,N,K (none: only --models)")
    parser.add_argument("--runs", type=int, default=3, help="searches per GEMM (timing)")
    parser.add_argument("--zigzag", action="store_true",
                        help="run ZigZag on the gemmini GEMMs too (minutes per GEMM)")
    parser.add_argument("--zigzag-timeout", type=float, default=600.0)
    parser.add_argument("--models", action="store_true",
                        help="also compile the demo models with both mappers")
    parser.add_argument("--no-check", action="store_true", help="skip the output checks")
    parser.add_argument("--json", type=Path, help="write every number to this file")
    args = parser.parse_args()
    try:
        gemms = parse_gemms(args.gemms)
    except (ValueError, IndexError):
        parser.error(f"--gemms takes indices 0-{len(GEMMS) - 1} or M,N,K")
    rows = []
    for preset in args.presets if gemms else ():
        hw = NPU_PRESETS[preset]
        print(f"\n{preset} ({hw.units} unit(s) of {hw.rows}x{hw.cols}, dataflows "
              f"{'+'.join(hw.supported_dataflows)}, spad {hw.spad_bytes} B, acc "
              f"{hw.acc_bytes} B, DRAM {hw.dram_bytes_per_cycle} B/cycle)")
        print(f"{'M,N,K':>15} {'dtype':>5} {'roofline':>9} {'before':>10} {'eff':>5} "
              f"{'xDRAM':>6} {'after':>10} {'eff':>5} {'xDRAM':>6} {'search s':>8} "
              f"{'alone':>10}  chosen")
        for dtype in args.dtypes:
            for dims in gemms:
                row = measure(preset, hw, dims, dtype, args.runs, not args.no_check)
                rows.append(row)
                b, a = row["before"], row["after"]
                alone = row.get("unit_alone", {}).get("cycles", "")
                ok = "" if args.no_check or (a["exact"] and b["exact"]) else "  WRONG OUTPUT"
                print(f"{','.join(map(str, dims)):>15} {dtype:>5} {row['roofline']:9.0f} "
                      f"{b['cycles']:10d} {b['efficiency']:5.2f} {b['dram_x_minimum']:6.1f} "
                      f"{a['cycles']:10d} {a['efficiency']:5.2f} {a['dram_x_minimum']:6.1f} "
                      f"{a['search_s']:8.3f} {alone:>10}  {a['dataflow']} {a['mapping']}{ok}",
                      flush=True)
            mine = [r for r in rows if r["preset"] == preset and r["dtype"] == dtype]
            effs = [r["after"]["efficiency"] for r in mine]
            print(f"  {dtype} median efficiency: before "
                  f"{statistics.median(r['before']['efficiency'] for r in mine):.2f}, after "
                  f"{statistics.median(effs):.2f} (min {min(effs):.2f}); median search "
                  f"{statistics.median(r['after']['search_s'] for r in mine):.3f} s, max "
                  f"{max(r['after']['search_s'] for r in mine):.3f} s")
    if args.zigzag and "gemmini-16x16" in args.presets:
        zig = zigzag_rows(gemms, args.dtypes, args.zigzag_timeout)
        print("\ngemmini-16x16 against ZigZag 3.9.1 (its best-latency mapping on a "
              "gemmini-like description; DRAM bytes as a multiple of the minimum)")
        print(f"{'M,N,K':>15} {'dtype':>5} {'tessera xDRAM':>13} {'ZigZag xDRAM':>12} "
              f"{'tessera s':>9} {'ZigZag s':>9} {'time ratio':>10}")
        for row in rows:
            if row["preset"] != "gemmini-16x16":
                continue
            z = zig[(row["m"], row["n"], row["k"], row["dtype"])]
            row["zigzag"] = z
            if z.get("status") != "ok":
                print(f"{row['m']},{row['n']},{row['k']} {row['dtype']} ZigZag: "
                      f"{z.get('status')} {z.get('error') or ''}")
                continue
            mine = row["after"]
            dims = f"{row['m']},{row['n']},{row['k']}"
            print(f"{dims:>15} {row['dtype']:>5} "
                  f"{mine['dram_x_minimum']:13.2f} {z['dram_x_minimum']:12.2f} "
                  f"{mine['search_s']:9.3f} {z['search_s']:9.1f} "
                  f"{z['search_s'] / mine['search_s']:9.0f}x", flush=True)
    models = model_rows(args.presets) if args.models else []
    if args.json:
        args.json.write_text(json.dumps({"gemms": rows, "models": models}, indent=1,
                                        default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
