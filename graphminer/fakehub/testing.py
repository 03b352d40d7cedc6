"""Test helper: runs the REAL ``python -m graphminer fakehub serve`` as a subprocess.

    with serve("tests/fixtures/fakehub-small.json", rate_limit=100) as hub:
        requests.get(hub.url + "/repos/civic/site/issues")
        hub.stats()["counted"]

Options map to the command's flags (``faults``, ``log``, ``rate_limit``, ``rate_window``,
``graphql_rate_limit``, ``graphql_secondary_limit``, ``graphql_max_weight``,
``host``, and the hard edges of FAKEHUB.md: ``page_cap``, ``per_token_etags``,
``redirects``, ``slow_pages``, ``slow_seconds``, ``limit_status``, ``token_ttl``,
``token_ttl_requests``,
``reviews_move_issues``, ``ordered_releases``, ``latency_ms``, ``clock`` (wall or world), and
``search_rate_limit``/``search_rate_window`` (the search resource), ``gharchive`` (a folder of
GH Archive hours served at ``/gharchive/NAME``); None keeps the server's
default); the log goes to a temporary folder, removed when the server stops, unless ``log``
names a file.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LISTENING = "fakehub listening on "


class RunningHub:
    """A running fakehub: its base URL, request log, stats and delta control."""

    def __init__(self, url: str, log_path: Path, process: subprocess.Popen) -> None:
        self.url = url
        self.log_path = log_path
        self.process = process

    def stats(self) -> dict:
        """``GET /_fakehub/stats``."""
        with urllib.request.urlopen(self.url + "/_fakehub/stats", timeout=30) as response:
            return json.load(response)

    def apply_delta(self, path: Path | str) -> dict:
        """``POST /_fakehub/delta`` with a delta file's bytes; returns the answer."""
        request = urllib.request.Request(self.url + "/_fakehub/delta",
                                         data=Path(path).read_bytes(), method="POST")
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.load(response)

    def advance_clock(self, seconds: float) -> dict:
        """``POST /_fakehub/clock``: move the hub's clock (rate-limit windows, token
        lifetimes, the wall ``Date`` header) ``seconds`` ahead, instead of waiting."""
        request = urllib.request.Request(self.url + "/_fakehub/clock", method="POST",
                                         data=json.dumps({"advance": seconds}).encode())
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def log_lines(self) -> list[dict]:
        """Every request logged so far."""
        text = self.log_path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


@contextmanager
def serve(world_path: Path | str | None, *, gharchive: Path | str | None = None, faults: str | None = None, log: Path | str | None = None,
          rate_limit: int | None = None, rate_window: float | None = None,
          graphql_rate_limit: int | None = None, graphql_secondary_limit: int | None = None,
          graphql_max_weight: int | None = None,
          host: str = "127.0.0.1", timeout: float = 60.0, page_cap: int | None = None,
          per_token_etags: bool | None = None, redirects: bool | None = None,
          slow_pages: list[str] | tuple[str, ...] = (), slow_seconds: float | None = None,
          limit_status: str | int | None = None, token_ttl: float | None = None,
          token_ttl_requests: int | None = None,
          reviews_move_issues: bool = False, ordered_releases: bool = False,
          latency_ms: int | None = None, clock: str | None = None,
          search_rate_limit: int | None = None,
          search_rate_window: float | None = None, port: int = 0) -> Iterator[RunningHub]:
    """Start fakehub on ``port`` (0: a free one), yield a RunningHub, stop it on exit;
    ``world_path`` None with ``gharchive`` (a folder of hours) serves only those files."""
    workdir = tempfile.mkdtemp(prefix="fakehub-")
    log_path = Path(log) if log else Path(workdir) / "requests.jsonl"
    command = [sys.executable, "-m", "graphminer", "fakehub", "serve",
               *([str(world_path)] if world_path is not None else []),
               "--host", host, "--port", str(port), "--log", str(log_path)]
    if gharchive is not None:
        command += ["--gharchive", str(gharchive)]
    if faults:
        command += ["--faults", faults]
    if rate_limit is not None:
        command += ["--rate-limit", str(rate_limit)]
    if rate_window is not None:
        command += ["--rate-window", str(rate_window)]
    for flag, value in (("--graphql-rate-limit", graphql_rate_limit),
                        ("--graphql-secondary-limit", graphql_secondary_limit),
                        ("--graphql-max-weight", graphql_max_weight)):
        if value is not None:
            command += [flag, str(value)]
    command += _edge_flags(page_cap, per_token_etags, redirects, slow_pages, slow_seconds,
                           limit_status, token_ttl, reviews_move_issues, ordered_releases, latency_ms)
    if token_ttl_requests is not None:
        command += ["--token-ttl-requests", str(token_ttl_requests)]
    if clock is not None:
        command += ["--clock", clock]
    if search_rate_limit is not None:
        command += ["--search-rate-limit", str(search_rate_limit)]
    if search_rate_window is not None:
        command += ["--search-rate-window", str(search_rate_window)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    stderr_path = Path(workdir) / "stderr.txt"
    with open(stderr_path, "w", encoding="utf-8") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
                                   preexec_fn=_sigint_as_on_a_terminal)
    try:
        url = _listening_url(process, timeout, stderr_path)
        yield RunningHub(url, log_path, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _sigint_as_on_a_terminal() -> None:
    """In fakehub's process, before Python starts: SIGINT stops it, as Ctrl-C does. A test run
    that a shell without job control started in the background (``make test &`` in a script,
    as some CI runners do) has SIGINT ignored, a child inherits that, and Python then leaves it
    ignored: every ``serve`` would wait out its 5 s and kill the server instead."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _edge_flags(page_cap: int | None, per_token_etags: bool | None, redirects: bool | None,
                slow_pages: list[str] | tuple[str, ...], slow_seconds: float | None,
                limit_status: str | int | None, token_ttl: float | None,
                reviews_move_issues: bool, ordered_releases: bool,
                latency_ms: int | None) -> list[str]:
    """The ``serve`` flags of the hard edges asked for (None: the server's default)."""
    flags: list[str] = []
    if page_cap is not None:
        flags += ["--page-cap", str(page_cap)]
    if per_token_etags is not None:
        flags.append("--per-token-etags" if per_token_etags else "--shared-etags")
    if redirects is not None:
        flags.append("--redirects" if redirects else "--no-redirects")
    for spec in slow_pages:
        flags += ["--slow-pages", spec]
    if slow_seconds is not None:
        flags += ["--slow-seconds", str(slow_seconds)]
    if limit_status is not None:
        flags += ["--limit-status", str(limit_status)]
    if token_ttl is not None:
        flags += ["--token-ttl", str(token_ttl)]
    if reviews_move_issues:
        flags.append("--reviews-move-issues")
    if ordered_releases:
        flags.append("--ordered-releases")
    if latency_ms is not None:
        flags += ["--latency", str(latency_ms)]
    return flags


def _listening_url(process: subprocess.Popen, timeout: float, stderr_path: Path) -> str:
    """The URL from the server's first stdout line (RuntimeError with its stderr if it died)."""
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = found[0].strip() if found else ""
    if not line.startswith(LISTENING):
        if process.poll() is None:
            process.kill()
        process.wait()
        error = stderr_path.read_text(encoding="utf-8")
        raise RuntimeError(f"fakehub did not start (first line {line!r}): {error.strip()}")
    return line[len(LISTENING):]
