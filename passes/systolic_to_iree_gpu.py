"""Pass `tessera-systolic-to-iree-gpu`: hand each `systolic.matmul` to IREE's GPU codegen
as linalg plus the tile decisions tessera made for it.

On a GPU a workgroup is a `tile` unit and the MMA intrinsic (tensor core, matrix core,
cooperative matrix) is the `systolic` engine whose rows x cols is the `#systolic.array`
of the op. For every `systolic.matmul` the pass picks the intrinsic of the chip that
matches the op's element types and array shape, shrinks the preset's workgroup tile until
it divides the problem, splits it over subgroups, and records the result on the linalg op
that `tessera-systolic-to-linalg` makes of the matmul (this pass calls that rewrite; the
matmul becomes `linalg.matmul`/`batch_matmul` plus its epilogue). A matmul no intrinsic
fits (f32 on NVIDIA, a dimension smaller than the intrinsic) gets a SIMT tiling instead;
on Vulkan, one whose N or K is not a multiple of 4 is left to IREE's own choice.

How the decision reaches IREE: IREE's attributes (`#iree_codegen.compilation_info`,
`#iree_gpu.lowering_config`) live in IREE's own MLIR, which tessera's bindings cannot
build. So the pass writes the decision as tessera's own verified attribute,
`tile.gpu = #tile.gpu_tiles<"TileAndFuse", "NV_MMA_...", [128, 128, 0], ...>`;
`iree_module` turns each one into IREE's `compilation_info` (written in IREE's syntax
and held as an opaque attribute of a dialect tessera does not load) on a copy of the
module, whose text `iree-compile` reads and follows instead of its own heuristics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tessera.errors import TesseraError
from tessera.hardware import GPU_DEFAULT_PRESET, GPU_PRESETS, GpuConfig, gpu_preset, spec_text
from tessera.knobs import Options, knob
from tessera.mlir import ir

from tessera.dialects.common import element, element_combo, shape_of
from tessera.dialects.tile import GPU_TILES, GpuTiles
from tessera.dialects.systolic import MatmulOp, array_params, transpose_flags
from tessera.passes.common import rewrite_each
from tessera.passes.systolic_to_linalg import matmul_to_linalg


# An IREE MMA intrinsic name carries its shape and types: NV_MMA_SYNC_F32_16x8x16_BF16.
_INTRINSIC = re.compile(r"^[A-Z_]+?_(F32|F16|I32)_(\d+)x(\d+)x(\d+)_([A-Z0-9]+)$")

# Largest SIMT workgroup tile (M, N, K): IREE's own default for a mid-size f32 matmul on
# these chips is of this order; threads take 4-wide strips of N.
SIMT_TILE = (32, 128, 32)
SIMT_VECTOR = 4
MAX_SIMT_THREADS = 256

# Element types each api can compute in a matmul (operand, accumulator).
SUPPORTED = {
    "cuda": (("bf16", "f32"), ("f16", "f32"), ("f32", "f32"), ("i8", "i32")),
    "rocm": (("bf16", "f32"), ("f16", "f32"), ("f32", "f32"), ("i8", "i32")),
    # IREE's SPIR-V backend cannot lower bf16 (no SPIR-V type for it).
    "vulkan": (("f16", "f32"), ("f32", "f32"), ("i8", "i32")),
}


@dataclass(frozen=True)
class SystolicToIreeGpuOptions(Options):
    """`gpu` is the whole GpuConfig as a preset spec: a preset name from
    tessera.hardware.GPU_PRESETS, optionally with overrides of its fields, e.g.
    `h100,tile_m=64,pipeline_depth=4` (`hardware.spec_text` writes one for a config)."""

    gpu: str = knob("a100", "the GPU: a preset, optionally with field=value overrides")

    def __post_init__(self):
        super().__post_init__()
        self.config()  # fail on a bad spec before the pass runs

    def config(self) -> GpuConfig:
        """The GpuConfig these options describe."""
        return gpu_preset(self.gpu)


def options_for(config: GpuConfig) -> dict:
    """Pass options reproducing `config`."""
    return {"gpu": spec_text(config, GPU_PRESETS, GPU_DEFAULT_PRESET[config.api])}


def intrinsic_shape(name: str) -> tuple[int, int, int, str, str]:
    """(m, n, k, operand type, accumulator type) of an IREE MMA intrinsic name."""
    m = _INTRINSIC.match(name)
    if m is None:
        raise TesseraError(f"'{name}' is not an MMA intrinsic name tessera can read "
                           f"(like NV_MMA_SYNC_F32_16x8x16_BF16)")
    acc, mm, nn, kk, operand = m.groups()
    return int(mm), int(nn), int(kk), operand.lower(), acc.lower()


def _largest_tile(size: int, limit: int, step: int) -> int:
    """The largest multiple of `step` that is at most `limit` and divides `size` (0: none)."""
    for t in range(limit - limit % step, 0, -step):
        if size % t == 0:
            return t
    return 0


def _largest_split(tile: int, limit: int, unit: int) -> int:
    """The most subgroups, at most `limit`, that split `tile` into whole `unit` blocks."""
    return next(s for s in range(limit, 0, -1) if tile % (s * unit) == 0)


def _pow2_divisor(size: int, limit: int) -> int:
    t = 1
    while t * 2 <= limit and size % (t * 2) == 0:
        t *= 2
    return t


def choose_mma(config: GpuConfig, rows: int, cols: int, operand: str, acc: str,
               m: int, n: int, k: int) -> dict | None:
    """Tiles for one matmul on the intrinsic matching its types and the array, or None."""
    for name in config.mma:
        mm, mn, mk, i_operand, i_acc = intrinsic_shape(name)
        if (i_operand, i_acc) != (operand, acc) or (mm, mn) != (rows, cols):
            continue
        tile_m = _largest_tile(m, config.tile_m, mm)
        tile_n = _largest_tile(n, config.tile_n, mn)
        tile_k = _largest_tile(k, config.tile_k, mk)
        if not (tile_m and tile_n and tile_k):
            return None  # a dimension is not a multiple of the intrinsic: SIMT
        split_m = _largest_split(tile_m, config.subgroups_m, mm)
        split_n = _largest_split(tile_n, config.subgroups_n, mn)
        return {"mma": name, "intrinsic": (mm, mn, mk), "tile": (tile_m, tile_n, tile_k),
                "split": (split_m, split_n)}
    return None


def decide(config: GpuConfig, op) -> dict | None:
    """tessera's decision for one systolic.matmul, as the fields of its GpuTiles (None:
    leave this one to IREE)."""
    rows, cols, _ = array_params(op.array)
    combo = element_combo(element(op.lhs.type), element(op.acc.type))
    if combo not in SUPPORTED[config.api]:
        a, c = element(op.lhs.type), element(op.acc.type)
        raise TesseraError(
            f"{a}·{a}→{c} matmuls are not supported on {config.api} "
            f"(supported: {', '.join(f'{a}·{a}→{c}' for a, c in SUPPORTED[config.api])})")
    operand, acc = combo
    shape = shape_of(op.acc.type)
    batch = len(shape) == 3
    m, n = shape[-2:]
    lhs_shape = shape_of(op.lhs.type)
    k = lhs_shape[-2] if transpose_flags(op.transpose)[0] else lhs_shape[-1]
    if 0 in (m, n, k):
        return None  # nothing to tile: IREE's own choice
    pick = choose_mma(config, rows, cols, operand, acc, m, n, k)
    if config.api == "vulkan":
        return _vulkan(config, pick, batch, m, n, k)
    return _tile_and_fuse(config, pick, batch, m, n, k)


def _with_batch(values, batch_value, batch):
    return ([batch_value] if batch else []) + list(values)


def _tile_and_fuse(config: GpuConfig, pick, batch, m, n, k) -> dict:
    """IREE's LLVMGPU TileAndFuse pipeline (CUDA, ROCm)."""
    if pick is not None:
        (mm, mn, mk), (tm, tn, tk), (sm, sn) = pick["intrinsic"], pick["tile"], pick["split"]
        return {"pipeline": "TileAndFuse", "mma": pick["mma"],
                "workgroup": _with_batch([tm, tn, 0], 1, batch),
                # per-subgroup tile and K step, counted in intrinsics
                "subgroup": _with_batch([tm // (sm * mm), tn // (sn * mn), 0], 0, batch),
                "reduction": _with_batch([0, 0, tk // mk], 0, batch),
                "workgroup_size": [sm * sn * config.subgroup_size, 1, 1],
                "subgroup_size": config.subgroup_size, "pipeline_depth": config.pipeline_depth}
    tm = _pow2_divisor(m, min(SIMT_TILE[0], config.tile_m))
    tn = _pow2_divisor(n, min(SIMT_TILE[1], config.tile_n))
    tk = _pow2_divisor(k, min(SIMT_TILE[2], config.tile_k))
    vn = min(SIMT_VECTOR, tn)
    vm = 1
    while (tm // vm) * (tn // vn) > MAX_SIMT_THREADS:
        vm *= 2
    threads = (tm // vm) * (tn // vn)
    return {"pipeline": "TileAndFuse", "mma": "",
            "workgroup": _with_batch([tm, tn, 0], 1, batch),
            "thread": _with_batch([vm, vn, 0], 1, batch),
            "reduction": _with_batch([0, 0, tk], 0, batch),
            "workgroup_size": [threads, 1, 1], "subgroup_size": config.subgroup_size,
            "pipeline_depth": config.pipeline_depth}


def _vulkan(config: GpuConfig, pick, batch, m, n, k) -> dict | None:
    """IREE's SPIR-V pipelines: cooperative matrix, or promoted SIMT vectorization; None
    (IREE's own choice) when N or K is not a multiple of the 4-wide vectors it needs."""
    if pick is not None:
        (mm, mn, mk), (tm, tn, tk), (sm, sn) = pick["intrinsic"], pick["tile"], pick["split"]
        return {"pipeline": "CooperativeMatrixVectorize", "mma": pick["mma"],
                "workgroup": _with_batch([tm, tn], 1, batch),
                "subgroup": _with_batch([tm // sm, tn // sn], 1, batch),
                "reduction": _with_batch([0, 0, tk], 0, batch),
                "intrinsic": _with_batch([mm, mn, mk], 0, batch),
                "workgroup_size": [sn * config.subgroup_size, sm, 1],
                "subgroup_size": config.subgroup_size, "pipeline_depth": config.pipeline_depth}
    if n % SIMT_VECTOR or k % SIMT_VECTOR:
        return None
    tm = _pow2_divisor(m, min(SIMT_TILE[0], config.tile_m))
    tn = _pow2_divisor(n, min(SIMT_TILE[1], config.tile_n))
    tk = _pow2_divisor(k, min(SIMT_TILE[2], config.tile_k))
    vn = SIMT_VECTOR
    vm = min(SIMT_VECTOR, tm)
    return {"pipeline": "MatmulPromoteVectorize", "mma": "",
            "workgroup": _with_batch([tm, tn, tk], 1, batch),
            "workgroup_size": [tn // vn, tm // vm, 1], "subgroup_size": config.subgroup_size,
            "pipeline_depth": config.pipeline_depth}


def gpu_tiles(decision: dict) -> GpuTiles:
    """The typed tiles of a decision (lists become tuples)."""
    return GpuTiles(**{k: tuple(v) if isinstance(v, list) else v for k, v in decision.items()})


class _Recorder:
    """A rewriter stand-in that remembers what `matmul_to_linalg` replaced the op with."""

    def __init__(self, rewriter):
        self.rewriter = rewriter
        self.ip = rewriter.ip
        self.values = None

    def replace_op(self, op, values):
        self.values = values
        self.rewriter.replace_op(op, values)


def annotate_linalg(op, rewriter, tiles: GpuTiles | None):
    """systolic.matmul -> linalg (via tessera-systolic-to-linalg), the contraction
    carrying `tiles` as `tile.gpu` (nothing when None)."""
    has_epilogue = op.bias is not None or len(ir.DictAttr(op.epilogue)) > 0
    recorder = _Recorder(rewriter)
    matmul_to_linalg(op, recorder)
    if tiles is None:
        return
    result = recorder.values[0]
    # With an epilogue the value is the elementwise generic's; the matmul feeds it.
    contraction = result.owner.operands[0].owner if has_epilogue else result.owner
    # The bindings' rewriter has no in-place modification hook; the op is this pattern's own.
    contraction.attributes[GPU_TILES] = tiles.attr()


def systolic_to_iree_gpu(op, pass_, options: SystolicToIreeGpuOptions) -> None:
    """Pass body: rewrite and annotate every systolic.matmul; an unsupported one is a
    located error."""
    config = options.config()

    def rewrite_matmul(matmul, rewriter):
        decision = decide(config, matmul)
        annotate_linalg(matmul, rewriter, gpu_tiles(decision) if decision else None)

    rewrite_each(op, pass_, MatmulOp, rewrite_matmul, "tessera-systolic-to-iree-gpu")


# --- into IREE's syntax ------------------------------------------------------------------

def _list(values) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def compilation_info_text(tiles: GpuTiles) -> str:
    """`#iree_codegen.compilation_info<...>` for one `#tile.gpu_tiles<...>`, in IREE's
    syntax (hand-written: tessera's bindings have no builders for IREE's attributes)."""
    size, depth = _list(tiles.workgroup_size), tiles.pipeline_depth
    if tiles.pipeline == "TileAndFuse":
        fields = [f"workgroup = {_list(tiles.workgroup)}",
                  f"reduction = {_list(tiles.reduction)}"]
        if tiles.mma:
            fields += [f"mma_kind = #iree_gpu.mma_layout<{tiles.mma}>",
                       "promote_operands = [0, 1]", f"subgroup = {_list(tiles.subgroup)}"]
        else:
            fields += [f"thread = {_list(tiles.thread)}"]
        lowering = f"#iree_gpu.lowering_config<{{{', '.join(fields)}}}>"
        options = (f"gpu_pipeline_options = #iree_gpu.pipeline_options<"
                   f"prefetch_num_stages = {depth}>")
        translation = (f"#iree_codegen.translation_info<pipeline = #iree_gpu.pipeline<TileAndFuse> "
                       f"workgroup_size = {size} subgroup_size = {tiles.subgroup_size}, "
                       f"{{{options}}}>")
    elif tiles.pipeline == "CooperativeMatrixVectorize":
        levels = [tiles.workgroup, tiles.subgroup, tiles.reduction, tiles.intrinsic]
        lowering = f"#iree_codegen.lowering_config<tile_sizes = {_list(_list(l) for l in levels)}>"
        translation = (f"#iree_codegen.translation_info<pipeline = "
                       f"#iree_gpu.spirv_pipeline<CooperativeMatrixVectorize> workgroup_size = "
                       f"{size} subgroup_size = {tiles.subgroup_size}, "
                       f"{{pipeline_depth = {depth} : i64, store_stage = 0 : i64}}>")
    else:  # MatmulPromoteVectorize (GpuTiles.of admits no other pipeline)
        lowering = f"#iree_codegen.lowering_config<tile_sizes = [{_list(tiles.workgroup)}]>"
        translation = (f"#iree_codegen.translation_info<pipeline = "
                       f"#iree_gpu.spirv_pipeline<MatmulPromoteVectorize> workgroup_size = "
                       f"{size}, {{pipeline_depth = {depth} : i64, store_stage = 1 : i64}}>")
    return (f"#iree_codegen.compilation_info<lowering_config = {lowering}, "
            f"translation_info = {translation}>")


def _foreign(context: ir.Context, text: str) -> ir.Attribute:
    """An attribute of a dialect tessera does not load (IREE's), held opaquely."""
    allowed = context.allow_unregistered_dialects
    context.allow_unregistered_dialects = True
    try:
        return ir.Attribute.parse(text, context)
    finally:
        context.allow_unregistered_dialects = allowed


def iree_module(module: ir.Module, module_attributes: dict[str, str] | None = None):
    """(text for iree-compile, compilation infos in order): a copy of `module` whose
    `tile.gpu` tiles became IREE's `compilation_info`, with `module_attributes` (IREE
    syntax) set on the module."""
    from tessera.host import copy_module

    copy = copy_module(module)
    context, annotated = copy.context, []

    def visit(op):
        if GPU_TILES in op.attributes:
            annotated.append(op)
        return ir.WalkResult.ADVANCE

    copy.operation.walk(visit)
    infos = []
    for op in annotated:
        info = compilation_info_text(GpuTiles.of(op))
        del op.attributes[GPU_TILES]
        op.attributes["compilation_info"] = _foreign(context, info)
        infos.append(info)
    for name, text in (module_attributes or {}).items():
        copy.operation.attributes[name] = _foreign(context, text)
    return copy.operation.get_asm(), infos
