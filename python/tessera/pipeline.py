"""Pass pipelines that mix tessera's Python passes with upstream MLIR passes.

A `Pipeline` wraps one MLIR `PassManager`. Stages are added one per line, either as
tessera pass functions with keyword options or as pipeline text in MLIR's syntax, where
tessera pass names may appear next to upstream ones:

    builtin.module(tessera-linalg-to-systolic{rows=16 cols=16},canonicalize)

Upstream passes run by their textual names; tessera passes are Python callables added to
the same PassManager, so the whole pipeline runs in one `run()`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import subprocess
from dataclasses import dataclass

from tessera.errors import LocatedError, TesseraError, error_from_mlir
from tessera.mlir import TORCH_MLIR_OPT, PassManager, ir
from tessera.errors import suggest
from tessera.passes.registry import lookup, make_options, name_of, parse_options, passes

MAX_PIPELINE_DEPTH = 64  # nested anchors like builtin.module(func.func(...)): far more than used


@dataclass(frozen=True)
class Element:
    """One pipeline element: `name{options}` or `anchor(nested, ...)`."""

    name: str
    options: str = ""
    nested: tuple["Element", ...] | None = None

    def text(self) -> str:
        if self.nested is not None:
            return f"{self.name}({','.join(e.text() for e in self.nested)})"
        return f"{self.name}{{{self.options}}}" if self.options else self.name


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside (), {} or quotes."""
    parts, depth, quote, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quote = not quote
        elif quote:
            continue
        elif ch in "({":
            depth += 1
            if depth > MAX_PIPELINE_DEPTH:
                raise TesseraError(f"invalid pass pipeline '{_shown(text)}': nested more than "
                                   f"{MAX_PIPELINE_DEPTH} levels deep")
        elif ch in ")}":
            depth -= 1
            if depth < 0:
                raise TesseraError(f"invalid pass pipeline '{_shown(text)}': unbalanced '{ch}'")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0 or quote:
        raise TesseraError(f"invalid pass pipeline '{_shown(text)}': unbalanced brackets or "
                           f"quotes")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_pipeline(text: str) -> list[Element]:
    """Parse pipeline text into elements (a `builtin.module(...)` wrapper is optional)."""
    if not isinstance(text, str):
        raise TesseraError(f"a pass pipeline is text, got {type(text).__name__}")
    elements = []
    for part in _split_top(text.strip()):
        if part.endswith(")") and "(" in part and ("{" not in part or part.index("(") < part.index("{")):
            name, inner = part[:part.index("(")].strip(), part[part.index("(") + 1:-1]
            elements.append(Element(name, nested=tuple(parse_pipeline(inner))))
        elif part.endswith("}") and "{" in part:
            name, opts = part[:part.index("{")].strip(), part[part.index("{") + 1:-1]
            elements.append(Element(name, opts.strip()))
        else:
            elements.append(Element(part))
    if len(elements) == 1 and elements[0].name == "builtin.module" and elements[0].nested is not None:
        return list(elements[0].nested)
    return elements


def _mentions_tessera(element: Element) -> bool:
    if element.nested is None:
        return element.name in passes()
    return any(_mentions_tessera(e) for e in element.nested)


@functools.cache
def upstream_pass_names() -> tuple[str, ...]:
    """Names of the upstream passes the bindings know (for suggestions only)."""
    try:
        out = subprocess.run([str(TORCH_MLIR_OPT), "--list-passes"], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    # Passes are indented by two spaces, their options by four.
    return tuple(line[4:].split()[0] for line in out.splitlines() if line.startswith("  --"))


def _unknown_upstream(text: str, err: Exception) -> TesseraError:
    m = re.search(r"'([^']+)' does not refer to a registered pass", str(err))
    if m is None:
        detail = str(err).split("error: ", 1)[-1].splitlines()[0]
        return TesseraError(f"invalid pass pipeline '{text}': {detail}")
    name = m.group(1)
    hint = suggest(name, list(passes()) + list(upstream_pass_names()))
    return TesseraError(f"unknown pass '{name}'{hint} "
                        f"(tessera-opt --list-passes shows tessera's passes)")


def options_text(options) -> str:
    """`rows=16 dataflow=os` for the options that differ from their defaults."""
    items = []
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        if f.default is not dataclasses.MISSING and value == f.default:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        items.append(f"{f.name.replace('_', '-')}={text}")
    return " ".join(items)


@dataclass(frozen=True)
class Step:
    """One stage of a pipeline: a tessera pass with its options, or one upstream pass
    (or nested pipeline) as text. `text()` is its pipeline syntax."""

    name: str
    options: object = None  # a tessera pass's options; None for upstream text

    def text(self) -> str:
        if self.options is None:
            return self.name
        options = options_text(self.options)
        return f"{self.name}{{{options}}}" if options else self.name


class Pipeline:
    """One PassManager over builtin.module, filled stage by stage. `steps` lists the
    stages one pass each, so that a pipeline can be replayed step by step."""

    def __init__(self, context: ir.Context | None = None, *, print_ir_after_all: bool = False,
                 verify_each: bool = True):
        self.context = context or ir.Context.current
        self.pm = PassManager("builtin.module", context=self.context)
        self.pm.enable_verifier(verify_each)
        if print_ir_after_all:
            self.context.enable_multithreading(False)
            self.pm.enable_ir_printing(print_after_all=True)
        self.steps: list[Step] = []

    def add(self, stage, hw=None, **options) -> "Pipeline":
        """Add a tessera pass (function or name, with keyword options) or pipeline text.
        With `hw`, a hardware description, the pass's options that are fields of `hw`
        take their values from it (keywords still win)."""
        if callable(stage):
            name = name_of(stage)
            return self.add_pass(name, make_options(name, hw, **options))
        if hw is not None or options:
            if stage in passes():
                return self.add_pass(stage, make_options(stage, hw, **options))
            raise TesseraError(f"keyword options are only for tessera passes, not '{stage}'")
        return self.add_text(stage)

    def add_pass(self, name: str, options) -> "Pipeline":
        """Add tessera pass `name` with an options instance."""
        info = lookup(name)

        def run(op, pass_):
            try:
                info.run(op, pass_, options)
            except LocatedError as e:
                e.location.emit_error(f"{name}: {e.message}")
                pass_.signal_pass_failure()
            except TesseraError as e:
                op.location.emit_error(f"{name}: {e}")
                pass_.signal_pass_failure()
            except Exception as e:  # a bug in the pass: still a located error, never a crash
                op.location.emit_error(f"{name}: internal error ({type(e).__name__}: {e}); "
                                       f"this is a bug in tessera")
                pass_.signal_pass_failure()

        with self.context:
            self.pm.add(run, name=name, argument=name, description=info.summary)
        self.steps.append(Step(name, options))
        return self

    def add_text(self, text: str, _expanding: tuple[str, ...] = ()) -> "Pipeline":
        """Add pipeline text; tessera pass names in it run as tessera passes, names of
        pipelines plugins registered stand for their text."""
        from tessera.plugin import pipelines

        upstream: list[str] = []
        for element in parse_pipeline(text):
            named = pipelines().get(element.name)
            if named is not None and element.nested is None:
                if element.options:
                    raise TesseraError(f"pipeline '{element.name}' takes no options")
                if element.name in _expanding:
                    raise TesseraError(f"pipeline '{element.name}' contains itself "
                                       f"({' -> '.join(_expanding + (element.name,))})")
                self._flush(upstream)
                self.add_text(named.text, _expanding + (element.name,))
                continue
            if element.nested is not None and element.name in passes():
                raise TesseraError(f"pass '{element.name}' takes options in braces "
                                   f"({element.name}{{...}}), not nested passes in parentheses")
            if element.nested is None and element.name in passes():
                self._flush(upstream)
                self.add_pass(element.name, parse_options(element.name, element.options))
            elif element.nested is not None and _mentions_tessera(element):
                raise TesseraError(
                    f"tessera passes run on the whole module; move them out of "
                    f"'{element.name}(...)' to the top level of the pipeline")
            else:
                upstream.append(element.text())
        self._flush(upstream)
        return self

    def _flush(self, upstream: list[str]) -> None:
        if not upstream:
            return
        text = ",".join(upstream)
        try:
            with self.context:
                self.pm.add(text)
        except (ValueError, ir.MLIRError) as e:
            raise _unknown_upstream(text, e) from None
        self.steps.extend(Step(text) for text in upstream)
        upstream.clear()

    def run(self, module) -> None:
        """Run every stage on `module` (an `ir.Module` or its operation)."""
        op = module.operation if hasattr(module, "operation") else module
        try:
            self.pm.run(op)
        except ir.MLIRError as e:
            raise error_from_mlir(e) from None

    def __str__(self) -> str:
        return f"builtin.module({','.join(step.text() for step in self.steps)})"

    def add_step(self, step: Step) -> "Pipeline":
        """Add one recorded step (of this or another pipeline)."""
        if step.options is None:
            return self.add_text(step.name)
        return self.add_pass(step.name, step.options)
