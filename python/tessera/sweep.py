"""Design-space sweeps: hardware descriptions x models, one result row per pair, on Ray.

A `Space` is a target, a base hardware spec and axes (a knob of the target's hardware
description -> the values to try); its points are the cartesian product. `run` compiles
the hardware-independent front half of each model once (`Target.front`: import, convs to
matmuls), puts it in Ray's object store, and evaluates every (model, point) as one Ray
task: parse the front half, run the rest of the pipeline for that hardware (mapping
search included) and take the report without running the program (`Target.estimate`:
cycles, energy, area, accesses, the mappings chosen). `check` points also compile and
run for real and compare the outputs with PyTorch.

Rows stream to a journal (one JSON line per finished point, `OUT.journal`) and into the
Parquet file `OUT`, rewritten atomically every few seconds and at the end, so a killed
driver leaves a readable Parquet file and loses only the points in flight; `resume`
folds the journal in and skips every point already recorded. A point that fails (a
hardware description that cannot exist, a model the design cannot run) is a row with
status "failed" and its error; a task whose worker dies is retried `retries` times by
Ray, then recorded as "crashed"; a bug in tessera is "error" with the exception.

Ray runs in-process by default (`ray.init` with `workers` CPUs); `address` joins a
running cluster (every node needs tessera installed, and the plugin files at the same
paths).
"""

from __future__ import annotations

import collections
import itertools
import json
import math
import os
import random
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tessera import knobs
from tessera.errors import TesseraError, suggest
from tessera.hardware import grid_fields

# Axes a design space may name besides the hardware description's own fields, and the
# fields each sets.
SUGAR = {"spad_kib": ("spad_bytes",), "acc_kib": ("acc_bytes",),
         "grid": ("grid_rows", "grid_cols")}
DEFAULT_OBJECTIVES = ("cycles", "energy_uj", "area_mm2")
FLUSH_SECONDS = 2.0  # the Parquet file is rewritten at most this often (and at the end)


# --- the design space ------------------------------------------------------------------


@dataclass(frozen=True)
class Space:
    """Target, base hardware spec, and axes: name -> values (of the knob's type)."""

    target: str = "npu-sim"
    base: str = ""  # a preset spec; empty: the target's default preset
    axes: tuple[tuple[str, tuple], ...] = ()

    def points(self) -> list["Point"]:
        """Every combination of the axes' values, in row-major order (the last axis
        varies fastest), numbered from 0."""
        names = [name for name, _ in self.axes]
        combos = itertools.product(*(values for _, values in self.axes))
        return [Point(i, tuple(zip(names, combo))) for i, combo in enumerate(combos)]


@dataclass(frozen=True)
class Point:
    """One design point: its number in the space and its axis values."""

    index: int
    values: tuple[tuple[str, object], ...]

    @property
    def key(self) -> str:
        """`name=value,...`: what identifies the point across runs (for resume)."""
        return ",".join(f"{n}={_value_text(v)}" for n, v in self.values)

    def overrides(self) -> list[tuple[str, str]]:
        """The hardware fields this point sets, sugar (`spad_kib`, `grid`) expanded."""
        items = []
        for name, value in self.values:
            value = _value_text(value)
            if name in ("spad_kib", "acc_kib"):
                number = knobs.parse(value, int, f"design space {name}")
                items.append((SUGAR[name][0], str(number * 1024)))
            elif name == "grid":
                items += grid_fields(value, "design space grid")
            else:
                items.append((name, value))
        return items

    def spec(self, base: str) -> str:
        """The hardware spec of this point: `base` with its overrides."""
        extra = ",".join(f"{n}={v}" for n, v in self.overrides())
        return ",".join(filter(None, [base, extra]))


def _value_text(value) -> str:
    if isinstance(value, (bool, int, float, str)):
        return knobs.text(value)
    raise TesseraError(f"design space values must be numbers, booleans or strings, got "
                       f"{type(value).__name__}")


def make_space(axes: dict, target: str = "npu-sim", base: str = "") -> Space:
    """A Space from `axes` (name -> a list of values, or one value), checked against
    the target's hardware description: unknown names and values that are not of the
    knob's type are errors here, before any work. (A combination that cannot exist, like
    a scratchpad smaller than the array, is a failed row, not an error.)"""
    from tessera.target import get_target

    backend = get_target(target)
    known = knobs.fields(backend.hw_type)
    checked = []
    for raw, values in axes.items():
        name = str(raw).strip().replace("-", "_")
        values = values if isinstance(values, (list, tuple)) else [values]
        if not values:
            raise TesseraError(f"design space axis '{raw}' has no values")
        texts = tuple(_value_text(v) for v in values)
        if name in SUGAR:
            kind = str if name == "grid" else int
            if not all(f in known for f in SUGAR[name]):
                raise TesseraError(f"design space axis '{raw}' sets {', '.join(SUGAR[name])}, "
                                   f"which {backend.name}'s hardware does not have")
        elif name in known:
            kind = known[name][1]
        else:
            names = [*known, *SUGAR]
            raise TesseraError(f"design space axis '{raw}' is not a field of "
                               f"{backend.name}'s hardware{suggest(name, names)} (fields: "
                               f"{', '.join(names)})")
        typed = tuple(knobs.parse(text, kind, f"design space {name}") for text in texts)
        for value in typed:  # so a typo is an error before the sweep
            Point(0, ((name, value),)).overrides()
            if name in known:
                knobs.check(value, known[name][0], kind, f"design space {name}")
        if len(set(typed)) != len(typed):
            raise TesseraError(f"design space axis '{raw}' repeats a value: {', '.join(texts)}")
        checked.append((name, typed))
    backend.hardware(base or None)  # the base spec must name a real preset
    return Space(backend.name, base, tuple(checked))


def load_space(path: str) -> tuple[Space, list[str]]:
    """(Space, models) from a TOML or YAML file: `target`, `base` (a preset spec),
    `models` (sources, optional) and `axes` (a table of name -> list of values)."""
    from tessera.files import read_text

    text = read_text(path)
    try:
        if path.endswith(".toml"):
            data = tomllib.loads(text)
        elif path.endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text)
        else:
            raise TesseraError(f"{path}: a design space is a .toml or .yaml file")
    except (tomllib.TOMLDecodeError, ValueError) as e:
        raise TesseraError(f"{path}: not valid TOML: {e}") from None
    except Exception as e:  # yaml.YAMLError and its kin: the user's file
        if isinstance(e, TesseraError):
            raise
        raise TesseraError(f"{path}: not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise TesseraError(f"{path}: expected a table with 'axes' (and optionally target, "
                           f"base, models)")
    unknown = set(data) - {"target", "base", "models", "axes"}
    if unknown:
        raise TesseraError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} (keys: "
                           f"target, base, models, axes)")
    axes = data.get("axes", {})
    models = data.get("models", [])
    if not isinstance(axes, dict) or not isinstance(models, list) or \
            not all(isinstance(m, str) for m in models):
        raise TesseraError(f"{path}: 'axes' must be a table and 'models' a list of sources")
    for key in ("target", "base"):
        if not isinstance(data.get(key, ""), str):
            raise TesseraError(f"{path}: '{key}' must be a string")
    try:
        space = make_space(axes, data.get("target", "npu-sim"), data.get("base", ""))
    except TesseraError as e:
        raise TesseraError(f"{path}: {e}") from None
    return space, models


# --- one model's front half --------------------------------------------------------------


@dataclass
class Front:
    """A model after its target's hardware-independent passes, as MLIR text, with what a
    checked point needs: input arrays and the reference outputs."""

    name: str
    text: str
    inputs: list = field(default_factory=list)
    expected: tuple = ()
    front_s: float = 0.0


def front_half(name: str, model, inputs, target: str, check: bool) -> Front:
    """Import `model` (a torch.nn.Module or MLIR text) and run `target`'s front passes."""
    from tessera.compiler import as_module
    from tessera.context import make_context
    from tessera.mlir import ir
    from tessera.target import get_target

    backend = get_target(target)
    start = time.perf_counter()
    context = make_context()
    module = as_module(model, inputs, context, name)
    front = backend.front(context)
    if front is not None:
        with context, ir.Location.unknown():
            front.run(module)
    result = Front(name, str(module), front_s=time.perf_counter() - start)
    if check:
        from tessera.matrix import reference_outputs

        result.expected, result.inputs = reference_outputs(model, inputs)
    return result


# --- one task: a model on a design point ----------------------------------------------

_WORKER: dict = {}  # per worker process: its MLIR context


def _worker_context(plugins: tuple[str, ...]):
    """The worker process's MLIR context (made once) with `plugins` loaded (load_file
    loads a file once)."""
    from tessera.context import make_context
    from tessera.plugin import load_file

    for path in plugins:
        load_file(path)
    if "context" not in _WORKER:
        _WORKER["context"] = make_context()
    return _WORKER["context"]


def evaluate(target: str, spec: str, model: str, text: str, plugins: tuple[str, ...] = (),
             check: tuple | None = None) -> dict:
    """One row: `model` (its front half, MLIR text) compiled for the hardware `spec` of
    `target`, timing only; with `check` = (inputs, expected) compiled to run (its
    estimate_s then includes building the host code), run and compared."""
    import traceback

    from tessera.compare import Tolerance
    from tessera.context import parse_module
    from tessera.mlir import ir
    from tessera.target import get_target

    row: dict = {"status": "ok", "error": ""}
    start = time.perf_counter()
    try:
        context = _worker_context(plugins)
        backend = get_target(target)
        hw = backend.hardware(spec)
        with context, ir.Location.unknown():
            module = parse_module(text, model)
        if check is None:
            report = backend.estimate(module, hw)
        else:  # compiled to run: the same report, and outputs to compare
            program = backend.compile(module, hw)
            report = program.report
        row.update(report.measures())
        if "energy_uj" in row and "cycles" in row:
            row["edp_uj_cycles"] = row["energy_uj"] * row["cycles"]
        row.update(report.details())
        row["compile_s"] = report.timings.get("passes_s", 0.0)
        row["estimate_s"] = report.timings.get("backend_s", 0.0)
        if check is not None:
            inputs, expected = check
            ok, worst = Tolerance().compare(program(*inputs), expected)
            row["check"] = "ok" if ok else "mismatch"
            row["check_error"] = worst
            if not ok:
                row["status"] = "error"
                row["error"] = (f"outputs differ from PyTorch (max abs error {worst:.3g}): a "
                                f"bug in tessera for this design")
    except TesseraError as e:
        row.update(status="failed", error=str(e).strip().splitlines()[0])
    except Exception as e:  # a bug in tessera: recorded with where it happened
        frames = traceback.format_exception(e)
        row.update(status="error", error=f"internal error: {type(e).__name__}: {e} "
                                         f"[{''.join(frames[-3:]).strip()}]")
    row = {k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()}
    row["point_s"] = time.perf_counter() - start
    row["worker"] = f"{os.getpid()}@{os.uname().nodename}"
    row["node"] = _node_id()
    return row


def _node_id() -> str:
    """The Ray node running this task (empty outside Ray)."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return ""
    return ray.get_runtime_context().get_node_id()[:12]


# --- results: a journal and a Parquet file ---------------------------------------------


class Results:
    """The rows of a sweep on disk: `path` (Parquet) and `path.journal` (JSON lines)."""

    def __init__(self, path: str, resume: bool, overwrite: bool, retry_failed: bool = False):
        self.path = Path(path)
        self.journal = Path(f"{path}.journal")
        if self.path.is_dir():
            raise TesseraError(f"results file '{path}' is a directory")
        exists = self.path.exists() or self.journal.exists()
        if exists and not (resume or overwrite):
            raise TesseraError(f"results file '{path}' exists: pass --resume to continue "
                               f"that sweep or --overwrite to start again")
        if exists and overwrite and not resume:
            self.path.unlink(missing_ok=True)
            self.journal.unlink(missing_ok=True)
        self.rows: list[dict] = self._read() if resume else []
        if retry_failed:  # evaluated again: their rows are replaced
            self.rows = [r for r in self.rows if r["status"] == "ok"]
        self.done = {(r["model"], r["point_key"]) for r in self.rows}
        self._last_flush = 0.0
        self._flush_cost = 0.0
        self._dirty = False
        from tessera.files import writable

        writable(self.path, "results file")
        try:
            self._journal = open(self.journal, "a", encoding="utf-8")
        except OSError as e:
            raise TesseraError(f"cannot write results next to '{path}': {e.strerror}") from None

    def _read(self) -> list[dict]:
        rows: dict = {}
        if self.path.exists():
            for row in read_results(str(self.path)).to_dict("records"):
                rows[(row["model"], row["point_key"])] = row
        if self.journal.exists():
            for line in self.journal.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill
                rows[(row["model"], row["point_key"])] = row
        return list(rows.values())

    def add(self, row: dict) -> None:
        self.rows.append(row)
        self.done.add((row["model"], row["point_key"]))
        self._journal.write(json.dumps(row, default=str) + "\n")
        self._journal.flush()
        self._dirty = True

    def flush(self, force: bool = False) -> None:
        """Rewrite the Parquet file from every row (atomically), at most every few
        seconds unless `force`."""
        now = time.monotonic()
        wait = max(FLUSH_SECONDS, 10 * self._flush_cost)
        if not self._dirty or (not force and now - self._last_flush < wait):
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame(self.rows), preserve_index=False)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        now = time.monotonic()  # the cost of writing, not of importing pyarrow
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, self.path)
        except OSError as e:
            raise TesseraError(f"cannot write results file '{self.path}': {e.strerror}") from None
        self._flush_cost = time.monotonic() - now
        self._last_flush = time.monotonic()
        self._dirty = False

    def close(self) -> None:
        """Write the Parquet file with every row; the journal is then no longer needed
        (it stays only when the driver dies before this)."""
        self._journal.close()
        if self.rows:
            self._dirty = True
            self.flush(force=True)
        self.journal.unlink(missing_ok=True)


def frame(rows: list[dict]):
    """The rows as a pandas DataFrame: key and status columns first, in point order."""
    import pandas as pd

    df = pd.DataFrame(rows)
    if df.empty:
        return df
    axes = [part.partition("=")[0] for part in str(rows[0].get("point_key", "")).split(",")]
    first = [c for c in ("model", "point", *axes, "status", "error", "point_key", "hw")
             if c in df]
    df = df[first + [c for c in df.columns if c not in first]]
    return df.sort_values(["model", "point"], kind="stable").reset_index(drop=True)


def read_results(path: str):
    """A results file as a DataFrame (errors as TesseraError)."""
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise TesseraError(f"no results file '{path}'") from None
    except Exception as e:  # pyarrow's errors for a file that is not Parquet
        raise TesseraError(f"cannot read results file '{path}': {str(e).splitlines()[0]}") \
            from None


# --- progress ------------------------------------------------------------------------


class Progress:
    """`[#####.....] done/total points, rate, ETA` on stderr: redrawn in place on a
    terminal, a line every 10% (or 30 s) otherwise."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self._shown = -1.0
        self._step = 0

    def update(self, done: int, failed: int) -> None:
        self.done, self.failed = done, failed
        now = time.monotonic()
        step = self.done * 10 // max(self.total, 1)
        if not self.enabled:
            return
        if self.tty and now - self._shown < 0.2 and self.done < self.total:
            return
        if not self.tty and step == self._step and now - self._shown < 30 and \
                self.done < self.total:
            return
        self._shown, self._step = now, step
        end = "\n" if not self.tty or self.done == self.total else ""
        self.stream.write(("\r" if self.tty else "") + self.line(now) + end)
        self.stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else math.inf
        width = 30
        bar = "#" * (width * self.done // max(self.total, 1))
        eta = f"ETA {left:.0f} s" if math.isfinite(left) else "ETA ?"
        failed = f", {self.failed} not ok" if self.failed else ""
        return (f"sweep [{bar.ljust(width, '.')}] {self.done}/{self.total} points{failed}, "
                f"{rate:.2f}/s, {elapsed:.0f} s, {eta}")


# --- the driver ------------------------------------------------------------------------


@dataclass
class Summary:
    """What a `run` did."""

    rows: list[dict]
    total: int  # points x models in the space
    skipped: int  # already in the results (resume)
    evaluated: int
    seconds: float
    fronts: dict = field(default_factory=dict)  # model -> front-half seconds

    def frame(self):
        return frame(self.rows)


def _start_ray(address: str | None, workers: int | None):
    import logging

    import ray

    if ray.is_initialized():
        return ray, False
    options = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                   configure_logging=True)
    try:
        if address:
            _reachable(address)  # Ray itself waits for an absent cluster for minutes
            ray.init(address=address, **options)
        else:
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local, private instance
            ray.init(num_cpus=workers or os.cpu_count() or 1, **options)
    except (ConnectionError, ValueError, RuntimeError) as e:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise TesseraError(f"could not start or join {where}: {str(e).splitlines()[0]}") \
            from None
    return ray, True


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Raise a TesseraError unless something listens at `address` ([ray://]HOST:PORT;
    'auto' is left to Ray)."""
    import socket

    if address == "auto":
        return
    host, colon, port = address.removeprefix("ray://").rpartition(":")
    if not colon or not port.isdigit() or not host:
        raise TesseraError(f"--address expects HOST:PORT (or ray://HOST:PORT, or auto), got "
                           f"'{address}'")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except (OSError, ValueError) as e:
        raise TesseraError(f"cannot reach a Ray cluster at {address}: "
                           f"{getattr(e, 'strerror', None) or e}") from None


def run(space: Space, models: list[tuple[str, object, tuple]], out: str, *,
        address: str | None = None, workers: int | None = None, check: int = 0,
        resume: bool = False, overwrite: bool = False, retry_failed: bool = False,
        retries: int = 2,
        plugins: tuple[str, ...] = (), progress: bool = True, seed: int = 0) -> Summary:
    """Evaluate every (model, point) of `space` on Ray and write the rows to `out`.

    `models` are (name, torch.nn.Module or MLIR text, example inputs). `check` points,
    sampled with `seed`, are also run for real and compared with PyTorch. Returns the
    rows of this and earlier runs (with `resume`; `retry_failed` evaluates the points
    that were not ok again)."""
    from tessera.target import get_target

    if check < 0 or retries < 0:
        raise TesseraError("check and retries must be non-negative")
    if not models:
        raise TesseraError("a sweep needs at least one model")
    backend = get_target(space.target)
    points = space.points()
    names = [name for name, _, _ in models]
    if len(set(names)) != len(names):
        raise TesseraError(f"models must have distinct names, got {', '.join(names)}")
    results = Results(out, resume, overwrite, retry_failed)
    base = space.base or backend.default_preset
    todo = [(name, p) for name in names for p in points if (name, p.key) not in results.done]
    checked = set(random.Random(seed).sample(range(len(points)), min(check, len(points))))
    start = time.monotonic()
    total = len(points) * len(names)
    summary = Summary(results.rows, total, total - len(todo), len(todo), 0.0)
    try:
        fronts = {}
        for name, model, inputs in models:
            if any(n == name for n, _ in todo):
                fronts[name] = front_half(name, model, inputs, backend.name,
                                          check=any(p.index in checked for _, p in todo))
                summary.fronts[name] = fronts[name].front_s
        _sweep(results, todo, fronts, backend.name, base, checked, plugins, address,
               workers, retries, Progress(len(todo), enabled=progress))
    finally:
        results.close()
    summary.seconds = time.monotonic() - start
    return summary


def _sweep(results: Results, todo, fronts, target, base, checked, plugins, address,
           workers, retries, progress: Progress) -> None:
    if not todo:
        return
    ray, started = _start_ray(address, workers)
    try:
        # SPREAD: a cluster's nodes share the points (the default keeps reusing the
        # driver's node while its leased workers finish tasks quickly).
        task = ray.remote(num_cpus=1, max_retries=retries,
                          scheduling_strategy="SPREAD")(evaluate)
        refs = {name: ray.put(f.text) for name, f in fronts.items()}
        checks = {name: ray.put((f.inputs, f.expected)) for name, f in fronts.items()
                  if f.inputs or f.expected}
        window = 4 * int(ray.cluster_resources().get("CPU", 1)) + 4
        queue = collections.deque(todo)
        pending: dict = {}
        done = failed = 0
        while queue or pending:
            while queue and len(pending) < window:
                name, p = queue.popleft()
                check = checks.get(name) if p.index in checked else None
                spec = p.spec(base)
                pending[task.remote(target, spec, name, refs[name], plugins, check)] = \
                    (name, p, spec)
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.25)
            for ref in ready:
                name, p, spec = pending.pop(ref)
                row = _row_of(ray, ref)
                row.update(model=name, point=p.index, point_key=p.key, hw=spec,
                           **dict(p.values))
                row.setdefault("check", "" if p.index not in checked else "not run")
                results.add(row)
                done += 1
                failed += row["status"] != "ok"
            progress.update(done, failed)
            results.flush()
    finally:
        if started:
            ray.shutdown()


def _row_of(ray, ref) -> dict:
    """The task's row, or a row saying how the task died."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:  # evaluate itself never raises; a bug in Ray's
        return {"status": "error", "error": f"task failed: {str(e).splitlines()[0]}"}
    except ray.exceptions.RayError as e:  # the worker died (and its retries did)
        return {"status": "crashed",
                "error": f"worker died: {type(e).__name__}: {str(e).splitlines()[0]}"}


# --- the Pareto front --------------------------------------------------------------------


def pareto(df, objectives=DEFAULT_OBJECTIVES):
    """The rows of `df` (status ok) that no other row of the same model beats on every
    objective (all minimized), sorted by model and the first objective."""
    import pandas as pd

    missing = [o for o in objectives if o not in df.columns]
    if missing:
        raise TesseraError(f"no column {', '.join(missing)} to build a front on (columns: "
                           f"{', '.join(df.columns)})")
    ok = df[(df["status"] == "ok")].dropna(subset=list(objectives))
    keep = []
    for _, group in ok.groupby("model", sort=True):
        values = group[list(objectives)].to_numpy(dtype=float)
        for i in range(len(values)):
            dominated = ((values <= values[i]).all(axis=1) &
                         (values < values[i]).any(axis=1)).any()
            if not dominated:
                keep.append(group.index[i])
    front = ok.loc[keep]
    return front.sort_values(["model", objectives[0]], kind="stable") if len(front) else \
        pd.DataFrame(columns=df.columns)


def plot(df, path: str, objectives=DEFAULT_OBJECTIVES) -> None:
    """PNG: per model, every ok point by the first two objectives (log scale where they
    span more than 20x), marker area proportional to the design's area, the points of the
    Pareto front (over all objectives) circled in red and labelled with their numbers."""
    from tessera.files import pyplot, save_png

    plt = pyplot(path)
    x, y = objectives[0], objectives[1] if len(objectives) > 1 else "energy_uj"
    ok = df[df["status"] == "ok"]
    front = pareto(df, objectives)
    models = sorted(ok["model"].unique())
    if not models:
        raise TesseraError("no successful points to plot")
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4.5), squeeze=False)
    for ax, model in zip(axes[0], models):
        points = ok[ok["model"] == model]
        edge = front[front["model"] == model].sort_values(x)
        area = points["area_mm2"] if "area_mm2" in points else None
        scale = 300 / area.max() if area is not None and area.max() > 0 else 1
        sizes = (area * scale).clip(lower=8) if area is not None else 30
        ax.scatter(points[x], points[y], s=sizes, alpha=0.35, color="tab:blue",
                   label="design points (size = area)")
        ax.scatter(edge[x], edge[y], s=sizes[edge.index] if area is not None else 30,
                   facecolors="none", edgecolors="tab:red", linewidths=1.5,
                   label=f"Pareto front ({', '.join(objectives)})")
        for row in edge.itertuples():
            ax.annotate(str(row.point), (getattr(row, x), getattr(row, y)), fontsize=7,
                        xytext=(3, 3), textcoords="offset points", color="tab:red")
        for column, set_scale in ((points[x], ax.set_xscale), (points[y], ax.set_yscale)):
            if column.min() > 0 and column.max() / column.min() > 20:
                set_scale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{model}: {len(points)} points, {len(edge)} on the front")
        ax.legend(loc="best", fontsize=8)
    save_png(fig, path)
