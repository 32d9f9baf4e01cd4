"""`tessera-check` (also `tessera check`): run a model on every target and PyTorch, and
name the first pass that makes a disagreeing target compute something else.

    tessera-check examples/models.py:mlp                  # one model, every target
    tessera-check examples/models.py                      # every model in the file's MODELS
    tessera-check examples/models.py:cnn --targets npu-sim --hw npu-sim=tpu-128x128
    tessera-check repro.mlir --pass-pipeline='builtin.module(tessera-systolic-tile)'

For a target that disagrees (or fails), the imported module is evaluated after each step
of the target's pipeline (see tessera.check); the first step whose output differs from
PyTorch is reported, and the module it received, shrunk, is written to
`OUT/tessera-check-NAME-TARGET.mlir` with a RUN line that re-checks that step alone.
With `--pass-pipeline`, the .mlir file is evaluated before and after the pipeline on
seeded random inputs (this is what the reproducers' RUN lines do). Exit status: 0 when
everything agrees, 1 when something disagrees or fails.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tessera.errors import TesseraError
from tessera.tools.common import tool_main


def _parser() -> argparse.ArgumentParser:
    from tessera.targets import TARGETS

    p = argparse.ArgumentParser(prog="tessera-check", description=__doc__.splitlines()[0])
    p.add_argument("source", help="FILE.py:NAME, FILE.py (all its MODELS) or FILE.mlir")
    p.add_argument("--targets", default=None,
                   help=f"comma-separated subset of: {', '.join(TARGETS)} (default: all)")
    p.add_argument("--hw", action="append", default=[], metavar="TARGET=PRESET",
                   help="hardware preset for one target, e.g. npu-sim=tpu-128x128")
    p.add_argument("--pass-pipeline", default=None,
                   help="with FILE.mlir: check that this pipeline keeps the result")
    p.add_argument("-o", "--out-dir", default=".", help="where reproducers are written")
    p.add_argument("--atol", type=float, default=None, help="absolute tolerance (floats)")
    p.add_argument("--rtol", type=float, default=None, help="relative tolerance (floats)")
    return p


def _targets(text: str | None) -> list[str] | None:
    from tessera.targets import TARGETS, get_target

    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    for name in names:
        get_target(name)  # an unknown name is an error that lists the known ones
    return names or list(TARGETS)


def _hw(items: list[str]) -> dict:
    hw = {}
    for item in items:
        target, sep, preset = item.partition("=")
        if not sep or not preset:
            raise TesseraError(f"--hw expects TARGET=PRESET, e.g. npu-sim=tpu-128x128, got '{item}'")
        hw[target] = preset
    return hw


def _sources(source: str) -> list[tuple[str, object, tuple]]:
    """(name, model or MLIR text, inputs) for each model the source names."""
    from tessera.tools.tessera_compile import load_file, load_source

    file, _, name = source.partition(":")
    path = Path(file)
    if path.suffix == ".py" and not name and path.is_file():
        names = getattr(load_file(path), "MODELS", None)
        if not names:
            raise TesseraError(f"{path} has no MODELS list; name one model as {path}:NAME")
        return [(n, *load_source(f"{file}:{n}")) for n in names]
    model, inputs = load_source(source)
    return [(name or path.stem, model, inputs)]


def _check_step(args, tolerance) -> int:
    from tessera.check import step_changes_result
    from tessera.context import make_context, parse_module
    from tessera.mlir import ir

    path = Path(args.source)
    if path.suffix != ".mlir" or not path.is_file():
        raise TesseraError(f"--pass-pipeline needs an .mlir file, got '{args.source}'")
    context = make_context()
    with context, ir.Location.unknown():
        module = parse_module(path.read_text(), str(path))
        changes, error, why = step_changes_result(module, args.pass_pipeline, tolerance)
    if changes:
        detail = why or f"max abs difference {error:.3g} on seeded random inputs"
        print(f"{path}: error: '{args.pass_pipeline}' changes what the module computes: {detail}")
        return 1
    print(f"{path}: ok: '{args.pass_pipeline}' keeps the result (max abs difference {error:.3g})")
    return 0


@tool_main
def main(argv: list[str]) -> int:
    from tessera.check import Tolerance, check
    from tessera.matrix import format_rows

    args = _parser().parse_args(argv)
    tolerance = Tolerance(args.atol if args.atol is not None else Tolerance.atol,
                          args.rtol if args.rtol is not None else Tolerance.rtol)
    if args.pass_pipeline is not None:
        return _check_step(args, tolerance)
    targets, hw = _targets(args.targets), _hw(args.hw)
    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        raise TesseraError(f"output directory '{out_dir}' does not exist")
    failed = False
    for name, model, inputs in _sources(args.source):
        results = check(model, inputs, targets, hw, tolerance=tolerance, out_dir=out_dir,
                        name=name)
        print(format_rows([(name, r.cell) for r in results]))
        for r in results:
            failed |= r.cell.status in ("mismatch", "error")
            if r.divergence is None:
                continue
            print(f"  {r.cell.target}: first divergent step: {r.divergence.describe()}")
            for skipped in r.divergence.skipped:
                print(f"    (not evaluated after {skipped})")
            if r.divergence.reproducer is not None:
                print(f"    reproducer: {r.divergence.reproducer}")
        print()
    print("targets disagree" if failed else "all targets agree with the reference")
    return 1 if failed else 0
