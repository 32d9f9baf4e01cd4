"""`tessera sweep`: models x hardware design points on Ray, timing only; a Pareto front.

    tessera sweep examples/models.py:encoder --rows 8,16,32 --cols 8,16,32 \\
        --spad-kib 64,256 --dram-bytes-per-cycle 8,16,32 --plot front.png
    tessera sweep examples/models.py --space space.toml --out designs.parquet --resume
    tessera sweep examples/models.py:mlp --rows 8,16 --trace 1 --trace-file p1.json

Every axis is a list of values (`--rows 8,16,32`); any field of the target's hardware
description can be one (`--set host_ops_per_cycle=8,32`, energy figures included), and
`--spad-kib`/`--acc-kib`/`--grid 1x1,2x2` are shorthands. The points are every
combination. Each model's hardware-independent front half is compiled once; each
(model, point) is a Ray task (a local Ray in-process, or `--address` for a cluster) that
maps, tiles and times it without running the numerics (`--check N` runs N sampled
points for real and compares with PyTorch). Rows go to a Parquet file (`--out`, read it
with pandas.read_parquet) as they arrive; the front of cycles, energy and area is
printed at the end (`--front` picks other columns). See tessera.sweep for the columns.
"""

from __future__ import annotations

import signal

from tessera.errors import TesseraError
from tessera.tools.common import (ArgumentParser, add_load_argument, load_plugins, sources,
                                  tool_main)

# Axes with flags of their own (any other field: --set FIELD=V1,V2).
AXIS_FLAGS = ("rows", "cols", "dataflow", "dataflows", "spad_kib", "acc_kib",
              "dram_bytes_per_cycle", "dma_latency", "grid", "mapper")
SHOWN = ("cycles", "energy_uj", "area_mm2", "edp_uj_cycles", "pe_utilization")


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog="tessera sweep", description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", help="FILE.py:NAME, FILE.py (its MODELS) or FILE.mlir")
    p.add_argument("--space", help="a design space file (.toml or .yaml: target, base, "
                                   "models, axes); flags add or replace its axes")
    p.add_argument("--target", default=None, help="target (default npu-sim)")
    p.add_argument("--hw", default=None, help="base preset spec the axes change "
                                              "(default: the target's default preset)")
    for name in AXIS_FLAGS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None,
                       metavar="V1,V2,...", help=f"values of {name}")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=V1,V2",
                   help="values of any hardware field; repeatable")
    p.add_argument("--out", default="sweep.parquet", help="results file (Parquet; default "
                                                          "sweep.parquet)")
    p.add_argument("--resume", action="store_true", help="keep the rows in --out and "
                                                         "evaluate only the missing points")
    p.add_argument("--retry-failed", action="store_true", help="with --resume: evaluate "
                                                               "the points not ok again")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--address", default=None, help="join this Ray cluster (default: a "
                                                   "local Ray in this process)")
    p.add_argument("--workers", type=int, default=None, help="local Ray's CPUs (default: "
                                                             "all)")
    p.add_argument("--retries", type=int, default=2, help="retries of a point whose worker "
                                                          "dies (default 2)")
    p.add_argument("--check", type=int, default=0, metavar="N",
                   help="also run N sampled points for real and compare with PyTorch")
    p.add_argument("--seed", type=int, default=0, help="seed of the --check sample")
    p.add_argument("--front", default="cycles,energy_uj,area_mm2",
                   help="columns the Pareto front minimizes (default "
                        "cycles,energy_uj,area_mm2)")
    p.add_argument("--plot", default=None, help="write the Pareto plot (PNG) here")
    p.add_argument("--trace", type=int, default=None, metavar="POINT",
                   help="instead of sweeping: write the Perfetto trace of design point "
                        "POINT (its number in the results)")
    p.add_argument("--trace-file", default=None, help="where --trace writes (default "
                                                      "sweep-POINT-MODEL.json)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_load_argument(p)
    return p


def _values(text: str) -> list[str]:
    values = [v.strip() for v in text.split(",")]
    if not all(values):
        raise TesseraError(f"expected comma-separated values, got '{text}'")
    return values


def _space(args):
    from tessera import sweep

    if args.space:
        space, files = sweep.load_space(args.space)
    else:
        space, files = sweep.Space(), []
    axes = {name: list(values) for name, values in space.axes}
    for name in AXIS_FLAGS:
        text = getattr(args, name)
        if text is not None:
            axes[name] = _values(text)
    for item in args.set:
        name, eq, text = item.partition("=")
        if not eq or not name.strip():
            raise TesseraError(f"--set expects FIELD=V1,V2,..., got '{item}'")
        axes[name.strip()] = _values(text)
    target = args.target or space.target
    base = args.hw if args.hw is not None else space.base
    return sweep.make_space(axes, target, base), args.models or files


def _table(df, columns) -> str:
    from tessera.target import aligned, number_text

    return "\n".join(aligned(columns, [[number_text(v) for v in row]
                                       for row in df[columns].itertuples(index=False)]))


def _trace(args, space, models) -> int:
    from tessera.compiler import as_module
    from tessera.context import make_context
    from tessera.target import get_target

    points = space.points()
    if not 0 <= args.trace < len(points):
        raise TesseraError(f"--trace {args.trace}: the space has points 0..{len(points) - 1}")
    point = points[args.trace]
    backend = get_target(space.target)
    spec = point.spec(space.base or backend.default_preset)
    for name, model, inputs in models:
        path = args.trace_file or f"sweep-{args.trace}-{name}.json"
        if args.trace_file and len(models) > 1:
            stem, dot, ext = path.rpartition(".")
            path = f"{stem}-{name}.{ext}" if dot else f"{path}-{name}"
        report = backend.estimate(as_module(model, inputs, make_context(), name), spec)
        report.write_trace(path)
        print(f"{name} at point {args.trace} ({point.key}): {report.summary()}")
        print(f"trace: {path} (open in https://ui.perfetto.dev)")
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@tool_main
def main(argv: list[str]) -> int:

    args = _parser().parse_args(argv)
    if args.retry_failed and not args.resume:
        raise TesseraError("--retry-failed goes with --resume")
    # `kill PID` stops the sweep as Ctrl-C does: rows written, Ray shut down.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _sweep(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sweep(args) -> int:
    from tessera import sweep
    from tessera.files import writable

    load_plugins(args.load)
    space, sources_given = _space(args)
    if not sources_given:
        raise TesseraError("name at least one model (FILE.py:NAME, FILE.py or FILE.mlir), on "
                           "the command line or as 'models' in --space")
    objectives = tuple(_values(args.front))
    for value, flag, low in ((args.workers, "--workers", 1), (args.retries, "--retries", 0),
                             (args.check, "--check", 0)):
        if value is not None and value < low:
            bound = "positive" if low else "non-negative"
            raise TesseraError(f"{flag} must be {bound}, got {value}")
    if args.plot:
        writable(args.plot, "plot file")
    models = [m for source in sources_given for m in sources(source)]
    if args.trace is not None:
        return _trace(args, space, models)
    summary = sweep.run(space, models, args.out, address=args.address, workers=args.workers,
                        check=args.check, resume=args.resume, overwrite=args.overwrite,
                        retry_failed=args.retry_failed,
                        retries=args.retries, plugins=tuple(args.load),
                        progress=not args.quiet)
    df = summary.frame()
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    rate = summary.evaluated / summary.seconds if summary.seconds else 0.0
    print(f"{summary.total} design point(s) x model(s): {summary.evaluated} evaluated in "
          f"{summary.seconds:.1f} s ({rate:.2f}/s), {summary.skipped} already in "
          f"{args.out}; " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for name, seconds in summary.fronts.items():
        print(f"  front half of {name}: {seconds:.2f} s (once)")
    bad = df[df["status"] != "ok"] if len(df) else df
    for row in bad.head(5).itertuples():
        print(f"  {row.status}: {row.model} point {row.point} ({row.point_key}): {row.error}")
    if len(bad) > 5:
        print(f"  ... {len(bad) - 5} more not ok (see the 'error' column of {args.out})")
    ok = int((df["status"] == "ok").sum()) if len(df) else 0
    if not ok:
        print("no point succeeded: no Pareto front")
    front = sweep.pareto(df, objectives) if ok else df.iloc[0:0]
    axes = [name for name, _ in space.axes]
    shown = ["model", "point", *axes] + [c for c in (*objectives, *SHOWN)
                                         if c in df.columns and c not in axes]
    shown = list(dict.fromkeys(shown))
    if len(front):
        print(f"Pareto front ({', '.join(objectives)}; {len(front)} of {ok} ok rows):")
        print(_table(front, shown))
    if args.plot and ok:
        sweep.plot(df, args.plot, objectives)
        print(f"plot: {args.plot}")
    print(f"results: {args.out} (pandas.read_parquet)")
    return 0
