"""What every tessera command-line tool shares: user errors become `error: ...` lines and a
non-zero exit, never a Python traceback; loading the user's model files and MLIR; checking
a program's outputs against a reference."""

from __future__ import annotations

import argparse
import functools
import importlib.util
import sys
from pathlib import Path

from tessera.errors import TesseraError, print_error

INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug in tessera, not a user mistake


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line as a TesseraError (so `tool_main` prints
    it like every other user error) instead of exiting on its own."""

    def error(self, message):
        raise TesseraError(f"{self.prog}: {message} (see {self.prog} --help)")


def add_load_argument(parser: argparse.ArgumentParser) -> None:
    """`--load FILE.py` (repeatable): plugins to load before anything else."""
    parser.add_argument("--load", action="append", default=[], metavar="FILE.py",
                        help="load a plugin (a Python file with register(plugin)); repeatable")


def load_plugins(files: list[str]) -> None:
    """Load the plugins named on the command line, in order."""
    from tessera.plugin import load_file

    for path in files:
        load_file(path)


def tool_main(body):
    """Decorate a tool's `main(argv) -> int` so user errors exit 1 with `error: ...`, and
    anything else (a bug in tessera) exits 70 with one `error: internal error` line."""

    @functools.wraps(body)
    def main(argv: list[str] | None = None) -> int:
        try:
            code = body(sys.argv[1:] if argv is None else argv)
        except TesseraError as e:
            print_error(str(e))
            code = 1
        except KeyboardInterrupt:
            print_error("interrupted")
            code = 130
        except BrokenPipeError:
            code = 0
        except RecursionError:
            print_error("the input is nested too deeply for tessera to process")
            code = 1
        except MemoryError:
            print_error("out of memory (the input or the program it describes is too large)")
            code = 1
        except SystemExit as e:  # argparse's --help, or a tool's explicit exit
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception as e:  # a bug: say so in one line, never with a traceback
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            print_error(f"internal error ({type(e).__name__}: {first}); this is a bug in "
                        f"tessera, please report it with the command and its input")
            code = INTERNAL_ERROR_EXIT
        try:
            sys.stdout.flush()
        except (BrokenPipeError, OSError):
            pass
        return code

    return main


# --- the user's files -------------------------------------------------------------------


def load_file(path: Path):
    """The user's Python file as a module; anything it raises (or a sys.exit in it) is
    the user's error."""
    spec = importlib.util.spec_from_file_location(f"tessera_user_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise TesseraError(f"{path}: cannot be loaded as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SystemExit as e:
        raise TesseraError(f"{path}: loading the file called sys.exit({e.code!r}); a model file "
                           f"must not exit") from None
    except BaseException as e:  # any exception raised by the user's own file
        if isinstance(e, KeyboardInterrupt):
            raise
        raise TesseraError(f"{path}: loading the file failed: {type(e).__name__}: {e}") from None
    finally:
        if sys.path and sys.path[0] == str(path.parent):
            sys.path.pop(0)
    return module


def _call_factory(path: Path, name: str, factory):
    try:
        return factory()
    except SystemExit as e:
        raise TesseraError(f"{path}:{name}() called sys.exit({e.code!r})") from None
    except Exception as e:
        raise TesseraError(f"{path}:{name}() failed: {type(e).__name__}: {e}") from None


def _load_python(path: Path, name: str):
    """(model, inputs) from FILE.py:NAME."""
    import torch

    module = load_file(path)
    factory = getattr(module, name, None)
    if factory is None and callable(getattr(module, "example", None)):
        factory = lambda: module.example(name)  # noqa: E731
    if factory is None:
        raise TesseraError(f"{path} defines no '{name}'")
    if not callable(factory):
        raise TesseraError(f"{path}:{name} is a {type(factory).__name__}, not a function "
                           f"returning (model, example_inputs)")
    made = _call_factory(path, name, factory)
    if not (isinstance(made, tuple) and len(made) == 2):
        raise TesseraError(f"{path}:{name}() must return (model, example_inputs), got "
                           f"{type(made).__name__}")
    model, inputs = made
    if not isinstance(model, torch.nn.Module):
        raise TesseraError(f"{path}:{name}() returned a {type(model).__name__} as the model; "
                           f"expected a torch.nn.Module")
    if not isinstance(inputs, (tuple, list)) or \
            not all(isinstance(x, torch.Tensor) for x in inputs):
        kinds = type(inputs).__name__ if not isinstance(inputs, (tuple, list)) else \
            ", ".join(type(x).__name__ for x in inputs)
        raise TesseraError(f"{path}:{name}() must return example inputs as a tuple of "
                           f"tensors, got {kinds}")
    return model, tuple(inputs)


def load_source(source: str):
    """(model or MLIR text, example inputs) for a command-line source: FILE.py:NAME or
    FILE.mlir."""
    from tessera.files import read_text

    file, _, name = source.partition(":")
    path = Path(file)
    if path.suffix == ".mlir" and not name:
        return read_text(path), ()
    if path.suffix != ".py" or not name:
        raise TesseraError(f"'{source}' is neither FILE.py:NAME nor FILE.mlir")
    if not path.is_file():
        what = "it is a directory" if path.is_dir() else "no such file"
        raise TesseraError(f"could not open '{file}': {what}")
    return _load_python(path, name)


def sources(source: str) -> list[tuple[str, object, tuple]]:
    """(name, model or MLIR text, inputs) for each model a source names: FILE.py (every
    model of its MODELS list), FILE.py:NAME or FILE.mlir."""
    file, _, name = source.partition(":")
    path = Path(file)
    if path.suffix == ".py" and not name and path.is_file():
        names = getattr(load_file(path), "MODELS", None)
        if not names or not isinstance(names, (list, tuple)) or \
                not all(isinstance(n, str) for n in names):
            raise TesseraError(f"{path} has no MODELS list of model names; name one model as "
                               f"{path}:NAME")
        return [(n, *load_source(f"{file}:{n}")) for n in names]
    model, inputs = load_source(source)
    return [(name or path.stem, model, inputs)]


def check_outputs(program, model, inputs, source_name):
    """(inputs used, max abs error, reference name): PyTorch eager for a model; for MLIR
    text, the reference interpreter on seeded random inputs."""
    from tessera.compare import max_error, random_inputs
    from tessera.matrix import reference_outputs

    if isinstance(model, str):
        from tessera.context import make_context, parse_module
        from tessera.mlir import ir
        from tessera.target import evaluate

        inputs = random_inputs(program.signature)
        with make_context(), ir.Location.unknown():
            expected = evaluate(parse_module(model, source_name), inputs)
        reference = "the IREE reference"
    else:
        expected, inputs = reference_outputs(model, inputs)
        reference = "PyTorch eager"
    return inputs, max_error(program(*inputs), expected), reference
