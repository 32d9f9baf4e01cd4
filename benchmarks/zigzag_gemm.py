"""ZigZag's mapping search on single GEMMs, on a gemmini-like 16x16 description (a peer baseline).

ZigZag (zigzag-dse 3.9.1 on PyPI, KU Leuven) searches loop orders of a layer on a memory
hierarchy with an analytic cost model. This script runs it in its own virtual environment
(created on first use under benchmarks/.zigzag-venv: zigzag-dse==3.9.1 and six, which
zigzag imports without declaring it; 70-80 s to create here), one child process per search
(benchmarks/zigzag_driver.py), and reports for the best mapping: ZigZag's predicted latency
(cycles), its DRAM traffic per operand, the search wall time and the mapping.

    .venv/bin/python benchmarks/zigzag_gemm.py [--gemms 0 2 512,512,512] [--dtypes f32 int8]
        [--objective latency|energy] [--lpf 6 7] [--timeout 600] [--runs 1] [--json out.json]

(any Python 3.11+ runs it: it imports nothing of tessera.)

Search: ZigZag's standard API (`zigzag.api.get_hardware_performance_zigzag`) with its
defaults: the LOMA engine (every ordering of the loop prime factors, each allocated bottom
up to the memories), uneven temporal mappings, the loop-prime-factor limit `lpf_limit=6`
(`--lpf` changes it; LOMA merges the smallest factors of a loop until at most that many
are left, so fewer orderings are tried; a larger limit is not a superset of a smaller
one's space, the factors are merged differently, so it can find a worse mapping), the
given spatial mapping. The search time is the API call (parsing, search, saving its
results to a temporary folder), without the child's start-up and imports (about 3-5 s
more); a search that passes --timeout is killed and has no result (ZigZag keeps no
best-so-far). "Best" is what the API picks by default, the lowest latency
(latency_total2: temporal cycles + stalls + on- and off-loading + systolic drain), ties
broken by energy; `--objective energy` picks the lowest energy instead (ties by latency).
The energies are only for that choice.

GEMM: ZigZag's standard GEMM layer (as its inputs/workload/gemm_layer.yaml):
`O[d0][d1] += I[d0][d2] * W[d2][d1]`, D0 = M, D1 = N, D2 = K; I is A (M x K), W is B (K x N).
f32: every operand 32 bits; int8: I and W 8 bits, O (partial and final) 32 bits.

The hardware description (built in `accelerator()`), gemmini-like, as close as ZigZag's
format allows:
- a 16x16 array of multipliers (D1 = rows, D2 = columns, one MAC per PE per cycle), marked
  systolic along both dimensions (ZigZag then adds a drain of 15 + 15 cycles once);
- weight-stationary, as tessera's gemmini-16x16 preset: the spatial mapping is fixed to
  K over the rows (D1) and N over the columns (D2) (`mapping()`); the search is over the
  temporal loop orders and their allocation to the memories;
- `pe_weight`: per PE (served by no array dimension) a weight register of two words
  with force_double_buffering, so it holds one weight of B while the next is preloaded —
  Gemmini's two weight registers per PE; one word per cycle in and out per PE;
- `accumulator`: 64 KiB for O (partial sums at 32 bits), one read port and one write port
  of 16 x 32 bits per cycle (a row of the array's outputs per cycle; accumulate is read +
  write); it also takes the partial sums back from DRAM (fh) and sends results (th);
- `scratchpad`: 256 KiB shared by A and B (ZigZag adds both operands' tiles against the
  one capacity), two read ports of 16 words per cycle (A rows into the array, B rows for
  the preload) and one write port of 128 bits per cycle (the DMA's width, 16 bytes);
- `dram`: one read/write port of 128 bits per cycle for everything (loads of A and B,
  stores and any reloads of C), bandwidth_min = bandwidth_max = 128, so ZigZag counts
  DRAM accesses in 16-byte beats.
What is approximated, and why:
- A does not move through per-PE registers from left to right: ZigZag has no systolic
  forwarding of operands, so the scratchpad is modelled as broadcasting an A row to all
  columns (served by both array dimensions); the partial sums flowing down a column are
  ZigZag's spatial reduction over D1 into the accumulator. Fill and drain of the array per
  tile are not modelled (only one drain of 30 cycles for the whole GEMM), nor the R cycles
  of each weight preload beyond what the 16-words-per-cycle read port of B costs.
- The scratchpad's banks are not modelled: any mix of reads of A and B and DMA writes can
  go on in the same cycle (separate ports), and A and B share the capacity freely (no
  fixed split). ZigZag keeps operands in a level only as whole tiles of the loops below
  it, as Gemmini's software tiling does.
- The DMA latency (64 cycles in tessera's preset) and DRAM row effects are not modelled:
  a DRAM transfer costs bytes / 16 cycles on the one port; ZigZag overlaps it with compute
  when the buffer has room for double buffering (at most half full) and otherwise charges
  stalls; the first loads and last stores are on- and off-loading cycles.
- No bias (D) operand, no requantization: outputs leave the accumulator at 32 bits
  (f32 or int32).
- Energies per access (pJ per bit times the port width) are rough 45 nm figures
  (register 0.02, accumulator 0.15 / 0.18, scratchpad 0.2 / 0.24, DRAM 20 pJ/bit; MAC
  4.6 pJ f32, 0.3 pJ int8), used only to break latency ties or for --objective energy.

DRAM traffic: for each operand, ZigZag's memory access counts at the DRAM level
(`cme.memory_word_access`, in accesses of the 128-bit port) times 16 bytes: reads of A,
reads of B, writes of C, and reads of C (partial sums reloaded when the K loop is split
above the accumulator). The JSON also has ZigZag's element counts (data moved x precision,
`exact_bytes`), which differ only by rounding to 16-byte beats. The minimum is
M*K*e_in + K*N*e_in + M*N*e_out (every operand moved once).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".zigzag-venv"
DRIVER = HERE / "zigzag_driver.py"
# six: imported by zigzag (parser/upgraded_validator.py) but not among its declared dependencies
REQUIREMENTS = ["zigzag-dse==3.9.1", "six==1.17.0"]

GEMMS = [(128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
         (64, 4096, 1024), (1024, 64, 4096), (8, 512, 512), (196, 64, 576), (3136, 64, 64)]
DTYPES = {"f32": (32, 32), "int8": (8, 32)}  # bits of the inputs, of the outputs

ROWS = COLS = 16
SPAD_BYTES = 256 * 1024
ACC_BYTES = 64 * 1024
DRAM_BITS_PER_CYCLE = 16 * 8
PJ_PER_BIT = {"reg": (0.02, 0.02), "acc": (0.15, 0.18), "spad": (0.2, 0.24), "dram": (20.0, 20.0)}
MAC_PJ = {"f32": 4.6, "int8": 0.3}


def zigzag_python() -> str:
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} with {' '.join(REQUIREMENTS)} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
        print(f"created in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return str(python)


def port(name, kind, bits, allocation, min_bits=None):
    return {"name": name, "type": kind, "bandwidth_min": min_bits or bits,
            "bandwidth_max": bits, "allocation": allocation}


def memory(size_bits, costs, width_bits, operands, ports, served, double_buffer=False):
    mem = {"size": size_bits, "r_cost": costs[0] * width_bits, "w_cost": costs[1] * width_bits,
           "area": 0.0, "latency": 1, "operands": operands, "ports": ports,
           "served_dimensions": served}
    if double_buffer:
        mem["force_double_buffering"] = True
    return mem


def accelerator(dtype: str) -> dict:
    """The gemmini-like 16x16 description in ZigZag's accelerator format (sizes and
    bandwidths in bits; memories listed from the array outwards)."""
    e_in, e_out = DTYPES[dtype]
    row_in, row_out = COLS * e_in, COLS * e_out  # one array row of words per cycle
    all_dirs = [f"{op}, {d}" for op in ("I1", "I2") for d in ("fh", "tl")] + \
               [f"O, {d}" for d in ("fh", "tl", "fl", "th")]
    return {
        "name": f"gemmini_like_{ROWS}x{COLS}_{dtype}",
        "memories": {
            "pe_weight": memory(
                2 * e_in, PJ_PER_BIT["reg"], e_in, ["I2"],
                [port("r_port_1", "read", e_in, ["I2, tl"]),
                 port("w_port_1", "write", e_in, ["I2, fh"])],
                [], double_buffer=True),
            "accumulator": memory(
                ACC_BYTES * 8, PJ_PER_BIT["acc"], row_out, ["O"],
                [port("r_port_1", "read", row_out, ["O, tl", "O, th"], e_out),
                 port("w_port_1", "write", row_out, ["O, fl", "O, fh"], e_out)],
                ["D1", "D2"]),
            "scratchpad": memory(
                SPAD_BYTES * 8, PJ_PER_BIT["spad"], row_in, ["I1", "I2"],
                [port("r_port_1", "read", row_in, ["I1, tl"], e_in),
                 port("r_port_2", "read", row_in, ["I2, tl"], e_in),
                 port("w_port_1", "write", DRAM_BITS_PER_CYCLE, ["I1, fh", "I2, fh"], e_in)],
                ["D1", "D2"]),
            "dram": memory(
                1 << 40, PJ_PER_BIT["dram"], DRAM_BITS_PER_CYCLE, ["I1", "I2", "O"],
                [port("rw_port_1", "read_write", DRAM_BITS_PER_CYCLE, all_dirs)],
                ["D1", "D2"]),
        },
        "operational_array": {
            "unit_energy": MAC_PJ[dtype], "unit_area": 1.0,
            "dimensions": ["D1", "D2"], "sizes": [ROWS, COLS],
            "systolic_dimensions": ["D1", "D2"],
        },
    }


def mapping() -> list:
    """Weight-stationary: K (D2) over the rows, N (D1) over the columns; I -> I1, W -> I2."""
    return [{"name": "default",
             "spatial_mapping": {"D1": [f"D2, {ROWS}"], "D2": [f"D1, {COLS}"]},
             "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]


def workload(m: int, n: int, k: int, dtype: str) -> list:
    e_in, e_out = DTYPES[dtype]
    return [{"id": 0, "name": f"gemm_{m}_{n}_{k}", "operator_type": "Gemm",
             "equation": "O[d0][d1]+=I[d0][d2]*W[d2][d1]", "dimension_relations": [],
             "loop_dims": ["D0", "D1", "D2"], "loop_sizes": [m, n, k],
             "operand_precision": {"W": e_in, "I": e_in, "O": e_out, "O_final": e_out},
             "operand_source": {"I": 0, "W": 0}}]


def parse_gemms(items: list[str]) -> list[tuple[int, int, int]]:
    """GEMMs by index into GEMMS or as M,N,K."""
    gemms = []
    for item in items:
        if "," in item:
            m, n, k = (int(x) for x in item.split(","))
            gemms.append((m, n, k))
        else:
            gemms.append(GEMMS[int(item)])
    return gemms


def minimum_bytes(m: int, n: int, k: int, dtype: str) -> int:
    e_in, e_out = (bits // 8 for bits in DTYPES[dtype])
    return m * k * e_in + k * n * e_in + m * n * e_out


def run_zigzag(python: str, m: int, n: int, k: int, dtype: str, objective: str, lpf,
               timeout: float, tmp: Path) -> dict:
    """One search in a child process: the driver's result, or {"status": error/timeout}."""
    workdir = tmp / f"{m}_{n}_{k}_{dtype}_lpf{lpf}"
    spec = {"m": m, "n": n, "k": k, "dtype": dtype, "objective": objective, "lpf": lpf,
            "workdir": str(workdir), "dim_names": {"D0": "M", "D1": "N", "D2": "K"},
            "accelerator": accelerator(dtype), "mapping": mapping(),
            "workload": workload(m, n, k, dtype)}
    spec_path = tmp / f"{workdir.name}.json"
    spec_path.write_text(json.dumps(spec))
    start = time.perf_counter()
    try:
        done = subprocess.run([python, str(DRIVER), str(spec_path)], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "process_s": time.perf_counter() - start}
    process_s = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"status": "error", "error": tail, "process_s": process_s}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(status="ok", process_s=process_s)
    return result


def summarize(m, n, k, dtype, lpf, runs: list[dict]) -> dict:
    """One row: the first run's numbers, the median search time over the runs."""
    row = {"m": m, "n": n, "k": k, "dtype": dtype, "lpf": lpf,
           "minimum_dram_bytes": minimum_bytes(m, n, k, dtype)}
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        row.update(status=runs[0]["status"], error=runs[0].get("error"),
                   process_s=[r["process_s"] for r in runs])
        return row
    first = ok[0]
    dram = first["dram"]
    moves = {"A_read": ("A", "rd_to_low"), "B_read": ("B", "rd_to_low"),
             "C_write": ("C", "wr_from_low"), "C_read": ("C", "rd_to_low")}
    traffic = {name: dram[op][d]["bytes"] for name, (op, d) in moves.items()}
    exact = {name: dram[op][d]["exact_bytes"] for name, (op, d) in moves.items()}
    total = sum(traffic.values())
    same = all(r["latency_cycles"] == first["latency_cycles"] and r["dram"] == dram for r in ok)
    row.update(
        status="ok" if len(ok) == len(runs) else f"ok in {len(ok)} of {len(runs)} runs",
        latency_cycles=first["latency_cycles"], latency_parts=first["latency_parts"],
        ideal_cycles=m * n * k / (ROWS * COLS), mac_utilization=first["mac_utilization"],
        energy_pj=first["energy_pj"], dram_bytes=traffic, dram_exact_bytes=exact,
        dram_total_bytes=total, dram_x_minimum=total / row["minimum_dram_bytes"],
        search_s=statistics.median(r["search_s"] for r in ok),
        search_s_runs=[r["search_s"] for r in ok],
        process_s_runs=[r["process_s"] for r in ok],
        same_result_every_run=same, evaluated_mappings=first["evaluated_mappings"],
        loop_nest=" ".join(x["loop"] for x in first["loop_nest"]),
        temporal_mapping=first["temporal_mapping"], spatial_mapping=first["spatial_mapping"],
        memory_levels=first["memory_levels"])
    return row


def mapping_text(row: dict) -> str:
    """Per operand, outermost memory first: memory[loops it holds, outer to inner]."""
    parts = []
    for operand in ("A", "B", "C"):
        levels = reversed(row["temporal_mapping"][operand])
        parts.append(f"{operand}: " + " ".join(
            f"{lv['memory']}[{' '.join(lv['loops'])}]" for lv in levels))
    return "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemms", nargs="+", default=[str(i) for i in range(len(GEMMS))],
                        help="indices into the list (0-8) or M,N,K (default: all)")
    parser.add_argument("--dtypes", nargs="+", default=list(DTYPES), choices=list(DTYPES))
    parser.add_argument("--objective", default="latency", choices=("latency", "energy"),
                        help="what picks the best mapping (ZigZag's API default: latency)")
    parser.add_argument("--lpf", nargs="+", type=int, default=[None],
                        help="LOMA loop-prime-factor limit(s), one search each "
                             "(default: the API's default, 6)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds per search (one child process), default 600")
    parser.add_argument("--runs", type=int, default=1, help="searches per point, for timing")
    parser.add_argument("--json", type=Path, help="write every number to this file")
    args = parser.parse_args()
    gemms = parse_gemms(args.gemms)
    python = zigzag_python()
    version = subprocess.run([python, "-c", "import importlib.metadata as m; "
                              "print(m.version('zigzag-dse'))"],
                             capture_output=True, text=True, check=True).stdout.strip()

    print(f"ZigZag {version}, gemmini-like {ROWS}x{COLS} ws, spad {SPAD_BYTES // 1024} KiB, "
          f"acc {ACC_BYTES // 1024} KiB, DRAM {DRAM_BITS_PER_CYCLE // 8} B/cycle; best by "
          f"{args.objective}; {args.runs} run(s) per point, median search time")
    header = (f"{'M,N,K':>14} {'dtype':>5} {'lpf':>3} {'latency':>9} {'ideal':>8} "
              f"{'A rd B':>9} {'B rd B':>9} {'C wr B':>9} {'C rd B':>9} {'x min':>6} "
              f"{'search s':>8} {'evals':>5}  loops outer->inner")
    print(header, flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="zigzag-gemm-") as tmp:
        for m, n, k in gemms:
            for dtype in args.dtypes:
                for lpf in args.lpf:
                    runs = [run_zigzag(python, m, n, k, dtype, args.objective, lpf,
                                       args.timeout, Path(tmp)) for _ in range(args.runs)]
                    row = summarize(m, n, k, dtype, lpf, runs)
                    rows.append(row)
                    shape = f"{m},{n},{k}"
                    lpf_text = "6" if lpf is None else str(lpf)
                    if not row["status"].startswith("ok"):
                        print(f"{shape:>14} {dtype:>5} {lpf_text:>3} {row['status']}: "
                              f"{row.get('error') or ''}", flush=True)
                        continue
                    b = row["dram_bytes"]
                    print(f"{shape:>14} {dtype:>5} {lpf_text:>3} {row['latency_cycles']:9.0f} "
                          f"{row['ideal_cycles']:8.0f} {b['A_read']:9d} {b['B_read']:9d} "
                          f"{b['C_write']:9d} {b['C_read']:9d} {row['dram_x_minimum']:6.2f} "
                          f"{row['search_s']:8.1f} {row['evaluated_mappings']:5d}  "
                          f"{row['loop_nest']}", flush=True)
    print("\nmappings (per operand, outermost memory first, loops outer to inner; "
          "spatial: K16 over rows, N16 over columns):")
    for row in rows:
        if row["status"].startswith("ok"):
            lpf_text = "6" if row["lpf"] is None else str(row["lpf"])
            print(f"  {row['m']},{row['n']},{row['k']} {row['dtype']} lpf {lpf_text}: "
                  f"{mapping_text(row)}")
    if args.json:
        config = {"zigzag_version": version, "requirements": REQUIREMENTS,
                  "objective": args.objective, "runs": args.runs, "timeout_s": args.timeout,
                  "accelerators": {d: accelerator(d) for d in args.dtypes},
                  "mapping": mapping()}
        args.json.write_text(json.dumps({"config": config, "results": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
