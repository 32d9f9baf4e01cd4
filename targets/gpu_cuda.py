"""Target `gpu-cuda`: NVIDIA GPUs (CUDA); see tessera.targets.gpu."""

from tessera.targets import gpu

NAME = "gpu-cuda"
API = "cuda"


def available() -> tuple[bool, str]:
    """Compiling needs only the IREE pip packages."""
    return gpu.available()


def can_run() -> tuple[bool, str]:
    """Whether IREE's runtime finds a cuda device here, and why not."""
    return gpu.can_run(API)


def pipeline(context, hw=None):
    """The tessera passes for a cuda GPU `hw` (a preset name or a GpuConfig)."""
    return gpu.pipeline(API, context, hw)


def compile(module, hw=None, *, func_name: str = "main"):
    """Compile for a cuda GPU described by `hw` (a preset name or a GpuConfig)."""
    return gpu.compile(API, module, hw, func_name=func_name)
