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


class ResNetBlock(torch.nn.Module):
    """ResNet basic block: conv3x3+BN+ReLU, conv3x3+BN, identity residual, ReLU."""

    def __init__(self, channels=8):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(channels)
        self.conv2 = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(channels)
        _randomize_batchnorm(self.bn1, self.bn2)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + x)


class MobileNetBlock(torch.nn.Module):
    """MobileNet depthwise-separable block: depthwise 3x3 conv (groups = channels) + BN +
    ReLU6, then pointwise 1x1 conv + BN + ReLU6."""

    def __init__(self, c_in=8, c_out=16, stride=2):
        super().__init__()
        self.depthwise = torch.nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in,
                                         bias=False)
        self.bn1 = torch.nn.BatchNorm2d(c_in)
        self.pointwise = torch.nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(c_out)
        _randomize_batchnorm(self.bn1, self.bn2)

    def forward(self, x):
        x = torch.nn.functional.relu6(self.bn1(self.depthwise(x)))
        return torch.nn.functional.relu6(self.bn2(self.pointwise(x)))


class GRUStep(torch.nn.Module):
    """One step of a GRU cell: (input, hidden) -> next hidden."""

    def __init__(self, d_in=16, d_hidden=32):
        super().__init__()
        self.cell = torch.nn.GRUCell(d_in, d_hidden)

    def forward(self, x, h):
        return self.cell(x, h)


class Int8MLP(torch.nn.Module):
    """Two int8 linear layers written as explicit integer math: i8 x i8 -> i32 matmul
    (`torch._int_mm`), i32 bias, ReLU on the accumulator, then requantize to i8 by a
    per-layer float multiplier (multiply, round half to even, saturate).

    Input and output are int8; eager PyTorch computes exactly the integer math a
    compiled program must reproduce. (The requantize multiplies, as an array's epilogue
    does; `quantize_per_tensor` divides by the scale, which rounds differently, and
    PyTorch's quantized modules do not import into an i8 x i8 -> i32 matmul.)"""

    def __init__(self, d_in=64, d_hidden=128, d_out=32):
        super().__init__()
        g = torch.Generator().manual_seed(0)

        def ints(low, high, shape, dtype):
            return torch.randint(low, high, shape, dtype=dtype, generator=g)

        self.register_buffer("w1", ints(-128, 128, (d_in, d_hidden), torch.int8))
        self.register_buffer("b1", ints(-2000, 2000, (d_hidden,), torch.int32))
        self.register_buffer("w2", ints(-128, 128, (d_hidden, d_out), torch.int8))
        self.register_buffer("b2", ints(-2000, 2000, (d_out,), torch.int32))
        # Multipliers that map the accumulators onto int8 with a few values saturating
        # (and, for s1, a few exact ties), so a comparison sees both.
        self.s1 = 1.0 / 512
        self.s2 = 1.0 / 800

    @staticmethod
    def requantize(acc, multiplier):
        """i32 -> i8: round(acc * multiplier), half to even, saturated to [-128, 127]."""
        scaled = torch.round(acc.to(torch.float32) * multiplier)
        return torch.clamp(scaled, -128, 127).to(torch.int8)

    def forward(self, x):
        h = self.requantize(torch.relu(torch._int_mm(x, self.w1) + self.b1), self.s1)
        return self.requantize(torch._int_mm(h, self.w2) + self.b2, self.s2)


def _randomize_batchnorm(*layers):
    """Non-trivial eval-mode statistics and affine parameters, so BN does something."""
    for bn in layers:
        with torch.no_grad():
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)


# Every name `example` knows, in the order demos and coverage tables list them.
MODELS = ("mlp", "cnn", "resnet", "mobilenet", "encoder", "gru", "int8mlp")


def example(name: str):
    """(model in eval mode, example inputs) for a built-in model name (see MODELS)."""
    torch.manual_seed(0)
    if name == "mlp":
        return MLP().eval(), (torch.randn(8, 64),)
    if name == "cnn":
        return SmallCNN().eval(), (torch.randn(2, 1, 16, 16),)
    if name == "resnet":
        return ResNetBlock().eval(), (torch.randn(2, 8, 8, 8),)
    if name == "mobilenet":
        return MobileNetBlock().eval(), (torch.randn(2, 8, 16, 16),)
    if name == "encoder":
        return encoder_layer().eval(), (torch.randn(2, 8, 32),)
    if name == "gru":
        return GRUStep().eval(), (torch.randn(4, 16), torch.randn(4, 32))
    if name == "int8mlp":
        return Int8MLP().eval(), (torch.randint(-128, 128, (8, 64), dtype=torch.int8),)
    raise KeyError(f"unknown example model '{name}'; known: {', '.join(MODELS)}")


def batch_matmul_mlir(b: int, m: int, n: int, k: int, dtype: str = "f32",
                      acc: str = "f32") -> str:
    """MLIR text of `main(a: BxMxK, b: BxKxN) -> BxMxN`, one linalg.batch_matmul from zero
    (attention's products: one matmul per batch index)."""
    return _product_mlir("linalg.batch_matmul", f"{b}x", m, n, k, dtype, acc)


def matmul_mlir(m: int, n: int, k: int, dtype: str = "f32", acc: str = "f32") -> str:
    """MLIR text of `main(a: MxK, b: KxN) -> MxN`, one linalg.matmul from zero (for
    trying targets on a single GEMM: f32/f32, i8/i32, bf16/f32, f16/f32)."""
    return _product_mlir("linalg.matmul", "", m, n, k, dtype, acc)


def _product_mlir(op: str, batch: str, m: int, n: int, k: int, dtype: str, acc: str) -> str:
    zero = "0" if acc.startswith("i") else "0.0"
    lhs, rhs, out = (f"tensor<{batch}{x}x{y}x{t}>" for x, y, t in
                     ((m, k, dtype), (k, n, dtype), (m, n, acc)))
    return f'''
func.func @main(%a: {lhs}, %b: {rhs}) -> {out} {{
  %zero = arith.constant {zero} : {acc}
  %e = tensor.empty() : {out}
  %c = linalg.fill ins(%zero : {acc}) outs(%e : {out}) -> {out}
  %0 = {op} ins(%a, %b : {lhs}, {rhs}) outs(%c : {out}) -> {out}
  return %0 : {out}
}}'''
