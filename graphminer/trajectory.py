"""The trajectory stage: milestones and stages, pure functions of the events table.

Implements the rules of docs/rules.md (``graphminer.milestones.RULES_VERSION``); the
milestones, their scope behaviour and thresholds are declared in ``graphminer.milestones``,
and ``RULES`` below registers one rule function per key. Each milestone has a small function
returning its *candidate acts*: rows ``maker, org, repo, at, kind, target, ts, by`` where
``at`` is the milestone date the act would give, ``kind``/``target``/``ts`` the event
that triggers it and ``by`` whose act it was. A milestone is the earliest candidate per scope key, so the repo-scope
rules (everything but the "whole scope" ones) need no per-scope code: the earliest per
(maker, repo), per (maker, org) and per maker are the repo-scope dates and their minima.
The whole-scope rules (returning, long_term, coder_to_organiser, inactive, gone,
returned) take the scope's key columns and run on all the maker's actions in it. Every trigger's ``ts`` equals its milestone's date.
``as_of`` is a timezone-aware UTC pandas Timestamp (``graphminer.timeutil.as_of`` makes one).

Interpretations where docs/rules.md leaves room (numbered so reports can cite them;
aligned with graphminer/fakehub/truth.py's list unless said otherwise):

1. Bots are removed first: their acts are nobody's, their items are never "someone
   else's", a label or close by a bot is no one's. "Someone else" means a known,
   non-bot maker other than the actor (an item of a deleted/ghost author is nobody's).
2. A landing act (events kind ``committed``: a direct push, a PR's commit committed by a
   person, a merge on the mainline or that brought commits in) is an act of whoever
   committed it (a merge committed by GitHub's web flow: its author, who pressed merge;
   landing merges, such as a PR merge or a merge into a long-lived branch like develop,
      are acts wherever they sit: rules version 4, ``graphminer.landing``); a committer act
   when it landed a commit of its doer's own (``own_work``), an act on someone else's work
   when it landed another person's (``target_author``; a foxtrot merge lands nobody
   else's, events.py decides). Acts on someone else's work count for
   maintainer only in a repo where the actor landed a contribution strictly before; a
   release (or annotated tag) only where a maker other than the actor landed strictly
   before (same second: not before). Merges brought in by other merges (main merged into
   a feature branch) land nothing and are no one's act.
3. An approval counts for maintainer when the PR was merged at or after the review and
   no later than ``as_of``.
4. Calendar months and quarters are UTC; "a later calendar month" compares (year, month).
5. Gaps: inactive/gone are the *first* gap of >= N days (between two actions, or after
   the last one until as_of), dated last action + N days; their trigger is the gap (kind
   ``gap``, at that date, target the last action's). returned is the first action after
   a gap of >= ``gone_days``.
6. Bridges: the other repo's (org's) action may be in the same second or up to
   ``bridge_days`` x 24 h before.
7. First responder: the first issue comment, review comment or review by a non-bot maker
   other than the author, at or after creation and within ``first_response_hours``
   (inclusive); every responder in that same second counts; the item's ``created_at``
   must equal its author's network-scope first_contact.
8. Organiser labels count on issues only (not PRs); closed-as-completed counts issues
   only, the issue's current ``state_reason`` and its last ``closed`` event up to as_of
   (``by`` is the closer).
9. creator: the repository's earliest landed commit (dated when it reached the branch,
   ties by sha) or opened issue/PR (ties: commits first, then lower number); "another
   maker later acted" is the first action by a different maker at or after the creator's
   act (an earlier action, a release before any issue or commit say, never dates it:
   no milestone precedes first contact); ``by`` is that other maker.
10. coder_to_organiser counts only code and organising actions, each action once; it is
    dated at the maker's first organising action of the first organising quarter.
11. core (version 4): read per repo over the year ending with each quarter (that quarter
    and the three before it); the quarter holding as_of counts with its events up to
    as_of; a team is core_min_makers makers who landed in the repo by the end of the
    quarter; ties by key in plain string order; "reaches 80%" compared exactly (no float
    drift); a maker's date is their first landed contribution in that repo in the earliest
    quarter they are in its core (never before first_contact, since a landed contribution
    is an action).
12. Which commits came in through a PR, when each landed (its earliest landing event,
    ``graphminer.landing``) and whether its PR is held are structural (read from every
    record, whatever as_of); events.py decides them. "The store holds its PR" means a merged PR record of that number in that repo.
13. Stages: a quarter's role holds by acts in that quarter or the three before it (core:
    in that quarter only); a quarter where nothing holds shows its state (inactive or
    gone, always one of them: nothing for at least nine months) in the stage column.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from graphminer import milestones as catalogue
from graphminer.milestones import KEYS as MILESTONES  # noqa: F401 (the catalogue's order)
from graphminer.milestones import RULES_VERSION, STAGES  # noqa: F401

SCOPE_KEYS = {"network": ["maker"], "org": ["maker", "org"], "repo": ["maker", "repo"]}
CANDIDATE_COLUMNS = ["maker", "org", "repo", "at", "kind", "target", "ts", "by"]
TRIAGE_EVENTS = ("labeled", "assigned", "milestoned")


def thresholds(config: Any = None) -> dict[str, Any]:
    """The [trajectories] values of the config, defaults where it has none."""
    values = catalogue.default_thresholds()
    if config is not None:
        values.update(config["trajectories"])
    return values


# --- preparing the events ---------------------------------------------------------------

RULE_COLUMNS = ["ts", "maker", "org", "repo", "kind", "target", "target_author", "subkind",
                "label", "by_commit", "landed", "action", "community", "own_work"]


# One-slot memo of the last preparation: milestones and then stages of the same events
# frame (every command and export does both) prepare the events and find the role acts
# once. Keyed on the frame's identity (held, so never reused) and as_of; frames are not
# modified in place downstream.
LAST_RUN: dict[str, Any] = {}
ROLE_RULES = ("maintainer", "core", "organiser", "repo_bridge", "org_bridge")


def rule_events(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Events the rules see: up to as_of, bots removed, ``someone_else`` flagged.

    Only the columns the rules read are kept, and the repeated strings become
    categoricals (makers and item authors share one, so comparing them compares codes):
    every filter below copies these columns, so fewer and smaller ones keep a million
    events fast. The last answer is remembered (``LAST_RUN``).
    """
    moment = as_of
    if LAST_RUN.get("events") is events and LAST_RUN.get("moment") == moment:
        return LAST_RUN["ev"]
    if "own_work" not in events:  # a frame made before rules version 4 (tests, old callers)
        events = events.assign(own_work=False)
    ev = prepared_events(events, moment)
    LAST_RUN.clear()
    LAST_RUN.update(events=events, moment=moment, ev=ev)
    return ev


def prepared_events(events: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """``rule_events`` without the memo."""
    bots = set(events.loc[events["is_bot"], "maker"])
    kept = events.loc[(events["ts"] <= moment) & ~events["is_bot"], RULE_COLUMNS]
    # bot items are nobody's, also when the caller dropped the bots' own rows first
    bot_item = (events.loc[kept.index, "target_is_bot"].astype(bool) if "target_is_bot" in events
                else pd.Series(False, index=kept.index))
    people = pd.CategoricalDtype(sorted(set(kept["maker"]) | set(kept["target_author"].dropna())))
    kept = kept.astype({"maker": people, "target_author": people, "org": "category",
                        "repo": "category", "kind": "category", "subkind": "category"})
    author = kept["target_author"]
    kept["someone_else"] = author.notna() & author.ne(kept["maker"]) & ~author.isin(bots) & ~bot_item
    return kept.sort_values("ts", kind="stable")


def candidates(rows: pd.DataFrame, at: pd.Series | None = None, maker: pd.Series | None = None) -> pd.DataFrame:
    """Rows as candidate acts dated at their own time (or ``at``), reached by their maker (or
    ``maker``); ``by`` is always the rows' own maker, whose act it was."""
    frame = pd.DataFrame({
        "maker": rows["maker"] if maker is None else maker,
        "org": rows["org"], "repo": rows["repo"],
        "at": rows["ts"] if at is None else at,
        "kind": rows["kind"], "target": rows["target"], "ts": rows["ts"], "by": rows["maker"],
    })
    return frame[frame["maker"].notna()]


def earliest(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The earliest candidate per key (ties: earliest trigger, then first seen)."""
    ordered = frame.sort_values(["at", "ts"], kind="stable")
    return ordered.drop_duplicates(keys)


def month_index(ts: pd.Series) -> pd.Series:
    """Calendar month number (year * 12 + month), UTC."""
    return ts.dt.year * 12 + ts.dt.month


def quarter_index(ts: pd.Series) -> pd.Series:
    """Calendar quarter number (year * 4 + quarter - 1), UTC."""
    return ts.dt.year * 4 + (ts.dt.month - 1) // 3


def quarter_start(index: pd.Series) -> pd.Series:
    """The first instant (UTC) of each quarter number."""
    index = index.astype("int64")
    parts = pd.DataFrame({"year": index // 4, "month": (index % 4) * 3 + 1, "day": 1})
    # nanoseconds like the events' ts: pandas 3 builds these in microseconds, and
    # merge_asof refuses keys of two units
    return pd.to_datetime(parts).dt.tz_localize("UTC").dt.as_unit("ns")


def actions_of(ev: pd.DataFrame) -> pd.DataFrame:
    """The rows that are actions by docs/rules.md (PR commits are not; the PR is)."""
    return ev[ev["action"]]


# --- repo-scope rules (a milestone is the earliest candidate in its scope) --------------

def first_contact_candidates(ev: pd.DataFrame) -> pd.DataFrame:
    """Every action."""
    return candidates(actions_of(ev).drop_duplicates(["maker", "repo"]))


def first_issue_candidates(ev: pd.DataFrame) -> pd.DataFrame:
    """Issues opened."""
    return candidates(ev[ev["kind"].eq("issue_opened")].drop_duplicates(["maker", "repo"]))


def first_comment_candidates(ev: pd.DataFrame) -> pd.DataFrame:
    """Issue comments and review comments."""
    rows = ev[ev["kind"].isin(["comment", "review_comment"])]
    return candidates(rows.drop_duplicates(["maker", "repo"]))


def first_pr_candidates(ev: pd.DataFrame) -> pd.DataFrame:
    """PRs opened."""
    return candidates(ev[ev["kind"].eq("pr_opened")].drop_duplicates(["maker", "repo"]))


def landed_of(ev: pd.DataFrame) -> pd.DataFrame:
    """Landed contributions: merged PRs by their author, commits not come in through a PR."""
    return ev[ev["landed"]]


def first_landed_candidates(ev: pd.DataFrame) -> pd.DataFrame:
    """Landed contributions."""
    return candidates(landed_of(ev).drop_duplicates(["maker", "repo"]))


def merged_at_of_prs(ev: pd.DataFrame) -> pd.DataFrame:
    """(repo, target) -> merged_at of every merged PR."""
    merged = ev[ev["kind"].eq("pr_merged")]
    return merged[["repo", "target", "ts"]].rename(columns={"ts": "merged_at"}).drop_duplicates(
        ["repo", "target"])


def committer_candidates(ev: pd.DataFrame) -> pd.DataFrame:
    """The maker's own work put on the branch by themselves (rules version 4): a merge of
    their own PR, or a landing act (a direct push, a squash, a merge) that landed a commit
    of their own (``own_work``)."""
    kind = ev["kind"]
    own_merges = ev[kind.eq("merge_performed") & ev["target_author"].eq(ev["maker"])]
    own_landing = ev[kind.eq("committed") & ev["own_work"]]
    return pd.concat([candidates(own_merges), candidates(own_landing)], ignore_index=True)


def maintainer_candidates(ev: pd.DataFrame) -> pd.DataFrame:
    """Acting on someone else's work (rules version 4): merging their PR, landing their
    commits (a push, squash or merge that put someone else's commit on the branch), closing
    their issue or PR, approving their PR later merged (interpretation 3), each in a repo
    where the maker had landed work of their own strictly before (``after_own_landed``); and,
    in a repo where someone else had landed strictly before (``after_others_landed``),
    publishing a release or an annotated tag. One's own direct pushes and merges are
    committer acts, not these."""
    kind, subkind = ev["kind"], ev["subkind"]
    merges = ev[kind.eq("merge_performed") & ev["someone_else"]]
    landing = ev[kind.eq("committed") & ev["someone_else"]]
    closes = ev[kind.eq("issue_event") & subkind.eq("closed") & ev["someone_else"] & ~ev["by_commit"]]
    approvals = ev[kind.eq("review") & subkind.eq("APPROVED") & ev["someone_else"]]
    approvals = approvals.merge(merged_at_of_prs(ev), on=["repo", "target"], how="inner")
    approvals = approvals[approvals["merged_at"] >= approvals["ts"]]
    on_others = after_own_landed(ev, pd.concat([merges, landing, closes, approvals[merges.columns]]))
    releases = after_others_landed(ev, ev[kind.eq("release")])
    return pd.concat([candidates(on_others), candidates(releases)], ignore_index=True)


def after_own_landed(ev: pd.DataFrame, acts: pd.DataFrame) -> pd.DataFrame:
    """The acts done in a repo where the actor had landed a contribution of their own
    strictly before (a maintainer is a contributor acting on others' work)."""
    firsts = landed_of(ev).groupby(["repo", "maker"], observed=True, sort=False)["ts"].min()
    firsts = firsts.rename("own_first").reset_index()
    # by position: the acts' labels repeat (the approvals' merge renumbered theirs), and
    # .loc of a repeated label would also return another act of that label, unchecked
    joined = acts[["repo", "maker", "ts"]].reset_index(drop=True).reset_index(names="row").merge(
        firsts, on=["repo", "maker"], how="inner")
    return acts.iloc[joined.loc[joined["own_first"].lt(joined["ts"]), "row"].to_numpy()]


def after_others_landed(ev: pd.DataFrame, acts: pd.DataFrame) -> pd.DataFrame:
    """The acts done in a repo where a maker other than the actor had landed a contribution
    strictly before: per repo, the first landed time of its first two landing makers."""
    firsts = landed_of(ev).groupby(["repo", "maker"], observed=True, sort=False)["ts"].min()
    firsts = firsts.reset_index().sort_values(["repo", "ts"], kind="stable")
    rank = firsts.groupby("repo", observed=True).cumcount()
    per_repo = firsts[rank.eq(0)].rename(columns={"maker": "first_maker", "ts": "first_at"}).merge(
        firsts[rank.eq(1)][["repo", "ts"]].rename(columns={"ts": "second_at"}), on="repo", how="left")
    joined = acts[["repo", "maker", "ts"]].reset_index(names="row").merge(per_repo, on="repo", how="inner")
    others_first = joined["first_at"].where(
        joined["first_maker"].astype(object).ne(joined["maker"].astype(object)), joined["second_at"])
    return acts.loc[joined.loc[others_first.lt(joined["ts"]), "row"]]


def triager_candidates(ev: pd.DataFrame) -> pd.DataFrame:
    """Labeled, assigned or milestoned someone else's issue or PR."""
    rows = ev[ev["kind"].eq("issue_event") & ev["subkind"].isin(TRIAGE_EVENTS) & ev["someone_else"]]
    return candidates(rows)


def reviewer_candidates(ev: pd.DataFrame) -> pd.DataFrame:
    """Reviews of someone else's PR."""
    return candidates(ev[ev["kind"].eq("review") & ev["someone_else"]])


def core_candidates(ev: pd.DataFrame, limits: dict[str, Any]) -> pd.DataFrame:
    """Each quarter in which a maker is in a repo's sustained core (rules version 4,
    interpretation 11), dated at their first landed contribution there that quarter.

    Read over the year ending with the quarter (it and the three before it), in a repo where
    at least core_min_makers makers have landed work by then: the year holds >=
    core_min_landed landed contributions; its makers sorted by landed contributions there
    that year (descending, ties by key), the shortest prefix holding >= core_share of them,
    cut to its first max(1, ceil(core_max_share x the makers who landed there that year));
    of those, makers with >= max(core_min_own, core_min_own_share x the year's landed)
    of their own, landed in >= core_min_quarters different quarters of the year, one of them
    this quarter. Computed on integer codes (the makers' categories are sorted, so their
    codes order them by key).
    """
    landed = landed_of(ev)
    if landed.empty:
        return empty_candidates()
    quarter = quarter_index(landed["ts"]).to_numpy(dtype="int64")
    repo = landed["repo"].cat.codes.to_numpy(dtype="int64")
    maker = landed["maker"].cat.codes.to_numpy(dtype="int64")
    makers = len(landed["maker"].cat.categories) + 1
    span = int(quarter.max()) + 5
    # one row per (repo, quarter, maker) that landed: its count
    cell = (repo * span + quarter) * makers + maker
    cells, n = np.unique(cell, return_counts=True)
    c_repo_q, c_maker = np.divmod(cells, makers)
    # a quarter's count also counts in the years ending with the three after it; only the
    # years ending with a quarter in which the repo saw work matter (the maker lands in it)
    worked = np.unique(c_repo_q)
    ends = np.concatenate([c_repo_q + lag for lag in range(4)])
    keep = np.isin(ends, worked)
    year_cell = (ends * makers + np.tile(c_maker, 4))[keep]
    year_n = np.tile(n, 4)[keep]
    year_cells, where = np.unique(year_cell, return_inverse=True)
    own = np.bincount(where, weights=year_n).astype("int64")
    quarters = np.bincount(where).astype("int64")
    y_repo_q, y_maker = np.divmod(year_cells, makers)
    here = np.isin(year_cells, cells)
    groups, group_of = np.unique(y_repo_q, return_inverse=True)
    total = np.bincount(group_of, weights=own)[group_of]
    team = makers_by_then(c_repo_q, c_maker, span, y_repo_q)
    # within each (repo, year): most landed first, ties by maker code (= key order)
    order = np.lexsort((y_maker, -own, y_repo_q))
    own_s, group_s, total_s = own[order], group_of[order], total[order]
    running = np.cumsum(own_s)
    starts = np.r_[0, np.flatnonzero(np.diff(group_s)) + 1]
    before = running - own_s - np.repeat(running[starts] - own_s[starts], np.diff(np.r_[starts, len(order)]))
    needed = np.maximum(limits["core_min_own"], limits["core_min_own_share"] * total_s - 1e-9)
    # one of the few of their time: a place within the first max(1, ceil(core_max_share x
    # the makers who landed there that year))
    in_year = np.bincount(group_of)[group_of][order]
    place = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    places = np.maximum(1, np.ceil(limits["core_max_share"] * in_year - 1e-9))
    chosen = order[(before < limits["core_share"] * total_s - 1e-9) & (own_s >= needed)
                   & (quarters[order] >= limits["core_min_quarters"]) & here[order]
                   & (total_s >= limits["core_min_landed"]) & (place < places)
                   & (team[order] >= limits["core_min_makers"])]
    first = pd.Series(np.arange(len(landed)), index=cell).groupby(level=0).min()
    rows = landed.iloc[first.loc[year_cells[chosen]].to_numpy()]
    return candidates(rows)


def makers_by_then(c_repo_q: np.ndarray, c_maker: np.ndarray, span: int,
                   y_repo_q: np.ndarray) -> np.ndarray:
    """For each (repo x span + quarter) of ``y_repo_q``: how many makers had landed work in
    the repo by the end of that quarter (from the landed cells' repo-quarters and makers)."""
    repo = c_repo_q // span
    pairs = pd.DataFrame({"repo": repo, "maker": c_maker, "at": c_repo_q})
    firsts = np.sort(pairs.groupby(["repo", "maker"], sort=False)["at"].min().to_numpy())
    repo_start = (y_repo_q // span) * span
    return (np.searchsorted(firsts, y_repo_q, side="right")
            - np.searchsorted(firsts, repo_start, side="left"))


def creator_acts(ev: pd.DataFrame) -> pd.DataFrame:
    """Each repo's first act: its earliest landed commit (ties by sha) or opened issue/PR."""
    firsts = ev[(ev["kind"].eq("commit") & ev["landed"]) | ev["kind"].isin(["issue_opened", "pr_opened"])]
    firsts = firsts[firsts["ts"].eq(firsts.groupby("repo")["ts"].transform("min"))]
    reference = firsts["target"].str.split(":", n=1).str[1]
    firsts = firsts.assign(
        not_commit=firsts["kind"].ne("commit"),
        sha=reference.where(firsts["kind"].eq("commit"), ""),
        number=pd.to_numeric(reference.where(firsts["kind"].ne("commit")), errors="coerce"))
    firsts = firsts.sort_values(["ts", "not_commit", "sha", "number"], kind="stable")
    return firsts.drop_duplicates(["repo"]).drop(columns=["not_commit", "sha", "number"])


def creator_candidates(creators: pd.DataFrame) -> pd.DataFrame:
    """The maker of each repository's first act (``creator_acts``)."""
    return candidates(creators)


def first_response_rows(ev: pd.DataFrame, network_first_contact: pd.Series,
                        limits: dict[str, Any]) -> pd.DataFrame:
    """First responses to items that were their author's first contact (interpretation 7)."""
    opened = ev[ev["kind"].isin(["issue_opened", "pr_opened"])]
    first_at = opened[["maker"]].merge(network_first_contact.rename("first_at").reset_index(),
                                       on="maker", how="left")["first_at"].to_numpy()
    debut = opened[opened["ts"].to_numpy() == first_at][["repo", "target", "maker", "ts"]]
    debut = debut.rename(columns={"maker": "author", "ts": "created_at"})
    responses = ev[ev["kind"].isin(["comment", "review_comment", "review"])]
    responses = responses.reset_index(names="row").merge(debut, on=["repo", "target"], how="inner")
    responses = responses[responses["maker"].ne(responses["author"])
                          & (responses["ts"] >= responses["created_at"])]
    earliest_at = responses.groupby(["repo", "target"])["ts"].transform("min")
    # several responders in the same second are all first
    first = responses[responses["ts"].eq(earliest_at)]
    window = pd.Timedelta(hours=limits["first_response_hours"])
    return first[first["ts"] - first["created_at"] <= window]


def organiser_candidates(ev: pd.DataFrame, responders: pd.DataFrame, creators: pd.DataFrame,
                         limits: dict[str, Any]) -> pd.DataFrame:
    """First responder (``first_response_rows``), organiser label, issue closed as completed
    by someone else, creator of a repo where another maker acted, creator of a community file
    (rules version 5: the commit rows ``community`` marks, ``events.community_created``)."""
    labels = {label.lower() for label in limits["organiser_labels"]}
    labeled = ev[ev["kind"].eq("issue_event") & ev["subkind"].eq("labeled") & ev["someone_else"]
                 & ev["target"].str.startswith("issue:")
                 & ev["label"].fillna("").str.lower().isin(labels)]
    parts = [candidates(responders), candidates(labeled), completed_by_others(ev),
             creator_followed(ev, creators), candidates(ev[ev["community"]])]
    return pd.concat([part for part in parts if len(part)], ignore_index=True) if any(
        len(part) for part in parts) else empty_candidates()


def completed_by_others(ev: pd.DataFrame) -> pd.DataFrame:
    """Issue authors whose issue was last closed by someone else, state_reason completed;
    dated at that closed event."""
    issues = ev[ev["kind"].eq("issue_opened") & ev["subkind"].eq("completed")]
    closes = ev[ev["kind"].eq("issue_event") & ev["subkind"].eq("closed")]
    last_close = closes.drop_duplicates(["repo", "target"], keep="last")
    joined = last_close.merge(issues[["repo", "target", "maker"]].rename(columns={"maker": "author"}),
                              on=["repo", "target"], how="inner")
    joined = joined[joined["maker"].ne(joined["author"])]
    return candidates(joined, maker=joined["author"])


def creator_followed(ev: pd.DataFrame, creators: pd.DataFrame) -> pd.DataFrame:
    """Creators of a repo in which another maker acted, dated at that maker's first action."""
    creators = creators[["repo", "maker", "ts"]].rename(
        columns={"maker": "creator", "ts": "created_at"})
    acts = actions_of(ev).merge(creators, on="repo", how="inner")
    acts = acts[acts["maker"].ne(acts["creator"]) & (acts["ts"] >= acts["created_at"])]
    first = acts.drop_duplicates(["repo"])
    return candidates(first, maker=first["creator"])


def bridge_candidates(ev: pd.DataFrame, column: str, limits: dict[str, Any]) -> pd.DataFrame:
    """Actions taken while the maker acted in another ``column`` (repo or org) within
    bridge_days before (interpretation 6): the first per maker, repo and quarter (the
    milestone takes the earliest; the bridge track of the stages needs every quarter).

    In time order, the maker's latest action elsewhere is the last action of the previous
    run of same-``column`` actions, so one shift per run finds it.
    """
    acts = actions_of(ev).sort_values(["maker", "ts", column], kind="stable")
    same_maker = acts["maker"].eq(acts["maker"].shift())
    new_run = ~same_maker | acts[column].ne(acts[column].shift())
    run_id = new_run.cumsum()
    previous_other = acts["ts"].shift().where(new_run & same_maker)
    previous_other = previous_other.groupby(run_id).transform("first")
    # an action elsewhere in the same second counts too, whichever sorted first
    ends_run = new_run.shift(-1, fill_value=True) & acts["maker"].eq(acts["maker"].shift(-1))
    next_other = acts["ts"].shift(-1).where(ends_run)
    next_other = next_other.groupby(run_id).transform("last")
    window = pd.Timedelta(days=limits["bridge_days"])
    bridging = acts[((acts["ts"] - previous_other) <= window) | acts["ts"].eq(next_other)]
    return candidates(bridging.assign(quarter=quarter_index(bridging["ts"])).drop_duplicates(
        ["maker", "repo", "quarter"]))


# --- whole-scope rules (run on all the maker's actions in the scope) --------------------

def returning_candidates(ev: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Landed contributions in a later calendar month than the scope's first landed."""
    landed = landed_of(ev)
    first_month = month_index(landed.groupby(keys)["ts"].transform("min"))
    return candidates(landed[month_index(landed["ts"]) > first_month])


def long_term_candidates(ev: pd.DataFrame, keys: list[str], limits: dict[str, Any]) -> pd.DataFrame:
    """Landed contributions at least long_term_days after the scope's first landed."""
    landed = landed_of(ev)
    first = landed.groupby(keys)["ts"].transform("min")
    return candidates(landed[landed["ts"] - first >= pd.Timedelta(days=limits["long_term_days"])])


def gap_candidates(ev: pd.DataFrame, keys: list[str], as_of: pd.Timestamp, days: int) -> pd.DataFrame:
    """Last actions before a gap of >= days (or before as_of), dated action + days. The
    trigger is the gap itself (kind ``gap``, at the milestone's date, target the last
    action's), so every trigger's time is its milestone's date."""
    acts = actions_of(ev)
    following = acts.groupby(keys, sort=False, observed=True)["ts"].shift(-1).fillna(as_of)
    span = pd.Timedelta(days=days)
    quiet = acts[following - acts["ts"] >= span]
    quiet = quiet.assign(ts=quiet["ts"] + span, kind="gap")
    return candidates(quiet)


def returned_candidates(ev: pd.DataFrame, keys: list[str], limits: dict[str, Any]) -> pd.DataFrame:
    """Actions after a gap of >= gone_days."""
    acts = actions_of(ev)
    previous = acts.groupby(keys, sort=False)["ts"].shift(1)
    back = acts[acts["ts"] - previous >= pd.Timedelta(days=limits["gone_days"])]
    return candidates(back)


def action_roles(ev: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """Code and organising actions, flagged (docs/rules.md "Actions")."""
    kind = ev["kind"]
    code = (kind.eq("commit") & ev["landed"]) | kind.eq("pr_opened")
    organising = (
        kind.eq("issue_opened")
        | (kind.eq("issue_event") & ev["subkind"].isin(TRIAGE_EVENTS) & ev["someone_else"])
        | (kind.eq("review") & ev["someone_else"])
    )
    organising = organising | pd.Series(ev.index.isin(responses["row"]), index=ev.index)
    roles = ev[code | organising].assign(code=code, organising=organising & ~code)
    return roles


def coder_to_organiser_candidates(roles: pd.DataFrame, keys: list[str],
                                  limits: dict[str, Any]) -> pd.DataFrame:
    """The first quarter mostly organising after an earlier quarter mostly coding, dated at
    the maker's first organising action in that quarter."""
    if roles.empty:
        return empty_candidates()
    roles = roles.assign(quarter=quarter_index(roles["ts"]))
    per_quarter = roles.groupby(keys + ["quarter"], sort=False).agg(
        n_code=("code", "sum"), n_org=("organising", "sum")).reset_index()
    total = per_quarter["n_code"] + per_quarter["n_org"]
    enough = total >= limits["shift_min_actions"]
    per_quarter["coding"] = enough & (per_quarter["n_code"] * 2 > total)
    per_quarter["organising"] = enough & (per_quarter["n_org"] * 2 >= total)
    first_coding = per_quarter[per_quarter["coding"]].groupby(keys)["quarter"].min().rename("first_coding")
    shifted = per_quarter[per_quarter["organising"]].merge(first_coding.reset_index(), on=keys)
    shifted = shifted[shifted["quarter"] > shifted["first_coding"]]
    shifted = shifted.sort_values("quarter").drop_duplicates(keys)
    triggers = roles[roles["organising"]].drop_duplicates(keys + ["quarter"])
    rows = triggers.merge(shifted[keys + ["quarter"]], on=keys + ["quarter"], how="inner")
    return candidates(rows)


def empty_candidates() -> pd.DataFrame:
    """No candidates, with the right columns."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in CANDIDATE_COLUMNS}).astype(
        {"at": "datetime64[ns, UTC]", "ts": "datetime64[ns, UTC]"})


# --- milestones -------------------------------------------------------------------------

class RuleInputs:
    """What the rule functions read: the events through ``rule_events``, as_of, the
    thresholds, the scope's keys, and the parts several rules share (computed once)."""

    def __init__(self, ev: pd.DataFrame, moment: pd.Timestamp, limits: dict[str, Any],
                 keys: list[str], outside: pd.DataFrame | None = None) -> None:
        self.ev, self.moment, self.limits, self.keys = ev, moment, limits, keys
        self.outside = outside  # graphminer.careers.outside_acts (None: nobody followed)

    @cached_property
    def first_contact(self) -> pd.Series:
        return network_first_contact(self.ev)

    @cached_property
    def responders(self) -> pd.DataFrame:
        return first_response_rows(self.ev, self.first_contact, self.limits)

    @cached_property
    def creators(self) -> pd.DataFrame:
        return creator_acts(self.ev)


# One rule per milestone of the catalogue (graphminer.milestones), by its key.
RULES: dict[str, Callable[[RuleInputs], pd.DataFrame]] = {
    "first_contact": lambda r: first_contact_candidates(r.ev),
    "first_issue": lambda r: first_issue_candidates(r.ev),
    "first_comment": lambda r: first_comment_candidates(r.ev),
    "first_pr": lambda r: first_pr_candidates(r.ev),
    "first_landed": lambda r: first_landed_candidates(r.ev),
    "returning": lambda r: returning_candidates(r.ev, r.keys),
    "long_term": lambda r: long_term_candidates(r.ev, r.keys, r.limits),
    "committer": lambda r: committer_candidates(r.ev),
    "maintainer": lambda r: maintainer_candidates(r.ev),
    "triager": lambda r: triager_candidates(r.ev),
    "reviewer": lambda r: reviewer_candidates(r.ev),
    "core": lambda r: core_candidates(r.ev, r.limits),
    "creator": lambda r: creator_candidates(r.creators),
    "organiser": lambda r: organiser_candidates(r.ev, r.responders, r.creators, r.limits),
    "coder_to_organiser": lambda r: coder_to_organiser_candidates(
        action_roles(r.ev, r.responders), r.keys, r.limits),
    "repo_bridge": lambda r: bridge_candidates(r.ev, "repo", r.limits),
    "org_bridge": lambda r: bridge_candidates(r.ev, "org", r.limits),
    "inactive": lambda r: gap_candidates(r.ev, r.keys, r.moment, r.limits["inactive_days"]),
    "gone": lambda r: gap_candidates(r.ev, r.keys, r.moment, r.limits["gone_days"]),
    "returned": lambda r: returned_candidates(r.ev, r.keys, r.limits),
    "landed_elsewhere": lambda r: elsewhere_candidates(r),
    "civic_elsewhere": lambda r: elsewhere_candidates(r, "civic"),
    "government": lambda r: elsewhere_candidates(r, "government"),
    "founder": lambda r: founder_candidates(r),
    "moved_on": lambda r: moved_on_candidates(r),
}


def unregistered(rules: dict[str, Any] | None = None) -> tuple[set[str], set[str]]:
    """(catalogue keys without a rule, rules without a catalogue key): both empty."""
    registered = set(RULES if rules is None else rules)
    return set(catalogue.KEYS) - registered, registered - set(catalogue.KEYS)


def network_first_contact(ev: pd.DataFrame) -> pd.Series:
    """maker -> first action time across the network."""
    return actions_of(ev).groupby("maker")["ts"].min()


def milestone_acts(events: pd.DataFrame, as_of: pd.Timestamp, config: Any = None,
                   scope: str = "network", outside: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long form: one row per (scope key, milestone reached) with its date and trigger.

    Columns: the scope's keys, ``milestone``, ``at`` (the milestone date), and the
    triggering event's ``kind``, ``target``, ``ts``, ``trigger_repo`` and ``trigger_org``.
    """
    return acts_of_prepared(rule_events(events, as_of), as_of, thresholds(config),
                            scope_keys(scope), outside)


def scope_keys(scope: str) -> list[str]:
    """The index columns of a scope."""
    if scope not in SCOPE_KEYS:
        raise ValueError(f"scope must be one of {sorted(SCOPE_KEYS)}, not {scope!r}")
    return SCOPE_KEYS[scope]


# The rules that do not read the scope's keys: their candidate acts are the same in every
# scope (only ``earliest`` per scope differs), so a caller computing several scopes of the
# same events (``precompute``) computes them once.
SCOPE_FREE_RULES = frozenset({
    "first_contact", "first_issue", "first_comment", "first_pr", "first_landed", "committer",
    "maintainer", "triager", "reviewer", "core", "creator", "organiser", "repo_bridge",
    "org_bridge",
})


def acts_of_prepared(ev: pd.DataFrame, moment: pd.Timestamp, limits: dict[str, Any],
                     keys: list[str], outside: pd.DataFrame | None = None,
                     shared: dict[str, Any] | None = None) -> pd.DataFrame:
    """milestone_acts on events already through ``rule_events`` (and the outside acts of
    followed makers, ``graphminer.careers.outside_acts``, for the rules of version 3).

    ``shared``: a dict the caller passes to every scope of the same ``ev``, ``moment``,
    ``limits`` and ``outside``; the scope-free rules' candidates (``SCOPE_FREE_RULES``) and
    the inputs several rules read are kept in it and computed once."""
    if ev.empty:
        return with_scope_columns(empty_candidates().assign(milestone=pd.Series(dtype=object)), keys)
    if shared is None:
        shared = {}
    inputs = shared.setdefault("inputs", RuleInputs(ev, moment, limits, keys, outside))
    inputs.keys = keys
    found = []
    every: dict[str, pd.DataFrame] = {}
    for name in catalogue.KEYS:
        if name in SCOPE_FREE_RULES:
            if name not in shared:
                shared[name] = RULES[name](inputs)
            acts = shared[name]
        else:
            acts = RULES[name](inputs)
        if name in ROLE_RULES:
            every[name] = acts
        if len(acts):
            found.append(earliest(acts, keys).assign(milestone=name))
    if LAST_RUN.get("ev") is ev:  # the stages of these events read the same acts
        LAST_RUN["roles"] = (dict(limits), every)
    if not found:
        long = empty_candidates().assign(milestone=pd.Series(dtype=object))
    else:
        long = pd.concat(found, ignore_index=True)
        long = long[long["at"] <= moment]
    return with_scope_columns(long, keys)


def with_scope_columns(long: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Candidates as milestone acts: the triggering repo and org named as such, and the
    scope's own repo/org columns (present even when there is no act)."""
    long = long.rename(columns={"repo": "trigger_repo", "org": "trigger_org"})
    for column in ("maker", "trigger_repo", "trigger_org", "kind", "by"):
        long[column] = long[column].astype(object)
    if "repo" in keys:
        long["repo"] = long["trigger_repo"]
    if "org" in keys:
        long["org"] = long["trigger_org"]
    return long.reset_index(drop=True)


def milestones(events: pd.DataFrame, as_of: pd.Timestamp, config: Any = None,
               scope: str = "network", outside: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per maker (x org, x repo by scope), one column per key of MILESTONES (NaT if
    not reached by as_of). Makers with at least one action up to as_of are listed."""
    ev = rule_events(events, as_of)
    keys = scope_keys(scope)
    return wide_milestones(ev, acts_of_prepared(ev, as_of, thresholds(config), keys, outside), keys)


def wide_milestones(ev: pd.DataFrame, long: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The long form pivoted: one column per milestone, a row for every maker with an action."""
    present = actions_of(ev)[keys].drop_duplicates().astype(object)
    frame = pd.DataFrame(index=pd.MultiIndex.from_frame(present) if len(keys) > 1
                         else pd.Index(present[keys[0]], name=keys[0]))
    if len(long):
        frame = frame.join(long.pivot(index=keys, columns="milestone", values="at"), how="outer")
    for name in catalogue.KEYS:
        if name not in frame:
            frame[name] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    frame = frame[list(catalogue.KEYS)].sort_index()
    frame.columns.name = None
    frame.attrs["rules_version"] = RULES_VERSION
    return frame


# --- stages -----------------------------------------------------------------------------

def stages(events: pd.DataFrame, as_of: pd.Timestamp, config: Any = None,
           network: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per maker per quarter from their first contact to as_of's quarter: the role
    *held* in that quarter (docs/rules.md "Stages"), the organiser and bridge tracks held
    on the same rolling year, and the state (active, inactive, gone, returned in that
    quarter). A quarter where no stage holds shows its state (inactive or gone) as stage."""
    limits = thresholds(config)
    moment = as_of
    reached = network if network is not None else milestones(events, moment, config)
    reached = reached[reached["first_contact"].notna()]
    if reached.empty:
        return pd.DataFrame(columns=["maker", "quarter", "stage", "organiser", "bridge", "state"])
    ev = rule_events(events, moment)
    last_quarter = int(quarter_index(pd.Series([moment])).iloc[0])
    first_quarter = quarter_index(reached["first_contact"]).astype("int64")
    span = (last_quarter - first_quarter + 1).to_numpy()
    grid = pd.DataFrame({"maker": np.repeat(reached.index.to_numpy(), span)})
    grid["quarter_no"] = np.repeat(first_quarter.to_numpy(), span) + grid.groupby("maker").cumcount().to_numpy()
    grid["quarter"] = quarter_start(grid["quarter_no"]).to_numpy()
    ends = quarter_start(grid["quarter_no"] + 1) - pd.Timedelta(seconds=1)
    grid["ref"] = ends.where(ends < moment, moment).to_numpy()
    returning_at = reached["returning"].reindex(grid["maker"])
    returning_at.index = grid.index
    returned = returning_at.le(grid["ref"]).to_numpy()
    held = held_roles(grid, ev, limits)
    grid["stage"] = np.select(
        [held["core"], held["maintainer"],
         held["landed"] & returned, held["landed"], held["acted"]],
        ["core", "maintainer", "returning", "contributor", "participant"], default="")
    grid["organiser"] = held["organiser"]
    grid["bridge"] = held["bridge"]
    grid["state"] = quarter_states(grid, ev, limits)
    grid["stage"] = grid["stage"].where(grid["stage"].ne(""), grid["state"])
    return grid[["maker", "quarter", "stage", "organiser", "bridge", "state"]].reset_index(drop=True)


def held_roles(grid: pd.DataFrame, ev: pd.DataFrame, limits: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per grid row (maker, quarter_no), whether each role holds: core in that very quarter;
    maintainer, landed, acted, organiser and bridge by an act in that quarter or the three
    before it."""
    codes = {maker: code for code, maker in enumerate(pd.unique(grid["maker"]))}
    wanted = grid["maker"].map(codes).to_numpy(dtype="int64") * 100_000 + grid["quarter_no"].to_numpy()

    def quarters_of(acts: pd.DataFrame, rolling: int) -> np.ndarray:
        code = acts["maker"].astype(object).map(codes)
        known = code.notna().to_numpy()
        keys = np.unique(code[known].to_numpy(dtype="int64") * 100_000
                         + quarter_index(acts["at"])[known].to_numpy(dtype="int64"))
        return np.isin(wanted, np.unique(np.concatenate([keys + lag for lag in range(rolling)])))

    known = LAST_RUN.get("roles") if LAST_RUN.get("ev") is ev else None
    if known is not None and known[0] == limits:
        every = known[1]
    else:
        responders = first_response_rows(ev, network_first_contact(ev), limits)
        every = {"maintainer": maintainer_candidates(ev), "core": core_candidates(ev, limits),
                 "organiser": organiser_candidates(ev, responders, creator_acts(ev), limits),
                 "repo_bridge": bridge_candidates(ev, "repo", limits),
                 "org_bridge": bridge_candidates(ev, "org", limits)}
    bridges = pd.concat([every["repo_bridge"], every["org_bridge"]], ignore_index=True)
    return {
        "core": quarters_of(every["core"], 1),
        "maintainer": quarters_of(every["maintainer"], 4),
        "landed": quarters_of(candidates(landed_of(ev)), 4),
        "acted": quarters_of(candidates(actions_of(ev)), 4),
        "organiser": quarters_of(every["organiser"], 4),
        "bridge": quarters_of(bridges, 4),
    }


def quarter_states(grid: pd.DataFrame, ev: pd.DataFrame, limits: dict[str, Any]) -> pd.Series:
    """gone / inactive by the gap since the last action at the quarter's reference time,
    else returned when the maker came back after a long gap within the quarter, else active."""
    acts = actions_of(ev)[["maker", "ts"]].sort_values("ts")
    acts["maker"] = acts["maker"].astype(object)
    previous = acts.groupby("maker")["ts"].shift(1)
    acts = acts.assign(back=(acts["ts"] - previous) >= pd.Timedelta(days=limits["gone_days"]))
    returns = acts[acts["back"]][["maker", "ts"]].rename(columns={"ts": "returned_at"})
    order = grid.sort_values("ref")
    order = order.assign(maker=order["maker"].astype(object))
    last = pd.merge_asof(order[["maker", "ref"]].reset_index(), acts[["maker", "ts"]],
                         left_on="ref", right_on="ts", by="maker", direction="backward")
    last = pd.merge_asof(last, returns.sort_values("returned_at"), left_on="ref",
                         right_on="returned_at", by="maker", direction="backward")
    last = last.set_index("index").reindex(grid.index)
    gap = last["ref"] - last["ts"]
    quarter_begins = grid["quarter"]
    state = np.select(
        [gap >= pd.Timedelta(days=limits["gone_days"]),
         gap >= pd.Timedelta(days=limits["inactive_days"]),
         last["returned_at"].notna() & (last["returned_at"] >= quarter_begins)],
        ["gone", "inactive", "returned"], default="active")
    return pd.Series(state, index=grid.index)


def current_stages(stage_table: pd.DataFrame) -> pd.Series:
    """maker -> stage in the last quarter (the one holding as_of)."""
    if stage_table.empty:
        return pd.Series(dtype=object, name="stage")
    last = stage_table.sort_values("quarter").drop_duplicates("maker", keep="last")
    return last.set_index("maker")["stage"]


# --- beyond the harvested orgs (rules version 3) -----------------------------------------
# Read from the outside acts of followed makers (graphminer.careers), network scope only.


def outside_candidates(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Outside acts as candidate acts dated at their own time."""
    return pd.DataFrame({"maker": rows["maker"].astype(object), "org": rows["owner"],
                         "repo": rows["repo"], "at": rows["at"], "kind": kind,
                         "target": rows["repo"], "ts": rows["at"]})


def after_first_contact(r: RuleInputs, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows dated strictly after their maker's network first_contact."""
    contact = r.first_contact.copy()
    contact.index = contact.index.astype(object)
    since = rows["maker"].map(contact)
    return rows[since.notna() & (rows["at"] > since)]


def merged_elsewhere(r: RuleInputs) -> pd.DataFrame | None:
    """Merged PRs outside the harvested orgs after first_contact (None: not network scope
    or nobody followed)."""
    if r.outside is None or r.keys != ["maker"] or r.outside.empty:
        return None
    return after_first_contact(r, r.outside[r.outside["act"] == "merged"])


def elsewhere_candidates(r: RuleInputs, owner_kind: str | None = None) -> pd.DataFrame:
    """landed_elsewhere, or civic_elsewhere / government with ``owner_kind``."""
    merged = merged_elsewhere(r)
    if merged is None:
        return empty_candidates()
    if owner_kind is not None:
        merged = merged[merged["owner_kind"] == owner_kind]
    return outside_candidates(merged, "pr_merged_elsewhere")


def founder_candidates(r: RuleInputs) -> pd.DataFrame:
    """Non-fork repos of the maker's own, created after first_contact, that another non-bot
    account contributed to."""
    if r.outside is None or r.keys != ["maker"] or r.outside.empty:
        return empty_candidates()
    outside = r.outside
    own = outside[(outside["act"] == "founded") & (outside["fork"] == 0) & (outside["others"] == 1)]
    return outside_candidates(after_first_contact(r, own), "repo_founded")


def moved_on_candidates(r: RuleInputs) -> pd.DataFrame:
    """Merged PRs elsewhere dated after the maker's network gone date."""
    merged = merged_elsewhere(r)
    if merged is None:
        return empty_candidates()
    gone = earliest(gap_candidates(r.ev, ["maker"], r.moment, r.limits["gone_days"]), ["maker"])
    gone_at = gone.assign(maker=gone["maker"].astype(object)).set_index("maker")["at"]
    since = merged["maker"].map(gone_at)
    return outside_candidates(merged[since.notna() & (merged["at"] > since)], "pr_merged_elsewhere")
