"""lit configuration for tessera's FileCheck tests (Dialect/, Transforms/, Targets/, tools/)."""

import os
import shutil
import sys

import lit.formats

config.name = "tessera"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.test_source_root, "Output")
config.excludes = ["python", "hostile", "Inputs", "Output", "lit.cfg.py"]

# Tools come from the environment lit runs in (the project's .venv/bin).
bin_dir = os.path.dirname(sys.executable)
config.environment["PATH"] = os.pathsep.join([bin_dir, config.environment.get("PATH", os.environ["PATH"])])
config.environment["PYTHONWARNINGS"] = "ignore::FutureWarning"
config.substitutions.append(("FileCheck", os.path.join(bin_dir, "filecheck")))
config.substitutions.append(("%python", sys.executable))

from tessera.mlir import TORCH_MLIR_OPT  # noqa: E402

config.substitutions.append(("%torch-mlir-opt", str(TORCH_MLIR_OPT)))

# Hardware and tool gates, by detection: REQUIRES: qemu (RISC-V programs can run).
if shutil.which("qemu-riscv64") and shutil.which("riscv64-linux-gnu-gcc"):
    config.available_features.add("qemu")

# REQUIRES: amx (the CPU has AMX tiles with bf16 and int8: cpu-amx programs can run on
# them); cpu-amx (cpu-amx programs can run here, with AMX or a vector engine);
# cpu-amx-avx512, cpu-amx-avx2 (that vector engine can run here).
from tessera.targets.cpu_amx import available as cpu_amx_available, has_amx  # noqa: E402

if has_amx()[0]:
    config.available_features.add("amx")
for engine in ("auto", "avx512", "avx2"):
    if cpu_amx_available(engine)[0]:
        config.available_features.add("cpu-amx" if engine == "auto" else f"cpu-amx-{engine}")

# REQUIRES: gpu-cuda / gpu-rocm / gpu-vulkan (IREE's runtime finds such a device), and
# gpu when any of them does.
from tessera.targets.gpu import HAL_DEVICE, can_run  # noqa: E402

for _api in HAL_DEVICE:
    if can_run(_api)[0]:
        config.available_features.update({"gpu", f"gpu-{_api}"})
