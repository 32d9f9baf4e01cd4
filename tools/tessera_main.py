"""`tessera`: one command for the tools, `tessera SUBCOMMAND ...`.

    tessera check examples/models.py:mlp     # = tessera-check ...
    tessera compile examples/models.py:mlp   # = tessera-compile ...
    tessera opt in.mlir --pass-pipeline=...  # = tessera-opt ...
    tessera sim examples/models.py:cnn       # = tessera-sim ...
"""

from __future__ import annotations

import importlib
import sys

from tessera.tools.common import print_error

SUBCOMMANDS = {"check": "tessera_check", "compile": "tessera_compile", "opt": "tessera_opt",
               "sim": "tessera_sim"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print_error(f"missing subcommand (subcommands: {', '.join(SUBCOMMANDS)}); "
                    f"see tessera --help")
        return 1
    if argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv[0] not in SUBCOMMANDS:
        print_error(f"unknown subcommand '{argv[0]}' (subcommands: {', '.join(SUBCOMMANDS)})")
        return 1
    tool = importlib.import_module(f"tessera.tools.{SUBCOMMANDS[argv[0]]}")
    return tool.main(argv[1:])
