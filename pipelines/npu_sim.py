"""The tessera pipeline for the npu-sim target: turn convolutions into im2col + matmul,
map matmuls onto the array with their bias and ReLU fused, cut them to the array's
memories (one ISA-level kernel per matmul), spread kernels over the unit grid when there
is more than one unit, and clean up. Every pass that configures hardware takes its
options from the NpuConfig (`hw=`), field for field."""

from collections.abc import Sequence

from tessera.hardware import NpuConfig
from tessera.mlir import ir
from tessera.pipeline import Pipeline


def front(context: ir.Context) -> Pipeline:
    """The hardware-independent start of `pipeline`: convolutions -> im2col + matmul
    (`tessera-linalg-to-systolic` writes the array into the IR, so it belongs to the
    hardware-dependent rest). Running `pipeline` after it does its work once: a module
    without convolutions passes through unchanged."""
    pm = Pipeline(context)
    pm.add("tessera-conv-to-matmul")
    return pm


def pipeline(context: ir.Context, hw: NpuConfig, mapping: Sequence[str] = (),
             strategy: str | None = None) -> Pipeline:
    """conv -> matmul; linalg -> systolic.matmul -> kernels of systolic ISA ops (+ grid).
    `mapping` (pipeline text, e.g. a plugin's pass) runs on the `systolic.matmul`s once
    they are mapped to the array and their epilogues fused, before
    `tessera-systolic-map{strategy=...}` (by default `hw.mapper`) maps those it left
    without a mapping and they are tiled."""
    pm = front(context)
    pm.add("tessera-linalg-to-systolic", hw=hw)
    pm.add("tessera-systolic-fuse-epilogue")
    for stage in mapping:
        pm.add(stage)
    pm.add("tessera-systolic-map", hw=hw, strategy=strategy or hw.mapper)
    pm.add("tessera-systolic-tile", hw=hw)
    if hw.units > 1:
        pm.add("tessera-tile-distribute", hw=hw)
    pm.add("canonicalize,cse")
    return pm
