"""Pass `tessera-memref-copy-to-linalg`: rewrite `memref.copy` as `linalg.copy`.

The LLVM lowering turns a copy between non-contiguous memrefs into a call of the
`memrefCopy` runtime function, which the MLIR wheel tessera uses does not ship. As a
linalg op the copy becomes plain loops instead (`convert-linalg-to-loops`), so host code
needs no runtime library.
"""

from tessera.mlir import linalg, memref, rewrite


def copy_to_linalg(op, rewriter):
    """memref.copy %src, %dst -> linalg.copy ins(%src) outs(%dst)."""
    with rewriter.ip, op.location:
        linalg.copy(op.source, outs=[op.target])
    rewriter.erase_op(op)


def memref_copy_to_linalg(op, pass_, options) -> None:
    """Pass body: rewrite every memref.copy."""
    patterns = rewrite.RewritePatternSet()
    patterns.add(memref.CopyOp, copy_to_linalg)
    rewrite.walk_and_apply_patterns(op, patterns.freeze())
