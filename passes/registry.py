"""The explicit registry of tessera passes, shared by the Python API and `tessera-opt`.

Each entry maps a pass name (`tessera-linalg-to-systolic`) to its function, its options
dataclass and a one-line summary. Nothing registers itself as an import side effect: the
pass modules are imported the first time the registry is asked for.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import typing
from dataclasses import dataclass
from typing import Any, Callable

from tessera.errors import TesseraError


@dataclass(frozen=True)
class PassInfo:
    """A registered pass: `run(op, pass_, options)`, its options class, a summary."""

    run: Callable[[Any, Any, Any], None]
    options: type
    summary: str


@functools.cache
def passes() -> dict[str, PassInfo]:
    """Every tessera pass by name."""
    from tessera.passes import (conv_to_matmul, linalg_to_systolic, memref_copy_to_linalg,
                                systolic_fuse_epilogue, systolic_tile, systolic_to_linalg,
                                systolic_to_vector, tile_distribute)
    from tessera.passes import amx_emulate, systolic_to_amx
    from tessera.passes import systolic_to_iree_gpu
    from tessera.passes import conv_trim_input

    return {
        "tessera-linalg-to-systolic": PassInfo(
            linalg_to_systolic.linalg_to_systolic, linalg_to_systolic.LinalgToSystolicOptions,
            "Rewrite static linalg matmul-like contractions into systolic.matmul"),
        "tessera-systolic-to-linalg": PassInfo(
            systolic_to_linalg.systolic_to_linalg, systolic_to_linalg.SystolicToLinalgOptions,
            "Rewrite systolic.matmul back into linalg (the inverse; a fallback path)"),
        "tessera-conv-to-matmul": PassInfo(
            conv_to_matmul.conv_to_matmul_pass, conv_to_matmul.ConvToMatmulOptions,
            "Rewrite 2-d convolutions (nchw/fchw, nhwc/hwcf) as im2col + linalg.matmul"),
        "tessera-systolic-fuse-epilogue": PassInfo(
            systolic_fuse_epilogue.systolic_fuse_epilogue,
            systolic_fuse_epilogue.SystolicFuseEpilogueOptions,
            "Fold a following bias add, ReLU and int8 requantize into systolic.matmul's epilogue"),
        "tessera-systolic-tile": PassInfo(
            systolic_tile.systolic_tile, systolic_tile.SystolicTileOptions,
            "Outline each systolic.matmul into an ISA-level kernel sized to the array's memories"),
        "tessera-systolic-to-vector": PassInfo(
            systolic_to_vector.systolic_to_vector, systolic_to_vector.SystolicToVectorOptions,
            "Outline f32/int8 systolic.matmul into broadcast-FMA vector microkernels (RVV)"),
        "tessera-systolic-to-amx": PassInfo(
            systolic_to_amx.systolic_to_amx, systolic_to_amx.SystolicToAmxOptions,
            "Outline bf16/int8 systolic.matmul into VNNI packing + blocked AMX tile kernels"),
        "tessera-amx-emulate": PassInfo(
            amx_emulate.amx_emulate, amx_emulate.AmxEmulateOptions,
            "Rewrite x86.amx tile ops into scalar loops with the same semantics (no-AMX CPUs)"),
        "tessera-systolic-to-iree-gpu": PassInfo(
            systolic_to_iree_gpu.systolic_to_iree_gpu,
            systolic_to_iree_gpu.SystolicToIreeGpuOptions,
            "Rewrite systolic.matmul into linalg carrying tessera's GPU tiles for IREE"),
        "tessera-tile-distribute": PassInfo(
            tile_distribute.tile_distribute, tile_distribute.TileDistributeOptions,
            "Spread each systolic kernel over a tile grid, one parallel loop dealt to the units"),
        "tessera-conv-trim-input": PassInfo(
            conv_trim_input.conv_trim_input, conv_trim_input.ConvTrimInputOptions,
            "Slice a convolution's or pooling's input to the rows and columns its windows read"),
        "tessera-memref-copy-to-linalg": PassInfo(
            memref_copy_to_linalg.memref_copy_to_linalg,
            memref_copy_to_linalg.MemrefCopyToLinalgOptions,
            "Rewrite memref.copy as linalg.copy (host code then needs no runtime library)"),
    }


def lookup(name: str) -> PassInfo:
    """The pass called `name`; an unknown name is an error that suggests close names."""
    registry = passes()
    if name not in registry:
        raise TesseraError(f"unknown tessera pass '{name}'{suggest(name, registry)}")
    return registry[name]


def suggest(word: str, candidates) -> str:
    """'; did you mean 'x' or 'y'?' for the closest candidates, or ''."""
    close = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def option_fields(options_cls: type) -> dict[str, type]:
    """Option name (as written in a pipeline, dashes) -> Python type."""
    hints = typing.get_type_hints(options_cls)
    return {f.name.replace("_", "-"): hints[f.name] for f in dataclasses.fields(options_cls)}


def _convert(pass_name: str, key: str, text: str, kind: type):
    try:
        if kind is bool:
            if text.lower() in ("true", "1", ""):
                return True
            if text.lower() in ("false", "0"):
                return False
            raise ValueError
        return kind(text)
    except ValueError:
        raise TesseraError(f"option '{key}' of pass '{pass_name}' expects "
                           f"{kind.__name__}, got '{text}'") from None


def parse_options(pass_name: str, text: str):
    """Options of `pass_name` from `rows=16 cols=8 dataflow=os` (mlir-opt syntax)."""
    info = lookup(pass_name)
    fields = option_fields(info.options)
    values = {}
    for item in text.split():
        key, _, value = item.partition("=")
        if key not in fields:
            known = ", ".join(fields) or "none"
            raise TesseraError(f"unknown option '{key}' for pass '{pass_name}'"
                               f"{suggest(key, fields)} (options: {known})")
        values[key.replace("-", "_")] = _convert(pass_name, key, value, fields[key])
    return make_options(pass_name, **values)


def make_options(pass_name: str, **values):
    """Options of `pass_name` from Python keyword arguments, validated."""
    info = lookup(pass_name)
    names = {f.name for f in dataclasses.fields(info.options)}
    for key in values:
        if key not in names:
            raise TesseraError(f"unknown option '{key}' for pass '{pass_name}'"
                               f"{suggest(key, names)}")
    return info.options(**values)
