"""The PyTorch frontend: torch.export -> torch-mlir -> linalg on tensors."""

import pytest
import torch

import models
import tessera
from tessera.context import make_context


def test_mlp_imports_as_linalg_in_the_given_context():
    model, inputs = models.example("mlp")
    ctx = make_context()
    module = tessera.import_torch(model, *inputs, context=ctx)
    assert module.context is ctx
    text = module.operation.get_asm(large_elements_limit=4)
    assert "func.func @main" in text and "linalg.matmul" in text and "torch.aten" not in text


def test_weights_are_resources_not_inlined_text():
    model, inputs = models.example("mlp")
    with make_context():
        module = tessera.import_torch(model, *inputs)
        text = str(module)
    assert "dense_resource<" in text
    # 64x128 weights printed inline would be a dense<[[...]]> literal.
    assert "dense<[[" not in text


class Unsupported(torch.nn.Module):
    def forward(self, x):
        return torch.fft.fft(x).real


def test_unsupported_model_op_is_a_located_tessera_error():
    with pytest.raises(tessera.TesseraError) as info:
        tessera.import_torch(Unsupported(), torch.randn(4, 4))
    message = str(info.value)
    assert message.startswith("cannot lower Unsupported to linalg")
    assert "failed to legalize operation" in message
    assert "test_frontend.py:" in message  # the place in the model's source


def test_non_module_input_is_rejected():
    with pytest.raises(tessera.TesseraError, match="expects a torch.nn.Module"):
        tessera.import_torch(lambda x: x, torch.randn(2))


class DataDependent(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


def test_model_torch_export_cannot_capture_is_reported():
    with pytest.raises(tessera.TesseraError, match="torch.export could not capture DataDependent"):
        tessera.import_torch(DataDependent(), torch.randn(3))


def test_import_then_passes_keep_convs_in_linalg():
    model, inputs = models.example("cnn")
    with make_context():
        module = tessera.import_torch(model, *inputs)
        from tessera.pipeline import Pipeline

        Pipeline().add("tessera-linalg-to-systolic").run(module)
        text = module.operation.get_asm(large_elements_limit=4)
    assert "linalg.conv_2d_nchw_fchw" in text
    assert text.count('"systolic.matmul"') == 1  # the classifier
    assert "linalg.matmul" not in text
