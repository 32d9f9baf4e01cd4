"""The hostile-input corpus: user mistakes (and a few valid controls) for every tool and
the Python API.

The rule under test: bad input never crashes the process. A tool answers a user mistake
with an `error: ...` line on stderr (located when it is about IR) and a non-zero exit,
without a Python traceback, a signal or a hang; through the Python API only a
`tessera.TesseraError` escapes. Each `Case` says what to run (`tool` and `argv`, or an
API `setup` and `call`), the files to create in its temporary directory (its cwd), the
stdin bytes, and what is expected:

- FAIL: invalid input, must fail cleanly (non-zero exit and an `error:` line; for the API
  a TesseraError);
- OK: valid input, must succeed (exit 0; for the API nothing raised) — the controls that
  show the harness runs the tools for real;
- ANY: unusual input that tessera may support or reject, but only cleanly.

`build(passes)` returns the corpus; `passes` is what `tessera-opt --list-passes` prints,
parsed by `parse_list_passes` (pass name -> {option: type name}), so that the option cases
follow the passes and options the code has today. Some inputs are derived at run time:
`derive` runs a tool on a valid input and edits its output with one of `EDITS` (so a
kernel's metadata can be damaged whatever its attribute spelling). Paths: argv runs in the
case's directory; `@REPO@` is the repository root.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

FAIL, OK, ANY = "fail", "ok", "any"
# Seconds a case may take before it counts as a hang (compiles of small programs take a
# second or two here; cases that import torch or run every target set more).
DEFAULT_TIMEOUT = {"tessera-opt": 10.0, "tessera": 10.0, "tessera-compile": 30.0,
                   "tessera-sim": 30.0, "tessera-check": 30.0, "api": 30.0}
TORCH_TIMEOUT = 60.0


@dataclass
class Case:
    name: str
    group: str
    tool: str  # tessera-opt, tessera-compile, tessera-sim, tessera-check, tessera, or api
    argv: list = field(default_factory=list)
    stdin: bytes = b""
    files: dict = field(default_factory=dict)  # relative path -> str | bytes | None (a dir)
    expect: str = FAIL
    timeout: float = 0.0  # seconds; 0: the tool's default (DEFAULT_TIMEOUT)
    setup: str = ""  # api: statements run first (anything they raise is a setup error)
    call: str = ""  # api: the statement under test
    derive: dict | None = None  # {tool, argv, edit, args, file}

    def __post_init__(self):
        if not self.timeout:
            self.timeout = DEFAULT_TIMEOUT[self.tool]

    def to_json(self) -> dict:
        def enc(data):
            if data is None:
                return None
            return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()

        return {"name": self.name, "group": self.group, "tool": self.tool,
                "argv": list(self.argv), "stdin": enc(self.stdin),
                "files": {k: enc(v) for k, v in self.files.items()}, "expect": self.expect,
                "timeout": self.timeout, "setup": self.setup, "call": self.call,
                "derive": self.derive}

    def command(self) -> str:
        """How to reproduce the case from a shell or Python (for failure reports)."""
        where = f" (files: {', '.join(sorted(self.files))})" if self.files else ""
        derived = (f" (input {self.derive['file']} = {self.derive['tool']} "
                   f"{' '.join(self.derive['argv'])} | edit {self.derive['edit']}"
                   f"{tuple(self.derive.get('args', ()))})") if self.derive else ""
        if self.tool == "api":
            setup = re.sub(r"'[^']{60,}'", lambda m: f"'<{len(m.group(0)) - 2} chars>'",
                           self.setup.strip())
            text = f"python: {setup}; {self.call.strip()}".replace("\n", "; ")
            return f"{text}{where}{derived}"[:700]
        shown = " ".join(_quote(a) for a in self.argv)
        stdin = f" < {len(self.stdin)} bytes of stdin" if self.stdin else ""
        return f"{self.tool} {shown}{stdin}{where}{derived}"[:700]


def _quote(arg: str) -> str:
    if len(arg) > 120:
        arg = f"{arg[:60]}...<{len(arg)} chars>...{arg[-30:]}"
    return arg if re.fullmatch(r"[\w@%+=:,./-]+", arg) else repr(arg)


# --- valid inputs --------------------------------------------------------------------

MATMUL = """\
func.func @main(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>) -> tensor<4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x4xf32>) outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}
"""


def matmul(m: int, n: int, k: int, elem: str = "f32", acc: str | None = None) -> str:
    """C = A @ B with a zero-filled accumulator, as the entry `main`."""
    acc = acc or elem
    zero = "0.0" if acc.startswith(("f", "bf")) else "0"
    a, b, c = f"tensor<{m}x{k}x{elem}>", f"tensor<{k}x{n}x{elem}>", f"tensor<{m}x{n}x{acc}>"
    return (f"func.func @main(%a: {a}, %b: {b}) -> {c} {{\n"
            f"  %zero = arith.constant {zero} : {acc}\n"
            f"  %e = tensor.empty() : {c}\n"
            f"  %c = linalg.fill ins(%zero : {acc}) outs(%e : {c}) -> {c}\n"
            f"  %0 = linalg.matmul ins(%a, %b : {a}, {b}) outs(%c : {c}) -> {c}\n"
            f"  return %0 : {c}\n}}\n")


# The generic form the brief names; the attributes other than operandSegmentSizes are
# what tessera-linalg-to-systolic printed when this corpus was written (the derived
# cases below follow whatever it prints today).
SYSTOLIC_BAD_SEGMENTS = """\
func.func @main(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>, %c: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = "systolic.matmul"(%a, %b, %c) {array = #systolic.array<4 : i64, 4 : i64, "ws">, transpose = [false, false], epilogue = {}, operandSegmentSizes = array<i32: 1, 1, 1, 5>} : (tensor<4x8xf32>, tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}
"""

CONV_3X3_ON_2X2 = """\
func.func @main(%x: tensor<1x1x2x2xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<{out}xf32> {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{out}xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<{out}xf32>) -> tensor<{out}xf32>
  %0 = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}} ins(%x, %w : tensor<1x1x2x2xf32>, tensor<1x1x3x3xf32>) outs(%c : tensor<{out}xf32>) -> tensor<{out}xf32>
  return %0 : tensor<{out}xf32>
}}
"""

ELEMENTWISE_ADD = """\
func.func @main(%a: tensor<{t}>, %b: tensor<{t}>) -> tensor<{t}> {{
  %e = tensor.empty() : tensor<{t}>
  %0 = linalg.add ins(%a, %b : tensor<{t}>, tensor<{t}>) outs(%e : tensor<{t}>) -> tensor<{t}>
  return %0 : tensor<{t}>
}}
"""

# Programs that are unusual for tessera's targets: each may be supported or rejected,
# but only with an `error:` line. name -> MLIR.
ODD_PROGRAMS = {
    "f64-matmul": matmul(2, 4, 3, "f64"),
    "rank0-inputs": """\
#id = affine_map<() -> ()>
func.func @main(%a: tensor<f32>, %b: tensor<f32>) -> tensor<f32> {
  %e = tensor.empty() : tensor<f32>
  %0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = []} ins(%a, %b : tensor<f32>, tensor<f32>) outs(%e : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %0 : tensor<f32>
}
""",
    "returns-f32": """\
func.func @main(%a: tensor<4xf32>) -> f32 {
  %c1 = arith.constant 1 : index
  %v = tensor.extract %a[%c1] : tensor<4xf32>
  return %v : f32
}
""",
    "returns-i64": """\
func.func @main(%a: tensor<4xi64>) -> i64 {
  %c1 = arith.constant 1 : index
  %v = tensor.extract %a[%c1] : tensor<4xi64>
  return %v : i64
}
""",
    "scalar-argument": """\
func.func @main(%x: f32) -> tensor<4xf32> {
  %0 = tensor.splat %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
""",
    "returns-nothing": """\
func.func @main(%a: tensor<4xf32>) {
  return
}
""",
    "complex64": ELEMENTWISE_ADD.format(t="4xcomplex<f32>"),
    "ui8-identity": """\
func.func @main(%a: tensor<4x4xui8>) -> tensor<4x4xui8> {
  return %a : tensor<4x4xui8>
}
""",
    "ui8-matmul": """\
func.func @main(%a: tensor<2x3xui8>, %b: tensor<3x4xui8>, %c: tensor<2x4xui32>) -> tensor<2x4xui32> {
  %0 = linalg.matmul ins(%a, %b : tensor<2x3xui8>, tensor<3x4xui8>) outs(%c : tensor<2x4xui32>) -> tensor<2x4xui32>
  return %0 : tensor<2x4xui32>
}
""",
    "zero-size-add": ELEMENTWISE_ADD.format(t="0x4xf32"),
    "matmul-m0": matmul(0, 4, 3),
    "matmul-k0": matmul(2, 4, 0),
    # A 3x3 kernel on a 2x2 image: an output claimed 1x1 (invalid) and one that is empty.
    "conv-kernel-larger-than-input": CONV_3X3_ON_2X2.format(out="1x1x1x1"),
    "conv-kernel-larger-empty-output": CONV_3X3_ON_2X2.format(out="1x1x0x0"),
    "dynamic-shape": """\
func.func @main(%a: tensor<?x4xf32>, %b: tensor<4x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %a, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x4xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<?x4xf32>, tensor<4x4xf32>) outs(%c : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
""",
    "unranked-input": """\
func.func @main(%a: tensor<*xf32>) -> tensor<*xf32> {
  return %a : tensor<*xf32>
}
""",
    "no-main": """\
func.func @forward(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  return %a : tensor<2x2xf32>
}
""",
    "main-only-declared": """\
func.func private @main(%a: tensor<2x2xf32>) -> tensor<2x2xf32>
""",
    "several-functions": """\
func.func private @helper(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %e = tensor.empty() : tensor<2x2xf32>
  %0 = linalg.add ins(%a, %a : tensor<2x2xf32>, tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}
func.func @other(%a: tensor<3xf32>) -> tensor<3xf32> {
  return %a : tensor<3xf32>
}
func.func @main(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %0 = call @helper(%a) : (tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}
""",
    "several-functions-no-main": """\
func.func @first(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  return %a : tensor<2x2xf32>
}
func.func @second(%a: tensor<3xf32>) -> tensor<3xf32> {
  return %a : tensor<3xf32>
}
""",
    "empty-module": "module {\n}\n",
}
# Which of them are plainly invalid as a program to run (the rest: ANY).
ODD_INVALID = {"no-main", "main-only-declared", "several-functions-no-main", "empty-module",
               "dynamic-shape", "unranked-input"}
# The few also sent to every target (each run takes seconds once they compile):
# tessera-compile --all-targets, tessera-check (all targets) and tessera-check
# --pass-pipeline.
ODD_ALL_TARGETS = ("f64-matmul", "returns-nothing")
ODD_CHECK = ("rank0-inputs",)
ODD_CHECK_STEP = ("f64-matmul",)

ABSURD = matmul(100000, 100000, 100000)

# --- Python model files ---------------------------------------------------------------

TINY_MODEL = """\
import torch

class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return torch.relu(self.fc(x))

def tiny():
    torch.manual_seed(0)
    return Tiny().eval(), (torch.randn(2, 4),)
"""

MODEL_FILES = {
    # name -> (file text, NAME to ask for or None for FILE.py alone)
    "syntax-error": ("def tiny(:\n    return 1\n", "tiny"),
    "raises-on-import": ("raise RuntimeError('the model file is broken')\n", "tiny"),
    "sys-exit-at-import": ("import sys\nsys.exit()\n", "tiny"),
    "sys-exit-0-at-import": ("import sys\nsys.exit(0)\n", "tiny"),
    "sys-exit-3-at-import": ("import sys\nsys.exit(3)\n", "tiny"),
    "raise-systemexit-at-import": ("raise SystemExit\n", "tiny"),
    "keyboard-interrupt-at-import": ("raise KeyboardInterrupt\n", "tiny"),
    "sys-exit-in-factory": ("import sys\ndef tiny():\n    sys.exit()\n", "tiny"),
    "sys-exit-0-in-factory": ("import sys\ndef tiny():\n    sys.exit(0)\n", "tiny"),
    "raise-systemexit-in-factory": ("def tiny():\n    raise SystemExit('bye')\n", "tiny"),
    "recursion-in-factory": ("def tiny():\n    return tiny()\n", "tiny"),
    "factory-returns-model-none": (TINY_MODEL + "\ndef bad():\n    return tiny()[0], None\n",
                                   "bad"),
    "factory-returns-non-tuple": ("def bad():\n    return 42\n", "bad"),
    "factory-returns-none-model": (TINY_MODEL + "\ndef bad():\n    return None, tiny()[1]\n",
                                   "bad"),
    "factory-returns-string-inputs": (TINY_MODEL + "\ndef bad():\n    return tiny()[0], 'x'\n",
                                      "bad"),
    "factory-not-callable": ("bad = 7\n", "bad"),
    "factory-needs-arguments": ("def bad(size):\n    return None\n", "bad"),
    "forward-raises": (TINY_MODEL + """
class Broken(torch.nn.Module):
    def forward(self, x):
        raise ValueError('forward is broken')

def bad():
    return Broken(), (torch.randn(2, 4),)
""", "bad"),
    "missing-name": ("def tiny():\n    return None\n", "nope"),
    "non-utf8-model-file": (b"# \xff\xfe caf\xe9\ndef tiny():\n    return 1\n", "tiny"),
}
# Model files whose case imports torch (slower): kept to the few that need a real model.
TORCH_MODEL_CASES = ("factory-returns-model-none", "factory-returns-none-model",
                     "factory-returns-string-inputs", "forward-raises")

# A model file that does not import torch, for cases that never get to build the model.
NO_TORCH_MODEL = "def tiny():\n    return None, ()\n"

# --- derived inputs: edits of what a tool printed --------------------------------------


def _segments(text: str, value: str | None):
    """Replace (or with None, drop) systolic.matmul's operandSegmentSizes."""
    pattern = re.compile(r"operandSegmentSizes = array<i32(?::[^>]*)?>")
    if not pattern.search(text):
        return None
    if value is None:
        text = re.sub(r",\s*operandSegmentSizes = array<i32(?::[^>]*)?>", "", text)
        return pattern.sub("", text).replace("{, ", "{")
    return pattern.sub(f"operandSegmentSizes = array<i32: {value}>", text)


_OPEN, _CLOSE = "{[(<", "}])>"


def _scan(text: str, start: int = 0):
    """(index, char, bracket depth after it) for each char outside strings, `->` skipped."""
    depth, i, quote = 0, start, False
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch == "-" and text.startswith("->", i):
            i += 1
        else:
            depth += (ch in _OPEN) - (ch in _CLOSE)
            yield i, ch, depth
        i += 1


def _matching(text: str, start: int) -> int:
    """Index just past the bracket group opening at text[start] (quotes and `->` aware)."""
    return next((i + 1 for i, ch, depth in _scan(text, start) if ch in _CLOSE and depth == 0),
                len(text))


def _split_top(body: str) -> list[str]:
    """Split a bracket body on its top-level commas."""
    parts, start = [], 0
    for i, ch, depth in _scan(body):
        if ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return [p for p in parts if p]


_KERNEL_HEADER = re.compile(r"^\s*func\.func (?:private )?@(?!main\b)[\w$.]+\(.*\) attributes \{",
                            re.MULTILINE)


def _kernel_attrs(text: str):
    """(start, end, entries) of the first non-main function's attribute dictionary."""
    m = _KERNEL_HEADER.search(text)
    if m is None:
        return None
    start = m.end() - 1
    end = _matching(text, start)
    return start, end, _split_top(text[start + 1:end - 1])


def _replace_attrs(text: str, entries: list[str]):
    start, end, _ = _kernel_attrs(text)
    body = "{" + ", ".join(entries) + "}"
    if not entries:  # no dictionary at all
        head = text[:start].rstrip()
        assert head.endswith("attributes")
        return head[:-len("attributes")].rstrip() + " " + text[end:].lstrip()
    return text[:start] + body + text[end:]


def _kernel_drop_all(text: str):
    found = _kernel_attrs(text)
    return None if found is None else _replace_attrs(text, [])


def _kernel_drop(text: str, index: int):
    found = _kernel_attrs(text)
    if found is None or index >= len(found[2]):
        return None
    entries = found[2]
    return _replace_attrs(text, entries[:index] + entries[index + 1:])


def _kernel_wrong_kind(text: str, index: int):
    """Entry `index` gets a string value (a unit attribute gets one too)."""
    found = _kernel_attrs(text)
    if found is None or index >= len(found[2]):
        return None
    entries = list(found[2])
    key = entries[index].split("=", 1)[0].strip()
    entries[index] = f'{key} = "bogus"'
    return _replace_attrs(text, entries)


_INT = re.compile(r"(?<![\w.#+\-])\d+(?![\w.])")


def _kernel_ints(text: str, value: str):
    """Every integer literal in the kernel's attributes becomes `value`."""
    found = _kernel_attrs(text)
    if found is None:
        return None
    entries = [_INT.sub(value, e) for e in found[2]]
    if entries == found[2]:
        return None
    return _replace_attrs(text, entries)


def _kernel_field(text: str, index: int, field: int, action: str):
    """Field `field` (-1: the last) inside entry `index`'s value ({...}, <...> or [...])
    is dropped (`action` "drop") or replaced by a string ("bogus")."""
    found = _kernel_attrs(text)
    if found is None or index >= len(found[2]):
        return None
    entries = list(found[2])
    entry = entries[index]
    opener = min((entry.find(c) for c in "{<[" if entry.find(c) > 0), default=-1)
    if opener < 0:
        return None
    close = _matching(entry, opener)
    inner = _split_top(entry[opener + 1:close - 1])
    if not -len(inner) <= field < len(inner):
        return None
    field %= len(inner)  # -1: the last field
    if action == "drop":
        inner = inner[:field] + inner[field + 1:]
    else:
        key, eq, _ = inner[field].partition(" = ")
        inner[field] = f'{key} = "bogus"' if eq else '"bogus"'
    entries[index] = entry[:opener + 1] + ", ".join(inner) + entry[close - 1:]
    return _replace_attrs(text, entries)


def _kernel_shrink_lists(text: str, index: int):
    """Every non-empty [...] list inside entry `index` loses its last element."""
    found = _kernel_attrs(text)
    if found is None or index >= len(found[2]):
        return None
    entries = list(found[2])
    shrunk = re.sub(r"\[([^\[\]]*?),\s*[^,\[\]]+\]", r"[\1]", entries[index])
    if shrunk == entries[index]:
        return None
    entries[index] = shrunk
    return _replace_attrs(text, entries)


EDITS = {
    "segments": _segments,
    "kernel-drop-all": _kernel_drop_all,
    "kernel-drop": _kernel_drop,
    "kernel-wrong-kind": _kernel_wrong_kind,
    "kernel-ints": _kernel_ints,
    "kernel-field": _kernel_field,
    "kernel-shrink-lists": _kernel_shrink_lists,
}

# --- tessera-opt --list-passes ----------------------------------------------------------


def parse_list_passes(text: str) -> dict[str, dict[str, str]]:
    """pass name -> {option: type name} from `tessera-opt --list-passes`."""
    table: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        if m := re.match(r"^  (tessera-[\w-]+)\s", line + " "):
            current = m.group(1)
            table[current] = {}
        elif (m := re.match(r"^\s{4,}([\w-]+)=(\w+)", line)) and current:
            table[current][m.group(1)] = m.group(2)
    return table


def _int_options(table, name) -> list[str]:
    return [o for o, kind in table.get(name, {}).items() if kind == "int"]


def _set_ints(table, name, value) -> str:
    """`name{opt=value ...}` for every int option of the pass (just `name` if none)."""
    opts = " ".join(f"{o}={value}" for o in _int_options(table, name))
    return f"{name}{{{opts}}}" if opts else name


# --- the corpus -----------------------------------------------------------------------


def build(passes: dict[str, dict[str, str]]) -> list[Case]:
    cases: list[Case] = []

    def add(name, group, tool, argv=(), **kw):
        cases.append(Case(name=name, group=group, tool=tool, argv=list(argv), **kw))

    mm = {"mm.mlir": MATMUL}

    # Controls: valid inputs that must succeed, so the harness is known to run things.
    g = "controls"
    add("control-opt-parse", g, "tessera-opt", ["mm.mlir"], files=mm, expect=OK)
    add("control-opt-stdin", g, "tessera-opt", ["-"], stdin=MATMUL.encode(), expect=OK)
    add("control-opt-tile", g, "tessera-opt",
        ["mm.mlir", "--tessera-linalg-to-systolic", "--tessera-systolic-tile"], files=mm,
        expect=OK)
    add("control-opt-list-passes", g, "tessera-opt", ["--list-passes"], expect=OK)
    add("control-compile-mlir", g, "tessera-compile", ["mm.mlir"], files=mm, expect=OK)
    add("control-sim-mlir", g, "tessera-sim", ["mm.mlir"], files=mm, expect=OK)
    add("control-check-mlir", g, "tessera-check", ["mm.mlir", "--targets", "iree-cpu,npu-sim"],
        files=mm, expect=OK, timeout=40)
    add("control-main-opt", g, "tessera", ["opt", "mm.mlir"], files=mm, expect=OK)
    add("control-api-npu-sim", g, "api", expect=OK,
        setup=f"import numpy as np, tessera\nMM = {MATMUL!r}",
        call="y = tessera.compile(MM, target='npu-sim')(np.ones((4, 8), np.float32), "
             "np.ones((8, 4), np.float32))\nassert float(y.max()) == 8.0, y")

    # systolic.matmul in generic form with a wrong operandSegmentSizes.
    g = "operand-segments"
    bad_seg = {"bad.mlir": SYSTOLIC_BAD_SEGMENTS}
    add("segments-literal-parse", g, "tessera-opt", ["bad.mlir"], files=bad_seg)
    for p in ("tessera-systolic-tile", "tessera-systolic-to-linalg", "tessera-systolic-to-vector"):
        add(f"segments-literal-{p[8:]}", g, "tessera-opt", ["bad.mlir", f"--{p}"], files=bad_seg)
    to_systolic = {"tool": "tessera-opt", "argv": ["mm.mlir", "--tessera-linalg-to-systolic"],
                   "edit": "segments", "file": "seg.mlir"}
    segment_values = {"1115": "1, 1, 1, 5", "1111": "1, 1, 1, 1", "111": "1, 1, 1",
                      "0000": "0, 0, 0, 0", "2010": "2, 0, 1, 0", "neg": "-1, 1, 1, 0",
                      "11100": "1, 1, 1, 0, 0", "dropped": None}
    for label, value in segment_values.items():
        for p in ("tessera-systolic-tile", "tessera-systolic-to-linalg",
                  "tessera-systolic-to-vector"):
            add(f"segments-{label}-{p[8:]}", g, "tessera-opt", ["seg.mlir", f"--{p}"], files=mm,
                derive={**to_systolic, "args": [value]})
    for p in ("tessera-systolic-fuse-epilogue", "tessera-systolic-to-amx",
              "tessera-systolic-to-iree-gpu"):
        add(f"segments-1115-{p[8:]}", g, "tessera-opt", ["seg.mlir", f"--{p}"], files=mm,
            derive={**to_systolic, "args": ["1, 1, 1, 5"]})
    add("segments-1115-npu-sim-api", g, "api",
        setup="import tessera\nTEXT = open('seg.mlir').read()",
        call="tessera.compile(TEXT, target='npu-sim')", files=mm,
        derive={**to_systolic, "args": ["1, 1, 1, 5"]})

    # A kernel function whose metadata attributes are missing or malformed.
    g = "kernel-metadata"
    tiled = {"tool": "tessera-opt", "file": "k.mlir",
             "argv": ["mm.mlir", "--tessera-linalg-to-systolic", "--tessera-systolic-tile"]}
    distribute = _set_ints(passes, "tessera-tile-distribute", 2)
    # Entries and fields by position, so that the cases follow whatever the attributes
    # are called; positions beyond what the kernel has are skipped (not applicable).
    edits = [("drop-all", "kernel-drop-all", [], ANY)]
    for i in range(4):
        edits += [(f"drop-{i}", "kernel-drop", [i], ANY),
                  (f"wrong-kind-{i}", "kernel-wrong-kind", [i], ANY),
                  (f"lists-{i}-shrunk", "kernel-shrink-lists", [i], ANY)]
        for j, where in ((0, "first"), (-1, "last")):
            edits += [(f"field-{i}-{where}-dropped", "kernel-field", [i, j, "drop"], ANY),
                      (f"field-{i}-{where}-string", "kernel-field", [i, j, "bogus"], ANY)]
    edits += [("ints-negative", "kernel-ints", ["-1"], FAIL),
              ("ints-zero", "kernel-ints", ["0"], ANY),
              ("ints-beyond-64-bits", "kernel-ints", [str(1 << 70)], FAIL)]
    add("kernel-control-distribute", g, "tessera-opt",
        ["mm.mlir", "--tessera-linalg-to-systolic", "--tessera-systolic-tile",
         f"--pass-pipeline=builtin.module({distribute})"], files=mm, expect=OK)
    for label, edit, args, expect in edits:
        derive = {**tiled, "edit": edit, "args": args}
        add(f"kernel-{label}-tile-distribute", g, "tessera-opt",
            ["k.mlir", f"--pass-pipeline=builtin.module({distribute})"], files=mm,
            derive=derive, expect=expect)
        add(f"kernel-{label}-npu-sim-api", g, "api", files=mm, derive=derive, expect=expect,
            setup="import tessera\nTEXT = open('k.mlir').read()",
            call="tessera.compile(TEXT, target='npu-sim', hw='grid-2x2-16x16')")

    # Deep nesting.
    g = "deep-nesting"
    n = 5000
    region = ("func.func @main() -> i32 {\n"
              + "".join(f"%r{i} = scf.execute_region -> i32 {{\n" for i in range(3000))
              + "%c = arith.constant 1 : i32\nscf.yield %c : i32\n"
              + "".join(f"}}\nscf.yield %r{2999 - i} : i32\n" for i in range(2999))
              + "}\nreturn %r0 : i32\n}\n")
    deep = {
        "execute-region-3000": (region, ANY),
        "modules-5000": ("module {" * n + "}" * n, ANY),
        "parens-5000": ("func.func @f() { %0 = arith.constant " + "(" * n + "1" + ")" * n
                        + " : i32\n return }", FAIL),
        "parens-200000": ("func.func @f() { %0 = arith.constant " + "(" * 200000, FAIL),
        "brackets-50000": ("func.func @f() attributes {x = " + "[" * 50000 + "]" * 50000
                           + "} { return }", ANY),
        "brackets-unclosed-100000": ("func.func @f() attributes {x = " + "[" * 100000, FAIL),
        "braces-50000": ("func.func @f() attributes {x = " + "{a = " * 50000 + "}" * 50000
                         + "} { return }", ANY),
        "braces-unclosed-100000": ("{" * 100000, FAIL),
        "tensor-of-tensor-5000": ("func.func @f(%a: " + "tensor<" * n + "f32" + ">" * n
                                  + ") { return }", FAIL),
        "tensor-of-tensor-50000": ("func.func @f(%a: " + "tensor<" * 50000 + "f32" + ">" * 50000
                                   + ") { return }", FAIL),
        "affine-map-20000": ("#m = affine_map<(d0) -> (" + "(" * 20000 + "d0" + " + 1)" * 20000
                             + ")>\nfunc.func @f() attributes {x = #m} { return }\n", ANY),
        "dense-nested-20000": ("func.func @f() -> tensor<1xf32> {\n %0 = arith.constant dense<"
                               + "[" * 20000 + "1.0" + "]" * 20000 + "> : tensor<1xf32>\n"
                               " return %0 : tensor<1xf32>\n}\n", ANY),
        "type-nesting-tuple-20000": ("func.func @f(%a: " + "tuple<" * 20000 + "f32"
                                     + ">" * 20000 + ") { return }", ANY),
    }
    for label, (text, expect) in deep.items():
        add(f"deep-{label}", g, "tessera-opt", ["deep.mlir"], files={"deep.mlir": text},
            expect=expect)
    add("deep-modules-5000-stdin", g, "tessera-opt", [],
        stdin=("module {" * n + "}" * n).encode(), expect=ANY)
    for tool, extra in (("tessera-compile", []), ("tessera-sim", []),
                        ("tessera-check", ["--targets", "iree-cpu"])):
        add(f"deep-modules-5000-{tool[8:]}", g, tool, ["deep.mlir", *extra],
            files={"deep.mlir": "module {" * n + "}" * n}, expect=FAIL)
    add("deep-execute-region-3000-compile", g, "tessera-compile", ["deep.mlir"],
        files={"deep.mlir": region}, expect=ANY)
    add("deep-pass-pipeline-5000", g, "tessera-opt",
        ["mm.mlir", "--pass-pipeline=" + "builtin.module(" * n + "cse" + ")" * n], files=mm,
        expect=ANY)
    add("deep-pass-pipeline-5000-func", g, "tessera-opt",
        ["mm.mlir", "--pass-pipeline=builtin.module(" + "func.func(" * n + "cse" + ")" * n + ")"],
        files=mm, expect=FAIL)
    add("deep-pass-pipeline-unbalanced-100000", g, "tessera-opt",
        ["mm.mlir", "--pass-pipeline=" + "builtin.module(" * 100000], files=mm)
    add("deep-pass-pipeline-options-5000", g, "tessera-opt",
        ["mm.mlir", "--pass-pipeline=builtin.module(cse{" + "{" * n + "}" * n + "})"], files=mm)
    add("deep-check-pass-pipeline-5000", g, "tessera-check",
        ["mm.mlir", "--pass-pipeline=" + "builtin.module(" * n + "cse" + ")" * n], files=mm,
        expect=ANY)

    # Pass options: every tessera pass, from what --list-passes says today.
    g = "pass-options"
    int_values = {"beyond-64-bits": str(1 << 64), "beyond-128-bits": str(1 << 130),
                  "int64-max": str((1 << 63) - 1), "int64-min": str(-(1 << 63)),
                  "underscores": "1_000", "zero": "0", "minus-one": "-1", "superscript": "²",
                  "arabic-digit": "٣", "float": "1.5", "exponent": "1e3", "empty": "",
                  "double-quoted": '"8"', "single-quoted": "'8'", "hex": "0x10", "plus": "+8",
                  "space-padded": " 8 ", "nul": "8\x00", "huge-text": "9" * 5000}
    # 0 means "the default" for some options; the brief's `rows=0` is a case of its own.
    int_expect = {"int64-max": ANY, "plus": ANY, "space-padded": ANY, "zero": ANY}
    for name, options in sorted(passes.items()):
        short = name[8:]
        add(f"option-unknown-{short}", g, "tessera-opt",
            ["mm.mlir", f"--pass-pipeline=builtin.module({name}{{no-such-option=1}})"], files=mm)
        add(f"option-unknown-flag-{short}", g, "tessera-opt", ["mm.mlir", f"--{name}=bogus=2"],
            files=mm)
        add(f"option-bare-word-{short}", g, "tessera-opt",
            ["mm.mlir", f"--pass-pipeline=builtin.module({name}{{x}})"], files=mm, expect=ANY)
        first_int = next((o for o, kind in options.items() if kind == "int"), None)
        for opt, kind in options.items():
            values = {}
            if kind == "int":  # every value for one option of the pass, the worst for others
                values = {k: v for k, v in int_values.items()
                          if opt == first_int or k in ("beyond-64-bits", "minus-one",
                                                       "superscript")}
            if kind == "bool":
                values = {"two": "2", "yes": "yes", "empty": "", "truee": "truee",
                          "quoted": '"true"', "unicode": "ｔｒｕｅ"}
            if kind == "str":
                values = {"empty": "", "unicode": "数据", "quote": '"', "nul": "a\x00b",
                          "braces": "}{", "huge-text": "x" * 5000}
            for label, value in values.items():
                add(f"option-{short}-{opt}-{label}", g, "tessera-opt",
                    ["mm.mlir", f"--pass-pipeline=builtin.module({name}{{{opt}={value}}})"],
                    files=mm, expect=int_expect.get(label, ANY if kind == "str" or
                                                    (kind == "bool" and label == "empty")
                                                    else FAIL))
        if options:
            opt = next(iter(options))
            add(f"option-repeated-{short}", g, "tessera-opt",
                ["mm.mlir", f"--pass-pipeline=builtin.module({name}{{{opt}=1 {opt}=2}})"],
                files=mm, expect=ANY)
            add(f"option-flag-form-{short}", g, "tessera-opt",
                ["mm.mlir", f"--{name}={opt}={1 << 64}"], files=mm)
    # The names the brief gives, in case the passes lose their `rows` options.
    for value in (str(1 << 64), "1_000", "0", "-1", "²"):
        add(f"option-rows-literal-{value}", g, "tessera-opt",
            ["mm.mlir", f"--tessera-linalg-to-systolic=rows={value}"], files=mm)
    add("option-on-upstream-pass-unicode", g, "tessera-opt",
        ["mm.mlir", "--pass-pipeline=builtin.module(canonicalize{max-iterations=²})"], files=mm)
    add("option-on-upstream-pass-huge", g, "tessera-opt",
        ["mm.mlir", f"--pass-pipeline=builtin.module(canonicalize{{max-iterations={1 << 70}}})"],
        files=mm)

    # Unreadable inputs: binary, non-UTF-8, a directory, a missing file.
    g = "bad-input-files"
    binary = bytes(range(256)) * 4
    latin1 = MATMUL.replace("// ", "").encode() + b"// caf\xe9 \xff\xfe\n"
    add("opt-binary-stdin", g, "tessera-opt", [], stdin=binary)
    add("opt-binary-stdin-dash", g, "tessera-opt", ["-"], stdin=b"\x00\x01\xff\xfe" * 64)
    add("opt-nul-in-stdin", g, "tessera-opt", [], stdin=MATMUL.encode().replace(b"%0", b"%\x00"))
    add("opt-utf16-stdin", g, "tessera-opt", [], stdin=MATMUL.encode("utf-16"))
    add("main-opt-binary-stdin", g, "tessera", ["opt"], stdin=binary)
    add("opt-non-utf8-file", g, "tessera-opt", ["latin1.mlir"], files={"latin1.mlir": latin1})
    add("opt-non-utf8-identifier", g, "tessera-opt", ["bad.mlir"],
        files={"bad.mlir": b"func.func @f\xff() {\n  return\n}\n"})
    add("opt-non-utf8-split-input", g, "tessera-opt", ["latin1.mlir", "--split-input-file"],
        files={"latin1.mlir": MATMUL.encode() + b"// -----\n\xff\n"})
    add("opt-binary-file", g, "tessera-opt", ["bin.mlir"], files={"bin.mlir": binary})
    add("opt-input-is-directory", g, "tessera-opt", ["dir.mlir"], files={"dir.mlir": None})
    add("opt-missing-file", g, "tessera-opt", ["missing.mlir"])
    add("opt-empty-path", g, "tessera-opt", [""])
    add("opt-mlirbc-garbage", g, "tessera-opt", ["x.mlirbc"],
        files={"x.mlirbc": b"ML\xefR" + binary})
    add("opt-empty-file", g, "tessera-opt", ["empty.mlir"], files={"empty.mlir": b""},
        expect=ANY)
    add("opt-verify-diagnostics-non-utf8", g, "tessera-opt",
        ["latin1.mlir", "--verify-diagnostics"], files={"latin1.mlir": latin1})
    for tool, extra in (("tessera-compile", []), ("tessera-sim", []),
                        ("tessera-check", ["--targets", "iree-cpu"])):
        short = tool[8:]
        add(f"{short}-non-utf8-mlir", g, tool, ["latin1.mlir", *extra],
            files={"latin1.mlir": latin1})
        add(f"{short}-binary-mlir", g, tool, ["bin.mlir", *extra], files={"bin.mlir": binary})
        add(f"{short}-input-is-directory", g, tool, ["dir.mlir", *extra],
            files={"dir.mlir": None})
        add(f"{short}-missing-file", g, tool, ["missing.mlir", *extra])
        add(f"{short}-stdin-dash", g, tool, ["-", *extra], stdin=MATMUL.encode(), expect=ANY)
        add(f"{short}-unknown-suffix", g, tool, ["model.txt", *extra],
            files={"model.txt": MATMUL})
        add(f"{short}-py-is-directory", g, tool, ["pkg.py:tiny", *extra], files={"pkg.py": None})
    add("check-non-utf8-mlir-pass-pipeline", g, "tessera-check",
        ["latin1.mlir", "--pass-pipeline=builtin.module(cse)"], files={"latin1.mlir": latin1})
    add("check-binary-mlir-pass-pipeline", g, "tessera-check",
        ["bin.mlir", "--pass-pipeline=builtin.module(cse)"], files={"bin.mlir": binary})
    add("check-directory-py-models", g, "tessera-check", ["pkg.py"], files={"pkg.py": None})

    # Output paths in a missing directory, or that are directories.
    g = "output-paths"
    out_dir = {**mm, "outdir": None}
    add("opt-output-missing-dir", g, "tessera-opt", ["mm.mlir", "-o", "missing/out.mlir"],
        files=mm)
    add("opt-output-is-directory", g, "tessera-opt", ["mm.mlir", "-o", "outdir"], files=out_dir)
    add("opt-dump-irdl-missing-dir", g, "tessera-opt", ["--dump-irdl", "-o", "missing/x.mlir"])
    add("opt-dump-irdl-is-directory", g, "tessera-opt", ["--dump-irdl", "-o", "outdir"],
        files={"outdir": None})
    add("opt-output-empty-path", g, "tessera-opt", ["mm.mlir", "-o", ""], files=mm)
    model_file = {"model.py": TINY_MODEL, "outdir": None}
    add("compile-emit-output-missing-dir", g, "tessera-compile",
        ["model.py:tiny", "--emit", "linalg", "-o", "missing/out.mlir"], files=model_file,
        timeout=TORCH_TIMEOUT)
    add("compile-emit-output-is-directory", g, "tessera-compile",
        ["model.py:tiny", "--emit", "linalg", "-o", "outdir"], files=model_file,
        timeout=TORCH_TIMEOUT)
    add("compile-emit-linalg-mlir-input", g, "tessera-compile",
        ["mm.mlir", "--emit", "linalg", "-o", "missing/out.mlir"], files=mm)
    for flag, ext in (("--trace", "json"), ("--plot", "png")):
        add(f"sim{flag[1:]}-missing-dir", g, "tessera-sim",
            ["mm.mlir", flag, f"missing/out.{ext}"], files=mm)
        add(f"sim{flag[1:]}-is-directory", g, "tessera-sim", ["mm.mlir", flag, f"out.{ext}"],
            files={**mm, f"out.{ext}": None})
    add("check-out-dir-missing", g, "tessera-check",
        ["mm.mlir", "--targets", "iree-cpu", "--out-dir", "missing/deeper"], files=mm)
    add("check-out-dir-is-file", g, "tessera-check",
        ["mm.mlir", "--targets", "iree-cpu", "-o", "mm.mlir"], files=mm)

    # Programs tessera may or may not support: only clean answers allowed.
    g = "odd-programs"
    for label, text in ODD_PROGRAMS.items():
        expect = FAIL if label in ODD_INVALID else ANY
        files = {"p.mlir": text}
        add(f"odd-{label}-compile", g, "tessera-compile", ["p.mlir"], files=files, expect=expect)
        add(f"odd-{label}-sim", g, "tessera-sim", ["p.mlir"], files=files, expect=expect)
        if label in ODD_ALL_TARGETS:
            add(f"odd-{label}-compile-all-targets", g, "tessera-compile",
                ["p.mlir", "--all-targets"], files=files, expect=expect, timeout=90)
        if label in ODD_CHECK:
            add(f"odd-{label}-check", g, "tessera-check", ["p.mlir"], files=files,
                expect=expect, timeout=90)
        if label in ODD_CHECK_STEP:
            add(f"odd-{label}-check-pass-pipeline", g, "tessera-check",
                ["p.mlir", "--pass-pipeline=builtin.module(cse)"], files=files, expect=expect)

    # An absurd size: rejected or estimated quickly, not simulated for minutes.
    g = "absurd-size"
    add("absurd-matmul-sim", g, "tessera-sim", ["big.mlir"], files={"big.mlir": ABSURD},
        expect=ANY, timeout=30)
    add("absurd-matmul-npu-sim-api-compile", g, "api", expect=ANY, timeout=30,
        setup=f"import tessera\nTEXT = {ABSURD!r}",
        call="tessera.compile(TEXT, target='npu-sim')")
    add("absurd-matmul-opt-tile", g, "tessera-opt",
        ["big.mlir", "--tessera-linalg-to-systolic", "--tessera-systolic-tile"],
        files={"big.mlir": ABSURD}, expect=ANY, timeout=30)
    add("absurd-matmul-compile", g, "tessera-compile", ["big.mlir"], files={"big.mlir": ABSURD},
        expect=ANY, timeout=30)

    # Python model files.
    g = "python-models"
    for label, (text, name) in MODEL_FILES.items():
        source = f"model.py:{name}" if name else "model.py"
        files = {"model.py": text}
        timeout = TORCH_TIMEOUT if label in TORCH_MODEL_CASES else 0.0
        add(f"model-{label}-compile", g, "tessera-compile", [source], files=files,
            timeout=timeout)
        if label not in TORCH_MODEL_CASES or label == "forward-raises":
            add(f"model-{label}-sim", g, "tessera-sim", [source], files=files, timeout=timeout)
            add(f"model-{label}-check", g, "tessera-check", [source, "--targets", "iree-cpu"],
                files=files, timeout=timeout)
    add("model-no-models-list-check", g, "tessera-check", ["model.py"],
        files={"model.py": NO_TORCH_MODEL})
    add("model-empty-models-list-check", g, "tessera-check", ["model.py"],
        files={"model.py": "MODELS = []\n"})
    add("model-models-not-a-list-check", g, "tessera-check", ["model.py"],
        files={"model.py": "MODELS = 42\n"})
    add("model-models-names-missing-check", g, "tessera-check", ["model.py"],
        files={"model.py": "MODELS = ['nope']\n"})
    add("model-models-sys-exit-check", g, "tessera-check", ["model.py"],
        files={"model.py": "import sys\nMODELS = ['a']\ndef a():\n    sys.exit(0)\n"})
    add("model-empty-name", g, "tessera-compile", ["model.py:"], files={"model.py": NO_TORCH_MODEL})
    add("model-sim-no-name", g, "tessera-sim", ["model.py"], files={"model.py": NO_TORCH_MODEL})

    # Command-line flags.
    g = "tool-flags"
    for label, argv in {
        "grid-superscript": ["--grid", "²x²"], "grid-zero": ["--grid", "0x2"],
        "grid-missing-cols": ["--grid", "2x"], "grid-huge": ["--grid", f"{1 << 70}x1"],
        "grid-negative": ["--grid", "-1x2"], "grid-empty": ["--grid", ""],
        "rows-zero": ["--rows", "0"], "rows-beyond-64-bits": ["--rows", "99999999999999999999"],
        "rows-negative": ["--rows", "-4"], "rows-superscript": ["--rows", "²"],
        "rows-underscores": ["--rows", "1_6"], "cols-huge": ["--cols", str(1 << 40)],
        "spad-beyond-64-bits": ["--spad-bytes", str(1 << 70)],
        "dma-latency-negative": ["--dma-latency", "-5"],
        "dram-bytes-per-cycle-huge": ["--dram-bytes-per-cycle", str(1 << 80)],
        "hw-unknown": ["--hw", "no-such-preset"], "hw-empty": ["--hw", ""],
        "hw-ideal-typo": ["--hw", "gemmini-16x16:idea"],
        "dataflow-unicode": ["--dataflow", "ｗｓ"], "no-such-flag": ["--no-such-flag"],
    }.items():
        add(f"sim-{label}", g, "tessera-sim", ["mm.mlir", *argv], files=mm)
    add("sim-no-source", g, "tessera-sim", [])
    for label, argv in {
        "hw-no-equals": ["--hw", "npu-sim"],
        "hw-unknown-target": ["--hw", "bad=x", "--targets", "npu-sim"],
        "hw-unknown-preset": ["--hw", "npu-sim=nope", "--targets", "npu-sim"],
        "hw-empty-target": ["--hw", "=tpu-128x128", "--targets", "npu-sim"],
        "targets-unknown": ["--targets", "nope"], "targets-empty": ["--targets", ","],
        "rtol-text": ["--rtol", "tight"],
    }.items():
        add(f"check-{label}", g, "tessera-check", ["mm.mlir", *argv], files=mm,
            expect=FAIL)
    add("check-no-source", g, "tessera-check", [])
    add("check-pass-pipeline-unknown-pass", g, "tessera-check",
        ["mm.mlir", "--pass-pipeline=builtin.module(no-such-pass)"], files=mm)
    add("check-pass-pipeline-on-py", g, "tessera-check",
        ["model.py:tiny", "--pass-pipeline=builtin.module(cse)"],
        files={"model.py": NO_TORCH_MODEL})
    add("compile-target-unknown", g, "tessera-compile", ["mm.mlir", "--target", "nope"], files=mm)
    add("compile-target-empty", g, "tessera-compile", ["mm.mlir", "--target", ""], files=mm)
    add("compile-emit-unknown", g, "tessera-compile", ["mm.mlir", "--emit", "llvm"], files=mm)
    add("compile-no-source", g, "tessera-compile", [])
    add("main-unknown-subcommand", g, "tessera", ["frobnicate"])
    add("main-no-subcommand", g, "tessera", [])
    add("main-subcommand-is-flag", g, "tessera", ["--verbose"])
    add("main-version", g, "tessera", ["--version"], expect=OK)
    add("main-info-extra-argument", g, "tessera", ["info", "extra"])
    add("main-info-missing-plugin", g, "tessera", ["info", "--load", "missing.py"])
    # Plugins a user loads: broken in every way a file can be.
    for label, body in (("syntax-error", "def register(plugin:\n"),
                        ("raises", "raise RuntimeError('plugin boom')\n"),
                        ("exits", "import sys\nsys.exit(0)\n"),
                        ("no-register", "x = 1\n"),
                        ("register-raises", "def register(plugin):\n    1 / 0\n"),
                        ("clash", "def register(plugin):\n"
                                  "    plugin.add_pass('tessera-tile', lambda op, p, o: None)\n"),
                        ("bad-target", "def register(plugin):\n    plugin.add_target(42)\n")):
        for tool, argv in (("tessera-opt", ["--list-passes"]), ("tessera-compile", ["mm.mlir"])):
            add(f"plugin-{label}-{tool}", g, tool, argv + ["--load", "p.py"],
                files={**mm, "p.py": body})
    add("plugin-missing-file", g, "tessera-opt", ["mm.mlir", "--load", "missing.py"], files=mm)
    add("plugin-is-directory", g, "tessera-opt", ["mm.mlir", "--load", "."], files=mm)
    add("plugin-non-utf8", g, "tessera-sim", ["mm.mlir", "--load", "p.py"],
        files={**mm, "p.py": b"x = '\xff'\n"})
    add("main-check-no-source", g, "tessera", ["check"])
    add("opt-no-such-flag", g, "tessera-opt", ["mm.mlir", "--no-such-flag"], files=mm)
    add("opt-bare-double-dash", g, "tessera-opt", ["mm.mlir", "--"], files=mm, expect=ANY)
    add("opt-single-dash-flag", g, "tessera-opt", ["mm.mlir", "-x"], files=mm)
    add("opt-two-inputs", g, "tessera-opt", ["mm.mlir", "mm.mlir"], files=mm)
    add("opt-flag-with-unicode-name", g, "tessera-opt", ["mm.mlir", "--cánonicalize"], files=mm)
    add("opt-flag-empty-options", g, "tessera-opt", ["mm.mlir", "--canonicalize="], files=mm,
        expect=ANY)
    add("opt-flag-unbalanced-options", g, "tessera-opt",
        ["mm.mlir", "--tessera-systolic-tile={"], files=mm)
    for label, pipeline in {
        "unbalanced": "builtin.module(cse", "unbalanced-close": "builtin.module(cse))",
        "unbalanced-brace": "builtin.module(cse{)", "unbalanced-quote": 'builtin.module(cse{a="})',
        "empty": "", "only-spaces": "   ", "empty-parens": "builtin.module()",
        "empty-element": "builtin.module(cse,,canonicalize)",
        "unknown-pass": "builtin.module(no-such-pass)",
        "unknown-anchor": "no.such.op(cse)",
        "nested-tessera-pass": "builtin.module(func.func(tessera-systolic-tile))",
        "nested-module-tessera-pass": "builtin.module(builtin.module(tessera-systolic-tile))",
        "tessera-pass-with-parens": "builtin.module(tessera-systolic-tile(cse))",
        "nul-byte": "builtin.module(cse\x00)", "newline": "builtin.module(cse\ncanonicalize)",
        "non-ascii": "builtin.module(сse)", "func-anchor-top": "func.func(cse)",
    }.items():
        expect = ANY if label in ("empty", "only-spaces", "empty-parens", "empty-element",
                                  "newline", "nested-module-tessera-pass", "unknown-anchor",
                                  "func-anchor-top") else FAIL
        add(f"pipeline-{label}", g, "tessera-opt", ["mm.mlir", f"--pass-pipeline={pipeline}"],
            files=mm, expect=expect)

    # The Python API.
    g = "python-api"
    imports = f"import numpy as np, tessera\nMM = {MATMUL!r}\n"
    program = imports + (
        "if 'iree' not in shared:\n"
        "    shared['iree'] = tessera.compile(MM, target='iree-cpu')\n"
        "prog = shared['iree']\n"
        "a, b = np.ones((4, 8), np.float32), np.ones((8, 4), np.float32)\n")
    torch_model = imports + (
        "import torch\n"
        "model = torch.nn.Linear(4, 3).eval()\n"
        "x = torch.randn(2, 4)\n")
    for label, setup, call, expect in [
        ("target-none", torch_model, "tessera.compile(model, (x,), target=None)", ANY),
        ("target-int", imports, "tessera.compile(MM, target=42)", FAIL),
        ("target-list", imports, "tessera.compile(MM, target=['iree-cpu'])", FAIL),
        ("target-unknown", imports, "tessera.compile(MM, target='npu')", FAIL),
        ("hw-riscv-config-for-npu-sim", imports,
         "tessera.compile(MM, target='npu-sim', hw=tessera.hardware.RiscvConfig())", FAIL),
        ("hw-npu-config-for-riscv", imports,
         "tessera.compile(MM, target='riscv', hw=tessera.hardware.NpuConfig())", FAIL),
        ("hw-npu-config-for-iree-cpu", imports,
         "tessera.compile(MM, target='iree-cpu', hw=tessera.hardware.NpuConfig())", ANY),
        ("hw-int", imports, "tessera.compile(MM, target='npu-sim', hw=42)", FAIL),
        ("hw-int-riscv", imports, "tessera.compile(MM, target='riscv', hw=42)", FAIL),
        ("hw-unknown-name", imports, "tessera.compile(MM, target='npu-sim', hw='nope')", FAIL),
        ("hw-unknown-name-riscv", imports, "tessera.compile(MM, target='riscv', hw='nope')", FAIL),
        ("hw-dict", imports, "tessera.compile(MM, target='npu-sim', hw={'rows': 4})", FAIL),
        ("model-int", imports, "tessera.compile(12, ())", FAIL),
        ("model-none", imports, "tessera.compile(None, ())", FAIL),
        ("model-bytes", imports, "tessera.compile(MM.encode(), ())", FAIL),
        ("model-bad-text", imports, "tessera.compile('func.func @main(', ())", FAIL),
        ("model-non-utf8-surrogates", imports, "tessera.compile('\\udcff', ())", FAIL),
        ("model-nul-text", imports, "tessera.compile('\\x00', ())", FAIL),
        ("func-name-missing", imports, "tessera.compile(MM, func_name='nope')", FAIL),
        ("example-inputs-int", torch_model, "tessera.compile(model, 42)", FAIL),
        ("example-inputs-wrong-shape", torch_model,
         "tessera.compile(model, (torch.randn(3, 5),))", FAIL),
        ("example-inputs-strings", torch_model, "tessera.compile(model, ('x',))", FAIL),
        ("call-too-few-inputs", program, "prog(a)", FAIL),
        ("call-too-many-inputs", program, "prog(a, b, b)", FAIL),
        ("call-wrong-dtype", program, "prog(a.astype(np.float64), b)", FAIL),
        ("call-int-dtype", program, "prog(a.astype(np.int32), b.astype(np.int32))", FAIL),
        ("call-wrong-shape", program, "prog(np.ones((8, 4), np.float32), b)", FAIL),
        ("call-rank0", program, "prog(np.float32(1.0), b)", FAIL),
        ("call-python-scalar", program, "prog(1.0, b)", FAIL),
        ("call-none", program, "prog(None, b)", FAIL),
        ("call-string", program, "prog('a', b)", FAIL),
        ("call-object-array", program, "prog(np.empty((4, 8), object), b)", FAIL),
        ("call-ragged-list", program, "prog([[1.0], [1.0, 2.0]], b)", FAIL),
        ("call-requires-grad", program + "import torch\n",
         "prog(torch.ones(4, 8, requires_grad=True), torch.ones(8, 4))", OK),
        ("call-non-contiguous", program, "prog(np.ones((8, 4), np.float32).T, b)", OK),
        ("call-nan-inputs", program, "prog(np.full((4, 8), np.nan, np.float32), b)", OK),
        ("import-torch-object", imports, "tessera.import_torch(object())", FAIL),
        ("import-torch-none", imports, "tessera.import_torch(None)", FAIL),
        ("import-torch-inputs-missing", torch_model, "tessera.import_torch(model)", FAIL),
        ("import-torch-inputs-not-tensors", torch_model, "tessera.import_torch(model, 'x')",
         FAIL),
        ("check-api-bad-targets", imports + "from tessera.check import check\n",
         "check(MM, (), targets=['nope'])", FAIL),
        ("check-api-targets-string", imports + "from tessera.check import check\n",
         "check(MM, (), targets='npu-sim')", FAIL),
        ("check-api-hw-not-dict", imports + "from tessera.check import check\n",
         "check(MM, (), targets=['npu-sim'], hw='gemmini-16x16')", FAIL),
        ("check-api-model-int", imports + "from tessera.check import check\n",
         "check(12, (), targets=['iree-cpu'])", FAIL),
        ("check-api-out-dir-missing", imports + "from tessera.check import check\n",
         "check(MM, (), targets=['iree-cpu'], out_dir='missing/dir')", ANY),
        ("npu-config-rows-float", imports, "tessera.hardware.NpuConfig(rows=1.5)", FAIL),
        ("npu-config-rows-huge", imports, f"tessera.hardware.NpuConfig(rows={1 << 70})", FAIL),
        ("riscv-config-vlen-bool", imports, "tessera.hardware.RiscvConfig(vlen=True)", FAIL),
    ]:
        add(f"api-{label}", g, "api", setup=setup, call=call, expect=expect,
            timeout=TORCH_TIMEOUT if "torch" in setup else 0.0)
    return cases
