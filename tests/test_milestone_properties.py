"""Properties of the milestone rules (issue #5), on random event tables built here.

The tables are built column by column in this file (not by graphminer.events), with every
kind the rules read, random makers, repos in two orgs and random item authors.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphminer import trajectory
from graphminer.timeutil import as_of

MAKERS = ["1", "2", "3", "4", "git:x@example.org"]
REPOS = [("north", "north/app"), ("north", "north/api"), ("south", "south/site")]
BASE = pd.Timestamp("2019-01-01", tz="UTC")
AS_OF = as_of("2030-01-01T00:00:00Z")
# kind, subkind, landed, is_merge, direct_push
KINDS = [
    ("issue_opened", "", False, False, False), ("pr_opened", "", False, False, False),
    ("pr_merged", "", True, False, False), ("commit", "", True, False, False),
    ("comment", "", False, False, False), ("review_comment", "", False, False, False),
    ("review", "APPROVED", False, False, False), ("review", "COMMENTED", False, False, False),
    ("issue_event", "labeled", False, False, False), ("issue_event", "closed", False, False, False),
    ("issue_event", "assigned", False, False, False), ("merge_performed", "", False, False, False),
    ("committed", "direct_push", False, False, True), ("committed", "merge", False, True, False),
    ("release", "", False, False, False),
]
NO_ONE_ELSE = ["first_contact", "first_issue", "first_comment", "first_pr", "first_landed",
               "returning", "long_term"]
NEVER_MOVE = NO_ONE_ELSE + ["triager", "reviewer", "repo_bridge", "org_bridge"]

event_rows = st.lists(
    st.tuples(
        st.integers(0, len(MAKERS) - 1), st.integers(0, len(REPOS) - 1),
        st.integers(0, len(KINDS) - 1), st.integers(0, 4 * 365 * 24),
        st.integers(0, len(MAKERS) - 1), st.integers(1, 6),
    ),
    min_size=1, max_size=60,
)


def frame(rows: list[tuple], start: pd.Timestamp = BASE) -> pd.DataFrame:
    """An events table with every column of docs/events.md and the rule flags."""
    records = []
    for maker, repo, kind, hours, author, number in rows:
        name, subkind, landed, is_merge, direct_push = KINDS[kind]
        org, full_name = REPOS[repo]
        own = name in ("issue_opened", "pr_opened", "pr_merged", "commit")
        prefix = "pr" if name in ("pr_opened", "pr_merged", "review", "review_comment",
                                  "merge_performed") else "issue"
        target = f"commit:{hours:040x}" if name in ("commit", "committed") else f"{prefix}:{number}"
        records.append({
            "ts": start + pd.Timedelta(hours=hours), "maker": MAKERS[maker], "org": org,
            "repo": full_name, "kind": name, "target": target,
            "target_author": MAKERS[maker] if own else MAKERS[author], "details": "{}",
            "is_bot": False, "action": True, "landed": landed, "subkind": subkind,
            "label": "help wanted" if subkind == "labeled" else None, "by_commit": False,
            "via_pr": False, "pr": 0, "is_merge": is_merge, "direct_push": direct_push,
            "committer": MAKERS[maker] if name == "committed" else None, "community": False,
        })
    table = pd.DataFrame.from_records(records)
    table["ts"] = table["ts"].astype("datetime64[ns, UTC]")
    return table.sort_values("ts", kind="stable").reset_index(drop=True)


def same(left: pd.Series, right: pd.Series) -> bool:
    return (left.isna() & right.isna()) | (left == right)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_rows)
def test_first_contact_before_first_landed_before_long_term(rows):
    got = trajectory.milestones(frame(rows), AS_OF)
    both = got.dropna(subset=["first_landed"])
    assert (both["first_contact"] <= both["first_landed"]).all()
    later = both.dropna(subset=["long_term"])
    assert (later["first_landed"] <= later["long_term"]).all()
    assert (later["long_term"] - later["first_landed"] >= pd.Timedelta(days=365)).all()
    assert got["first_contact"].notna().all()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_rows, event_rows)
def test_later_actions_never_move_reached_milestones(rows, later_rows):
    before = frame(rows)
    after_last = before["ts"].max() + pd.Timedelta(seconds=1)
    extended = pd.concat([before, frame(later_rows, start=after_last)], ignore_index=True)
    old = trajectory.milestones(before, AS_OF)
    new = trajectory.milestones(extended.sort_values("ts", kind="stable"), AS_OF)
    for name in NEVER_MOVE:
        reached = old[name].dropna()
        assert (new.loc[reached.index, name] == reached).all(), name


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_rows, st.sampled_from(MAKERS))
def test_removing_a_maker_changes_no_one_elses_own_milestones(rows, removed):
    events = frame(rows)
    old = trajectory.milestones(events, AS_OF)
    new = trajectory.milestones(events[events["maker"] != removed], AS_OF)
    assert removed not in new.index
    others = old.index.drop(removed, errors="ignore")
    assert set(new.index) == set(others)
    for name in NO_ONE_ELSE:
        assert same(old.loc[others, name], new.loc[others, name]).all(), name
