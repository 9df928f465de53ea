"""``pytest -p klr.pytest_plugin``: a test suite's NKI kernels run with klr.

Loading the plugin provides klr's ``nki`` and ``neuronxcc.nki`` modules (``klr.install_nki()``)
before pytest imports any conftest or test module, as ``klr run -m pytest`` does; at the end,
the summary says how many kernel calls klr simulated and the time each phase took.
"""

from __future__ import annotations

from typing import Any

from klr.sim import shim

shim.install()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from klr.sim.script import summary
    from klr.sim.simulate import totals

    if totals.calls:
        terminalreporter.write_line(summary())
