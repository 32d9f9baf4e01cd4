"""Run SCALE-Sim 3.0.0 on GEMM layers and print one JSON object per layer.

Runs inside its own virtual environment (SCALE-Sim needs numpy < 2); started by
npu_sim_vs_scalesim.py, not by hand. Memory is ideal: SCALE-Sim's bandwidth-estimate
mode (InterfaceBandwidth CALC) never stalls, so its "Total Cycles" is pure compute.
Usage: python scalesim_layers.py ROWS COLS DATAFLOW RUNS M,N,K [M,N,K ...]
"""

import json
import math
import statistics
import sys
import time

from scalesim.layout_utils import layouts
from scalesim.scale_config import scale_config
from scalesim.single_layer_sim import single_layer_sim
from scalesim.topology_utils import topologies


def simulate(rows, cols, dataflow, m, n, k):
    config = scale_config()
    config.run_name = "tessera_compare"
    config.array_rows, config.array_cols = rows, cols
    # SRAM sizes only matter for prefetch bookkeeping in CALC mode; make them ample.
    config.ifmap_sz_kb = max(64, math.ceil(m * k / 1024) + 1)
    config.filter_sz_kb = max(64, math.ceil(k * n / 1024) + 1)
    config.ofmap_sz_kb = max(64, math.ceil(2 * m * n * math.ceil(k / rows) / 1024) + 1)
    config.df = dataflow
    config.use_user_bandwidth = False
    config.force_valid()
    topology = topologies()
    # A GEMM is SCALE-Sim's conv layer with an MxK ifmap and N filters of 1xK.
    topology.load_layer_params_from_list("gemm", ["gemm", m, k, 1, k, 1, n, 1, 1, 1, 1])
    sim = single_layer_sim()
    sim.set_params(layer_id=0, config_obj=config, topology_obj=topology, layout_obj=layouts(),
                   verbose=False)
    start = time.perf_counter()
    sim.run()
    items = sim.get_compute_report_items()
    return time.perf_counter() - start, int(items[1]), int(items[2])


def main():
    rows, cols, dataflow, runs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    for layer in sys.argv[5:]:
        m, n, k = (int(x) for x in layer.split(","))
        walls, cycles, stalls = [], None, None
        for _ in range(runs):
            wall, cycles, stalls = simulate(rows, cols, dataflow, m, n, k)
            walls.append(wall)
        print(json.dumps({"m": m, "n": n, "k": k, "cycles": cycles, "stalls": stalls,
                          "wall_s": statistics.median(walls), "runs": runs}), flush=True)


if __name__ == "__main__":
    main()
