"""The pass registry and option parsing shared by Python and tessera-opt."""

import pytest

from tessera import TesseraError
from tessera.passes.linalg_to_systolic import LinalgToSystolicOptions, linalg_to_systolic
from tessera.passes.registry import lookup, make_options, parse_options, passes


def test_registry_lists_both_passes():
    assert {"tessera-linalg-to-systolic", "tessera-systolic-to-linalg"} <= set(passes())
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
