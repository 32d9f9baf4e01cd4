"""Every example model (examples/models.py MODELS) on every target that runs here,
against PyTorch eager; where the ops go on npu-sim; grouped and NHWC convolutions; and
the error a dynamic batch size gets.

Tolerances: f32 models rtol 1e-4, atol 1e-5, as in test_compile_iree_cpu.py. That holds
for the deepest model here too (the encoder layer: six matmuls, softmax, two layer
norms; measured max abs error 5e-7 on every target), because the matmuls accumulate in
f32 in the same order of magnitude as PyTorch and the values stay O(1). The int8 model
must match exactly: eager PyTorch computes the same integer math (i8 x i8 -> i32
`torch._int_mm`, i32 bias, ReLU, multiply by an f32 multiplier, round half to even,
saturate), so any difference is a bug.

riscv runs every model under QEMU (about 15 s for all seven here); it is skipped where
QEMU or the cross linker is missing.
"""

import numpy as np
import pytest
import torch

import models
import tessera
from tessera.targets import cpu_amx, riscv

RTOL, ATOL = 1e-4, 1e-5

_can_run_riscv, _why_not = riscv.can_run()
TARGETS = ["iree-cpu", "npu-sim",
           pytest.param("riscv", marks=pytest.mark.skipif(not _can_run_riscv, reason=_why_not))]


def eager(model, inputs):
    with torch.no_grad():
        return model(*inputs).numpy()


def assert_matches(name, got, want):
    if name == "int8mlp":
        assert got.dtype == np.int8
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", models.MODELS)
def test_model_matches_pytorch(name, target):
    model, inputs = models.example(name)
    executable = tessera.compile(model, inputs, target=target)
    assert_matches(name, executable(*inputs), eager(model, inputs))
    if target == "npu-sim":
        check_where_the_ops_go(name, executable.report)


# bf16 keeps 8 significant bits: rounding both operands of every product costs up to
# 2**-8 of it; summed over K and through two or three layers the output is off by a few
# bf16 units of roundoff (2**-9) relative to its norm: 1e-2 bounds that (measured here:
# 6e-4 .. 3.1e-3).
BF16_NORM_RTOL = 1e-2


@pytest.mark.parametrize("name", models.MODELS)
def test_model_on_emulated_amx(name):
    # cpu-amx with its AMX tile ops emulated (this CPU has none); with the explicit
    # amx-bf16 preset every f32 matmul runs on the (emulated) tiles in bf16.
    from tessera.context import make_context
    from tessera.mlir import ir

    model, inputs = models.example(name)
    context = make_context()
    with context, ir.Location.unknown():
        executable = cpu_amx.emulate(tessera.import_torch(model, *inputs, context=context),
                                     "amx-bf16")
    assert executable.report.kernels, "no matmul reached the AMX kernels"
    got, want = executable(*inputs), eager(model, inputs)
    if name == "int8mlp":
        assert_matches(name, got, want)
    else:
        error = np.linalg.norm(got.astype(np.float64) - want) / np.linalg.norm(want)
        assert error < BF16_NORM_RTOL


VECTOR_ENGINES = [pytest.param(engine, marks=pytest.mark.skipif(
    not cpu_amx.available(engine)[0], reason=cpu_amx.available(engine)[1]))
    for engine in ("avx512", "avx2")]


@pytest.mark.parametrize("engine", VECTOR_ENGINES)
@pytest.mark.parametrize("name", models.MODELS)
def test_model_on_a_vector_engine(name, engine):
    # cpu-amx's vector engines (what a CPU without AMX runs): f32 matmuls stay f32 (FMA
    # kernels), so the f32 tolerance holds; int8 matmuls run as vpdpbusd (AVX-512) or
    # vpmaddwd (AVX2) kernels, exact.
    model, inputs = models.example(name)
    executable = tessera.compile(model, inputs, target="cpu-amx", hw=engine)
    assert executable.report.engine == engine
    assert executable.report.kernels
    assert_matches(name, executable(*inputs), eager(model, inputs))


def test_int8_model_exercises_rounding_and_saturation():
    # Without ties and clamped values the exact comparison would prove less.
    model, (x,) = models.example("int8mlp")
    acc = torch.relu(torch._int_mm(x, model.w1) + model.b1)
    assert ((acc.to(torch.float32) * model.s1).frac() == 0.5).any(), "no value rounds half to even"
    assert (model.requantize(acc, model.s1) == 127).any(), "no hidden value saturates"
    out = eager(model, (x,))
    assert (out == 127).any() and (out == -128).any(), "no output saturates"


# npu-sim: the matmuls each model sends to the array (MxNxK, " xB" for a batch of B) and
# host op kinds that must not be there.
ON_THE_ARRAY = {
    "mlp": "[8x128x64, 8x32x128]",
    "cnn": "[512x4x9, 128x8x36, 2x10x128]",
    "resnet": "[128x8x72, 128x8x72]",
    # depthwise 3x3, stride 2: a batch of 8 channels, then the pointwise 1x1 conv
    "mobilenet": "[128x1x9 x8, 128x16x8]",
    # QKV projection (torch-mlir makes it a batch over the 8 positions of one repeated
    # weight, which folds back into M: 16 rows), QK^T and AV per (batch, head) pair,
    # output projection, the two MLP layers
    "encoder": "[16x96x32, 8x8x8 x8, 8x8x8 x8, 16x32x32, 16x64x32, 16x32x64]",
    "gru": "[4x96x16, 4x96x32]",
    "int8mlp": "[8x128x64, 8x32x128]",
}
NOT_ON_THE_HOST = {
    "mobilenet": ["depthwise_conv", "conv_2d"],
    "resnet": ["conv_2d"],
    "cnn": ["conv_2d"],
}


def check_where_the_ops_go(name, report):
    """npu-sim: the model's matmuls are on the array and its convolutions not on the host."""
    table = report.table()
    assert f"on the array: {len(report.kernels)} matmul(s) {ON_THE_ARRAY[name]}" in table
    host = " ".join(report.host_ops)
    for op in NOT_ON_THE_HOST.get(name, []):
        assert op not in host
    if name == "int8mlp":
        # Bias, ReLU and requantization all happen at move-out: nothing is left on the
        # host, and each kernel writes i8.
        assert report.host_ops == {}
        assert [k.program.buffers[k.program.arguments[-1]].dtype for k in report.kernels] == \
            [np.dtype("int8")] * 2


class GroupedConv(torch.nn.Module):
    """Two groups, stride 2, padding 1 (torch-mlir: linalg.conv_2d_ngchw_gfchw)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)

    def forward(self, x):
        return self.conv(x)


@pytest.mark.parametrize("target", TARGETS)
def test_grouped_conv_matches_pytorch(target):
    torch.manual_seed(0)
    model, inputs = GroupedConv().eval(), (torch.randn(2, 4, 9, 9),)
    executable = tessera.compile(model, inputs, target=target)
    np.testing.assert_allclose(executable(*inputs), eager(model, inputs), rtol=RTOL, atol=ATOL)
    if target == "npu-sim":
        assert "on the array: 1 matmul(s) [50x3x18 x2]" in executable.report.table()


# NHWC layouts do not come out of PyTorch; linalg's own NHWC convolutions (depthwise with
# stride, grouped with dilation, and plain NHWC) are checked against iree-cpu, which runs
# the convolutions as they are, without tessera-conv-to-matmul.
NHWC = '''
func.func @main(%x: tensor<2x9x9x4xf32>, %dw: tensor<3x3x4xf32>, %g: tensor<2x3x3x3x2xf32>, %w: tensor<3x3x4x5xf32>) -> (tensor<2x4x4x4xf32>, tensor<2x5x5x2x3xf32>, tensor<2x7x7x5xf32>) {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<2x4x4x4xf32>
  %i1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %depthwise = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %dw : tensor<2x9x9x4xf32>, tensor<3x3x4xf32>) outs(%i1 : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %xg = tensor.expand_shape %x [[0], [1], [2], [3, 4]] output_shape [2, 9, 9, 2, 2] : tensor<2x9x9x4xf32> into tensor<2x9x9x2x2xf32>
  %e2 = tensor.empty() : tensor<2x5x5x2x3xf32>
  %i2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x5x5x2x3xf32>) -> tensor<2x5x5x2x3xf32>
  %grouped = linalg.conv_2d_nhwgc_gfhwc {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%xg, %g : tensor<2x9x9x2x2xf32>, tensor<2x3x3x3x2xf32>) outs(%i2 : tensor<2x5x5x2x3xf32>) -> tensor<2x5x5x2x3xf32>
  %e3 = tensor.empty() : tensor<2x7x7x5xf32>
  %i3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<2x7x7x5xf32>) -> tensor<2x7x7x5xf32>
  %plain = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<2x9x9x4xf32>, tensor<3x3x4x5xf32>) outs(%i3 : tensor<2x7x7x5xf32>) -> tensor<2x7x7x5xf32>
  return %depthwise, %grouped, %plain : tensor<2x4x4x4xf32>, tensor<2x5x5x2x3xf32>, tensor<2x7x7x5xf32>
}'''


@pytest.mark.parametrize("target", TARGETS[1:])
def test_nhwc_depthwise_and_grouped_convs_match_iree_cpu(target):
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s).astype(np.float32)
              for s in ((2, 9, 9, 4), (3, 3, 4), (2, 3, 3, 3, 2), (3, 3, 4, 5))]
    want = tessera.compile(NHWC, target="iree-cpu")(*inputs)
    executable = tessera.compile(NHWC, target=target)
    for got, ref in zip(executable(*inputs), want):
        np.testing.assert_allclose(got, ref, rtol=RTOL, atol=ATOL)
    if target == "npu-sim":
        assert "[32x1x9 x4, 50x3x18 x2, 98x5x36]" in executable.report.table()


@pytest.mark.parametrize("target", ["iree-cpu", "npu-sim", "riscv"])
def test_dynamic_batch_is_rejected_with_what_to_do(target):
    model, (x,) = models.example("mlp")
    program = torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},),
                                  strict=False)
    with pytest.raises(tessera.TesseraError,
                       match=r"is tensor<\?x64xf32>; tessera needs static shapes \(export "
                             r"the model with fixed-size example inputs\)"):
        tessera.compile(program, (x,), target=target)


def test_unknown_example_names_the_known_ones():
    with pytest.raises(KeyError, match="known: mlp, cnn, resnet, mobilenet, encoder, gru, int8mlp"):
        models.example("resnet50")


class _GeluMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(16, 32), torch.nn.Linear(32, 8)

    def forward(self, x):
        return self.fc2(torch.nn.functional.gelu(self.fc1(x)))


@pytest.mark.parametrize("target", TARGETS)
def test_gelu_runs_as_host_code_between_matmuls(target):
    # GELU (erf) is not a matmul: it stays host / vectorized code on every target.
    torch.manual_seed(0)
    model, x = _GeluMLP().eval(), torch.randn(4, 16)
    assert_matches("gelu", tessera.compile(model, (x,), target=target)(x), eager(model, (x,)))
