"""Models that tessera-compile must refuse with a clean error."""

import torch


class UsesFFT(torch.nn.Module):
    def forward(self, x):
        return torch.fft.fft(x).real


def unsupported_op():
    return UsesFFT(), (torch.randn(4, 4),)


def raises():
    raise RuntimeError("the user's factory is broken")


def not_a_pair():
    return UsesFFT()
