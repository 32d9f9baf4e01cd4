"""Named, Python-scripted pass pipelines, one module per target."""
