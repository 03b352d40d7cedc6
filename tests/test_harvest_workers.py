"""One worker per token (issue 10): three tokens harvest three repos at once, each repo with
one token, and a run killed mid-way with three workers loses nothing. Against a real
fakehub process over HTTP (with latency, so that workers overlap), into real SQLite
stores; ground truth is a plain one-token harvest of the same world."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_harvest import (
    environment,
    harvest,
    harvest_killed_after,
    kill_points,
    people,
    rows,
    typed_tables,
)

from graphminer.fakehub.testing import serve

THREE_TOKENS = "tok-work-a1,tok-work-b2,tok-work-c3"


@pytest.fixture(scope="module")
def world(world_files) -> Path:
    """The hand-made world (tests/conftest.py); ``reference`` is its one-token harvest,
    built once for the session."""
    return world_files["world"]


def repo_of(path: str) -> str | None:
    parts = path.split("/")
    return "/".join(parts[2:4]) if path.startswith("/repos/") else None


def test_three_tokens_harvest_three_repos_at_once_each_repo_with_one_token(world, reference,
                                                                            tmp_path):
    with serve(world, latency_ms=100) as hub:  # every request in flight a while: they overlap
        harvest(hub.url, tmp_path, env=environment(THREE_TOKENS, many=True))
        log = [line for line in hub.log_lines() if repo_of(line["path"])]
    assert typed_tables(tmp_path / "store.sqlite") == typed_tables(reference)
    tokens_of: dict[str, set[str]] = {}
    for line in log:
        tokens_of.setdefault(repo_of(line["path"]), set()).add(line["token"])
    assert all(len(tokens) == 1 for tokens in tokens_of.values()), tokens_of  # affinity
    assert len(set().union(*tokens_of.values())) == 3  # every token had a worker
    # Serially a repo's requests come one after another (one switch fewer than the repos);
    # with workers they interleave. Asserted on that order, not on a count a busy machine
    # could lower (it once made exactly twice the repos, the old bound).
    switches = sum(1 for a, b in zip(log, log[1:], strict=False)
                   if repo_of(a["path"]) != repo_of(b["path"]))
    assert switches > len(tokens_of), (switches, len(tokens_of))


def test_killed_mid_run_with_three_workers_then_rerun_equals_uninterrupted(world, reference,
                                                                          tmp_path):
    env = environment(THREE_TOKENS, many=True)
    tmp_path.mkdir(exist_ok=True)
    with serve(world, latency_ms=5) as hub:
        for point in (12, *kill_points(reference)[1:]):  # org listings; repos in flight
            harvest_killed_after(hub, tmp_path, point, env)
        harvest(hub.url, tmp_path, env=env)
    store = tmp_path / "store.sqlite"
    assert typed_tables(store) == typed_tables(reference)
    assert people(store) == people(reference)
    statuses = [row[0] for row in rows(store, "SELECT status FROM _runs ORDER BY id")]
    assert statuses == ["killed", "killed", "killed", "ok"]
