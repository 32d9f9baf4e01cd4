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


_COMPUTE, _MOVE_IN, _MOVE_OUT, _COMPUTE_SAME = range(4)


class Runner:
    """A loaded kernel made ready to run many times: its local buffers (scratchpad,
    accumulator) allocated once and cleared on each call, and every instruction that
    changes data turned into a tuple whose views of local buffers are made once (preloads
    and fences change no data and are left out). Views of the arguments are made per
    call, as the arguments change."""

    def __init__(self, program: Program):
        self.program = program
        self.steps: list | None = None  # made on the first call
        self.local: list = []

    def _prepare(self) -> None:
        p = self.program
        arguments = set(p.arguments)
        self.local = [None if i in arguments else np.zeros(b.shape, b.dtype)
                      for i, b in enumerate(p.buffers)]

        def bind(view):  # (the view, made once) or (None, buffer, index)
            if view is None:
                return None
            array = self.local[view.buffer]
            return (array[view.index],) if array is not None else (None, view.buffer,
                                                                    view.index)
        self.steps = []
        scratch: dict = {}  # one product buffer per shape and type, shared by the steps
        for instr in p.instrs:
            kind = type(instr)
            if kind is Compute:
                lhs, rhs, out = (p.buffers[v.buffer].dtype for v in (instr.lhs, instr.rhs,
                                                                    instr.out))
                acc = _accumulator_dtype(lhs)
                matrices = len(instr.lhs.shape) == len(instr.rhs.shape) == 2
                shape = (instr.lhs.shape[0], instr.rhs.shape[1]) if matrices else None
                if matrices and lhs == rhs == out == acc and tuple(instr.out.shape) == shape:
                    # f32 matrices: no casts, the product into a scratch buffer
                    product = scratch.setdefault((shape, acc), np.empty(shape, acc))
                    self.steps.append((_COMPUTE_SAME, bind(instr.lhs), bind(instr.rhs),
                                       bind(instr.out), product, instr.accumulate))
                else:
                    self.steps.append((_COMPUTE, bind(instr.lhs), bind(instr.rhs),
                                       bind(instr.out), acc, instr.accumulate))
            elif kind is MoveIn:
                self.steps.append((_MOVE_IN, bind(instr.src), bind(instr.dst)))
            elif kind is MoveOut:
                self.steps.append((_MOVE_OUT, bind(instr.src), bind(instr.dst),
                                   bind(instr.bias), instr.relu, instr.scale))
            elif kind not in (Preload, Fence):
                raise TypeError(f"not an instruction: {instr!r}")

    def __call__(self, arguments: list[np.ndarray]) -> None:
        """Execute the kernel on its argument arrays (written in place)."""
        if self.steps is None:
            self._prepare()
        for array in self.local:
            if array is not None:
                array.fill(0)
        memory = list(self.local)
        for index, array in zip(self.program.arguments, arguments):
            memory[index] = array

        def at(bound):
            return bound[0] if bound[0] is not None else memory[bound[1]][bound[2]]

        for step in self.steps:
            kind = step[0]
            if kind == _COMPUTE_SAME:  # most steps: written out, without calls to `at`
                _, lhs, rhs, out, product, accumulate = step
                lhs = lhs[0] if lhs[0] is not None else memory[lhs[1]][lhs[2]]
                rhs = rhs[0] if rhs[0] is not None else memory[rhs[1]][rhs[2]]
                out = out[0] if out[0] is not None else memory[out[1]][out[2]]
                np.matmul(lhs, rhs, out=product)
                if accumulate:
                    out += product
                else:
                    out[...] = product
            elif kind == _COMPUTE:
                _, lhs, rhs, out, acc, accumulate = step
                lhs, rhs, out = at(lhs), at(rhs), at(out)
                # astype(copy=False): f32 operands are used as they are, not copied first.
                product = np.matmul(lhs.astype(acc, copy=False), rhs.astype(acc, copy=False))
                if accumulate:
                    out += product.astype(out.dtype, copy=False)
                else:
                    out[...] = product
            elif kind == _MOVE_IN:
                src, dst = at(step[1]), at(step[2])
                if src.shape == dst.shape:
                    dst[...] = src
                else:  # an edge block: the rest is zero padding
                    dst[...] = 0
                    dst[tuple(slice(0, s) for s in src.shape)] = src
            else:
                _, src, dst, bias, relu, scale = step
                src, dst = at(src), at(dst)
                value = src[tuple(slice(0, s) for s in dst.shape)]
                if bias is not None:
                    value = value + at(bias)
                if relu:
                    value = np.maximum(value, value.dtype.type(0))
                if scale is not None:
                    scaled = value.astype(np.float32) * np.float32(scale)
                    value = np.clip(np.rint(scaled), -128, 127)
                dst[...] = value.astype(dst.dtype)


def run(program: Program, arguments: list[np.ndarray]) -> None:
    """Execute `program` on the kernel's argument arrays (written in place)."""
    Runner(program)(arguments)
