"""GH Archive as a source (issue 24): the real hour read by DuckDB and by chDB (ClickHouse's
engine in-process) on ClickHouse's published github_events table, and a generated world
written as hours by fakehub and read with harvest-archive alone, against its truth."""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gharchive"
REAL_HOUR = SHARED / "2015-01-01-12.json.gz"
GRAPHMINER = [sys.executable, "-m", "graphminer"]
# SOURCE.md's counts, read there with plain json (one object a line)
SOURCE_BY_TYPE = {"PushEvent": 4284, "WatchEvent": 994, "CreateEvent": 981, "IssueCommentEvent": 574,
                  "PullRequestEvent": 367, "IssuesEvent": 361, "ForkEvent": 285, "DeleteEvent": 156,
                  "GollumEvent": 123, "PullRequestReviewCommentEvent": 50, "CommitCommentEvent": 41,
                  "ReleaseEvent": 30, "MemberEvent": 17, "PublicEvent": 10}
CAREERS = ("landed_elsewhere", "civic_elsewhere", "government", "founder", "moved_on")

needs_real_hour = pytest.mark.skipif(not REAL_HOUR.is_file(), reason="../shared/data/gharchive is not beside the checkout")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*GRAPHMINER, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@needs_real_hour
def test_real_hour_stores_source_counts(tmp_path):
    store = tmp_path / "real.sqlite"
    done = run("harvest-archive", "--files", str(SHARED), "--all", "--store", str(store), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(summary) == {"hours_read", "hours_missing", "events", "by_type", "stored", "merged_prs",
                            "pushes_commits_not_listed", "hashed_emails", "not_observable", "coverage"}
    assert summary["events"] == 8273 and summary["by_type"] == SOURCE_BY_TYPE
    assert (summary["merged_prs"], summary["pushes_commits_not_listed"], summary["hashed_emails"]) == (150, 59, 7517)
    assert summary["coverage"] == [{"day": "2015-01-01", "hours": 1, "era": "events"}]
    conn = sqlite3.connect(store)
    stored = dict(conn.execute("SELECT type, count(*) FROM archive_events GROUP BY type"))
    assert stored == SOURCE_BY_TYPE
    assert conn.execute("SELECT count(*) FROM issues WHERE merged_at IS NOT NULL AND merged_by_id IS NOT NULL "
                        "AND source = 'archive'").fetchone()[0] == 150
    assert conn.execute("SELECT count(*) FROM archive_pushes WHERE size > listed").fetchone()[0] == 59
    emails = [row[0] for row in conn.execute("SELECT author_email FROM archive_push_commits")]
    assert len(emails) == 7517 and all(len(email.partition("@")[0]) == 40 for email in emails)
    # nothing is counted twice: a second read of the same hour stores nothing new
    again = run("harvest-archive", "--files", str(REAL_HOUR), "--all", "--store", str(store), "--json", cwd=tmp_path)
    assert json.loads(again.stdout.strip().splitlines()[-1])["stored"] == 0
    assert dict(conn.execute("SELECT type, count(*) FROM archive_events GROUP BY type")) == SOURCE_BY_TYPE


@needs_real_hour
def test_real_hour_chdb_gives_the_duckdb_rows():
    chdb = pytest.importorskip("chdb")
    from chdb import session

    from graphminer.harvest import archive_sql as q
    from graphminer.harvest.archive import Reader

    reader = Reader(q.Selection(everything=True))
    reader.read([REAL_HOUR])
    names = [item.name for item in q.SELECTION]
    duck = reader.rows(f"SELECT {', '.join(names)} FROM fresh WHERE selected")
    reader.close()
    ch = session.Session()
    ch.query(q.GITHUB_EVENTS_TABLE)
    ch.query(q.github_events_load_sql(str(REAL_HOUR)))
    text = ch.query(q.clickhouse_sql(q.Selection(everything=True), datetime(2015, 1, 1, 12, tzinfo=UTC),
                                     datetime(2015, 1, 1, 13, tzinfo=UTC))
                    + " SETTINGS output_format_json_quote_64bit_integers = 0", "JSONCompactEachRow").data()
    clickhouse = {tuple(json.loads(line)) for line in text.splitlines() if line}
    duck_rows = {tuple(row[name] for name in names) for row in duck}
    assert len(duck) == 8273 and len(duck_rows) == len(clickhouse) == 8273
    assert duck_rows == clickhouse
    del chdb


@pytest.fixture(scope="module")
def archived_world(tmp_path_factory):
    """A generated world with outside activity, written as GH Archive hours, read alone."""
    folder = tmp_path_factory.mktemp("archive-world")
    world, hours = folder / "world", folder / "hours"
    made = run("fakehub", "generate", "--seed", "5", "--orgs", "2", "--repos-per-org", "3", "--makers", "120",
               "--years", "3", "--outside-share", "0.4", "--now", "2024-12-31T23:59:59Z", "--out", str(world),
               cwd=folder)
    assert made.returncode == 0, made.stderr
    assert run("fakehub", "gharchive", str(world), str(hours), cwd=folder).returncode == 0
    data = json.loads(gzip.open(world / "world.json.gz").read())
    orgs = [org["login"] for org in data["orgs"] if not org.get("outside")]
    config = folder / "graphminer.toml"
    config.write_text(f"[harvest]\norgs = {json.dumps(orgs)}\n[careers]\nfollow = true\n")
    store = folder / "store.sqlite"
    done = run("harvest-archive", "--files", str(hours), "--config", str(config), "--store", str(store), "--json",
               cwd=folder)
    assert done.returncode == 0, done.stderr
    truth = json.loads((hours / "truth.json").read_text())
    makers = run("makers", "--json", "--store", str(store), "--config", str(config), "--as-of", truth["as_of"],
                 cwd=folder)
    assert makers.returncode == 0, makers.stderr
    return truth, {entry["key"]: entry["milestones"] for entry in json.loads(makers.stdout)}, store


def agreement(truth: dict, got: dict, names: tuple[str, ...]) -> float:
    pairs = [(got.get(key, {}).get(name), entry["milestones"][name])
             for key, entry in truth["makers"].items() if not entry["is_bot"] for name in names]
    return sum(mine == theirs for mine, theirs in pairs) / len(pairs)


def test_careers_from_the_archive_alone_agree_with_its_truth(archived_world):
    truth, got, store = archived_world
    reached = [entry for entry in truth["makers"].values() if any(entry["milestones"][name] for name in CAREERS)]
    assert len(reached) >= 5
    assert agreement(truth, got, CAREERS) >= 0.995
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT count(*) FROM follow_prs WHERE source = 'archive'").fetchone()[0] > 0


def test_in_network_milestones_from_the_archive_agree_with_its_truth(archived_world):
    truth, got, _ = archived_world
    for name in ("first_contact", "first_issue", "first_comment", "first_pr", "first_landed", "maintainer"):
        assert agreement(truth, got, (name,)) >= 0.95, name
