"""The pass registry and option parsing shared by Python and tessera-opt."""

import dataclasses
import re

import pytest

from tessera import TesseraError
from tessera.passes.linalg_to_systolic import LinalgToSystolicOptions, linalg_to_systolic
from tessera.passes.registry import lookup, make_options, parse_options, passes


def test_registry_lists_every_pass_module():
    from pathlib import Path

    modules = {p.stem for p in (Path(__file__).parents[2] / "passes").glob("*.py")}
    modules -= {"__init__", "common", "registry"}
    assert {n.removeprefix("tessera-").replace("-", "_") for n in passes()} == modules
    assert lookup("tessera-linalg-to-systolic").run is linalg_to_systolic


def test_options_parse_mlir_syntax():
    options = parse_options("tessera-linalg-to-systolic", "rows=8 cols=32 dataflow=os")
    assert options == LinalgToSystolicOptions(rows=8, cols=32, dataflow="os")


def test_options_default_when_empty():
    assert parse_options("tessera-linalg-to-systolic", "") == LinalgToSystolicOptions()


def test_unknown_pass_suggests_the_closest_name():
    with pytest.raises(TesseraError, match="did you mean 'tessera-linalg-to-systolic'"):
        lookup("tessera-linalg-to-systolc")


def test_unknown_option_lists_the_options():
    with pytest.raises(TesseraError, match=r"unknown option 'colz'.*did you mean 'cols'"):
        parse_options("tessera-linalg-to-systolic", "colz=4")


def test_an_option_given_twice_is_an_error():
    """Else the last value would win and an invalid first one pass unchecked."""
    with pytest.raises(TesseraError, match="option 'n-block' of pass 'tessera-systolic-to-amx' "
                                           "is given more than once"):
        parse_options("tessera-systolic-to-amx", "n-block=-28697313914652512256 n-block=4096")


def test_option_value_of_the_wrong_type():
    with pytest.raises(TesseraError, match="option 'cols' of pass 'tessera-linalg-to-systolic' expects an integer, got '4.5'"):
        parse_options("tessera-linalg-to-systolic", "cols=4.5")


@pytest.mark.parametrize("values,message", [({"rows": 0}, "rows must be a positive integer"),
                                            ({"dataflow": "xs"}, "dataflow must be one of ws, os, is")])
def test_impossible_array_is_rejected(values, message):
    with pytest.raises(TesseraError, match=message):
        make_options("tessera-linalg-to-systolic", **values)


def test_python_keyword_options_are_checked():
    with pytest.raises(TesseraError, match="unknown option 'row'.*did you mean 'rows'"):
        make_options("tessera-linalg-to-systolic", row=4)


@pytest.mark.parametrize("name", sorted(passes()))
def test_every_pass_follows_the_conventions(name):
    """Pass `tessera-x-y` lives in passes/x_y.py, is tested in test/Transforms/x-y.mlir,
    has a one-line summary, and its options are knobs: defaults that validate, parsed
    from pipeline text like any other."""
    from pathlib import Path

    from tessera import knobs

    info = lookup(name)
    stem = name.removeprefix("tessera-")
    assert info.run.__module__ == f"tessera.passes.{stem.replace('-', '_')}"
    assert (Path(__file__).parents[1] / "Transforms" / f"{stem}.mlir").is_file()
    assert info.summary and "\n" not in info.summary
    assert info.options.__doc__
    defaults = parse_options(name, "")
    assert defaults == info.options()
    fields = knobs.fields(info.options)
    assert {f.name for f in dataclasses.fields(info.options)} == set(fields)
    for field_name, (field, _) in fields.items():
        assert field.metadata["doc"], f"option {field_name} of {name} has no help text"


@pytest.mark.parametrize("text,message", [
    ("rows=1_000", "expects an integer, got '1_000'"),
    ("rows=²", "expects an integer, got '²'"),
    ("rows=99999999999999999999999", "must be at most 4096"),
    ("rows=-3", "must be a positive integer, got -3"),
    ("dataflow=", "must be one of ws, os, is, got ''"),
])
def test_option_values_are_checked_strictly(text, message):
    with pytest.raises(TesseraError, match=re.escape(message)):
        parse_options("tessera-linalg-to-systolic", text)


def test_hardware_fields_reach_the_options_that_mirror_them():
    from tessera.hardware import NpuConfig
    from tessera.passes.systolic_tile import SystolicTileOptions

    hw = NpuConfig(8, 8, "os", spad_bytes=4096, acc_bytes=2048, dram_bytes_per_cycle=4,
                   dma_latency=7, double_buffer=False)
    options = make_options("tessera-systolic-tile", hw)
    assert options == SystolicTileOptions(4096, 2048, False, 4, 7)
    with pytest.raises(TesseraError, match="tessera-systolic-tile: option spad-bytes must be a "
                                           "positive integer, got 0"):
        make_options("tessera-systolic-tile", spad_bytes=0)
