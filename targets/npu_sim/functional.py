"""The functional half of the simulator: run a loaded kernel's instructions on numpy.

Arithmetic follows the array: i8·i8 products are summed in i32 (exactly), bf16 and f16
operands are widened to f32 and summed in f32, f32 in f32. Move-in pads with zeros, and
move-out applies the epilogue: + bias, relu, then requantize to i8 (round half to even,
saturate), as `systolic.matmul` defines it.
"""

from __future__ import annotations

import numpy as np

from tessera.targets.npu_sim.program import Compute, Fence, MoveIn, MoveOut, Preload, Program


def _accumulator_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.int32) if dtype.kind in "iu" else np.dtype(np.float32)


def run(program: Program, arguments: list[np.ndarray]) -> None:
    """Execute `program` on the kernel's argument arrays (written in place)."""
    memory = [None] * len(program.buffers)
    for index, array in zip(program.arguments, arguments):
        memory[index] = array
    for index, b in enumerate(program.buffers):
        if memory[index] is None:
            memory[index] = np.zeros(b.shape, b.dtype)
    for instr in program.instrs:
        kind = type(instr)
        if kind is Compute:
            lhs = memory[instr.lhs.buffer][instr.lhs.index]
            rhs = memory[instr.rhs.buffer][instr.rhs.index]
            out = memory[instr.out.buffer][instr.out.index]
            acc = _accumulator_dtype(lhs.dtype)
            # astype(copy=False): f32 operands are used as they are, not copied first.
            product = np.matmul(lhs.astype(acc, copy=False), rhs.astype(acc, copy=False))
            if instr.accumulate:
                out += product.astype(out.dtype, copy=False)
            else:
                out[...] = product
        elif kind is MoveIn:
            src = memory[instr.src.buffer][instr.src.index]
            dst = memory[instr.dst.buffer][instr.dst.index]
            if src.shape == dst.shape:
                dst[...] = src
            else:  # an edge block: the rest is zero padding
                dst[...] = 0
                dst[tuple(slice(0, s) for s in src.shape)] = src
        elif kind is MoveOut:
            dst = memory[instr.dst.buffer][instr.dst.index]
            src = memory[instr.src.buffer][instr.src.index]
            value = src[tuple(slice(0, s) for s in dst.shape)]
            if instr.bias is not None:
                value = value + memory[instr.bias.buffer][instr.bias.index]
            if instr.relu:
                value = np.maximum(value, value.dtype.type(0))
            if instr.scale is not None:
                scaled = value.astype(np.float32) * np.float32(instr.scale)
                value = np.clip(np.rint(scaled), -128, 127)
            dst[...] = value.astype(dst.dtype)
        elif kind in (Preload, Fence):
            pass  # no data changes: the stationary block is read again by the compute
