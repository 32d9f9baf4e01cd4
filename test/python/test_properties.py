"""Property tests: random matmul and conv2d shapes, dtypes and hardware through every
target that runs here, against numpy (matmul) and PyTorch eager (conv2d).

The default profile ("ci") draws a few deterministic examples per property so the suite
stays short; `benchmarks/properties.py` runs the same properties under the "long"
profile (many random, not derandomized, examples).
"""

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tessera
from models import matmul_mlir
from tessera.hardware import NpuConfig, RiscvConfig
from tessera.targets.riscv import can_run

settings.register_profile("ci", max_examples=6, deadline=None, derandomize=True,
                          database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", deadline=None, database=None,
                          max_examples=int(os.environ.get("TESSERA_HYPOTHESIS_EXAMPLES", "200")),
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("TESSERA_HYPOTHESIS_PROFILE", "ci"))

TARGETS = ["iree-cpu", "npu-sim"] + (["riscv"] if can_run()[0] else [])

npu_configs = st.builds(
    NpuConfig, rows=st.sampled_from([1, 4, 8, 16]), cols=st.sampled_from([2, 4, 16]),
    dataflow=st.sampled_from(["ws", "os", "is"]),
    spad_bytes=st.sampled_from([64 * 1024, 256 * 1024]), acc_bytes=st.just(64 * 1024),
    dram_bytes_per_cycle=st.sampled_from([0, 16]), grid_rows=st.sampled_from([1, 2]),
    grid_cols=st.just(1))
riscv_configs = st.builds(RiscvConfig, vlen=st.sampled_from([128, 256, 512]))


def _hw(target, data):
    if target == "npu-sim":
        return data.draw(npu_configs, label="npu")
    if target == "riscv":
        return data.draw(riscv_configs, label="riscv")
    return None


@pytest.mark.parametrize("target", TARGETS)
@given(m=st.integers(1, 40), n=st.integers(1, 40), k=st.integers(1, 70),
       dtype=st.sampled_from(["f32", "i8"]), data=st.data())
def test_matmul_matches_numpy(target, m, n, k, dtype, data):
    acc = "i32" if dtype == "i8" else "f32"
    program = tessera.compile(matmul_mlir(m, n, k, dtype, acc), target=target,
                              hw=_hw(target, data))
    rng = np.random.default_rng(m * 10000 + n * 100 + k)
    if dtype == "i8":
        a = rng.integers(-128, 128, (m, k)).astype(np.int8)
        b = rng.integers(-128, 128, (k, n)).astype(np.int8)
        np.testing.assert_array_equal(program(a, b), a.astype(np.int32) @ b.astype(np.int32))
    else:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        # f32 sums of k products in a different order: a few ulps of the largest terms.
        np.testing.assert_allclose(program(a, b), a.astype(np.float64) @ b, rtol=1e-5,
                                   atol=1e-5 * k)


@st.composite
def convs(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 4))
    kernel = draw(st.sampled_from([1, 2, 3]))
    stride = draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from([0, 1]))
    size = draw(st.integers(kernel + 1, 9))
    batch = draw(st.integers(1, 2))
    return cin, cout, kernel, stride, padding, groups, size, batch


@pytest.mark.parametrize("target", TARGETS)
@given(conv=convs(), bias=st.booleans(), data=st.data())
def test_conv2d_matches_pytorch(target, conv, bias, data):
    cin, cout, kernel, stride, padding, groups, size, batch = conv
    torch.manual_seed(sum(conv))
    model = torch.nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, groups=groups,
                            bias=bias).eval()
    x = torch.randn(batch, cin, size, size)
    with torch.no_grad():
        expected = model(x).numpy()
    program = tessera.compile(model, (x,), target=target, hw=_hw(target, data))
    np.testing.assert_allclose(program(x), expected, rtol=1e-5, atol=1e-5)
