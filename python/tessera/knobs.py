"""Knobs: the one declaration of every hardware parameter and pass option.

A knob is a dataclass field declared with `knob(default, doc, low=..., high=...,
choices=...)`. From that one declaration come its validation (`validate`, called from
`__post_init__`), the parsing of its value from text (`parse`: pass options in pipeline
text, `preset,field=value` hardware specs, command-line flags) and its help text.
Hardware descriptions (tessera.hardware) are made of knobs; pass options that mirror a
hardware field inherit it with `knobs_from(Config, "field", ...)`, so the option has the
same type, default, range and message as the hardware it configures.

Integers are bounded on both sides: every knob fits in a signed 64-bit MLIR attribute,
and sizes beyond what any simulated or real machine has are rejected before work starts.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field

from tessera.errors import TesseraError, suggest

INT64_MAX = (1 << 63) - 1
_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: no `1_000`, no `²`


def knob(default, doc: str, *, low: int | None = None, high: int | None = None,
         choices: tuple | None = None, power_of_two: bool = False, multiple_of: int = 1):
    """A dataclass field that is a knob: `low`/`high` bound an int (inclusive), `choices`
    lists the allowed values, `doc` is the one-line help text."""
    return field(default=default, metadata={"doc": doc, "low": low, "high": high,
                                            "choices": choices, "power_of_two": power_of_two,
                                            "multiple_of": multiple_of})


def fields(cls) -> dict[str, tuple[dataclasses.Field, type]]:
    """Knob name -> (field, resolved type) of a knob dataclass, in declaration order."""
    hints = typing.get_type_hints(cls)
    return {f.name: (f, hints[f.name]) for f in dataclasses.fields(cls) if "doc" in f.metadata}


def describe(kind: type) -> str:
    """How a value of type `kind` is written about in messages ("an integer", ...)."""
    return {int: "an integer", bool: "a boolean (true or false)", str: "a string",
            float: "a number"}.get(kind, kind.__name__ if isinstance(kind, type) else str(kind))


def check(value, f: dataclasses.Field, kind: type, prefix: str) -> None:
    """Raise a TesseraError unless `value` is a valid value of knob field `f`; messages
    start with `prefix` (e.g. "npu rows")."""
    meta = f.metadata
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TesseraError(f"{prefix} must be an integer, got {value!r}")
        low, high = meta["low"], meta["high"] if meta["high"] is not None else INT64_MAX
        if meta["multiple_of"] > 1 and value < low:
            raise TesseraError(f"{prefix} must be a positive multiple of {meta['multiple_of']}, "
                               f"got {value}")
        if low is not None and value < low:
            bound = {0: "a non-negative integer", 1: "a positive integer"}.get(
                low, f"at least {low}")
            raise TesseraError(f"{prefix} must be {bound}, got {value}")
        if value > high:
            raise TesseraError(f"{prefix} must be at most {high}, got {value}")
        if meta["power_of_two"] and value & (value - 1):
            raise TesseraError(f"{prefix} must be a power of two, got {value}")
        if value % meta["multiple_of"]:
            raise TesseraError(f"{prefix} must be a positive multiple of {meta['multiple_of']}, "
                               f"got {value}")
    elif kind is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or \
                not math.isfinite(value):
            raise TesseraError(f"{prefix} must be a finite number, got {value!r}")
        if meta["low"] is not None and value < meta["low"]:
            raise TesseraError(f"{prefix} must be at least {meta['low']}, got {value}")
        if meta["high"] is not None and value > meta["high"]:
            raise TesseraError(f"{prefix} must be at most {meta['high']}, got {value}")
    elif kind is bool:
        if not isinstance(value, bool):
            raise TesseraError(f"{prefix} must be true or false, got {value!r}")
    elif kind is str:
        if not isinstance(value, str):
            raise TesseraError(f"{prefix} must be a string, got {value!r}")
    if meta["choices"] is not None and value not in meta["choices"]:
        allowed = ", ".join(str(c) for c in meta["choices"])
        raise TesseraError(f"{prefix} must be one of {allowed}, got {value!r}")


def validate(obj, what: str, dashes: bool = False) -> None:
    """Check every knob of dataclass instance `obj`; messages start with `what` and the
    knob's name (written with dashes, as pass options are, when `dashes`)."""
    for name, (f, kind) in fields(type(obj)).items():
        shown = name.replace("_", "-") if dashes else name
        check(getattr(obj, name), f, kind, f"{what} {shown}")


def parse(text: str, kind: type, label: str):
    """The value of a knob of type `kind` written as `text` (option or flag syntax);
    errors start with `label` (e.g. "option 'rows' of pass 'tessera-systolic-tile'")."""
    text = text.strip()
    if kind is bool:
        if text.lower() in ("true", "1", ""):
            return True
        if text.lower() in ("false", "0"):
            return False
    elif kind is int:
        if _INTEGER.fullmatch(text):
            if len(text.lstrip("+-0")) > 30:  # far beyond any bound, and int() has a limit
                raise TesseraError(f"{label} is out of range: a {len(text)}-digit number")
            return int(text)
    elif kind is str:
        return text.strip('"')
    elif kind is float:
        try:
            return float(text)
        except ValueError:
            pass
    elif typing.get_origin(kind) is tuple:  # a list of names, written a|b|c
        return tuple(part.strip() for part in text.split("|") if part.strip())
    else:
        raise TesseraError(f"{label} cannot be written as text")
    raise TesseraError(f"{label} expects {describe(kind)}, got '{text}'")


def text(value) -> str:
    """A knob's value written as `parse` reads it back: true/false, a|b|c for a tuple."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "|".join(value)
    return str(value)


def with_overrides(obj, items: list[tuple[str, str]], what: str):
    """A copy of knob dataclass `obj` with `(name, text)` overrides parsed and checked."""
    known = fields(type(obj))
    changes = {}
    for key, text in items:
        name = key.strip().replace("-", "_")
        if name not in known:
            raise TesseraError(f"{what} has no field '{key}'{suggest(name, known)} "
                               f"(fields: {', '.join(known)})")
        changes[name] = parse(text, known[name][1], f"{what} {name}")
    return dataclasses.replace(obj, **changes) if changes else obj


def knobs_from(source, *names: str):
    """A frozen dataclass base holding knobs `names` of knob dataclass `source`, with
    the same types, defaults, bounds and docs: pass options that configure a piece of
    hardware declare nothing twice."""
    known = fields(source)
    missing = [n for n in names if n not in known]
    if missing:
        raise TypeError(f"{source.__name__} has no knobs {missing}")
    spec = [(n, known[n][1], field(default=known[n][0].default, metadata=known[n][0].metadata))
            for n in names]
    return dataclasses.make_dataclass(f"{source.__name__}Knobs", spec, frozen=True,
                                      namespace={"__post_init__": _validate_option})


def _validate_option(self):
    validate(self, "option", dashes=True)


class Options:
    """Base of pass options declared with `knob(...)` fields: validated when made.
    Subclasses with cross-field rules extend `__post_init__` (calling super)."""

    def __post_init__(self):
        validate(self, "option", dashes=True)


def help_lines(cls) -> list[tuple[str, type, object, str]]:
    """(name with dashes, type, default, doc) of each knob, for --help and lists."""
    return [(n.replace("_", "-"), kind, f.default, f.metadata["doc"])
            for n, (f, kind) in fields(cls).items()]


@dataclass(frozen=True)
class NoOptions(Options):
    """This pass has no options."""
