"""End to end through tessera.compile on the iree-cpu reference target vs PyTorch eager.

f32 tolerance everywhere: rtol 1e-4, atol 1e-5.
"""

import shutil

import numpy as np
import pytest
import torch

import models
import tessera
from tessera.errors import TesseraError
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


class LibmMath(torch.nn.Module):
    def forward(self, x, y):  # IREE has no code of its own for these
        return torch.atan2(torch.cos(x), torch.sin(y)), torch.log10(y.float()), x ** y


@pytest.mark.skipif(shutil.which("ld") is None, reason="no system linker")
def test_math_iree_has_no_code_for_is_linked_by_the_system_linker():
    x = torch.rand(4, 5, dtype=torch.float64) + 0.5
    y = torch.rand(4, 5, dtype=torch.float64) + 0.5
    program = tessera.compile(LibmMath(), (x, y), target="iree-cpu")
    assert program.report.hw.system_link
    for got, want in zip(program(x, y), LibmMath()(x, y)):
        assert got.dtype == want.numpy().dtype
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-12 if got.dtype == np.float64 else 1e-6)


def test_without_a_system_linker_an_undefined_math_function_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no ld
    x = torch.rand(3, dtype=torch.float64)
    with pytest.raises(tessera.TesseraError, match=r"(?s)undefined symbol: cos.*linking it with "
                                                   r"the system linker instead failed too: "
                                                   r"No Unix linker tool found"):
        tessera.compile(LibmMath(), (x, x), target="iree-cpu")


class Bf16Layers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.norm = torch.nn.LayerNorm(6)

    def forward(self, x):
        return self.norm(self.conv(x))


def test_bf16_constants_compile_without_being_inlined_into_dispatches():
    # IREE's bf16 emulation failed on the small bf16 weights it inlines into a dispatch:
    # "'arith.constant' op failed to verify that all of {value, result} have same type"
    torch.manual_seed(0)
    model, x = Bf16Layers().to(torch.bfloat16).eval(), torch.randn(1, 3, 8, 8).to(torch.bfloat16)
    program = tessera.compile(model, (x,), target="iree-cpu")
    assert not program.report.hw.inline_constants
    want = model(x).float().detach().numpy()
    np.testing.assert_allclose(program(x).astype(np.float32), want, rtol=2.0 ** -7, atol=2.0 ** -7)


class FloatStep(torch.nn.Module):
    def forward(self, x):  # the step is an f64 scalar truncated to f32
        return x + torch.arange(-1, 5, 1.3)


def test_an_f64_scalar_truncated_to_f32_runs_on_iree_cpu():
    # IREE's VM failed: "failed to legalize operation 'arith.truncf'" (f64 -> f32)
    x = torch.rand(5)
    got = tessera.compile(FloatStep(), (x,), target="iree-cpu")(x)
    np.testing.assert_allclose(got, FloatStep()(x).numpy(), rtol=RTOL, atol=ATOL)


KNOB_FLAGS = {
    "data_tiling": ("--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=all",
                    "--iree-llvmcpu-stack-allocation-limit=65536"),
    "im2col": ("--iree-global-opt-use-im2col-for-convs",),
    "peel": ("--iree-llvmcpu-vector-pproc-strategy=peel",),
    "reassociate": ("--iree-llvmcpu-reassociate-fp-reductions=true",),
}


@pytest.mark.parametrize("off", [None, *KNOB_FLAGS])
def test_each_iree_knob_reaches_iree_and_the_result_matches(off, monkeypatch):
    from tessera import iree

    passed = []
    real = iree.compile_text
    monkeypatch.setattr(iree, "compile_text",
                        lambda text, flags, *a: passed.extend(flags) or real(text, flags, *a))
    model, inputs = models.example("mlp")
    hw = "host" if off is None else f"host,{off}=false"
    program = tessera.compile(model, inputs, target="iree-cpu", hw=hw)
    for knob, flags in KNOB_FLAGS.items():
        assert getattr(program.report.hw, knob) == (knob != off)
        for flag in flags:
            assert (flag in passed) == (knob != off)
    # code IREE links by itself stays self-contained, its constants inlined
    assert not program.report.hw.system_link and "--iree-llvmcpu-link-embedded=false" not in passed
    assert program.report.hw.inline_constants
    assert "--iree-flow-inline-constants-max-byte-length=0" not in passed
    np.testing.assert_allclose(program(*inputs), model(*inputs).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_where_iree_fails_on_im2col_it_compiles_again_without_and_says_so(monkeypatch):
    """IREE 3.13's im2col breaks NHWC depthwise convolutions of batch 2 (checked here):
    the target compiles again without it; the report's hw is what ran."""
    from tessera import iree

    depthwise = """
func.func @main(%x: tensor<2x9x9x4xf32>, %w: tensor<3x3x4xf32>) -> tensor<2x4x4x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x4x4xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %0 = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<2x9x9x4xf32>, tensor<3x3x4xf32>) outs(%i : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  return %0 : tensor<2x4x4x4xf32>
}"""
    with pytest.raises(TesseraError, match="batch_matvec"):
        iree.compile_text(depthwise, ["--iree-llvmcpu-target-cpu=host",
                                      "--iree-global-opt-use-im2col-for-convs"], "im2col",
                          ["llvm-cpu"])
    program = tessera.compile(depthwise, target="iree-cpu")
    assert not program.report.hw.im2col and program.report.hw.data_tiling
    x = np.random.default_rng(0).standard_normal((2, 9, 9, 4)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((3, 3, 4)).astype(np.float32)
    want = torch.nn.functional.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2),
                                      torch.from_numpy(w).permute(2, 0, 1)[:, None],
                                      stride=2, groups=4).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(program(x, w), want, rtol=1e-4, atol=1e-5)
    # A module IREE cannot compile on any settings: three tries, IREE's error on the
    # plainest settings.
    tries = []

    def refuse(text, flags, what, backends):
        tries.append(flags)
        raise TesseraError(f"{what}: refused with {' '.join(flags)}")

    monkeypatch.setattr(iree, "compile_text", refuse)
    with pytest.raises(TesseraError, match="IREE could not compile") as error:
        tessera.compile(depthwise, target="iree-cpu")
    assert len(tries) == 3
    assert "data-tiling" not in str(error.value) and "im2col" not in str(error.value)


def test_convolutions_match_with_and_without_im2col():
    model, inputs = models.example("cnn")
    want = model(*inputs).detach().numpy()
    for hw in ("host", "host,im2col=false"):
        got = tessera.compile(model, inputs, target="iree-cpu", hw=hw)(*inputs)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cin,cout,kernel,stride,padding,dilation,bias,size", [
    (3, 12, 7, 2, 3, 1, True, 30),   # a ResNet stem: 12 filters padded to 16
    (8, 16, 3, 1, 1, 1, False, 17),  # 17 output columns padded to 24
    (5, 8, 3, 2, 2, 2, True, 11),    # dilation and stride together
    (4, 8, 2, 1, 0, 1, True, 8)])    # an even kernel, whole tiles
def test_convolutions_as_packed_im2col_and_mmt4d_match(cin, cout, kernel, stride, padding,
                                                      dilation, bias, size):
    """tessera-conv-to-mmt4d (on by default) against torch; the 1x1 convolution after it
    is left to IREE's own im2col; off, no mmt4d reaches IREE."""
    from tessera import iree

    torch.manual_seed(cin + cout + kernel)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, dilation=dilation,
                        bias=bias),
        torch.nn.ReLU(), torch.nn.Conv2d(cout, 8, 1)).eval()
    x = torch.randn(1, cin, size, size)
    texts = []
    real = iree.compile_text
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(iree, "compile_text", lambda text, *a: texts.append(text) or real(text, *a))
        on = tessera.compile(model, (x,), target="iree-cpu")
        off = tessera.compile(model, (x,), target="iree-cpu", hw="host,mmt4d_convs=false")
    assert on.report.hw.mmt4d_convs and not off.report.hw.mmt4d_convs
    assert texts[0].count("linalg.mmt4d") == 1 and texts[0].count("linalg.conv_2d_nchw_fchw") == 1
    assert "linalg.mmt4d" not in texts[1] and texts[1].count("linalg.conv_2d_nchw_fchw") == 2
    want = eager(model, (x,))
    for program in (on, off):
        np.testing.assert_allclose(program(x), want, rtol=RTOL, atol=ATOL)
