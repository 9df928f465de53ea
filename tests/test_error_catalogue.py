"""docs/error-catalogue.md is current, every message klr can report has a test asserting its
text, and the catalogue's generator finds messages the way its docstring says."""

from __future__ import annotations

import difflib
import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    name = "error_catalogue"
    if name not in sys.modules:  # registered before it runs: its dataclasses look themselves up
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "error_catalogue.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]


ec = _load()


@pytest.fixture(scope="module")
def catalogue() -> object:
    return ec.catalogue(ROOT)


def test_the_committed_catalogue_is_current(catalogue: object) -> None:
    want = ec.document(catalogue)
    have = (ROOT / ec.DOC).read_text()
    if have != want:
        diff = list(difflib.unified_diff(have.splitlines(), want.splitlines(), "committed", "generated",
                                         lineterm="", n=1))
        shown = "\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else "")
        pytest.fail(f"{ec.DOC} is stale: regenerate it with `{ec.COMMAND}`\n{shown}")


def test_every_message_has_a_test(catalogue: object) -> None:
    missing = ec.untested(catalogue)
    if missing:
        pytest.fail(
            f"{len(missing)} message(s) have no test asserting their text:\n"
            + "\n".join(f"  {t.module}:{t.lines[0]}: {t.text}" for t in missing)
            + "\nTrigger each from a kernel, a KLR file or a command line and assert the exact text (see "
            "tests/*/test_messages.py); if no input can produce one, make it an assertion, or list it in "
            f"UNTESTABLE in scripts/error_catalogue.py with the reason. Then run `{ec.COMMAND}`.")


def test_the_untestable_list_is_current(catalogue: object) -> None:
    texts = {t.text: t for t in catalogue.templates}
    stale = [text for text in ec.UNTESTABLE if text not in texts or texts[text].tests]
    assert not stale, ("remove from UNTESTABLE in scripts/error_catalogue.py (gone, or now tested): "
                       + "; ".join(stale))


# --- the generator, on a small made-up klr ------------------------------------------------------

ERRORS = """
class KlrError(Exception):
    phase = "klr"
    def note(self, message):
        return self
class TraceError(KlrError):
    phase = "trace"
class LimitError(TraceError):
    pass
class Warning_:
    pass
"""

CONTEXT = """
from klr.errors import LimitError, TraceError, Warning_
class Ctx:
    def error(self, msg, pos=None):
        return TraceError(msg, pos)
    def limit(self, msg):
        return LimitError(msg)
    def warn(self, msg):
        self.warnings.append(Warning_(msg))
    def message(self, msg):
        self.messages.append(Warning_(msg))
    def loop_limit(self, kind, n):
        return self.limit(f"{kind} exceeds {n} iterations")
"""

OPS = """
PROBLEMS = {1: "one is not allowed", 2: "two is not allowed"}
def fail(ctx, message):
    raise ctx.error(f"{message}.")
def _why(v):
    if v:
        return f"'{v}' is wrong"
    return "nothing is wrong"
def _check(n):
    problem = None
    if n > 3:
        problem = f"{n} is too big"
    return problem, n
def run(ctx, v, n):
    if v == 0:
        raise ctx.error("division by zero" if n else "modulo by zero")
    if v == 1:
        raise ctx.error(_why(v))
    if v == 2:
        fail(ctx, f"a {v} tile")
    if v == 3:
        raise ctx.error(PROBLEMS[v])
    problem, _ = _check(n)
    if problem is not None:
        raise ctx.error(problem)
    try:
        pass
    except ValueError as e:
        raise ctx.error(str(e)) from None
    ctx.warn(f"the kernel returns {v}")
    ctx.message(str(v))
    raise ctx.loop_limit("for loop", n)
"""

TESTS = """
CASES = [("x = 1 // 0", "kern.py:2:5: error: division by zero")]
TILE = "a 4"
def test_division(case=CASES):
    assert "'3' is wrong"
def test_fstring(n):
    assert f"{n} is too big" in text
def test_sum():
    assert message == TILE + " tile."
def test_match():
    with pytest.raises(TraceError, match=r"^one is not allowed$"):
        pass
def test_prefix_only():
    assert "nothing is" in message
"""


def _tree(tmp_path: Path) -> Path:
    for rel, text in {"src/klr/errors.py": ERRORS, "src/klr/tracer/context.py": CONTEXT,
                      "src/klr/tracer/ops.py": OPS, "tests/tracer/test_ops.py": TESTS}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_the_generator_follows_wrappers_helpers_and_variables(tmp_path: Path) -> None:
    cat = ec.catalogue(_tree(tmp_path))
    got = {(t.phase, t.text, t.module, tuple(t.lines)) for t in cat.templates}
    ops = "src/klr/tracer/ops.py"
    assert got == {
        ("trace", "one is not allowed", ops, (2,)),
        ("trace", "two is not allowed", ops, (2,)),
        ("trace", "'<v>' is wrong", ops, (7,)),
        ("trace", "nothing is wrong", ops, (8,)),
        ("trace", "<n> is too big", ops, (12,)),
        ("trace", "division by zero", ops, (16,)),
        ("trace", "modulo by zero", ops, (16,)),
        ("trace", "a <v> tile.", ops, (20,)),
        ("warning", "the kernel returns <v>", ops, (30,)),
        ("trace", "<kind> exceeds <n> iterations", "src/klr/tracer/context.py", (13,)),
    }
    assert [(f.module, f.line, f.origin) for f in cat.forwarded] == [(ops, 29, "str(e)")]


def test_the_generator_matches_templates_to_test_strings(tmp_path: Path) -> None:
    cat = ec.catalogue(_tree(tmp_path))
    tests = {t.text: (t.tests, t.example) for t in cat.templates}
    case = "tests/tracer/test_ops.py::test_division"
    assert tests["division by zero"] == ([case], "kern.py:2:5: error: division by zero")
    assert tests["'<v>' is wrong"] == ([case], "'3' is wrong")
    assert tests["<n> is too big"] == (["tests/tracer/test_ops.py::test_fstring"], "… is too big")
    assert tests["a <v> tile."] == (["tests/tracer/test_ops.py::test_sum"], "a 4 tile.")
    assert tests["one is not allowed"] == (["tests/tracer/test_ops.py::test_match"], "one is not allowed")
    assert tests["nothing is wrong"] == ([], None)  # a part of the text asserts nothing
    assert tests["modulo by zero"] == ([], None)
    assert "modulo by zero" in [t.text for t in ec.untested(cat)]
    assert "division by zero" not in [t.text for t in ec.untested(cat)]
