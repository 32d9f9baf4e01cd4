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

from pathlib import Path

from tessera.errors import TesseraError
from tessera.tools.common import (ArgumentParser, add_load_argument, load_plugins, sources,
                                  tool_main)


def _parser() -> ArgumentParser:
    from tessera.target import TARGETS

    p = ArgumentParser(prog="tessera-check", description=__doc__.splitlines()[0])
    p.add_argument("source", help="FILE.py:NAME, FILE.py (all its MODELS) or FILE.mlir")
    p.add_argument("--targets", default=None,
                   help=f"comma-separated subset of: {', '.join(TARGETS)} (default: all); "
                        f"with --pass-pipeline, the target that evaluates the module")
    p.add_argument("--hw", action="append", default=[], metavar="TARGET=SPEC",
                   help="hardware for one target, e.g. npu-sim=tpu-128x128 or "
                        "npu-sim=gemmini-16x16,rows=8")
    p.add_argument("--pass-pipeline", default=None,
                   help="with FILE.mlir: check that this pipeline keeps the result")
    p.add_argument("-o", "--out-dir", default=".", help="where reproducers are written")
    p.add_argument("--atol", default=None, help="absolute tolerance (floats)")
    p.add_argument("--rtol", default=None, help="relative tolerance (floats)")
    add_load_argument(p)
    return p


def _targets(text: str | None):
    from tessera.target import get_target

    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise TesseraError(f"--targets expects target names, got '{text}'")
    return [get_target(name) for name in names]  # an unknown name lists the known ones


def _hw(items: list[str], targets) -> dict:
    from tessera.target import get_target

    hw = {}
    for item in items:
        target, sep, spec = item.partition("=")
        if not sep or not spec or not target:
            raise TesseraError(f"--hw expects TARGET=PRESET, e.g. npu-sim=tpu-128x128, got "
                               f"'{item}'")
        backend = get_target(target)
        backend.hardware(spec)  # a bad spec is an error now, not a failed cell later
        hw[backend.name] = spec
    return hw


def _tolerance(args):
    from tessera.compare import Tolerance

    values = {}
    for name in ("atol", "rtol"):
        text = getattr(args, name)
        if text is not None:
            try:
                values[name] = float(text)
            except ValueError:
                raise TesseraError(f"--{name} expects a number, got '{text}'") from None
    return Tolerance(**values)


def _check_step(args, tolerance, targets) -> int:
    from tessera.check import step_changes_result
    from tessera.context import make_context, parse_module
    from tessera.files import read_text
    from tessera.mlir import ir

    path = Path(args.source)
    if path.suffix != ".mlir":
        raise TesseraError(f"--pass-pipeline needs an .mlir file, got '{args.source}'")
    if targets is not None and len(targets) != 1:
        raise TesseraError("with --pass-pipeline, --targets names the one target that "
                           "evaluates the module")
    text = read_text(path)
    context = make_context()
    with context, ir.Location.unknown():
        module = parse_module(text, str(path))
        changes, error, why = step_changes_result(module, args.pass_pipeline, tolerance,
                                                  target=targets[0] if targets else None)
    if changes:
        detail = why or f"max abs difference {error:.3g} on seeded random inputs"
        print(f"{path}: error: '{args.pass_pipeline}' changes what the module computes: {detail}")
        return 1
    print(f"{path}: ok: '{args.pass_pipeline}' keeps the result (max abs difference {error:.3g})")
    return 0


@tool_main
def main(argv: list[str]) -> int:
    from tessera.check import check
    from tessera.files import out_dir as checked_dir
    from tessera.matrix import format_rows

    args = _parser().parse_args(argv)
    load_plugins(args.load)
    tolerance = _tolerance(args)
    targets = _targets(args.targets)
    if args.pass_pipeline is not None:
        return _check_step(args, tolerance, targets)
    hw = _hw(args.hw, targets)
    out_dir = checked_dir(args.out_dir)
    failed = False
    for name, model, inputs in sources(args.source):
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
