"""tessera's user-facing errors and the formatting of MLIR diagnostics.

A user mistake raises `TesseraError` with a message that names the place (file:line:col
for IR) and what to do; the tools print it as `error: ...` and exit non-zero, never with
a traceback. MLIR diagnostics are turned into the same `file:line:col: error: msg` form
that mlir-opt prints, so editors and FileCheck patterns can read them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from tessera.mlir import ir

_FILE_LOC = re.compile(r'"([^"]*)":(\d+):(\d+)')


class TesseraError(Exception):
    """A mistake in what the user asked for (bad IR, unknown pass, unsupported op, ...)."""


class LocatedError(TesseraError):
    """A TesseraError about one op or attribute: a pass emits it at `location` (an
    `ir.Location`); elsewhere `str()` starts with that place (file:line:col)."""

    def __init__(self, message: str, location):
        self.message = message
        self.location = location
        file, line, col = _place(location)
        super().__init__(f"{file}:{line}:{col}: {message}" if file is not None else message)


_LOCATED = (": error: ", ": warning: ")


def print_error(message: str) -> None:
    """Print one user-facing error to stderr as tools do: `error: ...`, or located
    diagnostics (`file:line:col: error: ...`) as they are."""
    import sys

    first = message.splitlines()[0] if message else ""
    if first.startswith("error: ") or any(tag in first for tag in _LOCATED):
        print(message, file=sys.stderr)
    else:
        print(f"error: {message}", file=sys.stderr)


def suggest(word, candidates) -> str:
    """'; did you mean 'x' or 'y'?' for the closest candidates, or ''."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [str(c) for c in candidates], n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


@dataclass(frozen=True)
class Diag:
    """One diagnostic, detached from the MLIR context that produced it."""

    severity: str  # "error" | "warning" | "note" | "remark"
    message: str
    file: str | None = None
    line: int = 0
    col: int = 0
    notes: tuple["Diag", ...] = field(default=())

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}:{self.col}: " if self.file is not None else ""
        text = f"{place}{self.severity}: {self.message}"
        return "\n".join([text] + [str(n) for n in self.notes])


_SEVERITY = {
    ir.DiagnosticSeverity.ERROR: "error",
    ir.DiagnosticSeverity.WARNING: "warning",
    ir.DiagnosticSeverity.NOTE: "note",
    ir.DiagnosticSeverity.REMARK: "remark",
}


def _place(loc) -> tuple[str | None, int, int]:
    # Fused, name and call-site locations wrap a file location: use the first one inside.
    m = _FILE_LOC.search(str(loc))
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else (None, 0, 0)


def diag_from(d) -> Diag:
    """Convert an `ir.Diagnostic` or `ir.DiagnosticInfo` into a plain `Diag`."""
    file, line, col = _place(d.location)
    notes = tuple(diag_from(n) for n in d.notes)
    return Diag(_SEVERITY.get(d.severity, "error"), str(d.message), file, line, col, notes)


def diags_from_error(err: ir.MLIRError) -> list[Diag]:
    """The diagnostics carried by an MLIRError (parse, verify or pass failure)."""
    diags = [diag_from(d) for d in err.error_diagnostics]
    return diags or [Diag("error", str(err))]


class DiagnosticError(TesseraError):
    """A TesseraError made of located MLIR diagnostics (kept in `.diags`)."""

    def __init__(self, diags: list[Diag], what: str = ""):
        self.diags = diags
        body = "\n".join(str(d) for d in diags)
        super().__init__(f"{what}\n{body}" if what else body)


def error_from_mlir(err: ir.MLIRError, what: str = "") -> DiagnosticError:
    """A DiagnosticError holding the located diagnostics of `err`."""
    return DiagnosticError(diags_from_error(err), what)
