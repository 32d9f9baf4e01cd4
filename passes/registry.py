"""The explicit registry of tessera passes, shared by the Python API and `tessera-opt`.

Each entry maps a pass name (`tessera-linalg-to-systolic`) to its function, its options
dataclass (fields declared with `tessera.knobs.knob`, or inherited from a hardware
description with `knobs_from`) and a one-line summary. Nothing registers itself as an
import side effect: the pass modules are imported the first time the registry is asked
for. Options are parsed and validated here, in one place, for pipeline text, pass flags
and Python keywords alike.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Callable

from tessera import knobs
from tessera.errors import TesseraError, suggest


@dataclass(frozen=True)
class PassInfo:
    """A registered pass: `run(op, pass_, options)`, its options class, a summary, and
    where it comes from (tessera, or a plugin)."""

    run: Callable[[Any, Any, Any], None]
    options: type
    summary: str
    origin: str = "tessera"


def passes() -> dict[str, PassInfo]:
    """Every pass by name: tessera's own and those of plugins (installed ones are
    loaded on the first call; see tessera.plugin)."""
    from tessera.plugin import load_entry_points

    load_entry_points()
    return builtin_passes()


@functools.cache
def builtin_passes() -> dict[str, PassInfo]:
    """The registry itself: tessera's passes (plugins add theirs to it)."""
    from tessera.passes import (amx_emulate, conv_to_matmul, conv_to_mmt4d, conv_trim_input,
                                externalize_constants, fold_float_truncation, integer_division,
                                linalg_to_systolic, memref_copy_to_linalg, outline_linalg,
                                systolic_fuse_epilogue, systolic_map,
                                systolic_tile, systolic_to_amx,
                                systolic_to_iree_gpu, systolic_to_linalg, systolic_to_vector,
                                tile_distribute)

    return {
        "tessera-linalg-to-systolic": PassInfo(
            linalg_to_systolic.linalg_to_systolic, linalg_to_systolic.LinalgToSystolicOptions,
            "Rewrite static linalg matmul-like contractions into systolic.matmul"),
        "tessera-systolic-to-linalg": PassInfo(
            systolic_to_linalg.systolic_to_linalg, knobs.NoOptions,
            "Rewrite systolic.matmul back into linalg (the inverse; a fallback path)"),
        "tessera-conv-to-matmul": PassInfo(
            conv_to_matmul.conv_to_matmul_pass, knobs.NoOptions,
            "Rewrite 2-d convolutions (nchw/fchw, nhwc/hwcf) as im2col + linalg.matmul"),
        "tessera-systolic-fuse-epilogue": PassInfo(
            systolic_fuse_epilogue.systolic_fuse_epilogue,
            systolic_fuse_epilogue.SystolicFuseEpilogueOptions,
            "Fold a following bias add, ReLU and int8 requantize into systolic.matmul's epilogue"),
        "tessera-systolic-map": PassInfo(
            systolic_map.systolic_map, systolic_map.SystolicMapOptions,
            "Choose each systolic.matmul's mapping (tiles, loop order, buffers, dataflow, "
            "grid split) by the cost model's search"),
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
            amx_emulate.amx_emulate, knobs.NoOptions,
            "Rewrite x86.amx tile ops into scalar loops with the same semantics (no-AMX CPUs)"),
        "tessera-systolic-to-iree-gpu": PassInfo(
            systolic_to_iree_gpu.systolic_to_iree_gpu,
            systolic_to_iree_gpu.SystolicToIreeGpuOptions,
            "Rewrite systolic.matmul into linalg carrying tessera's GPU tiles for IREE"),
        "tessera-tile-distribute": PassInfo(
            tile_distribute.tile_distribute, tile_distribute.TileDistributeOptions,
            "Spread each systolic kernel over a tile grid, one parallel loop dealt to the units"),
        "tessera-conv-to-mmt4d": PassInfo(
            conv_to_mmt4d.conv_to_mmt4d_pass, conv_to_mmt4d.ConvToMmt4dOptions,
            "f32 nchw convolutions of batch 1 as an im2col into mmt4d's packed layout + "
            "linalg.mmt4d (iree-cpu)"),
        "tessera-conv-trim-input": PassInfo(
            conv_trim_input.conv_trim_input, knobs.NoOptions,
            "Slice a convolution's or pooling's input to the rows and columns its windows read"),
        "tessera-integer-division": PassInfo(
            integer_division.integer_division, knobs.NoOptions,
            "Integer floor division computed in floats made exact; division and remainder by "
            "0 (and MIN / -1) given defined results instead of a trap"),
        "tessera-fold-float-truncation": PassInfo(
            fold_float_truncation.fold_float_truncation, knobs.NoOptions,
            "Fold a float constant truncated to a narrower float type (rounded to nearest "
            "even), which MLIR folds only where exact"),
        "tessera-memref-copy-to-linalg": PassInfo(
            memref_copy_to_linalg.memref_copy_to_linalg, knobs.NoOptions,
            "Rewrite memref.copy as linalg.copy (host code then needs no runtime library)"),
        "tessera-outline-linalg": PassInfo(
            outline_linalg.outline_linalg, outline_linalg.OutlineLinalgOptions,
            "Move each linalg op on tensors into a function of its own, called on buffers"),
        "tessera-externalize-constants": PassInfo(
            externalize_constants.externalize_constants_pass,
            externalize_constants.ExternalizeConstantsOptions,
            "Declare large constant LLVM globals external (their data bound at link time)"),
    }


def lookup(name: str) -> PassInfo:
    """The pass called `name`; an unknown name is an error that suggests close names."""
    registry = passes()
    if not isinstance(name, str) or name not in registry:
        raise TesseraError(f"unknown tessera pass '{name}'{suggest(name, registry)}")
    return registry[name]


def name_of(function) -> str:
    """The registered name of pass function `function` (or of the function it wraps,
    through `functools.wraps`' `__wrapped__`)."""
    seen = function
    while seen is not None:
        for name, info in passes().items():
            if info.run is seen:
                return name
        seen = getattr(seen, "__wrapped__", None)
    raise TesseraError(f"{function!r} is not a registered tessera pass; add it by name, "
                       f"or register it in tessera.passes.registry")


def option_fields(options_cls: type) -> dict[str, type]:
    """Option name (as written in a pipeline, dashes) -> Python type."""
    return {name.replace("_", "-"): kind for name, (_, kind) in knobs.fields(options_cls).items()}


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
        name = key.replace("-", "_")
        if name in values:  # as MLIR's own options: at most once each
            raise TesseraError(f"option '{key}' of pass '{pass_name}' is given more than once")
        values[name] = knobs.parse(
            value, fields[key], f"option '{key}' of pass '{pass_name}'")
    return make_options(pass_name, **values)


def make_options(pass_name: str, hw=None, **values):
    """Options of `pass_name` from Python keyword arguments, validated. With `hw` (a
    hardware description), every option the options class shares with it by name is
    taken from it: the pass is configured by the hardware, field for field."""
    info = lookup(pass_name)
    names = {f.name for f in dataclasses.fields(info.options)}
    if hw is not None:
        shared = {f.name: getattr(hw, f.name) for f in dataclasses.fields(hw) if f.name in names}
        values = {**shared, **values}
    for key in values:
        if key not in names:
            raise TesseraError(f"unknown option '{key}' for pass '{pass_name}'"
                               f"{suggest(key, names)}")
    try:
        return info.options(**values)
    except TesseraError as e:
        raise TesseraError(f"{pass_name}: {e}") from None
