"""The invariants of the rules (TRAJECTORIES.md "Invariants every output keeps") on
random worlds, in both implementations, and the two implementations agreeing there.

Each world is built here from a random list of acts (issues, comments, PRs merged by squash
or by a merge commit, direct pushes, pushes of someone else's commit, local merges, squash
commits of PRs no record holds, approvals, labels, closes, releases; for rules version
4 a foxtrot merge, a role account's push and a PR merged by its own author; for version 5
commits touching community files, and a branch where two people touch one) in three repos
of two orgs, written into a real store (test_events_support) whose identities are then
resolved, read by ``graphminer.events`` and ``graphminer.trajectory``;
``graphminer.fakehub.truth`` reads the same world dict.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_events_support import World

from graphminer import identity, timeutil, trajectory
from graphminer.config import load_config
from graphminer.events import load_events
from graphminer.fakehub.truth import compute_truth

NOW = "2026-01-01T00:00:00Z"
BASE = datetime(2019, 1, 1, tzinfo=UTC)
USERS = [1, 2, 3, 4]
REPOS = ["north/app", "north/api", "south/site"]
ORDERED = ("first_landed", "returning", "long_term")
# rules version 5: creating one of the first three is an organiser act, editing it is not
COMMUNITY_PATHS = ["CONTRIBUTING.md", ".github/ISSUE_TEMPLATE/bug.md", "docs/code_of_conduct.md",
                   "README.md"]
STORES = itertools.count()

acts = st.lists(
    st.tuples(st.integers(0, 16), st.sampled_from(USERS), st.sampled_from(USERS),
              st.integers(0, len(REPOS) - 1), st.integers(1, 24 * 120)),
    min_size=1, max_size=30,
)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_world(plan: list[tuple]) -> World:
    """A world from (act, maker a, maker b, repo, hours since the previous act) tuples."""
    w = World(now=NOW)
    for uid in USERS:
        w.user(f"u{uid}", uid)
    repos = [w.repo(name) for name in REPOS]
    clock = BASE
    items: dict[int, list[int]] = {repo: [] for repo in repos}
    prs: dict[int, list[int]] = {repo: [] for repo in repos}
    ghost_numbers = iter(range(900, 10_000))
    for act, a, b, repo_index, hours in plan:
        clock += timedelta(hours=hours)
        at, repo = iso(clock), repos[repo_index]
        later = iso(clock + timedelta(hours=5))
        if act == 0:
            items[repo].append(w.issue(repo, a, at))
        elif act == 1 and items[repo]:
            w.comment(repo, items[repo][-1], a, at)
        elif act == 2:  # a's PR, squash-merged on the web by b
            number = w.pr(repo, a, at, merged_at=later, merged_by=b)
            squash = w.commit(repo, later, author=a, committer="github", message=f"Fix (#{number})")
            w.data["issues"][-1]["pull_request"]["merge_commit_sha"] = squash
            w.event(repo, number, b, "merged", later)  # the API shows who merged both ways
            prs[repo].append(number)
        elif act == 3:  # a's PR of two commits, merged by b with a web merge commit
            base = w.head(repo)
            number = w.pr(repo, a, at, merged_at=later, merged_by=b)
            one = w.commit(repo, at, author=a, parents=base)
            two = w.commit(repo, iso(clock + timedelta(hours=1)), author=a, parents=[one])
            merge = w.commit(repo, later, author=b, committer="github", parents=base + [two],
                             message=f"Merge pull request #{number} from u{a}/x")
            w.data["issues"][-1]["pull_request"]["merge_commit_sha"] = merge
            w.event(repo, number, b, "merged", later)
            prs[repo].append(number)
        elif act == 4:
            w.commit(repo, at, author=a)  # a direct push
        elif act == 5:
            w.commit(repo, at, author=a, committer=b)  # b pushes a's commit
        elif act == 6:  # a local merge by a of a branch with commits by a and b
            base = w.head(repo)
            one = w.commit(repo, at, author=a, parents=base)
            two = w.commit(repo, iso(clock + timedelta(hours=1)), author=b, parents=[one])
            w.commit(repo, later, author=a, parents=base + [two], message="Merge branch 'topic'")
        elif act == 7:  # a squash commit of a PR no record holds (git-only history)
            w.commit(repo, at, author=a, committer="github", message=f"Add (#{next(ghost_numbers)})")
        elif act == 8 and prs[repo]:
            w.review(repo, prs[repo][-1], a, "APPROVED", at)
        elif act == 9 and items[repo]:
            w.event(repo, items[repo][-1], a, "labeled", at, label="help wanted")
        elif act == 10 and items[repo]:
            w.event(repo, items[repo][-1], a, "closed", at)
        elif act == 11:
            w.release(repo, a, at)
        elif act == 12:  # a pulls the upstream main (with b's commit) into their local main
            base = w.head(repo)
            upstream = w.commit(repo, at, author=b, parents=base)
            local = w.commit(repo, iso(clock + timedelta(hours=1)), author=a, parents=base)
            w.commit(repo, later, author=a, parents=[local, upstream],
                     message=f"Merge branch 'main' of github.com:{REPOS[repo_index]}")
        elif act == 13:  # a shared deploy account (no person) pushes
            w.commit(repo, at, author=None, email="deploy@web1.example.org", committer=None)
        elif act == 14:  # a merges their own PR with a merge commit
            base = w.head(repo)
            number = w.pr(repo, a, at, merged_at=later, merged_by=a)
            one = w.commit(repo, at, author=a, parents=base)
            merge = w.commit(repo, later, author=a, parents=base + [one],
                             message=f"Merge pull request #{number} from u{a}/y")
            w.data["issues"][-1]["pull_request"]["merge_commit_sha"] = merge
            w.event(repo, number, a, "merged", later)
            prs[repo].append(number)
        elif act == 15:  # a pushes a change to a community file (or a README), made or not
            w.commit(repo, at, author=a, files=[COMMUNITY_PATHS[b - 1], "src/app.py"])
        elif act == 16:  # a local merge of a branch where a, then b, touch the same file
            base, path = w.head(repo), COMMUNITY_PATHS[(a + b) % len(COMMUNITY_PATHS)]
            one = w.commit(repo, at, author=a, parents=base, files=[path])
            two = w.commit(repo, iso(clock + timedelta(hours=1)), author=b, parents=[one],
                           files=[path, "docs/index.md"])
            w.commit(repo, later, author=a, parents=base + [two], message="Merge branch 'docs'")
    return w


def harvested(world: World, folder) -> pd.DataFrame:
    conn = world.store(folder / f"store{next(STORES)}.sqlite")
    try:
        config = load_config(None)
        identity.refresh(conn, config)
        return load_events(conn, config)
    finally:
        conn.close()


SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@SETTINGS
@given(acts)
def test_every_scope_keeps_the_invariants(tmp_path, plan):
    events = harvested(random_world(plan), tmp_path)
    for scope, keys in trajectory.SCOPE_KEYS.items():
        long = trajectory.milestone_acts(events, timeutil.as_of(NOW), scope=scope)
        if long.empty:  # a world of comments on nothing, say
            return
        # every dated milestone has a trigger at its date, naming whose act it was
        assert (long["ts"] == long["at"]).all(), scope
        assert long["by"].notna().all(), scope
        wide = long.pivot_table(index=keys, columns="milestone", values="at", aggfunc="min")
        first = wide["first_contact"]
        for name in wide.columns:
            reached = wide[name].notna()
            assert (wide.loc[reached, name] >= first[reached]).all(), (scope, name)
        for earlier, later in zip(ORDERED, ORDERED[1:], strict=False):
            if earlier in wide and later in wide:
                both = wide[later].notna()
                assert (wide.loc[both, earlier] <= wide.loc[both, later]).all(), (scope, later)
    stages = trajectory.stages(events, timeutil.as_of(NOW))
    network = trajectory.milestones(events, timeutil.as_of(NOW))
    starts = trajectory.quarter_start(trajectory.quarter_index(network["first_contact"]))
    first_quarter = dict(zip(network.index, starts, strict=True))
    # no stage before first contact, and a stage (or a state shown instead) in every quarter
    assert (stages["quarter"] >= stages["maker"].map(first_quarter)).all()
    assert stages["stage"].isin(list(trajectory.STAGES) + ["inactive", "gone"]).all()


@SETTINGS
@given(acts)
def test_truth_keeps_the_invariants_and_both_implementations_agree(tmp_path, plan):
    world = random_world(plan)
    truth = compute_truth(world.data)
    assert truth["rules_version"] == trajectory.RULES_VERSION == "5"
    for key, maker in truth["makers"].items():
        marks = {name: at for name, at in maker["milestones"].items() if at}
        assert all(at >= marks["first_contact"] for at in marks.values()), key
        dated = [marks[name] for name in ORDERED if name in marks]
        assert dated == sorted(dated), key
    events = harvested(world, tmp_path)
    ours = trajectory.milestones(events, timeutil.as_of(NOW))
    roles = set(events.loc[events["role_account"], "maker"])
    assert roles == {key for key, maker in truth["makers"].items() if maker["role_account"]}
    for key, maker in truth["makers"].items():
        for name, expected in maker["milestones"].items():
            got = ours.loc[key, name] if key in ours.index else pd.NaT
            got = None if pd.isna(got) else got.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert got == expected, (key, name)


def community_world() -> World:
    """Rules version 5 on git file lists: u1 founds civic/site; u2 creates CONTRIBUTING.md,
    u3 then only edits it; on a branch u4 creates an issue template and u3 edits it before
    u4 merges (both land at the merge: the committer date says who was first); a bot
    creates SUPPORT.md and u3 edits it; u5 moves CONTRIBUTING.md into docs/ (git lists the
    old path and the new one) and edits a README."""
    w = World(now=NOW)
    for uid in (1, 2, 3, 4, 5):
        w.user(f"u{uid}", uid)
    bot = w.user("helper[bot]", 50, type="Bot")
    site = w.repo("civic/site")
    w.commit(site, "2020-01-01T00:00:00Z", author=1, files=["app.py"])
    w.commit(site, "2020-02-01T00:00:00Z", author=2, files=["CONTRIBUTING.md"])
    w.commit(site, "2020-03-01T00:00:00Z", author=3, files=["CONTRIBUTING.md", "app.py"])
    base = w.head(site)
    one = w.commit(site, "2020-04-01T00:00:00Z", author=4, parents=base,
                   files=[".github/ISSUE_TEMPLATE/bug_report.md"])
    two = w.commit(site, "2020-04-01T01:00:00Z", author=3, parents=[one],
                   files=[".github/ISSUE_TEMPLATE/bug_report.md"])
    w.commit(site, "2020-04-01T05:00:00Z", author=4, parents=base + [two],
             message="Merge branch 'templates'")
    w.commit(site, "2020-05-01T00:00:00Z", author=bot, files=["SUPPORT.md"])
    w.commit(site, "2020-06-01T00:00:00Z", author=3, files=["SUPPORT.md"])
    w.commit(site, "2020-07-01T00:00:00Z", author=5, files=["CONTRIBUTING.md", "docs/CONTRIBUTING.md"])
    w.commit(site, "2020-08-01T00:00:00Z", author=5, files=["README.md"])
    return w


def test_creating_a_community_file_organises_and_editing_one_does_not(tmp_path):
    world = community_world()
    truth = compute_truth(world.data)["makers"]
    organisers = {key: maker["milestones"]["organiser"] for key, maker in truth.items()
                  if not maker["is_bot"]}
    # the truth (fakehub's own reading of the world) says what the world was built to say
    assert organisers == {
        "1": "2020-02-01T00:00:00Z",  # founded the repo u2 joined
        "2": "2020-02-01T00:00:00Z",  # created CONTRIBUTING.md
        "3": None,  # edited three community files, created none
        "4": "2020-04-01T05:00:00Z",  # created the template, landed at the merge
        "5": "2020-07-01T00:00:00Z",  # a rename makes a new path
    }
    events = harvested(world, tmp_path)
    ours = trajectory.milestones(events, timeutil.as_of(NOW))
    for key, maker in truth.items():
        for name, expected in maker["milestones"].items():
            got = ours.loc[key, name] if key in ours.index else pd.NaT
            assert (None if pd.isna(got) else got.strftime("%Y-%m-%dT%H:%M:%SZ")) == expected, (key, name)
