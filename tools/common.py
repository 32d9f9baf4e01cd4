"""What every tessera command-line tool shares: user errors become `error: ...` lines and a
non-zero exit, never a Python traceback."""

from __future__ import annotations

import functools
import sys

from tessera.errors import TesseraError

_LOCATED = (": error: ", ": warning: ")


def print_error(message: str) -> None:
    """Print one user-facing error to stderr; located diagnostics are printed as they are."""
    first = message.splitlines()[0] if message else ""
    if first.startswith("error: ") or any(tag in first for tag in _LOCATED):
        print(message, file=sys.stderr)
    else:
        print(f"error: {message}", file=sys.stderr)


def tool_main(body):
    """Decorate a tool's `main(argv) -> int` so user errors exit 1 with `error: ...`."""

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
        sys.stdout.flush()
        return code

    return main
