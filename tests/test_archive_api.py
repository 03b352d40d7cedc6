"""GH Archive and the API harvest on the same world (issue 24): after an API harvest of a
world the archive was read for, every record is stored once (the API recognises the
archive's records by their GitHub ids, its fields win, their source becomes 'both'); and
the in-network milestones from the archive alone agree with the API harvest's for the eras
before 2025-10-07. The API harvest is the real one (PyGithub and requests-cache over HTTP
to a fakehub process); one small world shared by the module."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from archive_support import (
    IN_NETWORK,
    archive_cli,
    generated_hours,
    makers_of,
    read_and_derive,
    write_config,
)

from graphminer import pipeline, timeutil
from graphminer.config import load_config
from graphminer.fakehub.testing import serve
from graphminer.harvest import archive
from graphminer.harvest.progress import Progress
from graphminer.precompute import maker_timeline
from graphminer.store import open_store

TOKEN = "test-token-not-secret"
NOW = "2024-12-31T23:59:59Z"
TABLES = ("issues", "issue_comments", "issue_events", "reviews", "review_comments", "releases", "commits")


@pytest.fixture(scope="module")
def harvested(tmp_path_factory):
    """The world read four ways: the archive alone, the API alone, the archive then the API,
    the API then the archive."""
    folder = tmp_path_factory.mktemp("archive-api")
    hours, orgs = generated_hours(folder, makers=40, years=2, now=NOW)
    config_path = write_config(folder, orgs)
    config = load_config(str(config_path))
    stores = {name: folder / f"{name}.sqlite" for name in ("archive", "api", "both")}
    read_and_derive(config, stores["archive"], archive.files_in(str(hours)))
    shutil.copy(stores["archive"], stores["both"])
    with serve(folder / "world" / "world.json.gz", clock="world") as hub:
        for name in ("api", "both"):
            pipeline.harvest_github(config, api_url=hub.url, store_path=stores[name], cache_dir=folder / f"cache-{name}",
                           tokens=[TOKEN], say=lambda message: None, progress=Progress(False))
    stores["api_first"] = folder / "api_first.sqlite"
    shutil.copy(stores["api"], stores["api_first"])
    read_and_derive(config, stores["api_first"], archive.files_in(str(hours)))
    return {"stores": stores, "config": config_path, "folder": folder,
            "makers": {name: makers_of(path, config_path, NOW) for name, path in stores.items()}}


def rows_of(store, table: str) -> set[tuple]:
    """A table's records by what they are (not by id: an archive record has no API id)."""
    columns = {"issues": "repo_id, number, user_id, created_at, closed_at, merged_at",
               "issue_comments": "id, repo_id, issue_number, user_id, created_at",
               "issue_events": "repo_id, issue_number, event, created_at",
               "reviews": "id, repo_id, pr_number, user_id", "review_comments": "id, repo_id, pr_number, user_id",
               "releases": "id, repo_id, tag_name", "commits": "repo_id, sha"}[table]
    return set(sqlite3.connect(store).execute(f"SELECT {columns} FROM {table}"))  # noqa: S608


def test_after_an_api_harvest_every_record_is_stored_once(harvested):
    stores = harvested["stores"]
    for table in TABLES:
        api = rows_of(stores["api"], table)
        for order in ("both", "api_first"):
            both = rows_of(stores[order], table)
            count = sqlite3.connect(stores[order]).execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            assert count == len(both), (order, table)  # no record twice, however keyed
            assert both == api, (order, table, len(both - api), len(api - both))
    conn = sqlite3.connect(stores["both"])
    archive_read = sqlite3.connect(stores["archive"])
    for table in ("issues", "issue_comments", "issue_events", "reviews", "review_comments", "releases"):
        sources = dict(conn.execute(f"SELECT source, count(*) FROM {table} GROUP BY source"))  # noqa: S608
        had = archive_read.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        # every record the archive stored is now the API's too; nothing is left the archive's alone
        assert sources.get("both", 0) == had and "archive" not in sources, (table, sources, had)
    # the API's fields won: titles and raw JSON, commit emails as git wrote them (not hashed)
    assert conn.execute("SELECT count(*) FROM issues WHERE raw IS NULL OR title IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM commits WHERE source = 'archive'").fetchone()[0] == 0
    hashed = conn.execute("SELECT count(*) FROM commits WHERE length(author_email) > 41 "
                          "AND substr(author_email, 41, 1) = '@'").fetchone()[0]
    assert hashed == 0
    assert harvested["makers"]["both"] == harvested["makers"]["api"]


def test_the_archive_read_after_an_api_harvest_adds_no_record_and_changes_no_field(harvested):
    """The other order: the API's records are there first; the archive recognises each by
    its GitHub id (an issue event by issue, kind and time), marks it 'both' and writes none
    of its fields over the API's; the makers' milestones stay the API's."""
    api, after = sqlite3.connect(harvested["stores"]["api"]), sqlite3.connect(harvested["stores"]["api_first"])
    archive_alone = sqlite3.connect(harvested["stores"]["archive"])
    for table in ("issues", "issue_comments", "reviews", "review_comments", "releases"):
        fields = f"SELECT * FROM {table} ORDER BY 1, 2"  # noqa: S608
        strip = [index for index, column in enumerate(after.execute(fields).description) if column[0] == "source"]
        assert [tuple(value for index, value in enumerate(row) if index not in strip) for row in after.execute(fields)] == \
            [tuple(value for index, value in enumerate(row) if index not in strip) for row in api.execute(fields)], table
        sources = dict(after.execute(f"SELECT source, count(*) FROM {table} GROUP BY source"))  # noqa: S608
        seen = archive_alone.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        assert "archive" not in sources and sources.get("both", 0) == seen > 0, (table, sources, seen)
    assert after.execute("SELECT count(*) FROM issue_events WHERE source = 'archive'").fetchone()[0] == 0
    assert harvested["makers"]["api_first"] == harvested["makers"]["api"]


def test_in_network_milestones_from_the_archive_alone_agree_with_the_api_harvest(harvested):
    """The same dates, but where the API dates a milestone by a commit's account: GH Archive
    lists commits by name and hashed email, with no account (FAKEHUB.md), so the archive
    alone dates that maker by their next act it shows. Under rules v4 that reaches
    maintainer too: its acts count only after the maker's own landed work, so a maker whose
    landed work was a commit becomes maintainer from the archive no earlier than the archive
    sees them land something."""
    api, alone = harvested["makers"]["api"], harvested["makers"]["archive"]
    accounts = [key for key in api if not key.startswith("git:")]
    assert len(accounts) >= 20
    differing = [(key, name) for key in accounts for name in IN_NETWORK if alone.get(key, {}).get(name) != api[key][name]]
    assert len(differing) <= 0.1 * len(accounts) * len(IN_NETWORK)
    conn = open_store(harvested["stores"]["api"], readonly=True)
    try:
        for key, name in differing:
            triggers = maker_timeline(conn, load_config(str(harvested["config"])), key, as_of=timeutil.as_of(NOW))["triggers"]
            if triggers[name]["kind"] in ("commit", "committed"):
                continue
            assert name == "maintainer", (key, name, triggers[name])
            assert triggers["first_landed"]["kind"] in ("commit", "committed"), (key, triggers["first_landed"])
            landed = alone[key]["first_landed"]
            assert landed is None or landed > api[key]["maintainer"], (key, landed, api[key]["maintainer"])
    finally:
        conn.close()


def test_each_store_names_the_sources_its_repos_came_from_and_hides_nothing(harvested):
    """Rules v4's sources per organisation (stats --json "sources"): a repo the archive stored
    first and the API harvested after is 'both', its organisation's sources "api and
    archive"; neither the archive alone nor both leave a milestone not observable."""
    stores, config = harvested["stores"], str(harvested["config"])
    repo_sources = {name: {row[0] for row in sqlite3.connect(path).execute("SELECT source FROM repos")}
                    for name, path in stores.items()}
    assert repo_sources["archive"] == {"archive"} and repo_sources["api"] == {"github"}
    for order in ("both", "api_first"):
        assert "both" in repo_sources[order] and repo_sources[order] <= {"both", "github"}, order
    expected = {"archive": "archive", "api": "api", "both": "api and archive", "api_first": "api and archive"}
    for name, path in stores.items():
        figures = json.loads(archive_cli("stats", "--json", "--as-of", NOW, "--store", str(path),
                                         "--config", config).stdout)
        assert figures["sources"] and {row["sources"] for row in figures["sources"]} == {expected[name]}, name
        assert all(row["not_observable"] == [] for row in figures["sources"]), name
        assert None not in figures["funnel"]["counts"].values(), name


def test_a_repo_the_archive_stored_first_is_still_watched_by_the_api_harvest(harvested, tmp_path):
    """A repo the archive stored and the API then harvested ('both') is one of the org's
    stored repos: deleted upstream, the next API harvest records it deleted."""
    folder, config = harvested["folder"], load_config(str(harvested["config"]))
    store, cache = tmp_path / "store.sqlite", tmp_path / "cache"
    shutil.copy(harvested["stores"]["both"], store)
    shutil.copytree(folder / "cache-both", cache)
    gone = sqlite3.connect(store).execute("SELECT id FROM repos WHERE source = 'both' ORDER BY id").fetchone()[0]
    delta = tmp_path / "gone.json"
    delta.write_text(json.dumps({"format": 1, "now": NOW, "ops": [{"op": "delete", "kind": "repos", "id": gone}]}))
    with serve(folder / "world" / "world.json.gz", clock="world") as hub:
        hub.apply_delta(delta)
        summary = pipeline.harvest_github(config, api_url=hub.url, store_path=store, cache_dir=cache, tokens=[TOKEN],
                                          say=lambda message: None, progress=Progress(False))
    assert summary.repos_deleted == 1
    deleted = sqlite3.connect(store).execute("SELECT id FROM repos WHERE deleted_at IS NOT NULL").fetchall()
    assert deleted == [(gone,)]
