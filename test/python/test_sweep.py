"""`tessera sweep` and tessera.sweep: design points x models on Ray, the rows it writes,
the energy and area model, resume, failing and crashing points, the CLI's errors."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from tessera import sweep
from tessera.context import make_context, parse_module
from tessera.errors import TesseraError
from tessera.hardware import NpuConfig
from tessera.mlir import ir
from tessera.target import get_target
from tessera.tools import tessera_sweep

REPO = Path(__file__).resolve().parents[2]
MODELS = str(REPO / "examples" / "models.py")
TESSERA = Path(sys.executable).parent / "tessera"
# Columns that depend on the run (time, which worker), not on the design.
RUN_COLUMNS = ("compile_s", "estimate_s", "point_s", "worker", "node")

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the tests of this module that do not start their own."""
    if ray.is_initialized():
        ray.shutdown()
    sweep._start_ray(None, 2)
    yield
    ray.shutdown()


def _models(*names):
    import models

    return [(n, *models.example(n)) for n in names]


def _design(df):
    """The rows without the columns that depend on the run, in point order."""
    return df.drop(columns=[c for c in RUN_COLUMNS if c in df]).sort_values(
        ["model", "point"]).reset_index(drop=True)


SMALL = {"rows": [8, 16], "cols": [8, 16], "spad_kib": [64, 256]}


# --- the energy and area model ---------------------------------------------------------


def _matmul_report(dtype, acc, hw):
    import models

    context = make_context()
    with context, ir.Location.unknown():
        module = parse_module(models.matmul_mlir(16, 16, 16, dtype, acc))
        return get_target("npu-sim").estimate(module, hw)


@pytest.mark.parametrize("dtype,acc,mac_pj,pe_um2,size", [
    ("f32", "f32", 4.6, 11884.0, 4), ("i8", "i32", 0.3, 419.0, 1)])
def test_energy_and_area_of_one_gemm_by_hand(dtype, acc, mac_pj, pe_um2, size):
    # 16x16x16 on a 16x16 ws array, 32 KiB scratchpad and 8 KiB accumulator, tiles
    # 16x16x16 written by hand: one fold, everything moves once.
    hw = NpuConfig(16, 16, "ws", 32 * 1024, 8 * 1024, 16, 64, mapper="heuristic")
    report = _matmul_report(dtype, acc, hw)
    a = report.accesses()
    assert a["macs"] == 16 ** 3
    # DRAM: lhs and rhs in, out out, once each.
    assert sum(report.dram_bytes.values()) == 2 * 256 * size + 256 * 4
    # The scratchpad is written with lhs and rhs and read by the preload (rhs, 256) and the
    # streamed lhs (256); the accumulator is written by the fold and read by the move-out.
    assert (a["spad_writes"], a["spad_reads"]) == (512, 512)
    assert (a["acc_writes"], a["acc_reads"]) == (256, 256)
    e = report.energy
    assert e.mac == pytest.approx(4096 * mac_pj)
    assert e.dram == pytest.approx((512 * size + 1024) * 250.0)
    # A 32 KiB SRAM costs sqrt(32 / 8) = 2 times the 8 KiB figure, 8 KiB once.
    assert e.spad == pytest.approx(1024 * size * 1.25 * 2)
    assert e.acc == pytest.approx(512 * 4 * 1.25)
    assert e.host == 0
    assert report.measures()["energy_uj"] == pytest.approx(
        (e.mac + e.spad + e.acc + e.dram) / 1e6)
    assert report.area_mm2 == pytest.approx((256 * pe_um2 + 40 * 4049.0) / 1e6)


def test_energy_figures_are_knobs_and_ideal_memory_has_no_energy():
    hw = NpuConfig(16, 16, "ws", 32 * 1024, 8 * 1024, 16, 64, dram_pj_per_byte=0.0,
                   mac_pj_fp32=1.0)
    e = _matmul_report("f32", "f32", hw).energy
    assert (e.dram, e.mac) == (0.0, 4096.0)
    ideal = _matmul_report("f32", "f32", hw.ideal())
    assert math.isnan(ideal.energy.total) and math.isnan(ideal.area_mm2)
    with pytest.raises(TesseraError, match="must be at least 0"):
        NpuConfig(dram_pj_per_byte=-1.0)
    with pytest.raises(TesseraError, match="finite number"):
        NpuConfig(sram_pj_per_byte=float("inf"))


def test_host_work_is_charged():
    report = get_target("npu-sim").estimate(_front("encoder"), "gemmini-16x16")
    assert report.energy.host > 0 and report.host_cycles > 0


def _front(name):
    import models

    model, inputs = models.example(name)
    context = make_context()
    from tessera.compiler import as_module

    return as_module(model, inputs, context, name)


# --- the design space --------------------------------------------------------------------


def test_space_points_are_the_product_in_order():
    space = sweep.make_space({"rows": [8, 16], "grid": ["1x1", "2x2"], "spad-kib": 64})
    points = space.points()
    assert [p.key for p in points] == ["rows=8,grid=1x1,spad_kib=64",
                                       "rows=8,grid=2x2,spad_kib=64",
                                       "rows=16,grid=1x1,spad_kib=64",
                                       "rows=16,grid=2x2,spad_kib=64"]
    assert points[1].spec("gemmini-16x16") == \
        "gemmini-16x16,rows=8,grid_rows=2,grid_cols=2,spad_bytes=65536"
    hw = get_target("npu-sim").hardware(points[1].spec("gemmini-16x16"))
    assert (hw.rows, hw.units, hw.spad_bytes) == (8, 4, 65536)
    assert dict(points[0].values)["rows"] == 8  # typed as the knob is


@pytest.mark.parametrize("axes,message", [
    ({"row": [8]}, "axis 'row' is not a field of npu-sim's hardware; did you mean 'rows'"),
    ({"rows": ["eight"]}, "design space rows expects an integer, got 'eight'"),
    ({"rows": []}, "axis 'rows' has no values"),
    ({"rows": [8, 8]}, "repeats a value"),
    ({"grid": ["2by2"]}, "grid expects ROWSxCOLS"),
    ({"rows": [[8]]}, "values must be numbers, booleans or strings"),
    ({"rows": [0]}, "design space rows must be a positive integer, got 0"),
])
def test_space_errors(axes, message):
    with pytest.raises(TesseraError, match=message.replace("(", r"\(")):
        sweep.make_space(axes)
    with pytest.raises(TesseraError, match="sets grid_rows, grid_cols, which iree-cpu's"):
        sweep.make_space({"grid": ["2x2"]}, target="iree-cpu")


def test_space_file(tmp_path):
    toml = tmp_path / "space.toml"
    toml.write_text('base = "grid-2x2-16x16"\nmodels = ["m.py:x"]\n'
                    '[axes]\nrows = [8, 16]\ndataflow = ["ws", "os"]\n')
    space, models = sweep.load_space(str(toml))
    assert (space.base, models, len(space.points())) == ("grid-2x2-16x16", ["m.py:x"], 4)
    yaml_file = tmp_path / "space.yaml"
    yaml_file.write_text("axes:\n  cols: [8, 32]\n")
    assert len(sweep.load_space(str(yaml_file))[0].points()) == 2
    for text, message in (("axes = [", "not valid TOML"), ("speed = 3", "unknown key"),
                          ("[axes]\nrows = [0]", "design space rows must be a positive integer"),
                          ('target = 3', "'target' must be a string")):
        toml.write_text(text)
        with pytest.raises(TesseraError, match=message):
            sweep.load_space(str(toml))
    with pytest.raises(TesseraError, match="a .toml or .yaml file"):
        sweep.load_space(str(REPO / "README.md"))


def test_pareto_front():
    df = pd.DataFrame({"model": ["a"] * 5 + ["b"],
                       "point": [0, 1, 2, 3, 4, 0],
                       "status": ["ok", "ok", "ok", "ok", "failed", "ok"],
                       "cycles": [10, 20, 30, 20, 1, 5],
                       "energy_uj": [5.0, 3.0, 4.0, 3.0, 0.1, 1.0]})
    front = sweep.pareto(df, ("cycles", "energy_uj"))
    # a: 0 (fastest) and 1, 3 (tied, least energy) are on the front; 2 is beaten by 1;
    # the failed point does not count.
    assert sorted(zip(front["model"], front["point"])) == [("a", 0), ("a", 1), ("a", 3),
                                                           ("b", 0)]
    # With area too, 2 (the smallest) joins the front.
    df["area_mm2"] = [4.0, 4.0, 1.0, 4.0, 1.0, 1.0]
    front = sweep.pareto(df)
    assert sorted(front.loc[front["model"] == "a", "point"]) == [0, 1, 2, 3]
    with pytest.raises(TesseraError, match="no column area"):
        sweep.pareto(df, ("cycles", "area"))


def test_progress_lines():
    out = StringIO()
    progress = sweep.Progress(10, out)
    for done in range(1, 11):
        progress.update(done, done // 5)
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("sweep [") and "10/10 points, 2 not ok" in lines[-1]
    assert "ETA 0 s" in lines[-1] and len(lines) <= 11


# --- sweeps on Ray --------------------------------------------------------------------


def test_small_sweep_matches_compiling_each_point(local_ray, tmp_path):
    space = sweep.make_space(SMALL)
    out = str(tmp_path / "r.parquet")
    summary = sweep.run(space, _models("mlp", "cnn"), out, progress=False)
    df = pd.read_parquet(out)
    assert len(df) == 16 and (df["status"] == "ok").all(), df[["status", "error"]]
    assert not Path(f"{out}.journal").exists()  # a complete sweep keeps only the Parquet
    assert summary.evaluated == 16 and set(summary.fronts) == {"mlp", "cnn"}
    for column in ("cycles", "energy_uj", "area_mm2", "edp_uj_cycles", "dram_rhs_bytes",
                   "spad_reads", "mappings", "compile_s", "pe_utilization"):
        assert column in df
    # Every row is what compiling the model for that point reports.
    import tessera

    for name, model, inputs in _models("mlp", "cnn"):
        program_rows = df[df["model"] == name]
        for row in program_rows.iloc[::3].itertuples():  # a sample: compiling takes time
            report = tessera.compile(model, inputs, target="npu-sim", hw=row.hw).report
            assert report.measures()["cycles"] == row.cycles
            assert report.measures()["energy_uj"] == pytest.approx(row.energy_uj)
            assert report.details()["mappings"] == row.mappings
    assert df["rows"].dtype.kind == "i"
    # More scratchpad never costs less area.
    a = df[(df["model"] == "mlp")].set_index(["rows", "cols", "spad_kib"])["area_mm2"]
    assert (a.xs(256, level="spad_kib") > a.xs(64, level="spad_kib")).all()


def test_failing_points_are_rows(local_ray, tmp_path):
    # spad_bytes=64 cannot hold one 16x16 block: that hardware cannot exist.
    space = sweep.make_space({"spad_bytes": [64, 262144]})
    out = str(tmp_path / "f.parquet")
    sweep.run(space, _models("mlp"), out, progress=False)
    df = pd.read_parquet(out).set_index("spad_bytes")
    assert df.loc[64, "status"] == "failed"
    assert "npu spad_bytes is 64 but one 16x16 array tile needs at least 256" in \
        df.loc[64, "error"]
    assert df.loc[262144, "status"] == "ok" and df.loc[262144, "cycles"] > 0
    # --retry-failed evaluates the failed point again (it fails again: same hardware).
    summary = sweep.run(space, _models("mlp"), out, resume=True, retry_failed=True,
                        progress=False)
    assert (summary.skipped, summary.evaluated) == (1, 1)
    again = pd.read_parquet(out).set_index("spad_bytes")
    assert len(again) == 2 and again.loc[64, "status"] == "failed"
    assert again.loc[64, "point_s"] != df.loc[64, "point_s"]
    assert again.loc[262144, "point_s"] == df.loc[262144, "point_s"]


def test_check_runs_sampled_points_for_real(local_ray, tmp_path):
    space = sweep.make_space({"rows": [8, 16], "dataflow": ["ws", "os"]})
    out = str(tmp_path / "c.parquet")
    sweep.run(space, _models("mlp"), out, check=2, progress=False)
    df = pd.read_parquet(out)
    assert sorted(df["check"]) == ["", "", "ok", "ok"]
    assert (df.loc[df["check"] == "ok", "check_error"] < 1e-4).all()


def test_resume_and_overwrite(local_ray, tmp_path):
    out = str(tmp_path / "r.parquet")
    sweep.run(sweep.make_space({"rows": [8, 16]}), _models("mlp"), out, progress=False)
    with pytest.raises(TesseraError, match="exists: pass --resume"):
        sweep.run(sweep.make_space({"rows": [8, 16]}), _models("mlp"), out, progress=False)
    first = pd.read_parquet(out)
    summary = sweep.run(sweep.make_space({"rows": [8, 16, 32]}), _models("mlp"), out,
                        resume=True, progress=False)
    assert (summary.skipped, summary.evaluated) == (2, 1)
    df = pd.read_parquet(out)
    assert sorted(df["rows"]) == [8, 16, 32]
    kept = df[df["rows"] != 32].reset_index(drop=True)
    assert list(kept["point_s"]) == list(first["point_s"])  # not evaluated again
    sweep.run(sweep.make_space({"rows": [32]}), _models("mlp"), out, overwrite=True,
              progress=False)
    assert list(pd.read_parquet(out)["rows"]) == [32]


PLUGIN = '''
import os
from pathlib import Path
from tessera.targets.npu_sim import NpuSim

MARKER = Path({marker!r})


class Crashy(NpuSim):
    """npu-sim whose worker dies on 8-row arrays, and once on 16-row arrays."""

    name = "crashy-npu"

    def estimate(self, module, hw=None):
        config = self.hardware(hw)
        if config.rows == 8:
            os._exit(3)
        if config.rows == 16 and not MARKER.exists():
            MARKER.write_text("crashed once")
            os._exit(3)
        return super().estimate(module, hw)


def register(plugin):
    plugin.add_target(Crashy())
'''


def test_a_dying_worker_is_retried_then_recorded(local_ray, tmp_path):
    from tessera.plugin import load_file

    plugin = tmp_path / "crashy.py"
    plugin.write_text(PLUGIN.format(marker=str(tmp_path / "marker")))
    load_file(str(plugin))
    space = sweep.make_space({"rows": [8, 16, 32]}, target="crashy-npu")
    out = str(tmp_path / "k.parquet")
    sweep.run(space, _models("mlp"), out, retries=1, plugins=(str(plugin),), progress=False)
    df = pd.read_parquet(out).set_index("rows")
    assert df.loc[8, "status"] == "crashed" and "worker died" in df.loc[8, "error"]
    assert df.loc[16, "status"] == "ok"  # died once, retried on a new worker
    assert (tmp_path / "marker").exists()
    assert df.loc[32, "status"] == "ok"


def test_two_node_cluster_gives_the_same_rows(tmp_path):
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    space = sweep.make_space({"rows": [8, 16], "dram_bytes_per_cycle": [8, 32]})
    local = str(tmp_path / "local.parquet")
    sweep.run(space, _models("mlp"), local, workers=2, progress=False)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        remote = str(tmp_path / "cluster.parquet")
        sweep.run(space, _models("mlp"), remote, address=cluster.address, progress=False)
    finally:
        ray.shutdown()
        cluster.shutdown()
    on_cluster = pd.read_parquet(remote)
    assert on_cluster["node"].nunique() == 2  # both nodes evaluated points
    pd.testing.assert_frame_equal(_design(pd.read_parquet(local)), _design(on_cluster))


# --- the command line ---------------------------------------------------------------


def _cli(capsys, monkeypatch, tmp_path, *args):
    """`tessera sweep ARGS` in this process, in `tmp_path`: (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    code = tessera_sweep.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _tool(*args, cwd=None, timeout=300):
    return subprocess.run([str(TESSERA), "sweep", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def test_killing_the_driver_keeps_finished_points_and_resume_completes(tmp_path):
    out = tmp_path / "k.parquet"
    journal = Path(f"{out}.journal")
    args = [f"{MODELS}:mlp", "--rows", "8,16,32", "--cols", "8,16,32",
            "--dram-bytes-per-cycle", "8,32", "--out", str(out), "--quiet", "--workers", "2"]
    proc = subprocess.Popen([str(TESSERA), "sweep", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            lines = journal.read_text().count("\n") if journal.exists() else 0
            if lines >= 4 and out.exists():
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # Ray's helpers the driver started
        except ProcessLookupError:
            pass
    before = pd.read_parquet(out)  # readable after the kill
    finished = [json.loads(line) for line in journal.read_text().splitlines()
                if line.endswith("}")]
    assert 1 <= len(before) <= len(finished) < 18
    done = _tool(*args, "--resume")
    assert done.returncode == 0, done.stderr
    assert f"{len(finished)} already in" in done.stdout
    df = pd.read_parquet(out)
    assert len(df) == 18 and df["point_key"].is_unique and (df["status"] == "ok").all()
    assert not journal.exists()
    old = {r["point_key"]: r["point_s"] for r in finished}
    kept = df[df["point_key"].isin(old)]
    assert all(old[k] == pytest.approx(s) for k, s in zip(kept["point_key"], kept["point_s"]))


def test_cli_sweep_front_plot_and_trace(tmp_path):
    done = _tool(f"{MODELS}:mlp", "--rows", "8,16", "--cols", "16", "--plot", "front.png",
                 "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 evaluated" in done.stdout and "Pareto front (cycles, energy_uj" in done.stdout
    assert "model  point  rows  cols  cycles" in done.stdout
    assert (tmp_path / "front.png").read_bytes()[:4] == b"\x89PNG"
    assert len(pd.read_parquet(tmp_path / "sweep.parquet")) == 2
    assert "sweep [" in done.stderr  # the progress bar
    trace = _tool(f"{MODELS}:mlp", "--rows", "8,16", "--trace", "1", "--trace-file",
                  "p1.json", cwd=tmp_path)
    assert trace.returncode == 0, trace.stderr
    assert "at point 1 (rows=16)" in trace.stdout
    events = json.loads((tmp_path / "p1.json").read_text())["traceEvents"]
    assert any(e.get("cat") == "host" for e in events)


@pytest.mark.parametrize("args,message", [
    ([], "name at least one model"),
    (["M", "--rows", "8,,16"], "expected comma-separated values, got '8,,16'"),
    (["M", "--set", "rows"], "--set expects FIELD=V1,V2"),
    (["M", "--set", "speed=1"], "axis 'speed' is not a field"),
    (["M", "--rows", "x"], "design space rows expects an integer"),
    (["M", "--workers", "0"], "--workers must be positive"),
    (["M", "--retry-failed"], "--retry-failed goes with --resume"),
    (["M", "--address", "127.0.0.1:1"], "cannot reach a Ray cluster at 127.0.0.1:1"),
    (["M", "--address", "nowhere"], "--address expects HOST:PORT"),
    (["M", "--hw", "nosuch"], "unknown npu preset 'nosuch'"),
    (["M", "--target", "iree-cpu", "--rows", "8"], "is not a field of iree-cpu's hardware"),
    (["M", "--rows", "8", "--trace", "5"], "--trace 5: the space has points 0..0"),
    (["M", "--space", "nosuch.toml"], "nosuch.toml"),
    (["nosuch.py:mlp"], "could not open 'nosuch.py'"),
    (["M", "--plot", "/nonexistent/f.png"], "folder '/nonexistent' does not exist"),
])
def test_cli_errors(args, message, tmp_path, capsys, monkeypatch):
    args = [f"{MODELS}:mlp" if a == "M" else a for a in args]
    code, out, err = _cli(capsys, monkeypatch, tmp_path, *args, "--quiet")
    assert code == 1, (out, err)
    assert err.startswith("error: ") and message in err, err
    assert "Traceback" not in err


def test_cli_error_from_the_installed_command(tmp_path):
    done = _tool("--rows", "8", "--quiet", cwd=tmp_path, timeout=120)
    assert done.returncode == 1 and done.stderr.startswith("error: name at least one model")
    assert "Traceback" not in done.stderr


def test_cli_existing_results(tmp_path, capsys, monkeypatch):
    (tmp_path / "sweep.parquet").write_text("not parquet")
    code, _, err = _cli(capsys, monkeypatch, tmp_path, f"{MODELS}:mlp", "--quiet")
    assert code == 1 and "exists: pass --resume" in err
    code, _, err = _cli(capsys, monkeypatch, tmp_path, f"{MODELS}:mlp", "--resume", "--quiet")
    assert code == 1 and "cannot read results file" in err


def test_module_docstring_flags_exist():
    parser = tessera_sweep._parser()
    for flag in ("--rows", "--spad-kib", "--dram-bytes-per-cycle", "--plot", "--address",
                 "--resume", "--check", "--trace"):
        assert any(flag in a.option_strings for a in parser._actions), flag


def test_cli_when_no_point_succeeds(local_ray, tmp_path, capsys, monkeypatch):
    code, out, err = _cli(capsys, monkeypatch, tmp_path, f"{MODELS}:mlp", "--target",
                          "iree-cpu", "--plot", "p.png", "--quiet")
    assert code == 0, err
    assert "no point succeeded: no Pareto front" in out
    assert "failed: mlp point 0 ()" in out and "has no report without a run" in out
    assert not (tmp_path / "p.png").exists()
