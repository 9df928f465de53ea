"""bench/public_tests.py on a made-up repository of our own (no network): which files it runs,
how, and how it counts and explains what happened."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import public_tests  # noqa: E402

KERNEL = '''
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl
import numpy as np


@nki.jit(mode="simulation")
def double(a):
    out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
    nl.store(out, value=nl.multiply(nl.load(a), 2.0))
    return out


@nki.jit(mode="simulation")
def broken(a):
    out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
    nl.store(out, value=nl.no_such_function(nl.load(a)))
    return out
'''

TESTS = '''
import numpy as np
from kernels import broken, double


def test_double():
    a = np.arange(32, dtype=np.float32).reshape(4, 8)
    assert np.allclose(double(a), 2 * a)


def test_broken():
    broken(np.zeros((4, 8), np.float32))
'''


def make_repo(root: Path) -> Path:
    repo = root / "nki-samples"
    (repo / "tests").mkdir(parents=True)
    (repo / "src").mkdir()
    (repo / "src" / "kernels.py").write_text(KERNEL)  # found through PYTHONPATH=src
    (repo / "tests" / "test_kernels.py").write_text(TESTS)
    (repo / "tests" / "test_helpers.py").write_text("HELP = 1\n")  # defines no test: not run
    (repo / "tests" / "conftest.py").write_text(textwrap.dedent('''
        def pytest_addoption(parser):
            parser.addoption("--simulation-only", action="store_true")
    '''))
    (repo / "src" / "driver.py").write_text(
        "import numpy as np\nfrom kernels import double\n\nif __name__ == '__main__':\n"
        "    assert np.allclose(double(np.ones((2, 4), np.float32)), 2)\n    print('match')\n")
    corpus = {"kernels": [{"repo": "aws-neuron/nki-samples", "path": "src/kernels.py",
                           "invocations": [{"driver": "src/driver.py"}]}]}
    (root / "corpus.json").write_text(json.dumps(corpus))
    return repo


def test_test_files_options_and_scripts(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    assert public_tests.test_files(repo) == [repo / "tests" / "test_kernels.py"]
    args, env = public_tests.options(repo / "tests" / "test_kernels.py", repo)
    assert args == ["--simulation-only"] and env["PYTHONPATH"].split(":")[0] == str(repo / "src")
    assert public_tests.driver_scripts(repo, tmp_path / "corpus.json") == [repo / "src" / "driver.py"]
    assert not public_tests.is_script(repo / "tests" / "test_kernels.py")


def test_a_run_counts_tests_and_keeps_klrs_diagnostic(tmp_path: Path) -> None:
    make_repo(tmp_path)
    out = tmp_path / "out.json"
    assert public_tests.main([str(tmp_path), "--corpus", str(tmp_path / "corpus.json"), "--scripts",
                              "--json", str(out)]) == 0
    rows = {Path(r["path"]).name: r for r in json.loads(out.read_text())}
    assert rows["test_kernels.py"]["outcome"] == "failed"
    assert rows["test_kernels.py"]["tests"] == {"passed": 1, "failed": 1}
    [(name, why)] = rows["test_kernels.py"]["failures"]
    assert name.endswith("::test_broken")
    assert why.startswith(f"{tmp_path / 'nki-samples' / 'src' / 'kernels.py'}:17:")
    assert "no_such_function" in why
    assert rows["driver.py"]["outcome"] == "passed" and rows["driver.py"]["command"] == "klr run driver.py"
