"""Run many hostile cases in one Python process and record how each one ended.

    python test/hostile/worker.py CASES.json RESULTS.jsonl CRASH.log

CASES.json is a list of serialized `corpus.Case`s. Each case runs in a fresh temporary
directory (its cwd while it runs) with its files written there, the tool's `main(argv)`
called in this process with fds 1 and 2 redirected to files (so output printed by MLIR's
C++ code is caught too), stdin replaced by the case's bytes, and SystemExit turned into
an exit status the way the interpreter does it. API cases exec their `setup` and then
their `call`, recording the type of anything that escapes the call.

Before a case, a line `{"started": NAME, ...}` is appended to RESULTS; after it, one
line with the result. A case that kills the process (a signal, a C++ abort) or runs past
its timeout (the faulthandler watchdog exits the process and dumps every thread's stack
into CRASH.log) leaves a `started` line without a result: the parent (test_hostile.py)
records it and starts a new worker, which skips every case already in RESULTS.
"""

from __future__ import annotations

import base64
import faulthandler
import io
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

TOOLS = {
    "tessera-opt": "tessera.tools.tessera_opt",
    "tessera-compile": "tessera.tools.tessera_compile",
    "tessera-sim": "tessera.tools.tessera_sim",
    "tessera-check": "tessera.tools.tessera_check",
    "tessera": "tessera.tools.tessera_main",
}
KEEP_LINES = 25  # lines of stdout/stderr kept in a result, for the report
WATCHDOG_GRACE = 10  # seconds after a soft timeout before the watchdog kills the process


class CaseTimeout(BaseException):
    """Raised by SIGALRM when a case runs past its timeout; a BaseException so that the
    code under test (`except Exception`) cannot swallow it."""


def _on_alarm(signum, frame):
    raise CaseTimeout()


def _tool(name: str):
    import importlib

    return importlib.import_module(TOOLS[name]).main


def _decode(data: str | None) -> bytes:
    return base64.b64decode(data) if data else b""


def _write_files(root: Path, files: dict) -> None:
    for rel, content in files.items():
        path = root / rel
        if content is None:  # a directory
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_decode(content))


def _substitute(arg: str, tmp: Path) -> str:
    return arg.replace("@REPO@", str(REPO)).replace("@TMP@", str(tmp))


class Redirect:
    """fds 0, 1, 2 and sys.stdin/stdout/stderr pointed at the case's files while it runs."""

    def __init__(self, stdin: bytes, out: Path, err: Path):
        self.stdin, self.out, self.err = stdin, out, err

    def __enter__(self):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        self.saved_streams = (sys.stdin, sys.stdout, sys.stderr)
        self.saved_fds = [os.dup(fd) for fd in (0, 1, 2)]
        stdin_path = self.out.with_name("stdin")
        stdin_path.write_bytes(self.stdin)
        for fd, path, flags in ((0, stdin_path, os.O_RDONLY),
                                (1, self.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                (2, self.err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            new = os.open(path, flags, 0o644)
            os.dup2(new, fd)
            os.close(new)
        # Fresh text streams over the redirected fds, with the interpreter's own encoding
        # and error handler (so binary stdin is decoded exactly as in a real run).
        orig_in, orig_out, orig_err = sys.__stdin__, sys.__stdout__, sys.__stderr__
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=orig_in.encoding,
                                     errors=orig_in.errors)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False),
                                      encoding=orig_out.encoding, errors=orig_out.errors)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False),
                                      encoding=orig_err.encoding, errors="backslashreplace",
                                      line_buffering=True)
        return self

    def __exit__(self, *exc):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        sys.stdin, sys.stdout, sys.stderr = self.saved_streams
        for fd, saved in zip((0, 1, 2), self.saved_fds):
            os.dup2(saved, fd)
            os.close(saved)
        return False


def _exit_status(e: SystemExit) -> int:
    """The process exit status the interpreter would give for an escaping SystemExit."""
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int) and not isinstance(code, bool):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def _run_tool(case: dict, tmp: Path) -> dict:
    main = _tool(case["tool"])
    argv = [_substitute(a, tmp) for a in case["argv"]]
    sys.argv = [case["tool"], *argv]
    try:
        code = main(argv)
        status = code if isinstance(code, int) and not isinstance(code, bool) else 0
        if code is not None and not isinstance(code, int):
            print(f"[worker] main returned {code!r}, not an int", file=sys.stderr)
            status = 1
    except SystemExit as e:
        status = _exit_status(e)
    except CaseTimeout:
        raise
    except BaseException as e:  # what the interpreter would print before exiting with 1
        traceback.print_exception(type(e), e, e.__traceback__.tb_next)  # minus this frame
        status = 1
    return {"exit": status}


def _run_api(case: dict, tmp: Path, shared: dict) -> dict:
    namespace = {"__name__": "__hostile_api__", "tmp": tmp, "REPO": REPO, "shared": shared}
    try:
        exec(compile(case["setup"] or "pass", f"<{case['name']}:setup>", "exec"), namespace)
    except CaseTimeout:
        raise
    except BaseException as e:
        traceback.print_exc()
        return {"exit": None, "setup_error": f"{type(e).__name__}: {_first_line(e)}"}
    try:
        exec(compile(case["call"], f"<{case['name']}:call>", "exec"), namespace)
    except CaseTimeout:
        raise
    except BaseException as e:
        from tessera.errors import TesseraError

        cls = type(e)
        return {"exit": None, "raised": f"{cls.__module__}.{cls.__qualname__}",
                "tessera_error": isinstance(e, TesseraError), "message": _first_line(e),
                "exc_traceback": traceback.format_exc()[-3000:]}
    return {"exit": None, "raised": None}


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else ""


def _derive(case: dict, tmp: Path) -> str | None:
    """Make the case's derived input file: run a tool on a valid input, then edit its
    output textually. Returns why it could not be made (the case then fails as a setup
    error), "n/a: ..." when the edit does not apply to what the tool printed, or None."""
    derive = case["derive"]
    if not derive:
        return None
    out, err = tmp / "derive.stdout", tmp / "derive.stderr"
    with Redirect(b"", out, err):
        result = _run_tool({"tool": derive["tool"], "argv": derive["argv"]}, tmp / "case")
    if result["exit"] != 0:
        return (f"setup: {derive['tool']} {' '.join(derive['argv'])} exited {result['exit']}: "
                + " | ".join(_lines(err.read_bytes(), 5)))
    text = out.read_text(errors="replace")
    edited = corpus.EDITS[derive["edit"]](text, *derive.get("args", ()))
    if edited is None:
        return f"n/a: edit {derive['edit']}{tuple(derive.get('args', ()))} does not apply"
    (tmp / "case" / derive["file"]).write_text(edited)
    return None


def _lines(data: bytes, n: int = KEEP_LINES, tail: bool = False) -> list[str]:
    lines = data.decode("utf-8", errors="backslashreplace").splitlines()
    return [line[:400] for line in (lines[-n:] if tail else lines[:n])]


_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Timeout)\b.*$",
                        re.MULTILINE)


def _scan(data: bytes) -> dict:
    text = data.decode("utf-8", errors="replace")
    exceptions = _EXCEPTION.findall(text) if "Traceback (most recent" in text else []
    return {
        "exception": exceptions[-1][:400] if exceptions else None,
        "traceback": "Traceback (most recent call last)" in text,
        "error_line": bool(re.search(r"(^error: |: error: )", text, re.MULTILINE)),
        "internal": "internal error" in text,
    }


def run_case(case: dict, root: Path, shared: dict) -> dict:
    (root / "case").mkdir()
    out, err = root / "stdout", root / "stderr"
    _write_files(root / "case", case["files"])
    start = time.monotonic()
    result = {"name": case["name"]}
    cwd = os.getcwd()
    os.chdir(root / "case")
    timed_out = False
    signal.signal(signal.SIGALRM, _on_alarm)
    faulthandler.dump_traceback_later(case["timeout"] + WATCHDOG_GRACE, exit=True,
                                      file=CRASH_LOG)
    try:
        why = _derive(case, root)
        if why is not None:
            key = "not_applicable" if why.startswith("n/a") else "setup_error"
            result.update({"exit": None, key: why, "stderr": [], "stdout": []})
            return result
        with Redirect(_decode(case["stdin"]), out, err):
            signal.setitimer(signal.ITIMER_REAL, case["timeout"])
            try:
                if case["tool"] == "api":
                    result.update(_run_api(case, root / "case", shared))
                else:
                    result.update(_run_tool(case, root / "case"))
            except CaseTimeout as e:
                timed_out = True
                frames = [f for f in traceback.extract_tb(e.__traceback__)
                          if Path(f.filename).resolve() != Path(__file__).resolve()]
                result["hung_in"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in frames[-3:]]
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        faulthandler.cancel_dump_traceback_later()
        os.chdir(cwd)
        if "setup_error" in result or "not_applicable" in result:
            shutil.rmtree(root, ignore_errors=True)
    result["seconds"] = round(time.monotonic() - start, 3)
    if timed_out:
        result.update(exit=None, timeout=True)
    stdout, stderr = out.read_bytes(), err.read_bytes()
    scan_out, scan_err = _scan(stdout), _scan(stderr)
    result.update(
        traceback=scan_out["traceback"] or scan_err["traceback"],
        error_line=scan_err["error_line"],
        internal=scan_out["internal"] or scan_err["internal"],
        exception=scan_err["exception"] or scan_out["exception"],
        stderr=_lines(stderr), stderr_tail=_lines(stderr, 6, tail=True), stdout=_lines(stdout),
    )
    shutil.rmtree(root, ignore_errors=True)
    return result


CRASH_LOG = None


def _limit_memory() -> None:
    """Cap the address space (HOSTILE_MEMORY_GB, default 12): a case that tries to
    allocate an absurd size gets a MemoryError instead of taking the shared machine's
    memory. A worker that compiled for every target and imported torch peaks at 1.5 GB."""
    import resource

    limit = int(float(os.environ.get("HOSTILE_MEMORY_GB", "12")) * (1 << 30))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main(argv: list[str]) -> int:
    global CRASH_LOG
    _limit_memory()
    cases_path, results_path, crash_path = argv
    cases = json.loads(Path(cases_path).read_text())
    done = set()
    if Path(results_path).exists():
        for line in Path(results_path).read_text().splitlines():
            record = json.loads(line)
            if "started" not in record:
                done.add(record["name"])
    CRASH_LOG = open(crash_path, "a")
    faulthandler.enable(file=CRASH_LOG, all_threads=True)
    shared: dict = {}
    with open(results_path, "a") as results:
        for case in cases:
            if case["name"] in done:
                continue
            CRASH_LOG.write(f"\n=== started case {case['name']}\n")
            CRASH_LOG.flush()
            root = Path(tempfile.mkdtemp(prefix="tessera-hostile-"))
            results.write(json.dumps({"started": case["name"], "dir": str(root)}) + "\n")
            results.flush()
            result = run_case(case, root, shared)
            results.write(json.dumps(result) + "\n")
            results.flush()
            if result.get("timeout"):
                return 3  # the interrupted code may have left state behind: start afresh
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
