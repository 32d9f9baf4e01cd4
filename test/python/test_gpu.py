"""The GPU targets (gpu-cuda, gpu-rocm, gpu-vulkan): compile-only everywhere, checked by
reading what IREE decided per dispatch; run and compared with PyTorch where IREE's
runtime finds a device (detected, never forced)."""

import re

import ml_dtypes
import numpy as np
import pytest
import torch

import models
from models import matmul_mlir as gemm
import tessera
from tessera.hardware import GPU_PRESETS, GpuConfig, gpu_preset
from tessera.mlir import ir
from tessera.passes.systolic_to_iree_gpu import SystolicToIreeGpuOptions, options_for
from tessera.pipeline import Pipeline
from tessera.targets.gpu import can_run

TARGETS = ("gpu-cuda", "gpu-rocm", "gpu-vulkan")
RUNS = {t: can_run(t.removeprefix("gpu-")) for t in TARGETS}


def needs_device(target):
    ok, why = RUNS[target]
    return pytest.mark.skipif(not ok, reason=f"cannot run {target} here: {why}")


def dispatch_tiles(executable) -> tuple[str, list[str]]:
    """IREE's dumped configurations, and for each of tessera's compilation infos the
    tile entry it carries (TileAndFuse `workgroup = [...]`, SPIR-V `tile_sizes = ...`)."""
    report = executable.report
    tiles = [re.search(r"(workgroup = \[[^\]]*\]|tile_sizes = \[.*?\]\]>)", info).group(1)
             for info in report.compilation_infos]
    return report.dispatch_configurations(), tiles


# Operand type per target: bf16 on tensor/matrix cores, f16 on Vulkan (SPIR-V has no bf16).
MATMULS = [("gpu-cuda", "bf16", "mma_layout<NV_MMA_SYNC_F32_16x8x16_BF16>"),
           ("gpu-rocm", "bf16", "mma_layout<MFMA_F32_16x16x16_BF16>"),
           ("gpu-vulkan", "f16", "CooperativeMatrixVectorize"),
           ("gpu-cuda", "f32", "thread = [4, 4, 0]"),
           ("gpu-vulkan", "f32", "MatmulPromoteVectorize")]


@pytest.mark.parametrize("target,dtype,engine", MATMULS)
def test_matmul_compiles_to_a_vmfb_with_tesseras_tiles(target, dtype, engine):
    import iree.runtime as ireert

    executable = tessera.compile(gemm(256, 256, 512, dtype, "f32"), target=target)
    # The vmfb loads as a VM module (no device needed) exporting the entry function.
    module = ireert.VmModule.copy_buffer(ireert.VmInstance(),
                                         executable.report.vmfb_path.read_bytes())
    assert "main" in module.function_names
    dumped, tiles = dispatch_tiles(executable)
    assert len(tiles) == 1 and tiles[0] in dumped
    assert engine in dumped


@pytest.mark.parametrize("tile_m,tile_n,depth", [(64, 64, 2), (128, 32, 3)])
def test_chosen_tiles_and_depth_reach_the_dispatch(tile_m, tile_n, depth):
    from dataclasses import replace

    hw = replace(gpu_preset("a100"), tile_m=tile_m, tile_n=tile_n, pipeline_depth=depth)
    executable = tessera.compile(gemm(256, 256, 512, "bf16", "f32"), target="gpu-cuda", hw=hw)
    dumped = executable.report.dispatch_configurations()
    assert f"workgroup = [{tile_m}, {tile_n}, 0]" in dumped
    assert f"prefetch_num_stages = {depth}" in dumped
    assert "workgroup = [128, 128, 0]" not in dumped  # the preset's own tile is gone


@pytest.mark.parametrize("target", TARGETS)
def test_mlp_compiles_with_tesseras_tiles_on_every_matmul(target):
    model, inputs = models.example("mlp")
    executable = tessera.compile(model, inputs, target=target)
    dumped, tiles = dispatch_tiles(executable)
    assert len(tiles) == 2  # fc1 and fc2
    for tile in tiles:
        assert tile in dumped


def test_encoder_attention_batch_matmuls_get_tesseras_tiles():
    model, inputs = models.example("encoder")
    executable = tessera.compile(model, inputs, target="gpu-cuda")
    dumped, tiles = dispatch_tiles(executable)
    reached = [t for t in tiles if t in dumped]
    # Q·Kᵀ and P·V (8 heads x 8x8x8) are batched; the four linear layers are plain —
    # the in-projection too: torch.export writes it as a batch_matmul over one repeated
    # weight, whose batch tessera folds into M (one 16x96x32 GEMM), so its tiles reach
    # IREE's codegen like the others'.
    assert reached.count("workgroup = [1, 8, 8, 0]") == 2
    assert len([t for t in reached if not t.startswith("workgroup = [1, ")]) == 4
    assert reached == tiles


@pytest.mark.parametrize("preset,arch", [("a100", "sm_80"), ("h100", "sm_90")])
def test_ptx_is_for_the_presets_arch(preset, arch):
    # sm_90 is spelled out to IREE (its 3.13 has no Hopper entry); the PTX is embedded.
    executable = tessera.compile(gemm(128, 128, 128, "bf16", "f32"), target="gpu-cuda", hw=preset)
    vmfb = executable.report.vmfb_path.read_bytes()
    assert f".target {arch}".encode() in vmfb
    assert b"mma.sync.aligned.m16n8k16" in vmfb


def test_unknown_preset_suggests_a_name():
    with pytest.raises(tessera.TesseraError, match=r"unknown gpu preset 'h10' \(known presets: .*\); did you mean 'h100'"):
        gpu_preset("h10")


@pytest.mark.parametrize("fields,message", [
    ({"tile_m": 96, "subgroups_m": 5},
     r"gpu tile_m \(96\) must be a multiple of subgroups_m \(5\)"),
    ({"tile_k": 0}, "gpu tile_k must be a positive integer, got 0"),
    ({"api": "metal"}, "gpu api must be one of cuda, rocm, vulkan, got 'metal'"),
    ({"tile_m": 256, "tile_n": 256, "tile_k": 128, "pipeline_depth": 4},
     "needs 524288 bytes of shared memory for 16-bit operands, more than shared_memory_bytes"),
    ({"subgroups_m": 8, "subgroups_n": 8}, "2048 threads; a workgroup has at most 1024"),
])
def test_bad_gpu_config_names_the_field(fields, message):
    with pytest.raises(tessera.TesseraError, match=message):
        GpuConfig(**fields)


def test_preset_of_another_api_is_an_error():
    with pytest.raises(tessera.TesseraError, match="gpu config 'mi300' is for rocm, not cuda"):
        tessera.compile(gemm(32, 32, 32, "bf16", "f32"), target="gpu-cuda", hw="mi300")


def test_any_config_round_trips_through_the_pass_option():
    from dataclasses import replace

    hw = replace(gpu_preset("a100"), arch="sm_86", tile_m=64)
    assert options_for(hw) == {"gpu": "a100,arch=sm_86,tile_m=64"}
    assert replace(SystolicToIreeGpuOptions(**options_for(hw)).config(), name=hw.name) == hw


def test_bf16_on_vulkan_is_a_located_error():
    with pytest.raises(tessera.TesseraError) as info:
        tessera.compile(gemm(32, 32, 32, "bf16", "f32"), target="gpu-vulkan",
                        source_name="gemm.mlir")
    text = str(info.value)
    assert re.search(r"gemm\.mlir:\d+:\d+: error: tessera-systolic-to-iree-gpu: bf16·bf16→f32 "
                     r"matmuls are not supported on vulkan", text)


def test_pass_option_errors_name_the_pass():
    with ir.Context():
        with pytest.raises(tessera.TesseraError,
                           match="tessera-systolic-to-iree-gpu: gpu tile_n must be a positive"):
            Pipeline().add("tessera-systolic-to-iree-gpu{gpu=a100,tile_n=-8}")
        with pytest.raises(tessera.TesseraError, match="unknown gpu preset 'mi30'"):
            Pipeline().add("tessera-systolic-to-iree-gpu{gpu=mi30}")


@pytest.mark.parametrize("target", TARGETS)
def test_compile_only_call_says_why_and_keeps_the_files(target):
    if RUNS[target][0]:
        pytest.skip(f"{target} can run here")
    executable = tessera.compile(gemm(32, 32, 32, "f32", "f32"), target=target)
    a = np.ones((32, 32), np.float32)
    with pytest.raises(tessera.TesseraError, match=f"target {target} compiled to .*module.vmfb "
                                                   f"but cannot run here: IREE's"):
        executable(a, a)
    assert executable.report.vmfb_path.exists()
    assert executable.report.dispatch_configurations()


# --- on a GPU -----------------------------------------------------------------------


@pytest.mark.parametrize("target", [pytest.param(t, marks=needs_device(t)) for t in TARGETS])
@pytest.mark.parametrize("name", ["mlp", "encoder"])
def test_models_match_pytorch_on_the_gpu(target, name):
    model, inputs = models.example(name)
    executable = tessera.compile(model, inputs, target=target)
    with torch.no_grad():
        np.testing.assert_allclose(executable(*inputs), model(*inputs).numpy(),
                                   rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("target,dtype", [
    pytest.param("gpu-cuda", "bf16", marks=needs_device("gpu-cuda")),
    pytest.param("gpu-rocm", "bf16", marks=needs_device("gpu-rocm")),
    pytest.param("gpu-vulkan", "f16", marks=needs_device("gpu-vulkan")),
])
def test_low_precision_gemm_matches_numpy_on_the_gpu(target, dtype):
    rng = np.random.default_rng(0)
    element = ml_dtypes.bfloat16 if dtype == "bf16" else np.float16
    a = rng.standard_normal((256, 512)).astype(element)
    b = rng.standard_normal((512, 256)).astype(element)
    executable = tessera.compile(gemm(256, 256, 512, dtype, "f32"), target=target)
    expected = a.astype(np.float32) @ b.astype(np.float32)
    # f32 accumulation of exactly representable products: only the summation order differs.
    np.testing.assert_allclose(executable(a, b), expected, rtol=1e-4, atol=1e-3)


def test_every_preset_is_valid_and_named():
    for name in GPU_PRESETS:
        assert gpu_preset(name).name == name
