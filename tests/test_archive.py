"""GH Archive as a source (issue 24): the real hour read by DuckDB and by chDB (ClickHouse's
engine in-process) on ClickHouse's published github_events table, and a generated world
written as hours by fakehub and read with `harvest-archive` alone, against its truth.

Cheap by design: the real hour is read in-process (the command adds identities and
precompute, 20 s on 8,000 strangers, tested on the small world instead), the world is small
and shared by the module, and the command runs in-process through click. The edge hours
(downloads, missing, late-filed, trimmed, Timeline) are in test_archive_edges.py; large
worlds are in bench/bench_archive.py.
"""

from __future__ import annotations

import doctest
import gzip
import json
import shutil
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from archive_support import (
    CAREERS,
    agreement,
    archive_cli,
    generated_hours,
    lines_of,
    makers_of,
    read_hours,
    write_config,
)

from graphminer import precompute
from graphminer.config import load_config
from graphminer.harvest import archive, archive_sql
from graphminer.precompute import maker_timeline
from graphminer.store import open_store

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gharchive"
REAL_HOUR = SHARED / "2015-01-01-12.json.gz"
# SOURCE.md's counts, read there with plain json (one object a line)
SOURCE_BY_TYPE = {"PushEvent": 4284, "WatchEvent": 994, "CreateEvent": 981, "IssueCommentEvent": 574,
                  "PullRequestEvent": 367, "IssuesEvent": 361, "ForkEvent": 285, "DeleteEvent": 156,
                  "GollumEvent": 123, "PullRequestReviewCommentEvent": 50, "CommitCommentEvent": 41,
                  "ReleaseEvent": 30, "MemberEvent": 17, "PublicEvent": 10}
SUMMARY_KEYS = {"hours_read", "hours_missing", "events", "by_type", "stored", "merged_prs",
                "pushes_commits_not_listed", "hashed_emails", "not_observable", "coverage"}

needs_real_hour = pytest.mark.skipif(not REAL_HOUR.is_file(), reason="../shared/data/gharchive is not beside the checkout")


# --- the real hour -------------------------------------------------------------------------------

@needs_real_hour
def test_real_hour_stores_source_counts(tmp_path):
    store = tmp_path / "real.sqlite"
    config = load_config(str(write_config(tmp_path, [])))
    summary = read_hours(config, store, archive.files_in(str(SHARED)), everything=True).as_json()
    assert set(summary) == SUMMARY_KEYS
    assert summary["events"] == 8273 and summary["by_type"] == dict(sorted(SOURCE_BY_TYPE.items()))
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
    again = read_hours(config, store, [REAL_HOUR], everything=True)
    assert again.stored == 0 and again.events == 8273
    assert dict(conn.execute("SELECT type, count(*) FROM archive_events GROUP BY type")) == SOURCE_BY_TYPE


@pytest.fixture(scope="module")
def github_events(tmp_path_factory):
    """ClickHouse's github_events table loaded from the real hour by ClickHouse's own loader
    mapping, in a chDB database on disk: a ClickHouse of one's own, reached by
    clickhouse-connect as ``chdb:///PATH``."""
    pytest.importorskip("chdb")
    from chdb import session

    folder = tmp_path_factory.mktemp("clickhouse") / "db"
    loader = session.Session(str(folder))
    try:
        loader.query(archive_sql.GITHUB_EVENTS_TABLE)
        loader.query(archive_sql.github_events_load_sql(str(REAL_HOUR)))
    finally:
        loader.close()
    return f"chdb://{folder}"


@needs_real_hour
def test_real_hour_chdb_gives_the_duckdb_rows(github_events):
    reader = archive.Reader(archive_sql.Selection(everything=True))
    reader.read([REAL_HOUR])
    names = [item.name for item in archive_sql.SELECTION]
    duck = {tuple(row[name] for name in names) for row in reader.rows(f"SELECT {', '.join(names)} FROM picked")}
    reader.close()
    client = archive.clickhouse_client(github_events)
    try:
        result = client.query(archive_sql.clickhouse_sql(archive_sql.Selection(everything=True),
                                                         datetime(2015, 1, 1, 12, tzinfo=UTC),
                                                         datetime(2015, 1, 1, 13, tzinfo=UTC)))
        clickhouse = {tuple(row) for row in result.result_rows}
    finally:
        client.close()
    assert list(result.column_names) == names
    assert len(duck) == len(clickhouse) == 8273 and duck == clickhouse


@needs_real_hour
def test_the_clickhouse_source_counts_the_hour_and_stores_nothing_twice_or_invented(github_events, tmp_path):
    # a network: the five orgs with the most events in the hour (plain json)
    events = [json.loads(line) for line in gzip.open(REAL_HOUR)]
    orgs = [login for login, _ in Counter(event["org"]["login"] for event in events if event.get("org")).most_common(5)]
    network = [event for event in events if event["repo"]["name"].split("/")[0] in orgs
               or (event.get("org") or {}).get("login") in orgs]
    config = write_config(tmp_path, orgs)
    hour = ("--from", "2015-01-01T12:00:00Z", "--to", "2015-01-01T12:00:00Z", "--config", str(config), "--json")
    # alone: the table names repos and people by name only, so nothing is stored under an invented id
    alone = archive_cli("harvest-archive", "--clickhouse", github_events, *hour, "--store", str(tmp_path / "a.sqlite"))
    assert alone.exit_code == 0, alone.output
    summary = json.loads(alone.stdout.strip().splitlines()[-1])
    assert summary["events"] == 8273 and summary["by_type"] == dict(sorted(SOURCE_BY_TYPE.items()))
    assert summary["merged_prs"] == 150 and summary["stored"] == 0
    assert summary["not_observable"] == {"rows_of_repos_not_in_the_store": len(network)} and network
    # after the files were read: every row is an event already stored, stored once
    store = tmp_path / "b.sqlite"
    read_hours(load_config(str(config)), store, [REAL_HOUR])
    stored = sqlite3.connect(store).execute("SELECT count(*) FROM archive_events").fetchone()[0]
    assert stored == len(network)
    again = archive_cli("harvest-archive", "--clickhouse", github_events, *hour, "--store", str(store))
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.strip().splitlines()[-1])["stored"] == 0
    assert sqlite3.connect(store).execute("SELECT count(*) FROM archive_events").fetchone()[0] == stored
    # a server that is not there: one line, exit 1 (as an unreachable API), nothing lost
    gone = archive_cli("harvest-archive", "--clickhouse", "http://127.0.0.1:9", *hour, "--store", str(store))
    assert gone.exit_code == 1 and len(gone.output.strip().splitlines()) == 1, gone.output
    assert sqlite3.connect(store).execute("SELECT count(*) FROM archive_events").fetchone()[0] == stored


# --- a generated world read with harvest-archive alone --------------------------------------------

@pytest.fixture(scope="module")
def archived_world(tmp_path_factory):
    """A generated world with outside activity, written as GH Archive hours, read by the
    command alone (no API): (truth, makers' milestones by key, store, the command's summary,
    the hours, the config)."""
    folder = tmp_path_factory.mktemp("archive-world")
    hours, orgs = generated_hours(folder, makers=40, years=2, now="2024-12-31T23:59:59Z", outside_share=0.4)
    config = write_config(folder, orgs, follow=True)
    store = folder / "store.sqlite"
    done = archive_cli("harvest-archive", "--files", str(hours), "--config", str(config), "--store", str(store),
                       "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    truth = json.loads((hours / "truth.json").read_text())
    return truth, makers_of(store, config, truth["as_of"]), store, summary, hours, config


def test_the_command_ends_with_the_summary_counted_on_every_event(archived_world):
    truth, _, _, summary, _, _ = archived_world
    assert set(summary) == SUMMARY_KEYS
    assert summary["events"] == truth["gharchive"]["events"] == sum(summary["by_type"].values())
    assert summary["hours_read"] == truth["gharchive"]["hours"] and summary["hours_missing"] == 0
    assert sum(day["hours"] for day in summary["coverage"]) == summary["hours_read"]
    assert {day["era"] for day in summary["coverage"]} == {"events"}


def test_careers_from_the_archive_alone_agree_with_its_truth(archived_world):
    truth, got, store, *_ = archived_world
    reached = [entry for entry in truth["makers"].values() if any(entry["milestones"][name] for name in CAREERS)]
    assert len(reached) >= 5
    assert agreement(truth, got, CAREERS) >= 0.995
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT count(*) FROM follow_prs WHERE source = 'archive'").fetchone()[0] > 0


def test_careers_and_the_report_count_the_makers_the_archive_followed(archived_world, tmp_path):
    """Following through the archive is following: `careers` counts the landed makers with an
    account (the truth's; accountless makers are left out of it) as followed, and the
    report's Where did they go page measures instead of saying nobody was followed."""
    truth, _, store, _, _, config = archived_world
    landed = {key for key, entry in truth["makers"].items() if entry["milestones"]["first_landed"] and not entry["is_bot"]}
    assert len(landed) >= 10
    answer = json.loads(archive_cli("careers", "--json", "--store", str(store), "--config", str(config)).stdout)
    assert answer["followed"] == len(landed) and answer["destinations"]
    made = archive_cli("report", str(tmp_path / "report"), "--store", str(store), "--config", str(config))
    assert made.exit_code == 0, made.output
    page = (tmp_path / "report" / "where.html").read_text("utf-8")
    assert "Not measured" not in page and f"{len(landed)} were followed" in " ".join(page.split())


def test_a_hashed_noreply_email_names_no_login(archived_world):
    """GH Archive hashes commit emails' local parts, noreply ones too: such an address names
    no account (identity's noreply rule read the hash as a login: makers then carried
    40-hex-digit logins). Every login a maker carries is a login of the world."""
    _, _, store, _, hours, config = archived_world
    hashed = [email for _, event in lines_of(hours) for commit in event["payload"].get("commits") or []
              if (email := commit["author"]["email"]).endswith("@users.noreply.github.com")]
    assert hashed and all(len(email.split("@")[0]) == 40 for email in hashed)
    world = json.loads(gzip.open(hours.parent / "world" / "world.json.gz").read())
    logins = {user["login"] for user in world["users"]}
    listing = json.loads(archive_cli("makers", "--json", "--store", str(store), "--config", str(config)).stdout)
    carried = {maker["login"] for maker in listing if maker["login"]}
    assert carried and carried <= logins, carried - logins


def test_in_network_milestones_from_the_archive_agree_with_its_truth(archived_world):
    truth, got, *_ = archived_world
    for name in ("first_contact", "first_issue", "first_comment", "first_pr", "first_landed", "maintainer"):
        assert agreement(truth, got, (name,)) >= 0.95, name


def test_an_archive_only_store_names_its_source_and_hides_nothing_the_archive_shows(archived_world):
    """Rules v4's sources (graphminer.sources): repositories known from GH Archive alone are
    not git-only: issues, comments, reviews and where makers went are in the archive, so no
    milestone the truth dates is said to be not observable, and stats names the source."""
    truth, got, store, _, _, config = archived_world
    orgs = {name.lower() for name in load_config(str(config))["harvest"]["orgs"]}
    figures = json.loads(archive_cli("stats", "--json", "--as-of", truth["as_of"], "--store", str(store),
                                     "--config", str(config)).stdout)
    assert {row["org"] for row in figures["sources"]} == orgs
    assert all(row["sources"] == "archive" and row["not_observable"] == [] for row in figures["sources"])
    assert all(value is not None for value in figures["funnel"]["counts"].values()), figures["funnel"]
    key = next(key for key, entry in truth["makers"].items()
               if entry["milestones"]["first_issue"] and entry["milestones"]["first_comment"])
    answer = json.loads(archive_cli("trajectory", key, "--json", "--store", str(store),
                                    "--config", str(config)).stdout)
    assert answer["observable"] == {} and answer["approximate"] == {}
    assert answer["milestones"]["first_issue"] == got[key]["first_issue"] == truth["makers"][key]["milestones"]["first_issue"]


def test_the_docstring_examples_run():
    for module in (archive, archive_sql):
        failures, tried = doctest.testmod(module, report=False)
        assert tried > 0 and failures == 0, module.__name__


# --- author_association: evidence beside maintainer, never a milestone ------------------------------

LISTED = ("MEMBER", "COLLABORATOR", "OWNER")


def listed_in_files(hours: Path, orgs: set[str], as_of: str) -> dict[str, str]:
    """User id -> the first time the hours show GitHub listing them MEMBER, COLLABORATOR or
    OWNER on a network repo: the issue's, PR's, comment's and review's own authors, read
    with plain json."""
    first: dict[str, str] = {}
    for _, event in lines_of(hours):
        if event["repo"]["name"].split("/")[0].lower() not in orgs or event["created_at"] > as_of:
            continue
        payload = event["payload"]
        for part in ("issue", "pull_request", "comment", "review"):
            item = payload.get(part)
            if isinstance(item, dict) and item.get("user") and item.get("author_association") in LISTED:
                key = str(item["user"]["id"])
                first[key] = min(first.get(key, event["created_at"]), event["created_at"])
    return first


def test_collaborator_since_stands_beside_maintainer_and_dates_no_milestone(archived_world, tmp_path):
    truth, got, store, _, hours, config = archived_world
    orgs = {name.lower() for name in load_config(str(config))["harvest"]["orgs"]}
    expected = listed_in_files(hours, orgs, truth["as_of"])
    makers = [key for key, entry in truth["makers"].items() if not entry["is_bot"]]
    assert sum(key in expected for key in makers) >= 5
    conn = open_store(store, readonly=True)
    try:  # as of the end of the last hour read (the archive's clock): nothing after it in the files
        for key in makers:
            answer = maker_timeline(conn, load_config(str(config)), key)
            assert answer["evidence"] == {"collaborator_since": expected.get(key)}, key
    finally:
        conn.close()
    # the command shows it beside the milestones
    login = next(entry["login"] for key, entry in truth["makers"].items() if key in expected)
    shown = archive_cli("trajectory", login, "--json", "--store", str(store), "--config", str(config))
    answer = json.loads(shown.stdout)
    assert list(answer)[list(answer).index("milestones") + 1] == "evidence"
    assert answer["evidence"]["collaborator_since"] == expected[answer["key"]]
    # stats: maintainers listed before, on, after their maintainer date (the truth's), or not
    figures = json.loads(archive_cli("stats", "--json", "--as-of", truth["as_of"], "--store", str(store),
                                     "--config", str(config)).stdout)["collaborators"]
    maintainers = {key: entry["milestones"]["maintainer"] for key, entry in truth["makers"].items()
                   if entry["milestones"]["maintainer"] and not entry["is_bot"]}
    counts = Counter("not_listed" if key not in expected else "listed_before" if expected[key][:10] < at[:10]
                     else "listed_on" if expected[key][:10] == at[:10] else "listed_after"
                     for key, at in maintainers.items())
    assert figures == {"maintainers": len(maintainers), "listed_before": counts["listed_before"],
                       "listed_on": counts["listed_on"], "listed_after": counts["listed_after"],
                       "not_listed": counts["not_listed"]}
    # it never dates a milestone: without any of it, every milestone stays where it was
    bare = tmp_path / "bare.sqlite"
    shutil.copy(store, bare)
    with sqlite3.connect(bare) as writer:
        writer.execute("DELETE FROM archive_associations")
    conn = open_store(bare)
    try:
        precompute.refresh(conn, load_config(str(config)))
    finally:
        conn.close()
    assert makers_of(bare, config, truth["as_of"]) == got
