"""Pipelines mixing tessera and upstream passes, built from Python or text."""

import pytest

from tessera import TesseraError
from tessera.context import make_context
from tessera.mlir import ir
from tessera.passes.linalg_to_systolic import linalg_to_systolic
from tessera.passes.systolic_to_linalg import systolic_to_linalg
from tessera.pipeline import Element, Pipeline, parse_pipeline

MATMUL = '''
func.func @mm(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}'''


def test_parse_pipeline_unwraps_builtin_module_and_keeps_nesting():
    elements = parse_pipeline("builtin.module(a{x=1 y=2},func.func(b,c),d)")
    assert elements[0] == Element("a", "x=1 y=2")
    assert elements[1].name == "func.func" and [e.name for e in elements[1].nested] == ["b", "c"]
    assert elements[2] == Element("d")


def test_python_pipeline_with_function_stages():
    with make_context():
        module = ir.Module.parse(MATMUL)
        pm = Pipeline()
        pm.add(linalg_to_systolic, rows=8, cols=8, dataflow="os")
        pm.add("canonicalize")
        pm.run(module)
        text = str(module)
    assert '#systolic.array<8 : i64, 8 : i64, "os">' in text
    # Options that differ from their defaults are printed, so the text rebuilds it.
    text = "builtin.module(tessera-linalg-to-systolic{rows=8 cols=8 dataflow=os},canonicalize)"
    assert str(pm) == text
    with make_context():
        assert Pipeline().add(text).steps == pm.steps


def test_text_pipeline_round_trips_to_linalg():
    with make_context():
        module = ir.Module.parse(MATMUL)
        Pipeline().add("builtin.module(tessera-linalg-to-systolic{rows=4},"
                       "tessera-systolic-to-linalg,cse)").run(module)
        text = str(module)
    assert "linalg.matmul" in text and "systolic" not in text


def test_functions_that_are_not_passes_are_rejected():
    with make_context():
        with pytest.raises(TesseraError, match="is not a registered tessera pass"):
            Pipeline().add(print)


def test_unknown_upstream_pass_suggests_a_name():
    with make_context():
        with pytest.raises(TesseraError, match="unknown pass 'cannonicalize'; did you mean 'canonicalize'"):
            Pipeline().add("cannonicalize")


def test_keyword_options_only_for_tessera_passes():
    with make_context():
        with pytest.raises(TesseraError, match="keyword options are only for tessera passes"):
            Pipeline().add("canonicalize", top_down=True)


def test_systolic_to_linalg_is_a_registered_function_stage():
    with make_context():
        assert "tessera-systolic-to-linalg" in str(Pipeline().add(systolic_to_linalg))
