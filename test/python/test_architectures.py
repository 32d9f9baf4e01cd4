"""Full-size architectures as users write them (examples/architectures.py), at their
tiny size: they import without hand edits (non-persistent buffers, dict outputs, tied
weights) and match PyTorch. The full sizes are measured by benchmarks/models.py."""

import numpy as np
import pytest
import torch

import architectures
import tessera


@pytest.mark.slow
@pytest.mark.parametrize("target", ["npu-sim", "iree-cpu"])
@pytest.mark.parametrize("name", architectures.ARCHITECTURES)
def test_tiny_architecture_matches_pytorch(name, target):
    if target == "iree-cpu" and name not in ("bert", "gpt2"):
        pytest.skip("the convolutional ones run on iree-cpu in test_models already")
    model, inputs = architectures.example(name, size="tiny")
    with torch.no_grad():
        want = architectures.outputs(model(*inputs))
    got = architectures.outputs(tessera.compile(model, inputs, target=target)(*inputs))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape) and g.dtype == w.numpy().dtype
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-4, atol=1e-5)


def test_unknown_architecture_and_size_are_errors():
    with pytest.raises(ValueError, match="unknown architecture 'vgg'"):
        architectures.example("vgg")
    with pytest.raises(ValueError, match="size is 'full' or 'tiny'"):
        architectures.example("bert", size="huge")


def test_the_benchmarks_eager_worker_times_calls_in_its_own_process(monkeypatch):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "models.py"
    spec = importlib.util.spec_from_file_location("models_benchmark", path)
    models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(models)
    monkeypatch.setattr(models, "USER_OMP_WAIT_POLICY", None)
    worker = models.EagerWorker("resnet18", "tiny")
    try:
        times = [worker.call() for _ in range(2)]
    finally:
        worker.close()
    assert worker.process.returncode == 0
    assert all(0 < t < 60 for t in times)
    row = {"model": "resnet18", "column": "iree-cpu", "size": "tiny", "status": "ok",
           "compile_s": 1, "import_s": 0.5, "passes_s": 0.1, "backend_s": 0.4, "run_ms": 3.0,
           "eager_ms": 4.0, "eager_alone_ms": 2.5, "peak_mb": 100, "weights_mb": 1,
           "max_error": 0.0}
    assert "| 3.0 (4.0 / 2.5) |" in models.table([row])
