"""Issue 14, the harvester half: a first harvest reading issues and pull requests over
GraphQL, through the real harvester to a real fakehub process, into real SQLite stores.
The reference is a REST-only harvest of the same world (what every earlier harvest
stored); costs come from fakehub's request log."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from pathlib import Path

import pytest
from graphql import parse, validate
from harvest_support import warm_graphql
from test_harvest import TOKEN, environment, harvest, harvest_killed_after, rows, typed_tables

from graphminer.events import load_events
from graphminer.fakehub.generator import generate_world
from graphminer.fakehub.graphql_schema import github_schema
from graphminer.fakehub.testing import serve
from graphminer.harvest import graphql as reader


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("graphql-world")
    made = generate_world(folder / "gen", seed=3, orgs=1, repos_per_org=3, makers=40, years=2,
                          delta_days=1, truth=False)
    data = json.load(gzip.open(made["world"], "rt", encoding="utf-8"))
    made["orgs"] = [org["login"] for org in data["orgs"] if not org.get("outside")]
    return made


def configure(folder: Path, orgs: list[str], api: str = "auto") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "graphminer.toml").write_text(
        f"[harvest]\norgs = {json.dumps(orgs)}\napi = \"{api}\"\n", encoding="utf-8")


def events_of(store: Path):
    conn = sqlite3.connect(store)
    try:
        events = load_events(conn)
    finally:
        conn.close()
    return events.sort_values(list(events.columns)).reset_index(drop=True).astype(str)


def makers(store: Path) -> list:
    from harvest_support import cli

    done = cli("makers", "--store", str(store), "--json", "--include-bots",
               "--as-of", "2030-01-01T00:00:00Z")
    assert done.returncode == 0, done.stderr[-2000:]
    return sorted(json.loads(done.stdout), key=lambda maker: maker["key"])


@pytest.fixture(scope="module")
def hub(world):
    """One fakehub for the module's tests that only read the world (no delta, default
    flags): read its log from ``len(hub.log_lines())`` on."""
    with serve(world["world"]) as running:
        yield running


@pytest.fixture(scope="module")
def harvested(world, hub, tmp_path_factory) -> dict:
    """A REST-only first harvest and a GraphQL (auto) first harvest of the same world,
    then one quiet REST night on the GraphQL store; fakehub's log of each."""
    folder = tmp_path_factory.mktemp("graphql-harvests")
    rest, auto = folder / "rest", folder / "auto"
    configure(rest, world["orgs"], "rest")
    configure(auto, world["orgs"], "auto")
    start = len(hub.log_lines())
    harvest(hub.url, rest)
    rest_log = hub.log_lines()[start:]
    start = len(hub.log_lines())
    first = harvest(hub.url, auto)
    auto_log = hub.log_lines()[start:]
    start = len(hub.log_lines())
    harvest(hub.url, auto)
    night_log = hub.log_lines()[start:]
    return {"rest": rest / "store.sqlite", "auto": auto / "store.sqlite", "rest_log": rest_log,
            "auto_log": auto_log, "night_log": night_log, "first": first}


def test_graphql_first_harvest_stores_what_rest_stores(harvested):
    """Same rows per table (but the columns GraphQL gives differently), same events table,
    same milestones for every maker."""
    assert any("graphql" in line for line in harvested["auto_log"])
    assert "GraphQL queries" in harvested["first"].stdout
    want, got = typed_tables(harvested["rest"]), typed_tables(harvested["auto"])
    for table in want:
        assert got[table] == want[table], table
    assert events_of(harvested["auto"]).equals(events_of(harvested["rest"]))
    assert makers(harvested["auto"]) == makers(harvested["rest"])


def test_a_world_with_ghosts_renames_and_transfers_reads_the_same_over_graphql(tmp_path):
    """A second, differently made world: two orgs, deleted accounts (ghost), bots, then a
    delta night (a repo renamed, one transferred) over REST on both; the GraphQL first harvest stores what the
    REST one does, and every maker gets the same milestones."""
    made = generate_world(tmp_path / "gen", seed=8, orgs=2, repos_per_org=3, makers=50,
                          years=3, truth=False, delta_days=1, deleted_accounts=2,
                          renamed_repos=1, transferred_repos=1)
    data = json.load(gzip.open(made["world"], "rt", encoding="utf-8"))
    orgs = [org["login"] for org in data["orgs"] if not org.get("outside")]
    stores = {}
    with serve(made["world"]) as hub:
        for api in ("rest", "auto"):
            configure(tmp_path / api, orgs, api)
            harvest(hub.url, tmp_path / api)
            stores[api] = tmp_path / api / "store.sqlite"
        first = {api: typed_tables(store) for api, store in stores.items()}
        hub.apply_delta(made["world"].parent / "delta-1.json.gz")
        for api in ("rest", "auto"):
            harvest(hub.url, tmp_path / api)
        graphql_lines = [line for line in hub.log_lines() if "graphql" in line]
    assert graphql_lines and all(line["status"] == 200 for line in graphql_lines)
    assert rows(stores["auto"], "SELECT COUNT(*) FROM issues WHERE user_id IS NULL")[0][0] > 0  # ghost
    assert first["auto"] == first["rest"]
    want, got = typed_tables(stores["rest"]), typed_tables(stores["auto"])
    for table in want:
        assert got[table] == want[table], table
    assert events_of(stores["auto"]).equals(events_of(stores["rest"]))
    assert makers(stores["auto"]) == makers(stores["rest"])


def test_graphql_first_harvest_costs_less_and_the_next_quiet_night_nothing(harvested):
    rest = sum(1 for line in harvested["rest_log"] if line["counted"])
    points = sum(line["graphql"]["cost"] for line in harvested["auto_log"] if "graphql" in line)
    rest_side = sum(1 for line in harvested["auto_log"] if line["counted"] and "graphql" not in line)
    assert points + rest_side < rest
    assert not any("graphql" in line for line in harvested["night_log"])
    assert sum(1 for line in harvested["night_log"] if line["counted"]) == 0


def test_a_rest_night_after_a_graphql_first_harvest_equals_a_rest_only_history(world, tmp_path):
    """After a delta, a REST night on the GraphQL-first store equals one on the REST store:
    the watermarks go on where GraphQL stopped, and REST's read of an event gives it its
    numeric id in place of the provisional one (no duplicate)."""
    rest, auto = tmp_path / "rest", tmp_path / "auto"
    configure(rest, world["orgs"], "rest")
    configure(auto, world["orgs"], "auto")
    with serve(world["world"]) as hub:
        harvest(hub.url, rest)
        harvest(hub.url, auto)
        hub.apply_delta(Path(world["world"]).parent / "delta-1.json.gz")
        harvest(hub.url, rest)
        harvest(hub.url, auto)  # GraphQL only for the repos the delta created
    want, got = typed_tables(rest / "store.sqlite"), typed_tables(auto / "store.sqlite")
    for table in want:
        assert got[table] == want[table], table
    assert events_of(auto / "store.sqlite").equals(events_of(rest / "store.sqlite"))


def test_killed_mid_graphql_harvest_then_rerun_equals_uninterrupted(world, hub, harvested, tmp_path):
    folder = tmp_path / "killed"
    configure(folder, world["orgs"], "auto")
    harvest_killed_after(hub, folder, 6)  # org, members, repos, then GraphQL queries
    harvest(hub.url, folder)
    assert typed_tables(folder / "store.sqlite") == typed_tables(harvested["auto"])


def test_every_query_the_harvester_can_send_validates_against_githubs_schema():
    schema = github_schema()
    queries = [reader.count_query("civic", "site"), reader.org_counts_query("civic", None),
               reader.org_counts_query("civic", "Y3Vyc29y", 30)]
    for after in (None, "Y3Vyc29yOnYyOpK5"):
        queries.append(reader.issues_query("civic", "site", {False: (100, after), True: (7, after)}))
        # nested lists sized apart from the page; releases with the first page, or alone
        queries.append(reader.issues_query("civic", "site", {False: (3, after), True: (7, after)},
                                           100, (12, after)))
        queries.append(reader.issues_query("civic", "site", {}, 100, (100, after)))
    for pulls in (False, True):
        queries.append(reader.issues_query("civic", "site", {pulls: (3, None)}))
        names = reader.NESTED_LISTS
        queries.append(reader.more_query("civic", "site", 7, pulls, 25,
                                         {name: "Y3Vyc29y" for name in names}))
    for query in queries:
        assert validate(schema, parse(query)) == [], query


def test_a_query_refused_for_its_weight_is_asked_again_smaller(world, harvested, tmp_path):
    """fakehub answers 502 above 100 nodes: the harvester asks with a smaller ``first``,
    follows up the nested lists that no longer fit a page, and stores what REST stores."""
    folder = tmp_path / "light"
    configure(folder, world["orgs"], "graphql")
    with serve(world["world"], graphql_max_weight=100) as hub:
        done = harvest(hub.url, folder)
        log = hub.log_lines()
    statuses = [line["status"] for line in log if "graphql" in line]
    assert 502 in statuses and 200 in statuses
    # with smaller pages, nested lists longer than a page are followed up item by item
    assert any("issueOrPullRequest" in (line["graphql"]["query"] or "") for line in log
               if "graphql" in line and line["status"] == 200)
    assert "too heavy" in done.stderr
    want, got = typed_tables(harvested["rest"]), typed_tables(folder / "store.sqlite")
    for table in want:
        assert got[table] == want[table], table


def test_the_api_key_is_checked_like_every_key(world, tmp_path):
    configure(tmp_path, world["orgs"], "soap")
    result = harvest("http://127.0.0.1:9", tmp_path, env=environment(), expect=2)
    assert "'harvest.api' must be" in result.stderr


def test_three_tokens_one_worker_each_store_what_one_token_stores(world, hub, harvested, tmp_path):
    """With GITHUB_TOKENS, each worker reads its repos over GraphQL with its own session."""
    folder = tmp_path / "three"
    configure(folder, world["orgs"], "auto")
    start = len(hub.log_lines())
    harvest(hub.url, folder, env=environment("tok-gq-a1,tok-gq-b2,tok-gq-c3", many=True))
    tokens = {line["token"] for line in hub.log_lines()[start:]
              if "graphql" in line and line.get("token")}
    assert len(tokens) >= 2
    assert typed_tables(folder / "store.sqlite") == typed_tables(harvested["auto"])


# --- pacing under GraphQL's limits, faults -------------------------------------------


def test_spent_points_wait_for_their_reset_and_store_the_same(world, harvested, tmp_path):
    """A window of 3 s holding as many points as the dearest query of the unlimited harvest
    costs (so every query fits in a fresh window, and the harvest's queries together need
    more, faster than that however busy the machine, once GitHub's schema is built): the
    harvester meets RATE_LIMITED, waits for the reset the headers name, and goes on; the
    store is what an unlimited GraphQL harvest stores."""
    folder = tmp_path / "paced"
    configure(folder, world["orgs"], "auto")
    costs = [line["graphql"]["cost"] for line in harvested["auto_log"] if "graphql" in line]
    points = max(costs)
    assert sum(costs) > points, "one window holds the whole harvest: the test proves nothing"
    with serve(world["world"], graphql_rate_limit=points, rate_window=3) as hub:
        warm_graphql(hub)
        done = harvest(hub.url, folder)
        log = hub.log_lines()
    refused = [line for line in log if "graphql" in line and line["status"] == 200
               and line["graphql"]["cost"] == 0 and line["graphql"]["query"]]
    assert refused, "the points never ran out: the test proves nothing"
    assert "GraphQL points spent: waiting" in done.stderr + done.stdout
    spent = sum(line["graphql"]["cost"] for line in log if "graphql" in line)
    assert spent > points  # more than one window's points: it waited and went on
    assert typed_tables(folder / "store.sqlite") == typed_tables(harvested["auto"])


def test_seeded_faults_on_graphql_requests_store_the_same(world, harvested, tmp_path):
    """Dropped connections, 500s, truncated bodies and secondary-limit 403s with
    Retry-After hit GraphQL queries as they hit REST requests: waited out, retried."""
    folder = tmp_path / "faulty"
    configure(folder, world["orgs"], "auto")
    faults = "error=0.08,drop=0.05,truncate=0.05,secondary=0.08,seed=11"
    with serve(world["world"], faults=faults) as hub:
        harvest(hub.url, folder)
        log = hub.log_lines()
    hit = {line.get("fault") for line in log if "graphql" in line}
    assert "secondary" in hit and hit & {"error", "drop", "truncate"}, hit
    assert any(line["status"] == 403 for line in log if "graphql" in line)
    assert typed_tables(folder / "store.sqlite") == typed_tables(harvested["auto"])


def test_the_token_never_reaches_the_files_of_a_graphql_harvest(harvested):
    """The store, the HTTP cache (GraphQL's POSTs are not cached, REST's priming is) and the
    run's output: the token is sent, never written."""
    assert {line["token"] for line in harvested["auto_log"] if "graphql" in line} == {TOKEN}
    written = [path for path in harvested["auto"].parent.rglob("*") if path.is_file()]
    assert any(path.name.startswith("http_cache") for path in written)
    for path in written:
        assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in harvested["first"].stdout + harvested["first"].stderr


# -- releases over GraphQL ---------------------------------------------------------------


def test_releases_are_read_over_graphql_as_rest_stores_them(world, harvested):
    """The releases table of the GraphQL first harvest is the world's and REST's, row for
    row (same ids: databaseId), with no REST request for /releases that night."""
    data = json.load(gzip.open(world["world"], "rt", encoding="utf-8"))
    wanted = {r["id"] for r in data["repos"] if not r.get("fork")}
    truth = sorted((r["id"], r["repo_id"], r["tag_name"], r["name"], r["created_at"],
                    r["published_at"]) for r in data["releases"] if r["repo_id"] in wanted)
    assert truth, "the test world has no release"
    sql = "SELECT id, repo_id, tag_name, name, created_at, published_at FROM releases ORDER BY id"
    assert sorted(rows(harvested["auto"], sql)) == truth
    assert typed_tables(harvested["auto"])["releases"] == typed_tables(harvested["rest"])["releases"]
    assert not [line for line in harvested["auto_log"]
                if "graphql" not in line and line["path"].split("?")[0].endswith("/releases")]
    assert any("releases(first:" in line["graphql"]["query"] for line in harvested["auto_log"]
               if "graphql" in line)


@pytest.fixture(scope="module")
def many_releases(world, tmp_path_factory) -> Path:
    """The test world with 230 more releases in one repo: three GraphQL pages of them."""
    data = json.load(gzip.open(world["world"], "rt", encoding="utf-8"))
    repo = next(r for r in data["repos"] if not r.get("fork") and r["owner"] in world["orgs"])
    author = next(u["id"] for u in data["users"] if u.get("type") != "Bot")
    first = max([r["id"] for r in data["releases"]] or [0]) + 1
    data["releases"] += [
        {"id": first + n, "repo_id": repo["id"], "tag_name": f"v9.{n}.0", "name": f"Release 9.{n}",
         "body": "notes", "author_id": author, "target_commitish": repo.get("default_branch") or "main",
         "draft": False, "prerelease": n % 7 == 0,
         "created_at": f"2021-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
         "published_at": f"2021-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:30:00Z"}
        for n in range(230)]
    path = tmp_path_factory.mktemp("many-releases") / "world.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(data, handle)
    return path


def test_more_than_a_page_of_releases_is_followed_by_cursor_then_a_rest_sweep_agrees(
        world, many_releases, tmp_path):
    """230 releases in one repo come in pages of 100 followed by their cursors; the stored
    rows equal REST's, and a REST sweep (--full) afterwards reads them all again (raw JSON
    included) and equals the REST-only store."""
    rest, auto = tmp_path / "rest", tmp_path / "auto"
    configure(rest, world["orgs"], "rest")
    configure(auto, world["orgs"], "auto")
    with serve(many_releases) as hub:
        harvest(hub.url, rest)
        start = len(hub.log_lines())
        harvest(hub.url, auto)
        log = hub.log_lines()[start:]
        assert typed_tables(auto / "store.sqlite") == typed_tables(rest / "store.sqlite")
        queries = [line["graphql"]["query"] for line in log if "graphql" in line]
        followed = [q for q in queries if re.search(r"releases\(first: \d+, after:", q)]
        assert len(followed) == 2, queries
        harvest(hub.url, auto, "--api", "rest", "--full")
        harvest(hub.url, rest, "--full")
    sql = "SELECT id, raw FROM releases ORDER BY id"
    assert rows(auto / "store.sqlite", sql) == rows(rest / "store.sqlite", sql)
    assert len(rows(auto / "store.sqlite", sql)) >= 230
    assert typed_tables(auto / "store.sqlite")["releases"] == typed_tables(rest / "store.sqlite")["releases"]


def test_nested_lists_ask_a_full_page_whatever_the_items_page(world, harvested):
    """GitHub prices a nested list by its parents' ``first`` only, so an item's comments,
    labels, assignees, events and reviews are asked 100 at a time even in a page of three
    issues: in this world no nested list is longer than 100, so nothing is followed up."""
    queries = [line["graphql"]["query"] for line in harvested["auto_log"]
               if "graphql" in line and "issues(first:" in line["graphql"]["query"]]
    small = [q for q in queries if re.search(r"(issues|pullRequests)\(first: \d{1,2}[,)]", q)]
    assert small, "no repo of the test world has fewer than 100 issues"
    for query in queries:
        assert set(re.findall(r"(?:comments|labels|assignees|timelineItems|reviews)\(first: (\d+)",
                              query)) == {"100"}, query
    data = json.load(gzip.open(world["world"], "rt", encoding="utf-8"))
    per_item: dict[tuple, int] = {}
    for kind, parent in (("issue_comments", "issue_number"), ("issue_events", "issue_number"), ("reviews", "pr_number")):
        for record in data[kind]:
            key = (kind, record["repo_id"], record[parent])
            per_item[key] = per_item.get(key, 0) + 1
    if max(per_item.values()) <= 100:
        assert not any("issueOrPullRequest" in line["graphql"]["query"]
                       for line in harvested["auto_log"] if "graphql" in line)


# -- what REST need not read after GraphQL -----------------------------------------------


@pytest.fixture(scope="module")
def sparse(world, tmp_path_factory) -> dict:
    """The test world with one repo stripped of its pull requests and another of its review
    comments (its reviews stay), and a delta that gives each a new PR with a review comment."""
    data = json.load(gzip.open(world["world"], "rt", encoding="utf-8"))
    repos = [r for r in data["repos"] if not r.get("fork") and r["owner"] in world["orgs"]]
    no_pulls, no_review_comments = repos[0], repos[1]
    gone = {(i["repo_id"], i["number"]) for i in data["issues"]
            if i["repo_id"] == no_pulls["id"] and i.get("pull_request")}
    assert gone and any(i["repo_id"] == no_review_comments["id"] and i.get("pull_request") for i in data["issues"])
    data["issues"] = [i for i in data["issues"] if (i["repo_id"], i["number"]) not in gone]
    for kind, parent in (("issue_comments", "issue_number"), ("issue_events", "issue_number")):
        data[kind] = [r for r in data[kind] if (r["repo_id"], r[parent]) not in gone]
    data["reviews"] = [r for r in data["reviews"] if r["repo_id"] != no_pulls["id"]]
    assert any(r["repo_id"] == no_review_comments["id"] for r in data["reviews"])
    data["review_comments"] = [r for r in data["review_comments"]
                               if r["repo_id"] not in (no_pulls["id"], no_review_comments["id"])]
    folder = tmp_path_factory.mktemp("sparse")
    with gzip.open(folder / "world.json.gz", "wt", encoding="utf-8") as handle:
        json.dump(data, handle)
    at = "2025-07-01T10:00:00Z"
    template = next(i for i in data["issues"] if i.get("pull_request"))
    ops = []
    for index, repo in enumerate((no_pulls, no_review_comments)):
        number = max(i["number"] for i in data["issues"] if i["repo_id"] == repo["id"]) + 1
        sha = next(c["sha"] for c in data["commits"] if c["repo_id"] == repo["id"])
        ops.append({"op": "upsert", "kind": "issues", "record": {
            **template, "repo_id": repo["id"], "number": number, "id": 3_900_000 + index,
            "state": "open", "closed_at": None, "closed_by_id": None, "created_at": at,
            "updated_at": at, "pull_request": {**template["pull_request"], "merged_at": None,
                                               "merged_by_id": None, "merge_commit_sha": None,
                                               "head_ref": f"new-{number}", "head_sha": sha}}})
        ops.append({"op": "upsert", "kind": "reviews", "record": {
            "id": 79_000_000 + index, "repo_id": repo["id"], "pr_number": number,
            "user_id": template["user_id"], "state": "COMMENTED", "body": "Looks fine.",
            "submitted_at": at, "commit_id": sha, "author_association": "MEMBER"}})
        ops.append({"op": "upsert", "kind": "review_comments", "record": {
            "id": 89_000_000 + index, "repo_id": repo["id"], "pr_number": number,
            "review_id": 79_000_000 + index, "user_id": template["user_id"], "body": "Nit.",
            "path": "README.md", "commit_id": sha, "created_at": at, "updated_at": at,
            "in_reply_to_id": None, "author_association": "MEMBER"}})
    delta = folder / "delta-1.json.gz"
    with gzip.open(delta, "wt", encoding="utf-8") as handle:
        json.dump({"format": 1, "now": "2025-07-01T23:59:59Z", "ops": ops}, handle)
    return {"world": folder / "world.json.gz", "delta": delta,
            "no_pulls": no_pulls["owner"] + "/" + no_pulls["name"],
            "no_review_comments": no_review_comments["owner"] + "/" + no_review_comments["name"]}


def test_no_pulls_no_review_comments_skip_their_rest_reads_and_later_nights_still_read_them(world, sparse, tmp_path):
    """GraphQL read no pull request of one repo and counted no review thread in another
    (whose PRs have reviews): REST reads neither /pulls of the first nor /pulls/comments of
    either that night; the quiet night
    after is free and does not ask the first's /pulls (no stored PR, /issues unchanged);
    once each gets a reviewed PR, a REST night stores what a REST-only history stores."""
    rest, auto = tmp_path / "rest", tmp_path / "auto"
    configure(rest, world["orgs"], "rest")
    configure(auto, world["orgs"], "auto")

    def asked(log: list[dict], repo: str, tail: str) -> list[dict]:
        return [line for line in log if "graphql" not in line
                and line["path"].split("?")[0] == f"/repos/{repo}{tail}"]

    with serve(sparse["world"]) as hub:
        harvest(hub.url, rest)
        start = len(hub.log_lines())
        harvest(hub.url, auto)
        first = hub.log_lines()[start:]
        start = len(hub.log_lines())
        harvest(hub.url, auto)
        quiet = hub.log_lines()[start:]
        assert typed_tables(auto / "store.sqlite") == typed_tables(rest / "store.sqlite")
        hub.apply_delta(sparse["delta"])
        harvest(hub.url, rest)
        start = len(hub.log_lines())
        harvest(hub.url, auto)
        after = hub.log_lines()[start:]
    assert asked(first, sparse["no_review_comments"], "/pulls")  # it has pull requests: primed
    assert not asked(first, sparse["no_pulls"], "/pulls")
    for repo in (sparse["no_pulls"], sparse["no_review_comments"]):
        assert not asked(first, repo, "/pulls/comments")
    assert sum(1 for line in quiet if line["counted"]) == 0
    assert not asked(quiet, sparse["no_pulls"], "/pulls")
    assert asked(after, sparse["no_pulls"], "/pulls")
    for repo in (sparse["no_pulls"], sparse["no_review_comments"]):
        assert asked(after, repo, "/pulls/comments")
    want, got = typed_tables(rest / "store.sqlite"), typed_tables(auto / "store.sqlite")
    for table in want:
        assert got[table] == want[table], table
    assert len(rows(auto / "store.sqlite", "SELECT id FROM review_comments WHERE id >= 89000000")) == 2
