"""The tests' world loader (tests/test_events_support.py): the benchmarks' streaming fill
(``world_file_to_store``, one record at a time from a world file) writes exactly the rows,
indexes and triggers' notes that ``world_to_store`` writes from the same world in memory,
including a world file of the former collection names (``comments``, ``events``)."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest
from test_events_support import world_file_to_store, world_to_store

from graphminer.fakehub.generator import generate_world

TABLES = ("people", "orgs", "org_members", "repos", "issues", "issue_comments", "issue_events",
          "reviews", "review_comments", "commits", "releases", "_runs", "_columnar_touched")


def rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every loaded table's rows, sorted, and the schema (indexes and triggers included)."""
    found = {table: sorted(map(tuple, conn.execute(f"SELECT * FROM {table}")), key=repr)
             for table in TABLES}
    found["schema"] = sorted(map(tuple, conn.execute("SELECT type, name, sql FROM sqlite_master")),
                             key=repr)
    return found


@pytest.mark.parametrize("names", ["current", "former"])
def test_streamed_fill_writes_what_the_loader_writes(tmp_path: Path, names: str) -> None:
    made = generate_world(tmp_path / "world", seed=5, orgs=2, repos_per_org=3, makers=40, years=2,
                          truth=False)
    world = json.loads(gzip.decompress(Path(made["world"]).read_bytes()))
    if names == "former":  # a file written before the collections took the store's names
        world = {{"issue_comments": "comments", "issue_events": "events"}.get(name, name): value
                 for name, value in world.items()}
    source = tmp_path / "world.json.gz"
    source.write_bytes(gzip.compress(json.dumps(world, indent=1).encode()))  # spaces too
    streamed, records = world_file_to_store(source, tmp_path / "streamed.sqlite")
    loaded = world_to_store(world, tmp_path / "loaded.sqlite")
    expected = rows(loaded)
    assert records == made["events"] > 1000
    assert len(expected["issue_comments"]) > 100 and len(expected["issue_events"]) > 100
    assert rows(streamed) == expected
    assert streamed.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_broken_world_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "world.json"
    source.write_text('{"format": 1, "now": "2024-01-01T00:00:00Z", "users": [{"id": 1}')
    with pytest.raises(ValueError, match="ends too early"):
        world_file_to_store(source, tmp_path / "store.sqlite")
