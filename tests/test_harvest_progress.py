"""Progress for cron logs (issue 10): a harvest whose stderr is not a terminal prints a line
every GRAPHMINER_PROGRESS_SECONDS (a minute by default) naming the repo, the requests made,
the rate limit left and, while it sleeps for the rate limit, when it resumes. Through a
real fakehub process over HTTP (with latency, so the run lasts), as cron would run it."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from harvest_support import warm_graphql
from test_harvest import environment, harvest
from test_harvest_world import build_world, write

from graphminer.fakehub.testing import serve
from graphminer.harvest.progress import DEFAULT_INTERVAL, line_interval

# "starting" before the first repo (the org listings, when they outlast an interval)
LINE = re.compile(r"^progress (\d\d:\d\d:\d\d) UTC: (?:(\d+)/(\d+) repos, (\S+)|starting) \((\d+) requests, "
                  r"\d+ free 304s; rate limit (\d+ left|unknown)(, sleeping until [\d:]+ UTC)?\)$")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return write(build_world(), tmp_path_factory.mktemp("progress-world") / "world.json")


def progress_lines(stderr: str) -> list[re.Match]:
    found = [LINE.match(line) for line in stderr.splitlines() if line.startswith("progress ")]
    assert all(found), stderr
    return found


def test_a_run_off_the_terminal_prints_a_line_every_interval(world, tmp_path):
    env = {**environment(), "GRAPHMINER_PROGRESS_SECONDS": "0.3"}
    with serve(world, latency_ms=40) as hub:  # a GraphQL first harvest: about 40 requests
        started = datetime.now()
        result = harvest(hub.url, tmp_path, env=env)
        seconds = (datetime.now() - started).total_seconds()
    lines = progress_lines(result.stderr)
    assert seconds > 1.5  # long enough for the test to mean something
    # About one per interval while it harvests (not while Python starts or derived tables
    # are refreshed), none skipped: at most two seconds between lines stamped to the second.
    assert len(lines) >= 5
    stamps = [datetime.strptime(line.group(1), "%H:%M:%S") for line in lines]
    assert max((b - a).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False)) <= 2
    requests = [int(line.group(5)) for line in lines]
    assert requests == sorted(requests) and requests[-1] > requests[0]
    assert {line.group(4) for line in lines} >= {"civic/site"}
    assert any(line.group(6).endswith("left") for line in lines)
    assert "\r" not in result.stderr  # no bar in a log


def test_a_sleeping_run_says_when_it_resumes(world, tmp_path):
    env = {**environment(), "GRAPHMINER_PROGRESS_SECONDS": "0.2"}
    # A harvest needs about 25 REST requests: 12 a window of 6 s makes it sleep whatever the
    # machine's load (12 requests never take 6 s). GitHub's schema is built first, by a query
    # with another token, so that its second or more cannot let the first window lapse.
    with serve(world, rate_limit=12, rate_window=6.0) as hub:
        warm_graphql(hub)
        result = harvest(hub.url, tmp_path, env=env)
    assert any(line.group(7) for line in progress_lines(result.stderr)), result.stderr


def test_the_interval_is_a_minute_unless_the_environment_says():
    assert line_interval({}) == DEFAULT_INTERVAL == 60
    assert line_interval({"GRAPHMINER_PROGRESS_SECONDS": "2.5"}) == 2.5
    assert line_interval({"GRAPHMINER_PROGRESS_SECONDS": "soon"}) == 60
