"""The harvester through real GitHub's hard edges (issue 9), against a real fakehub process
over HTTP with each edge switched on, into real SQLite stores. Ground truth: a plain
harvest of the same world (fakehub's defaults, the ``reference`` of test_harvest.py), and
after a delta a fresh harvest of the changed world; each test also checks the edge was met.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest
from harvest_support import warm_graphql
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
from test_harvest_world import apply_delta, build_world, write

from graphminer.api import open_store
from graphminer.events import GHOST_ID
from graphminer.fakehub.generator import generate_world
from graphminer.fakehub.testing import serve
from graphminer.harvest.ratelimit import TokenPool
from graphminer.harvest.session import HarvestSession, github_client

THREE_TOKENS = "tok-edge-a1,tok-edge-b2,tok-edge-c3"


def harvest_through_a_delta(world_files, folder: Path, api: str | None = None,
                            **edges) -> tuple[dict, Path, int, list[dict]]:
    """Harvest the world with ``edges`` on (``api``: how issues and PRs are read, the
    default's when None), apply the delta, harvest again, then a quiet night: (the first
    store's tables, the store, the quiet night's counted requests, fakehub's log)."""
    if api is not None:
        folder.mkdir(parents=True, exist_ok=True)
        config_file(folder, extra=f'api = "{api}"\n')
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


def graphql_points(log: list[dict]) -> int:
    return sum(line["graphql"]["cost"] for line in log if "graphql" in line)


@pytest.fixture(scope="module")
def fresh_changed(world_files, tmp_path_factory) -> dict:
    """A plain harvest of the world after the delta (made once for the module)."""
    folder = tmp_path_factory.mktemp("fresh-changed")
    with serve(world_files["changed"]) as hub:
        harvest(hub.url, folder)
    return typed_tables(folder / "store.sqlite")


@pytest.mark.parametrize("api", ["rest", "auto"])
def test_refused_deep_pages_lose_nothing_and_a_quiet_night_stays_free(world_files, reference,
                                                                       fresh_changed, tmp_path, api):
    """Over REST the cap is met on the first harvest; over GraphQL (auto) the first
    harvest never pages that deep, and the REST nights after it stay within the cap."""
    first, store, quiet, log = harvest_through_a_delta(world_files, tmp_path / "capped",
                                                       api=api, page_cap=50)
    assert first == typed_tables(reference)
    assert typed_tables(store) == fresh_changed
    assert quiet == 0
    if api == "auto":
        assert any("graphql" in line for line in log)
        return
    refused = {line["path"].rsplit("/", 2)[-2:][-1] for line in log if line["status"] == 422}
    assert {"issues", "comments", "events"} <= refused  # the cap was met on all three
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
        hub.advance_clock(3)  # the next night: every token's window has reset (fakehub's clock)
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


def test_429_is_waited_out_like_the_403_primary_limit(world_files, reference, tmp_path):
    """Two harvests share one token and keep no reserve, so each one's count of what is
    left goes stale and GitHub refuses some requests with 429: both wait for the reset and
    lose nothing."""
    # the two harvests together need more than a window's requests (a first harvest of the
    # reference's world: every REST request it made was counted)
    limit = max(5, rows(reference, "SELECT requests FROM _runs")[0][0] * 2 // 3)
    folders = [tmp_path / "one", tmp_path / "two"]
    for folder in folders:
        folder.mkdir()
        config_file(folder, extra="rate_floor = 0\n")
    # A window of 5 s: never enough for two harvests' requests, however busy the machine,
    # once GitHub's schema is built (by a query with another token).
    with serve(world_files["world"], rate_limit=limit, rate_window=5.0, limit_status="429") as hub:
        warm_graphql(hub)
        processes = [subprocess.Popen(harvest_command(hub.url, folder), env=environment(),
                                      cwd=folder, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for folder in folders]
        outputs = [process.communicate(timeout=300) for process in processes]
        refused = [line for line in hub.log_lines() if line["status"] == 429]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert refused
    expected = typed_tables(reference)
    for folder in folders:
        assert typed_tables(folder / "store.sqlite") == expected


def test_a_vanished_org_is_named_and_every_other_org_harvested(world_hub, reference, tmp_path):
    folder = tmp_path / "vanished"
    folder.mkdir()
    (folder / "graphminer.toml").write_text(
        '[harvest]\norgs = ["civic", "gone-org", "town"]\n', encoding="utf-8")
    result = harvest(world_hub.url, folder, expect=1)
    assert "gone-org" in result.stdout and "Traceback" not in result.stderr
    assert typed_tables(folder / "store.sqlite") == typed_tables(reference)
    status, failures = rows(folder / "store.sqlite", "SELECT status, failures FROM _runs")[0]
    assert status == "partial" and [f["repo"] for f in json.loads(failures)] == ["gone-org"]


def test_expiring_tokens_are_dropped_and_a_rerun_resumes(world_files, world_hub, reference,
                                                        tmp_path):
    """Tokens that turn 401 mid-run are dropped one by one; with none left the run stops
    in one line, and a rerun with fresh tokens resumes: the repos the first run stored are
    not read again over GraphQL (their next read is a REST night's)."""
    folder = tmp_path / "expiring"
    # Lifetimes counted in requests, not seconds, so that a busy machine cannot change the
    # outcome: 3 x 7 answered REST requests are fewer than the 28 a whole harvest needs
    # (probes included), and more than the first repos need.
    with serve(world_files["world"], token_ttl_requests=7) as hub:
        first = harvest(hub.url, folder, env=environment(THREE_TOKENS, many=True), expect=2)
        refused = [line for line in hub.log_lines() if line["status"] == 401]
    assert len({line["token"] for line in refused}) == 3
    [(stored_first,)] = rows(folder / "store.sqlite",
                             "SELECT COUNT(*) FROM _watermarks WHERE endpoint='issues'")
    assert "Traceback" not in first.stderr
    last_line = first.stderr.strip().splitlines()[-1]
    assert "refused every token" in last_line and "run again" in last_line
    assert first.stderr.count("dropped, going on with the others") == 2
    hub, fresh_tokens = world_hub, "tok-new-1,tok-new-2,tok-new-3"
    start = len(hub.log_lines())
    harvest(hub.url, folder, env=environment(fresh_tokens, many=True))
    resumed = graphql_points(hub.log_lines()[start:])
    start = len(hub.log_lines())
    harvest(hub.url, tmp_path / "whole", env=environment(fresh_tokens, many=True))
    whole = graphql_points(hub.log_lines()[start:])
    assert stored_first > 0  # repos the first run stored, not read over GraphQL again
    assert resumed < whole
    assert typed_tables(folder / "store.sqlite") == typed_tables(reference)
    assert "tok-edge" not in first.stdout + first.stderr
    statuses = [row[0] for row in rows(folder / "store.sqlite", "SELECT status FROM _runs ORDER BY id")]
    assert statuses == ["failed", "ok"]


def test_single_token_expiring_says_so_in_one_line(world_files, tmp_path):
    with serve(world_files["world"], token_ttl_requests=5) as hub:  # a harvest needs 25
        result = harvest(hub.url, tmp_path, env=environment(TOKEN), expect=2)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "401" in lines[0] and "run again" in lines[0]
    assert TOKEN not in result.stderr


# --- a generated world with every edge at once ------------------------------------------


def load(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def turned_private(world: dict, repo_id: int, now: str) -> dict:
    """A delta making one public repo private."""
    record = dict(next(repo for repo in world["repos"] if repo["id"] == repo_id), private=True)
    return {"format": 1, "now": now, "ops": [{"op": "upsert", "kind": "repos", "record": record}]}


def test_every_edge_at_once_stores_what_a_plain_harvest_stores_night_after_night(tmp_path):
    made = generate_world(tmp_path / "gen", seed=3, orgs=2, repos_per_org=4, makers=60, years=2,
                          delta_days=2, truth=False, renamed_repos=1, transferred_repos=1,
                          private_repos=1, deleted_accounts=2)
    world = load(made["world"])
    orgs = json.dumps([org["login"] for org in world["orgs"] if not org.get("outside")])
    biggest = max(world["repos"], key=lambda repo: sum(1 for e in world["issue_events"]
                                                       if e["repo_id"] == repo["id"]))
    private_ids = {repo["id"] for repo in world["repos"] if repo.get("private")}
    nights = [made["world"].parent / f"delta-{day}.json.gz" for day in (1, 2)]
    final = world
    for delta in nights:
        final = apply_delta(final, load(delta))
    later_private = next(repo for repo in final["repos"] if not repo.get("private")
                         and repo["id"] != biggest["id"] and not repo.get("fork")
                         and not repo.get("archived") and not repo.get("former_names"))
    folders = {"edges": tmp_path / "edges", "plain": tmp_path / "plain"}
    for folder in folders.values():
        folder.mkdir()
        (folder / "graphminer.toml").write_text(f"[harvest]\norgs = {orgs}\n", encoding="utf-8")
    edges = serve(made["world"], page_cap=20, rate_limit=40, rate_window=2.0,
                  slow_pages=[f"{biggest['owner']}/{biggest['name']}"], slow_seconds=0.02)
    plain = serve(made["world"], page_cap=0, per_token_etags=False)
    with edges as hub, plain as polite:
        private_delta = write(turned_private(final, later_private["id"], made["final_now"]),
                              tmp_path / "private.json")
        for night, delta in enumerate([None, *nights, private_delta]):
            if delta is not None:
                hub.apply_delta(delta)
                polite.apply_delta(delta)
            harvest(hub.url, folders["edges"], env=environment(THREE_TOKENS, many=True))
            harvest(polite.url, folders["plain"])
            assert typed_tables(folders["edges"] / "store.sqlite") == \
                typed_tables(folders["plain"] / "store.sqlite"), f"night {night}"
        hub.advance_clock(3)  # the next night: every token's window has reset (fakehub's clock)
        start = len(hub.log_lines())
        harvest(hub.url, folders["edges"], env=environment(THREE_TOKENS, many=True))
        _, quiet = counted_since(hub, start)
        log = hub.log_lines()
    assert quiet == 0
    statuses = {line["status"] for line in log}
    # the edges were met (the page cap's 422 only over REST: a GraphQL first harvest
    # never pages that deep, see test_refused_deep_pages_lose_nothing...)
    assert {301, 502} <= statuses and any("graphql" in line for line in log)
    assert len({line["token"] for line in log if line["counted"]}) == 3
    store = folders["edges"] / "store.sqlite"
    # private repos: never stored, and the one that turned private is purged, cache too
    gone_private = private_ids | {later_private["id"]}
    for table in ("repos", "issues", "issue_comments", "issue_events", "commits", "pulls"):
        column = "id" if table == "repos" else "repo_id"
        assert rows(store, f"SELECT COUNT(*) FROM {table} WHERE {column} IN "
                    f"({', '.join(map(str, gone_private))})") == [(0,)], table
    cached = (folders["edges"] / "cache" / "http_cache.sqlite").read_bytes()
    assert later_private["name"].encode() not in cached
    # renamed: new name, old one an alias; transferred out: kept, left, where it went
    renamed = next(repo for repo in final["repos"] if repo.get("former_names")
                   and repo["owner"] in orgs)
    assert rows(store, "SELECT full_name FROM repos WHERE id=?", renamed["id"]) == \
        [(f"{renamed['owner']}/{renamed['name']}",)]
    assert rows(store, "SELECT repo_id FROM repo_aliases WHERE full_name=?",
                renamed["former_names"][0]) == [(renamed["id"],)]
    moved = next(repo for repo in final["repos"] if repo.get("former_names")
                 and repo["owner"] not in orgs)
    deleted_at, transferred_to = rows(store, "SELECT deleted_at, transferred_to FROM repos "
                                      "WHERE id=?", moved["id"])[0]
    assert deleted_at and transferred_to == f"{moved['owner']}/{moved['name']}"
    assert rows(store, "SELECT COUNT(*) FROM issues WHERE repo_id=?", moved["id"])[0][0] > 0
    # ghost: records kept with an unknown author, never a person
    assert rows(store, "SELECT COUNT(*) FROM people WHERE id=10137 OR login='ghost'") == [(0,)]
    ghostly = rows(store, "SELECT COUNT(*) FROM issues WHERE user_id IS NULL "
                   "AND json_extract(raw, '$.user.login')='ghost'")[0][0]
    assert ghostly > 0
    assert rows(store, "SELECT COUNT(*) FROM issues WHERE user_id=10137") == [(0,)]


def test_a_301_is_followed_with_its_query_through_pygithub(tmp_path):
    """Listing a renamed repo's issues by its old name: the session follows the 301 with
    the query kept, so closed issues come too, 100 a page (PyGithub alone would keep only
    the path: open issues, 30 a page)."""
    world = build_world()
    site = next(repo for repo in world["repos"] if repo["name"] == "site")
    moved = {**site, "name": "site-next"}
    delta = {"format": 1, "now": "2024-07-01T23:59:59Z",
             "ops": [{"op": "upsert", "kind": "repos", "record": moved}]}
    expected = sorted(issue["number"] for issue in world["issues"] if issue["repo_id"] == site["id"])
    assert any(issue["state"] == "closed" for issue in world["issues"] if issue["repo_id"] == site["id"])
    session = HarvestSession(tmp_path / "cache", 1, TokenPool([TOKEN]))
    with serve(write(world, tmp_path / "world.json")) as hub:
        hub.apply_delta(write(delta, tmp_path / "rename.json"))
        client = github_client(hub.url, session)
        listed = [issue.number for issue in client.get_repo("civic/site")
                  .get_issues(state="all")]
        log = hub.log_lines()
    session.close()
    assert sorted(listed) == expected
    redirected = [line for line in log if line["status"] == 301]
    followed = [line for line in log if line["path"].startswith(f"/repositories/{site['id']}/issues")]
    assert redirected and followed
    assert all(line["query"].get("state") == "all" and line["query"].get("per_page") == "100"
               for line in followed)


def test_deleted_accounts_are_no_one_and_counted_apart(tmp_path):
    """A world whose deleted makers show as ghost: no maker, no person, and the stats count
    their records apart (the world's own count of ghost records is the truth)."""
    made = generate_world(tmp_path / "gen", seed=5, orgs=1, repos_per_org=3, makers=40, years=2,
                          truth=False, deleted_accounts=3)
    world = load(made["world"])
    authored = (("issues", "user_id"), ("issue_comments", "user_id"), ("reviews", "user_id"),
                ("review_comments", "user_id"), ("issue_events", "actor_id"))
    wanted = {repo["id"] for repo in world["repos"] if not repo.get("fork")}
    expected = sum(1 for kind, column in authored for record in world[kind]
                   if record["repo_id"] in wanted and record.get(column) == GHOST_ID)
    assert expected > 0
    folder = tmp_path / "h"
    folder.mkdir()
    logins = json.dumps([org["login"] for org in world["orgs"]])
    (folder / "graphminer.toml").write_text(f"[harvest]\norgs = {logins}\n", encoding="utf-8")
    with serve(made["world"]) as hub:
        harvest(hub.url, folder)
    store = open_store(folder / "store.sqlite")
    try:
        assert store.stats()["deleted_accounts"] == expected
        assert str(GHOST_ID) not in set(store.events["maker"].dropna())
    finally:
        store.conn.close()
    assert rows(folder / "store.sqlite", "SELECT COUNT(*) FROM people WHERE id=?", GHOST_ID) == [(0,)]
