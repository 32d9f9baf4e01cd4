"""`tessera-sim`: run a model or an .mlir file on the simulated NPU and report.

    tessera-sim examples/models.py:mlp --hw gemmini-16x16 --trace mlp.json --plot mlp.png
    tessera-sim matmul.mlir --hw tpu-128x128 --ideal --dataflow os

Prints the output check (against PyTorch eager for a model, against the iree-cpu
reference for an .mlir file, on seeded random inputs), then the report table: cycles,
stalls, PE utilization, mapping efficiency, SRAM and DRAM traffic per kernel, and which
ops ran on the array and which on the host. `--trace` writes a Chrome trace-event JSON
(open it in Perfetto), `--plot` a PNG of array utilization over time.
"""

from __future__ import annotations

import argparse
import dataclasses

from tessera.errors import TesseraError
from tessera.tools.common import check_outputs, tool_main


def _parser() -> argparse.ArgumentParser:
    from tessera.hardware import NPU_PRESETS

    p = argparse.ArgumentParser(prog="tessera-sim", description=__doc__.splitlines()[0])
    p.add_argument("source", help="FILE.py:NAME (a model) or FILE.mlir (linalg on tensors)")
    p.add_argument("--hw", default="gemmini-16x16", help=f"preset: {', '.join(NPU_PRESETS)}")
    p.add_argument("--ideal", action="store_true",
                   help="ideal memory: unbounded capacity and bandwidth, no DMA latency")
    for name, kind, what in (("rows", int, "array rows"), ("cols", int, "array columns"),
                             ("dataflow", str, "ws, os or is"),
                             ("spad-bytes", int, "scratchpad bytes per unit"),
                             ("acc-bytes", int, "accumulator bytes per unit"),
                             ("dram-bytes-per-cycle", int, "shared DRAM bandwidth (0 = unbounded)"),
                             ("dma-latency", int, "cycles before a transfer's data arrive")):
        p.add_argument(f"--{name}", type=kind, default=None, help=f"override the preset's {what}")
    p.add_argument("--grid", default=None, help="units as ROWSxCOLS, e.g. 2x2")
    p.add_argument("--no-double-buffer", action="store_true", help="one buffer per operand")
    p.add_argument("--trace", default=None, help="write a Chrome trace-event JSON here")
    p.add_argument("--plot", default=None, help="write a utilization plot (PNG) here")
    return p


def hardware(args):
    """The NpuConfig the command line describes."""
    from tessera.hardware import npu_preset

    config = npu_preset(args.hw)
    changes = {f: getattr(args, f) for f in ("rows", "cols", "dataflow", "spad_bytes",
                                             "acc_bytes", "dram_bytes_per_cycle", "dma_latency")
               if getattr(args, f) is not None}
    if args.grid is not None:
        rows, _, cols = args.grid.partition("x")
        if not (rows.isdigit() and cols.isdigit()):
            raise TesseraError(f"--grid expects ROWSxCOLS, e.g. 2x2, got '{args.grid}'")
        changes.update(grid_rows=int(rows), grid_cols=int(cols))
    if args.no_double_buffer:
        changes["double_buffer"] = False
    if changes:
        config = dataclasses.replace(config, name=f"{config.name}+custom", **changes)
    return config.ideal() if args.ideal else config


@tool_main
def main(argv: list[str]) -> int:
    import tessera
    from tessera.tools.tessera_compile import load_source

    args = _parser().parse_args(argv)
    config = hardware(args)
    model, inputs = load_source(args.source)
    name = args.source.partition(":")[0]
    program = tessera.compile(model, inputs, target="npu-sim", hw=config, source_name=name)
    inputs, error, reference = check_outputs(program, model, inputs, name)
    t = program.timings
    print(f"outputs: max abs error vs {reference} {error:.2e}; compile {t['compile_s']:.2f} s, "
          f"simulated run {t['run_s'] * 1e3:.1f} ms")
    print(program.report.table())
    if args.trace:
        program.report.write_trace(args.trace)
        print(f"trace: {args.trace} (open in https://ui.perfetto.dev; 1 us = 1 cycle)")
    if args.plot:
        try:
            program.report.plot(args.plot)
        except ImportError:
            raise TesseraError("--plot needs matplotlib: pip install 'tessera[plot]'") from None
        print(f"plot: {args.plot}")
    return 0
