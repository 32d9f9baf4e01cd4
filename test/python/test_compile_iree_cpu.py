"""End to end through tessera.compile on the iree-cpu reference target vs PyTorch eager.

f32 tolerance everywhere: rtol 1e-4, atol 1e-5.
"""

import numpy as np
import pytest
import torch

import models
import tessera
from models import matmul_mlir as gemm

RTOL, ATOL = 1e-4, 1e-5


def eager(model, inputs):
    with torch.no_grad():
        return model(*inputs).numpy()


@pytest.mark.parametrize("name", ["mlp", "cnn", "encoder"])
def test_model_matches_pytorch(name):
    model, inputs = models.example(name)
    executable = tessera.compile(model, inputs, target="iree-cpu")
    np.testing.assert_allclose(executable(*inputs), eager(model, inputs), rtol=RTOL, atol=ATOL)
    t = executable.timings
    assert t["compile_s"] == pytest.approx(t["import_s"] + t["passes_s"] + t["backend_s"])
    assert t["run_s"] > 0


def test_numpy_inputs_and_other_values():
    model, inputs = models.example("mlp")
    executable = tessera.compile(model, inputs)
    other = torch.randn(8, 64)
    np.testing.assert_allclose(executable(other.numpy()), eager(model, (other,)), rtol=RTOL, atol=ATOL)


def test_compile_accepts_mlir_text():
    text = gemm(2, 4, 3)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(tessera.compile(text)(a, b), a @ b, rtol=RTOL, atol=ATOL)


def test_int8_matmul_is_exact():
    text = gemm(5, 3, 7, "i8", "i32")
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (5, 7), dtype=np.int8)
    b = rng.integers(-128, 128, (7, 3), dtype=np.int8)
    np.testing.assert_array_equal(tessera.compile(text)(a, b), a.astype(np.int32) @ b.astype(np.int32))


def test_wrong_inputs_are_user_errors():
    model, inputs = models.example("mlp")
    executable = tessera.compile(model, inputs)
    with pytest.raises(tessera.TesseraError, match=r"expected 1 inputs \(8x64xfloat32\), got 2"):
        executable(*inputs, *inputs)
    with pytest.raises(tessera.TesseraError, match="input 0 is 8x64xfloat64 but the compiled program expects 8x64xfloat32"):
        executable(np.zeros((8, 64)))


def test_unknown_target_suggests_a_name():
    with pytest.raises(tessera.TesseraError, match="unknown target 'iree-cpus'; did you mean 'iree-cpu'"):
        tessera.compile(*models.example("mlp"), target="iree-cpus")


def test_invalid_mlir_text_is_located():
    with pytest.raises(tessera.TesseraError, match=r"<input>:1:17: error: expected non-function type"):
        tessera.compile("func.func @main( {")


def test_strided_conv_with_one_output_and_an_unread_edge_compiles():
    # Found by the conv2d property test: IREE 3.13 alone rejects this shape;
    # tessera-conv-trim-input slices the unread row and column off first.
    torch.manual_seed(0)
    model = torch.nn.Conv2d(1, 1, 3, stride=2, bias=False).eval()
    x = torch.randn(1, 1, 4, 4)
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(tessera.compile(model, (x,))(x), expected, rtol=1e-5, atol=1e-6)


class Histogram(torch.nn.Module):
    def forward(self, x):
        return torch.bincount(x)  # its length is the largest value + 1: known at run time


def test_a_result_sized_at_run_time_comes_back_whole_on_iree_cpu():
    x = torch.tensor([0, 3, 3, 1, 7])
    program = tessera.compile(Histogram(), (x,), target="iree-cpu")
    np.testing.assert_array_equal(program(x), torch.bincount(x).numpy())


def test_a_result_sized_at_run_time_is_a_clear_error_on_npu_sim():
    x = torch.tensor([0, 3, 3, 1, 7])
    with pytest.raises(tessera.TesseraError, match=r"result 0 of 'main' is tensor<\?xi64>; "
                                                   r"tessera needs static shapes"):
        tessera.compile(Histogram(), (x,), target="npu-sim")


def test_data_tiling_knob_compiles_with_iree_ukernels_and_matches():
    model, inputs = models.example("mlp")
    program = tessera.compile(model, inputs, target="iree-cpu", hw="host,data_tiling=true")
    assert program.report.hw.data_tiling
    np.testing.assert_allclose(program(*inputs), model(*inputs).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
