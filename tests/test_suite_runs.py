"""How the suite itself runs, where it cost minutes without failing anything.

Scheduling: `make test` (``pytest -n 2 --dist loadgroup``) keeps each
module on one worker (tests/conftest.py marks every test with its group), so a module's
fixtures are made once. When the group marks are ignored (conftest's hook running after
pytest-xdist's, or a pytest whose node ids pytest-xdist cannot suffix), the tests of a
module are spread over both workers and every module fixture is made two or more times.

Stopping fakehub: ``serve`` ends its server with SIGINT (Ctrl-C), which a test run started in
the background by a shell without job control (``make test &`` in a script) has ignored, and
its children with it: each server then waited out ``serve``'s 5 s and was killed (5 s a test
that starts a server of its own: minutes over the suite)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from graphminer.fakehub.testing import serve

TESTS = Path(__file__).resolve().parent
FIXTURE_WORLD = TESTS / "fixtures" / "fakehub-small.json"


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


def test_fakehub_stops_on_sigint_even_when_the_suite_ignores_it() -> None:
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job
    try:
        with serve(FIXTURE_WORLD) as hub:
            process = hub.process
    finally:
        signal.signal(signal.SIGINT, before)
    # stopped by Ctrl-C (0 once serving, 130 when it came during start-up), not killed (-9)
    assert process.returncode in (0, 128 + signal.SIGINT)


def test_fakehub_leaves_no_folder_behind(tmp_path: Path) -> None:
    # the suite starts hundreds of servers: each used to leave its log folder in the temp dir
    with serve(FIXTURE_WORLD) as hub:
        urllib.request.urlopen(hub.url + "/orgs/civic").close()
        folder = hub.log_path.parent
        assert hub.log_lines()
    assert not folder.exists()
    kept = tmp_path / "requests.jsonl"
    with serve(FIXTURE_WORLD, log=kept) as hub:  # a log the caller named is the caller's
        urllib.request.urlopen(hub.url + "/orgs/civic").close()
    assert kept.read_text().strip()
