"""Programs of every signature a model can have run on every target that runs here, and
compute what numpy computes: 0-d inputs, scalar results, no results, complex64, unsigned
8-bit and f64 tensors, and a contraction over K = 0."""

import numpy as np
import pytest

import tessera
from tessera.target import get_target
from tessera.targets import cpu_amx

TARGETS = [t for t in ("iree-cpu", "npu-sim", "riscv") if get_target(t).can_run()[0]]
TARGETS.append(cpu_amx.EMULATED)  # the cpu-amx program, tile ops emulated: runs anywhere

MAP = "affine_map<(d0) -> (d0)>"
PROGRAMS = {
    "rank0-input": ("""
func.func @main(%a: tensor<f32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, MAP, MAP], iterator_types = ["parallel"]} ins(%a, %b : tensor<f32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.mulf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}""", [np.array(3.0, np.float32), np.arange(4, dtype=np.float32)], lambda a, b: a * b),
    "scalar-result": ("""
func.func @main(%a: tensor<4xf32>) -> (f32, tensor<4xf32>) {
  %c = arith.constant 1 : index
  %x = tensor.extract %a[%c] : tensor<4xf32>
  return %x, %a : f32, tensor<4xf32>
}""", [np.arange(4, dtype=np.float32)], lambda a: (np.float32(a[1]), a)),
    "no-result": ("""
func.func @main(%a: tensor<4xf32>) {
  return
}""", [np.ones(4, np.float32)], lambda a: None),
    "complex64": ("""
func.func @main(%a: tensor<4xcomplex<f32>>, %b: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  %e = tensor.empty() : tensor<4xcomplex<f32>>
  %r = linalg.generic {indexing_maps = [MAP, MAP, MAP], iterator_types = ["parallel"]} ins(%a, %b : tensor<4xcomplex<f32>>, tensor<4xcomplex<f32>>) outs(%e : tensor<4xcomplex<f32>>) {
  ^bb0(%x: complex<f32>, %y: complex<f32>, %o: complex<f32>):
    %s = complex.mul %x, %y : complex<f32>
    linalg.yield %s : complex<f32>
  } -> tensor<4xcomplex<f32>>
  return %r : tensor<4xcomplex<f32>>
}""", [np.array([1 + 2j, 3, -1j, 0.5], np.complex64), np.array([2, 1j, 1j, 4], np.complex64)],
        lambda a, b: a * b),
    "uint8": ("""
func.func @main(%a: tensor<4xui8>) -> tensor<4xui8> {
  return %a : tensor<4xui8>
}""", [np.array([0, 7, 200, 255], np.uint8)], lambda a: a),
    "f64-matmul": ("""
func.func @main(%a: tensor<3x5xf64>, %b: tensor<5x2xf64>) -> tensor<3x2xf64> {
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<3x2xf64>
  %c = linalg.fill ins(%zero : f64) outs(%e : tensor<3x2xf64>) -> tensor<3x2xf64>
  %0 = linalg.matmul ins(%a, %b : tensor<3x5xf64>, tensor<5x2xf64>) outs(%c : tensor<3x2xf64>) -> tensor<3x2xf64>
  return %0 : tensor<3x2xf64>
}""", [np.arange(15.0).reshape(3, 5) / 7, np.arange(10.0).reshape(5, 2) / 3],
        lambda a, b: a @ b),
    "k0-matmul": ("""
func.func @main(%a: tensor<4x0xf32>, %b: tensor<0x3xf32>, %c: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x0xf32>, tensor<0x3xf32>) outs(%c : tensor<4x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}""", [np.ones((4, 0), np.float32), np.ones((0, 3), np.float32),
       np.arange(12, dtype=np.float32).reshape(4, 3)], lambda a, b, c: c),
}


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: getattr(t, "name", t))
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_runs_and_matches_numpy(name, target):
    text, inputs, expected = PROGRAMS[name]
    got = tessera.compile(text.replace("MAP", MAP), target=target)(*inputs)
    want = expected(*inputs)
    if want is None:
        assert got is None
        return
    got_all = got if isinstance(got, tuple) else (got,)
    want_all = want if isinstance(want, tuple) else (want,)
    assert len(got_all) == len(want_all)
    for g, w in zip(got_all, want_all):
        w = np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
