"""Plugins: passes, pipelines, presets and targets from outside tessera (tessera.plugin),
loaded from a file, from an installed package's entry point, and from the tutorial in
docs/plugins.md, whose commands run here."""

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tessera
from tessera import plugin as plugins
from tessera.errors import TesseraError
from tessera.passes import registry
from tessera.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "plugin" / "tessera_example_plugin.py"
TALL_K = REPO / "examples" / "plugin" / "test" / "Inputs" / "tall-k.mlir"
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def isolated():
    """What a test's plugins register is taken back after it (the registries are
    process-wide)."""
    from tessera import hardware, target

    passes = dict(registry.builtin_passes())
    saved = [(target.TARGETS, dict(target.TARGETS)), (plugins._PIPELINES, dict(plugins._PIPELINES)),
             (plugins._LOADED, dict(plugins._LOADED)),
             (hardware.NPU_PRESETS, dict(hardware.NPU_PRESETS)),
             (hardware.GPU_PRESETS, dict(hardware.GPU_PRESETS))]
    yield
    registry.builtin_passes().clear()
    registry.builtin_passes().update(passes)
    for live, copy in saved:
        live.clear()
        live.update(copy)


def write_plugin(tmp_path, body: str, name: str = "my_plugin") -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(body)
    return path


NOOP = '''
from dataclasses import dataclass
from tessera.knobs import Options, knob

@dataclass(frozen=True)
class Opts(Options):
    """Options of my-noop."""
    times: int = knob(1, "how often", low=1, high=8)
    note: str = knob("x", "a word")

def noop(op, pass_, options):
    """Does nothing, options times."""

def register(plugin):
    plugin.add_pass("my-noop", noop, Opts, "Do nothing")
'''


def test_a_plugin_pass_runs_in_python_pipelines_and_pipeline_text(tmp_path):
    plugins.load_file(write_plugin(tmp_path, NOOP))
    info = registry.lookup("my-noop")
    assert info.summary == "Do nothing" and info.origin.startswith("plugin my_plugin (")
    with tessera.make_context():
        pm = Pipeline().add("my-noop", times=3).add("builtin.module(my-noop{note=y},cse)")
        assert str(pm) == "builtin.module(my-noop{times=3},my-noop{note=y},cse)"


@pytest.mark.parametrize("text,message", [
    ("my-noop{times=9}", "my-noop: option times must be at most 8, got 9"),
    ("my-noop{times=two}", "option 'times' of pass 'my-noop' expects an integer, got 'two'"),
    ("my-noop{tims=2}", "unknown option 'tims' for pass 'my-noop'; did you mean 'times'?"),
    ("my-nop", "unknown pass 'my-nop'; did you mean 'my-noop'?"),
])
def test_plugin_options_get_tesseras_errors_and_suggestions(tmp_path, text, message):
    plugins.load_file(write_plugin(tmp_path, NOOP))
    with tessera.make_context(), pytest.raises(TesseraError, match=re.escape(message)):
        Pipeline().add(text)


@pytest.mark.parametrize("body,message", [
    ("raise ImportError('no such thing')", "importing it failed: ImportError: no such thing"),
    ("import sys\nsys.exit(3)", "importing it called sys.exit(3)"),
    ("x = 1", "it has no register(plugin) function"),
    ("def register(plugin):\n    raise ValueError('boom')", "register() failed: ValueError: boom"),
    ("def register(plugin):\n    plugin.add_pass('tessera-tile', lambda op, p, o: None)",
     "pass 'tessera-tile': the 'tessera-' prefix is tessera's own"),
    ("def register(plugin):\n    plugin.add_pass('my pass', lambda op, p, o: None)",
     "pass name must be a word"),
    ("from dataclasses import dataclass\n@dataclass(frozen=True)\nclass O:\n    n: int = 1\n"
     "def register(plugin):\n    plugin.add_pass('my-x', lambda op, p, o: None, O)",
     "option fields n are not declared with tessera.knobs.knob"),
    ("def register(plugin):\n    plugin.add_target(object())",
     "a target must be an instance of tessera.target.Target, got object"),
    ("def register(plugin):\n    plugin.add_target(__import__('tessera.targets.npu_sim', "
     "fromlist=['x']).TARGET)", "target 'npu-sim' already exists"),
    ("from tessera.hardware import RiscvConfig\ndef register(plugin):\n"
     "    plugin.add_preset('npu-sim', 'mine', RiscvConfig())",
     "preset 'mine' of npu-sim must be a NpuConfig, got RiscvConfig"),
    ("from tessera.hardware import NpuConfig\ndef register(plugin):\n"
     "    plugin.add_preset('npu-sim', 'gemmini-16x16', NpuConfig())",
     "preset 'gemmini-16x16' of npu-sim already exists"),
    ("def register(plugin):\n    plugin.add_pipeline('my-p', 'cse,(((')", "pipeline 'my-p'"),
])
def test_a_broken_plugin_is_a_clear_error_naming_it(tmp_path, body, message):
    path = write_plugin(tmp_path, body, "broken")
    with pytest.raises(TesseraError) as info:
        plugins.load_file(path)
    text = str(info.value)
    assert text.startswith(f"plugin 'broken' ({path}") and message in text, text


def test_a_clashing_plugin_registers_nothing(tmp_path):
    plugins.load_file(write_plugin(tmp_path, NOOP))
    second = write_plugin(tmp_path, "def register(plugin):\n"
                                    "    plugin.add_pass('other-pass', lambda op, p, o: None)\n"
                                    "    plugin.add_pass('my-noop', lambda op, p, o: None)\n",
                          "second")
    with pytest.raises(TesseraError, match=r"plugin 'second' .*pass 'my-noop' is already "
                                           r"registered by plugin my_plugin"):
        plugins.load_file(second)
    assert "other-pass" not in registry.passes()  # taken back with the failed plugin
    assert registry.lookup("my-noop").origin.startswith("plugin my_plugin")


def test_loading_a_file_twice_loads_it_once(tmp_path):
    path = write_plugin(tmp_path, NOOP)
    assert plugins.load_file(path) is plugins.load_file(path)


def test_a_missing_plugin_file_is_an_error(tmp_path):
    with pytest.raises(TesseraError, match="plugin file .* does not exist"):
        plugins.load_file(tmp_path / "nope.py")


def test_the_example_plugins_target_and_preset_work_like_tesseras(tmp_path):
    plugins.load_file(EXAMPLE)
    from tessera.target import all_targets, get_target

    assert "npu-sim-auto" in [t.name for t in all_targets()]
    text = TALL_K.read_text()
    hw = "gemmini-16x16:ideal,mapper=heuristic"  # the dataflow the matmul carries
    plain = tessera.compile(text, target="npu-sim", hw=hw).report
    auto = tessera.compile(text, target="npu-sim-auto", hw=hw).report
    assert (plain.total_cycles, auto.total_cycles) == (3455, 1053)
    assert get_target("npu-sim").hardware("example-8x32-os").dataflow == "os"
    from tessera.matrix import run_cell

    assert run_cell(text, (), "npu-sim-auto", runs=1).status == "ok"


def test_a_plugin_pipeline_stands_for_its_passes(tmp_path):
    plugins.load_file(EXAMPLE)
    with tessera.make_context():
        pm = Pipeline().add("builtin.module(example-npu-mapping,cse)")
    assert [s.name for s in pm.steps] == ["tessera-linalg-to-systolic", "example-choose-dataflow",
                                          "cse"]
    loop = write_plugin(tmp_path, "def register(plugin):\n"
                                  "    plugin.add_pipeline('my-loop', 'cse,my-loop')\n", "loop")
    plugins.load_file(loop)
    with tessera.make_context(), pytest.raises(TesseraError, match="contains itself"):
        Pipeline().add("my-loop")


def _run(command, env=None, cwd=REPO, timeout=300):
    environment = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    environment.update(env or {})
    return subprocess.run(command, shell=True, capture_output=True, text=True, cwd=cwd,
                          env=environment, timeout=timeout)


def test_installed_plugin_is_found_by_its_entry_point(tmp_path):
    """`pip install` the example plugin (into a folder of its own, not the venv the
    other tests use): its pass, preset and target appear with no --load."""
    site = tmp_path / "site"
    done = _run(f"'{sys.executable}' -m pip install --quiet --no-deps --no-build-isolation "
                f"--no-index --target '{site}' '{EXAMPLE.parent}'")
    assert done.returncode == 0, done.stderr
    env = {"PYTHONPATH": str(site)}
    listed = _run("tessera-opt --list-passes", env)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"example-choose-dataflow .*\[plugin example \(entry point "
                     r"tessera_example_plugin:register of tessera-example-plugin\)\]",
                     listed.stdout), listed.stdout
    info = _run("tessera info", env)
    assert "npu-sim-auto       runs" in info.stdout and "example-8x32-os" in info.stdout
    compiled = _run(f"tessera-compile '{TALL_K}' --target npu-sim-auto", env)
    assert compiled.returncode == 0 and "target npu-sim-auto" in compiled.stdout, compiled.stderr


def test_a_broken_installed_plugin_names_itself(tmp_path):
    site = tmp_path / "site"
    info = site / "broken_thing-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-thing\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[tessera.plugins]\nbroken = broken_thing:register\n")
    (site / "broken_thing.py").write_text("import does_not_exist\n")
    done = _run("tessera-opt --list-passes", {"PYTHONPATH": str(site)})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: plugin 'broken' (entry point broken_thing:register of "
                                  "broken-thing): importing it failed: ModuleNotFoundError")


def test_version_and_info():
    version = _run("tessera --version")
    assert re.fullmatch(r"tessera \d+\.\d+\.\d+\n", version.stdout)
    info = _run("tessera info")
    assert info.returncode == 0
    for line in ("versions:", "torch-mlir", "iree-base-compiler", "targets:", "npu-sim",
                 "plugins: none"):
        assert line in info.stdout


# --- the tutorial ----------------------------------------------------------------------

DOC = REPO / "docs" / "plugins.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def _blocks(kind: str) -> list[str]:
    return [body for lang, body in _BLOCK.findall(DOC.read_text()) if lang == kind]


def test_the_tutorials_code_is_the_plugins_code():
    """Every code excerpt of the tutorial is in the file it quotes (or, for a block of
    its own, runs)."""
    source = EXAMPLE.read_text()
    for block in _blocks("python"):
        if block.startswith(("from ", "import ")):
            done = _run(f"'{sys.executable}' -c {_quote(block)}")
            assert done.returncode == 0, done.stderr
            assert done.stdout.split()[:2] == ["3455", "1053"]
        else:
            assert block in source, block
    for block in _blocks("toml"):
        assert block in (EXAMPLE.parent / "pyproject.toml").read_text()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def test_the_tutorial_runs(tmp_path):
    """Every `$` command of the tutorial, run in order from a folder that sees the
    repository's examples/; the lines under a command must appear in what it prints."""
    (tmp_path / "examples").symlink_to(REPO / "examples")
    commands = 0
    for block in _blocks("console"):
        steps = re.split(r"^\$ ", block, flags=re.M)[1:]
        for step in steps:
            command, *expected = step.rstrip("\n").split("\n")
            done = _run(command, cwd=tmp_path)
            output = done.stdout + done.stderr
            commands += 1
            for line in expected:
                assert line in output, f"$ {command}\nexpected: {line}\ngot:\n{output}"
    assert commands >= 12
