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
