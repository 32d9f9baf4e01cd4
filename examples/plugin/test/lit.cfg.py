"""lit configuration of the example plugin's tests: tessera's tools from the environment
lit runs in, `%plugin` the plugin file (so the tests need no installation)."""

import os
import sys

import lit.formats

config.name = "tessera-example-plugin"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.test_source_root, "Output")
config.excludes = ["Inputs", "Output", "lit.cfg.py"]

bin_dir = os.path.dirname(sys.executable)
config.environment["PATH"] = os.pathsep.join([bin_dir, config.environment.get("PATH", os.environ["PATH"])])
config.substitutions.append(("FileCheck", os.path.join(bin_dir, "filecheck")))
config.substitutions.append(
    ("%plugin", os.path.join(os.path.dirname(config.test_source_root), "tessera_example_plugin.py")))
