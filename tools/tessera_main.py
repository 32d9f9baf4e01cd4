"""`tessera`: one command for the tools, `tessera SUBCOMMAND ...`.

    tessera check examples/models.py:mlp     # = tessera-check ...
    tessera compile examples/models.py:mlp   # = tessera-compile ...
    tessera opt in.mlir --pass-pipeline=...  # = tessera-opt ...
    tessera sim examples/models.py:cnn       # = tessera-sim ...
    tessera sweep examples/models.py:mlp --rows 8,16,32 --cols 8,16   # design points on Ray
    tessera info [--load FILE.py]            # versions, targets here (and why not), plugins
    tessera --version
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys

from tessera.tools.common import (ArgumentParser, add_load_argument, load_plugins, print_error,
                                  tool_main)

SUBCOMMANDS = {"check": "tessera_check", "compile": "tessera_compile", "opt": "tessera_opt",
               "sim": "tessera_sim", "sweep": "tessera_sweep"}
PACKAGES = ("tessera", "torch", "torch-mlir", "iree-base-compiler", "iree-base-runtime",
            "llvmlite", "numpy")


def version(package: str) -> str:
    """The installed version of `package`, or "not installed"."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@tool_main
def info(argv: list[str]) -> int:
    """Versions of tessera and what it is built on (MLIR comes with torch-mlir, IREE with
    its own MLIR), each target's state here, and the plugins loaded."""
    from tessera.plugin import describe
    from tessera.target import all_targets

    p = ArgumentParser(prog="tessera info", description=info.__doc__.splitlines()[0])
    add_load_argument(p)
    args = p.parse_args(argv)
    load_plugins(args.load)
    print("versions:")
    for package in PACKAGES:
        print(f"  {package:20} {version(package)}")
    print(f"  {'python':20} {sys.version.split()[0]}")
    print("targets:")
    for target in all_targets():
        compiles, why = target.available()
        runs, why_not = target.can_run() if compiles else (False, why)
        state = "runs" if runs else ("compile-only" if compiles else "unavailable")
        detail = "" if runs else f": {why_not}"
        presets = ", ".join(target.presets)
        print(f"  {target.name:18} {state}{detail}")
        print(f"  {'':18} presets: {presets} (default {target.default_preset})")
    plugins = describe()
    print("plugins:" + ("" if plugins else " none"))
    for line in plugins:
        print(f"  {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print_error(f"missing subcommand (subcommands: {', '.join(SUBCOMMANDS)}, info); "
                    f"see tessera --help")
        return 1
    if argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv[0] == "--version":
        print(f"tessera {version('tessera')}")
        return 0
    if argv[0] == "info":
        return info(argv[1:])
    if argv[0] not in SUBCOMMANDS:
        print_error(f"unknown subcommand '{argv[0]}' (subcommands: {', '.join(SUBCOMMANDS)}, "
                    f"info)")
        return 1
    tool = importlib.import_module(f"tessera.tools.{SUBCOMMANDS[argv[0]]}")
    return tool.main(argv[1:])
