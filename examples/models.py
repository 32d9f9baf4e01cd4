"""Small built-in models for the demo, the tests and users to copy from.

Weights are random (seeded), nothing is downloaded.
"""

import torch


class MLP(torch.nn.Module):
    """Two linear layers with a ReLU between them."""

    def __init__(self, d_in=64, d_hidden=128, d_out=32):
        super().__init__()
        self.fc1 = torch.nn.Linear(d_in, d_hidden)
        self.fc2 = torch.nn.Linear(d_hidden, d_out)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class SmallCNN(torch.nn.Module):
    """LeNet-style: two conv+relu+pool stages, then a linear classifier."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8 * 4 * 4, classes)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def encoder_layer(d_model=32, heads=4, ff=64):
    """A `torch.nn.TransformerEncoderLayer` without dropout, batch first."""
    return torch.nn.TransformerEncoderLayer(d_model, heads, ff, dropout=0.0, batch_first=True)


def example(name: str):
    """(model in eval mode, example inputs) for a built-in model name."""
    torch.manual_seed(0)
    if name == "mlp":
        return MLP().eval(), (torch.randn(8, 64),)
    if name == "cnn":
        return SmallCNN().eval(), (torch.randn(2, 1, 16, 16),)
    if name == "encoder":
        return encoder_layer().eval(), (torch.randn(2, 8, 32),)
    raise KeyError(f"unknown example model '{name}'; known: mlp, cnn, encoder")


def matmul_mlir(m: int, n: int, k: int, dtype: str = "f32", acc: str = "f32") -> str:
    """MLIR text of `main(a: MxK, b: KxN) -> MxN`, one linalg.matmul from zero (for
    trying targets on a single GEMM: f32/f32, i8/i32, bf16/f32, f16/f32)."""
    zero = "0" if acc.startswith("i") else "0.0"
    return f'''
func.func @main(%a: tensor<{m}x{k}x{dtype}>, %b: tensor<{k}x{n}x{dtype}>) -> tensor<{m}x{n}x{acc}> {{
  %zero = arith.constant {zero} : {acc}
  %e = tensor.empty() : tensor<{m}x{n}x{acc}>
  %c = linalg.fill ins(%zero : {acc}) outs(%e : tensor<{m}x{n}x{acc}>) -> tensor<{m}x{n}x{acc}>
  %0 = linalg.matmul ins(%a, %b : tensor<{m}x{k}x{dtype}>, tensor<{k}x{n}x{dtype}>) outs(%c : tensor<{m}x{n}x{acc}>) -> tensor<{m}x{n}x{acc}>
  return %0 : tensor<{m}x{n}x{acc}>
}}'''
