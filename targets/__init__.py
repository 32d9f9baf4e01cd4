"""tessera's targets, one module (or package) each. Every target implements the
contract of `tessera.target.Target`; the registry there finds them by name."""

from tessera.target import TARGETS, all_targets, get_target

__all__ = ["TARGETS", "all_targets", "get_target"]
