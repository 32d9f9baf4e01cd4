"""Runs one GEMM through ZigZag's mapping search; run by benchmarks/zigzag_gemm.py inside
benchmarks/.zigzag-venv (zigzag-dse 3.9.1), not by tessera's own environment.

    python zigzag_driver.py SPEC.json     # prints one JSON line with the result

SPEC.json (written by zigzag_gemm.py): {"m", "n", "k", "dtype", "objective", "lpf",
"workdir", "dim_names" (e.g. D0 -> M), "accelerator": {...}, "mapping": [...],
"workload": [...]} — the three ZigZag
inputs as data; this script writes them as YAML files into workdir and calls ZigZag's
standard API, `zigzag.api.get_hardware_performance_zigzag`, with its default search (the
LOMA loop-order engine over the user-given spatial mapping, uneven temporal mappings).
"""

import json
import logging
import sys
import time
from pathlib import Path

import yaml


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    workdir = Path(spec["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in ("accelerator", "mapping", "workload"):
        paths[name] = workdir / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump(spec[name], sort_keys=False))

    # ZigZag's API calls logging.basicConfig(INFO); configuring first keeps it quiet.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    import zigzag.api
    from zigzag.datatypes import Constants
    from zigzag.hardware.architecture.memory_port import DataDirection
    from zigzag.mapping.data_movement import DataMoveAttr
    from zigzag.mapping.utils import get_temporal_loops
    from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage

    # Count the cost-model evaluations (temporal mappings tried); behaviour unchanged.
    evaluated = [0]
    original_run = CostModelStage.run

    def counting_run(self):
        evaluated[0] += 1
        return original_run(self)

    CostModelStage.run = counting_run

    kwargs = {}
    if spec.get("lpf") is not None:
        kwargs["lpf_limit"] = spec["lpf"]
    start = time.perf_counter()
    energy, latency, cmes = zigzag.api.get_hardware_performance_zigzag(
        workload=str(paths["workload"]),
        accelerator=str(paths["accelerator"]),
        mapping=str(paths["mapping"]),
        opt=spec["objective"],
        dump_folder=str(workdir / "out"),
        loma_show_progress_bar=False,
        **kwargs,
    )
    wall = time.perf_counter() - start

    # cmes: [(CumulativeCME over layers, [(best CME of layer 0, extra), ...])]; one layer here.
    cme = cmes[0][1][0][0]
    links = cme.layer.memory_operand_links
    names = {Constants.LAYER_OP_I: "A", Constants.LAYER_OP_W: "B", Constants.OUTPUT_LAYER_OP: "C"}
    directions = {"rd_to_low": DataDirection.RD_OUT_TO_LOW,
                  "wr_from_low": DataDirection.WR_IN_BY_LOW,
                  "rd_to_high": DataDirection.RD_OUT_TO_HIGH,
                  "wr_from_high": DataDirection.WR_IN_BY_HIGH}
    levels = {}       # operand -> memory names, innermost first
    dram = {}         # operand -> direction -> {"accesses", "bytes", "exact_bytes"}
    for layer_op, short in names.items():
        mem_op = links.layer_to_mem_op(layer_op)
        mem_levels = cme.accelerator.memory_hierarchy.get_memory_levels(mem_op)
        levels[short] = [lvl.memory_instance.name for lvl in mem_levels]
        top = len(mem_levels) - 1
        top_level = mem_levels[top]
        accesses = cme.memory_word_access[layer_op][top]
        move = cme.mapping.unit_mem_data_movement[layer_op][top]
        amount = move.get_attribute(DataMoveAttr.DATA_TRANS_AMOUNT_PER_PERIOD)
        precision = move.get_attribute(DataMoveAttr.DATA_PRECISION)
        periods = move.get_attribute(DataMoveAttr.DATA_TRANS_PERIOD_COUNT)
        units = cme.mapping.spatial_mapping.unit_count[layer_op][top + 1]
        dram[short] = {}
        for label, direction in directions.items():
            width = top_level.get_max_bandwidth(mem_op, direction) or 0  # bits per access
            count = accesses.get(direction)
            exact_bits = (amount.get(direction) * precision.get(direction)
                          * periods.get(direction) * units)
            dram[short][label] = {"accesses": count, "access_bits": width,
                                  "bytes": count * width // 8, "exact_bytes": exact_bits // 8}

    # The mapping: per operand, the temporal loops held at each memory level (innermost
    # level first, each level's loops outermost first), and the whole loop nest.
    dim_names = spec.get("dim_names", {})

    def loop(dim, size):
        return f"{dim_names.get(dim.name, dim.name)}{int(size)}"

    stationary = cme.temporal_mapping.mapping_dic_stationary
    per_operand = {}
    for layer_op, short in names.items():
        per_operand[short] = [
            {"memory": levels[short][i],
             "loops": [loop(dim, size) for dim, size in reversed(loops)]}
            for i, loops in enumerate(stationary[layer_op])]
    nest = [{"loop": loop(dim, size), "memories": dict(zip(
        (names[op] for op in links.layer_operands), mems))}
        for dim, (_, size), mems in reversed(get_temporal_loops(cme))]
    spatial = {str(oa_dim): {dim_names.get(dim.name, dim.name): unroll for dim, unroll in m.items()}
               for oa_dim, m in cme.layer.spatial_mapping.items()}

    result = {
        "latency_cycles": float(cme.latency_total2),
        "latency_parts": {
            "ideal_cycle": float(cme.ideal_cycle),
            "ideal_temporal_cycle": float(cme.ideal_temporal_cycle),
            "stall_slack": float(cme.stall_slack_comb),
            "onloading": float(cme.data_onloading_cycle),
            "offloading": float(cme.data_offloading_cycle),
            "systolic_drain": float(cme.systolic_drain_cycle),
        },
        "energy_pj": float(cme.energy_total),
        "api_latency": float(latency),
        "api_energy": float(energy),
        "mac_utilization": float(cme.mac_utilization2),
        "dram": dram,
        "memory_levels": levels,
        "temporal_mapping": per_operand,
        "loop_nest": nest,
        "spatial_mapping": spatial,
        "evaluated_mappings": evaluated[0],
        "search_s": wall,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
