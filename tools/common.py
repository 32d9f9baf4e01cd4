"""What every tessera command-line tool shares: user errors become `error: ...` lines and a
non-zero exit, never a Python traceback."""

from __future__ import annotations

import functools
import sys

from tessera.errors import TesseraError

_LOCATED = (": error: ", ": warning: ")


def print_error(message: str) -> None:
    """Print one user-facing error to stderr; located diagnostics are printed as they are."""
    first = message.splitlines()[0] if message else ""
    if first.startswith("error: ") or any(tag in first for tag in _LOCATED):
        print(message, file=sys.stderr)
    else:
        print(f"error: {message}", file=sys.stderr)


def tool_main(body):
    """Decorate a tool's `main(argv) -> int` so user errors exit 1 with `error: ...`."""

    @functools.wraps(body)
    def main(argv: list[str] | None = None) -> int:
        try:
            code = body(sys.argv[1:] if argv is None else argv)
        except TesseraError as e:
            print_error(str(e))
            code = 1
        except KeyboardInterrupt:
            print_error("interrupted")
            code = 130
        except BrokenPipeError:
            code = 0
        sys.stdout.flush()
        return code

    return main


def random_inputs(signature):
    """Seeded random arrays for a compiled program's inputs (ints in the int8 range)."""
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = []
    for spec in signature:
        if spec.dtype.kind in "iu":
            arrays.append(rng.integers(-128, 128, spec.shape).astype(spec.dtype))
        else:
            arrays.append(rng.standard_normal(spec.shape).astype(spec.dtype))
    return arrays


def check_outputs(program, model, inputs, source_name):
    """(inputs used, max abs error, reference name): PyTorch eager for a model; for MLIR
    text, iree-cpu on seeded random inputs."""
    import numpy as np

    import tessera

    def as_tuple(x):
        return x if isinstance(x, tuple) else (x,)

    if isinstance(model, str):
        inputs = random_inputs(program.signature)
        expected = as_tuple(tessera.compile(model, target="iree-cpu", source_name=source_name)(*inputs))
        reference = "iree-cpu"
    else:
        import torch

        with torch.no_grad():
            expected = tuple(t.numpy() for t in as_tuple(model(*inputs)))
        reference = "PyTorch eager"
    got = as_tuple(program(*inputs))
    error = max(float(np.abs(g.astype(np.float64) - e.astype(np.float64)).max())
                for g, e in zip(got, expected))
    return inputs, error, reference
