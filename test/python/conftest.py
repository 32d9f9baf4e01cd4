"""Shared pytest setup: the built-in example models are importable as `models`."""

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
warnings.filterwarnings("ignore", category=FutureWarning)
