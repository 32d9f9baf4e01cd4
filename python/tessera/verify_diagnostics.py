"""`--verify-diagnostics`: check the diagnostics a file produces against its
`expected-error`, `expected-warning`, `expected-remark` and `expected-note` comments.

The comment syntax is MLIR's: `// expected-error @+1 {{substring of the message}}`, where
the optional `@+N`, `@-N`, `@above` or `@below` says which line the diagnostic is on
(default: the comment's own line). Every expected diagnostic must be produced, and every
error, warning or remark produced must be expected; notes are checked only when expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tessera.errors import Diag

_EXPECTED = re.compile(
    r"expected-(error|warning|remark|note)\s*(?:@(above|below|[+-]\d+))?\s*\{\{(.*?)\}\}")


@dataclass
class Expected:
    severity: str
    line: int
    text: str
    comment_line: int
    matched: bool = False


def expectations(text: str, first_line: int) -> list[Expected]:
    """Expected diagnostics of a chunk whose first line is file line `first_line`."""
    found = []
    for offset, line in enumerate(text.splitlines()):
        here = first_line + offset
        for m in _EXPECTED.finditer(line):
            where = m.group(2)
            if where is None:
                target = here
            elif where == "above":
                target = here - 1
            elif where == "below":
                target = here + 1
            else:
                target = here + int(where)
            found.append(Expected(m.group(1), target, m.group(3), here))
    return found


def _flatten(diags: list[Diag]) -> list[Diag]:
    out = []
    for d in diags:
        out.append(d)
        out.extend(_flatten(list(d.notes)))
    return out


def verify(diags: list[Diag], expected: list[Expected], filename: str) -> list[str]:
    """Messages for every mismatch (empty when the diagnostics are exactly as expected)."""
    problems = []
    for d in _flatten(diags):
        match = next((e for e in expected if not e.matched and e.severity == d.severity
                      and e.line == d.line and e.text in d.message), None)
        if match is not None:
            match.matched = True
        elif d.severity != "note":
            place = f"{filename}:{d.line}:{d.col}" if d.file is not None else filename
            problems.append(f"{place}: error: unexpected {d.severity}: {d.message}")
    for e in expected:
        if not e.matched:
            problems.append(f"{filename}:{e.comment_line}: error: expected {e.severity} "
                            f"on line {e.line} was not produced: {e.text}")
    return problems
