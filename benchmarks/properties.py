"""The property tests (test/python/test_properties.py) under the "long" hypothesis
profile: many random matmul and conv2d shapes, dtypes and hardware configurations per
target, instead of the handful the default suite draws.

    .venv/bin/python benchmarks/properties.py              # 200 examples per property
    .venv/bin/python benchmarks/properties.py --examples 50 -k npu-sim

Prints hypothesis' statistics (examples run, time) and exits with pytest's status; a
failure prints the smallest failing example hypothesis found.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=200, help="examples per property and target")
    p.add_argument("-k", default=None, help="pytest -k expression (e.g. a target name)")
    args = p.parse_args()
    env = dict(os.environ, TESSERA_HYPOTHESIS_PROFILE="long",
               TESSERA_HYPOTHESIS_EXAMPLES=str(args.examples))
    tests = Path(__file__).resolve().parents[1] / "test" / "python" / "test_properties.py"
    command = [sys.executable, "-m", "pytest", "-q", str(tests), "--hypothesis-show-statistics"]
    if args.k:
        command += ["-k", args.k]
    return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
