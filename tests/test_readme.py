"""The README's shown commands and outputs, and scripts/demo.sh's argument check."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _error_example() -> list[str]:
    text = (ROOT / "README.md").read_text()
    found = re.search(r"Errors point at your source.*?\n```\n(.*?)```", text, re.S)
    assert found is not None
    return found.group(1).splitlines()


def test_the_readme_error_example_is_what_klr_prints(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    lines = _error_example()
    commands = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    assert len(commands) == 2
    for start, end in zip(commands, [*commands[1:], len(lines)]):
        argv = shlex.split(lines[start][2:])
        assert argv[0] == "klr"
        done = subprocess.run([sys.executable, "-m", "klr", *argv[1:]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert (done.stdout + done.stderr).splitlines() == lines[start + 1:end]


def test_demo_checks_its_argument_before_installing(tmp_path: Path) -> None:
    fake = tmp_path / "python3"  # a python3 that records being run: nothing may be installed
    fake.write_text(f"#!/bin/sh\ntouch {tmp_path / 'ran'}\nexit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh"), "no_such_example"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2
    assert not (tmp_path / "ran").exists()
    assert done.stderr.startswith("unknown example 'no_such_example'; choose one of: avgpool2d ")
    assert done.stdout == ""
