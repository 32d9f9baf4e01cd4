"""Reading and writing the user's files: every failure is a TesseraError that names the
file and the reason (missing, a directory, not UTF-8, no permission, ...)."""

from __future__ import annotations

import os
from pathlib import Path

from tessera.errors import TesseraError

MAX_INPUT_BYTES = 1 << 30  # an .mlir text or model file beyond 1 GiB is not read


def _reason(e: OSError) -> str:
    return e.strerror or type(e).__name__


def read_bytes(path, what: str = "input file") -> bytes:
    """The bytes of `path`."""
    path = Path(path)
    try:
        if path.is_dir():
            raise TesseraError(f"could not read {what} '{path}': it is a directory")
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise TesseraError(f"{what} '{path}' is larger than {MAX_INPUT_BYTES >> 30} GiB")
        return path.read_bytes()
    except FileNotFoundError:
        raise TesseraError(f"could not open {what} '{path}': no such file") from None
    except OSError as e:
        raise TesseraError(f"could not read {what} '{path}': {_reason(e)}") from None


def decode(data: bytes, name: str) -> str:
    """`data` as UTF-8 text; anything else is an error naming the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise TesseraError(f"{name}:{line}: error: the input is not UTF-8 text (byte "
                           f"0x{data[e.start]:02x} at offset {e.start}); MLIR files are "
                           f"UTF-8") from None


def read_text(path, what: str = "input file") -> str:
    """The UTF-8 text of `path`."""
    return decode(read_bytes(path, what), str(path))


def writable(path, what: str = "output file") -> Path:
    """`path`, after checking that a file can be written there (its folder exists and
    it is not a folder itself); call before long work, so nothing is lost at the end."""
    path = Path(path)
    if path.is_dir():
        raise TesseraError(f"cannot write {what} '{path}': it is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise TesseraError(f"cannot write {what} '{path}': folder '{parent}' does not exist")
    if not os.access(parent, os.W_OK):
        raise TesseraError(f"cannot write {what} '{path}': folder '{parent}' is not writable")
    return path


def write_bytes(path, data: bytes, what: str = "output file") -> None:
    """Write `data` to `path`."""
    path = writable(path, what)
    try:
        path.write_bytes(data)
    except OSError as e:
        raise TesseraError(f"could not write {what} '{path}': {_reason(e)}") from None


def write_text(path, text: str, what: str = "output file") -> None:
    """Write `text` to `path` (UTF-8)."""
    write_bytes(path, text.encode("utf-8"), what)


def out_dir(path, what: str = "output folder") -> Path:
    """`path` as an existing folder to write into."""
    path = Path(path)
    if not path.is_dir():
        kind = "is a file" if path.exists() else "does not exist"
        raise TesseraError(f"{what} '{path}' {kind}")
    if not os.access(path, os.W_OK):
        raise TesseraError(f"{what} '{path}' is not writable")
    return path


def pyplot(path):
    """matplotlib.pyplot (headless), after checking that a plot can be written to `path`
    (before the work of drawing it)."""
    writable(path, "plot file")
    try:
        import matplotlib
    except ImportError:
        raise TesseraError("plots need matplotlib: pip install 'tessera[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path) -> None:
    """Write matplotlib figure `fig` to `path` as PNG and release it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100, format="png")
    except (OSError, ValueError) as e:
        raise TesseraError(f"could not write plot file '{path}': {e}") from None
    finally:
        plt.close(fig)
