"""Creating the MLIR context every tessera component works in, and parsing into it."""

from __future__ import annotations

import dataclasses
import re

from tessera.errors import Diag, DiagnosticError, TesseraError, diags_from_error
from tessera.mlir import ir


def make_context() -> ir.Context:
    """A fresh context with tessera's dialects loaded (upstream dialects load on demand)."""
    from tessera.dialects import load_dialects

    context = ir.Context()
    load_dialects(context)
    return context


# A tessera op written in custom form ("systolic.matmul %a ..." rather than quoted).
_CUSTOM_FORM = re.compile(r'(?<!["\w.#!])((?:systolic|tile)\.[a-z_]+)\b(?!")')


def _custom_form_hint(text: str, filename: str) -> Diag | None:
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("//", 1)[0]
        if m := _CUSTOM_FORM.search(code):
            return Diag("error", f"'{m.group(1)}' must be written in MLIR's generic form, "
                                 f"e.g. \"{m.group(1)}\"(...) {{...}} : (...) -> (...); tessera's "
                                 f"ops are defined through IRDL and have no custom syntax",
                        filename, number, m.start(1) + 1)
    return None


MAX_NESTING = 512  # brackets open at once; MLIR's recursive parser overflows the stack near 5000

# Strings and comments are skipped whole; `->` and `>=` are not closing brackets.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|->|>=|[(\[{<]|[)\]}>]')


def check_nesting(text: str, filename: str = "<input>", limit: int = MAX_NESTING) -> None:
    """Refuse text nested deeper than `limit` brackets (of any kind, outside strings and
    comments) before MLIR's parser, which recurses once per level, overflows its stack."""
    if sum(text.count(c) for c in "([{<") <= limit:
        return  # cannot be nested deeper than it has brackets
    depth = 0
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token in "([{<":
            depth += 1
            if depth > limit:
                line = text.count("\n", 0, m.start()) + 1
                col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
                raise DiagnosticError([Diag("error", f"the input is nested more than {limit} "
                                                     f"levels deep (regions, brackets or "
                                                     f"types); tessera does not parse it",
                                            filename, line, col)])
        elif token in ")]}>":
            depth = max(depth - 1, 0)


def parse_module(text: str, filename: str = "<input>") -> ir.Module:
    """Parse `text` in the current context; errors become a DiagnosticError whose
    locations name `filename`."""
    if not isinstance(text, str):
        raise TesseraError(f"MLIR to parse must be text, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        line = text.count("\n", 0, e.start) + 1
        raise TesseraError(f"{filename}:{line}: error: the text is not valid Unicode (a lone "
                           f"surrogate at character {e.start})") from None
    check_nesting(text, filename)
    try:
        return ir.Module.parse(text)
    except ir.MLIRError as e:
        diags = relocate(diags_from_error(e), filename)
        if not e.error_diagnostics:
            # MLIR's parser reports nothing when a dynamic op is written in custom form.
            hint = _custom_form_hint(text, filename)
            diags = [hint] if hint else [Diag("error", f"could not parse {filename}")]
        raise DiagnosticError(diags) from None


def relocate(diags: list[Diag], filename: str) -> list[Diag]:
    """Module.parse names its buffer "-": make diagnostics name the user's file."""
    return [dataclasses.replace(d, file=filename if d.file == "-" else d.file,
                                notes=tuple(relocate(list(d.notes), filename)))
            for d in diags]
