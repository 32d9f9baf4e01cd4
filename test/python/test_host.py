"""The host JIT (tessera.host): large constants are linked to numpy arrays instead of being
compiled into the code, with the same results; and the bytes of dense attributes as
tessera.elements reads them."""

import ml_dtypes
import numpy as np
import pytest
import torch

import tessera
from tessera.context import make_context
from tessera.elements import dense_bytes
from tessera.host import HostProgram, code_unoptimized, copy_module, lowered_copy
from tessera.mlir import ir, llvm, translate_to_llvm_ir
from tessera.passes.externalize_constants import constants_declared, externalize_constants

ADD_WEIGHTS = """
func.func @main(%a: tensor<128x64xf32>) -> tensor<128x64xf32> {
  %w = arith.constant dense<0.0> : tensor<128x64xf32>
  %s = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %e = tensor.empty() : tensor<128x64xf32>
  %r = linalg.add ins(%a, %w : tensor<128x64xf32>, tensor<128x64xf32>)
                  outs(%e : tensor<128x64xf32>) -> tensor<128x64xf32>
  return %r : tensor<128x64xf32>
}"""


def _with_weights(module: ir.Module, weights: np.ndarray) -> None:
    """Give the module's 128x64 constant the value of `weights`, as a dense_resource blob
    (how torch's weights arrive)."""
    attr = ir.DenseResourceElementsAttr.get_from_buffer(
        weights, "weights", ir.RankedTensorType.get(weights.shape, ir.F32Type.get()))
    for op in module.body.operations[0].regions[0].blocks[0].operations:
        if op.name == "arith.constant" and ir.ShapedType(op.result.type).shape == [128, 64]:
            op.attributes["value"] = attr


@pytest.mark.parametrize("opt_level", [0, 2])
def test_large_constant_is_linked_not_compiled(opt_level):
    weights = np.random.default_rng(0).standard_normal((128, 64), np.float32)
    a = np.random.default_rng(1).standard_normal((128, 64), np.float32)
    with make_context(), ir.Location.unknown():
        module = ir.Module.parse(ADD_WEIGHTS)
        _with_weights(module, weights)
        lowered, outputs = lowered_copy(module, "main")
        before = str(lowered)
        program = HostProgram(lowered, outputs, {}, opt_level=opt_level)
        np.testing.assert_array_equal(program.run([a])[0], a + weights)  # exact: one add
        assert str(lowered) == before  # the caller's module is left as it was
        assert [d.nbytes for d in program._constants.values()] == [weights.nbytes]
        data = externalize_constants(lowered)  # what the JIT was given
        llvm_ir = translate_to_llvm_ir(lowered)
    # The weights are a declaration the JIT links; the 2-element constant stays inside.
    (name, got), = data.items()
    assert f"@{name} = external constant [128 x [64 x float]]" in llvm_ir
    assert len(llvm_ir) < weights.nbytes
    assert "[2 x float] [float 1.0" in llvm_ir
    np.testing.assert_array_equal(got.view(np.float32), weights.reshape(-1))


def test_declared_alignment_is_the_datas():
    with make_context(), ir.Location.unknown():
        module = ir.Module.parse(ADD_WEIGHTS)
        _with_weights(module, np.ones((128, 64), np.float32))
        lowered, _ = lowered_copy(module, "main")
        with constants_declared(lowered) as data:
            (name, got), = data.items()
            (declared,) = [op for op in lowered.body.operations
                           if isinstance(op, llvm.GlobalOp) and op.sym_name.value == name]
            alignment = declared.alignment.value
            assert declared.value is None
        assert declared.alignment.value == 64 and declared.value is not None  # restored
    assert got.ctypes.data % alignment == 0 and alignment <= 64


def test_model_reading_a_large_table_on_the_host_matches_pytorch():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(1000, 64), torch.nn.Linear(64, 32)).eval()
    tokens = torch.randint(0, 1000, (1, 16))
    program = tessera.compile(model, (tokens,), target="npu-sim")
    with torch.no_grad():
        expected = model(tokens).numpy()
    np.testing.assert_allclose(program(tokens), expected, rtol=1e-4, atol=1e-5)


RESOURCES = [(np.arange(-8, 8, dtype=np.int8), "i8"),
             (np.arange(12, dtype=np.int64).reshape(3, 4), "i64"),
             (np.linspace(-1, 1, 10, dtype=np.float32), "f32"),
             (np.linspace(-1, 1, 10).astype(ml_dtypes.bfloat16), "bf16")]


@pytest.mark.parametrize("array,element", RESOURCES, ids=[e for _, e in RESOURCES])
def test_resource_bytes_are_the_arrays(array, element):
    with make_context(), ir.Location.unknown():
        shaped = ir.RankedTensorType.get(array.shape, ir.Type.parse(element))
        attr = ir.DenseResourceElementsAttr.get_from_buffer(array, "blob", shaped)
        got = dense_bytes(ir.Attribute(attr))  # as an op hands it back: a plain Attribute
    np.testing.assert_array_equal(got, np.frombuffer(array.tobytes(), np.uint8))


@pytest.mark.parametrize("text,expected", [
    ("dense<[[1.5, -2.0], [3.0, 4.0]]> : tensor<2x2xf32>",
     np.array([[1.5, -2.0], [3.0, 4.0]], np.float32)),
    ("dense<7> : tensor<3x2xi16>", np.full((3, 2), 7, np.int16)),  # a splat, expanded
    ("dense<[true, false, true]> : tensor<3xi1>", np.array([1, 0, 1], np.uint8)),
])
def test_dense_bytes_are_the_elements_in_memory(text, expected):
    with make_context():
        got = dense_bytes(ir.Attribute.parse(text))
    np.testing.assert_array_equal(got, np.frombuffer(expected.tobytes(), np.uint8))


@pytest.mark.parametrize("text", ["dense<1.0> : tensor<4xbf16>", "dense<1> : tensor<4xi4>",
                                  "1.0 : f32", '"not elements"'])
def test_what_numpy_cannot_lay_out_is_none(text):
    with make_context():
        assert dense_bytes(ir.Attribute.parse(text)) is None


def test_copy_is_independent_and_keeps_the_module_attributes():
    with make_context():
        module = ir.Module.parse('module attributes {tessera.note = "kept"} {\n'
                                 '  func.func @f() { return }\n}')
        copy = copy_module(module)
        copy.body.operations[0].operation.erase()
        assert len(module.body.operations) == 1
        assert str(copy.operation.attributes["tessera.note"]) == '"kept"'


def test_unoptimized_code_is_marked_only_while_the_jit_translates_it():
    with make_context(), ir.Location.unknown():
        lowered, _ = lowered_copy(ir.Module.parse(ADD_WEIGHTS), "main")
        before = str(lowered)
        with code_unoptimized(lowered):
            during = str(lowered)
        assert str(lowered) == before
    assert "optimize_none" not in before and "no_inline" not in before
    defined = [line for line in during.splitlines()
               if line.lstrip().startswith("llvm.func") and line.endswith("{")]
    assert len(defined) == 3 and all("no_inline, optimize_none" in line for line in defined)
    assert during.count("optimize_none") == 3  # not the declarations (malloc, free)


MISSING_SYMBOL = """
func.func private @tessera_test_nowhere(f32) -> f32
func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.map ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>)
    (%x: f32, %o: f32) { %y = func.call @tessera_test_nowhere(%x) : (f32) -> f32
                         linalg.yield %y : f32 }
  return %r : tensor<4xf32>
}"""


def test_a_symbol_missing_from_the_process_is_an_error_when_compiled():
    with make_context(), ir.Location.unknown():
        lowered, outputs = lowered_copy(ir.Module.parse(MISSING_SYMBOL), "main")
        with pytest.raises(tessera.TesseraError, match="JIT linking of the host code failed"):
            HostProgram(lowered, outputs, {})


class _Atan(torch.nn.Module):
    def forward(self, a):
        return torch.atan(a) + torch.exp(a)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_math_runs_in_the_host_jit(dtype):
    # bf16 math went through LLVM's promotion to f32, whose truncation calls compiler-rt's
    # __truncsfbf2: missing from this process, the JIT could not link (torch-mlir's
    # ElementwiseAtanTensorBFloat16SpecialValuesModule_basic on npu-sim)
    a = torch.tensor([[float("-inf"), -2.0, 0.0, 0.5, 3.0, float("inf"), float("nan")]],
                     dtype=dtype)
    got = tessera.compile(_Atan(), (a,), target="npu-sim")(a)
    want = _Atan()(a).float().numpy()
    np.testing.assert_allclose(np.asarray(got, dtype=np.float32), want, rtol=1e-2, equal_nan=True)
