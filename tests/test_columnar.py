"""The columnar engine (graphminer.columnar: events by SQL in DuckDB, one SQL query per
milestone) against the pandas implementation (graphminer.events, graphminer.trajectory),
while both exist: the same events table, the same milestones of every scope with the same
triggers, the same stages, the same precomputed tables, on the bundled demo world,
generated worlds (one with deleted accounts, renamed and transferred repos), random worlds,
followed makers' outside acts, and every real log in ../shared/data/git-logs; and the
columnar copy beside the store refreshed incrementally gives what a rebuild gives.

The pandas implementation is not the ground truth (fakehub's truth and the real-log tests
are); it is the second reading of the same rules, so any disagreement is a bug in one.
"""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from columnar_support import differences
from hypothesis import HealthCheck, given, settings
from test_events_support import world_to_store
from test_git_logs_milestones import LOGS
from test_git_support import run as run_cli
from test_git_support import write_config
from test_rules_invariants import NOW, acts, community_world, random_world

from graphminer import identity, precompute, trajectory
from graphminer.columnar import Columnar, build, copy, precomputed, rows, rules, tables
from graphminer.config import load_config
from graphminer.events import load_events
from graphminer.fakehub.generator import generate_world
from graphminer.store import open_store, store_path

TRAJ_TABLES = ("traj_makers", "traj_maker_names", "traj_milestones", "traj_stages")
STORES = itertools.count()


def stored_world(world: dict, folder: Path) -> sqlite3.Connection:
    """A world written into a new store, identities resolved (as after a harvest)."""
    conn = world_to_store(world, folder / f"store{next(STORES)}.sqlite")
    identity.refresh(conn, load_config(None))
    return conn


def generated(folder: Path, **sizes) -> dict:
    made = generate_world(folder / "world", truth=False, **sizes)
    return json.loads(gzip.decompress(Path(made["world"]).read_bytes()))


def store_copy(conn: sqlite3.Connection, folder: Path) -> sqlite3.Connection:
    """A copy of a shared store (SQLite's backup), open for a test to write into."""
    path = folder / f"store{next(STORES)}.sqlite"
    target = sqlite3.connect(path)
    conn.backup(target)
    target.close()
    return open_store(path)


# One generated world for the module (deleted accounts, renamed and transferred repos,
# deltas), and one small one: read only; a test that writes works on a copy (store_copy).
SHARED_WORLD = {"seed": 7, "orgs": 2, "repos_per_org": 4, "makers": 150, "years": 4,
                "deleted_accounts": 6, "delta_days": 2, "renamed_repos": 1, "transferred_repos": 1}


@pytest.fixture(scope="module")
def world_store(tmp_path_factory) -> sqlite3.Connection:
    folder = tmp_path_factory.mktemp("columnar-world")
    conn = stored_world(generated(folder, **SHARED_WORLD), folder)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> sqlite3.Connection:
    folder = tmp_path_factory.mktemp("columnar-small")
    conn = stored_world(generated(folder, seed=11, orgs=1, repos_per_org=4, makers=50, years=3), folder)
    yield conn
    conn.close()


def traj_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {table: sorted(tuple(row) for row in conn.execute(f"SELECT * FROM {table}"))
            for table in TRAJ_TABLES}


def pandas_tables(conn: sqlite3.Connection, folder: Path) -> dict[str, list[tuple]]:
    """The precomputed tables the pandas implementation writes, on a copy of the store."""
    target = sqlite3.connect(folder / f"pandas{next(STORES)}.sqlite")
    conn.backup(target)
    target.close()
    other = open_store(folder / f"pandas{next(STORES) - 1}.sqlite")
    precompute.refresh_pandas(other, load_config(None))
    found = traj_rows(other)
    other.close()
    return found


def test_every_catalogue_milestone_has_one_query():
    assert rules.unregistered() == (set(), set())


def test_the_demo_world_agrees(tmp_path):
    world = json.loads(gzip.decompress(
        resources.files("graphminer").joinpath("data/demo-world.json.gz").read_bytes()))
    conn = stored_world(world, tmp_path)
    assert differences(conn, load_config(None)) == []


def test_a_generated_world_agrees(world_store):
    """Deleted accounts, renamed and transferred repos, deltas; at the default as_of and at
    an earlier one (events after it are ignored by both)."""
    assert differences(world_store, load_config(None)) == []
    assert differences(world_store, load_config(None), as_of="2023-02-15T12:00:00Z") == []


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(acts)
def test_random_worlds_agree(tmp_path, plan):
    conn = random_world(plan).store(tmp_path / f"random{next(STORES)}.sqlite")
    assert differences(conn, None, as_of=NOW) == []


def test_community_file_creators_agree(tmp_path):
    """Rules version 5: only the first commit of a repo to touch a community path (ties of
    landing broken by committer date) is an organiser act, a bot's creation nobody's."""
    conn = community_world().store(tmp_path / "community.sqlite")
    identity.refresh(conn, load_config(None))
    engine = Columnar.in_memory(conn, None)
    created = engine.events_frame().query("community")
    assert sorted(created["maker"]) == ["2", "4", "5", "50"]
    assert differences(conn, None, as_of=NOW, columnar=engine) == []


@pytest.mark.parametrize("name", LOGS)
def test_every_shared_log_agrees(name, git_log_store):
    """Each shared log as ``harvest-git`` stores it (the session's store of it, shared with
    the real-log tests: read only here): the harvest refreshed its columnar copy, and the
    engine reading it gives the pandas implementation's answers."""
    store = git_log_store(name)
    config = load_config(store.parent / "conf" / "graphminer.toml")
    conn = open_store(store, readonly=True)
    assert copy.open_copy(conn, config) is not None  # fresh: the harvest sealed it
    assert differences(conn, config, columnar=Columnar.for_store(conn, config)) == []
    conn.close()


def test_one_history_under_two_names_counts_once_night_by_night(shared_dir, tmp_path):
    """Rules v4 dating across repositories: a commit (and a pull ref) stored under two
    repositories counts once, in the copy that landed first (ties: the full name). Each
    harvest refreshes the copy for what it touched; the copy also reads again the
    repository the counted copies moved from or to, and agrees with the pandas tables."""
    name = "codeforamerica+brigade-information"
    log = shared_dir / "data" / "git-logs" / f"{name}.log.gz"
    renamed = tmp_path / "aaa+brigade-copy.log.gz"  # sorts first: its copies count once stored
    shutil.copyfile(log, renamed)
    shutil.copyfile(log.with_name(f"{name}.pull-refs.tsv.gz"), tmp_path / "aaa+brigade-copy.pull-refs.tsv.gz")
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    store = tmp_path / "store.sqlite"
    for source in (log, renamed):
        result = run_cli("harvest-git", str(source), "--store", str(store), "--config", str(config_path))
        assert result.exit_code == 0, result.output
    conn = open_store(store)
    engine = Columnar.for_store(conn, config)
    assert copy.open_copy(conn, config) is not None  # the harvests' refreshes kept it fresh
    events = engine.events_frame()
    commits = events[events["kind"].eq("commit")]
    distinct = conn.execute("SELECT count(DISTINCT sha) FROM commits").fetchone()[0]
    assert len(commits) == distinct and commits["repo"].eq("aaa/brigade-copy").all()
    pulls = events[events["subkind"].eq("pull_ref")]
    assert len(pulls) > 0 and pulls["repo"].eq("aaa/brigade-copy").all()
    assert differences(conn, config, columnar=engine) == []  # (the written tables: below)
    # the copy renamed to sort last: the counted copies move back, both repositories read again
    both = {row[0] for row in conn.execute("SELECT id FROM repos")}
    engine.con.close()  # the reader lets go of the copy before the refresh writes it
    with conn:
        conn.execute("UPDATE repos SET full_name = 'zzz/brigade-copy', owner = 'zzz' "
                     "WHERE full_name = 'aaa/brigade-copy'")
    done = precompute.refresh(conn, config)
    assert not done["rebuilt"] and set(done["repos"]) == both
    engine = Columnar.for_store(conn, config)
    assert engine.events_frame().query("kind == 'commit'")["repo"].eq(
        "codeforamerica/brigade-information").all()
    assert differences(conn, config, columnar=engine) == []
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)


def test_tags_role_accounts_and_landing_acts_agree_night_by_night(tmp_path):
    """Rules v4 roles on a real git repository: annotated tags by their taggers (one who
    never commits), a role account's pushes (``deploy``, left out like a bot), a committer
    merging their own branch and a maintainer merging someone else's, a community file.
    Each harvest refreshes the copy; its events and the precomputed tables are the pandas
    implementation's, and a tag added later is read on the next night."""
    from test_git_support import Repo
    from test_git_tags import tag

    ann, bo, cy = ("Ann Lee", "ann@example.org"), ("Bo Chen", "bo@example.org"), ("Cy Diaz", "cy@example.org")
    deploy = ("deploy", "deploy@web1.example.org")
    repo = Repo(tmp_path / "work")
    repo.commit(ann, "Initial commit")
    repo.commit(bo, "Add the map", files=["map.py"])
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(bo, "Contributing guide", files=["CONTRIBUTING.md"])
    repo.git("checkout", "-q", "main")
    repo.merge("feature", "Merge branch 'feature'", ann)
    repo.commit(deploy, "Deploy")
    tag(repo, "v1.0", cy)
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    store = tmp_path / "store.sqlite"

    def night() -> tuple:
        result = run_cli("harvest-git", str(repo.path), "--store", str(store), "--config", str(config_path))
        assert result.exit_code == 0, result.output
        conn = open_store(store)
        engine = Columnar.for_store(conn, config)
        assert copy.open_copy(conn, config) is not None
        events = engine.events_frame()
        assert differences(conn, config, columnar=engine) == []
        engine.con.close()
        assert traj_rows(conn) == pandas_tables(conn, tmp_path)
        return conn, events

    conn, events = night()
    assert events["subkind"].eq("tag").sum() == 1 and events["role_account"].any()
    acts = events[events["kind"].eq("committed")]
    assert acts["own_work"].any() and acts["target_author"].ne(acts["maker"]).any()
    conn.close()
    repo.commit(bo, "Fix the map", files=["map.py"])
    tag(repo, "v1.1", ann)
    conn, events = night()
    assert events["subkind"].eq("tag").sum() == 2


def test_a_copy_and_tables_of_rules_version_4_are_made_again(tmp_path, monkeypatch):
    """A store refreshed under rules version 4 (its copy's ``community`` marking every
    commit that touched a community file, in layout "3"; its tables precomputed as "4",
    the editor an organiser): the first refresh under version 5 rebuilds the copy and
    recomputes the tables, so the maker who only edited the guide is no organiser."""
    import duckdb
    from test_git_support import Repo

    ann, bo = ("Ann Lee", "ann@example.org"), ("Bo Chen", "bo@example.org")
    repo = Repo(tmp_path / "work")
    repo.commit(ann, "Initial commit")
    repo.commit(ann, "Contributing guide", files=["CONTRIBUTING.md"])
    edit = repo.commit(bo, "Fix a typo in the guide", files=["CONTRIBUTING.md"])
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    store = tmp_path / "store.sqlite"
    result = run_cli("harvest-git", str(repo.path), "--store", str(store), "--config", str(config_path))
    assert result.exit_code == 0, result.output
    conn = open_store(store)
    bo_key = conn.execute("SELECT author_key FROM commit_makers WHERE sha = ?", (edit,)).fetchone()[0]

    def organisers() -> set[str]:
        return {row[0] for row in conn.execute(
            "SELECT maker_key FROM traj_milestones WHERE scope = 'network' AND milestone = 'organiser'")}

    assert bo_key not in organisers()
    with monkeypatch.context() as old:
        old.setattr(tables, "SCHEMA_VERSION", "3")
        settings_v4 = copy.settings(conn, config)
    con = duckdb.connect(str(copy.copy_path(conn)))
    con.execute("UPDATE _copy SET value = ? WHERE key = 'settings'", [settings_v4])
    con.execute("UPDATE events SET community = TRUE WHERE sha = ? AND kind = 'commit'", [edit])
    con.close()
    with conn:
        conn.execute("UPDATE _precomputed SET rules_version = '4'")
        conn.execute("CREATE TEMP TABLE planted AS SELECT * FROM traj_milestones WHERE maker_key = ? "
                     "AND milestone = 'first_contact'", (bo_key,))
        conn.execute("UPDATE planted SET milestone = 'organiser'")
        conn.execute("INSERT INTO traj_milestones SELECT * FROM planted")
    assert bo_key in organisers()
    done = precompute.refresh(conn, config)
    assert done["rebuilt"] and not done["quiet"]
    assert conn.execute("SELECT rules_version FROM _precomputed").fetchone()[0] == "5"
    assert bo_key not in organisers()
    engine = Columnar.for_store(conn, config)
    assert f"commit:{edit}" not in engine.events_frame().query("community")["target"].tolist()
    engine.con.close()
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)


def plant_following(conn: sqlite3.Connection) -> None:
    """Outside acts for some makers (what following would store): merged PRs in a
    government, a civic and another owner's repo, before and after their first contact,
    and repos of their own that others did or did not contribute to."""
    makers = [row[0] for row in conn.execute(
        "SELECT user_id FROM makers WHERE user_id IS NOT NULL AND NOT is_bot ORDER BY user_id LIMIT 12")]
    prs, repos = [], []
    for index, user_id in enumerate(makers):
        year = 2021 + index % 4  # the shared world runs from mid-2021 to mid-2025
        prs.append((user_id, f"gsa/tool{index}", "gsa", "government", f"{year}-01-02T00:00:00Z",
                    f"{year}-02-03T04:05:06Z", 1))
        prs.append((user_id, "codeforamerica/form", "codeforamerica", "civic",
                    f"{year + 1}-03-01T00:00:00Z", f"{year + 1}-03-04T00:00:00Z", 1))
        prs.append((user_id, "acme/lib", "acme", "other", "2030-01-01T00:00:00Z", None, 0))
        repos.append((user_id, f"u{user_id}/own", f"u{user_id}", f"{year}-06-01T00:00:00Z",
                      index % 3 == 0, index % 2, None))
    with conn:
        conn.executemany("INSERT INTO follow_prs(user_id, repo_full_name, owner_login, owner_kind, "
                         "created_at, merged_at, merged) VALUES (?,?,?,?,?,?,?)", prs)
        conn.executemany("INSERT INTO follow_repos(user_id, repo_full_name, owner_login, created_at, "
                         "fork, others, checked_pushed_at) VALUES (?,?,?,?,?,?,?)", repos)


def test_followed_makers_careers_agree(world_store, tmp_path):
    conn = store_copy(world_store, tmp_path)
    plant_following(conn)
    found = differences(conn, load_config(None))
    assert found == []
    reached = Columnar.in_memory(conn, None, precompute_outside(conn)).milestones(
        "2025-01-01T00:00:00Z")
    assert reached["government"].notna().sum() > 0 and reached["founder"].notna().sum() > 0


def precompute_outside(conn):
    from graphminer.careers import outside_acts

    return outside_acts(conn, load_config(None))


def test_the_copy_refreshed_night_by_night_gives_what_a_rebuild_gives(small_store, tmp_path):
    """Each change a harvest or identity can make, one refresh after another: the copy
    reads again only the repositories touched, and the tables equal the pandas ones."""
    conn = store_copy(small_store, tmp_path)
    config = load_config(None)
    first = precompute.refresh(conn, config)
    assert first["rebuilt"] and copy.copy_path(conn).exists()
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)
    # readers trust the copy only while the store's file is the one the refresh sealed: a
    # write the triggers do not see (here the harvest lock's table) turns them to pandas
    assert copy.open_copy(conn, config) is not None
    with conn:
        conn.execute("INSERT INTO _lock(id, pid, host, command, started_at) VALUES "
                     "(1, 1, 'h', 'c', '2024-01-01T00:00:00Z')")
    assert copy.open_copy(conn, config) is None
    with conn:
        conn.execute("DELETE FROM _lock")

    quiet = precompute.refresh(conn, config)  # nothing changed
    assert quiet["repos"] == [] and quiet["quiet"] and sum(quiet["written"].values()) == 0
    # quiet nights later on: as_of moves (months on: people go inactive, then gone, new
    # quarters begin), nothing else; computed from what the copy kept, written as changed
    now = datetime.fromisoformat(conn.execute("SELECT max(ended_at) FROM _runs").fetchone()[0])
    # within one quarter only the makers near a threshold are computed again
    # (precomputed.quiet_makers): a night into the next quarter, then one later in it that
    # takes some makers past inactive_days or gone_days
    def night_at(moment: pd.Timestamp) -> dict:
        ended = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        with conn:
            conn.execute("INSERT INTO _runs(kind, started_at, ended_at, status) VALUES "
                         "('github', ?, ?, 'ok')", (ended, ended))
        return precompute.refresh(conn, config)

    quarter = (pd.Timestamp(now).tz_convert("UTC").tz_localize(None).to_period("Q") + 1)
    entered = quarter.start_time.tz_localize("UTC") + pd.Timedelta(days=1)
    assert night_at(entered)["quiet"]
    limits = trajectory.thresholds(config)
    times = load_events(conn, config).query("action").groupby("maker")["ts"].max()  # last actions
    crossing = sorted(t + pd.Timedelta(days=int(limits[name])) for name in ("inactive_days", "gone_days")
                      for t in times)
    crossing = [c for c in crossing if entered + pd.Timedelta(days=1) < c
                < quarter.end_time.tz_localize("UTC") - pd.Timedelta(days=1)]
    assert crossing, "the world offers no maker crossing a threshold in that quarter"
    moved = night_at(crossing[0] + pd.Timedelta(hours=1))
    assert moved["quiet"] and moved["written"]["traj_stages"] > 0
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)
    for days in (200, 600):
        ended = (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        with conn:
            conn.execute("INSERT INTO _runs(kind, started_at, ended_at, status) VALUES "
                         "('github', ?, ?, 'ok')", (ended, ended))
        later = precompute.refresh(conn, config)
        assert later["quiet"] and later["repos"] == [] and later["written"]["traj_stages"] > 0
        assert traj_rows(conn) == pandas_tables(conn, tmp_path), ended

    repo_ids = [row[0] for row in conn.execute("SELECT id FROM repos ORDER BY id")]
    nights = [
        ("a comment, a PR merged, an issue gone", [
            "INSERT INTO issue_comments(id, repo_id, issue_number, user_id, created_at) "
            "SELECT 987654321, repo_id, number, user_id, '2024-06-01T00:00:00Z' FROM issues "
            f"WHERE repo_id = {repo_ids[0]} LIMIT 1",
            "UPDATE issues SET merged_at = '2024-06-02T00:00:00Z', merged_by_id = user_id "
            f"WHERE is_pr = 1 AND merged_at IS NULL AND repo_id = {repo_ids[1]}",
            f"DELETE FROM issues WHERE repo_id = {repo_ids[2]} AND number = "
            f"(SELECT min(number) FROM issues WHERE repo_id = {repo_ids[2]})"],
         set(repo_ids[:3])),
        ("a repo renamed", [
            f"UPDATE repos SET full_name = full_name || '-renamed', name = name || '-renamed' "
            f"WHERE id = {repo_ids[3]}"],
         {repo_ids[3]}),
        ("identity merges commits into another maker", [
            "UPDATE commit_makers SET author_key = (SELECT author_key FROM commit_makers "
            "WHERE author_key IS NOT NULL ORDER BY sha LIMIT 1) WHERE rowid IN "
            "(SELECT rowid FROM commit_makers ORDER BY sha DESC LIMIT 3)"], None),
    ]
    for label, statements, touched in nights:
        with conn:
            for sql in statements:
                conn.execute(sql)
        done = precompute.refresh(conn, config)
        assert not done["rebuilt"] and not done["quiet"] and done["repos"], label
        if touched is not None:
            assert set(done["repos"]) == touched, label
    # the rows each night wrote stay until a later one rewrites them: one comparison after
    # the three (the pandas tables cost about a second each)
    expected = pandas_tables(conn, tmp_path)
    assert traj_rows(conn) == expected
    # a store restored from a backup (the copy is of a later state): rebuilt, not trusted;
    # the records are the same, so are the tables
    with conn:
        conn.execute("UPDATE _settings SET value = 'restored' WHERE key = 'columnar_sync'")
    assert precompute.refresh(conn, config)["rebuilt"]
    assert traj_rows(conn) == expected


def changed_night(conn: sqlite3.Connection) -> None:
    """A harvest a day after the last in which every issue was opened a second earlier
    (every repository's events change, and the milestones of everyone who opened one)."""
    ended = conn.execute("SELECT max(ended_at) FROM _runs").fetchone()[0]
    later = (datetime.fromisoformat(ended.replace("Z", "+00:00")) + timedelta(days=1)
             ).strftime("%Y-%m-%dT%H:%M:%SZ")
    with conn:
        conn.execute("INSERT INTO _runs(kind, started_at, ended_at, status) VALUES "
                     "('github', ?, ?, 'ok')", (later, later))
        conn.execute("UPDATE issues SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', "
                     "created_at, '-1 seconds')")


def test_a_harvest_from_another_host_writes_every_link_again(small_store, tmp_path):
    """The copy keeps what it wrote without the links (they follow from the web address):
    after a harvest from a GitHub Enterprise host, with no record changed, every link of
    the store points at that host, as the pandas implementation writes them."""
    conn = store_copy(small_store, tmp_path)
    config = load_config(None)
    precompute.refresh(conn, config)
    links = [row[0] for row in conn.execute("SELECT link FROM traj_milestones WHERE link IS NOT NULL")]
    assert links and all(link.startswith("https://github.com/") for link in links)
    ended = conn.execute("SELECT max(ended_at) FROM _runs").fetchone()[0]
    with conn:
        conn.execute("INSERT INTO _runs(kind, started_at, ended_at, status, source) VALUES "
                     "('github', ?, ?, 'ok', 'https://ghe.example.org/api/v3')", (ended, ended))
    precompute.refresh(conn, config)
    moved = [row[0] for row in conn.execute("SELECT link FROM traj_milestones WHERE link IS NOT NULL")]
    assert len(moved) == len(links)
    assert all(link.startswith("https://ghe.example.org/") for link in moved)
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)


def test_a_store_write_that_fails_leaves_the_store_as_it_was_and_the_copy_untrusted(small_store, tmp_path):
    """A refresh whose writing to the store fails (here a trigger refuses it; a full disk,
    a killed process) after the copy's events changed: the store keeps what it had, and
    the next refresh rebuilds the copy rather than trust events and prints the store never
    took (trusted, it saw the repositories' prints unchanged and wrote nothing). The copy
    records the refresh while the store writes the rows: whether the store fails while the
    copy records it (the milestones) or after the copy committed (the ``_precomputed``
    row), the same. The next refresh's tables are the pandas ones."""
    conn = store_copy(small_store, tmp_path)
    config = load_config(None)
    assert precompute.refresh(conn, config)["rebuilt"]
    for table in ("traj_milestones", "_precomputed"):
        before = traj_rows(conn)
        changed_night(conn)
        with conn:  # (a changed row is updated in place, a new one inserted)
            for write in ("INSERT", "UPDATE"):
                conn.execute(f"CREATE TRIGGER refused_{write} BEFORE {write} ON {table} "
                             "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END")
        with pytest.raises(sqlite3.IntegrityError, match="the disk is full"):
            precompute.refresh(conn, config)
        assert traj_rows(conn) == before, table  # the store's transaction rolled back whole
        con = copy.open_writable(copy.copy_path(conn))
        try:
            assert copy.copy_value(con, "sync") != copy.sync_token(conn), table
        finally:
            con.close()
        with conn:
            for write in ("INSERT", "UPDATE"):
                conn.execute(f"DROP TRIGGER refused_{write}")
        assert precompute.refresh(conn, config)["rebuilt"], table
        assert traj_rows(conn) == pandas_tables(conn, tmp_path), table


def test_rows_written_in_batches_are_those_written_at_once(small_store, tmp_path, monkeypatch):
    """Past ``READ_AT_ONCE`` rows (a first refresh of a large store), the rows are read from
    the copy in batches and the copy records the refresh after them: the same tables."""
    monkeypatch.setattr(precomputed, "READ_AT_ONCE", 0)
    conn = store_copy(small_store, tmp_path)
    config = load_config(None)
    assert precompute.refresh(conn, config)["rebuilt"]
    changed_night(conn)
    done = precompute.refresh(conn, config)
    assert not done["rebuilt"] and sum(done["written"].values()) > 0
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)
    assert precompute.refresh(conn, config)["quiet"]  # what the copy recorded is trusted


def test_a_night_recomputes_the_makers_its_events_reach_even_in_other_repositories(world_store, tmp_path):
    """A night that changed one repository's events computes again only the makers those
    events can reach (``precomputed.night_makers``), not every maker, and its tables equal
    the pandas ones. The reach goes beyond the repository: a newcomer's first issue, in one
    repository, answered within the hour by someone who never acted anywhere else, makes
    that someone a first responder (organiser); an issue the newcomer opened earlier in
    another repository, harvested the next night, moves their first contact there, so the
    answer is no longer a first response and the responder loses the milestone."""
    conn = store_copy(world_store, tmp_path)
    config = load_config(None)
    assert precompute.refresh(conn, config)["rebuilt"]
    repo_ids = [row[0] for row in conn.execute("SELECT id FROM repos ORDER BY id")]
    here, there = repo_ids[0], repo_ids[-1]
    ended = datetime.fromisoformat(conn.execute("SELECT max(ended_at) FROM _runs").fetchone()[0])

    def stamp(hours: float) -> str:
        return (ended - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def issue(repo_id: int, created_at: str) -> int:
        number = conn.execute("SELECT coalesce(max(number), 0) + 1 FROM issues WHERE repo_id = ?",
                              (repo_id,)).fetchone()[0]
        conn.execute("INSERT INTO issues(repo_id, number, id, user_id, title, state, created_at, "
                     "is_pr) VALUES (?, ?, ?, 990001, 'hello', 'open', ?, 0)",
                     (repo_id, number, 990000 + repo_id % 1000 * 10 + number, created_at))
        return number

    def organiser_rows() -> int:
        return conn.execute("SELECT count(*) FROM traj_milestones t JOIN traj_makers m "
                            "ON m.key = t.maker_key WHERE m.login = 'replier-r' "
                            "AND t.milestone = 'organiser'").fetchone()[0]

    with conn:
        conn.executemany("INSERT INTO people(id, login, name, type) VALUES (?, ?, ?, 'User')",
                         [(990001, "newcomer-d", "D"), (990002, "replier-r", "R")])
        number = issue(there, stamp(20 * 24))
        conn.execute("INSERT INTO issue_comments(id, repo_id, issue_number, user_id, created_at) "
                     "VALUES (990001, ?, ?, 990002, ?)", (there, number, stamp(20 * 24 - 1)))
    identity.refresh(conn, config)
    first = precompute.refresh(conn, config)  # new accounts: every maker computed again
    assert not first["partial"] and organiser_rows() > 0
    with conn:
        issue(here, stamp(40 * 24))
    done = precompute.refresh(conn, config)
    assert done["partial"] and done["repos"] == [here]
    makers = conn.execute("SELECT count(*) FROM traj_makers").fetchone()[0]
    assert 0 < done["makers_recomputed"] < makers
    assert organiser_rows() == 0
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)


def in_order(rows) -> list[tuple]:
    """Rows sorted, NULLs first in each column (tables have no order of their own)."""
    return sorted((tuple(row) for row in rows),
                  key=lambda row: tuple((value is not None, value) for value in row))


def staged_tables(con) -> dict[str, tuple[list, list[tuple]]]:
    """Every ``s_*`` table ``build.stage`` made: its columns with their types, its rows."""
    return {name: (con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {name})").fetchall(),
                   in_order(con.execute(f"SELECT * FROM {name}").fetchall()))
            for name in ["s_repos", "s_staged", "s_bots", "s_opted_out",
                         *(table for table, _, _ in build.STAGED)]}


def sqlite3_rows(conn: sqlite3.Connection, repo_ids=None) -> dict[str, tuple[list, list[tuple]]]:
    """The ground truth of every ``STAGED`` table: its declared columns and types, and the
    rows of its query as the standard library's sqlite3 reads them through ``conn``."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return {name: (list(types.items()), in_order(cursor.execute(sql).fetchall()))
            for name, sql, types in build.staged_queries(conn, repo_ids)}


@pytest.mark.parametrize(("apart", "arrow"), [(False, False), (True, False), (True, True)])
def test_staging_reads_what_sqlite3_reads(world_store, apart, arrow):
    """Every ``STAGED`` table ``build.stage`` makes holds its query's rows as the standard
    library's sqlite3 reads them, with the columns and types declared, NULLs as NULLs; and
    staging some repositories reads theirs alone, as their own query does. The same when a
    child process reads the commits (``apart``: the store is in a file, read outside a
    transaction), or two children read every table through ADBC's SQLite driver
    (``arrow``), and the other tables are the ones read without them."""
    config = load_config(None)
    con = build.connect()
    far = ([name for name, _, _ in build.STAGED] if arrow else ["s_commits"]) if apart else []
    assert build.stage(con, world_store, config, apart=apart, arrow=arrow) == far
    truth = sqlite3_rows(world_store)
    assert {name: staged_tables(con)[name] for name in truth} == truth
    assert truth["s_items"][1] and truth["s_commits"][1]
    alone = build.connect()
    build.stage(alone, world_store, config, apart=False)
    assert staged_tables(con) == staged_tables(alone)
    repo_ids = [row[0] for row in world_store.execute("SELECT id FROM repos ORDER BY id")][1::2]
    some = build.connect()
    assert build.stage(some, world_store, config, repo_ids, apart, arrow) == far
    truth = sqlite3_rows(world_store, repo_ids)
    assert {name: staged_tables(some)[name] for name in truth} == truth
    read = {row[0] for row in some.execute("SELECT DISTINCT repo_id FROM s_items").fetchall()}
    assert read and read <= set(repo_ids)
    read = {row[0] for row in some.execute("SELECT DISTINCT repo_id FROM s_commits").fetchall()}
    assert read and read <= set(repo_ids)


def test_a_child_reading_in_chunks_drops_and_mixes_no_row(world_store):
    """``rows.Apart``: the child's rows, read and written a few at a time (many Parquet
    files: a row lost or read twice at their seams would show), are the query's rows; a
    child that fails makes no table, and a store in memory or a connection with writes not
    committed is staged by this process alone."""
    name, sql, types = next(q for q in build.staged_queries(world_store, None) if q[0] == "s_commits")
    con = build.connect()
    with rows.Apart(store_path(world_store), [(name, sql, types)], chunk=7) as child:
        assert child.into(con)
        assert len(list(child.folder.glob(f"{name}-*.parquet"))) > 3
    assert not child.folder.exists()
    cursor = world_store.cursor()
    cursor.row_factory = None
    truth = cursor.execute(sql).fetchall()
    assert len(truth) > 21
    assert in_order(con.execute(f"SELECT * FROM {name}").fetchall()) == in_order(truth)
    with rows.Apart(store_path(world_store), [("nothing", "SELECT * FROM no_such_table",
                                               {"x": "BIGINT"})]) as child:
        assert not child.into(con)
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'nothing'"
                           ).fetchall()[0][0]
    memory = sqlite3.connect(":memory:")
    world_store.backup(memory)
    assert store_path(memory) is None
    here = build.connect()
    assert build.stage(here, memory, load_config(None), apart=True) == []
    assert staged_tables(here) == staged_tables(con_staged(world_store))


def con_staged(conn: sqlite3.Connection):
    """A DuckDB connection holding the ``s_*`` tables of the store staged by this process."""
    con = build.connect()
    assert build.stage(con, conn, load_config(None), apart=False) == []
    return con


def test_a_child_that_cannot_run_leaves_the_tables_to_this_process(world_store, monkeypatch):
    """When the child process fails (here the interpreter it is started with exits at
    once, unable to read anything), ``build.stage`` reads its tables itself: the same
    tables, none said to be read apart."""
    monkeypatch.setattr(sys, "executable", shutil.which("false"))
    con = build.connect()
    assert build.stage(con, world_store, load_config(None), apart=True) == []
    assert staged_tables(con) == staged_tables(con_staged(world_store))


def test_staging_reads_the_callers_writes_not_committed_yet(world_store, tmp_path):
    """``build.stage`` reads through the caller's connection: records written in its
    transaction, not committed yet, are staged (a second connection would stage the
    records before them), even where a child process would have read the commits."""
    conn = store_copy(world_store, tmp_path)
    assert build.stage(build.connect(), conn, load_config(None), apart=True, arrow=False) == ["s_commits"]
    repo_id, number = conn.execute("SELECT repo_id, max(number) FROM issues "
                                   "WHERE repo_id = (SELECT max(repo_id) FROM issues)").fetchone()
    conn.execute("UPDATE issues SET created_at = '2001-02-03T04:05:06Z' "
                 "WHERE repo_id = ? AND number = ?", (repo_id, number))
    repo, sha = conn.execute("SELECT repo_id, max(sha) FROM commits "
                             "WHERE repo_id = (SELECT max(repo_id) FROM commits)").fetchone()
    conn.execute("UPDATE commits SET author_email = 'uncommitted@example.org' "
                 "WHERE repo_id = ? AND sha = ?", (repo, sha))
    assert conn.in_transaction
    con = build.connect()
    assert build.stage(con, conn, load_config(None), apart=True) == []
    assert con.execute("SELECT created_at FROM s_items WHERE repo_id = ? AND number = ?",
                       [repo_id, number]).fetchall() == [("2001-02-03T04:05:06Z",)]
    assert con.execute("SELECT author_email FROM s_commits WHERE repo_id = ? AND sha = ?",
                       [repo, sha]).fetchall() == [("uncommitted@example.org",)]
    conn.rollback()
    conn.close()


# A store whose WAL index (-shm) grew to three regions, then a small write after a
# checkpoint (the WAL starts again from its beginning), the store staged, then a write of
# more WAL frames than one region indexes: a second SQLite library in the process (ADBC's
# SQLite driver once read the store so) took itself for the file's only user and rebuilt
# the -shm at one region under sqlite3's mapping of three, and that write died of SIGBUS.
SHM_SCRIPT = """
import os, sys
from graphminer.columnar import build
from graphminer.config import load_config
from graphminer.store import open_store

path = sys.argv[1]
conn = open_store(path)
conn.execute("CREATE TABLE filler (x BLOB)")
with conn:
    conn.executemany("INSERT INTO filler VALUES (?)", [(b"x" * 4000,)] * 12000)
grown = os.path.getsize(path + "-shm")
conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
with conn:
    conn.execute("INSERT INTO filler VALUES (x'00')")
apart = sys.argv[2] == "apart"  # (children reading through ADBC's SQLite, when installed)
assert build.stage(build.connect(), conn, load_config(None), apart=apart or None) == (
    [name for name, _, _ in build.STAGED] if apart else [])
staged = os.path.getsize(path + "-shm")
with conn:
    conn.executemany("INSERT INTO filler VALUES (?)", [(b"y" * 4000,)] * 12000)
print(grown, staged, conn.execute("SELECT count(*) FROM filler").fetchone()[0])
"""


@pytest.mark.parametrize("where", ["here", "apart"])
def test_staging_leaves_sqlites_shared_memory_as_it_was(tmp_path, where):
    """Staging a store in a file opens no second SQLite library on it in this process
    (sqlite.org/howtocorrupt.html, 2.2.1), here or with children reading it (through ADBC's
    SQLite driver, each in a process of its own): the WAL index stays the size sqlite3
    mapped, and the large write after it completes (it killed the process with SIGBUS when
    ADBC read the store in this process)."""
    path = tmp_path / "store.sqlite"
    done = subprocess.run([sys.executable, "-c", SHM_SCRIPT, str(path), where],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    grown, staged, rows = map(int, done.stdout.split())
    assert grown >= 3 * 32768 and staged == grown
    assert rows == 24001


def events_in_order(con) -> list[tuple]:
    """The copy's events, every column but ``seq``, in their places' order (``seq``'s
    numbers may differ between two derivations; the order they give must not)."""
    columns = [c for c in tables.BASE_COLUMNS + tuple(name for name, _ in tables.DERIVED) if c != "seq"]
    return con.execute(f"SELECT {', '.join(columns)} FROM events ORDER BY seq").fetchall()


def events_by_key(con) -> list[tuple]:
    """The events table with its makers as keys (two builds code them differently), every
    column but ``seq``, in one order of all columns."""
    coded = ("seq", "maker", "target_author", "committer")
    columns = [f"e.{c}" for c in tables.BASE_COLUMNS + tuple(name for name, _ in tables.DERIVED)
               if c not in coded]
    return con.execute(f"""SELECT m.key, ta.key, cm.key, {', '.join(columns)} FROM events e
        JOIN makers m ON m.code = e.maker LEFT JOIN makers ta ON ta.code = e.target_author
        LEFT JOIN makers cm ON cm.code = e.committer ORDER BY ALL""").fetchall()


def built_afresh(conn: sqlite3.Connection, config) -> list[tuple]:
    """``events_by_key`` of the events built from the store in memory, from nothing."""
    con = build.connect()
    tables.create(con)
    tables.load(con, conn, config, None)
    found = events_by_key(con)
    con.close()
    return found


def test_a_nights_new_events_take_places_between_their_neighbours(world_store, tmp_path, monkeypatch):
    """A night that changed a few events puts them in place without numbering the others
    again (``tables.derive_in_place``: new places between their neighbours', steps updated
    where they differ), and the events table equals a whole derivation's, row for row in
    the same order; the tables equal the pandas ones. A copy whose places have no gaps (as
    the version before numbered them) is numbered again whole, with the same result."""
    monkeypatch.setattr(tables, "IN_PLACE_SHARE", 1.0)  # a small world: every night in place
    conn = store_copy(world_store, tmp_path)
    config = load_config(None)
    assert precompute.refresh(conn, config)["rebuilt"]
    repo_ids = [row[0] for row in conn.execute("SELECT DISTINCT repo_id FROM issues ORDER BY 1")]
    ended = conn.execute("SELECT max(ended_at) FROM _runs").fetchone()[0]

    def night(repo_id: int, commit: bool = False) -> set[int]:
        """One issue opened 40 days earlier, and a comment on it the last second: an event
        moved among the others, one after every other (with ``commit``, a commit's date
        moved too: its repository's history is walked again, the others' walks are the
        ones kept). The places not a multiple of GAP."""
        with conn:
            if commit:
                conn.execute("UPDATE commits SET committer_date = strftime('%Y-%m-%dT%H:%M:%SZ', "
                             "committer_date, '-3 hours') WHERE repo_id = ? AND sha = "
                             "(SELECT min(sha) FROM commits WHERE repo_id = ?)", (repo_id, repo_id))
            number = conn.execute("SELECT min(number) FROM issues WHERE repo_id = ?", (repo_id,)).fetchone()[0]
            conn.execute("UPDATE issues SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, "
                         "'-40 days') WHERE repo_id = ? AND number = ?", (repo_id, number))
            conn.execute("INSERT INTO issue_comments(id, repo_id, issue_number, user_id, created_at) "
                         "SELECT 987650000 + ?, repo_id, number, user_id, ? FROM issues "
                         "WHERE repo_id = ? AND number = ?", (repo_id, ended, repo_id, number))
        done = precompute.refresh(conn, config)
        assert not done["rebuilt"] and done["repos"] == [repo_id], done
        con = copy.open_writable(copy.copy_path(conn))
        try:
            placed = {row[0] for row in con.execute(f"SELECT seq % {tables.GAP} FROM events").fetchall()}
            kept = events_in_order(con)
            walked = con.execute("SELECT count(DISTINCT repo_id) FROM landing_kept").fetchall()[0][0]
            assert walked == conn.execute("SELECT count(DISTINCT repo_id) FROM commits").fetchone()[0]
            assert events_by_key(con) == built_afresh(conn, config)
            tables.derive(con)  # the whole derivation, on the same codes
            assert kept == events_in_order(con)
        finally:
            con.close()
        return placed

    assert night(repo_ids[0]) != {0}  # put in place: some events between two others
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)
    con = copy.open_writable(copy.copy_path(conn))
    con.execute("""UPDATE events SET seq = d.n FROM (
        SELECT rowid AS rid, row_number() OVER (ORDER BY seq) AS n FROM events) d
        WHERE events.rowid = d.rid""")
    con.close()
    assert night(repo_ids[-1], commit=True) == {0}  # no gap to place them in: numbered again whole
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)


def test_records_written_again_unchanged_are_read_but_not_put_in_place_again(small_store, tmp_path):
    """A harvest that writes every repository's records again (``harvest --full``): the
    triggers note every repository; the refresh reads them all and compares each one's
    print (``build.prints_sql``) with the last refresh's: the unchanged ones keep their
    events, so the night is a quiet one; a record changed among them is found, and the
    tables equal the pandas ones. A copy made before the prints were kept reads every
    repository once and keeps them."""
    conn = store_copy(small_store, tmp_path)
    config = load_config(None)
    assert precompute.refresh(conn, config)["rebuilt"]
    repo_ids = [row[0] for row in conn.execute("SELECT id FROM repos ORDER BY id")]

    def all_written_again(*statements: str) -> dict:
        with conn:
            conn.execute("INSERT OR IGNORE INTO _columnar_touched SELECT id FROM repos")
            for sql in statements:
                conn.execute(sql)
        return precompute.refresh(conn, config)

    done = all_written_again()
    assert done["repos"] == [] and done["quiet"] and sum(done["written"].values()) == 0
    number = conn.execute("SELECT min(number) FROM issues WHERE repo_id = ?", (repo_ids[1],)).fetchone()[0]
    done = all_written_again("UPDATE issues SET created_at = '2020-01-02T03:04:05Z' "
                             f"WHERE repo_id = {repo_ids[1]} AND number = {number}")
    assert repo_ids[1] in done["repos"] and not done["quiet"]
    assert set(done["repos"]) < set(repo_ids)
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)
    con = copy.open_writable(copy.copy_path(conn))
    con.execute("DROP TABLE repo_prints")
    con.close()
    assert all_written_again()["repos"] == repo_ids
    assert all_written_again()["repos"] == []


def test_where_the_engine_does_not_implement_the_running_rules_pandas_answers(small_store, tmp_path,
                                                                            monkeypatch):
    """The engine steps aside (``unsupported``) when the rules moved on without it: a
    milestone it has no query for, an events column it does not build, another rules
    version, other thresholds. Then precompute writes the pandas implementation's tables and
    readers compute with pandas: no answer differs from it."""
    from graphminer.columnar import unsupported
    from graphminer.events import COLUMNS
    from graphminer.milestones import KEYS, MILESTONES
    from graphminer.reader import StoreReader

    assert unsupported() is None  # the running rules: the engine answers
    assert unsupported(keys=(*KEYS, "mentor")) == "no columnar query for mentor"
    assert unsupported(columns=(*COLUMNS, "mentored")) == "the columnar events have no mentored"
    assert "rules version" in unsupported(version="6")
    read = {entry.key: entry.thresholds for entry in MILESTONES}
    read["core"] = (*read["core"], "core_min_years")
    assert unsupported(read=read) == "the columnar queries read other thresholds for core"

    conn = store_copy(small_store, tmp_path)
    config = load_config(None)
    monkeypatch.setattr(rules, "PORTED_VERSION", "3")  # an engine ported from older rules
    done = precompute.refresh(conn, config)
    assert "rules version 3" in done["pandas"] and not copy.copy_path(conn).exists()
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)
    assert StoreReader(conn, config).columnar is None
    monkeypatch.undo()
    assert precompute.refresh(conn, config)["rebuilt"] and copy.copy_path(conn).exists()
    assert StoreReader(conn, config).columnar is not None


def test_a_file_at_the_copys_place_that_is_not_a_copy_is_left_alone(small_store, tmp_path):
    conn = store_copy(small_store, tmp_path)
    foreign = copy.copy_path(conn)
    foreign.write_bytes(b"not graphminer's")
    done = precompute.refresh(conn, load_config(None))
    assert done.get("in_memory") and foreign.read_bytes() == b"not graphminer's"
    assert traj_rows(conn) == pandas_tables(conn, tmp_path)


def test_the_rule_queries_give_the_same_milestones_on_chdb(world_store):
    """The same rule queries, compiled for ClickHouse by sqlglot, run on chDB (ClickHouse
    in-process) over the same events: the same milestones, row for row, as DuckDB's."""
    from graphminer.columnar import clickhouse, seconds
    from graphminer.store import default_as_of
    from graphminer.trajectory import thresholds

    conn = world_store
    engine = Columnar.in_memory(conn, load_config(None))
    moment, limits = seconds(default_as_of(conn)), thresholds(load_config(None))
    ours = clickhouse.duckdb_milestones(engine.con, moment, limits)
    theirs = clickhouse.chdb_milestones(engine.con, moment, limits)
    assert len(ours) > 500 and ours["milestone"].nunique() >= 15
    assert theirs.equals(ours)
    # and DuckDB's are the engine's own network milestones
    acts = engine.acts(default_as_of(conn))
    assert len(acts) == len(ours)


@pytest.mark.parametrize("module", ["graphminer.columnar", "graphminer.columnar.build", "graphminer.columnar.tables",
                                    "graphminer.columnar.rows",
                                    "graphminer.columnar.graph", "graphminer.columnar.lanes",
                                    "graphminer.columnar.precomputed"])
def test_the_docstring_examples_run(module):
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(module), report=False)
    assert tried > 0 and failures == 0


def test_the_fast_path_and_the_analysis_import_no_duckdb_at_start():
    import subprocess
    import sys

    code = ("import sys, graphminer.precompute, graphminer.reader, graphminer.trajectory, "
            "graphminer.columnar; print('duckdb' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_triggers_note_each_touched_repository_once_whatever_the_writes(tmp_path):
    """Migration 0012's triggers under the harvester's kinds of write: plain inserts,
    upserts of a row already there (a trigger's own conflict policy would give way to the
    upsert's), updates that change nothing the events read, deletes."""
    conn = open_store(tmp_path / "store.sqlite")
    with conn:
        conn.execute("INSERT INTO repos(id, owner, name, full_name) VALUES (7, 'o', 'r', 'o/r')")
        for title in ("one", "two"):  # the second is an upsert of the same issue
            conn.execute("INSERT INTO issues(repo_id, number, user_id, title, created_at) "
                         "VALUES (7, 1, 5, ?, '2024-01-01T00:00:00Z') ON CONFLICT(repo_id, number) "
                         "DO UPDATE SET title = excluded.title, user_id = 6", (title,))
        conn.execute("INSERT OR REPLACE INTO issue_comments(id, repo_id, issue_number, user_id, "
                     "created_at) VALUES (1, 7, 1, 5, '2024-01-02T00:00:00Z')")
    assert [tuple(row) for row in conn.execute("SELECT repo_id FROM _columnar_touched")] == [(7,)]
    with conn:
        conn.execute("DELETE FROM _columnar_touched")
        conn.execute("UPDATE issues SET title = 'three'")  # nothing the events read
    assert conn.execute("SELECT count(*) FROM _columnar_touched").fetchone()[0] == 0
    with conn:
        conn.execute("DELETE FROM issue_comments")
    assert [tuple(row) for row in conn.execute("SELECT repo_id FROM _columnar_touched")] == [(7,)]



# --- the engine's lanes (graphminer.columnar.lanes) ------------------------------------------

def test_two_lanes_give_what_one_lane_and_pandas_give_even_after_another_as_of(world_store):
    """On two lanes every table is made before a statement reads it: after an earlier as_of
    on the same engine (whose tables a statement run too early would read), the default
    as_of's milestones of every scope, acts, stages and graph (read aside while its nodes
    are made) are the one-lane engine's, frame for frame and node for node, and everything
    is the pandas implementation's (``differences``)."""
    from columnar_support import graph_difference
    from pandas.testing import assert_frame_equal

    from graphminer.events import newest_event
    from graphminer.reader import maker_labels
    from graphminer.store import default_as_of

    config = load_config(None)
    outside = precompute_outside(world_store)
    moment = default_as_of(world_store, newest_event(load_events(world_store, config)))
    one = Columnar.in_memory(world_store, config, outside, lanes=1)
    two = Columnar.in_memory(world_store, config, outside, lanes=2)
    assert (one.engine.lanes.count, two.engine.lanes.count) == (1, 2)
    earlier = "2023-02-15T12:00:00Z"
    assert len(two.milestones(earlier)) < len(one.milestones(moment))  # tables of another as_of
    assert len(two.stages(earlier)) < len(one.stages(moment))
    for scope in ("network", "org", "repo"):
        assert_frame_equal(two.milestones(moment, scope), one.milestones(moment, scope))
        assert_frame_equal(two.acts(moment, scope), one.acts(moment, scope))
    assert_frame_equal(two.stages(moment), one.stages(moment))
    labels = maker_labels(world_store)
    graph = two.graph(moment, two.stages(moment), labels)
    assert graph.number_of_edges() > 100
    assert graph_difference(one.graph(moment, one.stages(moment), labels), graph) is None
    assert differences(world_store, config, columnar=two) == []


def test_a_lanes_failure_stops_the_others_and_is_raised_and_one_thread_is_one_lane(monkeypatch):
    """A statement that fails on a lane is raised to the caller once the lanes stop (the
    step after it never runs); with ``GRAPHMINER_DUCKDB_THREADS=1`` the engine runs on one
    lane, its tables the connection's own temporary ones, DuckDB's threads as set."""
    import duckdb

    from graphminer.columnar.lanes import Lanes, Step, lane_count

    lanes = Lanes(duckdb.connect(), 2)
    with pytest.raises(duckdb.CatalogException, match="missing"):
        lanes.run([Step("a", "CREATE TABLE a AS SELECT * FROM missing"),
                   Step("b", "CREATE TABLE b AS SELECT 1 AS x"),
                   Step("c", "CREATE TABLE c AS SELECT * FROM a", after=("a",))])
    assert lanes.home.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'c'"
                              ).fetchall() == [(0,)]
    with pytest.raises(ValueError, match="wait for each other"):
        lanes.run([Step("a", "SELECT 1", after=("b",)), Step("b", "SELECT 1", after=("a",))])
    monkeypatch.setenv("GRAPHMINER_DUCKDB_THREADS", "1")
    assert lane_count() == 1
    columnar = Columnar(build.connect(), None)
    assert columnar.engine.lanes.count == 1 and columnar.engine.con is columnar.con
    assert columnar.engine.temp == "TEMP "
    assert columnar.con.execute("SELECT current_setting('threads')").fetchall() == [(1,)]


def test_two_engines_on_one_database_keep_their_own_tables(world_store):
    """Two readers' engines on two connections to one database (DuckDB gives every
    connection to one file in a process the same instance) each keep their own lanes'
    tables, as each kept its own temporary tables: one's as_of does not become the other's."""
    from pandas.testing import assert_frame_equal

    config = load_config(None)
    outside = precompute_outside(world_store)
    one = Columnar.in_memory(world_store, config, outside, lanes=2)
    other = Columnar(one.con.cursor(), config, outside, lanes=2)
    earlier, later = "2023-02-15T12:00:00Z", "2024-06-30T00:00:00Z"
    one.milestones(earlier)
    other.milestones(later)
    expected = Columnar.in_memory(world_store, config, outside, lanes=1).stages(earlier)
    assert len(expected) < len(other.stages(later))
    assert_frame_equal(one.stages(earlier), expected)


def test_ctrl_c_while_the_lanes_run_stops_them_and_takes_no_further_step(ctrl_c_raises):
    """Ctrl-C (SIGINT in the main thread) while two lanes run long statements: the running
    statements are interrupted, no lane takes the step after them, KeyboardInterrupt is
    raised once no lane is left running, and the lanes answer again afterwards."""
    import signal
    import threading

    import duckdb

    from graphminer.columnar.lanes import Lanes, Step

    lanes = Lanes(duckdb.connect(), 2)
    # (each of these runs for minutes on one thread unless interrupted)
    long = "SELECT sum(hash(i)) AS x FROM range(100000000000) t(i)"
    main = threading.main_thread().ident

    def ctrl_c_once_a_lane_runs() -> None:
        while not any(thread.name.startswith("duckdb-lane-") for thread in threading.enumerate()):
            threading.Event().wait(0.01)
        threading.Event().wait(0.2)
        signal.pthread_kill(main, signal.SIGINT)

    poke = threading.Thread(target=ctrl_c_once_a_lane_runs)
    poke.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            lanes.run([Step("a", f"CREATE TABLE a AS {long}"), Step("b", f"CREATE TABLE b AS {long}"),
                       Step("c", "CREATE TABLE c AS SELECT 1 AS x", after=("a",))])
    finally:
        poke.join()

    def lanes_alive() -> list[str]:
        return [thread.name for thread in threading.enumerate() if thread.name.startswith("duckdb-lane-")]

    # (the lanes return as soon as they see the interrupt; uninterrupted, each statement runs
    # for minutes: 30 s is no race)
    for _ in range(3000):
        if not lanes_alive():
            break
        threading.Event().wait(0.01)
    assert lanes_alive() == []
    made = lanes.home.execute("SELECT table_name FROM duckdb_tables() WHERE table_name IN ('a', 'b', 'c')")
    assert made.fetchall() == []
    assert lanes.home.execute("SELECT 42").fetchall() == [(42,)]


def test_a_failure_aside_is_raised_to_the_caller_and_closing_stops_the_steps():
    """``Aside``: the results come in order; a statement failing on the thread is raised by
    the ``next`` that waits for it; leaving the block early stops the steps (the one after
    is never run) and ends the thread."""
    import threading

    import duckdb

    from graphminer.columnar.lanes import Aside

    ran = []

    def steps(cursor):
        for sql in ("SELECT 1", "SELECT 2", "SELECT * FROM missing", "SELECT 4"):
            ran.append(sql)
            yield cursor.execute(sql).fetchall()[0][0]

    with Aside(duckdb.connect(), steps) as results:
        assert (next(results), next(results)) == (1, 2)
        with pytest.raises(duckdb.CatalogException, match="missing"):
            next(results)
    assert ran[-1] == "SELECT * FROM missing"
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    opened: list[Aside] = []

    def more(cursor):
        yield 1
        while not (opened and opened[0].stopping):  # (the caller has left the block)
            threading.Event().wait(0.01)
        yield 2
        cursor.execute("INSERT INTO t VALUES (2)")  # the step after: never run
        yield 3

    with Aside(con, more) as aside:
        opened.append(aside)
        assert next(aside) == 1
    assert aside.ended and aside_ended()
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(1,)]


def aside_ended() -> bool:
    """Whether no ``Aside`` thread is left (waiting up to 30 s for one that is ending: it
    ends as soon as it is told, uninterrupted the statements of these tests run for
    minutes)."""
    import threading

    for _ in range(3000):
        if not any(thread.name == "duckdb-aside" for thread in threading.enumerate()):
            return True
        threading.Event().wait(0.01)
    return False


def test_ctrl_c_while_waiting_for_a_result_aside_interrupts_its_statement_and_ends_the_thread(ctrl_c_raises):
    """Ctrl-C (SIGINT in the main thread) while it waits for a result of a long statement
    run aside: the statement is interrupted, KeyboardInterrupt is raised once the thread
    has ended, and the connection answers again afterwards."""
    import signal
    import threading

    import duckdb

    from graphminer.columnar.lanes import Aside

    con = duckdb.connect()
    main = threading.main_thread().ident
    started = threading.Event()

    def steps(cursor):
        started.set()
        # (runs for minutes unless interrupted)
        yield cursor.execute("SELECT sum(hash(i)) FROM range(100000000000) t(i)").fetchall()

    def ctrl_c_once_it_runs() -> None:
        started.wait(30)
        threading.Event().wait(0.2)
        signal.pthread_kill(main, signal.SIGINT)

    poke = threading.Thread(target=ctrl_c_once_it_runs)
    poke.start()
    try:
        with pytest.raises(KeyboardInterrupt), Aside(con, steps) as results:
            next(results)
    finally:
        poke.join()
    assert aside_ended()
    assert con.execute("SELECT 42").fetchall() == [(42,)]


def test_a_rule_in_parts_is_placed_at_its_earliest_time_first_part_first_on_a_tie():
    """``engine.parts_firsts`` (committer in the fused pass): the earliest time wins, and
    at one time the first part's event wins even when the second part's comes first in the
    events' order (as ``rules.earliest`` orders the parts' union: dated, t, o1, o3)."""
    import duckdb

    from graphminer.columnar.engine import parts_firsts

    con = duckdb.connect()
    con.execute("""CREATE TABLE ev AS SELECT * FROM (VALUES
        (1, 100, 10, 'b'), (1, 100, 20, 'a'), (1, 90, 5, 'x'),   -- tie at 100: part a wins
        (2, 100, 10, 'b'), (2, 101, 20, 'a'),                    -- b is earlier
        (3, 50, 10, 'a'), (3, 50, 20, 'a'))                      -- a's lowest place
        AS v(maker, t, seq, kind)""")
    con.execute("ALTER TABLE ev ADD COLUMN repo_id BIGINT; ALTER TABLE ev ADD COLUMN org INTEGER; "
                "ALTER TABLE ev ADD COLUMN target_type VARCHAR; "
                "ALTER TABLE ev ADD COLUMN target_num BIGINT; ALTER TABLE ev ADD COLUMN sha VARCHAR")
    parts = ["kind = 'a'", "kind = 'b'"]
    found = con.execute(f"""SELECT maker, k_r % 2 + 1 AS part,
                                   CASE k_r % 2 WHEN 0 THEN s_r_1 WHEN 1 THEN s_r_2 END AS seq
                            FROM (SELECT maker, {', '.join(parts_firsts('r', parts))}
                                  FROM ev GROUP BY maker) ORDER BY maker""").fetchall()
    assert found == [(1, 1, 20), (2, 2, 10), (3, 1, 10)]
    union = rules.earliest(f"({rules.EventParts(tuple(lambda q, w=w: w for w in parts))(None)})",
                           ("maker",), 1000, "r")
    assert [row[1:] for row in found] == [
        (row[11], row[13]) for row in con.execute(f"{union} ORDER BY maker").fetchall()]
