"""`tessera-sim`: run a model or an .mlir file on the simulated NPU and report.

    tessera-sim examples/models.py:mlp --hw gemmini-16x16 --trace mlp.json --plot mlp.png
    tessera-sim matmul.mlir --hw tpu-128x128 --ideal --dataflow os

Prints the output check (against PyTorch eager for a model, against the IREE reference
for an .mlir file, on seeded random inputs), then the report table: cycles, stalls, PE
utilization, mapping efficiency, SRAM and DRAM traffic per kernel, and which ops ran on
the array and which on the host. `--trace` writes a Chrome trace-event JSON (open it in
Perfetto), `--plot` a PNG of array utilization over time. Every field of the hardware
description (tessera.hardware.NpuConfig) has a flag of its own.
"""

from __future__ import annotations

import argparse

from tessera import knobs
from tessera.tools.common import (ArgumentParser, add_load_argument, check_outputs, load_plugins,
                                  load_source, tool_main)


def _parser() -> ArgumentParser:
    from tessera.hardware import NPU_PRESETS, NpuConfig

    p = ArgumentParser(prog="tessera-sim", description=__doc__.splitlines()[0])
    p.add_argument("source", help="FILE.py:NAME (a model) or FILE.mlir (linalg on tensors)")
    p.add_argument("--hw", default="gemmini-16x16",
                   help=f"preset ({', '.join(NPU_PRESETS)}), optionally with field=value "
                        f"overrides")
    p.add_argument("--ideal", action="store_true",
                   help="ideal memory: unbounded capacity and bandwidth, no DMA latency")
    # One flag per hardware field, made from its declaration (type, range, help).
    for flag, kind, default, doc in knobs.help_lines(NpuConfig):
        if kind is bool:
            p.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None,
                           help=f"override the preset: {doc}")
        else:
            p.add_argument(f"--{flag}", default=None, metavar="N" if kind is int else "NAME",
                           help=f"override the preset: {doc}")
    p.add_argument("--grid", default=None, help="units as ROWSxCOLS, e.g. 2x2 "
                                                "(= --grid-rows R --grid-cols C)")
    p.add_argument("--trace", default=None, help="write a Chrome trace-event JSON here")
    p.add_argument("--plot", default=None, help="write a utilization plot (PNG) here")
    add_load_argument(p)
    return p


def hardware(args):
    """The NpuConfig the command line describes."""
    from tessera.hardware import NpuConfig, grid_fields, npu_preset

    config = npu_preset(args.hw)
    items = []
    for name in knobs.fields(NpuConfig):
        value = getattr(args, name)
        if value is not None:
            items.append((name, knobs.text(value)))
    if args.grid is not None:
        items += grid_fields(args.grid, "--grid")
    if items:
        import dataclasses

        config = knobs.with_overrides(config, items, "npu")
        config = dataclasses.replace(config, name=f"{config.name}+custom")
    return config.ideal() if args.ideal else config


@tool_main
def main(argv: list[str]) -> int:
    import tessera
    from tessera.files import writable

    args = _parser().parse_args(argv)
    load_plugins(args.load)
    config = hardware(args)
    for path, what in ((args.trace, "trace file"), (args.plot, "plot file")):
        if path is not None:
            writable(path, what)  # checked before the work, so nothing is lost after it
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
        program.report.plot(args.plot)
        print(f"plot: {args.plot}")
    return 0
