"""Differential checking (tessera.check, tessera-check) and the retargeting matrix
(tessera.matrix): a deliberately broken pass must be named, its reproducer must fail
while the pass is broken and pass once it is not."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import models
import tessera.pipelines.npu_sim
import tessera.pipelines.riscv
from tessera.check import Tolerance, check, cut_points, step_changes_result, truncated
from tessera.context import make_context, parse_module
from tessera.errors import TesseraError
from tessera.matrix import format_rows, run_cell
from tessera.mlir import ir
from tessera.passes import registry, systolic_fuse_epilogue, systolic_tile
from tessera.targets.riscv import can_run

BIN = Path(sys.executable).parent
FUSE = "tessera-systolic-fuse-epilogue"


def _drop_relu(op):
    """Remove `relu` from every systolic.matmul epilogue under `op` (the injected bug)."""

    def visit(o):
        if o.name == "systolic.matmul" and "epilogue" in o.attributes:
            epilogue = ir.DictAttr(o.attributes["epilogue"])
            kept = {a.name: a.attr for a in epilogue if a.name != "relu"}
            o.attributes["epilogue"] = ir.DictAttr.get(kept)
        return ir.WalkResult.ADVANCE

    op.walk(visit)


def _install(monkeypatch, name, module_attr, broken):
    """Replace pass `name` by `broken` in the registry and in the target pipelines."""
    monkeypatch.setitem(registry.passes(), name,
                        dataclasses.replace(registry.passes()[name], run=broken))
    for pipeline in (tessera.pipelines.npu_sim, tessera.pipelines.riscv):
        if hasattr(pipeline, module_attr):
            monkeypatch.setattr(pipeline, module_attr, broken)


@pytest.fixture
def broken_fuse(monkeypatch):
    """tessera-systolic-fuse-epilogue that fuses the ReLU and then forgets it."""
    real = systolic_fuse_epilogue.systolic_fuse_epilogue

    def fuse_and_forget_relu(op, pass_, options):
        real(op, pass_, options)
        _drop_relu(op)

    _install(monkeypatch, FUSE, "systolic_fuse_epilogue", fuse_and_forget_relu)
    return monkeypatch


def test_broken_pass_is_named_and_its_reproducer_fails_until_fixed(broken_fuse, tmp_path):
    targets = ["iree-cpu", "npu-sim"] + (["riscv"] if can_run()[0] else [])
    model, inputs = models.example("mlp")
    results = {r.cell.target: r for r in check(model, inputs, targets, out_dir=tmp_path,
                                                name="mlp")}
    # iree-cpu does not run the broken pass: it agrees and is not bisected.
    assert results["iree-cpu"].cell.status == "ok" and results["iree-cpu"].divergence is None
    for target in targets[1:]:
        result = results[target]
        assert result.cell.status == "mismatch", result.cell
        divergence = result.divergence
        # riscv runs the pass with an option: the step keeps it.
        assert divergence.step.partition("{")[0] == FUSE
        assert divergence.error_before < 1e-5 < 0.1 < divergence.error_after
        text = divergence.reproducer.read_text()
        run = f"// RUN: tessera-check %s --pass-pipeline='builtin.module({divergence.step})'"
        assert run in text
        # Minimized: the first layer's matmul + bias + relu, not the second layer.
        assert text.count('"systolic.matmul"') == 1
        with make_context() as context, ir.Location.unknown():
            module = parse_module(text.split("\n", 4)[4])
            changes, error, _ = step_changes_result(module, divergence.step, Tolerance())
            assert changes and error > 0.1
    # Fixed pass (a fresh process, nothing patched): the reproducer's RUN line passes.
    fixed = subprocess.run([BIN / "tessera-check", results["npu-sim"].divergence.reproducer,
                            f"--pass-pipeline=builtin.module({FUSE})"],
                           capture_output=True, text=True)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "keeps the result" in fixed.stdout


def test_a_pass_that_fails_is_named(monkeypatch, tmp_path):
    def refuses(op, pass_, options):
        raise TesseraError("refusing to tile (injected)")

    _install(monkeypatch, "tessera-systolic-tile", "systolic_tile", refuses)
    assert systolic_tile.systolic_tile is not refuses
    model, inputs = models.example("mlp")
    [result] = check(model, inputs, ["npu-sim"], out_dir=tmp_path, name="mlp")
    assert result.cell.status == "error" and "refusing to tile" in result.cell.note
    assert result.divergence.step.startswith("tessera-systolic-tile")
    assert "refusing to tile (injected)" in result.divergence.failure
    assert "tessera-systolic-tile" in result.divergence.reproducer.read_text()


def test_agreeing_targets_are_not_bisected(tmp_path):
    model, inputs = models.example("cnn")
    results = check(model, inputs, ["iree-cpu", "npu-sim"], out_dir=tmp_path, name="cnn")
    assert [r.cell.status for r in results] == ["ok", "ok"]
    assert all(r.divergence is None for r in results)
    assert list(tmp_path.iterdir()) == []


def test_tolerance_is_exact_on_integers_and_relative_on_floats():
    tol = Tolerance(atol=1e-4, rtol=1e-3)
    assert tol.compare(np.array([1000.0], np.float32), np.array([1000.5], np.float32))[0]
    ok, error = tol.compare(np.array([1.0], np.float32), np.array([1.01], np.float32))
    assert not ok and error == pytest.approx(0.01, rel=1e-3)
    assert not tol.compare(np.array([3], np.int32), np.array([4], np.int32))[0]
    assert tol.compare(np.array([3], np.int32), np.array([3], np.int32)) == (True, 0.0)
    assert not tol.compare(np.zeros((2, 2)), np.zeros((2, 3)))[0]
    assert not tol.compare(np.array([np.nan]), np.array([1.0]))[0]


def test_truncation_returns_an_earlier_value():
    with make_context(), ir.Location.unknown():
        module = parse_module(models.matmul_mlir(4, 8, 16))
        points = cut_points(module)
        assert len(points) == 1  # the matmul; constants and fills are not cut points
        cut = truncated(module, points[0])
        assert "linalg.matmul" in str(cut)


def test_matrix_cells_report_status_and_reasons():
    model, inputs = models.example("mlp")
    ok = run_cell(model, inputs, "npu-sim", runs=2, with_measurement=True)
    assert ok.status == "ok" and ok.error < 1e-5 and "cycles" in ok.measured
    table = format_rows([("mlp", ok)])
    assert "mlp" in table and "npu-sim" in table and "cycles" in table
    bad = run_cell(model, inputs, "npu-sim", hw="no-such-npu")
    assert bad.status == "error" and "no-such-npu" in bad.note


def _tool(*args):
    return subprocess.run([BIN / "tessera-check", *map(str, args)], capture_output=True,
                          text=True)


def test_check_tool_runs_a_model_on_the_targets_it_is_given(tmp_path):
    examples = Path(models.__file__)
    result = _tool(f"{examples}:mlp", "--targets", "iree-cpu,npu-sim", "-o", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mlp          npu-sim     ok" in result.stdout
    assert "all targets agree" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["{examples}:mlp", "--targets", "npu"], "unknown target 'npu'"),
    (["{examples}:mlp", "--hw", "tpu"], "--hw expects TARGET=PRESET"),
    (["{examples}:mlp", "-o", "/no/such/dir"], "output folder '/no/such/dir' does not exist"),
    (["{examples}:mlp", "--pass-pipeline", "canonicalize"], "--pass-pipeline needs an .mlir file"),
    (["{conftest}"], "has no MODELS list"),
    (["missing.py:x"], "could not open 'missing.py'"),
])
def test_check_tool_errors(args, message):
    here = Path(__file__).parent
    args = [a.format(examples=Path(models.__file__), conftest=here / "conftest.py")
            for a in args]
    result = _tool(*args)
    assert result.returncode == 1
    assert f"error: {message}" in result.stderr or message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_umbrella_command_dispatches_and_rejects_unknown_subcommands():
    result = subprocess.run([BIN / "tessera", "check", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "tessera-check" in result.stdout
    result = subprocess.run([BIN / "tessera", "chek"], capture_output=True, text=True)
    assert result.returncode == 1 and "error: unknown subcommand 'chek'" in result.stderr


@pytest.mark.parametrize("target, source", [
    ("npu-sim", "mlp"), ("riscv", "mlp"), ("cpu-amx", "bf16"), ("cpu-amx", "i8"),
    ("gpu-cuda", "mlp")])
def test_reference_interpreter_runs_every_step_of_every_pipeline(target, source):
    # Bisection is only as good as the interpreter: no step may be skipped as
    # unevaluable, and a correct pipeline agrees at every step (AMX tile ops emulated).
    from tessera.check import bisect, evaluate, random_inputs
    from tessera.frontend import import_torch
    from tessera.targets import get_target

    with make_context() as context, ir.Location.unknown():
        if source == "mlp":
            model, inputs = models.example("mlp")
            module = import_torch(model, *inputs, context=context)
        else:
            module = parse_module(models.matmul_mlir(33, 40, 50, source,
                                                     "f32" if source == "bf16" else "i32"))
        arrays = random_inputs(module)
        reference = evaluate(module, arrays)
        backend = get_target(target)
        steps = backend.pipeline(context, backend.hardware()).steps
        divergence = bisect(module, steps, arrays, reference, Tolerance())
    assert divergence.step == "backend" and divergence.skipped == []
    assert divergence.steps == len(steps) >= 4
