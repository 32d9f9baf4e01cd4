"""`tessera-opt`: an `mlir-opt`-style driver with tessera's dialects and passes.

Reads MLIR from a file or stdin, runs a pipeline that mixes tessera and upstream passes
(`--pass-pipeline=` or one flag per pass, in order), and prints the result. Supports
`--split-input-file`, `--verify-diagnostics`, `--mlir-print-ir-after-all`,
`--list-passes` and `--dump-irdl` (the dialects as IRDL for other MLIR tools).
"""

from __future__ import annotations

import dataclasses
import sys

from tessera.errors import Diag, DiagnosticError, diag_from
from tessera.mlir import ir
from tessera.tools.common import ArgumentParser, add_load_argument, load_plugins, tool_main

SPLIT_MARKER = "// -----"

TOOL_FLAGS = {
    "--load", "--pass-pipeline", "--split-input-file", "--verify-diagnostics", "--mlir-print-ir-after-all",
    "--list-passes", "--dump-irdl", "--help", "--output", "--mlir-print-op-generic",
    "--mlir-print-debuginfo", "--allow-unregistered-dialect", "--no-implicit-module",
}


def _parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="tessera-opt",
        description="Run tessera and upstream MLIR passes on an .mlir file.",
        epilog="Pass flags: --<pass-name>[=\"opt=value ...\"], applied in the order given, "
               "e.g. --tessera-linalg-to-systolic=\"rows=8 cols=8\" --canonicalize. "
               "See --list-passes.")
    p.add_argument("input", nargs="?", default="-", help="input .mlir file ('-' for stdin)")
    p.add_argument("-o", "--output", default="-", help="output file ('-' for stdout)")
    p.add_argument("--pass-pipeline", default=None,
                   help="textual pipeline, e.g. 'builtin.module(tessera-linalg-to-systolic,cse)'")
    p.add_argument("--split-input-file", action="store_true",
                   help=f"process chunks separated by '{SPLIT_MARKER}' independently")
    p.add_argument("--verify-diagnostics", action="store_true",
                   help="check diagnostics against expected-* comments in the input")
    p.add_argument("--mlir-print-ir-after-all", action="store_true",
                   help="print the IR after every pass (to stderr)")
    p.add_argument("--mlir-print-op-generic", action="store_true", help="print generic op form")
    p.add_argument("--mlir-print-debuginfo", action="store_true", help="print locations")
    p.add_argument("--allow-unregistered-dialect", action="store_true",
                   help="accept ops of dialects that are not loaded")
    p.add_argument("--list-passes", action="store_true",
                   help="list the passes (tessera's and plugins') and exit")
    add_load_argument(p)
    p.add_argument("--dump-irdl", action="store_true",
                   help="print the IRDL of the systolic and tile dialects and exit (IRDL has "
                        "no traits: other tools reject tile.launch bodies, lacking a terminator)")
    return p


def split_argv(argv: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Separate tool flags from pass flags (`--name` or `--name=options`), keeping order."""
    tool_args, pass_flags = [], []
    for arg in argv:
        name, _, value = arg.partition("=")
        if arg.startswith("--") and name not in TOOL_FLAGS and len(arg) > 2:
            pass_flags.append((name[2:], value))
        else:
            tool_args.append(arg)
    return tool_args, pass_flags


def list_passes() -> str:
    from tessera.knobs import help_lines
    from tessera.passes.registry import passes
    from tessera.plugin import pipelines

    lines = ["tessera passes (use as --<name> or inside --pass-pipeline):"]
    for name, info in passes().items():
        origin = f" [{info.origin}]" if info.origin != "tessera" else ""
        lines.append(f"  {name:32} {info.summary}{origin}")
        for opt, kind, default, doc in help_lines(info.options):
            shown = str(default).lower() if isinstance(default, bool) else default
            lines.append(f"      {opt}={getattr(kind, '__name__', kind)} (default {shown}): {doc}")
    if pipelines():
        lines.append("Pipelines from plugins (their names stand for their passes):")
        for name, pipeline in pipelines().items():
            lines.append(f"  {name:32} {pipeline.summary} [{pipeline.origin}]")
            lines.append(f"      = {pipeline.text}")
    lines.append("Upstream MLIR passes are available by their textual names "
                 "(canonicalize, cse, linalg-generalize-named-ops, ...).")
    return "\n".join(lines)


def read_input(path: str) -> tuple[str, str]:
    """(text, display name) of the input file or stdin; both must be UTF-8."""
    from tessera.files import decode, read_text

    if path == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        data = stdin.read() if stdin is not None else sys.stdin.read().encode()
        return decode(data, "<stdin>"), "<stdin>"
    return read_text(path), path


def chunks(text: str, split: bool) -> list[tuple[str, int]]:
    """(chunk text, first line number) pieces of the input."""
    if not split:
        return [(text, 1)]
    out, current, start = [], [], 1
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if line.strip() == SPLIT_MARKER:
            out.append(("".join(current), start))
            current, start = [], number + 1
        else:
            current.append(line)
    out.append(("".join(current), start))
    return out


@dataclasses.dataclass
class ChunkResult:
    output: str | None  # printed IR, None when the chunk failed
    diags: list[Diag]


def build_pipeline(args, pass_flags, context):
    from tessera.pipeline import Pipeline

    pipeline = Pipeline(context, print_ir_after_all=args.mlir_print_ir_after_all)
    if args.pass_pipeline is not None:
        pipeline.add(args.pass_pipeline)
    for name, options in pass_flags:
        options = options.strip().strip('"').strip("'")
        pipeline.add(f"{name}{{{options}}}" if options else name)
    return pipeline


def process_chunk(text: str, first_line: int, filename: str, args, pass_flags) -> ChunkResult:
    """Parse, verify, transform and print one chunk in a fresh context."""
    from tessera.context import make_context, parse_module, relocate

    diags: list[Diag] = []
    with make_context() as context, ir.Location.unknown():
        context.allow_unregistered_dialects = args.allow_unregistered_dialect

        def collect(d):
            diags.append(diag_from(d))
            return True

        context.attach_diagnostic_handler(collect)
        pipeline = build_pipeline(args, pass_flags, context)
        padded = "\n" * (first_line - 1) + text
        try:
            module = parse_module(padded, filename)
            pipeline.run(module)
        except DiagnosticError as e:
            return ChunkResult(None, relocate(diags + e.diags, filename))
        out = module.operation.get_asm(print_generic_op_form=args.mlir_print_op_generic,
                                       enable_debug_info=args.mlir_print_debuginfo)
        return ChunkResult(out, relocate(diags, filename))


def _print_diags(diags: list[Diag]) -> None:
    for d in diags:
        print(d, file=sys.stderr)


@tool_main
def main(argv: list[str]) -> int:
    from tessera.verify_diagnostics import expectations, verify

    tool_args, pass_flags = split_argv(argv)
    args = _parser().parse_args(tool_args)
    load_plugins(args.load)
    if args.output != "-":
        from tessera.files import writable

        writable(args.output)  # before the work, so nothing is lost after it
    if args.list_passes:
        print(list_passes())
        return 0
    if args.dump_irdl:
        from tessera.dialects import irdl_text

        _write(args.output, irdl_text())
        return 0
    text, filename = read_input(args.input)
    outputs, failed, problems = [], False, []
    for chunk, first_line in chunks(text, args.split_input_file):
        result = process_chunk(chunk, first_line, filename, args, pass_flags)
        if args.verify_diagnostics:
            problems += verify(result.diags, expectations(chunk, first_line), filename)
        else:
            _print_diags(result.diags)
            failed |= result.output is None
        if result.output is not None:
            outputs.append(result.output)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    _write(args.output, f"\n{SPLIT_MARKER}\n".join(outputs))
    return 1 if failed else 0


def _write(path: str, text: str) -> None:
    from tessera.files import write_text

    if path == "-":
        sys.stdout.write(text)
    else:
        write_text(path, text)

