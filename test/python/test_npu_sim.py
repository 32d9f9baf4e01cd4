"""The npu-sim target: outputs against PyTorch / numpy and cycles against the standard
systolic-array model, on ideal and bounded memories."""

import json
import math

import numpy as np
import pytest
import torch

import models
from models import matmul_mlir as gemm
import tessera
from tessera.hardware import NpuConfig, npu_preset

RTOL, ATOL = 1e-4, 1e-5


def standard_model(dataflow, rows, cols, m, n, k):
    """SCALE-Sim's compute cycles for one GEMM on ideal memory (see the issue text)."""
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[dataflow]
    folds = math.ceil(sr / rows) * math.ceil(sc / cols)
    per_fold = rows + cols + t - 2 if dataflow == "os" else 2 * rows + cols + t - 2
    return folds * per_fold - 1


@pytest.mark.parametrize("rows,cols", [(16, 16), (32, 32), (8, 32)])
@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
@pytest.mark.parametrize("m,n,k", [(16, 16, 64), (100, 60, 70), (33, 17, 300)])
def test_ideal_memory_cycles_equal_the_standard_model(rows, cols, dataflow, m, n, k):
    # The heuristic's nest is SCALE-Sim's loop order (the search may do better).
    program = tessera.compile(gemm(m, n, k), target="npu-sim",
                              hw=NpuConfig(rows, cols, dataflow, mapper="heuristic").ideal())
    assert program.report.array_cycles == standard_model(dataflow, rows, cols, m, n, k)
    assert program.report.stall_cycles == 0  # on ideal memory the array never waits


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_int8_matmul_is_bit_exact(dataflow):
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (37, 53), dtype=np.int8)
    b = rng.integers(-128, 128, (53, 21), dtype=np.int8)
    hw = NpuConfig(16, 16, dataflow, spad_bytes=2048, acc_bytes=2048)  # forces many blocks
    got = tessera.compile(gemm(37, 21, 53, "i8", "i32"), target="npu-sim", hw=hw)(a, b)
    np.testing.assert_array_equal(got, a.astype(np.int32) @ b.astype(np.int32))


def test_bf16_matmul_matches_pytorch():
    import ml_dtypes

    torch.manual_seed(0)
    a, b = torch.randn(24, 40, dtype=torch.bfloat16), torch.randn(40, 20, dtype=torch.bfloat16)
    expected = (a.float() @ b.float()).numpy()
    as_np = lambda t: t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)  # noqa: E731
    got = tessera.compile(gemm(24, 20, 40, "bf16", "f32"), target="npu-sim")(as_np(a), as_np(b))
    # bf16 products are exact in f32; only the order of the f32 sums differs.
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_requantizing_epilogue_matches_numpy():
    text = '''
    func.func @main(%a: tensor<20x48xi8>, %b: tensor<48x24xi8>, %bias: tensor<24xi32>) -> tensor<20x24xi8> {
      %zero = arith.constant 0 : i32
      %e = tensor.empty() : tensor<20x24xi32>
      %c = linalg.fill ins(%zero : i32) outs(%e : tensor<20x24xi32>) -> tensor<20x24xi32>
      %0 = "systolic.matmul"(%a, %b, %c, %bias) {array = #systolic.array<16 : i64, 16 : i64, "ws">,
          transpose = [false, false], epilogue = {relu, scale = 0.0078125 : f32},
          operandSegmentSizes = array<i32: 1, 1, 1, 1>}
          : (tensor<20x48xi8>, tensor<48x24xi8>, tensor<20x24xi32>, tensor<24xi32>) -> tensor<20x24xi8>
      return %0 : tensor<20x24xi8>
    }'''
    rng = np.random.default_rng(2)
    a = rng.integers(-128, 128, (20, 48), dtype=np.int8)
    b = rng.integers(-128, 128, (48, 24), dtype=np.int8)
    bias = rng.integers(-5000, 5000, 24, dtype=np.int32)
    acc = a.astype(np.int32) @ b.astype(np.int32) + bias
    scaled = np.maximum(acc, 0).astype(np.float32) * np.float32(0.0078125)
    expected = np.clip(np.rint(scaled), -128, 127).astype(np.int8)
    got = tessera.compile(text, target="npu-sim")(a, b, bias)
    np.testing.assert_array_equal(got, expected)
    assert (expected == 127).any() and (expected == 0).any()  # saturation and relu happen


@pytest.mark.parametrize("name", ["mlp", "cnn", "encoder"])
@pytest.mark.parametrize("preset", ["gemmini-16x16", "tpu-128x128"])
def test_models_match_pytorch(name, preset):
    model, inputs = models.example(name)
    program = tessera.compile(model, inputs, target="npu-sim", hw=preset)
    with torch.no_grad():
        expected = model(*inputs).numpy()
    np.testing.assert_allclose(program(*inputs), expected, rtol=RTOL, atol=ATOL)
    assert program.report.total_cycles > 0 and program.report.kernels


def test_bounded_memory_costs_cycles_and_double_buffering_hides_some():
    text = gemm(128, 128, 128)
    ideal = tessera.compile(text, target="npu-sim", hw="gemmini-16x16:ideal").report
    double = tessera.compile(text, target="npu-sim", hw="gemmini-16x16").report
    single = tessera.compile(text, target="npu-sim",
                             hw=NpuConfig(double_buffer=False)).report
    assert ideal.total_cycles < double.total_cycles < single.total_cycles
    assert double.dram_bytes["lhs"] >= 128 * 128 * 4 and double.dram_bytes["out"] == 128 * 128 * 4


def test_report_names_what_ran_where_and_writes_a_trace(tmp_path):
    model, inputs = models.example("cnn")
    report = tessera.compile(model, inputs, target="npu-sim").report
    table = report.table()
    # Both convolutions (as im2col matmuls) and the classifier run on the array.
    assert "on the array: 3 matmul(s) [512x4x9, 128x8x36, 2x10x128]" in table
    assert not any(name.startswith("linalg.conv") for name in report.host_ops)
    assert report.host_ops["linalg.generic"] >= 2  # the im2col gathers
    path = tmp_path / "trace.json"
    report.write_trace(str(path))
    trace = json.loads(path.read_text())
    engines = {(e["pid"], e["tid"]) for e in trace["traceEvents"] if e["ph"] == "X"}
    assert engines == {(0, "array"), (0, "dma-in"), (0, "dma-out"), (1, "move"),
                       (1, "compute")}  # the host is process 1: gathers, relu/pool
    names = {e["pid"]: e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M"}
    assert names == {0: "unit 0", 1: "host"}
    host = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["pid"] == 1]
    assert sum(e["dur"] for e in host) == report.host_cycles > 0
    assert report.total_cycles == report.array_cycles + report.host_cycles
    assert f"time: array {report.array_cycles} cycles, host {report.host_cycles}" in table


HOST_ONLY = """
func.func @main(%x: tensor<64x32xf32>) -> tensor<32x64xf32> {
  %e = tensor.empty() : tensor<32x64xf32>
  %t = linalg.transpose ins(%x : tensor<64x32xf32>) outs(%e : tensor<32x64xf32>) permutation = [1, 0]
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]} ins(%t : tensor<32x64xf32>) outs(%e : tensor<32x64xf32>) {
  ^bb0(%a: f32, %b: f32):
    %x2 = arith.mulf %a, %a : f32
    %ex = math.exp %x2 : f32
    linalg.yield %ex : f32
  } -> tensor<32x64xf32>
  return %y : tensor<32x64xf32>
}"""


def test_host_work_is_timed_by_its_model():
    """A transpose moves 8 KiB at 32 B/cycle; exp(x*x) is 1 + 8 operations on each of
    2048 points at 16 per cycle; each op costs 32 cycles more. Twice the throughput
    halves the variable part."""
    report = tessera.compile(HOST_ONLY, target="npu-sim").report
    assert [(w.name, w.kind, w.work, w.cycles) for w in report.host_work] == [
        ("linalg.transpose", "move", 8192, 32 + 256),
        ("linalg.generic", "compute", 2048 * 9, 32 + 1152)]
    assert report.array_cycles == 0 and report.total_cycles == 288 + 1184
    faster = tessera.compile(HOST_ONLY, target="npu-sim",
                             hw="gemmini-16x16,host_ops_per_cycle=32,host_bytes_per_cycle=64,"
                                "host_op_cycles=0").report
    assert faster.host_cycles == 128 + 576
    x = np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32)
    np.testing.assert_allclose(tessera.compile(HOST_ONLY, target="npu-sim")(x),
                               np.exp(x.T * x.T), rtol=1e-6)


def test_unknown_preset_suggests_a_name():
    with pytest.raises(tessera.TesseraError, match=r"unknown npu preset 'gemini-16x16' \(known presets: .*\); did you mean 'gemmini-16x16'"):
        npu_preset("gemini-16x16")


@pytest.mark.parametrize("fields,message", [
    ({"rows": 0}, "npu rows must be a positive integer, got 0"),
    ({"spad_bytes": 100}, "npu spad_bytes is 100 but one 16x16 array tile needs at least 256 bytes"),
    ({"dataflow": "rs"}, "npu dataflow must be one of ws, os, is, got 'rs'"),
    ({"dram_bytes_per_cycle": -1}, "npu dram_bytes_per_cycle must be a non-negative integer"),
])
def test_impossible_hardware_names_the_field(fields, message):
    with pytest.raises(tessera.TesseraError, match=message):
        NpuConfig(**fields)


def test_matmul_that_cannot_fit_is_a_located_error():
    hw = NpuConfig(16, 16, "ws", spad_bytes=300, acc_bytes=4096)
    with pytest.raises(tessera.TesseraError, match=r"<input>:\d+:\d+: error: tessera-systolic-map: a 16x16 ws array cannot hold one fold"):
        tessera.compile(gemm(16, 16, 16), target="npu-sim", hw=hw)


def test_grid_splits_work_and_shares_dram():
    text = gemm(128, 128, 128)
    a, b = np.random.default_rng(3).random((2, 128, 128), dtype=np.float32)
    one = tessera.compile(text, target="npu-sim",
                          hw=NpuConfig(16, 16, "ws", mapper="heuristic").ideal())
    four = tessera.compile(text, target="npu-sim", hw=NpuConfig(
        16, 16, "ws", grid_rows=2, grid_cols=2, mapper="heuristic").ideal())
    np.testing.assert_allclose(four(a, b), a @ b, rtol=RTOL, atol=1e-4)
    # The heuristic deals 8 column blocks to 4 units: each does a quarter of the folds.
    assert four.report.total_cycles + 1 == (one.report.total_cycles + 1) // 4
    # With one 16 B/cycle DRAM channel for all four units, four units are far from 4x.
    bounded_one = tessera.compile(text, target="npu-sim", hw=NpuConfig(16, 16, "ws")).report
    bounded_four = tessera.compile(text, target="npu-sim", hw="grid-2x2-16x16").report
    assert bounded_four.total_cycles > bounded_one.total_cycles / 2


@pytest.mark.parametrize("mapper", ["heuristic", "search"])
def test_mlp_on_a_grid_matches_pytorch(mapper):
    model, inputs = models.example("mlp")
    program = tessera.compile(model, inputs, target="npu-sim",
                              hw=f"grid-2x2-16x16,mapper={mapper}")
    with torch.no_grad():
        np.testing.assert_allclose(program(*inputs), model(*inputs).numpy(), rtol=RTOL, atol=ATOL)
    if mapper == "heuristic":  # the heuristic always deals a loop out to the four units
        assert program.report.kernels[0].program.units == 4


def conv_nhwc(n, h, w, c, kh, kw, f, stride):
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    return f'''
func.func @main(%x: tensor<{n}x{h}x{w}x{c}xf32>, %k: tensor<{kh}x{kw}x{c}x{f}xf32>) -> tensor<{n}x{oh}x{ow}x{f}xf32> {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{n}x{oh}x{ow}x{f}xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<{n}x{oh}x{ow}x{f}xf32>) -> tensor<{n}x{oh}x{ow}x{f}xf32>
  %0 = linalg.conv_2d_nhwc_hwcf {{dilations = dense<1> : tensor<2xi64>, strides = dense<{stride}> : tensor<2xi64>}}
      ins(%x, %k : tensor<{n}x{h}x{w}x{c}xf32>, tensor<{kh}x{kw}x{c}x{f}xf32>) outs(%init : tensor<{n}x{oh}x{ow}x{f}xf32>) -> tensor<{n}x{oh}x{ow}x{f}xf32>
  return %0 : tensor<{n}x{oh}x{ow}x{f}xf32>
}}''', (oh, ow)


def test_nhwc_convolution_runs_on_the_array_as_im2col():
    text, (oh, ow) = conv_nhwc(2, 9, 8, 3, 3, 2, 5, 2)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    k = rng.standard_normal((3, 2, 3, 5)).astype(np.float32)
    expected = np.zeros((2, oh, ow, 5), np.float32)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, 2 * i:2 * i + 3, 2 * j:2 * j + 2, :]
            expected[:, i, j, :] = np.einsum("nhwc,hwcf->nf", patch, k)
    program = tessera.compile(text, target="npu-sim")
    np.testing.assert_allclose(program(x, k), expected, rtol=RTOL, atol=1e-5)
    assert [kr.gemm["m"] for kr in program.report.kernels] == [2 * oh * ow]


def test_linear_bias_and_relu_run_at_move_out():
    model, inputs = models.example("mlp")
    program = tessera.compile(model, inputs, target="npu-sim")
    # Only the weight transposes stay on the host; bias and ReLU are fused epilogues.
    assert program.report.host_ops == {"linalg.transpose": 2}
    assert program.report.dram_bytes["bias"] > 0
    with torch.no_grad():
        np.testing.assert_allclose(program(*inputs), model(*inputs).numpy(), rtol=RTOL, atol=ATOL)


def test_a_matmul_too_large_to_simulate_is_refused_before_any_work():
    import time

    start = time.perf_counter()
    with pytest.raises(tessera.TesseraError,
                       match=r"the matmul 20000x20000x20000 \(MxNxK\) of kernel systolic_kernel_0 "
                             r"needs about [0-9,]+ array instructions on this NPU; the simulator "
                             r"runs at most 4,000,000 per kernel"):
        tessera.compile(gemm(20000, 20000, 20000), target="npu-sim")
    assert time.perf_counter() - start < 30
