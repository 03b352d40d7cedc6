"""The events table built from a real store: kinds, how commits landed, people and repos."""

from __future__ import annotations

import json
import sqlite3

import cli_fork
import pandas as pd
from test_events_support import World

from graphminer.config import parse_config
from graphminer.events import COLUMNS, load_events


def config_with(tmp_path, text: str):
    return parse_config(text, source="test", base_dir=tmp_path)


def linked_history(w: World):
    """civic/site with every way a commit reaches the default branch (see the comments)."""
    ann, ben = w.user("ann", 1), w.user("ben", 2)
    site = w.repo("civic/site")
    root = w.commit(site, "2020-01-01T00:00:00Z", author=ann)  # direct push by ann
    squash_pr = w.pr(site, ben, "2020-01-02T00:00:00Z", merged_at="2020-01-03T00:00:00Z",
                     merged_by=ann)
    squash = w.commit(site, "2020-01-03T00:00:00Z", author=ben, committer="github",
                      message=f"Add map (#{squash_pr})")
    branch_one = w.commit(site, "2020-01-04T00:00:00Z", author=ben, parents=[squash])
    branch_two = w.commit(site, "2020-01-05T00:00:00Z", author=ben, parents=[branch_one])
    merge_pr = w.pr(site, ben, "2020-01-04T00:00:00Z", merged_at="2020-01-06T00:00:00Z",
                    merged_by=ann)
    merge = w.commit(site, "2020-01-06T00:00:00Z", author=ann, committer="github",
                     parents=[squash, branch_two], message=f"Merge pull request #{merge_pr} from ben/x")
    result_pr = w.pr(site, ben, "2020-01-07T00:00:00Z", merged_at="2020-01-08T00:00:00Z",
                     merged_by=ann)
    rebased = w.commit(site, "2020-01-08T00:00:00Z", author=ben, committer=ann, parents=[merge],
                       message="Fix typo")
    w.data["issues"][-1]["pull_request"]["merge_commit_sha"] = rebased
    local_merge_side = w.commit(site, "2020-01-09T00:00:00Z", author=ann, parents=[rebased])
    local_merge = w.commit(site, "2020-01-10T00:00:00Z", author=ann, parents=[rebased, local_merge_side],
                           message="Merge branch 'wip'")
    last = w.commit(site, "2020-01-11T00:00:00Z", author=ben, parents=[local_merge])
    return {"root": root, "squash": squash, "branch_one": branch_one, "branch_two": branch_two,
            "merge": merge, "rebased": rebased, "local_merge_side": local_merge_side,
            "local_merge": local_merge, "last": last, "squash_pr": squash_pr, "merge_pr": merge_pr,
            "result_pr": result_pr}


def test_columns_and_types_follow_the_contract(tmp_path):
    w = World()
    linked_history(w)
    events = load_events(w.store(tmp_path / "s.sqlite"))
    assert list(events.columns) == COLUMNS
    assert str(events["ts"].dtype) == "datetime64[ns, UTC]"
    assert events["ts"].is_monotonic_increasing
    assert set(events["org"]) == {"civic"} and set(events["repo"]) == {"civic/site"}
    for details in events["details"]:
        json.loads(details)


def test_how_each_commit_landed(tmp_path):
    w = World()
    shas = linked_history(w)
    events = load_events(w.store(tmp_path / "s.sqlite"))
    commits = events[events["kind"] == "commit"].set_index(events.loc[events["kind"] == "commit", "target"].str[7:])
    expected = {  # sha: (via_pr, pr, direct_push, is_merge, landed, reached the branch)
        "root": (False, 0, True, False, True, "2020-01-01"),
        "squash": (True, shas["squash_pr"], False, False, False, "2020-01-03"),
        # second parent only: dated at the merge that brought them in
        "branch_one": (True, shas["merge_pr"], False, False, False, "2020-01-06"),
        "branch_two": (True, shas["merge_pr"], False, False, False, "2020-01-06"),
        "merge": (True, shas["merge_pr"], False, True, False, "2020-01-06"),
        "rebased": (True, shas["result_pr"], False, False, False, "2020-01-08"),  # merge_commit_sha
        # reachable from a local merge's 2nd parent only, and no PR holds it: it lands, at
        # the merge's date
        "local_merge_side": (True, 0, False, False, True, "2020-01-10"),
        "local_merge": (False, 0, False, True, False, "2020-01-10"),  # a merge lands nobody's work
        "last": (False, 0, True, False, True, "2020-01-11"),
    }
    for name, (via_pr, pr, direct_push, is_merge, landed, reached) in expected.items():
        row = commits.loc[shas[name]]
        assert (bool(row["via_pr"]), int(row["pr"]), bool(row["direct_push"]), bool(row["is_merge"])) == (
            via_pr, pr, direct_push, is_merge), name
        assert bool(row["landed"]) == landed and bool(row["action"]) == landed, name
        assert row["ts"] == pd.Timestamp(reached, tz="UTC"), name
    # authored commits add up to the branch: 9 commits, 9 commit rows
    assert len(commits) == 9
    counts = commits.groupby("maker").size().to_dict()
    assert counts == {"1": 4, "2": 5}
    # landing acts: ann's direct push (root), ann's local merge, ann's press of the web
    # merge button (GitHub committed it: its author is who merged), ann's commit of ben's
    # rebased PR commit (rules version 4: landing someone else's work); ben's last commit is
    # his own push. Whose work each landed: ann's own, her own branch, ben's PR, ben's.
    committed = events[events["kind"] == "committed"]
    assert sorted(zip(committed["maker"], committed["target"].str[7:], committed["subkind"],
                      committed["target_author"], committed["own_work"], strict=True)) == sorted([
        ("1", shas["root"], "direct_push", "1", True), ("1", shas["local_merge"], "merge", "1", True),
        ("1", shas["merge"], "merge", "2", False), ("1", shas["rebased"], "pr_commit", "2", False),
        ("2", shas["last"], "direct_push", "2", True)])


def test_git_only_history_lands_the_work_of_prs_the_store_does_not_hold(tmp_path):
    # No PR records at all (a git-only harvest): the squash commit "(#7)" lands its author's
    # work at its own date; "Merge pull request #8" brings in three commits (cy twice, dee
    # once, and dee's merge of main into the branch): one landed contribution each for cy and
    # dee, at the merge's date; the merge commits land nobody's work.
    w = World()
    ann, cy, dee = w.user("ann", 1), w.user("cy", 3), w.user("dee", 4)
    site = w.repo("civic/site")
    root = w.commit(site, "2021-01-01T00:00:00Z", author=ann)
    squash = w.commit(site, "2021-01-05T00:00:00Z", author=cy, committer="github",
                      parents=[root], message="Add map (#7)")
    one = w.commit(site, "2021-01-02T00:00:00Z", author=cy, parents=[root])
    two = w.commit(site, "2021-01-03T00:00:00Z", author=cy, parents=[one])
    sync = w.commit(site, "2021-01-06T00:00:00Z", author=dee, parents=[two, squash],
                    message="Merge branch 'main' into feature")
    three = w.commit(site, "2021-01-07T00:00:00Z", author=dee, parents=[sync])
    w.commit(site, "2021-02-01T00:00:00Z", author=ann, committer="github",
             parents=[squash, three], message="Merge pull request #8 from cy/feature")
    events = load_events(w.store(tmp_path / "s.sqlite"))
    landed = events[events["landed"]]
    got = sorted(zip(landed["maker"], landed["ts"].dt.strftime("%Y-%m-%d"), strict=True))
    assert got == [("1", "2021-01-01"), ("3", "2021-01-05"), ("3", "2021-02-01"),
                   ("4", "2021-02-01")]
    assert landed["kind"].eq("commit").all()
    # the branch's commits reached it with the merge; sync is dee's, but not on the mainline
    commits = events[events["kind"] == "commit"].set_index(events.loc[events["kind"] == "commit", "target"].str[7:])
    assert {commits.loc[sha, "ts"] for sha in (one, two, sync, three)} == {
        pd.Timestamp("2021-02-01", tz="UTC")}
    committed = events[events["kind"] == "committed"]
    assert sorted(zip(committed["maker"], committed["subkind"], strict=True)) == [
        ("1", "direct_push"), ("1", "merge")]


def test_pr_rows_merges_and_counts(tmp_path):
    w = World()
    shas = linked_history(w)
    events = load_events(w.store(tmp_path / "s.sqlite"))
    merged = events[events["kind"] == "pr_merged"]
    assert sorted(merged["target"]) == sorted(f"pr:{shas[k]}" for k in ("squash_pr", "merge_pr", "result_pr"))
    assert set(merged["maker"]) == {"2"} and merged["landed"].all()
    performed = events[events["kind"] == "merge_performed"]
    assert set(performed["maker"]) == {"1"} and set(performed["target_author"]) == {"2"}
    assert not performed["landed"].any()


def test_comments_reviews_events_releases(tmp_path):
    w = World()
    ann, ben = w.user("ann", 1), w.user("ben", 2)
    site = w.repo("civic/site")
    issue = w.issue(site, ann, "2020-01-01T00:00:00Z")
    pr = w.pr(site, ben, "2020-01-01T00:00:00Z")
    w.comment(site, issue, ben, "2020-01-02T00:00:00Z")
    w.comment(site, pr, ann, "2020-01-02T00:00:00Z")
    w.review_comment(site, pr, ann, "2020-01-03T00:00:00Z")
    w.review(site, pr, ann, "APPROVED", "2020-01-04T00:00:00Z")
    w.data["reviews"].append({"id": 9999, "repo_id": site, "pr_number": pr, "user_id": ann,
                              "state": "PENDING", "submitted_at": None})
    w.event(site, issue, ben, "labeled", "2020-01-05T00:00:00Z", label="help wanted")
    w.event(site, issue, ben, "subscribed", "2020-01-05T00:00:00Z")
    w.event(site, issue, ben, "mentioned", "2020-01-05T00:00:00Z")
    w.release(site, ann, "2020-01-06T00:00:00Z")
    w.data["releases"].append({"id": 8888, "repo_id": site, "author_id": ann, "draft": True,
                               "published_at": None})
    events = load_events(w.store(tmp_path / "s.sqlite"))
    kinds = events.groupby("kind").size().to_dict()
    assert kinds == {"issue_opened": 1, "pr_opened": 1, "comment": 2, "review_comment": 1,
                     "review": 1, "issue_event": 1, "release": 1}
    comments = events[events["kind"] == "comment"].set_index("maker")
    assert comments.loc["2", "target"] == f"issue:{issue}" and comments.loc["2", "target_author"] == "1"
    assert comments.loc["1", "target"] == f"pr:{pr}" and comments.loc["1", "target_author"] == "2"
    label = events[events["kind"] == "issue_event"].iloc[0]
    assert (label["subkind"], label["label"]) == ("labeled", "help wanted")
    assert json.loads(label["details"])["label"] == "help wanted"
    review = events[events["kind"] == "review"].iloc[0]
    assert review["subkind"] == "APPROVED" and review["ts"] == pd.Timestamp("2020-01-04", tz="UTC")


def test_forks_out_deleted_repos_in_bots_flagged(tmp_path):
    w = World()
    ann = w.user("ann", 1)
    bot = w.user("dependabot[bot]", 3, type="Bot")
    kept, fork = w.repo("civic/site"), w.repo("civic/fork-of-x", fork=True)
    gone = w.repo("civic/old")
    w.data["repos"][-1]["deleted_at"] = "2023-01-01T00:00:00Z"
    w.issue(kept, ann, "2020-01-01T00:00:00Z")
    w.issue(fork, ann, "2020-01-01T00:00:00Z")
    w.issue(gone, ann, "2020-01-01T00:00:00Z")
    w.pr(kept, bot, "2020-01-02T00:00:00Z")
    events = load_events(w.store(tmp_path / "s.sqlite"))
    assert set(events["repo"]) == {"civic/site", "civic/old"}
    assert events.set_index("maker")["is_bot"].groupby(level=0).first().to_dict() == {"1": False, "3": True}


def test_opted_out_people_are_absent(tmp_path):
    w = World()
    ann, ben = w.user("ann", 1), w.user("ben", 2, email="ben@civic.org")
    site = w.repo("civic/site")
    issue = w.issue(site, ann, "2020-01-01T00:00:00Z")
    w.comment(site, issue, ben, "2020-01-02T00:00:00Z")
    w.commit(site, "2020-01-03T00:00:00Z", author=None, email="Quiet@Example.org", committer=None)
    w.commit(site, "2020-01-04T00:00:00Z", author=None, email="loud@example.org", committer=None)
    conn = w.store(tmp_path / "s.sqlite")
    everyone = load_events(conn)
    assert {"1", "2", "git:quiet@example.org", "git:loud@example.org"} <= set(everyone["maker"])
    config = config_with(tmp_path, '[people]\nopt_out = ["ANN", "quiet@example.org"]\n')
    events = load_events(conn, config)
    assert set(events["maker"]) == {"2", "git:loud@example.org"}
    assert events["target_author"].isin(["1"]).sum() == 0  # not even as an item's author
    by_email = load_events(conn, config_with(tmp_path, '[people]\nopt_out = ["ben@civic.org"]\n'))
    assert "2" not in set(by_email["maker"])


def test_identity_tables_decide_commit_makers(tmp_path):
    w = World()
    ann = w.user("ann", 1)
    site = w.repo("civic/site")
    sha = w.commit(site, "2020-01-01T00:00:00Z", author=None, email="ann@home.org", committer=None)
    conn = w.store(tmp_path / "s.sqlite")
    assert set(load_events(conn)["maker"]) == {"git:ann@home.org"}
    # identity resolution linked the email to ann's account
    with conn:
        conn.execute("INSERT INTO commit_makers VALUES (?, ?, ?, ?)", (site, sha, "1", "1"))
    assert set(load_events(conn)["maker"]) == {"1"}
    # ... or left the author null because they opted out: the commit is nobody's
    with conn:
        conn.execute("UPDATE commit_makers SET author_key = NULL, committer_key = NULL")
    assert load_events(conn).empty
    assert ann == 1
    assert isinstance(conn, sqlite3.Connection)


def test_a_store_with_no_contribution_gives_an_empty_table(tmp_path):
    from graphminer.store import open_store

    conn = open_store(tmp_path / "empty.sqlite")
    events = load_events(conn, None)
    assert events.empty and list(events.columns) == list(COLUMNS)


def test_harvesting_an_empty_repository_ends_cleanly(tmp_path):
    import subprocess

    repo = tmp_path / "empty-repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    store = tmp_path / "s.sqlite"
    result = cli_fork.run(["harvest-git", str(repo), "--org", "civic", "--repo", "empty", "--store", str(store)])
    # the pipeline's derivation builds the events table of a store with nothing in it
    assert result.returncode == 0, result.stderr
    assert "0 new commits" in result.stdout
