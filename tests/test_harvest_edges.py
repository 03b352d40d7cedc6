"""The harvester through real GitHub's hard edges (issue 9), against a real fakehub process
over HTTP with each edge switched on, into real SQLite stores. Ground truth: a plain
harvest of the same world (fakehub's defaults, the ``reference`` of test_harvest.py), and
after a delta a fresh harvest of the changed world; each test also checks the edge was met.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_harvest import (
    TOKEN,
    config_file,
    counted_since,
    environment,
    harvest,
    harvest_command,
    rows,
    typed_tables,
)
from test_harvest_world import apply_delta, build_delta, build_world, write

from graphminer.fakehub.testing import serve

THREE_TOKENS = "tok-edge-a1,tok-edge-b2,tok-edge-c3"


@pytest.fixture(scope="module")
def world_files(tmp_path_factory) -> dict[str, Path]:
    """The hand-made world, its delta, and the world after it."""
    folder = tmp_path_factory.mktemp("edge-world")
    world = build_world()
    delta = build_delta(world)
    return {"world": write(world, folder / "world.json"), "delta": write(delta, folder / "delta-1.json"),
            "changed": write(apply_delta(world, delta), folder / "changed.json")}


@pytest.fixture(scope="module")
def reference(world_files, tmp_path_factory) -> Path:
    """A plain harvest of the world: fakehub's defaults, one token."""
    folder = tmp_path_factory.mktemp("edge-reference")
    with serve(world_files["world"]) as hub:
        harvest(hub.url, folder)
    return folder / "store.sqlite"


def harvest_through_a_delta(world_files, folder: Path, **edges) -> tuple[Path, int]:
    """Harvest the world with ``edges`` on, apply the delta, harvest again, then a quiet
    night: (the store, the quiet night's counted requests)."""
    with serve(world_files["world"], **edges) as hub:
        harvest(hub.url, folder)
        first = typed_tables(folder / "store.sqlite")
        hub.apply_delta(world_files["delta"])
        harvest(hub.url, folder)
        start = len(hub.log_lines())
        harvest(hub.url, folder)
        _, counted = counted_since(hub, start)
        met = hub.log_lines()
    return first, folder / "store.sqlite", counted, met


def fresh_changed(world_files, folder: Path) -> dict:
    """A plain harvest of the world after the delta."""
    with serve(world_files["changed"]) as hub:
        harvest(hub.url, folder)
    return typed_tables(folder / "store.sqlite")


def test_refused_deep_pages_lose_nothing_and_a_quiet_night_stays_free(world_files, reference,
                                                                       tmp_path):
    first, store, quiet, log = harvest_through_a_delta(world_files, tmp_path / "capped",
                                                       page_cap=50)
    refused = {line["path"].rsplit("/", 2)[-2:][-1] for line in log if line["status"] == 422}
    assert {"issues", "comments", "events"} <= refused  # the cap was met on all three
    assert first == typed_tables(reference)
    assert typed_tables(store) == fresh_changed(world_files, tmp_path / "fresh")
    assert quiet == 0
    windows = [line for line in log if line["query"].get("direction") == "asc"
               and line["status"] == 200]
    per_issue = [line for line in log if line["path"].endswith("/events")
                 and "/issues/" in line["path"] and line["path"].split("/")[-2].isdigit()]
    assert windows and per_issue  # what GitHub offers instead was used


def test_heavy_pages_are_asked_smaller_and_the_size_that_worked_is_kept(world_files, reference,
                                                                         tmp_path):
    folder = tmp_path / "slow"
    with serve(world_files["world"], slow_pages=["civic/site"], slow_seconds=0.05) as hub:
        harvest(hub.url, folder)
        failed_first = sum(1 for line in hub.log_lines() if line["status"] == 502)
        start = len(hub.log_lines())
        harvest(hub.url, folder)
        again = hub.log_lines()[start:]
    assert failed_first > 0
    assert typed_tables(folder / "store.sqlite") == typed_tables(reference)
    assert [line for line in again if line["status"] == 502] == []  # 50 a page remembered
    assert sum(line["counted"] for line in again) == 0
    sizes = rows(folder / "store.sqlite",
                 "SELECT DISTINCT per_page FROM _watermarks w JOIN repos r ON w.scope='repo:'||r.id "
                 "WHERE r.full_name='civic/site' AND w.per_page IS NOT NULL")
    assert sizes == [(50,)]


def test_a_quiet_night_with_three_tokens_and_per_token_etags_costs_nothing(world_files, reference,
                                                                           tmp_path):
    folder = tmp_path / "tokens"
    env = environment(THREE_TOKENS, many=True)
    with serve(world_files["world"], rate_limit=40, rate_window=2.0) as hub:
        harvest(hub.url, folder, env=env)
        used = {line["token"] for line in hub.log_lines() if line["counted"]}
        start = len(hub.log_lines())
        quiet = harvest(hub.url, folder, env=env)
        _, counted = counted_since(hub, start)
    assert len(used) == 3  # the first night switched tokens
    assert counted == 0, quiet.stdout
    assert typed_tables(folder / "store.sqlite") == typed_tables(reference)
    written = b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())
    for token in THREE_TOKENS.split(","):
        assert token.encode() not in written
    assert "tok-edge" not in quiet.stdout + quiet.stderr


def test_429_is_waited_out_like_the_403_primary_limit(tmp_path):
    """Two harvests share one token and keep no reserve, so each one's count of what is
    left goes stale and GitHub refuses some requests with 429: both wait for the reset and
    lose nothing."""
    world = write(build_world(), tmp_path / "world.json")
    with serve(world) as hub:
        harvest(hub.url, tmp_path / "unlimited")
    folders = [tmp_path / "one", tmp_path / "two"]
    for folder in folders:
        folder.mkdir()
        config_file(folder, extra="rate_floor = 0\n")
    with serve(world, rate_limit=30, rate_window=1.0, limit_status="429") as hub:
        processes = [subprocess.Popen(harvest_command(hub.url, folder), env=environment(),
                                      cwd=folder, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for folder in folders]
        outputs = [process.communicate(timeout=300) for process in processes]
        refused = [line for line in hub.log_lines() if line["status"] == 429]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert refused
    expected = typed_tables(tmp_path / "unlimited" / "store.sqlite")
    for folder in folders:
        assert typed_tables(folder / "store.sqlite") == expected


def test_a_vanished_org_is_named_and_every_other_org_harvested(world_files, reference, tmp_path):
    folder = tmp_path / "vanished"
    folder.mkdir()
    (folder / "graphminer.toml").write_text(
        '[harvest]\norgs = ["civic", "gone-org", "town"]\n', encoding="utf-8")
    with serve(world_files["world"]) as hub:
        result = harvest(hub.url, folder, expect=1)
    assert "gone-org" in result.stdout and "Traceback" not in result.stderr
    assert typed_tables(folder / "store.sqlite") == typed_tables(reference)
    status, failures = rows(folder / "store.sqlite", "SELECT status, failures FROM _runs")[0]
    assert status == "partial" and [f["repo"] for f in json.loads(failures)] == ["gone-org"]


def test_expiring_tokens_are_dropped_and_a_rerun_resumes(world_files, reference, tmp_path):
    """Tokens that turn 401 mid-run are dropped one by one; with none left the run stops
    in one line, and a rerun with fresh tokens resumes (asks less than a first harvest)."""
    folder = tmp_path / "expiring"
    with serve(world_files["world"], token_ttl=0.5, latency_ms=20) as hub:
        first = harvest(hub.url, folder, env=environment(THREE_TOKENS, many=True), expect=2)
        refused = [line for line in hub.log_lines() if line["status"] == 401]
    assert len({line["token"] for line in refused}) == 3
    assert "Traceback" not in first.stderr
    last_line = first.stderr.strip().splitlines()[-1]
    assert "refused every token" in last_line and "run again" in last_line
    assert first.stderr.count("dropped, going on with the others") == 2
    with serve(world_files["world"]) as hub:
        fresh_tokens = "tok-new-1,tok-new-2,tok-new-3"
        harvest(hub.url, folder, env=environment(fresh_tokens, many=True))
        _, resumed = counted_since(hub, 0)
        start = len(hub.log_lines())
        harvest(hub.url, tmp_path / "whole", env=environment(fresh_tokens, many=True))
        _, whole = counted_since(hub, start)
    assert resumed < whole
    assert typed_tables(folder / "store.sqlite") == typed_tables(reference)
    assert "tok-edge" not in first.stdout + first.stderr
    statuses = [row[0] for row in rows(folder / "store.sqlite", "SELECT status FROM _runs ORDER BY id")]
    assert statuses == ["failed", "ok"]


def test_single_token_expiring_says_so_in_one_line(world_files, tmp_path):
    with serve(world_files["world"], token_ttl=0.3, latency_ms=40) as hub:
        result = harvest(hub.url, tmp_path, env=environment(TOKEN), expect=2)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "401" in lines[0] and "run again" in lines[0]
    assert TOKEN not in result.stderr
