"""The riscv target: compile-only everywhere; runs under QEMU where it is installed
(detected, never forced), checked against PyTorch and numpy."""

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

import models
from models import matmul_mlir as gemm
import tessera
from tessera import llvm
from tessera.hardware import RiscvConfig, riscv_preset
from tessera.targets.riscv import can_run, toolchain

RUNS, WHY = can_run()
needs_qemu = pytest.mark.skipif(not RUNS, reason=f"cannot run RISC-V programs here: {WHY}")


def test_compile_produces_a_riscv_object_and_a_harness():
    program = tessera.compile(gemm(8, 8, 8), target="riscv").report
    root = program.path
    assert (root / "model.o").read_bytes()[:4] == b"\x7fELF"
    # e_machine 243 is RISC-V.
    assert int.from_bytes((root / "model.o").read_bytes()[18:20], "little") == 243
    harness = (root / "harness.c").read_text()
    assert "_mlir_ciface_tessera_entry(&m0, &m1, &m2)" in harness
    assert "vector_kernel_0" in (root / "model.ll").read_text()


def test_host_ops_are_outlined_into_noinline_functions_on_noalias_buffers():
    # tessera-outline-linalg: LLVM's loop passes slow down faster than the loops in one
    # function grow, so each linalg op left on the host gets a function of its own
    model, inputs = models.example("cnn")
    report = tessera.compile(model, inputs, target="riscv").report  # keeps its directory
    ll = (report.path / "model.ll").read_text()
    outlined = re.findall(r"^define internal void @tessera_\w+\((.*)\) #(\d+) \{$", ll, re.M)
    assert len(outlined) >= 5
    for params, group in outlined:
        assert "ptr noalias %" in params and not re.search(r"ptr %", params), params
        assert f"attributes #{group} = {{ noinline }}" in ll
    model_function = re.search(r"^define .* @tessera_model\(.*?^}$", ll, re.M | re.S).group()
    assert "call void @tessera_" in model_function


def test_llvm_ir_float_literals_become_llvm22_syntax():
    text = ("@w = constant [2 x float] [float f0x3F800000, float 4.941690e-02]\n"
            "  store float -inf, ptr %p\n  %h = fadd half %x, f0x3C00")
    legacy = llvm.legacy_llvm_ir(text)
    assert "float 0x3FF0000000000000" in legacy and "f0x" not in legacy
    assert "float 0x3FA94D2C00000000" in legacy  # nearest float to 0.0494169, as a double
    assert "store float 0xFFF0000000000000" in legacy and "half %x, 0xH3C00" in legacy
    # what comes before a literal decides: names are left alone, and a sign after a name
    # is not the literal's
    text = "@x1.5e+00 = %v2.5e+00, float 1.5e+00, float x-inf, bfloat -2.5e+00, double 2.5e-01"
    assert llvm.legacy_llvm_ir(text) == ("@x1.5e+00 = %v2.5e+00, float 0x3FF8000000000000, "
                                         "float x-0x7FF0000000000000, bfloat 0xRC020, "
                                         "double 2.5e-01")


def test_unknown_preset_suggests_a_name():
    with pytest.raises(tessera.TesseraError, match=r"unknown riscv preset 'rvv-265' \(known presets: .*\); did you mean 'rvv-256'"):
        riscv_preset("rvv-265")


def test_vector_length_must_be_a_power_of_two():
    with pytest.raises(tessera.TesseraError, match="riscv vlen must be a power of two, got 96"):
        RiscvConfig(vlen=96)


@needs_qemu
@pytest.mark.parametrize("name", ["mlp", "cnn", "encoder"])
def test_models_match_pytorch_under_qemu(name):
    model, inputs = models.example(name)
    program = tessera.compile(model, inputs, target="riscv", hw="rvv-256")
    with torch.no_grad():
        np.testing.assert_allclose(program(*inputs), model(*inputs).numpy(), rtol=1e-4, atol=1e-5)


@needs_qemu
@pytest.mark.parametrize("vlen", [128, 256, 512])
def test_f32_gemm_with_edges_at_every_vector_length(vlen):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((21, 37)).astype(np.float32)
    b = rng.standard_normal((37, 45)).astype(np.float32)
    program = tessera.compile(gemm(21, 45, 37), target="riscv", hw=RiscvConfig(vlen))
    np.testing.assert_allclose(program(a, b), a @ b, rtol=1e-4, atol=1e-4)


@needs_qemu
def test_int8_gemm_is_exact():
    rng = np.random.default_rng(6)
    a = rng.integers(-128, 128, (13, 40), dtype=np.int8)
    b = rng.integers(-128, 128, (40, 27), dtype=np.int8)
    program = tessera.compile(gemm(13, 27, 40, "i8", "i32"), target="riscv")
    np.testing.assert_array_equal(program(a, b), a.astype(np.int32) @ b.astype(np.int32))


@needs_qemu
def test_vector_kernels_execute_far_fewer_instructions_than_scalar_loops():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 64, 64)).astype(np.float32)
    vector = tessera.compile(gemm(64, 64, 64), target="riscv", hw="rvv-256").report
    scalar = tessera.compile(gemm(64, 64, 64), target="riscv", hw="scalar").report
    v = vector.count_instructions([a, b])
    s = scalar.count_instructions([a, b])
    assert 0 < v.model < s.model / 4
    assert v.model < v.weighted < s.weighted / 4  # wider groups weigh more
    assert s.weighted == s.model  # no vector code
    assert "LMUL-weighted" in vector.summary()


# A hand-written kernel whose weighted count is known: each line's weight is its comment.
WEIGHED_KERNEL = """
  .text
  .globl weigh
  .type weigh, @function
weigh:
  li t0, 32                     # 1
  vsetvli t1, t0, e32, m4, ta, ma  # 1
  vfadd.vv v8, v8, v12          # 4: LMUL 4
  vle32.v v16, (a0)             # 4: EEW = SEW
  vle8.v v4, (a0)               # 1: EEW/SEW x LMUL
  vwadd.vv v16, v8, v12         # 8: widening, 2 x LMUL
  vsetivli zero, 4, e16, mf2, ta, ma  # 1
  vadd.vv v1, v2, v3            # 1: a fractional group counts 1
  vmv2r.v v2, v4                # 2: whole registers
  ret                           # 1
  .size weigh, .-weigh
"""


@needs_qemu
def test_plugin_weighs_vector_instructions_by_register_group(tmp_path):
    (tmp_path / "weigh.s").write_text(WEIGHED_KERNEL)
    (tmp_path / "harness.c").write_text(
        "void weigh(void *);\nint main(void) { static double b[64]; weigh(b); return 0; }\n")
    subprocess.run([toolchain.GCC, "-march=rv64gcv", "-c", str(tmp_path / "weigh.s"),
                    "-o", str(tmp_path / "model.o")], check=True)
    counts = toolchain.count_instructions(toolchain.link(tmp_path), 256, [], [])
    assert (counts.model, counts.weighted) == (10, 24)
    assert counts.total > 1000  # the harness and libc are counted apart


def test_without_qemu_the_target_is_compile_only(monkeypatch):
    monkeypatch.setattr(toolchain, "missing_tools", lambda: ["qemu-riscv64"])
    program = tessera.compile(gemm(4, 4, 4), target="riscv")
    assert Path(program.report.path, "model.o").exists()
    with pytest.raises(tessera.TesseraError, match="cannot run here: qemu-riscv64 not found"):
        program(np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32))


class HalfPrecision(torch.nn.Module):
    def forward(self, x, y):
        return (x * 3 + 1).to(torch.float16) * y, (x / 7).to(torch.bfloat16)


@needs_qemu
def test_half_and_bfloat16_conversions_are_bit_exact():
    # the harness's own __truncsfhf2 & co. (Debian 12's libgcc has none): rounding ties,
    # subnormals, overflow to infinity, signed zero
    torch.manual_seed(0)
    x = torch.cat([torch.randn(200) * 10, torch.tensor(
        [1e-6, 6e-8, 3e-5, 70000.0, -0.0, float("inf"), 65504.0, 65520.0, 1e-8, 2049.0])])
    y = torch.randn(210).to(torch.float16)
    model = HalfPrecision()
    got = tessera.compile(model, (x, y), target="riscv")(x, y)
    want = model(x, y)
    assert np.array_equal(got[0].view(np.uint16), want[0].numpy().view(np.uint16))
    assert np.array_equal(got[1].view(np.uint16), want[1].view(torch.int16).numpy().view(np.uint16))
