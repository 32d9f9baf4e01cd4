"""`tessera-compile`: compile a PyTorch model (or an .mlir file) for a target from the shell.

    tessera-compile examples/models.py:mlp                 # compile, run once, compare with PyTorch
    tessera-compile examples/models.py:mlp --emit linalg   # print the imported linalg module
    tessera-compile matmul.mlir --target iree-cpu          # compile MLIR (linalg on tensors)
    tessera-compile examples/models.py:cnn --all-targets   # one row per target (the matrix)
    tessera-compile matmul.mlir --target npu-sim --hw tpu-128x128,dataflow=os

A model is named `FILE.py:NAME`, where NAME is a function returning (model, example_inputs)
or, for the built-in examples file, a name `example()` knows (mlp, cnn, encoder).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tessera.errors import TesseraError
from tessera.tools.common import (ArgumentParser, add_load_argument, check_outputs, load_plugins,
                                  load_source, tool_main)


def _parser() -> ArgumentParser:
    from tessera.target import TARGETS

    p = ArgumentParser(prog="tessera-compile", description=__doc__.splitlines()[0])
    p.add_argument("source", help="FILE.py:NAME (a model) or FILE.mlir (linalg on tensors)")
    p.add_argument("--target", default="iree-cpu", help=f"one of: {', '.join(TARGETS)}")
    p.add_argument("--hw", default=None,
                   help="the target's hardware: a preset, optionally with field=value "
                        "overrides (e.g. gemmini-16x16,rows=32)")
    p.add_argument("--all-targets", action="store_true",
                   help="compile and run for every target; print status, compile s, run ms, "
                        "max error and what the target measures (exit 1 if any disagrees)")
    p.add_argument("--emit", choices=("linalg",), default=None,
                   help="print the imported module instead of compiling it")
    p.add_argument("-o", "--output", default="-", help="where --emit writes ('-' for stdout)")
    add_load_argument(p)
    return p


@tool_main
def main(argv: list[str]) -> int:
    import tessera
    from tessera.files import writable, write_text
    from tessera.target import get_target

    args = _parser().parse_args(argv)
    load_plugins(args.load)
    backend = get_target(args.target)  # a bad target or hw is an error before any work
    if args.output != "-":
        writable(args.output)
    model, inputs = load_source(args.source)
    name = args.source.partition(":")[0]
    if args.emit == "linalg":
        if isinstance(model, str):
            raise TesseraError("--emit linalg needs a PyTorch model, not an .mlir file")
        text = str(tessera.import_torch(model, *inputs))
        if args.output == "-":
            sys.stdout.write(text)
        else:
            write_text(args.output, text)
        return 0
    if args.all_targets:
        if args.hw is not None:
            raise TesseraError("--hw describes one target's hardware; use it with --target, "
                               "not --all-targets")
        file, _, label = args.source.partition(":")
        return _all_targets(model, inputs, name, label or Path(file).stem)
    hw = backend.hardware(args.hw)
    executable = tessera.compile(model, inputs, target=backend, hw=hw, source_name=name)
    t = executable.timings
    print(f"target {backend.name}: compile {t['compile_s']:.2f} s (import {t['import_s']:.2f}, "
          f"passes {t['passes_s']:.3f}, backend {t['backend_s']:.2f})")
    _, error, reference = check_outputs(executable, model, inputs, name)
    print(f"run {t['run_s'] * 1e3:.3f} ms, max abs error vs {reference} {error:.2e}")
    return 0


def _all_targets(model, inputs, name: str, label: str) -> int:
    from tessera.matrix import format_rows, reference_outputs, run_cell
    from tessera.target import all_targets

    reference = reference_outputs(model, inputs)  # once: for MLIR text it is an IREE run
    cells = [run_cell(model, inputs, target, name=name, reference=reference,
                      with_measurement=True) for target in all_targets()]
    print(format_rows([(label, c) for c in cells]))
    return 1 if any(c.status in ("mismatch", "error") for c in cells) else 0
