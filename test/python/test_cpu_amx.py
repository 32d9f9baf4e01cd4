"""The cpu-amx target.

Where the CPU has no AMX (detected from /proc/cpuinfo), numerics run through
`cpu_amx.emulate`: the same kernels (VNNI packing, cache and register blocking, zero
padding at the edges, epilogue), the same shared object, split over cores by the same
threads, with only the AMX tile ops rewritten by `tessera-amx-emulate` into scalar code
of the same definition. These tests therefore check everything except the AMX
instruction encodings and the tile configuration; those are checked in the machine code
(`test_*_reaches_amx_instructions`), and run for real only where the CPU has AMX.

bf16 tolerance: inputs are bf16, so every product is exact in f32 and the only error is
the f32 rounding of the K additions (plus one for the bias). For any summation order
with round-to-nearest that error is at most gamma_n * sum |a_i b_i| with
gamma_n = n u / (1 - n u), u = 2^-24 (Higham, Accuracy and Stability, 3.1); results are
checked element by element against that bound around a float64 reference, and PyTorch's
f32 matmul on the same bf16 values is checked against the same bound.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
import torch

from models import batch_matmul_mlir as batched_gemm
from models import matmul_mlir as gemm
import tessera
from tessera.context import make_context, parse_module
from tessera.errors import TesseraError
from tessera.frontend import import_torch
from tessera.hardware import AmxConfig, amx_preset
from tessera.mlir import ir
from tessera.pipelines.cpu_amx import pipeline
from tessera.targets import cpu_amx

BF16 = ml_dtypes.bfloat16
HAS_AMX, WHY = cpu_amx.has_amx()
needs_amx = pytest.mark.skipif(not cpu_amx.available("amx")[0],
                               reason=f"AMX cannot run here: {cpu_amx.available('amx')[1]}")
# The vector engines, each where it can run here.
VECTOR = [pytest.param(engine, marks=pytest.mark.skipif(
    not cpu_amx.available(engine)[0], reason=f"{engine} cannot run here: "
                                             f"{cpu_amx.available(engine)[1]}"))
    for engine in ("avx512", "avx2")]


def emulated(text: str, hw=None, func_name: str = "main"):
    with make_context(), ir.Location.unknown():
        return cpu_amx.emulate(parse_module(text), hw, func_name=func_name)


def kernel_assembly(text: str, hw=None, engine: str = "amx") -> str:
    """The kernels' machine code for Sapphire Rapids (avx2: for Haswell, which has no
    AVX-512 LLVM could use instead)."""
    with make_context() as context, ir.Location.unknown():
        module = parse_module(text)
        pipeline(context, amx_preset(hw), engine=engine).run(module)
        llvm_ir = cpu_amx.kernel_llvm_ir(module)
        if engine == "avx2":
            return cpu_amx.assembly(llvm_ir, cpu="haswell", features="")
        return cpu_amx.assembly(llvm_ir)


def check_f32_accumulation(out, a, b, bias=None, relu=False):
    """out within the f32 summation bound of the exact result (see the module doc)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    exact = a64 @ b64
    magnitude = np.abs(a64) @ np.abs(b64)
    terms = a.shape[1]
    if bias is not None:
        exact = exact + bias.astype(np.float64)
        magnitude = magnitude + np.abs(bias.astype(np.float64))
        terms += 1
    u = 2.0 ** -24
    bound = terms * u / (1 - terms * u) * magnitude
    if relu:
        exact = np.maximum(exact, 0)
    assert out.dtype == np.float32 and out.shape == exact.shape
    excess = np.abs(out.astype(np.float64) - exact) - bound
    assert excess.max() <= 0, f"error exceeds the f32 accumulation bound by {excess.max()}"


def check_bf16_mlp(model, x, out):
    """`out`, tessera's result of the bf16 Linear-ReLU-Linear `model` on `x`, against
    PyTorch. Both sides sum in f32 (orders differ) and round to bf16: results may differ
    by one bf16 ulp (2^-7 relative) at the output and, through the hidden layer, by one
    ulp of each hidden value times its weight."""
    out = out.astype(np.float64)
    with torch.no_grad():
        want = model(x).double().numpy()
        hidden = model[1](model[0](x)).double().numpy()
    w2 = model[2].weight.detach().double().numpy()
    slack = 2.0 ** -7 * (np.abs(want) + np.abs(hidden) @ np.abs(w2.T))
    assert np.all(np.abs(out - want) <= slack)


def random_bf16(rng, shape):
    return rng.standard_normal(shape).astype(np.float32).astype(BF16)


# --- availability and errors ----------------------------------------------------------


def test_without_amx_avx512_or_avx2_the_target_is_unavailable_and_says_why(monkeypatch):
    monkeypatch.setattr(cpu_amx, "cpu_flags", lambda: {"fpu", "avx2"})
    ok, why = cpu_amx.available()
    assert not ok
    assert re.fullmatch(r"this CPU has no AMX \(\S+ missing from /proc/cpuinfo\); this CPU "
                        r"has no AVX-512 with bf16 and VNNI \(\S+ missing from /proc/cpuinfo\); "
                        r"this CPU has no AVX2 with FMA \(fma missing from /proc/cpuinfo\)", why)
    with pytest.raises(TesseraError, match="target cpu-amx is not available here: this CPU "
                                           "has no AMX"):
        tessera.compile(gemm(32, 32, 32, "bf16", "f32"), target="cpu-amx")
    # An engine asked for by name is checked alone.
    monkeypatch.setattr(cpu_amx, "cpu_flags", lambda: {"amx_tile", "amx_bf16", "amx_int8"})
    assert cpu_amx.available("avx512") == (
        False, "this CPU has no AVX-512 with bf16 and VNNI (avx512f/avx512_bf16/avx512_vnni "
               "missing from /proc/cpuinfo)")
    # bf16 without VNNI (int8 dots) is not enough.
    monkeypatch.setattr(cpu_amx, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    assert cpu_amx.available("avx512") == (
        False, "this CPU has no AVX-512 with bf16 and VNNI (avx512_vnni missing from "
               "/proc/cpuinfo)")
    # auto takes the first engine the CPU has.
    for flags, engine in (({"avx2", "fma"}, "avx2"),
                          ({"avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni"}, "avx512"),
                          ({"avx2", "fma", "amx_tile", "amx_bf16", "amx_int8"}, "amx")):
        monkeypatch.setattr(cpu_amx, "cpu_flags", lambda f=flags: f)
        assert cpu_amx.resolve_engine("auto") == engine


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor : 0\nflags\t\t: fpu avx512f amx_bf16 amx_tile amx_int8\n")
    assert {"amx_tile", "amx_bf16", "amx_int8"} <= cpu_amx.cpu_flags(str(info))
    assert cpu_amx.cpu_flags(str(tmp_path / "missing")) == set()


def test_bad_amx_settings_are_errors():
    with pytest.raises(TesseraError, match="amx precision must be one of f32, bf16, got 'f16'"):
        AmxConfig(precision="f16")
    with pytest.raises(TesseraError, match=r"unknown amx preset 'amx-f32' \(known presets: "
                                           r"amx, amx-bf16, avx512, avx2\)"):
        amx_preset("amx-f32")
    with pytest.raises(TesseraError, match="amx m_block must be a positive multiple of 32, got 40"):
        AmxConfig(m_block=40)


# --- the lowering reaches AMX instructions (machine code, no AMX needed) --------------


def _per_function(asm: str) -> dict[str, str]:
    parts = re.split(r"^([A-Za-z_][\w.]*):\n", asm, flags=re.M)
    return {name: body for name, body in zip(parts[1::2], parts[2::2])}


@pytest.mark.parametrize("dtype,acc,instruction", [("bf16", "f32", "tdpbf16ps"),
                                                   ("i8", "i32", "tdpbssd")])
def test_kernels_reach_amx_instructions(dtype, acc, instruction):
    asm = kernel_assembly(gemm(96, 80, 600, dtype, acc))
    kernel = _per_function(asm)["amx_kernel_0"]
    # Tile configuration once per kernel, before the loops; 8 tile registers: 4
    # accumulators, 2 lhs, 2 rhs; no tile spilled to the stack.
    assert kernel.count("ldtilecfg") == 1
    assert kernel.index("ldtilecfg") < kernel.index(instruction)
    muls = re.findall(rf"{instruction}\s+%tmm(\d), %tmm(\d), %tmm(\d)", kernel)
    assert muls and {int(d) for _, _, d in muls} == {0, 1, 2, 3}
    assert {int(x) for x, y, _ in muls} | {int(y) for _, y, _ in muls} == {4, 5, 6, 7}
    assert "tileloadd" in kernel and "tilestored" in kernel
    assert not re.search(r"tilestored\s+%tmm\d+, .*\(%rsp", kernel)


def test_f32_runs_on_amx_only_when_bf16_is_asked_for():
    assert "tdpbf16ps" not in kernel_assembly(gemm(32, 32, 32))
    assert "tdpbf16ps" in kernel_assembly(gemm(32, 32, 32), "amx-bf16")


# --- numerics through the emulation ---------------------------------------------------


@pytest.mark.parametrize("m,k,n", [(33, 50, 17), (64, 256, 96), (40, 600, 70), (1, 31, 5)])
def test_bf16_gemm_matches_within_the_f32_accumulation_bound(m, k, n):
    rng = np.random.default_rng(m * k + n)
    a, b = random_bf16(rng, (m, k)), random_bf16(rng, (k, n))
    out = emulated(gemm(m, n, k, "bf16", "f32"))(a, b)
    check_f32_accumulation(out, a, b)
    torch_out = torch.matmul(torch.from_numpy(a.astype(np.float32)),
                             torch.from_numpy(b.astype(np.float32))).numpy()
    check_f32_accumulation(torch_out, a, b)


@pytest.mark.parametrize("m,k,n", [(33, 50, 17), (100, 300, 70), (64, 512, 64)])
def test_int8_gemm_is_bit_exact(m, k, n):
    rng = np.random.default_rng(k)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (k, n), dtype=np.int8)
    out = emulated(gemm(m, n, k, "i8", "i32"))(a, b)
    assert out.dtype == np.int32
    assert np.array_equal(out, a.astype(np.int32) @ b.astype(np.int32))


EPILOGUE = """
func.func @main(%a: tensor<33x50x{t}>, %b: tensor<50x17x{t}>, %bias: tensor<17x{acc}>) -> tensor<33x17x{acc}> {{
  %zero = arith.constant {zero} : {acc}
  %e = tensor.empty() : tensor<33x17x{acc}>
  %c = linalg.fill ins(%zero : {acc}) outs(%e : tensor<33x17x{acc}>) -> tensor<33x17x{acc}>
  %0 = "systolic.matmul"(%a, %b, %c, %bias) {{array = #systolic.array<16 : i64, 16 : i64, "ws">, transpose = [false, false], epilogue = {{relu}}, operandSegmentSizes = array<i32: 1, 1, 1, 1>}} : (tensor<33x50x{t}>, tensor<50x17x{t}>, tensor<33x17x{acc}>, tensor<17x{acc}>) -> tensor<33x17x{acc}>
  return %0 : tensor<33x17x{acc}>
}}"""


def test_bias_and_relu_epilogue_bf16_and_int8():
    rng = np.random.default_rng(7)
    a, b = random_bf16(rng, (33, 50)), random_bf16(rng, (50, 17))
    bias = rng.standard_normal(17).astype(np.float32)
    out = emulated(EPILOGUE.format(t="bf16", acc="f32", zero="0.0"))(a, b, bias)
    assert (out == 0).any() and (out > 0).any()  # relu did cut something
    check_f32_accumulation(out, a, b, bias, relu=True)

    x = rng.integers(-128, 128, (33, 50), dtype=np.int8)
    y = rng.integers(-128, 128, (50, 17), dtype=np.int8)
    ibias = rng.integers(-5000, 5000, 17, dtype=np.int32)
    got = emulated(EPILOGUE.format(t="i8", acc="i32", zero="0"))(x, y, ibias)
    want = np.maximum(x.astype(np.int32) @ y.astype(np.int32) + ibias, 0)
    assert np.array_equal(got, want)


def test_rows_split_over_threads_give_the_same_bits():
    rng = np.random.default_rng(3)
    a, b = random_bf16(rng, (130, 96)), random_bf16(rng, (96, 40))
    one = emulated(gemm(130, 40, 96, "bf16", "f32"), AmxConfig(threads=1, m_block=32))
    many = emulated(gemm(130, 40, 96, "bf16", "f32"), AmxConfig(threads=3, m_block=32))
    assert many.report.threads == 3
    assert np.array_equal(one(a, b), many(a, b))


def test_saved_program_reloads_without_recompiling(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.integers(-128, 128, (40, 70), dtype=np.int8)
    y = rng.integers(-128, 128, (70, 24), dtype=np.int8)
    first = emulated(gemm(40, 24, 70, "i8", "i32"))
    first.report.save(tmp_path / "saved")
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == \
        ["host.mlirbc", "kernels.so", "program.json"]
    again = cpu_amx.load(tmp_path / "saved")
    assert np.array_equal(again(x, y), first(x, y))
    with pytest.raises(TesseraError, match="expects 40x70xint8"):
        again(x[:39], y)


def test_loading_what_was_not_saved_is_an_error(tmp_path):
    with pytest.raises(TesseraError, match="is not a saved cpu-amx program: program.json, "
                                           "kernels.so, host.mlirbc missing"):
        cpu_amx.load(tmp_path)


def test_a_kernel_library_that_does_not_load_is_an_error(tmp_path):
    emulated(gemm(40, 24, 70, "i8", "i32")).report.save(tmp_path)
    (tmp_path / "kernels.so").write_bytes(b"not a shared object")
    with pytest.raises(TesseraError, match="loading the kernels' shared object failed: .*"
                                           "kernels.so"):
        cpu_amx.load(tmp_path)


def test_asm_tool_reports_a_model_without_amx_work(tmp_path, capsys):
    source = tmp_path / "f32.mlir"
    source.write_text(gemm(16, 16, 16))
    assert cpu_amx.main([str(source)]) == 1
    assert capsys.readouterr().err == f"error: {source}: no matmul became an AMX kernel\n"


def test_f32_model_runs_in_bf16_only_when_asked():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(48, 40), torch.nn.ReLU(),
                                torch.nn.Linear(40, 24)).eval()
    x = torch.randn(20, 48)
    for hw, on_amx in ((None, False), ("amx-bf16", True)):
        with make_context() as context, ir.Location.unknown():
            module = import_torch(model, x, context=context)
            executable = cpu_amx.emulate(module, hw)
            assert bool(executable.report.kernels) == on_amx
        out = executable(x)
        if on_amx:
            # The reference rounds operands to bf16 as precision="bf16" says, in f64.
            def rounded(t):
                return t.detach().numpy().astype(BF16).astype(np.float64)

            w1, b1 = rounded(model[0].weight), model[0].bias.detach().numpy()
            w2, b2 = rounded(model[2].weight), model[2].bias.detach().numpy()
            hidden = np.maximum(rounded(x) @ w1.T + b1, 0)
            want = hidden.astype(np.float32).astype(BF16).astype(np.float64) @ w2.T + b2
            # The hidden layer is rounded to bf16 between the layers; where its f32 sum
            # differs from the f64 one, that rounding may go the other way: one bf16 ulp
            # (2^-7 relative) propagated through the second layer, plus f32 rounding.
            slack = 2.0 ** -7 * (np.abs(hidden) @ np.abs(w2.T)) + 1e-5
            assert np.all(np.abs(out - want) <= slack)
        else:
            assert np.allclose(out, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_bf16_torch_mlp_runs_on_amx_without_options():
    """torch writes bf16 layers as f32 matmuls of bf16 values widened (extf): the same
    numbers, so they go to AMX as bf16 with no option and no rounding added."""
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.ReLU(),
                                torch.nn.Linear(96, 40)).eval().bfloat16()
    x = torch.randn(33, 64).bfloat16()
    with make_context() as context, ir.Location.unknown():
        executable = cpu_amx.emulate(import_torch(model, x, context=context))
    assert len(executable.report.kernels) == 2
    check_bf16_mlp(model, x, executable(x))


def test_torch_weights_are_packed_at_compile_time():
    model = torch.nn.Sequential(torch.nn.Linear(48, 40), torch.nn.ReLU(),
                                torch.nn.Linear(40, 24)).eval()
    with make_context() as context, ir.Location.unknown():
        module = import_torch(model, torch.randn(20, 48), context=context)
        pipeline(context, amx_preset("amx-bf16")).run(module)
        text = str(module)
    # Two kernels (each with its declaration line and call), no run-time packing: the
    # dense_resource weights were transposed, rounded and packed by the pass.
    assert text.count("func.func private @amx_kernel_") == 2
    assert "amx_pack" not in text and "linalg.transpose" not in text
    assert re.search(r"arith.constant dense<\"0x[0-9A-F]+\"> : tensor<32x64xbf16>", text)


# --- real AMX ---------------------------------------------------------------------------


@needs_amx
def test_amx_bf16_and_int8_on_the_hardware():
    rng = np.random.default_rng(11)
    a, b = random_bf16(rng, (130, 300)), random_bf16(rng, (300, 70))
    out = tessera.compile(gemm(130, 70, 300, "bf16", "f32"), target="cpu-amx")(a, b)
    # AMX flushes denormals, which standard-normal inputs do not produce.
    check_f32_accumulation(out, a, b)
    x = rng.integers(-128, 128, (70, 300), dtype=np.int8)
    y = rng.integers(-128, 128, (300, 50), dtype=np.int8)
    got = tessera.compile(gemm(70, 50, 300, "i8", "i32"), target="cpu-amx")(x, y)
    assert np.array_equal(got, x.astype(np.int32) @ y.astype(np.int32))


# --- the vector engines (AVX-512, AVX2) ---------------------------------------------------


def vector(text: str, hw: str):
    return tessera.compile(text, target="cpu-amx", hw=hw)


def test_vector_kernels_reach_their_instructions():
    """Machine code (Sapphire Rapids), so neither engine is needed to check it."""
    bf16 = _per_function(kernel_assembly(gemm(64, 64, 64, "bf16", "f32"),
                                         AmxConfig(bf16_math="dot"), engine="avx512"))
    widened = _per_function(kernel_assembly(gemm(64, 64, 64, "bf16", "f32"), engine="avx512"))
    f32 = _per_function(kernel_assembly(gemm(64, 64, 64), engine="avx512"))
    assert "vdpbf16ps" in bf16["vector_kernel_0"] and "tdpbf16ps" not in bf16["vector_kernel_0"]
    for kernel in (f32, widened):
        assert re.search(r"vfmadd\d+ps\s+.*%zmm", kernel["vector_kernel_0"])
    assert "vdpbf16ps" not in widened["vector_kernel_0"]
    int8 = _per_function(kernel_assembly(gemm(64, 64, 64, "i8", "i32"), engine="avx512"))
    assert re.search(r"vpdpbusd\s+.*%zmm", int8["vector_kernel_0"])
    # AVX2 (Haswell's machine code): 256-bit registers.
    for dtype, acc, instruction in (("f32", "f32", r"vfmadd\d+ps"), ("bf16", "f32", r"vfmadd\d+ps"),
                                    ("i8", "i32", "vpmaddwd")):
        kernel = _per_function(kernel_assembly(gemm(64, 64, 64, dtype, acc), "avx2",
                                               engine="avx2"))["vector_kernel_0"]
        assert re.search(rf"{instruction}\s+.*%ymm", kernel)


def test_bf16_dots_on_avx2_are_an_error():
    with pytest.raises(TesseraError, match="bf16-math=dot needs vdpbf16ps \\(AVX-512 bf16\\), "
                                           "which the avx2 engine does not use"):
        kernel_assembly(gemm(64, 64, 64, "bf16", "f32"), AmxConfig(engine="avx2",
                                                                   bf16_math="dot"),
                        engine="avx2")


@pytest.mark.parametrize("engine", VECTOR)
def test_without_amx_auto_takes_a_vector_engine_and_amx_is_refused(monkeypatch, engine):
    flags = {"avx512": {"avx512f", "avx512_bf16", "avx512_vnni"}, "avx2": {"avx2", "fma"}}
    monkeypatch.setattr(cpu_amx, "cpu_flags", lambda: flags[engine])
    assert cpu_amx.available() == (True, "")
    program = vector(gemm(40, 24, 70, "bf16", "f32"), hw="amx-bf16")
    assert program.report.engine == engine
    assert program.report.summary() == f"1 {cpu_amx.ENGINE_NAMES[engine]} kernels"
    with pytest.raises(TesseraError, match="target cpu-amx with engine amx cannot run here: "
                                           "this CPU has no AMX"):
        vector(gemm(40, 24, 70, "bf16", "f32"), hw="amx,engine=amx")


def _bf16_maths(engine):
    return ["fma", "dot"] if engine == "avx512" else ["fma"]


@pytest.mark.parametrize("engine", VECTOR)
@pytest.mark.parametrize("m,k,n", [(33, 50, 17), (64, 256, 96), (40, 600, 70), (1, 31, 5),
                                   (300, 71, 40)])
def test_vector_bf16_gemm_matches_within_the_f32_accumulation_bound(m, k, n, engine):
    """Up to one m-block (256 rows) rhs is packed inside the kernel, above by a pack
    kernel of its own (300 rows); columns past N (17, 5, 70, 40: not whole registers)
    are zeros."""
    rng = np.random.default_rng(m * k + n)
    a, b = random_bf16(rng, (m, k)), random_bf16(rng, (k, n))
    for math in _bf16_maths(engine):
        program = vector(gemm(m, n, k, "bf16", "f32"), f"{engine},bf16_math={math}")
        assert program.report.kernels == ["vector_kernel_0"]
        check_f32_accumulation(program(a, b), a, b)


@pytest.mark.parametrize("engine", VECTOR)
@pytest.mark.parametrize("m,k,n", [(33, 50, 17), (130, 300, 70), (300, 70, 40)])
def test_vector_f32_gemm_matches_within_the_f32_accumulation_bound(m, k, n, engine):
    rng = np.random.default_rng(k)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    check_f32_products(vector(gemm(m, n, k), engine)(a, b), a, b)


def check_f32_products(out, a, b):
    """out within the summation bound of f32 a · b: f32 inputs' products round too, one
    more rounding per term than the bf16 bound (check_f32_accumulation)."""
    terms = a.shape[1] + 1
    exact = a.astype(np.float64) @ b.astype(np.float64)
    u = 2.0 ** -24
    bound = terms * u / (1 - terms * u) * (np.abs(a).astype(np.float64) @ np.abs(b))
    assert (np.abs(out.astype(np.float64) - exact) <= bound).all()


@pytest.mark.parametrize("engine", VECTOR)
def test_vector_epilogue_and_threads(engine):
    rng = np.random.default_rng(7)
    a, b = random_bf16(rng, (33, 50)), random_bf16(rng, (50, 17))
    bias = rng.standard_normal(17).astype(np.float32)
    out = vector(EPILOGUE.format(t="bf16", acc="f32", zero="0.0"), engine)(a, b, bias)
    assert (out == 0).any() and (out > 0).any()
    check_f32_accumulation(out, a, b, bias, relu=True)
    x, y = random_bf16(rng, (130, 96)), random_bf16(rng, (96, 40))
    one = vector(gemm(130, 40, 96, "bf16", "f32"), f"{engine},threads=1,m-block=32")
    many = vector(gemm(130, 40, 96, "bf16", "f32"), f"{engine},threads=3,m-block=32")
    assert np.array_equal(one(x, y), many(x, y))


def random_i8(rng, shape):
    return rng.integers(-128, 128, shape, dtype=np.int8)


def int8_product(a, b):
    return a.astype(np.int32) @ b.astype(np.int32)


@pytest.mark.parametrize("engine", VECTOR)
@pytest.mark.parametrize("m,k,n,hw", [(33, 50, 17, ""), (1, 3, 5, ""), (7, 50, 17, ""),
                                      (64, 1024, 96, ""),
                                      (40, 1301, 70, ",k-block=128"),
                                      (130, 96, 40, ",threads=3,m-block=32"),
                                      (300, 130, 40, "")])
def test_vector_int8_gemm_is_bit_exact(m, k, n, hw, engine):
    """AVX-512: vpdpbusd takes rhs as unsigned bytes: rhs is packed as rhs + 128 and the
    kernel takes 128 x each row sum of lhs off; AVX2: pairs widened to i16 for vpmaddwd.
    K not a multiple of the VNNI group, several k-blocks and a rest, rows split over
    threads, rows not a multiple of the register block's (AVX2's 4: tails of 1, 1, 3, 2
    rows; AVX-512's 8: 7 = 4 + 2 + 1), rhs packed inside the kernel (up to 256 rows) and
    by its own kernel (300 rows); the extremes of int8 (all -128, all 127) included."""
    rng = np.random.default_rng(m + k + n)
    program = vector(gemm(m, n, k, "i8", "i32"), engine + hw)
    assert program.report.kernels == ["vector_kernel_0"]
    a, b = random_i8(rng, (m, k)), random_i8(rng, (k, n))
    assert np.array_equal(program(a, b), int8_product(a, b))
    for x, y in ((-128, -128), (-128, 127), (127, -128)):
        a, b = np.full((m, k), x, np.int8), np.full((k, n), y, np.int8)
        assert np.array_equal(program(a, b), int8_product(a, b))


@pytest.mark.parametrize("engine", VECTOR)
def test_vector_int8_bias_relu_and_a_given_acc(engine):
    rng = np.random.default_rng(11)
    x, y = random_i8(rng, (33, 50)), random_i8(rng, (50, 17))
    bias = rng.integers(-5000, 5000, 17, dtype=np.int32)
    got = vector(EPILOGUE.format(t="i8", acc="i32", zero="0"), engine)(x, y, bias)
    want = np.maximum(int8_product(x, y) + bias, 0)
    assert (want == 0).any() and np.array_equal(got, want)
    text = ACCUMULATE.replace("600", "1000").replace("f32", "i32").replace(
        "x1000xi32>, %b", "x1000xi8>, %b").replace("tensor<1000x24xi32>", "tensor<1000x24xi8>")
    text = text.replace("tensor<40x1000xi32>", "tensor<40x1000xi8>")
    a, b = random_i8(rng, (40, 1000)), random_i8(rng, (1000, 24))
    c = rng.integers(-10**6, 10**6, (40, 24), dtype=np.int32)
    assert np.array_equal(vector(text, f"{engine},k-block=256")(a, b, c), c + int8_product(a, b))


@pytest.mark.parametrize("engine", VECTOR)
def test_vector_int8_constant_weights_are_packed_at_compile_time(engine):
    """A constant rhs: packed by numpy when compiling (AVX-512: as unsigned bytes;
    AVX2: widened to i16)."""
    rng = np.random.default_rng(12)
    w = random_i8(rng, (50, 17))
    values = ", ".join("[" + ", ".join(map(str, row)) + "]" for row in w)
    text = f"""
func.func @main(%a: tensor<33x50xi8>) -> tensor<33x17xi32> {{
  %w = arith.constant dense<[{values}]> : tensor<50x17xi8>
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<33x17xi32>
  %c = linalg.fill ins(%zero : i32) outs(%e : tensor<33x17xi32>) -> tensor<33x17xi32>
  %0 = linalg.matmul ins(%a, %w : tensor<33x50xi8>, tensor<50x17xi8>) outs(%c : tensor<33x17xi32>) -> tensor<33x17xi32>
  return %0 : tensor<33x17xi32>
}}"""
    with make_context() as context, ir.Location.unknown():
        module = parse_module(text)
        pipeline(context, amx_preset(engine), engine=engine).run(module)
        assert "amx_pack" not in str(module)
    a = random_i8(rng, (33, 50))
    assert np.array_equal(vector(text, engine)(a), int8_product(a, w))


@pytest.mark.parametrize("engine", VECTOR)
def test_vector_program_saves_and_reloads(tmp_path, engine):
    rng = np.random.default_rng(5)
    a, b = random_bf16(rng, (40, 70)), random_bf16(rng, (70, 24))
    program = vector(gemm(40, 24, 70, "bf16", "f32"), engine)
    program.report.save(tmp_path)
    again = cpu_amx.load(tmp_path)
    assert again.report.engine == engine
    assert np.array_equal(again(a, b), program(a, b))


@pytest.mark.parametrize("engine", VECTOR)
def test_bf16_torch_mlp_on_a_vector_engine(engine):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.ReLU(),
                                torch.nn.Linear(96, 32)).eval().bfloat16()
    x = torch.randn(20, 64).bfloat16()
    program = tessera.compile(model, (x,), target="cpu-amx", hw=engine)
    assert program.report.kernels == ["vector_kernel_0", "vector_kernel_1"]
    check_bf16_mlp(model, x, program(x))


@pytest.mark.parametrize("engine", VECTOR)
def test_f32_torch_linear_on_a_vector_engine(engine):
    """f32 weights packed at compile time in f32 panels (vnni 1)."""
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Linear(70, 50), torch.nn.ReLU()).eval()
    x = torch.randn(33, 70)
    program = tessera.compile(model, (x,), target="cpu-amx", hw=engine)
    assert program.report.kernels == ["vector_kernel_0"]
    with torch.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(program(x), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("engine", VECTOR)
@pytest.mark.parametrize("b,m,k,n,hw", [(3, 33, 50, 17, ""), (5, 40, 1301, 70, ",k-block=128"),
                                        (2, 300, 130, 40, ""), (7, 1, 3, 33, ",threads=3")])
def test_vector_batched_int8_gemm_is_bit_exact(b, m, k, n, hw, engine):
    """Batched matmuls (attention's) run on the vector kernels too: one kernel, its batch
    split between the cores; several k-blocks and a rest, more than one m-block (300
    rows, each packing its batch's rhs panels again), a batch not dividing the threads."""
    rng = np.random.default_rng(b + m + k + n)
    program = vector(batched_gemm(b, m, n, k, "i8", "i32"), engine + hw)
    assert program.report.kernels == ["vector_kernel_0"]
    x, y = random_i8(rng, (b, m, k)), random_i8(rng, (b, k, n))
    assert np.array_equal(program(x, y), np.einsum("bmk,bkn->bmn", x.astype(np.int32),
                                                   y.astype(np.int32)))


@pytest.mark.parametrize("engine", VECTOR)
def test_a_batched_gemm_narrower_than_a_register_block_stays_in_the_host_code(engine):
    """B x [M x 9] · [9 x 1] (a depthwise convolution's shape): no vector kernel, whose
    columns would be nearly all padding; 16 columns (a whole AVX2 block) take one."""
    rng = np.random.default_rng(9)
    a = rng.standard_normal((6, 50, 9)).astype(np.float32)
    b = rng.standard_normal((6, 9, 1)).astype(np.float32)
    narrow = vector(batched_gemm(6, 50, 1, 9), engine)
    assert narrow.report.kernels == []
    np.testing.assert_allclose(narrow(a, b), a @ b, rtol=1e-5, atol=1e-5)
    wide = {"avx2": 16, "avx512": 32}[engine]
    assert vector(batched_gemm(6, 50, wide, 9), engine).report.kernels == ["vector_kernel_0"]


@pytest.mark.parametrize("engine", VECTOR)
def test_vector_batched_f32_and_bf16_gemms_and_their_thread_splits(engine):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 70, 90)).astype(np.float32)
    b = rng.standard_normal((4, 90, 33)).astype(np.float32)
    out = vector(batched_gemm(4, 70, 33, 90), engine)(a, b)
    for i in range(4):  # each batch within the f32 bound of its own exact product
        check_f32_products(out[i], a[i], b[i])
    x, y = random_bf16(rng, (5, 40, 64)), random_bf16(rng, (5, 64, 24))
    one = vector(batched_gemm(5, 40, 24, 64, "bf16", "f32"), f"{engine},threads=1")
    two = vector(batched_gemm(5, 40, 24, 64, "bf16", "f32"), f"{engine},threads=2")
    got = one(x, y)
    assert np.array_equal(got, two(x, y))
    for i in range(5):
        check_f32_accumulation(got[i], x[i], y[i])


@pytest.mark.parametrize("engine", VECTOR)
def test_attention_products_of_a_torch_model_run_on_the_vector_kernels(engine):
    """q·kᵀ (rhs transposed) and softmax·v of a 4-head attention (head size 32: a whole
    register block of columns on both engines): two batched kernels besides the
    projection's."""

    class Attention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = torch.nn.Linear(32, 384)

        def forward(self, x):
            q, k, v = self.qkv(x).view(1, 40, 3, 4, 32).permute(2, 0, 3, 1, 4)
            weights = torch.softmax(q @ k.transpose(-1, -2) / 32 ** 0.5, dim=-1)
            return weights @ v

    torch.manual_seed(4)
    model, x = Attention().eval(), torch.randn(1, 40, 32)
    program = tessera.compile(model, (x,), target="cpu-amx", hw=engine)
    assert len(program.report.kernels) == 3
    with torch.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(program(x), want, rtol=1e-5, atol=1e-5)


def test_panel_packing_places_each_element_where_the_kernels_read_it():
    from tessera.passes.systolic_to_amx import pack_vnni

    b = np.arange(5 * 40, dtype=np.int32).reshape(5, 40)
    for vnni, kp in ((2, 6), (1, 5)):
        packed = pack_vnni(b, vnni, kp, 64, panel=32)
        assert packed.shape == (2, kp // vnni, 32 * vnni) and packed.flags.c_contiguous
        for k in range(5):
            for n in range(40):
                assert packed[n // 32, k // vnni, (n % 32) * vnni + k % vnni] == b[k, n]
        assert packed.sum() == b.sum()  # the padding is zeros


@pytest.mark.parametrize("engine", VECTOR)
@pytest.mark.parametrize("dtype", ["i8", "bf16"])
def test_a_run_time_rhs_pack_split_over_threads_gives_the_same_bits(dtype, engine):
    """More than one m-block of rows: rhs is packed first by a #systolic.pack function in
    the shared object, its panels split between the threads (each with its columns of
    rhs; the last thread also writes the panels past rhs's last column, zeros). N = 100
    is 4 panels of 32 columns (avx512) or 7 of 16 (avx2) plus padding; 7 threads leave
    some with one panel."""
    rng = np.random.default_rng(11)
    m, k, n = 300, 130, 100
    a, b = ((random_i8(rng, (m, k)), random_i8(rng, (k, n))) if dtype == "i8"
            else (random_bf16(rng, (m, k)), random_bf16(rng, (k, n))))
    acc = "i32" if dtype == "i8" else "f32"
    outs = []
    for threads in (1, 2, 3, 7):
        program = vector(gemm(m, n, k, dtype, acc), f"{engine},threads={threads}")
        (arguments, panel), = program.report.program.packs.values()
        assert panel == (16 if engine == "avx2" else 32)
        outs.append(program(a, b))
    if dtype == "i8":
        assert np.array_equal(outs[0], int8_product(a, b))
    else:
        check_f32_accumulation(outs[0], a, b)
    for out in outs[1:]:
        assert np.array_equal(out, outs[0])


@pytest.mark.parametrize("engine", VECTOR)
def test_kernel_rows_and_pack_panels_are_split_one_run_a_thread(engine):
    """600 rows on 2 threads, split in whole register blocks (avx2: 150 blocks of 4 rows,
    300 + 300; avx512: 75 of 8, 304 + 296), after the pack's panels holding N = 50
    columns (avx2: 4 of 16, avx512: 2 of 32) in two runs of columns, 32 + 18."""
    rng = np.random.default_rng(13)
    program = vector(gemm(600, 50, 40, "i8", "i32"), f"{engine},threads=2")
    inner, calls = program.report.program._parallel, []

    def recorded(function, jobs):
        calls.append(jobs)
        inner(function, jobs)

    program.report.program._parallel = recorded
    a, b = random_i8(rng, (600, 40)), random_i8(rng, (40, 50))
    assert np.array_equal(program(a, b), int8_product(a, b))
    # a pack's jobs: (rhs columns, panels); a kernel's: (lhs rows, packed rhs, out rows)
    sizes = [[parts[0].shape[1] if len(parts) == 2 else parts[0].shape[0] for parts in jobs]
             for jobs in calls]
    assert sizes == [[32, 18], {"avx2": [300, 300], "avx512": [304, 296]}[engine]]


@pytest.mark.parametrize("engine", VECTOR)
def test_a_program_with_a_pack_saves_and_reloads(tmp_path, engine):
    rng = np.random.default_rng(12)
    a, b = random_i8(rng, (300, 40)), random_i8(rng, (40, 20))
    program = vector(gemm(300, 20, 40, "i8", "i32"), f"{engine},threads=2")
    program.report.save(tmp_path)
    again = cpu_amx.load(tmp_path)
    assert again.report.program.packs == program.report.program.packs
    assert again.report.program.row_units == program.report.program.row_units == {
        "vector_kernel_0": {"avx2": 4, "avx512": 8}[engine]}
    assert np.array_equal(again(a, b), int8_product(a, b))


@pytest.mark.parametrize("attribute,message", [
    ("5", "'systolic.pack' must be a #systolic.pack<panel> attribute, got 5 : i64"),
    ("#systolic.pack<0>", "pack panel must be a positive i64, got 0 : i64")])
def test_a_malformed_pack_attribute_is_a_located_error(attribute, message):
    from tessera.dialects.systolic import pack_panel
    from tessera.errors import LocatedError
    from tessera.mlir import func

    text = f"func.func private @p(%a: memref<4xf32>) attributes {{systolic.pack = {attribute}}}"
    with make_context(), ir.Location.unknown():
        function = next(op for op in parse_module(text).body.operations
                        if isinstance(op, func.FuncOp))
        with pytest.raises(LocatedError, match=re.escape(message)):
            pack_panel(function)


ACCUMULATE = """
func.func @main(%a: tensor<40x600xf32>, %b: tensor<600x24xf32>, %c: tensor<40x24xf32>) -> tensor<40x24xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<40x600xf32>, tensor<600x24xf32>) outs(%c : tensor<40x24xf32>) -> tensor<40x24xf32>
  return %0 : tensor<40x24xf32>
}"""


@pytest.mark.parametrize("engine", VECTOR)
@pytest.mark.parametrize("k_block", [64, 256, 1024])
def test_vector_accumulates_into_a_given_acc_over_every_k_block_split(k_block, engine):
    """acc = c + a·b: the kernel starts from c (not zeros) whether K is one k-block, whole
    k-blocks or k-blocks and a rest."""
    rng = np.random.default_rng(k_block)
    a = rng.standard_normal((40, 600)).astype(np.float32)
    b = rng.standard_normal((600, 24)).astype(np.float32)
    c = rng.standard_normal((40, 24)).astype(np.float32)
    out = vector(ACCUMULATE, f"{engine},k-block={k_block}")(a, b, c)
    np.testing.assert_allclose(out, c + a @ b, rtol=1e-4, atol=1e-3)


def test_the_gemm_benchmark_refuses_a_malformed_batched_shape():
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "cpu_gemm.py"
    done = subprocess.run([sys.executable, str(script), "--batched", "12x197x64"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "error: --batched takes BxMxKxN (four positive integers), not '12x197x64'" \
        in done.stderr
    assert "Traceback" not in done.stderr
