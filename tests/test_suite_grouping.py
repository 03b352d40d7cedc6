"""The suite's own scheduling: `make test` (``pytest -n 2 --dist loadgroup``) keeps each
module on one worker (tests/conftest.py marks every test with its group), so a module's
fixtures are made once. When the group marks are ignored (conftest's hook running after
pytest-xdist's, or a pytest whose node ids pytest-xdist cannot suffix), the tests of a
module are spread over both workers and every module fixture is made two or more times."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_a_module_runs_whole_on_one_worker_and_makes_its_fixtures_once(tmp_path: Path) -> None:
    log = tmp_path / "made.log"
    env = dict(os.environ, GROUPING_PROBE_LOG=str(log))
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q", "-p", "no:cacheprovider",
         str(TESTS / "grouping_probe.py")],
        capture_output=True, text=True, cwd=TESTS.parent, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "8 passed" in done.stdout
    assert log.read_text("utf-8").split() in (["gw0"], ["gw1"])  # made once, on one worker
