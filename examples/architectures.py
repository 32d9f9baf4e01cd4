"""Full-size architectures written as users write them: ResNet-18, MobileNet-V2, a ViT,
BERT and GPT-2, defined here (no torchvision or transformers, nothing downloaded; random
seeded weights, batch 1, eval mode).

Each builder takes `size`: "full" (the published configuration) or "tiny" (the same
code with a few narrow layers, for the tests and the riscv target). They keep the habits
of the libraries they imitate that tripped importers before: BERT's and GPT-2's position
ids and GPT-2's causal mask are non-persistent buffers; BERT returns a dict
(`return_dict`-style); GPT-2 ties its output layer to its token embedding.

    model, inputs = architectures.example("bert", size="tiny")
    tensors = architectures.outputs(model(*inputs))
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

ARCHITECTURES = ("resnet18", "mobilenet_v2", "vit", "bert", "gpt2")


# ---------------------------------------------------------------- convolutional

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    def __init__(self, width=64, blocks=(2, 2, 2, 2), classes=1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], width
        for i, count in enumerate(blocks):
            cout = width * 2 ** i
            for j in range(count):
                layers.append(BasicBlock(cin, cout, 2 if j == 0 and i > 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                   nn.BatchNorm2d(hidden), nn.ReLU6(),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    # (expansion, channels, repeats, stride) of the paper's table 2
    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1))

    def __init__(self, settings=SETTINGS, stem=32, last=1280, classes=1000):
        super().__init__()
        layers = [nn.Conv2d(3, stem, 3, 2, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU6()]
        cin = stem
        for expand, cout, repeats, stride in settings:
            for i in range(repeats):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                cin = cout
        layers += [nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(last, classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


# ---------------------------------------------------------------- transformers

class Attention(nn.Module):
    """Multi-head self-attention with one fused qkv projection."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, mask=None):
        b, s, d = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)
        if mask is not None:
            scores = scores + mask
        y = torch.softmax(scores, dim=-1) @ v
        return self.out(y.transpose(1, 2).reshape(b, s, d))


class Block(nn.Module):
    """A transformer layer: pre-norm (ViT, GPT-2) or post-norm (BERT)."""

    def __init__(self, dim, heads, ff, pre_norm, eps=1e-6):
        super().__init__()
        self.pre_norm = pre_norm
        self.attn = Attention(dim, heads)
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=eps), nn.LayerNorm(dim, eps=eps)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.GELU(), nn.Linear(ff, dim))

    def forward(self, x, mask=None):
        if self.pre_norm:
            x = x + self.attn(self.norm1(x), mask)
            return x + self.ff(self.norm2(x))
        x = self.norm1(x + self.attn(x, mask))
        return self.norm2(x + self.ff(x))


class ViT(nn.Module):
    def __init__(self, image=224, patch=16, dim=768, depth=12, heads=12, ff=3072, classes=1000):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, patch)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads, ff, pre_norm=True) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


class Bert(nn.Module):
    def __init__(self, vocab=30522, dim=768, depth=12, heads=12, ff=3072, positions=512):
        super().__init__()
        self.words = nn.Embedding(vocab, dim)
        self.positions = nn.Embedding(positions, dim)
        self.types = nn.Embedding(2, dim)
        self.norm = nn.LayerNorm(dim, eps=1e-12)
        self.register_buffer("position_ids", torch.arange(positions).unsqueeze(0),
                             persistent=False)
        self.layers = nn.ModuleList(Block(dim, heads, ff, pre_norm=False, eps=1e-12)
                                    for _ in range(depth))
        self.pooler = nn.Linear(dim, dim)

    def forward(self, input_ids, attention_mask):
        s = input_ids.shape[1]
        x = self.words(input_ids) + self.positions(self.position_ids[:, :s]) + \
            self.types(torch.zeros_like(input_ids))
        x = self.norm(x)
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, mask)
        return {"last_hidden_state": x, "pooler_output": torch.tanh(self.pooler(x[:, 0]))}


class GPT2(nn.Module):
    def __init__(self, vocab=50257, dim=768, depth=12, heads=12, positions=1024):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(positions, dim)
        self.register_buffer("bias", torch.tril(torch.ones(positions, positions, dtype=torch.bool)),
                             persistent=False)
        self.blocks = nn.ModuleList(Block(dim, heads, 4 * dim, pre_norm=True, eps=1e-5)
                                    for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-5)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied

    def forward(self, input_ids):
        s = input_ids.shape[1]
        x = self.wte(input_ids) + self.wpe(torch.arange(s, device=input_ids.device))
        causal = self.bias[:s, :s]
        mask = torch.where(causal, 0.0, torch.finfo(x.dtype).min)[None, None]
        for block in self.blocks:
            x = block(x, mask)
        return self.lm_head(self.norm(x))


# ---------------------------------------------------------------- builders

def _randomize_batchnorm(model: nn.Module) -> None:
    """Random running statistics, so that an eval-mode BatchNorm is not an identity."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)


TINY = {
    "resnet18": dict(width=8, blocks=(1, 1, 1, 1), classes=10),
    "mobilenet_v2": dict(settings=((1, 8, 1, 1), (6, 16, 2, 2), (6, 24, 1, 2)), stem=8, last=64,
                         classes=10),
    "vit": dict(image=32, patch=8, dim=32, depth=2, heads=4, ff=64, classes=10),
    "bert": dict(vocab=100, dim=32, depth=2, heads=4, ff=64, positions=64),
    "gpt2": dict(vocab=100, dim=32, depth=2, heads=4, positions=64),
}
CLASSES = {"resnet18": ResNet18, "mobilenet_v2": MobileNetV2, "vit": ViT, "bert": Bert,
           "gpt2": GPT2}
FULL_INPUTS = {"resnet18": 224, "mobilenet_v2": 224, "vit": 224, "bert": 128, "gpt2": 64}
TINY_INPUTS = {"resnet18": 32, "mobilenet_v2": 32, "vit": 32, "bert": 16, "gpt2": 16}


def outputs(result) -> list:
    """A model's result as a list of tensors (BERT's dict in order, a tuple as is)."""
    if isinstance(result, dict):
        return list(result.values())
    return list(result) if isinstance(result, tuple) else [result]


def example(name: str, size: str = "full"):
    """(model, example inputs) of architecture `name` at `size` ("full" or "tiny")."""
    if name not in CLASSES:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(ARCHITECTURES)}")
    if size not in ("full", "tiny"):
        raise ValueError(f"size is 'full' or 'tiny', not {size!r}")
    torch.manual_seed(0)
    model = CLASSES[name](**(TINY[name] if size == "tiny" else {}))
    _randomize_batchnorm(model)
    model.eval()
    n = (TINY_INPUTS if size == "tiny" else FULL_INPUTS)[name]
    if name in ("bert", "gpt2"):
        vocab = model.words.num_embeddings if name == "bert" else model.wte.num_embeddings
        ids = torch.randint(0, vocab, (1, n))
        if name == "bert":
            mask = torch.ones(1, n, dtype=torch.int64)
            mask[0, n - n // 4:] = 0  # padding at the end
            return model, (ids, mask)
        return model, (ids,)
    return model, (torch.randn(1, 3, n, n),)
