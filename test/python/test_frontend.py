"""The PyTorch frontend: torch.export -> torch-mlir -> linalg on tensors."""

import numpy as np
import pytest
import torch

import models
import tessera
from tessera.context import make_context


def test_mlp_imports_as_linalg_in_the_given_context():
    model, inputs = models.example("mlp")
    ctx = make_context()
    module = tessera.import_torch(model, *inputs, context=ctx)
    assert module.context is ctx
    text = module.operation.get_asm(large_elements_limit=4)
    assert "func.func @main" in text and "linalg.matmul" in text and "torch.aten" not in text


def test_weights_are_resources_not_inlined_text():
    model, inputs = models.example("mlp")
    with make_context():
        module = tessera.import_torch(model, *inputs)
        text = str(module)
    assert "dense_resource<" in text
    # 64x128 weights printed inline would be a dense<[[...]]> literal.
    assert "dense<[[" not in text


class Unsupported(torch.nn.Module):
    def forward(self, x):
        return torch.fft.fft(x).real


def test_unsupported_model_op_is_a_located_tessera_error():
    with pytest.raises(tessera.TesseraError) as info:
        tessera.import_torch(Unsupported(), torch.randn(4, 4))
    message = str(info.value)
    assert message.startswith("cannot lower Unsupported to linalg")
    assert "failed to legalize operation" in message
    assert "test_frontend.py:" in message  # the place in the model's source


def test_non_module_input_is_rejected():
    with pytest.raises(tessera.TesseraError, match="expects a torch.nn.Module"):
        tessera.import_torch(lambda x: x, torch.randn(2))


class DataDependent(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


def test_model_torch_export_cannot_capture_is_reported():
    with pytest.raises(tessera.TesseraError, match="torch.export could not capture DataDependent"):
        tessera.import_torch(DataDependent(), torch.randn(3))


def _ops(program) -> list[str]:
    # torch's tensor-metadata assertions differ between its two tracers; nothing imports them
    return [f"{n.op} {n.target}" for n in program.graph.nodes
            if "assert_tensor_metadata" not in str(n.target)]


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch's own deprecation notices
@pytest.mark.parametrize("name", models.MODELS)
def test_one_trace_gives_the_program_export_then_decompose_gives(name):
    from tessera import frontend
    from tessera.mlir import torch_importer

    table = torch_importer()[2]()
    model, inputs = models.example(name)
    one = frontend._export_decomposed(model, inputs, table)
    two = torch.export.export(model, tuple(inputs), strict=False).run_decompositions(table)
    assert _ops(one) == _ops(two)
    assert str(one.graph_signature) == str(two.graph_signature)


def test_the_import_traces_once(monkeypatch):
    def no_second_trace(*args, **kwargs):
        raise AssertionError("torch.export.export called: the one-trace path was not taken")

    monkeypatch.setattr(torch.export, "export", no_second_trace)
    model, inputs = models.example("encoder")
    assert "linalg.matmul" in str(tessera.import_torch(model, *inputs))


def test_a_model_only_strict_export_captures_still_imports(monkeypatch):
    from tessera import frontend

    taken = []
    export = torch.export.export
    monkeypatch.setattr(torch.export, "export",
                        lambda *a, **k: taken.append(k["strict"]) or export(*a, **k))
    model, inputs = CLASSES["int-of-tensor"]
    with pytest.raises(Exception):
        frontend._export_decomposed(model, inputs, {})
    tessera.import_torch(model, *inputs)
    assert taken == [False, True]


def test_failed_export_attempts_print_nothing(capfd):
    model, inputs = CLASSES["int-of-tensor"]  # two attempts fail before strict export
    tessera.import_torch(model, *inputs)
    out, err = capfd.readouterr()
    assert "def forward" not in out + err  # torch prints a failed export's partial graph
    with pytest.raises(tessera.TesseraError, match="could not capture"):
        tessera.import_torch(DataDependent(), torch.randn(3))
    out, err = capfd.readouterr()
    assert "def forward" not in out + err


def test_import_then_passes_keep_convs_in_linalg():
    model, inputs = models.example("cnn")
    with make_context():
        module = tessera.import_torch(model, *inputs)
        from tessera.pipeline import Pipeline

        Pipeline().add("tessera-linalg-to-systolic").run(module)
        text = module.operation.get_asm(large_elements_limit=4)
    assert "linalg.conv_2d_nchw_fchw" in text
    assert text.count('"systolic.matmul"') == 1  # the classifier
    assert "linalg.matmul" not in text


# Models as the torch-mlir e2e suite writes them (benchmarks/e2e_suite.py): each ran
# into a class of failure once; each runs on the reference path and on the host path.
class AddOneUnsigned(torch.nn.Module):
    def forward(self, x):
        return x + 1, x > 2


class CopyIntoInput(torch.nn.Module):
    def forward(self, x, y):
        x[:, 1:3].copy_(y)  # an in-place change of an input
        return x + 1


class IntOfTensor(torch.nn.Module):
    def forward(self, a, b):
        return int(a) - int(b)  # only strict export (TorchDynamo) captures this


class CumulativeSum(torch.nn.Module):
    def forward(self, x):
        return torch.cumsum(x, 1)  # torch-mlir's tm_tensor.scan


CLASSES = {
    "unsigned": (AddOneUnsigned(), (torch.arange(250, 256, dtype=torch.uint8),)),
    "mutated-input": (CopyIntoInput(), (torch.randn(3, 4), torch.randn(3, 2))),
    "int-of-tensor": (IntOfTensor(), (torch.tensor(7), torch.tensor(3))),
    "tm-tensor": (CumulativeSum(), (torch.randn(3, 5),)),
}


@pytest.mark.parametrize("target", ["iree-cpu", "npu-sim"])
@pytest.mark.parametrize("name", list(CLASSES))
def test_suite_shaped_models_match_pytorch_with_its_dtypes(name, target):
    model, inputs = CLASSES[name]
    want = model(*[x.clone() for x in inputs])
    want = want if isinstance(want, tuple) else (want,)
    program = tessera.compile(model, inputs, target=target)
    got = program(*[x.clone() for x in inputs])
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want)  # no extra result for the changed input
    for g, w in zip(got, want):
        w = w.numpy() if isinstance(w, torch.Tensor) else np.asarray(w)
        assert g.dtype.kind == w.dtype.kind and g.shape == w.shape
        if isinstance(want[0], torch.Tensor):
            assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_unsigned_inputs_are_declared_in_the_ir_and_checked_at_call_time():
    model, inputs = CLASSES["unsigned"]
    module = tessera.import_torch(model, *inputs)
    text = str(module)
    assert 'tessera.dtype = "uint8"' in text  # the argument and the first result
    program = tessera.compile(model, inputs, target="iree-cpu")
    assert str(program.signature[0]) == "6xuint8"
    with pytest.raises(tessera.TesseraError, match="input 0 is 6xint8 but the compiled program "
                                                   "expects 6xuint8"):
        program(inputs[0].to(torch.int8))


@pytest.mark.parametrize("attrs, declared", [
    ('{tessera.dtype = "uint16"}', '"uint16"'),      # another width
    ('{tessera.dtype = "banana"}', '"banana"'),      # not a dtype
    ('{tessera.dtype = "float32"}', '"float32"'),    # not an integer
    ("{tessera.dtype = 8 : i32}", "8 : i32"),        # not a string
])
def test_a_declared_dtype_that_does_not_fit_the_ir_type_is_an_error(attrs, declared):
    text = f"""func.func @main(%x: tensor<4xi8> {attrs}) -> tensor<4xi8> {{
      return %x : tensor<4xi8>
    }}"""
    with pytest.raises(tessera.TesseraError, match=rf"input 0 of 'main' is declared {declared} "
                                                   rf"\(tessera.dtype\) but holds tensor<4xi8>"):
        tessera.compile(text, target="iree-cpu")


def test_a_declared_result_dtype_is_checked_too():
    text = """func.func @main(%x: tensor<4xi8>) -> (tensor<4xi8> {tessera.dtype = "uint32"}) {
      return %x : tensor<4xi8>
    }"""
    with pytest.raises(tessera.TesseraError, match="result 0 of 'main' is declared"):
        tessera.compile(text, target="iree-cpu")


class PositionIds(torch.nn.Module):
    def __init__(self):
        super().__init__()
        # as transformers registers position ids: not in the state dict
        self.register_buffer("ids", torch.arange(8), persistent=False)

    def forward(self, x):
        return x + self.ids[: x.shape[0]]


def test_non_persistent_buffers_import():
    x = torch.arange(5)
    program = tessera.compile(PositionIds(), (x,), target="iree-cpu")
    np.testing.assert_array_equal(program(x), (x + torch.arange(5)).numpy())


class Tied(torch.nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.embed = torch.nn.Embedding(16, 8).to(dtype)
        self.head = torch.nn.Linear(8, 16, bias=False).to(dtype)
        self.head.weight = self.embed.weight  # one tensor, used twice

    def forward(self, ids):
        return self.head(self.embed(ids))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_weights_become_one_resource_each_straight_from_memory(dtype):
    torch.manual_seed(0)
    model, ids = Tied(dtype).eval(), torch.tensor([[1, 5, 7]])
    module = tessera.import_torch(model, ids)
    blobs = str(module).split("dialect_resources", 1)[1]
    assert blobs.count("torch_tensor_16_8") == 1  # the tied weight is stored once
    # (IREE 3.13 rejects this bf16 gather: "'arith.constant' op failed to verify", with
    # torch-mlir's own weight path too)
    target = "iree-cpu" if dtype == torch.float32 else "npu-sim"
    got = tessera.compile(model, (ids,), target=target)(ids)
    want = model(ids).detach().float().numpy()
    np.testing.assert_allclose(np.asarray(got, dtype=np.float32), want, rtol=2e-2, atol=2e-2)


class IntegerEmptyProduct(torch.nn.Module):
    def forward(self, a, b):
        return torch.mm(a, b)


def test_an_integer_product_over_k_zero_is_refused_before_torch_mlir_crashes():
    a, b = torch.empty(3, 0, dtype=torch.int8), torch.empty(0, 3, dtype=torch.int8)
    with pytest.raises(tessera.TesseraError, match=r"IntegerEmptyProduct multiplies torch.int8 "
                                                   r"matrices over an empty dimension \(K = 0\)"):
        tessera.import_torch(IntegerEmptyProduct(), a, b)
    # the same over floats imports and runs (a product over K = 0 is its accumulator)
    x, y = torch.empty(3, 0), torch.empty(0, 3)
    out = tessera.compile(IntegerEmptyProduct(), (x, y), target="iree-cpu")(x, y)
    np.testing.assert_array_equal(out, np.zeros((3, 3), np.float32))


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8])
def test_a_product_into_bytes_is_refused_before_torch_mlir_crashes(dtype):
    a, b = torch.ones(4, 3, dtype=dtype), torch.ones(3, 4, dtype=dtype)
    with pytest.raises(tessera.TesseraError, match=rf"IntegerEmptyProduct multiplies matrices "
                                                   rf"into a {dtype} result"):
        tessera.import_torch(IntegerEmptyProduct(), a, b)
    # over int16 it imports and runs
    a, b = a.to(torch.int16), b.to(torch.int16)
    out = tessera.compile(IntegerEmptyProduct(), (a, b), target="iree-cpu")(a, b)
    np.testing.assert_array_equal(out, np.full((4, 4), 3, np.int16))


class IntegerDivisions(torch.nn.Module):
    def forward(self, a, b):
        return (torch.div(a, b, rounding_mode="floor"), torch.div(a, b, rounding_mode="trunc"),
                torch.remainder(a, b), torch.fmod(a, b))


@pytest.mark.parametrize("target", ["iree-cpu", "npu-sim"])
def test_integer_division_is_exact_and_a_zero_divisor_does_not_kill_the_process(target):
    big = 2**62 + 3  # beyond f64's 2^53: torch-mlir's float floor division rounds it
    a = torch.tensor([big, -big, 7, -7, 9, -2**63])
    b = torch.tensor([3, 7, -2, 2, 0, -1])
    program = tessera.compile(IntegerDivisions(), (a, b), target=target)
    floor, trunc, remainder, fmod = program(a, b)
    defined = slice(0, 4)  # PyTorch raises on a zero divisor, and MIN / -1 traps in it too
    for got, want in zip((floor, trunc, remainder, fmod), IntegerDivisions()(a[defined],
                                                                         b[defined])):
        np.testing.assert_array_equal(got[defined], want.numpy())
    # tessera's documented results there (RISC-V's): x / 0 = -1, x % 0 = x, MIN / -1 = MIN
    np.testing.assert_array_equal(floor[4:], [-1, -2**63])
    np.testing.assert_array_equal(trunc[4:], [-1, -2**63])
    np.testing.assert_array_equal(fmod[4:], [9, 0])


class ThresholdBackwardMixed(torch.nn.Module):
    def forward(self, grad, x):
        return torch.ops.aten.threshold_backward(grad, x, 0.5)


@pytest.mark.parametrize("target", ["iree-cpu", "npu-sim"])
def test_threshold_backward_of_integer_grads_has_eagers_promoted_dtype(target):
    # torch's decomposition returns grad's int64; eager promotes with the float input
    grad, x = torch.randint(0, 20, (4, 5)), torch.rand(4, 5)
    got = tessera.compile(ThresholdBackwardMixed(), (grad, x), target=target)(grad, x)
    want = ThresholdBackwardMixed()(grad, x).numpy()
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)


class KthValue(torch.nn.Module):
    def forward(self, x):
        return (*torch.kthvalue(x, 4, dim=1), *torch.kthvalue(x, 2, dim=-1, keepdim=True))


@pytest.mark.parametrize("target", ["iree-cpu", "npu-sim"])
def test_kthvalue_runs_as_a_sort(target):
    # iree-cpu failed on torch-mlir's tm_tensor.topk for kthvalue ("region block must end
    # with a linalg_ext.yield")
    x = torch.randperm(2 * 6 * 3, dtype=torch.int32).reshape(2, 6, 3)
    got = tessera.compile(KthValue(), (x,), target=target)(x)
    for g, w in zip(got, KthValue()(x)):
        np.testing.assert_array_equal(g, w.numpy())


class IntegerPower(torch.nn.Module):
    def forward(self, x, y):
        return torch.pow(x, y)


class IsFinite(torch.nn.Module):
    def forward(self, x):
        return torch.isfinite(x)


class UnbatchedAvgPool(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = torch.nn.AvgPool2d([6, 8], [2, 2])

    def forward(self, x):
        return self.pool(x)  # (C, H, W): no batch dimension


@pytest.mark.parametrize("target", ["iree-cpu", "npu-sim"])
def test_ops_torch_mlir_cannot_lower_run_through_tessera_decompositions(target):
    # before: "cannot lower ... to linalg" for each (integer pow: "non-floating point
    # dtype"; isfinite: not legalized; unbatched avg_pool2d: an invalid pooling_nchw_sum)
    torch.manual_seed(0)
    for dtype in (torch.int32, torch.int64, torch.uint8):
        x = torch.randint(0 if dtype == torch.uint8 else -5, 6, (3, 7), dtype=dtype)
        y = torch.randint(0 if dtype == torch.uint8 else -3, 40, (3, 7), dtype=dtype)
        if dtype.is_signed:  # negative powers of 1, -1, 0; overflow wraps as in eager
            x[0, :4], y[0, :4] = torch.tensor([1, -1, 0, 3]), torch.tensor([-3, -3, -2, 39])
        got = tessera.compile(IntegerPower(), (x, y), target=target)(x, y)
        np.testing.assert_array_equal(got, IntegerPower()(x, y).numpy())
    x = torch.tensor([-torch.inf, torch.inf, torch.nan, -2.3, 0.0, 1.5])
    np.testing.assert_array_equal(tessera.compile(IsFinite(), (x,), target=target)(x),
                                  [False, False, False, True, True, True])
    x = torch.rand(4, 20, 20)
    np.testing.assert_allclose(tessera.compile(UnbatchedAvgPool(), (x,), target=target)(x),
                               UnbatchedAvgPool()(x).numpy(), rtol=1e-6)


class AdaptiveMaxPools(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.pool2d = torch.nn.AdaptiveMaxPool2d((7, 13), return_indices=True)
        self.pool1d = torch.nn.AdaptiveMaxPool1d(7)

    def forward(self, x):
        return (*self.pool2d(x), self.pool1d(x[0]))  # windows of uneven sizes, overlapping


@pytest.mark.parametrize("target", ["iree-cpu", "npu-sim"])
def test_adaptive_max_pooling_gathers_each_window(target):
    # torch-mlir cannot lower aten.adaptive_max_pool2d ("cannot lower ... to linalg")
    x = torch.rand(1, 4, 10, 9)
    got = tessera.compile(AdaptiveMaxPools(), (x,), target=target)(x)
    for g, w in zip(got, AdaptiveMaxPools()(x), strict=True):
        np.testing.assert_array_equal(g, w.numpy())


class ArangeInto(torch.nn.Module):
    def forward(self, x):
        return torch.arange(start=1, end=13, out=x)


def test_an_out_argument_of_another_shape_is_refused():
    # eager keeps x's 3x4 shape here; torch.export's program returns the 1-d arange
    with pytest.raises(tessera.TesseraError, match=r"ArangeInto writes input 'x' \(\(3, 4\)\) "
                                                   r"with a result of shape \(12,\)"):
        tessera.import_torch(ArangeInto(), torch.zeros(3, 4, dtype=torch.int64))
    # an out= of the result's shape runs
    x = torch.zeros(12, dtype=torch.int64)
    got = tessera.compile(ArangeInto(), (x,), target="iree-cpu")(x)
    np.testing.assert_array_equal(got, np.arange(1, 13))
