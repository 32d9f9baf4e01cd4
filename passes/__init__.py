"""tessera's passes, one per module; `tessera.passes.registry` lists them by name."""
