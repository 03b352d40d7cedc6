"""The ``makers`` and ``trajectory`` commands, run as real processes on a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cli_fork
import pytest
from test_events_support import World

from graphminer import precompute
from graphminer.config import load_config

NOW = "2024-12-31T23:59:59Z"


def small_world() -> World:
    """alice maintains civic/site; bob lands a PR and pushes; carol is known from git only."""
    w = World(now=NOW)
    alice, bob = w.user("alice", 1), w.user("bob", 2)
    bot = w.user("dependabot[bot]", 3, type="Bot")
    site, tool = w.repo("civic/site"), w.repo("other/tool")
    root = w.commit(site, "2020-01-01T00:00:00Z", author=alice)
    issue = w.issue(site, bob, "2020-02-01T00:00:00Z", state_reason="completed")
    w.comment(site, issue, alice, "2020-02-02T00:00:00Z")
    pr = w.pr(site, bob, "2020-03-01T00:00:00Z", merged_at="2020-03-05T00:00:00Z", merged_by=alice)
    branch = w.commit(site, "2020-03-01T00:00:00Z", author=bob, parents=[root])
    merge = w.commit(site, "2020-03-05T00:00:00Z", author=alice, committer="github",
                     parents=[root, branch], message=f"Merge pull request #{pr} from bob/x")
    w.data["issues"][-1]["pull_request"]["merge_commit_sha"] = merge
    w.review(site, pr, alice, "APPROVED", "2020-03-04T00:00:00Z")
    w.event(site, issue, alice, "closed", "2020-02-04T00:00:00Z")
    w.commit(site, "2021-06-01T00:00:00Z", author=bob)
    w.pr(site, bot, "2021-06-02T00:00:00Z")
    w.release(site, alice, "2021-07-01T00:00:00Z")
    w.commit(tool, "2021-07-02T00:00:00Z", author=bob)
    w.commit(tool, "2021-07-03T00:00:00Z", author=None, email="Carol.Jones@Example.org",
             committer=None)
    w.data["commits"][-1]["author"]["name"] = "Carol Jones"
    return w


@pytest.fixture
def store(tmp_path) -> tuple[Path, Path]:
    """A store of small_world with fresh precomputed tables, and its config file."""
    config_path = tmp_path / "graphminer.toml"
    config_path.write_text('[paths]\nstore = "store.sqlite"\n')
    conn = small_world().store(tmp_path / "store.sqlite")
    precompute.refresh(conn, load_config(config_path))
    conn.close()
    return tmp_path / "store.sqlite", config_path


def run(*args: str, config: Path) -> subprocess.CompletedProcess:
    return cli_fork.run([*args, "--config", str(config)])


def test_makers_json(store):
    path, config = store
    result = run("makers", "--store", str(path), "--json", config=config)
    assert result.returncode == 0, result.stderr
    listing = {m["key"]: m for m in json.loads(result.stdout)}
    assert set(listing) == {"1", "2", "git:carol.jones@example.org"}  # no bot by default
    bob = listing["2"]
    # bob's last action is of 2021-07-02: no role held in the year before as_of, so his
    # current stage shows his state
    assert (bob["login"], bob["is_bot"], bob["stage"]) == ("bob", False, "gone")
    assert bob["milestones"]["first_contact"] == "2020-02-01T00:00:00Z"
    assert bob["milestones"]["first_landed"] == "2020-03-05T00:00:00Z"  # the PR's merge
    assert bob["milestones"]["long_term"] == "2021-06-01T00:00:00Z"
    assert bob["milestones"]["org_bridge"] == "2021-07-02T00:00:00Z"
    assert bob["counts"]["commits"] == 3 and bob["counts"]["prs_opened"] == 1
    assert bob["counts"]["prs_merged"] == 1 and bob["counts"]["issues_opened"] == 1
    alice = listing["1"]
    assert alice["counts"]["merges_performed"] == 1 and alice["counts"]["reviews"] == 1
    assert alice["counts"]["comments"] == 1
    carol = listing["git:carol.jones@example.org"]
    assert carol["login"] is None and carol["name"] == "Carol Jones"
    # commits add up to the default branches' 6 commits
    assert sum(m["counts"]["commits"] for m in listing.values()) == 6
    assert all(m["rules_version"] == "5" and m["as_of"] == NOW for m in listing.values())
    assert not any(m["role_account"] for m in listing.values())


def test_makers_filters(store):
    path, config = store
    with_bots = json.loads(run("makers", "--store", str(path), "--json", "--include-bots",
                               config=config).stdout)
    bot = next(m for m in with_bots if m["key"] == "3")
    assert bot["is_bot"] and bot["stage"] is None and not any(bot["milestones"].values())
    by_org = json.loads(run("makers", "--store", str(path), "--json", "--org", "other",
                            config=config).stdout)
    assert {m["key"] for m in by_org} == {"2", "git:carol.jones@example.org"}
    bob = next(m for m in by_org if m["key"] == "2")
    assert bob["milestones"]["first_contact"] == "2021-07-02T00:00:00Z"  # org scope
    assert bob["counts"]["commits"] == 1
    early = json.loads(run("makers", "--store", str(path), "--json", "--as-of", "2020-02-15",
                           config=config).stdout)
    assert {m["key"]: m["stage"] for m in early} == {"1": "maintainer", "2": "participant"}
    stage = json.loads(run("makers", "--store", str(path), "--json", "--stage", "participant",
                           "--as-of", "2020-02-15", config=config).stdout)
    assert [m["key"] for m in stage] == ["2"]
    text = run("makers", "--store", str(path), config=config).stdout
    assert "bob" in text and "3 makers" in text


def test_trajectory_json_shape(store):
    path, config = store
    result = run("trajectory", "bob", "--store", str(path), "--json", config=config)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["key"], answer["login"], answer["rules_version"], answer["as_of"]) == (
        "2", "bob", "5", NOW)
    assert answer["milestones"]["first_landed"] == "2020-03-05T00:00:00Z"
    assert answer["milestones"]["organiser"] == "2020-02-04T00:00:00Z"  # issue closed as completed
    trigger = answer["triggers"]["first_landed"]
    assert trigger["link"] == "https://github.com/civic/site/pull/2" and trigger["kind"] == "pr_merged"
    assert set(answer["scopes"]["orgs"]) == {"civic", "other"}
    assert set(answer["scopes"]["repos"]) == {"civic/site", "other/tool"}
    assert answer["scopes"]["repos"]["other/tool"]["first_landed"] == "2021-07-02T00:00:00Z"
    assert answer["scopes"]["repos"]["civic/site"]["first_landed"] == "2020-03-05T00:00:00Z"
    quarters = [s["quarter"] for s in answer["stages"]]
    assert quarters[0] == "2020-01-01" and quarters[-1] == "2024-10-01" and len(quarters) == 20
    by_quarter = {s["quarter"]: s for s in answer["stages"]}
    # first landed 2020-03-05 is still 2020Q1, and holds through 2020Q4 (the quarter and
    # the three before it); 2021Q1 holds nothing (the state, gone, shows); the direct push
    # of his own commit on 2021-06-01 is a committer act (rules version 4), not maintaining:
    # 2021Q2 shows returning; 2020-03-05 + 180 d = 2020-09-01 leaves 2020Q3 inactive
    assert by_quarter["2020-01-01"]["stage"] == "contributor"
    assert by_quarter["2020-10-01"]["stage"] == "contributor"
    assert by_quarter["2021-01-01"]["stage"] == "gone"
    assert by_quarter["2021-04-01"]["stage"] == "returning"
    assert answer["milestones"]["committer"] == "2021-06-01T00:00:00Z"
    assert answer["milestones"]["maintainer"] is None
    assert by_quarter["2020-07-01"]["state"] == "inactive"
    assert by_quarter["2021-04-01"]["state"] == "returned"
    assert by_quarter["2020-01-01"]["organiser"] and not by_quarter["2020-01-01"]["bridge"]
    assert by_quarter["2021-07-01"]["bridge"]
    org = json.loads(run("trajectory", "bob", "--org", "other", "--store", str(path), "--json",
                         config=config).stdout)
    assert org["milestones"]["first_contact"] == "2021-07-02T00:00:00Z"
    assert set(org["scopes"]["repos"]) == {"other/tool"}


def test_trajectory_by_name_or_email_and_text(store):
    path, config = store
    for who in ("Carol Jones", "carol.jones@example.org", "CAROL.JONES@example.org"):
        answer = json.loads(run("trajectory", who, "--store", str(path), "--json",
                                config=config).stdout)
        assert answer["key"] == "git:carol.jones@example.org" and answer["login"] is None
    text = run("trajectory", "alice", "--store", str(path), config=config).stdout
    assert "maintainer" in text and "https://github.com/civic/site/commit/" in text
    # what triggered each milestone in words, not the events table's kinds
    from graphminer.milestones import ACTION_WORDS

    assert any(words in text for words in ACTION_WORDS.values())
    assert not [kind for kind in ACTION_WORDS if "_" in kind and kind in text]


def test_unknown_maker_and_bad_as_of_exit_2(store):
    path, config = store
    result = run("trajectory", "alcie", "--store", str(path), config=config)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "alice" in result.stderr
    assert "Traceback" not in result.stderr
    bad = run("trajectory", "alice", "--as-of", "last tuesday", "--store", str(path), config=config)
    assert bad.returncode == 2 and "--as-of" in bad.stderr and "Traceback" not in bad.stderr
    missing = run("makers", "--store", str(path.parent / "nope.sqlite"), config=config)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    for command in (("makers",), ("trajectory", "bob")):
        no_org = run(*command, "--org", "civik", "--store", str(path), config=config)
        assert no_org.returncode == 2 and "civic" in no_org.stderr and "Traceback" not in no_org.stderr


def test_fast_path_does_not_import_pandas(store):
    path, config = store
    code = (
        "import sys\nfrom graphminer.cli import main\n"
        f"main(['trajectory', 'bob', '--store', {str(path)!r}, '--config', {str(config)!r}, '--json'],"
        " standalone_mode=False)\n"
        "print('PANDAS' if 'pandas' in sys.modules else 'NO-PANDAS')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("NO-PANDAS")
    # an --as-of that is the tables' own as_of answers from them too
    fresh = json.loads(result.stdout.strip().rsplit("\n", 1)[0])["as_of"]
    same = subprocess.run([sys.executable, "-c", code.replace("'--json']", f"'--json', '--as-of', {fresh!r}]")],
                          capture_output=True, text=True)
    assert same.returncode == 0, same.stderr
    assert same.stdout.strip().endswith("NO-PANDAS")
    # another as_of than the precomputed one computes (pandas), with the same shape
    code_as_of = code.replace("'--json']", "'--json', '--as-of', '2020-02-15']")
    result = subprocess.run([sys.executable, "-c", code_as_of], capture_output=True, text=True)
    assert result.stdout.strip().endswith("PANDAS")
    answer = json.loads(result.stdout.strip().rsplit("\n", 1)[0])
    assert answer["as_of"] == "2020-02-15T00:00:00Z" and answer["milestones"]["first_landed"] is None


def test_stale_tables_are_not_used(store):
    # a new harvest ran (new data, a new _runs row) but precompute has not yet: the
    # command must compute instead of answering from the old tables
    path, config = store
    import sqlite3
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO issues(repo_id, number, id, user_id, created_at, is_pr) "
                     "SELECT id, 99, 99999, 1, '2025-01-02T00:00:00Z', 0 FROM repos "
                     "WHERE full_name = 'civic/site'")
        conn.execute("INSERT INTO _runs(kind, started_at, ended_at, status) "
                     "VALUES ('github', '2025-01-05T00:00:00Z', '2025-01-05T00:00:00Z', 'ok')")
    conn.close()
    answer = json.loads(run("trajectory", "alice", "--store", str(path), "--json", config=config).stdout)
    assert answer["as_of"] == "2025-01-05T00:00:00Z"
    assert answer["milestones"]["first_issue"] == "2025-01-02T00:00:00Z"


def test_other_settings_are_not_answered_from_the_tables(store, tmp_path):
    # the tables were computed with long_term_days = 365 and no opt-out; another config
    # must not get their answer: bob lands 2020-03-05 and 2021-06-01 (453 d later), so
    # long_term is 2021-06-01 with 365 days and not reached with 500; opted out, bob is unknown
    path, config = store
    strict = tmp_path / "strict.toml"
    strict.write_text('[trajectories]\nlong_term_days = 500\n')
    answer = json.loads(run("trajectory", "bob", "--store", str(path), "--json", config=strict).stdout)
    assert answer["milestones"]["long_term"] is None
    answer = json.loads(run("trajectory", "bob", "--store", str(path), "--json", config=config).stdout)
    assert answer["milestones"]["long_term"] == "2021-06-01T00:00:00Z"
    opted = tmp_path / "opted.toml"
    opted.write_text('[people]\nopt_out = ["bob"]\n')
    gone = run("trajectory", "bob", "--store", str(path), "--json", config=opted)
    assert gone.returncode == 2 and "no maker 'bob'" in gone.stderr


def test_triggers_name_whose_act_it_was(store):
    # alice created civic/site (2020-01-01); bob's issue of 2020-02-01 is the first act of
    # another maker there: alice's organiser milestone is dated at it, and it was bob's act
    path, config = store
    answer = json.loads(run("trajectory", "alice", "--store", str(path), "--json", config=config).stdout)
    assert answer["milestones"]["organiser"] == "2020-02-01T00:00:00Z"
    assert answer["triggers"]["organiser"]["by"] == "2"
    assert answer["triggers"]["first_contact"]["by"] == "1"
    for name, at in answer["milestones"].items():
        if at:  # every dated milestone has a trigger at its date
            assert answer["triggers"][name]["at"] == at, name


def test_tables_of_rules_version_4_are_recomputed_not_served(store):
    # a store whose precomputed tables were written under rules version 4, the one before
    # (with a planted wrong date): the command computes under the running version (5)
    # instead of serving them, and the next refresh rewrites them as version 5
    path, config = store
    import sqlite3
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE _precomputed SET rules_version = '4'")
        conn.execute("UPDATE traj_milestones SET at = '1999-01-01T00:00:00Z' "
                     "WHERE maker_key = '2' AND milestone = 'first_landed'")
    conn.close()
    answer = json.loads(run("trajectory", "bob", "--store", str(path), "--json", config=config).stdout)
    assert answer["rules_version"] == "5"
    assert answer["milestones"]["first_landed"] == "2020-03-05T00:00:00Z"
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    precompute.refresh(conn, load_config(config))
    assert conn.execute("SELECT rules_version FROM _precomputed").fetchone()[0] == "5"
    assert conn.execute("SELECT at FROM traj_milestones WHERE maker_key = '2' AND scope = 'network' "
                        "AND milestone = 'first_landed'").fetchone()[0] == "2020-03-05T00:00:00Z"
    conn.close()
