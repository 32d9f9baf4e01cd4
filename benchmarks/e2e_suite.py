"""torch-mlir's end-to-end test suite on tessera's targets, against the peer pipeline.

The suite (the `torch_mlir_e2e_test` package of the llvm/torch-mlir repository: small
`torch.nn.Module` cases, each with the inputs it is called on) is read from a checkout
given with --torch-mlir; it is never part of tessera. Each case's expected outputs come
from PyTorch eager. Columns:
- peer: what a user does without tessera: torch-mlir's FX importer to linalg on tensors
  (`torch_mlir.fx.export_and_import`), then IREE llvm-cpu, run by IREE's runtime;
- iree-cpu, npu-sim, riscv, cpu-amx: `tessera.compile(model, inputs, target=...)`.
A case passes when every output has PyTorch's shape and dtype and matches it (floats:
allclose rtol 1e-4, atol 1e-5, NaNs equal; integers and booleans exactly; a Python
scalar output matches a 0-d array of the same kind). Outcomes: pass, mismatch (wrong
numbers), error (a clean error: TesseraError for tessera, any exception for the peer),
traceback (any other exception on tessera's side: a bug), timeout, crash (the worker
process died).

Cases run in worker processes (--workers) with a per-case, per-column timeout; a worker
that times out or dies is replaced. Every outcome is appended to --results (JSON lines)
as it comes (a later line for the same case and column replaces an earlier one);
--resume skips what is already there, --retry runs the outcomes of some statuses again.

    git clone --depth 1 https://github.com/llvm/torch-mlir /tmp/torch-mlir
    .venv/bin/python benchmarks/e2e_suite.py --torch-mlir /tmp/torch-mlir --every 2 \\
        --columns peer,iree-cpu,npu-sim --results e2e.jsonl [--resume]
    .venv/bin/python benchmarks/e2e_suite.py --torch-mlir /tmp/torch-mlir --every 2 --sample 200 \\
        --columns peer,riscv --results e2e-riscv.jsonl
    .venv/bin/python benchmarks/e2e_suite.py ... --resume --retry mismatch,error  # again
    .venv/bin/python benchmarks/e2e_suite.py --results e2e.jsonl --report   # the summary again
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import time
import traceback
import types
from collections import Counter, deque
from multiprocessing.connection import wait
from pathlib import Path

COLUMNS = ("peer", "iree-cpu", "npu-sim", "riscv", "cpu-amx")
RTOL, ATOL = 1e-4, 1e-5
# The suite's random cases (rng, dropout in training mode, ...) return statistics of many
# samples (mean, std); no two generators agree on them bit for bit, so they are compared
# as statistics: within 1%. A case is random when calling it again on the same inputs
# (the generator having moved on) changes PyTorch's own result.
STATISTICAL_RTOL = 1e-2
SUITE = "projects/pt1/python"


# ---------------------------------------------------------------- the suite

def suite_path(root: Path) -> Path:
    """The directory holding `torch_mlir_e2e_test`: in a checkout, or extracted (once,
    next to nothing of tessera's) from a bare git repository such as a mirror."""
    if (root / SUITE / "torch_mlir_e2e_test").is_dir():
        return root / SUITE
    if (root / "torch_mlir_e2e_test").is_dir():
        return root
    if (root / "HEAD").is_file() and (root / "objects").is_dir():  # a bare repository
        head = subprocess.run(["git", "--git-dir", str(root), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        out = Path(os.environ.get("TMPDIR", "/tmp")) / f"torch-mlir-e2e-{head[:12]}"
        if not (out / SUITE / "torch_mlir_e2e_test").is_dir():
            out.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(["git", "--git-dir", str(root), "archive", head,
                                      f"{SUITE}/torch_mlir_e2e_test"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
        return out / SUITE
    sys.exit(f"error: {root} has no {SUITE}/torch_mlir_e2e_test (a torch-mlir checkout: "
             f"git clone --depth 1 https://github.com/llvm/torch-mlir)")


def load_suite(path: Path) -> dict:
    """name -> test of torch-mlir's registry, in registration order. The suite's package
    imports three things not needed here: torch_mlir's version module and the
    `multiprocess` pool (stand-ins when missing), and torchvision (when missing, a
    stand-in that raises on use: its cases fail in PyTorch eager and count as skipped)."""
    import torch
    import torch_mlir

    if importlib.util.find_spec("torch_mlir._version") is None:
        version = types.ModuleType("torch_mlir._version")
        version.version = torch.__version__
        version.torch_version_for_comparison = lambda: torch.__version__.split("+")[0]
        sys.modules["torch_mlir._version"] = torch_mlir._version = version
    if importlib.util.find_spec("multiprocess") is None:
        sys.modules["multiprocess"] = multiprocessing
    if importlib.util.find_spec("torchvision") is None:
        for name in ("torchvision", "torchvision.models", "torchvision.ops"):
            sys.modules[name] = _Missing(name)
    sys.path.insert(0, str(path))
    from torch_mlir_e2e_test.registry import GLOBAL_TEST_REGISTRY

    # The suite's register_all_tests() imports its modules in this order; one that stops
    # on an ImportError is named (the cases registered before the failing line stay).
    init = (path / "torch_mlir_e2e_test" / "test_suite" / "__init__.py").read_text()
    for name in re.findall(r"^\s*from \. import (\w+)", init, re.MULTILINE):
        try:
            importlib.import_module(f"torch_mlir_e2e_test.test_suite.{name}")
        except ImportError as e:
            SKIPPED_MODULES[name] = str(e)
    return {test.unique_name: test for test in GLOBAL_TEST_REGISTRY}


SKIPPED_MODULES: dict[str, str] = {}


class _Missing(types.ModuleType):
    """A package that is not installed: importing it works, using it raises."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if f"{self.__name__}.{name}" in sys.modules:
            return sys.modules[f"{self.__name__}.{name}"]
        raise ImportError(f"{self.__name__} is not installed (the suite's case needs it)")


def select(names: list[str], every: int, sample: int | None, seed: int, pattern) -> list[str]:
    """Every `every`-th case (in registration order) of those whose name matches
    `pattern`, or a seeded sample of `sample` of those."""
    names = [n for n in names if pattern is None or re.search(pattern, n)][::every]
    if sample is not None:
        return sorted(random.Random(seed).sample(names, min(sample, len(names))),
                      key=names.index)
    return names


# ---------------------------------------------------------------- one case, one column

def leaves(x) -> list:
    """The outputs of a call as a flat list (tuples and lists flattened, None dropped)."""
    if x is None:
        return []
    if isinstance(x, (tuple, list)):
        return [leaf for item in x for leaf in leaves(item)]
    return [x]


def compare(got, want, rtol: float = RTOL) -> tuple[bool, str]:
    """Whether outputs `got` (arrays) match `want` (PyTorch's), and why not."""
    import numpy as np
    import torch

    got, want = leaves(got), leaves(want)
    if len(got) != len(want):
        return False, f"{len(got)} outputs, PyTorch returns {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if isinstance(g, torch.Tensor):
            g = g.detach().resolve_conj()
            g = (g.float() if g.dtype == torch.bfloat16 else g).numpy()
        g = np.asarray(g)
        if isinstance(w, torch.Tensor):
            w = w.detach().resolve_conj()
            if w.dtype == torch.bfloat16:
                w, g = w.float(), g.astype(np.float32)
            w = w.numpy()
            if g.dtype != w.dtype:
                return False, f"output {i} is {g.dtype}, PyTorch returns {w.dtype}"
        else:  # a Python number (it has no dtype): a 0-d array of a kind that holds it
            w = np.asarray(w)
            kinds = {"b": "biu", "i": "iu", "u": "iu", "f": "f", "c": "c"}[w.dtype.kind]
            if g.dtype.kind not in kinds:
                return False, f"output {i} is {g.dtype}, PyTorch returns a {type(w.item())}"
        if g.shape != w.shape:
            return False, f"output {i} has shape {g.shape}, PyTorch's {w.shape}"
        if w.dtype.kind in "biu":
            if not np.array_equal(g, w):
                return False, f"output {i} differs"
        elif not np.allclose(g, w, rtol=rtol, atol=ATOL, equal_nan=True):
            worst = np.nanmax(np.abs(g.astype(np.complex128) - w)) if g.size else 0.0
            return False, f"output {i} differs by up to {worst:.3g}"
    return True, ""


def golden(test):
    """PyTorch eager's trace of the case: [(method name, inputs, output)], and whether
    the case is random."""
    from torch_mlir_e2e_test.framework import generate_golden_trace

    trace = [(item.symbol, item.inputs, item.output) for item in generate_golden_trace(test)]
    module = test.program_factory()
    random_case = False
    for symbol, inputs, want in trace:
        again = getattr(module, symbol)(*[x.clone() if hasattr(x, "clone") else x
                                          for x in inputs])
        same, _ = compare([a.detach() if hasattr(a, "detach") else a for a in leaves(again)],
                          want, rtol=0.0)
        random_case |= not same
    return trace, random_case


def method_module(module, symbol: str):
    """A module whose forward is `module`'s method `symbol` (the suite's cases name it)."""
    import torch

    if symbol == "forward":
        return module

    class Method(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.wrapped = module

        def forward(self, *args):
            return getattr(self.wrapped, symbol)(*args)

    Method.__name__ = type(module).__name__
    return Method()


def run_peer(module, inputs):
    """torch-mlir FX import to linalg, IREE llvm-cpu, IREE's runtime: the strongest form
    of it found here (non-strict export, strict where that fails; f64 kept as f64)."""
    import iree.compiler as ireec
    import iree.runtime as ireert
    import numpy as np
    import torch
    from torch.export.graph_signature import OutputKind
    from torch_mlir import fx
    from torch_mlir.extras.fx_decomp_util import get_decomposition_table

    try:
        program = torch.export.export(module, tuple(inputs), strict=False)
    except Exception:
        program = torch.export.export(module, tuple(inputs), strict=True)
    program = program.run_decompositions(get_decomposition_table())
    linalg = fx.export_and_import(program, output_type="linalg-on-tensors", func_name="main")
    vmfb = ireec.compile_str(str(linalg), target_backends=["llvm-cpu"],
                             extra_args=["--iree-llvmcpu-target-cpu=host",
                                         "--iree-input-demote-f64-to-f32=false"])
    function = ireert.load_vm_flatbuffer(vmfb, driver="local-task")["main"]
    arrays = []
    for x in inputs:
        if isinstance(x, torch.Tensor):
            if x.dtype == torch.bfloat16:
                import ml_dtypes

                arrays.append(x.view(torch.int16).numpy().view(ml_dtypes.bfloat16))
            else:
                arrays.append(x.detach().numpy())
    results = function(*arrays)
    results = results if isinstance(results, (tuple, list)) else (results,)
    results = [np.asarray(r.to_host() if hasattr(r, "to_host") else r) for r in results]
    kinds = [spec.kind for spec in program.graph_signature.output_specs]
    if len(kinds) == len(results):  # inputs changed in place come back too: not outputs
        results = [r for r, kind in zip(results, kinds) if kind == OutputKind.USER_OUTPUT]
    return results


def run_tessera(module, inputs, target):
    import tessera

    program = tessera.compile(module, tuple(inputs), target=target)
    return program(*inputs)


def run_case(test, column: str) -> dict:
    """One case on one column: {status, detail}."""
    import torch

    from tessera.errors import TesseraError

    torch.manual_seed(0)
    try:
        trace, random_case = golden(test)
    except Exception as e:
        return {"status": "skip", "detail": f"PyTorch eager fails: {_first_line(e)}"}
    for symbol, inputs, want in trace:
        torch.manual_seed(0)
        module = method_module(test.program_factory(), symbol)
        try:
            with torch.no_grad():
                if column == "peer":
                    got = run_peer(module, inputs)
                else:
                    got = run_tessera(module, inputs, column)
        except TesseraError as e:
            return {"status": "error", "detail": str(e)}
        except Exception as e:
            if column == "peer":
                return {"status": "error", "detail": f"{type(e).__name__}: {_first_line(e)}"}
            return {"status": "traceback", "detail": traceback.format_exc(limit=-8)}
        ok, why = compare(got, want, STATISTICAL_RTOL if random_case else RTOL)
        if not ok:
            return {"status": "mismatch", "detail": why}
    return {"status": "pass", "detail": ""}


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else type(e).__name__


def worker(suite: str, connection) -> None:
    """A worker process: receives (name, column), sends back the outcome."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.getLogger("torch").setLevel(logging.CRITICAL)  # graphs printed on failed exports
    tests = load_suite(Path(suite))
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        name, column = job
        start = time.perf_counter()
        outcome = run_case(tests[name], column)
        outcome.update(case=name, column=column, seconds=round(time.perf_counter() - start, 2))
        connection.send(outcome)


# ---------------------------------------------------------------- the driver

class Pool:
    """Worker processes, each running one job at a time under a deadline."""

    def __init__(self, suite: Path, size: int, timeout: float):
        self.suite, self.size, self.timeout = str(suite), size, timeout
        self.context = multiprocessing.get_context("spawn")
        self.workers = [self._start() for _ in range(size)]  # [process, connection, job, t0]

    def _start(self):
        here, there = self.context.Pipe()
        process = self.context.Process(target=worker, args=(self.suite, there), daemon=True)
        process.start()
        there.close()
        return [process, here, None, 0.0]

    def run(self, jobs, record) -> None:
        queue = deque(jobs)
        while queue or any(w[2] for w in self.workers):
            for w in self.workers:
                if w[2] is None and queue:
                    w[2], w[3] = queue.popleft(), time.monotonic()
                    w[1].send(w[2])
            busy = [w for w in self.workers if w[2] is not None]
            ready = wait([w[1] for w in busy], timeout=0.5)
            for i, w in enumerate(self.workers):
                if w[2] is None:
                    continue
                if w[1] in ready:
                    try:
                        outcome = w[1].recv()
                    except (EOFError, OSError):
                        outcome = self._replace(i, "crash", "the worker process died "
                                                f"(exit code {w[0].exitcode})")
                    else:
                        w[2] = None
                    record(outcome)
                elif time.monotonic() - w[3] > self.timeout:
                    record(self._replace(i, "timeout", f"more than {self.timeout:.0f} s"))

    def _replace(self, i: int, status: str, detail: str) -> dict:
        process, connection, (name, column), t0 = self.workers[i]
        process.kill()
        process.join()
        connection.close()
        self.workers[i] = self._start()
        return {"case": name, "column": column, "status": status, "detail": detail,
                "seconds": round(time.monotonic() - t0, 2)}

    def close(self) -> None:
        for process, connection, _, _ in self.workers:
            connection.close()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()


def read_results(path: Path) -> dict:
    """(case, column) -> outcome, from a results file (a torn last line is skipped)."""
    results = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            results[row["case"], row["column"]] = row
    return results


def report(results: dict, columns, cases=None) -> str:
    """Pass counts per column, the cases the peer passes and a column does not, every
    mismatch and every traceback."""
    cases = cases or sorted({case for case, _ in results})
    lines = [f"{len(cases)} cases", "", "| column | cases | pass | mismatch | error | traceback "
             "| timeout | crash | skip |", "|---|---|---|---|---|---|---|---|---|"]
    for column in columns:
        counts = Counter(results[c, column]["status"] for c in cases if (c, column) in results)
        run = sum(counts.values())
        lines.append(f"| {column} | {run} | " + " | ".join(
            str(counts[s]) for s in ("pass", "mismatch", "error", "traceback", "timeout",
                                     "crash", "skip")) + " |")
    for column in columns:
        if column == "peer":
            continue
        behind = [c for c in cases if (c, column) in results and (c, "peer") in results
                  and results[c, "peer"]["status"] == "pass"
                  and results[c, column]["status"] != "pass"]
        ahead = [c for c in cases if (c, column) in results and (c, "peer") in results
                 and results[c, "peer"]["status"] != "pass"
                 and results[c, column]["status"] == "pass"]
        lines += ["", f"## {column}: {len(behind)} cases the peer passes and {column} does "
                  f"not ({len(ahead)} the other way round)"]
        for c in behind:
            row = results[c, column]
            lines.append(f"- {c}: {row['status']}: {_short(row['detail'])}")
    for status in ("mismatch", "traceback", "crash"):
        rows = [results[c, col] for c in cases for col in columns
                if col != "peer" and (c, col) in results and results[c, col]["status"] == status]
        if rows:
            lines += ["", f"## tessera {status}es ({len(rows)})"]
            for row in rows:
                detail = row["detail"] if status == "traceback" else _short(row["detail"])
                lines.append(f"- {row['case']} on {row['column']}: {detail}")
    return "\n".join(lines)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) < 200 else text[:197] + "..."


def progress(done: int, total: int, failed: int, start: float) -> None:
    rate = done / max(time.monotonic() - start, 1e-9)
    eta = (total - done) / rate if rate else 0
    bar = "#" * (30 * done // max(total, 1))
    text = (f"\r[{bar:<30}] {done}/{total} jobs, {failed} not passing, "
            f"{rate:.2f}/s, ETA {eta / 60:.0f} min ")
    if sys.stderr.isatty():
        sys.stderr.write(text)
    elif done == total or done % 50 == 0:
        sys.stderr.write(text.strip() + "\n")
    sys.stderr.flush()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch-mlir", type=Path, help="a torch-mlir checkout (or bare repo)")
    parser.add_argument("--columns", default="peer,iree-cpu,npu-sim",
                        help=f"comma-separated, of {', '.join(COLUMNS)}")
    parser.add_argument("--every", type=int, default=1, help="every N-th case (default all)")
    parser.add_argument("--sample", type=int, help="a seeded sample of N of those cases")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--filter", help="only cases whose name matches this regex")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per case and column")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--results", type=Path, default=Path("e2e.jsonl"))
    parser.add_argument("--resume", action="store_true", help="skip outcomes already in --results")
    parser.add_argument("--retry", default="",
                        help="with --resume: run again the outcomes with these statuses "
                             "(comma-separated, e.g. mismatch,error)")
    parser.add_argument("--report", action="store_true", help="only print the summary of --results")
    args = parser.parse_args(argv)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown or not columns:
        parser.error(f"unknown column {', '.join(unknown)}; columns are {', '.join(COLUMNS)}")
    if args.report:
        print(report(read_results(args.results), columns))
        return 0
    if args.torch_mlir is None:
        parser.error("--torch-mlir DIR is needed (git clone https://github.com/llvm/torch-mlir)")
    suite = suite_path(args.torch_mlir)
    names = list(load_suite(suite))
    cases = select(names, args.every, args.sample, args.seed, args.filter)
    if args.results.exists() and not args.resume:
        parser.error(f"{args.results} exists; --resume to continue it or remove it")
    results = read_results(args.results)
    retry = {s.strip() for s in args.retry.split(",") if s.strip()}
    jobs = [(c, col) for c in cases for col in columns
            if (c, col) not in results or results[c, col]["status"] in retry]
    for module, why in SKIPPED_MODULES.items():
        print(f"note: the suite's module {module} stopped importing: {why}", file=sys.stderr)
    print(f"{len(cases)} of {len(names)} cases, {len(jobs)} jobs to run "
          f"({len(results)} outcomes already in {args.results})", file=sys.stderr)
    start, done, failed = time.monotonic(), [0], [0]
    with args.results.open("a") as out:
        def record(outcome):
            out.write(json.dumps(outcome) + "\n")
            out.flush()
            results[outcome["case"], outcome["column"]] = outcome
            done[0] += 1
            failed[0] += outcome["status"] != "pass"
            progress(done[0], len(jobs), failed[0], start)

        pool = Pool(suite, max(1, min(args.workers, len(jobs))), args.timeout)
        try:
            pool.run(jobs, record)
        except KeyboardInterrupt:
            print(f"\ninterrupted: {done[0]} outcomes kept in {args.results} (--resume)",
                  file=sys.stderr)
            return 130
        finally:
            pool.close()
    print(report(results, columns, cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
