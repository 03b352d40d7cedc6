"""GH Archive's edge hours (issue 24), each against the files read independently with plain
json and against fakehub's truth of what the files show: a partial download (resumed, a
``.part`` never read as whole), a missing (404) hour, an event filed an hour late and twice
(from 2025-05-24), a trimmed payload (from 2025-10-07), a pre-2015 Timeline event. Nothing
is invented and nothing is counted twice. Downloads go over HTTP to ``fakehub serve
--gharchive``; the worlds are small and shared by the module."""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
import requests
from archive_support import (
    IN_NETWORK,
    agreement,
    archive_cli,
    generated_hours,
    lines_of,
    makers_of,
    read_and_derive,
    read_hours,
    write_config,
)

from graphminer.config import load_config
from graphminer.fakehub.generator import load_json
from graphminer.fakehub.gharchive import write_gharchive
from graphminer.fakehub.testing import serve
from graphminer.harvest import archive

CRAWL_FROM = datetime(2025, 5, 24, tzinfo=UTC)
TRIMMED_FROM = datetime(2025, 10, 7, tzinfo=UTC)
SMALL_BATCHES = range(16, 3, -1)  # hours a query tried: the first whose batches split some copies, not all


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def copies_split(hours, batch_files: int) -> set[int]:
    """For each event filed in more than one hour: in how many batches of ``batch_files``
    hours its copies fall (plain json reading of the ids)."""
    files_of: dict[str, set[str]] = defaultdict(set)
    for name, event in lines_of(hours):
        files_of[event["id"]].add(name)
    batch_of = {path.name: index for index, batch in enumerate(
        archive.batches(archive.files_in(str(hours)), batch_files)) for path in batch}
    return {len({batch_of[name] for name in names}) for names in files_of.values() if len(names) > 1}


def harvested(folder, *, now: str, batch_files: int | range = archive.BATCH_FILES) -> dict:
    """A small world written as hours and read in-process (then identities and precompute,
    as the command does): its hours, config, store, summary, truth and makers. A range of
    ``batch_files``: the first size whose batches hold some twice-filed event's copies
    together and split another's."""
    hours, orgs = generated_hours(folder, makers=30, years=2, now=now)
    if isinstance(batch_files, range):
        batch_files = next((size for size in batch_files if copies_split(hours, size) == {1, 2}), batch_files[0])
    config_path = write_config(folder, orgs)
    config = load_config(str(config_path))
    store = folder / "store.sqlite"
    summary = read_and_derive(config, store, archive.files_in(str(hours)), batch_files=batch_files)
    truth = json.loads((hours / "truth.json").read_text())
    return {"hours": hours, "config": config, "config_path": config_path, "store": store, "summary": summary,
            "truth": truth, "makers": makers_of(store, config_path, truth["as_of"]), "folder": folder,
            "batch_files": batch_files}


@pytest.fixture(scope="module")
def crawl_world(tmp_path_factory):
    """2024 to 2025: the events era, the crawl era (late, twice-filed, lost events), trimmed payloads."""
    return harvested(tmp_path_factory.mktemp("crawl"), now="2025-12-31T23:59:59Z", batch_files=SMALL_BATCHES)


@pytest.fixture(scope="module")
def timeline_world(tmp_path_factory):
    """2013 to 2015: Timeline hours, then the Events API."""
    return harvested(tmp_path_factory.mktemp("timeline"), now="2015-03-31T23:59:59Z")


# --- an event filed an hour late, and twice -------------------------------------------------------

def test_a_late_filed_event_is_read_once_at_its_own_time(crawl_world):
    files_of: dict[str, list[str]] = defaultdict(list)
    event_of: dict[str, dict] = {}
    lines = 0
    for name, event in lines_of(crawl_world["hours"]):
        files_of[event["id"]].append(name)
        event_of[event["id"]] = event
        lines += 1
    twice = {event_id for event_id, names in files_of.items() if len(names) > 1}
    late = {event_id for event_id, names in files_of.items()
            if archive.hour_of(names[0]) > utc(event_of[event_id]["created_at"]).replace(minute=0, second=0)}
    assert twice and late and all(utc(event_of[event_id]["created_at"]) >= CRAWL_FROM for event_id in twice | late)
    # some copies sit in two batches of the read, some in one
    assert copies_split(crawl_world["hours"], crawl_world["batch_files"]) == {1, 2}

    summary = crawl_world["summary"]
    assert summary.events == len(files_of) and summary.duplicates == lines - len(files_of)
    assert summary.by_type == Counter(event["type"] for event in event_of.values())
    conn = sqlite3.connect(crawl_world["store"])
    stored = dict(conn.execute("SELECT id, created_at FROM archive_events"))
    assert stored == {int(event_id): event["created_at"] for event_id, event in event_of.items()}
    comments = {event["payload"]["comment"]["id"] for event in event_of.values() if event["type"] == "IssueCommentEvent"}
    assert {row[0] for row in conn.execute("SELECT id FROM issue_comments")} == comments
    # the crawl era read again: nothing new
    crawl = [path for path in archive.files_in(str(crawl_world["hours"])) if archive.hour_of(path.name) >= CRAWL_FROM]
    again = read_hours(crawl_world["config"], crawl_world["store"], crawl)
    assert again.stored == 0 and again.events == len({event_id for event_id, names in files_of.items()
                                                      if set(names) & {path.name for path in crawl}})


@pytest.mark.parametrize("lanes", [1, 3])
def test_each_lane_reads_its_share_and_the_events_are_read_once(crawl_world, lanes):
    # a batch's files dealt to 1 or 3 lanes (connections of one thread each), the next batch
    # read while this one's rows are taken: the counts and the selected events are what plain
    # json reading gives, with copies of a twice-filed event in different lanes read once
    events: dict[str, dict] = {}
    lines = 0
    for _, event in lines_of(crawl_world["hours"]):
        events[event["id"]] = event
        lines += 1
    reader = archive.Reader(archive.network_selection(sqlite3.connect(crawl_world["store"]), crawl_world["config"],
                                                      False, False), lanes=lanes)
    by_type: Counter = Counter()
    duplicates, read = 0, []
    try:
        for batch, counts, rows in reader.read_all(archive.batches(archive.files_in(str(crawl_world["hours"])),
                                                                   crawl_world["batch_files"])):
            assert len(batch) < 2 or len(archive.lane_shares([str(path) for path in batch], lanes)) == \
                min(lanes, len(batch))
            by_type.update(counts["by_type"])
            duplicates += counts["duplicates"]
            read += [row["event_id"] for row in rows]
    finally:
        reader.close()
    assert by_type == Counter(event["type"] for event in events.values())
    assert duplicates == lines - len(events)
    orgs = {org.lower() for org in crawl_world["config"]["harvest"]["orgs"]}
    network = {int(event_id) for event_id, event in events.items()
               if event["repo"]["name"].split("/")[0].lower() in orgs
               or ((event.get("org") or {}).get("login") or "").lower() in orgs}
    assert len(read) == len(set(read)) and set(read) == network


# --- trimmed payloads (2025-10-07 on) -------------------------------------------------------------

def test_a_trimmed_payload_is_not_observable_and_nothing_is_invented(crawl_world):
    events = {event["id"]: event for _, event in lines_of(crawl_world["hours"])}
    trimmed = [event for event in events.values() if utc(event["created_at"]) >= TRIMMED_FROM]
    pushes = [event for event in trimmed if event["type"] == "PushEvent"]
    pulls = [event for event in trimmed if event["type"] == "PullRequestEvent"]
    assert pushes and pulls and all("commits" not in event["payload"] for event in pushes)
    assert all("user" not in event["payload"]["pull_request"] for event in pulls)
    unassociated = [event for event in trimmed
                    if event["type"] in ("IssuesEvent", "IssueCommentEvent", "PullRequestReviewCommentEvent")]
    assert crawl_world["summary"].not_observable == {
        "pushes_without_commits": len(pushes), "pull_requests_without_author_or_merge": len(pulls),
        "items_without_author_association": len(unassociated)}

    conn = sqlite3.connect(crawl_world["store"])
    # no commit, no association, no merge the trimmed hours do not show
    assert conn.execute("SELECT count(*) FROM commits WHERE pushed_at >= '2025-10-07'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM archive_associations WHERE at >= '2025-10-07'").fetchone()[0] == 0
    merged_before = {(event["repo"]["id"], event["payload"]["number"]) for event in events.values()
                     if event["type"] == "PullRequestEvent" and event["payload"]["pull_request"].get("merged")}
    closed_trimmed = {(event["repo"]["id"], event["payload"]["number"]) for event in pulls
                      if event["payload"]["action"] == "closed"} - merged_before
    assert closed_trimmed
    for repo_id, number in closed_trimmed:
        assert conn.execute("SELECT merged_at, merged_by_id FROM issues WHERE repo_id = ? AND number = ?",
                            (repo_id, number)).fetchone() in (None, (None, None))
    # a trimmed PR opened shows who opened it: its author
    for event in pulls:
        if event["payload"]["action"] == "opened":
            assert conn.execute("SELECT user_id FROM issues WHERE repo_id = ? AND number = ?",
                                (event["repo"]["id"], event["payload"]["number"])).fetchone() == (event["actor"]["id"],)
    # and the milestones are those the files show
    for name in IN_NETWORK:
        assert agreement(crawl_world["truth"], crawl_world["makers"], (name,)) >= 0.99, name


# --- the Timeline (before 2015) -------------------------------------------------------------------

def test_a_timeline_event_is_read_as_it_was_and_once(timeline_world):
    lines = [event for _, event in lines_of(timeline_world["hours"])]
    timeline = [event for event in lines if "id" not in event]
    assert timeline and all("repository" in event and isinstance(event["actor"], str) for event in timeline)
    summary = timeline_world["summary"]
    assert summary.events == len(lines) and summary.by_type == Counter(event["type"] for event in lines)
    conn = sqlite3.connect(timeline_world["store"])
    assert conn.execute("SELECT count(*) FROM archive_events WHERE id < 0").fetchone()[0] == len(timeline)
    eras = dict(conn.execute("SELECT day, era FROM archive_coverage"))
    assert {eras[utc(event["created_at"]).strftime("%Y-%m-%d")] for event in timeline} == {"timeline"}

    # an issue opened in the Timeline: by the account the login names, at its UTC time, or not at all
    world = load_json(timeline_world["folder"] / "world" / "world.json.gz")
    account = {user["login"]: user["id"] for user in world["users"]}
    opened = [event for event in timeline if event["type"] == "IssuesEvent" and event["payload"]["action"] == "opened"]
    found = 0
    for event in opened:
        row = conn.execute("SELECT user_id, created_at FROM issues WHERE repo_id = ? AND number = ?",
                           (event["repository"]["id"], event["payload"]["number"])).fetchone()
        if row is not None:
            found += 1
            assert row == (account[event["actor"]], utc(event["created_at"]).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert found >= len(opened) // 2
    # read again: nothing new (Timeline events have no id: theirs comes from their content)
    hours = [path for path in archive.files_in(str(timeline_world["hours"])) if path.name < "2015"]
    again = read_hours(timeline_world["config"], timeline_world["store"], hours)
    assert again.stored == 0 and again.events == len(timeline)
    assert conn.execute("SELECT count(*) FROM archive_events").fetchone()[0] == len(lines)
    for name in IN_NETWORK:
        assert agreement(timeline_world["truth"], timeline_world["makers"], (name,)) >= 0.99, name


# --- downloads: partial, missing -----------------------------------------------------------------

@pytest.fixture(scope="module")
def served_day(crawl_world, tmp_path_factory):
    """The crawl world's busiest day written again with one of its hours left out."""
    days = Counter(name.rsplit("-", 1)[0] for name in (path.name for path in crawl_world["hours"].glob("*.json.gz")))
    day = max(sorted(days), key=days.get)
    written = sorted(path.name for path in crawl_world["hours"].glob(f"{day}-*.json.gz"))
    gap = written[0]
    outdir = tmp_path_factory.mktemp("served")
    world = load_json(crawl_world["folder"] / "world" / "world.json.gz")
    write_gharchive(world, outdir, start=day, end=day, missing_hours=(gap,))
    return day, gap, outdir


def test_fakehub_serves_the_hours_as_data_gharchive_org_does(served_day, tmp_path):
    """``fakehub serve --gharchive OUTDIR`` (a process, no world): each written hour whole or
    from a byte (206), 416 past its end, 404 for an hour not written and for anything that
    is no hour (truth.json, a way out of the folder); a folder that is not there is refused."""
    day, gap, outdir = served_day
    name = sorted(path.name for path in outdir.glob(f"{day}-*.json.gz"))[-1]
    data = (outdir / name).read_bytes()
    with serve(None, gharchive=outdir) as hub:
        base = hub.url + "/gharchive/"
        whole = requests.get(base + name, timeout=30)
        assert (whole.status_code, whole.content, whole.headers["Content-Type"]) == (200, data, "application/gzip")
        part = requests.get(base + name, headers={"Range": "bytes=100-"}, timeout=30)
        assert (part.status_code, part.content) == (206, data[100:])
        assert part.headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
        past = requests.get(base + name, headers={"Range": f"bytes={len(data)}-"}, timeout=30)
        assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(data)}"
        for other in (gap, "truth.json", "..%2Ftruth.json", f"{day}-1.json", "x" + name):
            assert requests.get(base + other, timeout=30).status_code == 404, other
        assert requests.get(hub.url + "/orgs/anyone", timeout=30).status_code == 404  # no world served
    refused = archive_cli("fakehub", "serve", "--gharchive", str(tmp_path / "absent"))
    assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1, refused.output
    assert "no such folder" in refused.output


def test_a_partial_download_is_resumed_and_never_read_as_whole(served_day, tmp_path):
    day, _, outdir = served_day
    hours = archive.hours_between(utc(day + "T00:00:00Z"), utc(day + "T23:00:00Z"))
    whole = {path.name: path.read_bytes() for path in outdir.glob(f"{day}-*.json.gz")}
    cache = tmp_path / "gharchive"
    with serve(None, gharchive=outdir, faults="truncate=1") as hub:  # every download breaks off midway
        done, missing = archive.download_hours(hub.url + "/gharchive", hours, cache)
    parts = {path.name.removesuffix(".part"): path.stat().st_size for path in cache.glob("*.part")}
    assert done == [] and set(parts) == set(whole)
    assert all(0 < size < len(whole[name]) for name, size in parts.items())
    assert archive.files_in(str(cache)) == []  # a .part is no hour: a read of the folder takes none
    with serve(None, gharchive=outdir) as hub:
        done, missing = archive.download_hours(hub.url + "/gharchive", hours, cache)
        log = [line for line in hub.log_lines() if line["status"] != 404]
    assert {path.name: path.read_bytes() for path in done} == whole and not list(cache.glob("*.part"))
    assert {archive.hour_file(hour) for hour in missing} == {archive.hour_file(hour) for hour in hours} - set(whole)
    # each was resumed where its part ended, never fetched again from the start
    assert {line["path"].rsplit("/", 1)[1]: (line["status"], line.get("range")) for line in log} == \
        {name: (206, f"bytes={size}-") for name, size in parts.items()}


def test_a_missing_hour_is_recorded_missing_not_an_error(served_day, tmp_path):
    day, gap, outdir = served_day
    written = {path.name for path in outdir.glob(f"{day}-*.json.gz")}
    assert gap not in written
    config = write_config(tmp_path, [], follow=False)
    store = tmp_path / "store.sqlite"
    with serve(None, gharchive=outdir) as hub:
        args = ("harvest-archive", "--from", day, "--to", day, "--base-url", hub.url + "/gharchive",
                "--all", "--config", str(config), "--store", str(store), "--json")
        done = archive_cli(*args)
        assert done.exit_code == 0, done.output
        first = json.loads(done.stdout.strip().splitlines()[-1])
        downloads = len([line for line in hub.log_lines() if line["status"] == 200])
        again = json.loads(archive_cli(*args).stdout.strip().splitlines()[-1])
        # the whole hours are kept in the cache: only the missing ones are asked for again
        assert len([line for line in hub.log_lines() if line["status"] == 200]) == downloads == len(written)
    assert first["hours_read"] == len(written) and first["hours_missing"] == 24 - len(written)
    moment = utc(day + "T00:00:00Z")  # the day's era, from the dates the test itself names
    era = "trimmed" if moment >= TRIMMED_FROM else "crawl" if moment >= CRAWL_FROM else "events"
    assert first["coverage"] == [{"day": day, "hours": len(written), "era": era}]
    lines = sum(len(gzip.open(outdir / name).read().splitlines()) for name in written)
    assert first["events"] + first.get("duplicates", 0) <= lines and first["events"] > 0
    conn = sqlite3.connect(store)
    gap_key = archive.hour_key(archive.hour_of(gap))
    assert conn.execute("SELECT status FROM _archive_hours WHERE hour = ?", (gap_key,)).fetchone() == ("missing",)
    assert conn.execute("SELECT hours_read, hours_missing FROM archive_coverage WHERE day = ?", (day,)).fetchone() == \
        (len(written), 24 - len(written))
    assert again["stored"] == 0 and again["events"] == first["events"]


def test_a_line_longer_than_duckdbs_default_buffer_is_read_whole(tmp_path):
    # an hour whose push lists a commit with a 40 MB message (DuckDB's default buffer refuses
    # such a line): the batch is read again with a large buffer, nothing lost or cut
    message = "m" * (40 << 20)
    lines = [{"id": "1", "type": "WatchEvent", "created_at": "2015-01-01T12:00:00Z",
              "actor": {"id": 7, "login": "ana"}, "repo": {"id": 9, "name": "civic/app"}, "payload": {}},
             {"id": "2", "type": "PushEvent", "created_at": "2015-01-01T12:00:01Z",
              "actor": {"id": 7, "login": "ana"}, "repo": {"id": 9, "name": "civic/app"},
              "payload": {"push_id": 3, "size": 1, "distinct_size": 1, "ref": "refs/heads/main", "head": "a" * 40,
                          "commits": [{"sha": "a" * 40, "author": {"email": "ana@example.org", "name": "Ana"},
                                       "message": message, "distinct": True}]}},
             {"id": "3", "type": "ForkEvent", "created_at": "2015-01-01T12:00:02Z",
              "actor": {"id": 8, "login": "ben"}, "repo": {"id": 9, "name": "civic/app"}, "payload": {}}]
    hour = tmp_path / "2015-01-01-12.json.gz"
    with gzip.open(hour, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(line) + "\n" for line in lines)
    reader = archive.Reader(archive.sql.Selection(owners={"civic"}))
    try:
        counts, rows = reader.read([hour])
    finally:
        reader.close()
    assert counts["by_type"] == {"WatchEvent": 1, "PushEvent": 1, "ForkEvent": 1}
    assert [row["event_id"] for row in rows] == [1, 2, 3]
    assert [commit["message"] for commit in rows[1]["commits"]] == [message]
