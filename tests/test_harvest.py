"""The GitHub harvester against fakehub over HTTP, with real SQLite stores (issue #3,
"What it must show"). Ground truth comes from the hand-made world in
``test_harvest_world.py`` (an independent plain-dict model), or from a second harvest that
the behaviour under test must equal (full vs incremental, killed vs uninterrupted,
faulty vs fault-free)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import cli_fork
from harvest_support import warm_graphql
from test_harvest_world import apply_delta, build_world, sha, write

from graphminer.config import load_config
from graphminer.fakehub.testing import serve
from graphminer.harvest.progress import Progress
from graphminer.pipeline import harvest_github

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-3f9c2a"
HARVEST_TABLES = ("orgs", "org_members", "repos", "issues", "issue_comments", "issue_events",
                  "reviews", "review_comments", "pulls", "commits", "releases")
# What a GraphQL first harvest (the default, ``[harvest] api = "auto"``) cannot store as
# REST does (README "GraphQL first harvest"): an issue event's numeric id (provisional
# until REST reads the event; its node id, which both APIs give, is compared instead) and
# the issue id of a pull request (GraphQL's databaseId of a pull request is the PR's own).
# Stores are compared without them whatever API read them.
API_DEPENDENT = {"issue_events": ("id",), "issues": ("id",)}
# World collections, each harvested into the store table of the same name (one vocabulary).
WORLD_TABLES = ("issues", "issue_comments", "issue_events", "reviews", "review_comments",
                "commits", "releases")


# --- helpers ----------------------------------------------------------------------------


def config_file(folder: Path, *, opt_out: tuple[str, ...] = (), extra: str = "") -> Path:
    path = folder / "graphminer.toml"
    path.write_text(
        '[harvest]\norgs = ["civic", "town"]\n' + extra
        + "\n[people]\nopt_out = " + json.dumps(list(opt_out)) + "\n",
        encoding="utf-8")
    return path


def harvest_command(hub_url: str, folder: Path, *args: str) -> list[str]:
    config = folder / "graphminer.toml"
    if not config.exists():
        config_file(folder)
    return [sys.executable, "-m", "graphminer", "harvest", "--config", str(config),
            "--api-url", hub_url, "--store", str(folder / "store.sqlite"),
            "--cache", str(folder / "cache"), *args]


def environment(tokens: str | None = TOKEN, many: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITHUB_TOKENS")}
    if tokens is not None:
        env["GITHUB_TOKENS" if many else "GITHUB_TOKEN"] = tokens
    env["GRAPHMINER_CONFIG"] = ""
    return env


def harvest(hub_url: str, folder: Path, *args: str, env: dict | None = None,
            expect: int | None = 0) -> subprocess.CompletedProcess:
    folder.mkdir(parents=True, exist_ok=True)
    result = cli_fork.run(harvest_command(hub_url, folder, *args)[3:], env=env or environment(),
                          cwd=folder, timeout=300)  # [3:]: without `python -m graphminer`
    if expect is not None:
        assert result.returncode == expect, result.stdout + result.stderr
    return result


def rows(store: Path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return [tuple(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def deleted_repo_ids(store: Path) -> set[int]:
    return {row[0] for row in rows(store, "SELECT id FROM repos WHERE deleted_at IS NOT NULL")}


def typed_tables(store: Path) -> dict[str, list[tuple]]:
    """Every harvest table without raw JSON, repos deleted upstream left out."""
    gone = deleted_repo_ids(store)
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    tables = {}
    try:
        for table in HARVEST_TABLES:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")
                       if c[1] not in ("raw", "deleted_at")]
            found = [tuple(r) for r in conn.execute(f"SELECT {', '.join(columns)} FROM {table}")]
            found = [_without_api_dependent(table, columns, row) for row in found]
            if "repo_id" in columns:
                at = columns.index("repo_id")
                found = [r for r in found if r[at] not in gone]
            if table == "repos":
                found = [r for r in found if r[0] not in gone]
            tables[table] = sorted(found, key=repr)
    finally:
        conn.close()
    return tables


def _without_api_dependent(table: str, columns: list[str], row: tuple) -> tuple:
    """``row`` with the columns of ``API_DEPENDENT`` blanked (an issue's id only when it
    is a pull request: GraphQL gives a plain issue's id as REST does)."""
    blank = set(API_DEPENDENT.get(table, ()))
    if table == "issues" and not row[columns.index("is_pr")]:
        blank = set()
    return tuple(None if column in blank else value for column, value in zip(columns, row, strict=True))


def cost_since(hub, start: int) -> int:
    """What the requests after line ``start`` of fakehub's log cost: REST requests counted
    against the rate limit plus GraphQL points."""
    lines = hub.log_lines()[start:]
    return sum(line["graphql"]["cost"] if "graphql" in line else line["counted"] for line in lines)


def people(store: Path) -> dict[int, tuple]:
    return {row[0]: row[1:] for row in rows(store, "SELECT id, login, type, site_admin FROM people")}


def counted_since(hub, start: int) -> tuple[int, int]:
    """(requests, counted requests) in fakehub's log after line ``start``."""
    lines = hub.log_lines()[start:]
    return len(lines), sum(1 for line in lines if line["counted"])


def world_counts(world: dict, skip_repos: set[int]) -> dict[str, dict[int, int]]:
    """Records per collection and repo, as the harvest should store them."""
    wanted = {r["id"] for r in world["repos"] if not r["fork"] and r["id"] not in skip_repos}
    counts: dict[str, dict[int, int]] = {}
    for collection in WORLD_TABLES:
        per_repo: dict[int, int] = {}
        for record in world[collection]:
            if record["repo_id"] in wanted:
                per_repo[record["repo_id"]] = per_repo.get(record["repo_id"], 0) + 1
        counts[collection] = per_repo
    return counts


def store_counts(store: Path, skip_repos: set[int]) -> dict[str, dict[int, int]]:
    counts = {}
    for collection in WORLD_TABLES:
        found = rows(store, f"SELECT repo_id, COUNT(*) FROM {collection} GROUP BY repo_id")
        counts[collection] = {repo: n for repo, n in found if repo not in skip_repos}
    return counts


# --- what it must show ------------------------------------------------------------------


def test_full_harvest_stores_every_record_of_the_world(world_files, reference):
    world = json.loads(world_files["world"].read_text())
    assert store_counts(reference, set()) == world_counts(world, set())
    merged = {(i["repo_id"], i["number"]): (i["pull_request"]["merged_by_id"],
                                           i["pull_request"]["merge_commit_sha"])
              for i in world["issues"] if i["pull_request"] and i["pull_request"]["merged_at"]}
    stored = {(r, n): (by, sha) for r, n, by, sha in rows(
        reference, "SELECT repo_id, number, merged_by_id, merge_commit_sha FROM issues "
                   "WHERE merged_at IS NOT NULL")}
    assert stored == merged
    heads = {(i["repo_id"], i["number"]): i["pull_request"]["head_sha"]
             for i in world["issues"] if i["pull_request"]}
    assert dict(((r, n), h) for r, n, h in rows(
        reference, "SELECT repo_id, number, head_sha FROM issues WHERE is_pr=1")) == heads
    commit = next(c for c in world["commits"] if c["parents"] and c["author_id"])
    assert rows(reference, "SELECT author_id, parents, author_email FROM commits WHERE sha=?",
                commit["sha"]) == [(commit["author_id"], json.dumps(commit["parents"], separators=(",", ":")),
                                    commit["author"]["email"])]
    assert rows(reference, "SELECT fork FROM repos WHERE full_name='civic/forked'") == []
    assert {r[0] for r in rows(reference, "SELECT user_id FROM org_members WHERE org_id=100")} == {1, 2, 3}
    run = rows(reference, "SELECT status, requests, not_modified, failures FROM _runs")
    assert run[0][0] == "ok" and run[0][2] == 0 and json.loads(run[0][3]) == []


def test_incremental_equals_full(world_files, reference, tmp_path):
    nightly = tmp_path / "nightly"
    fresh = tmp_path / "fresh"
    with serve(world_files["world"]) as hub:
        harvest(hub.url, nightly)
        answer = hub.apply_delta(world_files["delta"])
        assert answer["applied"] == len(json.loads(world_files["delta"].read_text())["ops"])
        harvest(hub.url, nightly)
        harvest(hub.url, fresh)
    incremental, full = nightly / "store.sqlite", fresh / "store.sqlite"
    assert typed_tables(incremental) == typed_tables(full)

    # The repo deleted upstream keeps its records, marked with when it was found gone.
    assert deleted_repo_ids(incremental) == {206}
    assert rows(incremental, "SELECT COUNT(*) FROM issues WHERE repo_id=206") == [(4,)]
    assert deleted_repo_ids(full) == set()

    # People by id with their current login; extra people only from the deleted repo.
    inc_people, full_people = people(incremental), people(full)
    assert {k: inc_people[k] for k in full_people} == full_people
    assert inc_people[2][0] == "maker2-renamed"
    for extra in set(inc_people) - set(full_people):
        assert rows(incremental, "SELECT COUNT(*) FROM issues WHERE user_id=? AND repo_id!=206",
                    extra) == [(0,)]

    # Ground truth from the changed world, computed without the harvester.
    changed = json.loads(world_files["changed"].read_text())
    assert store_counts(full, set()) == world_counts(changed, set())
    assert rows(full, "SELECT state, merged_by_id FROM issues WHERE repo_id=201 AND number=3") == [
        ("closed", 4)]
    assert rows(full, "SELECT state FROM issues WHERE repo_id=201 AND number=7") == [("closed",)]
    # A merge brought an old-dated commit below the listing's first page: still harvested.
    assert rows(incremental, "SELECT message, committer_date FROM commits WHERE sha=?",
                sha(201, 3, "head")) == [("Fix the thing", "2024-01-01T16:00:00Z")]


def test_nothing_changed_costs_nothing_and_the_token_is_never_written(world_hub, tmp_path):
    """Over REST (``--full`` walks every page conditionally; with ``api = "auto"`` it is a
    GraphQL read again: test_harvest_graphql.py checks that path and its files)."""
    config_file(tmp_path, extra='api = "rest"\n')
    hub = world_hub
    begin = len(hub.log_lines())
    first_run = harvest(hub.url, tmp_path)
    first = len(hub.log_lines())
    assert counted_since(hub, begin)[1] > 50
    result = harvest(hub.url, tmp_path)
    sent, counted = counted_since(hub, first)
    assert {line["token"] for line in hub.log_lines()[begin:]} == {TOKEN}  # it was sent
    second = hub.log_lines()[first:]
    harvest(hub.url, tmp_path, "--full")  # ignores watermarks: walks every page, all 304s
    walked = hub.log_lines()[first + len(second):]
    assert sent > 0 and counted == 0
    assert walked and not [line for line in walked if line["counted"]]
    site_pages = [[line["query"].get("page") for line in run if line["path"] == "/repos/civic/site/issues"]
                  for run in (second, walked)]
    assert site_pages == [[None], [None, "2"]]
    run = rows(tmp_path / "store.sqlite",
               "SELECT requests, not_modified, records_new, records_updated FROM _runs WHERE id=2")
    assert run == [(sent, sent, 0, 0)]
    assert f"requests: {sent} made, {sent} of them free 304s" in result.stdout

    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "graphminer.toml"]
    assert any(p.name.startswith("http_cache") for p in written)
    for path in written:  # the HTTP cache, the store and their WAL files
        assert TOKEN.encode() not in path.read_bytes(), path
    for output in (first_run, result):
        assert TOKEN not in output.stdout + output.stderr


def test_incremental_equals_full_on_a_generated_world(tmp_path):
    """The generator's own deltas (a renamed user, an edited comment, a deleted repo...)."""
    subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate", "--seed", "3",
                    "--orgs", "2", "--repos-per-org", "4", "--makers", "60", "--years", "2",
                    "--delta-days", "2", "--no-truth", "--out", str(tmp_path / "gen")],
                   check=True, capture_output=True, cwd=tmp_path)
    world = load_world(tmp_path / "gen" / "world.json.gz")
    orgs = json.dumps([org["login"] for org in world["orgs"]])
    for name in ("nightly", "fresh"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "graphminer.toml").write_text(f"[harvest]\norgs = {orgs}\n")
    with serve(tmp_path / "gen" / "world.json.gz") as hub:
        harvest(hub.url, tmp_path / "nightly")
        for day in (1, 2):
            delta = tmp_path / "gen" / f"delta-{day}.json.gz"
            hub.apply_delta(delta)
            world = apply_delta(world, load_world(delta))
            harvest(hub.url, tmp_path / "nightly")
        harvest(hub.url, tmp_path / "fresh")
    nightly, fresh = tmp_path / "nightly" / "store.sqlite", tmp_path / "fresh" / "store.sqlite"
    assert typed_tables(nightly) == typed_tables(fresh)
    assert deleted_repo_ids(nightly) and not deleted_repo_ids(fresh)
    assert store_counts(fresh, set()) == world_counts(world, set())
    logins = {user["id"]: user["login"] for user in world["users"]}
    inc_people = people(nightly)
    assert all(inc_people[i][0] == logins[i] for i in people(fresh) if i in logins)


def load_world(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def harvest_killed_after(hub, folder: Path, requests_seen: int, env: dict | None = None) -> None:
    """Start a harvest and SIGKILL it once fakehub has logged ``requests_seen`` more lines."""
    start = len(hub.log_path.read_bytes().splitlines()) if hub.log_path.exists() else 0
    process = subprocess.Popen(harvest_command(hub.url, folder), env=env or environment(), cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while process.poll() is None:
            if len(hub.log_path.read_bytes().splitlines()) - start >= requests_seen:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.001)
    finally:
        process.wait(timeout=120)
    assert process.returncode == -signal.SIGKILL, "the harvest finished before it was killed"


def kill_points(reference: Path) -> tuple[int, int, int]:
    """Where to kill a harvest of the reference world: in the org listings, halfway, and
    near the end of the reference harvest's requests (GraphQL queries and REST alike)."""
    requests = rows(reference, "SELECT requests FROM _runs ORDER BY id")[0][0]
    return 4, requests // 2, requests * 5 // 6


def test_killed_it_loses_nothing(world_hub, reference, tmp_path):
    hub = world_hub
    for point in kill_points(reference):
        harvest_killed_after(hub, tmp_path, point)
    harvest(hub.url, tmp_path)
    store = tmp_path / "store.sqlite"
    assert typed_tables(store) == typed_tables(reference)
    assert people(store) == people(reference)
    statuses = [row[0] for row in rows(store, "SELECT status FROM _runs ORDER BY id")]
    assert statuses == ["killed", "killed", "killed", "ok"]


def test_faults_give_the_same_store(world_files, reference, tmp_path):
    faults = "error=0.05,drop=0.02,truncate=0.02,secondary=0.03,seed=11"
    with serve(world_files["world"], faults=faults) as hub:
        result = harvest(hub.url, tmp_path)
        log = hub.log_lines()
    assert typed_tables(tmp_path / "store.sqlite") == typed_tables(reference)
    statuses = [line["status"] for line in log]
    assert sum(1 for s in statuses if s in (500, 502, 503)) >= 2
    assert sum(1 for line in log if line.get("fault") in ("drop", "truncate")) >= 2
    secondary = [n for n, line in enumerate(log) if line.get("fault") == "secondary"]
    assert secondary  # each answered "Retry-After: 1": the next request waited for it
    for n in secondary:
        gap = stamp(log[n + 1]["ts"]) - stamp(log[n]["ts"])
        assert gap >= 0.95, (log[n], log[n + 1])
    assert "failed repos" not in result.stdout


def stamp(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def test_empty_repo_is_normal_and_gone_repo_is_recorded_deleted(world_files, tmp_path):
    gone = write({"format": 1, "now": "2024-07-01T00:00:00Z",
                  "ops": [{"op": "delete", "kind": "repos", "id": 206}]}, tmp_path / "gone.json")

    class DeleteWhenReached(Progress):
        """Deletes civic/gone-soon upstream after it was listed, just before it is fetched."""

        def __init__(self, hub) -> None:
            super().__init__(enabled=False)
            self.hub = hub

        def show(self, text: str, *position: int) -> None:
            if text == "civic/gone-soon":
                self.hub.apply_delta(gone)

    config = load_config(config_file(tmp_path))
    with serve(world_files["world"]) as hub:
        summary = harvest_github(config, api_url=hub.url, store_path=tmp_path / "store.sqlite",
                                 cache_dir=tmp_path / "cache", tokens=[TOKEN],
                                 say=lambda message: None, progress=DeleteWhenReached(hub))
        gone_requests = [line for line in hub.log_lines() if "gone-soon" in line["path"]]
    assert summary.failures == [] and summary.status == "ok"
    assert [line["status"] for line in gone_requests] == [404]
    store = tmp_path / "store.sqlite"
    assert deleted_repo_ids(store) == {206}
    assert rows(store, "SELECT COUNT(*) FROM commits WHERE repo_id=202") == [(0,)]
    assert rows(store, "SELECT deleted_at FROM repos WHERE id=202") == [(None,)]


def test_blocked_repo_is_reported_and_the_others_harvested(tmp_path):
    world = build_world(blocked=True)
    with serve(write(world, tmp_path / "world.json")) as hub:
        result = harvest(hub.url, tmp_path / "h", expect=1)
    assert "civic/blocked: HTTP 451" in result.stdout
    assert "Traceback" not in result.stderr
    store = tmp_path / "h" / "store.sqlite"
    status, failures = rows(store, "SELECT status, failures FROM _runs")[0]
    assert status == "partial" and [f["repo"] for f in json.loads(failures)] == ["civic/blocked"]
    assert store_counts(store, {207}) == world_counts(world, {207})


def test_rate_limits_sleep_or_switch_and_finish_complete(tmp_path):
    world = write(build_world(issues_in_site=20), tmp_path / "world.json")
    with serve(world) as hub:
        harvest(hub.url, tmp_path / "unlimited")
    with serve(world, rate_limit=12, rate_window=1.5) as hub:
        switched = harvest(hub.url, tmp_path / "tokens", env=environment("tok-a,tok-b,tok-c", many=True))
        by_token = hub.stats()["by_token"]
    # 10 requests a window of 6 s, where a harvest needs about 30 (10 requests never take
    # 6 s, however busy the machine, once GitHub's schema is built by a query with another
    # token): it must sleep.
    with serve(world, rate_limit=10, rate_window=6.0) as hub:
        warm_graphql(hub)
        slept = harvest(hub.url, tmp_path / "sleeps")
        rejected = [line for line in hub.log_lines() if line["status"] == 403]
    reference = typed_tables(tmp_path / "unlimited" / "store.sqlite")
    assert typed_tables(tmp_path / "tokens" / "store.sqlite") == reference
    assert typed_tables(tmp_path / "sleeps" / "store.sqlite") == reference
    assert len([t for t, n in by_token.items() if n["counted"] > 0]) >= 2
    assert "resuming at" in slept.stderr
    assert rejected == []  # it waited before the limit, never hammering past it
    for output in (switched.stdout + switched.stderr, slept.stdout + slept.stderr):
        assert "tok-" not in output


# --- bad input --------------------------------------------------------------------------


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_no_token_warns_then_harvests(world_hub, tmp_path):
    start = len(world_hub.log_lines())
    result = harvest(world_hub.url, tmp_path, "--org", "town", env=environment(None))
    assert {line["token"] for line in world_hub.log_lines()[start:]} == {None}
    assert "60" in result.stderr and "GITHUB_TOKEN" in result.stderr
    assert rows(tmp_path / "store.sqlite", "SELECT COUNT(*) FROM issues") == [(9,)]


def test_bad_token_unknown_org_and_config_errors_are_one_line(world_hub, tmp_path):
    hub = world_hub
    bad = harvest(hub.url, tmp_path / "bad", env=environment("bad-token-1"), expect=None)
    several = harvest(hub.url, tmp_path / "several", env=environment("good,bad-2", many=True),
                      expect=None)
    unknown = harvest(hub.url, tmp_path / "unknown", "--org", "nosuchorg", expect=None)
    assert "401" in one_line_error(bad) and "bad-token-1" not in bad.stderr
    message = one_line_error(several)
    assert "#2" in message and "bad-2" not in message
    assert "nosuchorg" in one_line_error(unknown)
    assert rows(tmp_path / "unknown" / "store.sqlite", "SELECT COUNT(*) FROM repos") == [(0,)]
    folder = tmp_path / "config"
    folder.mkdir()
    config_file(folder, extra="include_forks = \"yes\"\n")
    wrong = harvest("http://127.0.0.1:9", folder, expect=None)
    assert "harvest.include_forks" in one_line_error(wrong)
    config_file(folder)
    unreachable = harvest("http://127.0.0.1:9", folder, expect=None)
    assert unreachable.returncode == 1  # not bad input: the README's exit codes
    assert "cannot reach" in unreachable.stderr and len(unreachable.stderr.strip().splitlines()) == 1
    scheme = harvest("ftp://127.0.0.1:9", folder, expect=None)
    assert "--api-url" in one_line_error(scheme)


def test_store_from_a_newer_graphminer_is_refused_untouched(tmp_path):
    store = tmp_path / "store.sqlite"
    conn = sqlite3.connect(store)  # a rollback-journal file: even WAL mode would be a change
    conn.execute("CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
    conn.execute("INSERT INTO _migrations VALUES (999, 'future', '2030-01-01T00:00:00Z')")
    conn.commit()
    conn.close()
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    result = harvest("http://127.0.0.1:9", tmp_path, expect=None)
    assert "newer" in one_line_error(result)
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before


def test_opted_out_people_are_never_stored_and_purged(world_hub, tmp_path):
    hub = world_hub
    harvest(hub.url, tmp_path)
    store = tmp_path / "store.sqlite"
    assert rows(store, "SELECT COUNT(*) FROM issues WHERE user_id=5")[0][0] > 0
    config_file(tmp_path, opt_out=("Maker5", "maker7@example.org"))
    harvest(hub.url, tmp_path)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    config_file(fresh, opt_out=("maker5", "maker7@example.org"))
    harvest(hub.url, fresh)
    for path in (store, fresh / "store.sqlite"):
        assert rows(path, "SELECT COUNT(*) FROM people WHERE id=5") == [(0,)]
        for table, column in (("issues", "user_id"), ("issue_comments", "user_id"),
                              ("issue_events", "actor_id"), ("reviews", "user_id"),
                              ("org_members", "user_id"), ("commits", "author_id")):
            assert rows(path, f"SELECT COUNT(*) FROM {table} WHERE {column}=5") == [(0,)], table
        assert rows(path, "SELECT COUNT(*) FROM commits WHERE author_email='maker7@example.org'") == [(0,)]
        for table in HARVEST_TABLES:
            if table != "org_members":
                assert rows(path, f"SELECT COUNT(*) FROM {table} WHERE raw LIKE '%\"login\":\"maker5\"%'") == [(0,)]
        assert rows(path, "SELECT COUNT(*) FROM issues WHERE user_id=6")[0][0] > 0
    assert typed_tables(store) == typed_tables(fresh / "store.sqlite")


def test_cache_is_pruned_of_responses_unused_for_cache_days(world_hub, tmp_path):
    cache = tmp_path / "cache" / "http_cache.sqlite"
    hub = world_hub
    harvest(hub.url, tmp_path)
    # As if cache_days had passed since every response was last used.
    conn = sqlite3.connect(cache)
    with conn:
        conn.execute("UPDATE responses SET expires = 1")
    conn.close()
    start = len(hub.log_lines())
    harvest(hub.url, tmp_path, "--org", "town")
    town_run = hub.log_lines()[start:]
    assert town_run and all(line["status"] == 304 for line in town_run)
    kept = rows(cache, "SELECT COUNT(*) FROM responses")[0][0]
    start = len(hub.log_lines())
    harvest(hub.url, tmp_path)
    full_run = hub.log_lines()[start:]
    assert kept == len({(line["path"], json.dumps(line["query"], sort_keys=True)) for line in town_run})
    civic = [line for line in full_run if "/civic" in line["path"]]
    town = [line for line in full_run if "/town" in line["path"]]
    assert civic and all(line["status"] != 304 for line in civic)  # pruned: fetched afresh
    assert town and all(line["status"] == 304 for line in town)  # used: kept


def test_one_harvest_at_a_time_and_reads_while_it_writes(world_files, tmp_path):
    from graphminer.store import open_store

    with serve(world_files["world"], faults="slow=1.0") as hub:  # every request takes 2 s
        first = subprocess.Popen(harvest_command(hub.url, tmp_path), env=environment(), cwd=tmp_path,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            store = tmp_path / "store.sqlite"
            deadline = time.monotonic() + 60
            while not hub.log_path.exists() or not hub.log_path.read_bytes().strip():
                assert time.monotonic() < deadline and first.poll() is None
                time.sleep(0.05)
            second = harvest(hub.url, tmp_path, expect=None)
            reader = open_store(store, readonly=True)
            try:
                runs = reader.execute("SELECT status, pid FROM _runs").fetchall()
            finally:
                reader.close()
            assert first.poll() is None
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
    message = one_line_error(second)
    assert "another harvest" in message and f"pid {first.pid}" in message
    assert [tuple(run) for run in runs] == [("running", first.pid)]


def test_profile_fields_only_when_asked(world_files, world_hub, tmp_path):
    world = json.loads(world_files["world"].read_text())
    names = {user["id"]: user["name"] for user in world["users"]}
    hub = world_hub
    start = len(hub.log_lines())
    harvest(hub.url, tmp_path / "plain", "--org", "town")
    assert not [line for line in hub.log_lines()[start:] if line["path"].startswith("/users/")]
    start = len(hub.log_lines())
    (tmp_path / "profiles").mkdir()
    config_file(tmp_path / "profiles", extra="profile_fields = true\n")
    harvest(hub.url, tmp_path / "profiles", "--org", "town")
    lookups = [line for line in hub.log_lines()[start:] if line["path"].startswith("/users/")]
    stored = rows(tmp_path / "profiles" / "store.sqlite", "SELECT id, name FROM people")
    assert len(lookups) == len(stored) > 0
    assert {i: name for i, name in stored} == {i: names[i] for i, _ in stored}
    assert rows(tmp_path / "plain" / "store.sqlite", "SELECT COUNT(*) FROM people WHERE name IS NOT NULL") == [(0,)]
