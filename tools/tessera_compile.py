"""`tessera-compile`: compile a PyTorch model (or an .mlir file) for a target from the shell.

    tessera-compile examples/models.py:mlp                 # compile, run once, compare with PyTorch
    tessera-compile examples/models.py:mlp --emit linalg   # print the imported linalg module
    tessera-compile matmul.mlir --target iree-cpu          # compile MLIR (linalg on tensors)
    tessera-compile examples/models.py:cnn --all-targets   # one row per target (the matrix)

A model is named `FILE.py:NAME`, where NAME is a function returning (model, example_inputs)
or, for the built-in examples file, a name `example()` knows (mlp, cnn, encoder).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from tessera.errors import TesseraError
from tessera.tools.common import check_outputs, tool_main


def _parser() -> argparse.ArgumentParser:
    from tessera.targets import TARGETS

    p = argparse.ArgumentParser(prog="tessera-compile", description=__doc__.splitlines()[0])
    p.add_argument("source", help="FILE.py:NAME (a model) or FILE.mlir (linalg on tensors)")
    p.add_argument("--target", default="iree-cpu", help=f"one of: {', '.join(TARGETS)}")
    p.add_argument("--all-targets", action="store_true",
                   help="compile and run for every target; print status, compile s, run ms, "
                        "max error and what the target measures (exit 1 if any disagrees)")
    p.add_argument("--emit", choices=("linalg",), default=None,
                   help="print the imported module instead of compiling it")
    p.add_argument("-o", "--output", default="-", help="where --emit writes ('-' for stdout)")
    return p


def load_file(path: Path):
    """The user's Python file as a module; errors in it are user errors."""
    spec = importlib.util.spec_from_file_location(f"tessera_user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # any exception raised by the user's own file
        raise TesseraError(f"{path}: loading the file failed: {type(e).__name__}: {e}") from None
    return module


def _load_python(path: Path, name: str):
    """(model, inputs) from FILE.py:NAME."""
    module = load_file(path)
    factory = getattr(module, name, None)
    if factory is None and hasattr(module, "example"):
        factory = lambda: module.example(name)  # noqa: E731
    if factory is None:
        raise TesseraError(f"{path} defines no '{name}'")
    try:
        made = factory()
    except Exception as e:
        raise TesseraError(f"{path}:{name}() failed: {type(e).__name__}: {e}") from None
    if not (isinstance(made, tuple) and len(made) == 2):
        raise TesseraError(f"{path}:{name}() must return (model, example_inputs)")
    return made


def load_source(source: str):
    """(model or MLIR text, example inputs) for a command-line source."""
    file, _, name = source.partition(":")
    path = Path(file)
    if not path.is_file():
        raise TesseraError(f"could not open '{file}': no such file")
    if path.suffix == ".mlir":
        return path.read_text(), ()
    if path.suffix != ".py" or not name:
        raise TesseraError(f"'{source}' is neither FILE.py:NAME nor FILE.mlir")
    return _load_python(path, name)


@tool_main
def main(argv: list[str]) -> int:
    import tessera

    args = _parser().parse_args(argv)
    model, inputs = load_source(args.source)
    name = args.source.partition(":")[0]
    if args.emit == "linalg":
        if isinstance(model, str):
            raise TesseraError("--emit linalg needs a PyTorch model, not an .mlir file")
        text = str(tessera.import_torch(model, *inputs))
        if args.output == "-":
            sys.stdout.write(text)
        else:
            Path(args.output).write_text(text)
        return 0
    if args.all_targets:
        file, _, label = args.source.partition(":")
        return _all_targets(model, inputs, name, label or Path(file).stem)
    executable = tessera.compile(model, inputs, target=args.target, source_name=name)
    t = executable.timings
    print(f"target {args.target}: compile {t['compile_s']:.2f} s (import {t['import_s']:.2f}, "
          f"passes {t['passes_s']:.3f}, backend {t['backend_s']:.2f})")
    _, error, reference = check_outputs(executable, model, inputs, name)
    print(f"run {t['run_s'] * 1e3:.3f} ms, max abs error vs {reference} {error:.2e}")
    return 0


def _all_targets(model, inputs, name: str, label: str) -> int:
    from tessera.matrix import format_rows, reference_outputs, run_cell
    from tessera.targets import TARGETS

    reference = reference_outputs(model, inputs)  # once: for MLIR text it is an IREE run
    cells = [run_cell(model, inputs, target, name=name, reference=reference,
                      with_measurement=True) for target in TARGETS]
    print(format_rows([(label, c) for c in cells]))
    return 1 if any(c.status in ("mismatch", "error") for c in cells) else 0
