"""The systolic and tile dialects from Python: building ops, verifiers, IRDL."""

import pytest

from tessera.context import make_context
from tessera.dialects import irdl_text, load_dialects
from tessera.dialects.systolic import MatmulOp, array_attr, array_params, transpose_flags
from tessera.dialects.tile import grid_attr, grid_params
from tessera.mlir import func, ir

MATMUL = '''
func.func @f(%a: tensor<{a}>, %b: tensor<{b}>, %c: tensor<{c}>) -> tensor<{c}> {{
  %0 = "systolic.matmul"(%a, %b, %c) {{array = #systolic.array<16 : i64, 16 : i64, "ws">,
      transpose = [false, false], epilogue = {{}}, operandSegmentSizes = array<i32: 1, 1, 1, 0>}}
      : (tensor<{a}>, tensor<{b}>, tensor<{c}>) -> tensor<{c}>
  return %0 : tensor<{c}>
}}'''


def parse(text):
    return ir.Module.parse(text)


def test_load_dialects_is_idempotent():
    with make_context() as ctx:
        load_dialects(ctx)
        assert ctx.is_dialect_loaded("systolic") and ctx.is_dialect_loaded("tile")


def test_matmul_built_from_python_verifies():
    with make_context(), ir.Location.unknown():
        module = ir.Module.create()
        f32 = ir.F32Type.get()
        a, b, c = (ir.RankedTensorType.get(s, f32) for s in ([4, 8], [8, 16], [4, 16]))
        with ir.InsertionPoint(module.body):
            fn = func.FuncOp("f", ir.FunctionType.get([a, b, c], [c]))
            block = fn.add_entry_block()
            with ir.InsertionPoint(block):
                flags = ir.ArrayAttr.get([ir.BoolAttr.get(False), ir.BoolAttr.get(False)])
                op = MatmulOp(*block.arguments, array_attr(8, 4, "os"), flags, c)
                func.ReturnOp([op.res])
        assert module.operation.verify()
        assert array_params(op.array) == (8, 4, "os")
        assert transpose_flags(op.transpose) == (False, False)
        assert op.bias is None
        assert "systolic.matmul" in str(module)


def test_matmul_verifier_names_both_sides():
    with make_context():
        with pytest.raises(ir.MLIRError) as info:
            parse(MATMUL.format(a="4x7xf32", b="8x16xf32", c="4x16xf32"))
    messages = [d.message for d in info.value.error_diagnostics]
    assert any("'systolic.matmul' op lhs is 4x7 but rhs is 8x16" in m for m in messages)


def test_matmul_rejects_unsupported_element_combination():
    with make_context():
        with pytest.raises(ir.MLIRError) as info:
            parse(MATMUL.format(a="4x8xi8", b="8x16xi8", c="4x16xf32"))
    assert "i8·i8→f32 is not supported" in str(info.value)


@pytest.mark.parametrize("a,b,c", [("4x8xbf16", "8x16xbf16", "4x16xf32"),
                                   ("4x8xi8", "8x16xi8", "4x16xi32"),
                                   ("4x8xf16", "8x16xf16", "4x16xf32"),
                                   ("2x4x8xf32", "2x8x16xf32", "2x4x16xf32")])
def test_matmul_accepts_supported_combinations(a, b, c):
    with make_context():
        assert parse(MATMUL.format(a=a, b=b, c=c)).operation.verify()


def test_grid_attribute_round_trips():
    with make_context():
        assert grid_params(grid_attr(2, 3, 4096, 32)) == (2, 3, 4096, 32)
        assert str(grid_attr(1, 1, 8, 8)) == "#tile.grid<1 : i64, 1 : i64, 8 : i64, 8 : i64>"


def test_irdl_dump_defines_both_dialects():
    text = irdl_text()
    assert "irdl.dialect @systolic" in text and "irdl.dialect @tile" in text
    assert "irdl.operation @matmul" in text and "irdl.operation @dma" in text
