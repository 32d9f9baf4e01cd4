"""Plugins: passes, pipelines, hardware presets and targets from outside tessera.

A plugin is a Python module with a function `register(plugin)`. It receives a `Plugin`
and declares what it adds through it:

    from tessera.knobs import Options, knob

    @dataclass(frozen=True)
    class ChooseOptions(Options):
        rows_first: bool = knob(False, "prefer ...")

    def choose(op, pass_, options): ...          # a pass body, like tessera's own

    def register(plugin):
        plugin.add_pass("example-choose-dataflow", choose, ChooseOptions, "one-line summary")
        plugin.add_pipeline("example-npu-mapping", "tessera-linalg-to-systolic,example-choose-dataflow")
        plugin.add_preset("npu-sim", "example-8x32-os", NpuConfig(8, 32, "os"))
        plugin.add_target(MyTarget())               # a tessera.target.Target

Plugins are loaded from a file (`load_file`, `tessera-opt --load FILE.py`, every tool's
`--load`) or, once per process and before the first registry lookup, from the
`tessera.plugins` entry-point group of installed packages (the entry point names the
`register` function). A plugin that fails to load, or a name it registers that is
taken, is a TesseraError that names the plugin; nothing it registered stays half done.
What a plugin adds is used exactly like tessera's own: in Python pipelines, pipeline
text, `tessera-opt` flags (with the same option parsing, errors and suggestions),
`tessera.compile(..., target=...)`, `--all-targets`, `tessera check`.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from tessera.errors import TesseraError

ENTRY_POINT_GROUP = "tessera.plugins"
RESERVED_PREFIX = "tessera-"  # tessera's own pass names


@dataclass(frozen=True)
class Pipeline:
    """A named pipeline a plugin registered: pipeline text that its name stands for."""

    name: str
    text: str
    summary: str
    origin: str


@dataclass
class Plugin:
    """What one plugin registers through, named `name` (its module or entry point) and
    loaded from `origin` (a file or a distribution)."""

    name: str
    origin: str
    passes: list[str] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)
    presets: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)

    def _error(self, message: str) -> TesseraError:
        return TesseraError(f"plugin '{self.name}' ({self.origin}): {message}")

    def _check_name(self, kind: str, name) -> None:
        if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name):
            raise self._error(f"{kind} name must be a word of letters, digits and '-', got {name!r}")

    def add_pass(self, name: str, run, options=None, summary: str = "") -> None:
        """Register pass `name`: `run(op, pass_, options)` is its body (it runs on the
        builtin.module, like tessera's passes), `options` a frozen dataclass of
        `tessera.knobs.knob` fields (default: no options), `summary` one line."""
        from tessera import knobs
        from tessera.passes.registry import PassInfo, builtin_passes

        self._check_name("pass", name)
        if name.startswith(RESERVED_PREFIX):
            raise self._error(f"pass '{name}': the '{RESERVED_PREFIX}' prefix is tessera's own")
        if not callable(run):
            raise self._error(f"pass '{name}': its body must be a function, got {type(run).__name__}")
        options = knobs.NoOptions if options is None else options
        if not (isinstance(options, type) and dataclasses.is_dataclass(options)):
            raise self._error(f"pass '{name}': options must be a dataclass, got {options!r}")
        declared = {f.name for f in dataclasses.fields(options)}
        if declared != set(knobs.fields(options)):
            loose = ", ".join(sorted(declared - set(knobs.fields(options))))
            raise self._error(f"pass '{name}': option fields {loose} are not declared with "
                              f"tessera.knobs.knob (which gives them a type, bounds and help)")
        try:
            options()
        except (TypeError, TesseraError) as e:
            raise self._error(f"pass '{name}': its options have no valid defaults: {e}") from None
        if not isinstance(summary, str) or "\n" in summary:
            raise self._error(f"pass '{name}': the summary is one line of text")
        registry = builtin_passes()
        if name in registry:
            raise self._error(f"pass '{name}' is already registered by {registry[name].origin}")
        doc = (run.__doc__ or "").strip().splitlines()
        registry[name] = PassInfo(run, options, summary or (doc[0] if doc else name),
                                  origin=self._label())
        self.passes.append(name)

    def add_pipeline(self, name: str, text: str, summary: str = "") -> None:
        """Register pipeline `name`: in pipeline text it stands for `text` (passes of
        tessera, of plugins, or upstream, as `builtin.module(...)` would hold them)."""
        from tessera.passes.registry import builtin_passes
        from tessera.pipeline import parse_pipeline

        self._check_name("pipeline", name)
        if not isinstance(text, str):
            raise self._error(f"pipeline '{name}' must be pipeline text, got {type(text).__name__}")
        try:
            parse_pipeline(text)
        except TesseraError as e:
            raise self._error(f"pipeline '{name}': {e}") from None
        if name in builtin_passes() or name in _PIPELINES:
            owner = builtin_passes()[name].origin if name in builtin_passes() else \
                _PIPELINES[name].origin
            raise self._error(f"pipeline '{name}': the name is already registered by {owner}")
        _PIPELINES[name] = Pipeline(name, text, summary, self._label())
        self.pipelines.append(name)

    def add_preset(self, target: str, name: str, config) -> None:
        """Register hardware preset `name` for target `target` (an instance of the
        target's `hw_type`); `hw="name"` then selects it."""
        from tessera.target import get_target

        self._check_name("preset", name)
        backend = get_target(target)
        if not isinstance(config, backend.hw_type):
            raise self._error(f"preset '{name}' of {backend.name} must be a "
                              f"{backend.hw_type.__name__}, got {type(config).__name__}")
        if name in backend.presets:
            raise self._error(f"preset '{name}' of {backend.name} already exists")
        backend.add_preset(name, config)
        self.presets.append(f"{backend.name}:{name}")

    def add_target(self, target) -> None:
        """Register a target (an instance of a tessera.target.Target subclass)."""
        from tessera.target import TARGETS, Target

        if not isinstance(target, Target):
            raise self._error(f"a target must be an instance of tessera.target.Target, got "
                              f"{type(target).__name__}")
        name = getattr(target, "name", None)
        self._check_name("target", name)
        if name in TARGETS:
            raise self._error(f"target '{name}' already exists")
        for attribute in ("hw_type", "presets", "default_preset"):
            if not hasattr(target, attribute):
                raise self._error(f"target '{name}' has no {attribute}")
        if target.default_preset not in target.presets:
            raise self._error(f"target '{name}': its default preset '{target.default_preset}' "
                              f"is not one of its presets")
        TARGETS[name] = target
        self.targets.append(name)

    def _label(self) -> str:
        return f"plugin {self.name} ({self.origin})"


_PIPELINES: dict[str, Pipeline] = {}
_LOADED: dict[str, Plugin] = {}  # by origin
_ENTRY_POINTS_LOADED = False


def pipelines() -> dict[str, Pipeline]:
    """Every pipeline plugins registered, by name."""
    load_entry_points()
    return _PIPELINES


def loaded() -> list[Plugin]:
    """The plugins loaded in this process, in order."""
    return list(_LOADED.values())


def _register(plugin: Plugin, register) -> Plugin:
    """Run `register(plugin)`; on any error, take back what it registered."""
    if not callable(register):
        raise plugin._error("it has no register(plugin) function")
    try:
        register(plugin)
    except TesseraError as e:
        _undo(plugin)
        message = str(e)
        raise (e if message.startswith("plugin '") else plugin._error(message)) from None
    except Exception as e:  # the plugin's own bug
        _undo(plugin)
        raise plugin._error(f"register() failed: {type(e).__name__}: {e}") from None
    _LOADED[plugin.origin] = plugin
    return plugin


def _undo(plugin: Plugin) -> None:
    from tessera.passes.registry import builtin_passes
    from tessera.target import TARGETS, get_target

    for name in plugin.passes:
        builtin_passes().pop(name, None)
    for name in plugin.pipelines:
        _PIPELINES.pop(name, None)
    for target in plugin.targets:
        TARGETS.pop(target, None)
    for entry in plugin.presets:
        target, _, name = entry.partition(":")
        get_target(target).presets.pop(name, None)


def load_file(path) -> Plugin:
    """Load the plugin in Python file `path` (its `register(plugin)` is called); loading
    the same file again does nothing."""
    path = Path(path)
    if not path.is_file():
        kind = "is a directory" if path.is_dir() else "does not exist"
        raise TesseraError(f"plugin file '{path}' {kind}")
    origin = str(path.resolve())
    if origin in _LOADED:
        return _LOADED[origin]
    load_entry_points()  # installed plugins first: a clash then names the file's plugin
    name = path.stem
    plugin = Plugin(name, str(path))
    spec = importlib.util.spec_from_file_location(f"tessera_plugin_{name}", path)
    if spec is None or spec.loader is None:
        raise plugin._error("it is not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SystemExit as e:
        raise plugin._error(f"importing it called sys.exit({e.code!r})") from None
    except Exception as e:
        raise plugin._error(f"importing it failed: {type(e).__name__}: {e}") from None
    plugin.origin = origin
    return _register(plugin, getattr(module, "register", None))


def load_entry_points() -> None:
    """Load, once per process, the plugins of installed packages (`tessera.plugins`
    entry points)."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True  # first: a plugin's own registry lookups must not recurse
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        distribution = getattr(entry, "dist", None)
        origin = f"entry point {entry.value}" + (f" of {distribution.name}" if distribution else "")
        plugin = Plugin(entry.name, origin)
        if origin in _LOADED:
            continue
        try:
            register = entry.load()
        except SystemExit as e:
            raise plugin._error(f"importing it called sys.exit({e.code!r})") from None
        except Exception as e:
            raise plugin._error(f"importing it failed: {type(e).__name__}: {e}") from None
        _register(plugin, register)


def describe() -> list[str]:
    """One line per loaded plugin: its name, origin and what it registered."""
    load_entry_points()
    lines = []
    for p in loaded():
        parts = [f"{len(getattr(p, kind))} {kind}" for kind in
                 ("passes", "pipelines", "presets", "targets") if getattr(p, kind)]
        lines.append(f"{p.name} ({p.origin}): {', '.join(parts) or 'nothing'}")
    return lines
