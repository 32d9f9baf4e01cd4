"""Hostile input: nothing a user types may crash a tessera tool or the Python API.

Every case of test/hostile/corpus.py (and every input the hypothesis fuzzers below
generate) runs in test/hostile/worker.py: many cases in one Python process, with a
per-case timeout, restarted after a case kills it. Per case this asserts: no Python
traceback, no signal, no hang, never the last-resort `internal error` (exit 70); for
invalid input a non-zero exit and an `error:` line on stderr (for the API: a
TesseraError); for the valid controls, exit 0.

    .venv/bin/pytest -q test/python/test_hostile.py                # corpus + fuzzers
    .venv/bin/pytest -q test/python/test_hostile.py -k segments    # only those cases run
    HOSTILE_JOBS=1 HOSTILE_RESULTS=out.json .venv/bin/pytest ...   # one worker; keep results

HOSTILE_JOBS (default 2) workers share the corpus; HOSTILE_TIMEOUT bounds one worker
batch in seconds (default 600); HOSTILE_EXAMPLES scales the fuzzers (default 1.0);
HOSTILE_MEMORY_GB caps each worker's address space (default 12); HOSTILE_RESULTS names a
JSON file that receives every case's raw result.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
HOSTILE = REPO / "test" / "hostile"
WORKER = HOSTILE / "worker.py"
sys.path.insert(0, str(HOSTILE))

import corpus  # noqa: E402

JOBS = max(1, int(os.environ.get("HOSTILE_JOBS", "2")))
BATCH_TIMEOUT = float(os.environ.get("HOSTILE_TIMEOUT", "600"))
SCALE = float(os.environ.get("HOSTILE_EXAMPLES", "1.0"))


def _introspect() -> tuple[str, dict[str, str]]:
    """`tessera-opt --list-passes` and each tool's --help, from one fresh process."""
    script = (
        "import contextlib, io, json, sys\n"
        "from tessera.tools import tessera_opt, tessera_compile, tessera_sim, tessera_check\n"
        "out = {}\n"
        "for name, tool, argv in (('passes', tessera_opt, ['--list-passes']),\n"
        "        ('tessera-opt', tessera_opt, ['--help']),\n"
        "        ('tessera-compile', tessera_compile, ['--help']),\n"
        "        ('tessera-sim', tessera_sim, ['--help']),\n"
        "        ('tessera-check', tessera_check, ['--help'])):\n"
        "    buf = io.StringIO()\n"
        "    try:\n"
        "        with contextlib.redirect_stdout(buf):\n"
        "            tool.main(argv)\n"
        "    except BaseException:\n"
        "        pass\n"
        "    out[name] = buf.getvalue()\n"
        "print(json.dumps(out))\n")
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120, cwd=REPO)
        texts = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError):
        texts = {}
    return texts.get("passes", ""), {k: v for k, v in texts.items() if k != "passes"}


LIST_PASSES, HELP = _introspect()
PASSES = corpus.parse_list_passes(LIST_PASSES)
CASES = corpus.build(PASSES)
BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "duplicate case names in the corpus"


# --- running cases in workers -----------------------------------------------------------


def _read_results(path: Path) -> tuple[dict[str, dict], dict | None]:
    """(finished results by name, the `started` record of an unfinished case or None)."""
    results, open_case = {}, None
    if not path.exists():
        return results, None
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by the death of the worker
        if "started" in record:
            open_case = record
        else:
            results[record["name"]] = record
            if open_case and open_case["started"] == record["name"]:
                open_case = None
    return results, open_case


def _crash_excerpt(crash_log: Path, name: str) -> list[str]:
    """What faulthandler wrote while case `name` ran (its last run)."""
    if not crash_log.exists():
        return []
    text = crash_log.read_text(errors="replace")
    marker = f"=== started case {name}\n"
    if marker not in text:
        return []
    lines = [ln for ln in text.rsplit(marker, 1)[1].splitlines() if ln.strip()]
    return lines[:12]


class _Shard:
    """One worker process over a share of the cases, restarted after each death."""

    def __init__(self, index: int, cases: list, workdir: Path):
        self.cases = cases
        self.cases_path = workdir / f"cases-{index}.json"
        self.results_path = workdir / f"results-{index}.jsonl"
        self.crash_path = workdir / f"crash-{index}.log"
        self.log_path = workdir / f"worker-{index}.log"
        self.cases_path.write_text(json.dumps([c.to_json() for c in cases]))
        self.proc = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER), str(self.cases_path), str(self.results_path),
                 str(self.crash_path)], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)

    def record_death(self, rc: int | None, killed_for_time: bool = False) -> bool:
        """Write a result for the case the worker died in; False if there was none."""
        _, open_case = _read_results(self.results_path)
        if open_case is None:
            return False
        name = open_case["started"]
        case_dir = Path(open_case.get("dir", "/nonexistent"))
        stderr = (case_dir / "stderr").read_bytes() if (case_dir / "stderr").exists() else b""
        stdout = (case_dir / "stdout").read_bytes() if (case_dir / "stdout").exists() else b""
        excerpt = _crash_excerpt(self.crash_path, name)
        result = {"name": name, "exit": None, "crash": excerpt,
                  "stderr": stderr.decode(errors="backslashreplace").splitlines()[:25],
                  "stderr_tail": stderr.decode(errors="backslashreplace").splitlines()[-6:],
                  "stdout": stdout.decode(errors="backslashreplace").splitlines()[:25],
                  "traceback": b"Traceback (most recent call last)" in stderr + stdout}
        if killed_for_time:
            result["timeout"] = "the whole batch ran out of time in this case"
        elif any(ln.startswith("Timeout (") for ln in excerpt):
            result["timeout"] = "the watchdog stopped the worker"
        elif rc is not None and rc < 0:
            try:
                result["signal"] = signal.Signals(-rc).name
            except ValueError:
                result["signal"] = f"signal {-rc}"
        else:
            result["died"] = rc
        with open(self.results_path, "a") as f:
            f.write(json.dumps(result) + "\n")
        shutil.rmtree(case_dir, ignore_errors=True)
        return True


# Rough seconds per case, to share the cases out evenly.
_COST = {"tessera-opt": 0.1, "tessera": 0.1, "api": 0.5, "tessera-compile": 1.5,
         "tessera-sim": 1.5, "tessera-check": 3.0}


def _uses_torch(case) -> bool:
    texts = [case.setup] + [v for v in case.files.values() if isinstance(v, str)]
    return any("import torch" in t for t in texts)


def _shares(cases: list, jobs: int) -> list[list]:
    """`jobs` lists of cases of about equal cost; neighbours stay together (in runs of up
    to 20 cases of one group) so that what a worker caches serves the next case."""
    chunks: list[list] = []
    for case in cases:
        if chunks and chunks[-1][-1].group == case.group and len(chunks[-1]) < 20:
            chunks[-1].append(case)
        else:
            chunks.append([case])
    cost = lambda chunk: sum(_COST.get(c.tool, 1.0) for c in chunk)  # noqa: E731
    shares, loads = [[] for _ in range(jobs)], [0.0] * jobs
    # Importing torch costs seconds per process: the cases that do share one worker.
    for chunk in sorted(chunks, key=lambda ch: (not any(map(_uses_torch, ch)), -cost(ch))):
        i = 0 if any(map(_uses_torch, chunk)) else loads.index(min(loads))
        shares[i] += chunk
        loads[i] += cost(chunk)
    return shares


def run_cases(cases: list, workdir: Path, jobs: int = JOBS,
              timeout: float = BATCH_TIMEOUT) -> dict[str, dict]:
    """Run `cases` in `jobs` workers; return the result of each case by name."""
    workdir.mkdir(parents=True, exist_ok=True)
    shares = [share for share in _shares(cases, jobs) if share]
    shards = [_Shard(i, share, workdir) for i, share in enumerate(shares)]
    for shard in shards:
        shard.start()
    deadline = time.monotonic() + timeout
    running = list(shards)
    try:
        while running:
            time.sleep(0.05)
            for shard in list(running):
                rc = shard.proc.poll()
                if rc is None:
                    if time.monotonic() > deadline:
                        os.killpg(shard.proc.pid, signal.SIGKILL)
                        shard.proc.wait()
                        shard.record_death(None, killed_for_time=True)
                        running.remove(shard)
                    continue
                done, _ = _read_results(shard.results_path)
                died_in_case = rc != 0 and shard.record_death(rc)
                if rc == 0 or len(done) + died_in_case >= len(shard.cases):
                    running.remove(shard)
                elif rc == 3 or died_in_case:
                    shard.start()  # the rest of the share in a fresh worker
                else:  # the worker itself is broken: say so in every result it owes
                    running.remove(shard)
                    log = shard.log_path.read_text(errors="replace")[-2000:]
                    with open(shard.results_path, "a") as f:
                        for case in shard.cases:
                            if case.name not in done:
                                f.write(json.dumps({"name": case.name, "exit": None,
                                                    "setup_error": f"worker exited {rc}: {log}"})
                                        + "\n")
    finally:  # interrupted: leave no worker behind
        for shard in running:
            if shard.proc.poll() is None:
                os.killpg(shard.proc.pid, signal.SIGKILL)
                shard.proc.wait()
    results: dict[str, dict] = {}
    for shard in shards:
        results.update(_read_results(shard.results_path)[0])
    if os.environ.get("HOSTILE_RESULTS"):
        path = Path(os.environ["HOSTILE_RESULTS"])
        old = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**old, **results}, indent=1))
    return results


# --- judging one result -----------------------------------------------------------------


def problems(case, result: dict | None) -> list[str]:
    """What is wrong with how `case` ended (empty when it ended as the project rule says)."""
    if result is None:
        return ["no result: the batch ended before this case ran"]
    if result.get("setup_error"):
        return [f"setup failed: {result['setup_error']}"]
    found = []
    if result.get("signal"):
        found.append(f"killed by {result['signal']}")
    if result.get("timeout"):
        found.append(f"hang: no answer within {case.timeout:g} s ({result['timeout']})"
                     if isinstance(result["timeout"], str) else
                     f"hang: no answer within {case.timeout:g} s")
    if result.get("died") is not None:
        found.append(f"the process exited with status {result['died']} in the middle of the case")
    if result.get("traceback") and not result.get("timeout"):  # not the timeout's own
        found.append("Python traceback in the output")
    if result.get("internal"):
        found.append("'internal error' in the output")
    if found:
        return found
    if case.tool == "api":
        raised = result.get("raised")
        if raised and not result.get("tessera_error"):
            found.append(f"raised {raised}: {result.get('message')} (not a TesseraError)")
        elif raised and "internal error" in (result.get("message") or ""):
            found.append(f"raised an internal error: {result.get('message')}")
        elif raised and case.expect == corpus.OK:
            found.append(f"raised {raised} on valid input: {result.get('message')}")
        elif not raised and case.expect == corpus.FAIL:
            found.append("no error raised for invalid input")
        return found
    code = result.get("exit")
    if code == 70:
        found.append("exit status 70 (the last-resort internal-error handler)")
    if code == 0 and case.expect == corpus.FAIL:
        found.append("exit 0 on invalid input")
    if code != 0 and case.expect == corpus.OK:
        found.append(f"exit {code} on valid input")
    if code != 0 and not result.get("error_line"):
        found.append(f"exit {code} without an `error:` line on stderr")
    return found


def describe(case, result: dict | None, found: list[str]) -> str:
    lines = [f"{case.name} [{case.group}, expect {case.expect}]: {'; '.join(found)}",
             f"    run: {case.command()}"]
    if result:
        if result.get("hung_in"):
            lines += [f"    hung in: {frame}" for frame in result["hung_in"]]
        if result.get("exception"):
            lines.append(f"    exception: {result['exception']}")
        if result.get("exc_traceback"):
            lines += ["    " + ln for ln in result["exc_traceback"].splitlines()[-4:]]
        stderr = result.get("stderr") or []
        shown = stderr[:6]
        tail = [ln for ln in result.get("stderr_tail") or [] if ln not in shown]
        lines += [f"    stderr: {ln}" for ln in shown]
        if tail and len(stderr) > 6:
            lines += ["    stderr: ..."] + [f"    stderr: {ln}" for ln in tail[-3:]]
        if not stderr and result.get("stdout"):
            lines += [f"    stdout: {ln}" for ln in result["stdout"][:4]]
        lines += [f"    crash: {ln}" for ln in (result.get("crash") or [])[:6]]
    return "\n".join(lines)


def assert_clean(cases: list, results: dict[str, dict]) -> None:
    """Collect every case's problems, then fail once with all of them."""
    failures = [(c, results.get(c.name), problems(c, results.get(c.name))) for c in cases
                if not (results.get(c.name) or {}).get("not_applicable")]
    failures = [f for f in failures if f[2]]
    if failures:
        summary = {}
        for _, _, found in failures:
            for problem in found:
                kind = re.sub(r"(?<=exit )-?\d+(?= (without|on valid))", "N",
                              problem.split(": ")[0])
                summary[kind] = summary.get(kind, 0) + 1
        head = [f"{len(failures)} of {len(cases)} inputs were not handled cleanly:"]
        head += [f"  {count:4} x {kind}" for kind, count in sorted(summary.items())]
        shown = [describe(*f) for f in failures[:40]]
        more = [f"... and {len(failures) - 40} more"] if len(failures) > 40 else []
        pytest.fail("\n".join(head + [""] + shown + more), pytrace=False)


# --- the corpus ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_results(request, tmp_path_factory):
    """Run the corpus cases this session selected (all of them by default), once."""
    selected = {item.callspec.params["name"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_case"
                and hasattr(item, "callspec")}
    cases = [c for c in CASES if c.name in selected] or CASES
    return run_cases(cases, tmp_path_factory.mktemp("hostile-corpus"))


def test_corpus_covers_the_passes():
    assert PASSES, f"`tessera-opt --list-passes` listed no tessera passes:\n{LIST_PASSES[:2000]}"


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_case(name, corpus_results):
    case, result = BY_NAME[name], corpus_results.get(name)
    if result and result.get("not_applicable"):
        pytest.skip(result["not_applicable"])
    found = problems(case, result)
    if found:
        pytest.fail(describe(case, result, found), pytrace=False)


# --- fuzzing: hypothesis draws the inputs, one worker batch runs them ----------------------


def draw(strategy, examples: int) -> list:
    """`examples` deterministic draws from `strategy` (duplicates removed)."""
    drawn = []

    @settings(max_examples=max(1, int(examples * SCALE)), derandomize=True, database=None,
              deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value):
        drawn.append(value)

    collect()
    unique, seen = [], set()
    for value in drawn:
        key = json.dumps(value.to_json(), sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(value)
    return unique


def _seeds() -> list[str]:
    """Valid-looking MLIR from the lit suite, one `// -----` chunk each, small ones."""
    chunks = []
    for path in sorted(REPO.glob("test/**/*.mlir")):
        if "Output" in path.parts or "hostile" in path.parts:
            continue
        text = path.read_text(errors="replace")
        for chunk in text.split("// -----"):
            if "func.func" in chunk and len(chunk) < 6000:
                chunks.append(chunk)
    return chunks or [corpus.MATMUL]


SEEDS = _seeds()
PIPELINES = [
    [],
    ["--tessera-linalg-to-systolic", "--tessera-systolic-tile"],
    ["--pass-pipeline=builtin.module(tessera-linalg-to-systolic,tessera-systolic-to-linalg,"
     "canonicalize)"],
    ["--tessera-linalg-to-systolic", "--tessera-systolic-to-vector"],
    ["--tessera-conv-to-matmul", "--tessera-linalg-to-systolic", "--tessera-systolic-fuse-epilogue",
     "--tessera-systolic-tile", "--tessera-tile-distribute"],
    ["--split-input-file", "--canonicalize"],
    ["--verify-diagnostics", "--split-input-file"],
    ["--tessera-linalg-to-systolic", "--tessera-systolic-to-amx", "--tessera-amx-emulate"],
]
BRACKETS = b"()[]{}<>\""
NEST = [b"(", b"[", b"{", b"<", b"tensor<", b"module {", b"affine_map<(d0) -> (",
        b"scf.execute_region -> i32 {"]


@st.composite
def malformed_mlir(draw_):
    data = bytearray(draw_(st.sampled_from(SEEDS)).encode())
    for _ in range(draw_(st.integers(1, 3))):
        kind = draw_(st.sampled_from(["truncate", "flip", "insert-bracket", "delete-bracket",
                                      "deep", "wrap-modules", "nest-type", "huge-int", "nul",
                                      "binary", "non-utf8", "duplicate-line", "swap-type",
                                      "negate"]))
        at = draw_(st.integers(0, len(data)))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip" and data:
            i = min(at, len(data) - 1)
            data[i] ^= draw_(st.integers(1, 255))
        elif kind == "insert-bracket":
            data[at:at] = bytes([draw_(st.sampled_from(list(BRACKETS)))]) * draw_(
                st.integers(1, 3))
        elif kind == "delete-bracket":
            spots = [i for i, b in enumerate(data) if b in BRACKETS]
            if spots:
                del data[draw_(st.sampled_from(spots))]
        elif kind == "deep":
            data[at:at] = draw_(st.sampled_from(NEST)) * draw_(st.sampled_from([100, 3000, 30000]))
        elif kind == "wrap-modules":  # valid nesting, as deep as it gets
            depth = draw_(st.sampled_from([50, 1000, 5000]))
            data = bytearray(b"module {" * depth + bytes(data) + b"}" * depth)
        elif kind == "nest-type":
            depth = draw_(st.sampled_from([50, 1000, 5000]))
            wrapper = draw_(st.sampled_from([b"tuple<", b"vector<4x", b"complex<"]))
            data = bytearray(bytes(data).replace(
                b"f32", wrapper * depth + b"f32" + b">" * depth, 1))
        elif kind == "huge-int":
            digits = draw_(st.sampled_from([20, 40, 400, 100000]))
            data[at:at] = b"9" * digits
        elif kind == "nul":
            data[at:at] = b"\x00"
        elif kind == "binary":
            data[at:at] = draw_(st.binary(min_size=1, max_size=16))
        elif kind == "non-utf8":
            data[at:at] = draw_(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xff",
                                                 b"\x80\x80"]))
        elif kind == "duplicate-line":
            lines = bytes(data).split(b"\n")
            i = draw_(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = bytearray(b"\n".join(lines))
        elif kind == "swap-type":
            old = draw_(st.sampled_from([b"f32", b"i8", b"i32", b"index", b"4x", b"16"]))
            new = draw_(st.sampled_from([b"f64", b"i1", b"ui8", b"complex<f32>", b"?x", b"0",
                                         b"-1", b"4294967296", b"tensor<f32>"]))
            data = bytearray(bytes(data).replace(old, new, draw_(st.integers(1, 3))))
        elif kind == "negate":
            data = bytearray(re.sub(rb"(?<=[ <x])(\d+)", rb"-\1", bytes(data), count=2))
    via_stdin = draw_(st.booleans())
    pipeline = draw_(st.sampled_from(PIPELINES))
    return corpus.Case(name="", group="fuzz-mlir", tool="tessera-opt",
                       argv=["-" if via_stdin else "in.mlir", *pipeline],
                       stdin=bytes(data) if via_stdin else b"",
                       files={} if via_stdin else {"in.mlir": bytes(data)}, expect=corpus.ANY)


HOSTILE_VALUES = st.one_of(
    st.integers(-(1 << 200), 1 << 200).map(str),
    st.integers((1 << 62) - 2, (1 << 65) + 2).map(str),  # around the 64-bit edges
    st.integers(-(1 << 65), -(1 << 62)).map(str),
    st.sampled_from(["1_000", "²", "٣", "１６", "-0", "+1", "1e3", "0x10", "0b1", "", '"', "'",
                     '"8"', "1.5", "nan", "inf", "-inf", "true", "yes", "None",
                     str(1 << 63), str(1 << 64), str(-(1 << 63) - 1), "8 8", "{}", "}", "=",
                     "ws", "a100", "gemmini-16x16"]),
    st.text(st.characters(blacklist_characters="\x00"), max_size=12),
)


def _acceptable_option(kind: str, value: str) -> bool:
    """Whether a value could be valid for an option of this type: an int option takes
    ASCII digits within a signed 64-bit non-negative range, a bool true/false/1/0."""
    if kind == "int":
        return bool(re.fullmatch(r"[+-]?[0-9]{1,19}", value)) and 0 <= int(value) < 1 << 63
    if kind == "bool":
        return value.lower() in ("true", "false", "1", "0", "")
    return True


@st.composite
def pass_options(draw_):
    """One tessera pass with one or two of its own options set to hostile values (now and
    then an option it does not have)."""
    names = sorted(PASSES) or ["tessera-systolic-tile"]
    name = draw_(st.sampled_from(names))
    known = PASSES.get(name, {})
    items, expect = [], corpus.ANY
    for key in (draw_(st.lists(st.sampled_from(sorted(known)), min_size=1, max_size=2))
                if known else []):
        value = draw_(HOSTILE_VALUES)
        items.append(f"{key}={value}")
        if not _acceptable_option(known[key], value):
            expect = corpus.FAIL
    if not known or draw_(st.integers(0, 5)) == 0:
        key = draw_(st.sampled_from(["rows", "x", "", "-", "spad_bytes", "ｒｏｗｓ"]))
        items.insert(draw_(st.integers(0, len(items))), f"{key}={draw_(HOSTILE_VALUES)}")
        if key not in known:
            expect = corpus.FAIL
    options = " ".join(items)
    if draw_(st.booleans()):
        argv = ["mm.mlir", f"--pass-pipeline=builtin.module({name}{{{options}}},canonicalize)"]
    else:
        argv = ["mm.mlir", f"--{name}={options}"]
    return corpus.Case(name="", group="fuzz-options", tool="tessera-opt", argv=argv,
                       files={"mm.mlir": corpus.MATMUL}, expect=expect)


def _flags(tool: str) -> dict[str, bool]:
    """The tool's flags from its --help usage line: flag -> whether it takes a value."""
    usage = HELP.get(tool, "").split("\n\n")[0]
    found = {flag: bool(value) for flag, value in
             re.findall(r"[\[|] ?(--?[a-zA-Z][\w-]*)(?: ([A-Z][A-Z_]*|\{[^}]*\}))?", usage)}
    for skip in ("-h", "--help", "--all-targets"):  # --all-targets: a minute per valid run
        found.pop(skip, None)
    if tool == "tessera-opt":
        found.update({f"--{name}": False for name in PASSES})
    return found or {"--no-flag": False}


FUZZ_FILES = {"mm.mlir": corpus.MATMUL, "junk.mlir": "func.func @main( {\n", "dir": None,
              "latin1.mlir": b"\xff\xfe\x00", "model.py": "def tiny():\n    return 1, 2\n"}
POSITIONALS = ["mm.mlir", "mm.mlir", "mm.mlir", "junk.mlir", "dir", "latin1.mlir",
               "missing.mlir", "model.py:tiny", "model.py:nope", "model.py", "-", "", ":",
               "mm.mlir:x"]
NO_NUL = st.characters(blacklist_characters="\x00")


@st.composite
def cli_args(draw_):
    """A mostly well-formed command line: a source, then the tool's own flags (values
    where they take one, else sometimes `=value` anyway) with hostile values."""
    tool = draw_(st.sampled_from(["tessera-opt", "tessera-compile", "tessera-sim",
                                  "tessera-check", "tessera"]))
    argv, flags = [], _flags(tool)
    if tool == "tessera":
        sub = draw_(st.sampled_from(["opt", "compile", "sim", "check", "nope", "", "-x"]))
        argv.append(sub)
        flags = _flags(f"tessera-{sub}") if f"tessera-{sub}" in HELP else _flags("tessera-opt")
    argv.append(draw_(st.sampled_from(POSITIONALS)))
    for _ in range(draw_(st.integers(1, 4))):
        flag = draw_(st.sampled_from(sorted(flags)))
        value = draw_(HOSTILE_VALUES)
        style = draw_(st.integers(0, 9))
        if style == 0:  # something that is not a flag at all
            argv.append(draw_(st.text(NO_NUL, max_size=10)))
        elif flags[flag] or style == 1:
            argv += [f"{flag}={value}"] if style % 2 else [flag, value]
        else:
            argv.append(flag)
    if draw_(st.integers(0, 4)) == 0:
        argv.insert(draw_(st.integers(0, len(argv))), draw_(st.sampled_from(POSITIONALS)))
    if "check" in (tool, argv[0]):
        # Checking a valid model on every target takes a minute: keep to a subset.
        argv += ["--targets", draw_(st.sampled_from(["iree-cpu", "npu-sim", "nope", ",", ""]))]
    return corpus.Case(name="", group="fuzz-cli", tool=tool, argv=argv, files=dict(FUZZ_FILES),
                       stdin=draw_(st.sampled_from([b"", corpus.MATMUL.encode(), b"\xff\x00"])),
                       expect=corpus.ANY, timeout=30)


def _fuzz(strategy, examples: int, prefix: str, tmp_path) -> None:
    cases = draw(strategy, examples)
    for i, case in enumerate(cases):
        case.name = f"{prefix}-{i:03d}"
    results = run_cases(cases, tmp_path / prefix)
    assert_clean(cases, results)


def test_fuzz_malformed_mlir(tmp_path):
    """Truncated, bit-flipped, unbalanced, deeply nested, huge-literal and non-UTF-8
    mutations of the lit suite's inputs, through tessera-opt and a few pipelines."""
    _fuzz(malformed_mlir(), 120, "fuzz-mlir", tmp_path)


def test_fuzz_pass_options(tmp_path):
    """Hostile option values for every tessera pass --list-passes shows."""
    _fuzz(pass_options(), 100, "fuzz-options", tmp_path)


def test_fuzz_command_lines(tmp_path):
    """Random argument lists (each tool's own flags with hostile values) for every tool."""
    _fuzz(cli_args(), 40, "fuzz-cli", tmp_path)
