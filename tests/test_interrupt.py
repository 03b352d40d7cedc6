"""Ctrl-C (SIGINT) or SIGTERM during a harvest: one line saying nothing stored is lost,
exit 130, the run marked 'interrupted' in ``_runs``, and the same command run again
finishes the harvest (a real harvest process against a real fakehub process)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphminer.fakehub.generator import generate_world
from graphminer.fakehub.testing import serve

MESSAGE = "interrupted: nothing stored is lost; run the same command again to resume"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, list[str]]:
    made = generate_world(tmp_path_factory.mktemp("world") / "w", seed=21, orgs=2, repos_per_org=3,
                          makers=40, years=2)
    data = json.load(gzip.open(made["world"], "rt", encoding="utf-8"))
    return made["world"], [org["login"] for org in data["orgs"]]


@pytest.fixture(scope="module")
def hub(world):
    """One fakehub for the module (the world is only read). 20 ms a request: a harvest
    (about 40 requests, GraphQL's included) cannot outrun the test's look at fakehub's log
    on a loaded machine."""
    with serve(world[0], latency_ms=20) as running:
        yield running


@pytest.fixture(scope="module")
def fresh(world, hub, tmp_path_factory) -> dict[str, int]:
    """The record counts of an uninterrupted harvest, one token (what a resumed one stores)."""
    folder = tmp_path_factory.mktemp("fresh")
    subprocess.run(harvest_command(hub.url, folder, world[1]), env=environment(), check=True,
                   capture_output=True, timeout=300)
    return record_counts(folder / "store.sqlite")


def harvest_command(url: str, folder: Path, orgs: list[str]) -> list[str]:
    command = [sys.executable, "-m", "graphminer", "harvest", "--api-url", url,
               "--store", str(folder / "store.sqlite"), "--cache", str(folder / "cache")]
    for org in orgs:
        command += ["--org", org]
    return command


def environment(tokens: int = 1) -> dict[str, str]:
    """One token, or ``tokens`` of them (GITHUB_TOKENS: one worker thread each)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITHUB_TOKENS")}
    if tokens == 1:
        env["GITHUB_TOKEN"] = "test-token-not-secret"
    else:
        env["GITHUB_TOKENS"] = ",".join(f"test-token-{n}" for n in range(tokens))
    env.pop("GRAPHMINER_CONFIG", None)
    return env


def default_sigint() -> None:
    """In the harvest's process, before Python starts: Ctrl-C as on a terminal. A job that
    a shell without job control put in the background (``cmd &`` in a script, as some CI
    runners do) inherits SIGINT ignored, and Python then leaves it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupted_harvest(hub, folder: Path, orgs: list[str], signum: int, after: int,
                        tokens: int = 1):
    """Start a harvest, send ``signum`` once fakehub has logged ``after`` more requests;
    (exit code, stdout, stderr, seconds from the signal to the exit)."""
    start = len(hub.log_path.read_bytes().splitlines()) if hub.log_path.exists() else 0
    process = subprocess.Popen(harvest_command(hub.url, folder, orgs), env=environment(tokens),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=default_sigint)
    signalled = 0.0
    while process.poll() is None:
        if hub.log_path.exists() and len(hub.log_path.read_bytes().splitlines()) - start >= after:
            process.send_signal(signum)
            signalled = time.monotonic()
            break
        time.sleep(0.001)
    stdout, stderr = process.communicate(timeout=120)
    assert signalled, "the harvest finished before it was interrupted"
    return process.returncode, stdout, stderr, time.monotonic() - signalled


@pytest.mark.parametrize(("signum", "tokens"), [(signal.SIGINT, 1), (signal.SIGTERM, 1),
                                                (signal.SIGINT, 3)])
def test_interrupted_harvest_says_so_marks_the_run_and_resumes(world, hub, fresh, tmp_path, signum,
                                                               tokens):
    """With three tokens, the main thread's Ctrl-C stops the worker threads before the
    store is closed (it once left them waiting for it forever)."""
    _, orgs = world
    code, _, stderr, seconds = interrupted_harvest(hub, tmp_path, orgs, signum, after=12,
                                                   tokens=tokens)
    assert code == 130, stderr[-2000:]
    assert seconds < 10  # at the workers' next request, not at the end of their repos
    assert "Traceback" not in stderr and "Aborted" not in stderr
    assert stderr.strip().splitlines()[-1] == MESSAGE
    conn = sqlite3.connect(tmp_path / "store.sqlite")
    statuses = [row[0] for row in conn.execute("SELECT status FROM _runs ORDER BY id")]
    lock = conn.execute("SELECT COUNT(*) FROM _lock").fetchone()[0]
    conn.close()
    assert statuses == ["interrupted"]
    assert lock == 0  # the lock was given back on the way out
    again = subprocess.run(harvest_command(hub.url, tmp_path, orgs), env=environment(tokens),
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert record_counts(tmp_path / "store.sqlite") == fresh
    conn = sqlite3.connect(tmp_path / "store.sqlite")
    statuses = [row[0] for row in conn.execute("SELECT status FROM _runs ORDER BY id")]
    conn.close()
    assert statuses == ["interrupted", "ok"]


def record_counts(store: Path) -> dict[str, int]:
    conn = sqlite3.connect(store)
    try:
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("repos", "issues", "issue_comments", "reviews", "commits", "people")}
    finally:
        conn.close()


def test_ctrl_c_while_the_workers_start_is_raised_once_every_started_worker_has_ended(ctrl_c_raises):
    """Ctrl-C reaching the main thread while ``run_workers`` starts its threads (sent by the
    first worker as it begins, so it arrives while the others are being started) is raised
    only after every started worker was stopped and has ended: raised between two starts,
    it once left a worker writing the store while the main thread closed it (SIGSEGV)."""
    import threading

    from graphminer.harvest.workers import run_workers

    main = threading.main_thread().ident
    ended: list[tuple[int, bool]] = []

    def work(index: int, part: list, stop: threading.Event) -> None:
        if index == 0:
            signal.pthread_kill(main, signal.SIGINT)
        ended.append((index, stop.wait(30)))  # True: stopped, not timed out

    with pytest.raises(KeyboardInterrupt):
        run_workers([[index] for index in range(8)], work)
    assert sorted(ended) == [(index, True) for index in range(8)]


def test_ctrl_c_while_waiting_for_the_workers_is_raised_once_every_worker_has_ended(ctrl_c_raises):
    """Ctrl-C reaching the main thread while it waits for the running workers (sent by the
    last worker once all run) is raised only after every worker has ended, the first one
    taking a second to stop included: CPython's join, cut short by Ctrl-C while its thread
    runs, takes that thread for ended (bpo-45274's handling), so a wait made of joins
    raised while that worker still wrote."""
    import threading

    from graphminer.harvest.workers import run_workers

    main = threading.main_thread().ident
    ended: list[tuple[int, bool]] = []

    def work(index: int, part: list, stop: threading.Event) -> None:
        if index == 3:
            threading.Event().wait(0.2)  # the main thread is waiting for worker 1 by then
            signal.pthread_kill(main, signal.SIGINT)
        stopped = stop.wait(30)
        if index == 0:
            threading.Event().wait(1)  # a worker finishing what it was writing
        ended.append((index, stopped))

    with pytest.raises(KeyboardInterrupt):
        run_workers([[index] for index in range(4)], work)
    assert sorted(ended) == [(index, True) for index in range(4)]
