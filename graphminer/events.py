"""The events stage: turns the store's raw records into one normalised table of contributions.

``load_events(conn, config)`` returns one row per contribution (docs/events.md); everything
downstream (milestones, stages, graph, stats, exports) reads only this table. It owns the
reading of docs/rules.md "Actions" and "Landed code and direct pushes": which record is an
action, which commit came in through a PR, which is a direct push.

Kinds (``kind``), each dated by docs/rules.md "Dating":

- ``issue_opened``: an issue (not a PR) opened; ``subkind`` is its ``state_reason`` ("" if none).
- ``pr_opened``: a PR opened by its author; ``subkind`` ``pull_ref`` for a PR known only
  from git (a ``refs/pull/N/head`` whose PR the store does not hold), dated at its head
  commit's committer date (an approximation) and counted once per head commit.
- ``pr_merged``: the author's landed PR, dated ``merged_at`` (maker = PR author).
- ``merge_performed``: the merger's action of merging a PR (maker = merged_by, or the
  ``merged`` issue event's actor); ``target_author`` is the PR's author. The ``merged``
  issue event itself is not emitted again as ``issue_event`` (it is this row).
- ``comment``: an issue comment (on an issue or a PR, ``target`` says which).
- ``review_comment``: a PR review comment.
- ``review``: a submitted review; ``subkind`` is its state (APPROVED, CHANGES_REQUESTED,
  COMMENTED, DISMISSED). Pending reviews (never submitted) are not contributions.
- ``issue_event``: an issue event the maker performed; ``subkind`` is the event name
  (closed, reopened, labeled, assigned, milestoned, ...), ``label`` its label,
  ``by_commit`` true when it was done by a commit (``commit_id`` set). ``mentioned``,
  ``subscribed`` and ``unsubscribed`` are done *to* the actor, not by them, and are left out.
- ``release``: a published release (drafts are not), or an annotated git tag read by
  harvest-git (``subkind`` ``tag``; maker = the tagger, resolved by identity resolution
  like a commit author), dated at the tag date.
- ``commit``: every default-branch commit, maker = its author (so per-maker counts add up
  to the branch's commit count), dated when it landed: at its earliest landing event
  (docs/rules.md "Dating", read by ``graphminer.landing``: mainline arrival across foxtrot
  merges, landing merges wherever they sit, imported history at its own dates). A sha
  stored under several repos (a fork, a mirror, one history under two names) is one row,
  in the repo where it landed first (ties: not a fork, then full name). ``via_pr`` (came
  in through a PR: merge/squash result of a merged PR, dated by a merge that brought it
  in, ``(#N)`` or ``Merge pull request #N`` subject, a ``refs/pull/N/head``), ``pr`` its
  PR number (0 if unknown), ``landed_by`` (``commit:SHA`` of that merge), ``imported``,
  ``merge_kind`` (``graphminer.landing.merge_kind`` of a merge), ``is_merge``,
  ``direct_push``, ``committer`` (maker key of the committer; null for
  ``GitHub <noreply@github.com>``), ``community`` (rules version 5: created a community
  file that makes room for others, CONTRIBUTING, CODE_OF_CONDUCT, GOVERNANCE, SUPPORT,
  issue or pull request templates, in any folder, a README not being one: the first commit
  of the repository to touch that path, ``community_created``; only git sources know). Landed (and
  then an action) when it is not a merge and did not come in through a PR, or came in
  through one whose merged PR the store does not hold (git-only history: a squash commit
  is its author's; a merge lands one contribution per distinct author of the non-merge
  commits it brought in, on the row of that author's lowest sha). A held PR's commits are
  the PR; merge commits land nobody's work.
- ``committed``: the act of putting work on the branch (``subkind`` ``direct_push``,
  ``pr_commit`` or ``merge``): a direct push (a pushed commit: on the mainline, or the
  puller's own side of a foxtrot merge), a PR's squashed or rebased commit committed by a
  person, a mainline merge commit or a landing merge off the mainline (a PR merge, a merge
  into a long-lived branch such as develop; ``graphminer.landing``): maker = the committer,
  or for a merge committed by GitHub's web flow (``GitHub <noreply@github.com>``) its
  author, who pressed merge; a web-flow commit is never anyone's push. An action, counted
  beside the author's ``commit`` row when the committer is the author. Whose work it
  landed (rules version 4, docs/rules.md "Roles"): ``own_work`` is true when it landed a
  non-merge commit of the committer's own (a committer act), and ``target_author`` is the
  author of a non-merge commit it landed that is someone else's (a maintainer act), else
  the committer when it landed only their own work, else null (it landed nothing new, or
  only a bot's; a foxtrot merge lands nobody else's).

Columns beyond docs/events.md's contract, for the rules to stay vectorised: ``action``
(the row is an action by docs/rules.md), ``landed`` (a landed contribution: ``pr_merged``
rows and the landed commits above), ``target_is_bot`` (the item's author is not a person:
the item is nobody's, even in a frame whose bot rows were dropped), ``subkind``, ``label``,
``by_commit``, ``via_pr``,
``pr``, ``is_merge``, ``direct_push``, ``committer``, ``community``, ``own_work``,
``role_account``, ``landed_by``, ``imported``, ``merge_kind``.

Makers come from identity resolution's tables (``makers``, ``maker_identities``,
``commit_makers``) when they exist; before they do, a user id string for accounts and
``git:<email>`` for commits without a linked account. Accounts that are not people are
flagged, not dropped: ``is_bot`` is true for bots and for role accounts (shared accounts
such as ``root``, graphminer.bots), whom every figure about people leaves out alike, and
``role_account`` tells the role accounts among them; opted-out people are absent; deleted repos are kept (their history happened);
forks are left out unless the config harvests them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import numpy as np
import pandas as pd

from graphminer import landing
from graphminer.bots import role_account_makers as role_accounts
from graphminer.bots import role_words
from graphminer.config import LONG_LIVED_BRANCHES, Config
from graphminer.landing import History, land
from graphminer.store import table_exists

COLUMNS = [
    "ts", "maker", "org", "repo", "kind", "target", "target_author", "details", "is_bot",
    "action", "landed", "subkind", "label", "by_commit", "via_pr", "pr", "is_merge",
    "direct_push", "committer", "community", "target_is_bot", "own_work", "role_account",
    "landed_by", "imported", "merge_kind",
]

NOT_PERFORMED_EVENTS = frozenset({"mentioned", "subscribed", "unsubscribed"})
GITHUB_COMMITTER_EMAIL = "noreply@github.com"
PR_SUBJECT = re.compile(r"\(#(\d+)\)|^Merge pull request #(\d+)\b")
# Community files that make room for others (rules version 4; a README is not one; creating
# one is an organiser act from version 5), in any folder: CONTRIBUTING*, CODE_OF_CONDUCT*, GOVERNANCE*, SUPPORT*, PULL_REQUEST_TEMPLATE*, and
# anything under an ISSUE_TEMPLATE folder.
COMMUNITY_FILE = re.compile(
    r"(^|/)(CONTRIBUTING|CODE_OF_CONDUCT|GOVERNANCE|SUPPORT|PULL_REQUEST_TEMPLATE)[^/]*$"
    r"|(^|/)ISSUE_TEMPLATE/", re.IGNORECASE
)


def load_events(conn: sqlite3.Connection, config: Config | None = None) -> pd.DataFrame:
    """Every contribution in the store as one row (see the module docstring for kinds),
    sorted by time, then by the part of the store each comes from (the order of ``parts``
    below) and that part's own key (docs/events.md "One order for every implementation":
    every reader, and ``graphminer.columnar``, breaks ties of the same second alike)."""
    repos = repos_in_scope(conn, config)
    people = people_frame(conn)
    roles = role_account_makers(conn, config)
    not_people = bot_makers(conn, people) | roles
    items = items_frame(conn, repos)
    parts = [
        opened_rows(items),
        merged_rows(items, conn, repos),
        comment_rows(conn, repos, items),
        review_comment_rows(conn, repos, items),
        review_rows(conn, repos, items),
        issue_event_rows(conn, repos, items),
        release_rows(conn, repos),
        commit_rows(conn, repos, items, config, not_people),
        pull_ref_rows(conn, repos, items),
    ]
    found = [part for part in parts if len(part)]
    if not found:  # a store with no contribution yet (an empty repository, say)
        return empty_events()
    events = pd.concat(found, ignore_index=True)
    events = events[events["maker"].notna()]
    excluded = opted_out_makers(conn, config, people)
    if excluded:
        events = events[~events["maker"].isin(excluded)]
        events.loc[events["target_author"].isin(excluded), "target_author"] = None
        events.loc[events["committer"].isin(excluded), "committer"] = None
    events["is_bot"] = events["maker"].isin(not_people)
    events["role_account"] = events["maker"].isin(roles)
    # a bot's item stays nobody's even where the bots' own rows were dropped first
    events["target_is_bot"] = events["target_author"].isin(not_people)
    return finish_columns(events)


def newest_event(events: pd.DataFrame) -> pd.Timestamp | None:
    """When the newest event happened (None for no event)."""
    return events["ts"].max() if len(events) else None


def empty_events() -> pd.DataFrame:
    """An events table with no rows and the right columns."""
    frame = pd.DataFrame({column: [] for column in COLUMNS})
    return finish_columns(frame)


def finish_columns(events: pd.DataFrame) -> pd.DataFrame:
    """Fill defaults, set dtypes and order, sort by time."""
    defaults: dict[str, Any] = {
        "subkind": "", "label": None, "by_commit": False, "via_pr": False, "pr": 0,
        "is_merge": False, "direct_push": False, "committer": None, "community": False,
        "target_author": None, "details": "{}", "landed": False, "target_is_bot": False,
        "own_work": False, "role_account": False,
        "landed_by": None, "imported": False, "merge_kind": "",
    }
    for column, default in defaults.items():
        if column not in events:
            events[column] = default
        elif default is not None:
            events[column] = events[column].fillna(default)
    for column in ("by_commit", "via_pr", "is_merge", "direct_push", "community", "landed",
                   "action", "is_bot", "target_is_bot", "own_work", "role_account",
                   "imported"):
        events[column] = events[column].astype(bool)
    events["pr"] = events["pr"].astype("int64")
    events["ts"] = pd.to_datetime(events["ts"], utc=True, format="ISO8601").astype(
        "datetime64[ns, UTC]")
    events = events[events["ts"].notna()]
    events["details"] = details_json(events)
    events = events[COLUMNS].sort_values("ts", kind="stable")
    return events.reset_index(drop=True)


def details_json(events: pd.DataFrame) -> pd.Series:
    """The ``details`` column: kind-specific facts as JSON (built per unique value, not per row)."""
    def quoted(series: pd.Series) -> pd.Series:
        uniques = series.dropna().unique()
        mapping = {value: json.dumps(str(value)) for value in uniques}
        return series.astype(object).map(mapping).astype(object).fillna("null")

    out = pd.Series("{}", index=events.index, dtype=object)
    is_commit = events["kind"].isin(["commit", "committed"])
    if is_commit.any():
        sub = events[is_commit]
        flag = {True: "true", False: "false"}
        # shas are hex: no escaping needed, so one f-string per commit (no json.dumps)
        out[is_commit] = [
            f'{{"via_pr": {flag[via]}, "pr": {pr}, "is_merge": {flag[merge]}, '
            f'"direct_push": {flag[push]}, "sha": "{target[7:]}"}}'
            for via, pr, merge, push, target in zip(
                sub["via_pr"].tolist(), sub["pr"].tolist(), sub["is_merge"].tolist(),
                sub["direct_push"].tolist(), sub["target"].tolist(), strict=True)]
    is_event = events["kind"].eq("issue_event")
    if is_event.any():
        sub = events[is_event]
        out[is_event] = (
            '{"event": ' + quoted(sub["subkind"]) + ', "label": ' + quoted(sub["label"])
            + ', "by_commit": ' + sub["by_commit"].map({True: "true", False: "false"}) + "}"
        )
    is_review = events["kind"].eq("review")
    if is_review.any():
        out[is_review] = '{"state": ' + quoted(events.loc[is_review, "subkind"]) + "}"
    is_issue = events["kind"].eq("issue_opened")
    if is_issue.any():
        out[is_issue] = '{"state_reason": ' + quoted(
            events.loc[is_issue, "subkind"].replace("", None)) + "}"
    return out


# --- what is in scope -------------------------------------------------------------------

def repos_in_scope(conn: sqlite3.Connection, config: Config | None) -> pd.DataFrame:
    """Repos whose history counts: forks left out (unless harvested on purpose), deleted kept."""
    include_forks = bool(config and config["harvest"].get("include_forks"))
    rows = conn.execute(
        "SELECT id AS repo_id, full_name AS repo, lower(owner) AS org, fork FROM repos"
    ).fetchall()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["repo_id", "repo", "org", "fork"])
    if not include_forks:
        frame = frame[frame["fork"].fillna(0).astype(int) == 0]
    return frame.drop(columns="fork").reset_index(drop=True)


def query_frame(conn: sqlite3.Connection, sql: str, columns: list[str]) -> pd.DataFrame:
    """Rows of a query as a DataFrame with the given column names."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: sqlite3.Row costs a conversion per row
    rows = cursor.execute(sql).fetchall()
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)


def people_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Accounts seen in any record: key (user id string), login, type, email."""
    people = query_frame(conn, "SELECT id, login, type, email FROM people",
                         ["id", "login", "type", "email"])
    people["key"] = people["id"].astype("Int64").astype(str)
    return people


# GitHub's stand-in for deleted accounts (``ghost``): the harvest stores its records with an
# unknown author; they are counted apart, never as a maker.
GHOST_ID = 10137
AUTHORED = (("issues", "user"), ("issue_comments", "user"), ("reviews", "user"),
            ("review_comments", "user"), ("issue_events", "actor"))


def deleted_account_records(conn: sqlite3.Connection) -> int:
    """Records whose author is a deleted account (``ghost``): no one's, counted apart."""
    total = 0
    for table, field in AUTHORED:
        column = "actor_id" if field == "actor" else "user_id"
        total += conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE {column} IS NULL "
            f"AND json_extract(raw, '$.{field}.id') = ?", (GHOST_ID,)).fetchone()[0]
    return total


def user_key(ids: pd.Series) -> pd.Series:
    """GitHub user ids as maker keys (strings); missing ids stay missing."""
    as_int = pd.to_numeric(ids, errors="coerce").astype("Int64")
    return as_int.astype(str).where(as_int.notna(), None).astype(object)


def with_repo(frame: pd.DataFrame, repos: pd.DataFrame) -> pd.DataFrame:
    """Attach repo full_name and org; drop rows of repos out of scope (forks)."""
    return frame.merge(repos, on="repo_id", how="inner")


# --- issues and PRs ---------------------------------------------------------------------

def items_frame(conn: sqlite3.Connection, repos: pd.DataFrame) -> pd.DataFrame:
    """Issues and PRs with their author key, target string and merge facts."""
    items = query_frame(
        conn,
        "SELECT repo_id, number, user_id, created_at, is_pr, merged_at, merged_by_id, "
        "merge_commit_sha, head_sha, state_reason FROM issues ORDER BY repo_id, number",
        ["repo_id", "number", "user_id", "created_at", "is_pr", "merged_at", "merged_by_id",
         "merge_commit_sha", "head_sha", "state_reason"],
    )
    items = with_repo(items, repos)
    items["is_pr"] = items["is_pr"].fillna(0).astype(bool)
    items["author"] = user_key(items["user_id"])
    items["target"] = items["is_pr"].map({True: "pr:", False: "issue:"}) + items["number"].astype(str)
    return items


def opened_rows(items: pd.DataFrame) -> pd.DataFrame:
    """issue_opened and pr_opened rows."""
    rows = pd.DataFrame({
        "ts": items["created_at"], "maker": items["author"], "org": items["org"],
        "repo": items["repo"], "target": items["target"], "target_author": items["author"],
        "kind": items["is_pr"].map({True: "pr_opened", False: "issue_opened"}),
        "subkind": items["state_reason"].fillna("").where(~items["is_pr"], ""),
        "action": True,
    })
    return rows


def merged_rows(items: pd.DataFrame, conn: sqlite3.Connection, repos: pd.DataFrame) -> pd.DataFrame:
    """pr_merged (the author's landed PR) and merge_performed (the merger's act) rows."""
    merged = items[items["is_pr"] & items["merged_at"].notna()].copy()
    if merged.empty:
        return merged.iloc[0:0]
    merge_events = query_frame(
        conn,
        "SELECT repo_id, issue_number, actor_id, created_at FROM issue_events "
        "WHERE event='merged' AND actor_id IS NOT NULL ORDER BY id",
        ["repo_id", "number", "actor_id", "event_at"],
    ).drop_duplicates(["repo_id", "number"], keep="last")
    merged = merged.merge(merge_events, on=["repo_id", "number"], how="left")
    merger = user_key(merged["merged_by_id"]).fillna(user_key(merged["actor_id"]))
    authored = pd.DataFrame({
        "ts": merged["merged_at"], "maker": merged["author"], "org": merged["org"],
        "repo": merged["repo"], "kind": "pr_merged", "target": merged["target"],
        "target_author": merged["author"], "action": True, "landed": True,
        "pr": merged["number"],
    })
    performed = pd.DataFrame({
        "ts": merged["merged_at"], "maker": merger, "org": merged["org"],
        "repo": merged["repo"], "kind": "merge_performed", "target": merged["target"],
        "target_author": merged["author"], "action": True, "pr": merged["number"],
    })
    return pd.concat([authored, performed[performed["maker"].notna()]], ignore_index=True)


def on_items(frame: pd.DataFrame, items: pd.DataFrame, number_column: str,
             is_pr: bool | None) -> pd.DataFrame:
    """Attach the target and its author to rows that refer to an issue or PR by number."""
    lookup = items[["repo_id", "number", "target", "author"]].rename(
        columns={"number": number_column, "author": "target_author"})
    joined = frame.merge(lookup, on=["repo_id", number_column], how="left")
    prefix = "issue:" if not is_pr else "pr:"
    fallback = prefix + joined[number_column].astype(str)
    joined["target"] = joined["target"].fillna(fallback)
    return joined


def comment_rows(conn: sqlite3.Connection, repos: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Issue comments (on issues and PRs)."""
    comments = query_frame(
        conn, "SELECT repo_id, issue_number, user_id, created_at FROM issue_comments ORDER BY id",
        ["repo_id", "issue_number", "user_id", "created_at"])
    comments = on_items(with_repo(comments, repos), items, "issue_number", None)
    return pd.DataFrame({
        "ts": comments["created_at"], "maker": user_key(comments["user_id"]),
        "org": comments["org"], "repo": comments["repo"], "kind": "comment",
        "target": comments["target"], "target_author": comments["target_author"],
        "action": True,
    })


def review_comment_rows(conn: sqlite3.Connection, repos: pd.DataFrame,
                        items: pd.DataFrame) -> pd.DataFrame:
    """PR review comments."""
    comments = query_frame(
        conn, "SELECT repo_id, pr_number, user_id, created_at FROM review_comments ORDER BY id",
        ["repo_id", "pr_number", "user_id", "created_at"])
    comments = on_items(with_repo(comments, repos), items, "pr_number", True)
    return pd.DataFrame({
        "ts": comments["created_at"], "maker": user_key(comments["user_id"]),
        "org": comments["org"], "repo": comments["repo"], "kind": "review_comment",
        "target": comments["target"], "target_author": comments["target_author"],
        "action": True,
    })


def review_rows(conn: sqlite3.Connection, repos: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Submitted reviews, their state in ``subkind``."""
    reviews = query_frame(
        conn,
        "SELECT repo_id, pr_number, user_id, state, submitted_at FROM reviews "
        "WHERE submitted_at IS NOT NULL ORDER BY id",
        ["repo_id", "pr_number", "user_id", "state", "submitted_at"])
    reviews = on_items(with_repo(reviews, repos), items, "pr_number", True)
    return pd.DataFrame({
        "ts": reviews["submitted_at"], "maker": user_key(reviews["user_id"]),
        "org": reviews["org"], "repo": reviews["repo"], "kind": "review",
        "target": reviews["target"], "target_author": reviews["target_author"],
        "subkind": reviews["state"].fillna("").str.upper(), "action": True,
    })


def issue_event_rows(conn: sqlite3.Connection, repos: pd.DataFrame,
                     items: pd.DataFrame) -> pd.DataFrame:
    """Issue events their actor performed (``merged`` is the merge_performed row)."""
    events = query_frame(
        conn,
        "SELECT repo_id, issue_number, actor_id, event, created_at, label, commit_id "
        "FROM issue_events WHERE actor_id IS NOT NULL AND event != 'merged' ORDER BY id",
        ["repo_id", "issue_number", "actor_id", "event", "created_at", "label", "commit_id"])
    events = events[~events["event"].isin(NOT_PERFORMED_EVENTS)]
    events = on_items(with_repo(events, repos), items, "issue_number", None)
    return pd.DataFrame({
        "ts": events["created_at"], "maker": user_key(events["actor_id"]),
        "org": events["org"], "repo": events["repo"], "kind": "issue_event",
        "target": events["target"], "target_author": events["target_author"],
        "subkind": events["event"], "label": events["label"],
        "by_commit": events["commit_id"].notna() & events["commit_id"].ne(""),
        "action": True,
    })


def release_rows(conn: sqlite3.Connection, repos: pd.DataFrame) -> pd.DataFrame:
    """Published releases (drafts have no published_at and are nobody's act yet), and
    annotated git tags (``subkind`` ``tag``), whose tagger identity resolution resolved."""
    releases = query_frame(
        conn,
        "SELECT repo_id, id, author_id, published_at, source, tagger_name, tagger_email "
        "FROM releases WHERE published_at IS NOT NULL AND COALESCE(draft, 0) = 0 ORDER BY id",
        ["repo_id", "id", "author_id", "published_at", "source", "tagger_name", "tagger_email"])
    releases = with_repo(releases, repos)
    is_tag = releases["source"].eq("git") & releases["tagger_email"].notna()
    maker = user_key(releases["author_id"])
    if is_tag.any():
        maker = maker.where(~is_tag, tagger_keys(conn, releases.loc[is_tag]))
    return pd.DataFrame({
        "ts": releases["published_at"], "maker": maker,
        "org": releases["org"], "repo": releases["repo"], "kind": "release",
        "target": "release:" + releases["id"].astype(str), "target_author": None,
        "subkind": is_tag.map({True: "tag", False: ""}), "action": True,
    })


def tagger_keys(conn: sqlite3.Connection, tags: pd.DataFrame) -> pd.Series:
    """The maker key of each tag's tagger: identity resolution's, by the tagger's exact
    'Name <email>' (``git:<email>`` before identities are resolved; null when opted out)."""
    text = tags["tagger_name"].fillna("") + " <" + tags["tagger_email"] + ">"
    if not table_exists(conn, "maker_identities"):
        return git_key(tags["tagger_email"])
    known = dict(conn.execute("SELECT identity, maker_key FROM maker_identities WHERE kind = 'git'"))
    return text.map(known).astype(object)


def pull_ref_rows(conn: sqlite3.Connection, repos: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """pr_opened for every ``refs/pull/N/head`` whose PR the store does not hold (git
    sources): its author (the head commit's) opened it, dated at the head commit's committer
    date, an approximation (the PR was opened after it; git records no opening). Unmerged
    ones too: their authors are participants like everyone else."""
    if not table_exists(conn, "pull_refs"):
        return pd.DataFrame()
    has_key = table_exists(conn, "pull_ref_makers")
    committer_date = ("p.committer_date" if "committer_date" in table_columns(conn, "pull_refs")
                      else "NULL")
    refs = query_frame(
        conn,
        "SELECT p.repo_id, p.number, p.sha, p.author_email, "
        f"COALESCE(c.committer_date, {committer_date}, p.author_date), "
        + ("m.author_key, m.repo_id IS NULL " if has_key else "NULL, 1 ")
        + "FROM pull_refs p LEFT JOIN commits c ON c.repo_id = p.repo_id AND c.sha = p.sha "
        + ("LEFT JOIN pull_ref_makers m ON m.repo_id = p.repo_id AND m.number = p.number "
           if has_key else "")
        # a ref with no head commit opened nothing git can date
        + "WHERE p.sha IS NOT NULL ORDER BY p.repo_id, p.number",
        ["repo_id", "number", "sha", "author_email", "opened_at", "author_key", "unresolved"])
    refs = with_repo(refs, repos)
    # one head commit, one PR opening: the same history under two names, or a fork, holds
    # the same pull refs (counted in the first repo by full name)
    refs = refs.sort_values(["sha", "repo"], kind="stable").drop_duplicates("sha")
    held = set(zip(items["repo_id"], items["number"], strict=True))
    refs = refs[pd.Series([(r, n) not in held for r, n in zip(refs["repo_id"], refs["number"], strict=True)],
                          index=refs.index, dtype=bool)]
    # the shared order within this part: repository, then number (docs/events.md)
    refs = refs.sort_values(["repo_id", "number"], kind="stable")
    # identity's null key means "opted out": only refs it has not seen yet fall back.
    unresolved = refs["unresolved"].astype(bool)
    maker = refs["author_key"].astype(object).where(~unresolved, git_key(refs["author_email"]))
    target = "pr:" + refs["number"].astype(str)
    return pd.DataFrame({
        "ts": refs["opened_at"], "maker": maker, "org": refs["org"], "repo": refs["repo"],
        "kind": "pr_opened", "target": target, "target_author": maker, "action": True,
        "pr": refs["number"], "subkind": "pull_ref",
    })


def table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """The column names of a table (a store opened read-only may predate a migration)."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


# --- commits ----------------------------------------------------------------------------

def commits_frame(conn: sqlite3.Connection, repos: pd.DataFrame) -> pd.DataFrame:
    """Default-branch commits with their author and committer maker keys."""
    if table_exists(conn, "commit_makers"):
        keys = "cm.author_key, cm.committer_key, cm.repo_id IS NULL"
        join = "LEFT JOIN commit_makers cm ON cm.repo_id = c.repo_id AND cm.sha = c.sha"
    else:
        keys, join = "NULL, NULL, 1", ""
    commits = query_frame(
        conn,
        # a commit GH Archive saw pushed shows no dates: it reached the branch when pushed
        "SELECT c.repo_id, c.sha, c.author_email, c.committer_email, "
        f"{'COALESCE(c.committer_date, c.pushed_at)' if has_column(conn, 'commits', 'pushed_at') else 'c.committer_date'}, "
        "c.author_id, c.committer_id, c.parents, "
        # the subject is all the rules read of a message
        "substr(c.message, 1, instr(c.message || char(10), char(10)) - 1), c.files, "
        f"{keys} FROM commits c {join} ORDER BY c.repo_id, c.sha",
        ["repo_id", "sha", "author_email", "committer_email", "committer_date", "author_id",
         "committer_id", "parents", "message", "files", "author_key", "committer_key",
         "unresolved"])
    commits = with_repo(commits, repos)
    # identity's null key means "opted out": only commits it has not seen yet fall back.
    unresolved = commits["unresolved"].astype(bool)
    fallback_author = user_key(commits["author_id"]).fillna(git_key(commits["author_email"]))
    fallback_committer = user_key(commits["committer_id"]).fillna(git_key(commits["committer_email"]))
    commits["author_key"] = commits["author_key"].astype(object).where(~unresolved, fallback_author)
    commits["committer_key"] = commits["committer_key"].astype(object).where(
        ~unresolved, fallback_committer)
    by_github = commits["committer_email"].fillna("").str.lower().eq(GITHUB_COMMITTER_EMAIL)
    commits.loc[by_github, "committer_key"] = None
    return commits


def has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    """Whether the store's ``table`` has ``column`` (an older store may not)."""
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


def git_key(emails: pd.Series) -> pd.Series:
    """``git:<email lower-cased>`` keys for commit identities without an account."""
    lowered = emails.astype(object).where(emails.notna() & emails.ne(""), None)
    return ("git:" + lowered.str.strip().str.lower()).astype(object)


def parent_lists(commits: pd.DataFrame) -> list[list[str]]:
    """Each commit's parents as a list (the store keeps them as JSON)."""
    return [json.loads(text) if text else [] for text in commits["parents"].tolist()]


def commit_rows(conn: sqlite3.Connection, repos: pd.DataFrame, items: pd.DataFrame,
                config: Config | None = None,
                not_people: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """Every default-branch commit, dated at its earliest landing event, with how it landed,
    and the landing acts of whoever put work there (see the module docstring); a commit
    stored under several repos counts once."""
    commits = commits_frame(conn, repos)
    if commits.empty:
        return commits.iloc[0:0]
    parents = parent_lists(commits)
    commits["n_parents"] = [len(p) for p in parents]
    commits = with_landing(commits, parents, repo_facts(conn), long_lived_branches(config))
    pull_refs = query_frame(conn, "SELECT repo_id, number, sha FROM pull_refs ORDER BY repo_id, number",
                            ["repo_id", "number", "sha"])
    commits["pr"] = pr_numbers(commits, items, pull_refs)
    commits = commits[first_copies(commits)]
    introduced = commits["merged_by_sha"].notna()
    # Off the mainline and brought in by nothing (a broken history): landed, never a direct push.
    commits["via_pr"] = commits["pr"].gt(0) | introduced
    commits["is_merge"] = commits["n_parents"].ge(2)
    commits["direct_push"] = (
        commits["pushed"] & ~commits["is_merge"] & ~commits["via_pr"]
        & commits["committer_key"].notna()
    )
    commits["landed"] = landed_commits(commits, held_prs(items))
    commits["community"] = community_created(commits)
    authored = pd.DataFrame({
        "ts": commits["reached_at"], "maker": commits["author_key"],
        "org": commits["org"], "repo": commits["repo"], "kind": "commit",
        "target": "commit:" + commits["sha"], "target_author": commits["author_key"],
        "via_pr": commits["via_pr"], "pr": commits["pr"], "is_merge": commits["is_merge"],
        "direct_push": commits["direct_push"], "committer": commits["committer_key"],
        "community": commits["community"], "landed": commits["landed"],
        "action": commits["landed"], "landed_by": commits["landed_by"],
        "imported": commits["imported"], "merge_kind": commits["merge_kind"],
        "subkind": "",
    })
    return pd.concat([authored, committed_rows(commits, not_people)], ignore_index=True)


def long_lived_branches(config: Config | None) -> tuple[str, ...]:
    """``[git] long_lived_branches``: merges into them (and into a repo's default branch)
    are landing events."""
    if config is None:
        return LONG_LIVED_BRANCHES
    return tuple(config["git"].get("long_lived_branches", LONG_LIVED_BRANCHES))


def repo_facts(conn: sqlite3.Connection) -> dict[Any, tuple[str | None, bool, str]]:
    """repo_id -> (default branch, is a fork, full name)."""
    rows = conn.execute("SELECT id, default_branch, fork, full_name FROM repos").fetchall()
    return {row[0]: (row[1], bool(row[2]), row[3]) for row in rows}


def with_landing(commits: pd.DataFrame, parents: list[list[str]], facts: dict,
                 long_lived: tuple[str, ...]) -> pd.DataFrame:
    """The commits with when and how each landed (``graphminer.landing``, once per repo):
    ``mainline``, ``pushed`` (on the mainline, or the puller's own side of a foxtrot
    merge), ``imported``, ``reached_at``, ``merged_by_sha`` (the merge whose event dated
    it), ``landed_by`` (``commit:SHA`` of it), ``merge_kind`` and ``fork``."""
    shas = commits["sha"].tolist()
    dates = commits["committer_date"].fillna("").tolist()
    subjects = commits["message"].fillna("").tolist()
    committers = commits["committer_email"].fillna("").str.strip().str.lower().tolist()
    count = len(shas)
    mainline, pushed, imported = [False] * count, [False] * count, [False] * count
    reached = list(dates)
    merged_by: list[str | None] = [None] * count
    kinds: list[str] = [""] * count
    by_repo: dict[Any, list[int]] = {}
    for position, repo_id in enumerate(commits["repo_id"].tolist()):
        by_repo.setdefault(repo_id, []).append(position)
    for repo_id, positions in by_repo.items():
        history = History(shas=[shas[p] for p in positions], parents=[parents[p] for p in positions],
                          dates=[dates[p] for p in positions],
                          subjects=[subjects[p] for p in positions],
                          committers=[committers[p] for p in positions])
        default_branch, _, full_name = facts.get(repo_id, (None, False, None))
        found = land(history, default_branch, long_lived, full_name)
        for index, position in enumerate(positions):
            mainline[position] = found.mainline[index]
            pushed[position] = found.mainline[index] or found.pushed_through_foxtrot[index]
            imported[position] = found.imported[index]
            reached[position] = found.landed_at[index]
            brought = found.brought_by[index]
            merged_by[position] = history.shas[brought] if brought is not None else None
            kinds[position] = found.kinds[index] or ""
    commits["mainline"], commits["pushed"], commits["imported"] = mainline, pushed, imported
    commits["reached_at"] = pd.Series(reached, index=commits.index, dtype=object).replace("", None)
    commits["merged_by_sha"] = pd.Series(merged_by, index=commits.index, dtype=object)
    commits["landed_by"] = ("commit:" + commits["merged_by_sha"]).astype(object)
    commits["merge_kind"] = kinds
    commits["fork"] = [facts.get(repo_id, (None, False, None))[1] for repo_id in commits["repo_id"].tolist()]
    return commits


def first_copies(commits: pd.DataFrame) -> pd.Series:
    """One commit, one contribution: of a sha stored under several repos (a fork, a mirror,
    one history harvested under two names) only the copy that landed first counts (ties:
    a non-fork first, then the repo's full name)."""
    repeated = commits["sha"].duplicated(keep=False)
    keep = pd.Series(True, index=commits.index)
    if not repeated.any():
        return keep
    copies = commits.loc[repeated, ["sha", "reached_at", "fork", "repo"]].assign(
        reached_at=commits.loc[repeated, "reached_at"].fillna("9999"))
    later = copies.sort_values(["sha", "reached_at", "fork", "repo"]).duplicated("sha")
    keep[later[later].index] = False
    return keep


def held_prs(items: pd.DataFrame) -> set[tuple[Any, int]]:
    """(repo_id, number) of every merged PR the store holds (structural: whatever as_of)."""
    merged = items[items["is_pr"] & items["merged_at"].notna()]
    return set(zip(merged["repo_id"], merged["number"].astype("int64"), strict=True))


def landed_commits(commits: pd.DataFrame, held: set[tuple[Any, int]]) -> pd.Series:
    """Which commit rows are landed contributions (docs/rules.md "Landed code").

    A non-merge commit lands when it did not come in through a PR, or came in through a
    merge or PR whose merged PR the store does not hold (git-only history): a squash
    commit is its author's, and a merge brings one landed contribution per distinct author
    of the non-merge commits it brought in (the row of each author's lowest sha). Merge
    commits land nobody's work.
    """
    pr_held = pd.Series([(repo_id, number) in held for repo_id, number in zip(
        commits["repo_id"], commits["pr"], strict=True)], index=commits.index)
    landed = ~commits["is_merge"] & (~commits["via_pr"] | ~pr_held)
    brought = commits[landed & commits["merged_by_sha"].notna()]
    repeated = brought.sort_values("sha").duplicated(["repo_id", "merged_by_sha", "author_key"])
    return landed & ~commits.index.isin(repeated[repeated].index)


def committed_rows(commits: pd.DataFrame, not_people: set[str] | frozenset[str] = frozenset()
                   ) -> pd.DataFrame:
    """The landing acts of whoever put work on the branch (``landing_acts``), as rows of
    kind ``committed``."""
    pushed = landing_acts(commits, not_people)
    return pd.DataFrame({
        "ts": pushed["reached_at"], "maker": pushed["who"],
        "org": pushed["org"], "repo": pushed["repo"], "kind": "committed",
        "target": "commit:" + pushed["sha"], "target_author": pushed["whose"],
        "via_pr": pushed["via_pr"], "pr": pushed["pr"], "is_merge": pushed["is_merge"],
        "direct_push": pushed["direct_push"], "committer": pushed["who"],
        "own_work": pushed["own_work"], "merge_kind": pushed["merge_kind"],
        "action": True, "subkind": pushed["how"],
    })


def landing_acts(commits: pd.DataFrame, not_people: set[str] | frozenset[str] = frozenset()
                 ) -> pd.DataFrame:
    """Who put work on the default branch, and whose work it was (docs/rules.md "Roles").

    It reads the commits' landing as ``graphminer.landing`` found it (``with_landing``),
    never the graph again. One row per act: a direct push (``how`` 'direct_push': a pushed
    commit, on the mainline or the puller's own side of a foxtrot merge), a PR's squashed or
    rebased commit committed by a person rather than GitHub's web flow and pushed
    ('pr_commit'), or a merge commit on the mainline or a landing merge off it (a PR merge,
    a merge into a long-lived branch), not in imported history ('merge'). ``who`` committed
    it (for a merge committed by the web flow, its author, who pressed merge). The work it
    landed: a push's or squash's own commit; for a merge, the non-merge commits whose
    earliest landing event it is (``merged_by_sha``: a commit already landed is not landed
    again; a foxtrot merge lands nobody else's). ``own_work`` says some of that work is
    ``who``'s; ``whose`` is the author of a commit of it that is someone else's (a person,
    not in ``not_people``; the first the store lists), else ``who`` when it is their own
    only, else null.
    """
    by_github = commits["committer_email"].fillna("").str.lower().eq(GITHUB_COMMITTER_EMAIL)
    merger = commits["author_key"].where(by_github, commits["committer_key"])
    who = merger.where(commits["is_merge"], commits["committer_key"])
    # the non-merge commits each landing merge brought in (keyed by repo and merge sha)
    side = commits.loc[~commits["is_merge"] & commits["merged_by_sha"].notna(),
                       ["repo_id", "merged_by_sha", "sha", "author_key"]]
    landing_merge = commits["merge_kind"].isin([landing.PR, landing.INTO_LONG_LIVED])
    branch_merge = commits["is_merge"] & ~commits["imported"] & (commits["mainline"] | landing_merge)
    squash = (commits["pushed"] & ~commits["is_merge"] & commits["via_pr"]
              & commits["merged_by_sha"].isna())
    how = np.select([commits["direct_push"], squash, branch_merge],
                    ["direct_push", "pr_commit", "merge"], default="")
    chosen = who.notna().to_numpy() & (how != "")
    acts = commits.loc[chosen, ["repo_id", "sha", "author_key", "reached_at", "org", "repo", "via_pr",
                                "pr", "is_merge", "direct_push", "merge_kind"]]
    acts = acts.assign(who=who[chosen], how=how[chosen])
    merging = acts["how"].eq("merge")
    upstream = merging & acts["merge_kind"].eq(landing.FOXTROT)
    # a push's or squash's own commit
    single = ~merging
    own = single & acts["author_key"].eq(acts["who"])
    other = acts["author_key"].where(single & acts["author_key"].notna() & acts["author_key"].ne(acts["who"])
                                     & ~acts["author_key"].isin(not_people))
    # a merge's brought-in commits, with the merge's doer beside each
    merge_key = merge_keys(acts.loc[merging, "repo_id"], acts.loc[merging, "sha"])
    doer = pd.Series(acts.loc[merging, "who"].to_numpy(), index=merge_key)
    side_key = merge_keys(side["repo_id"], side["merged_by_sha"])
    side = side.assign(key=side_key, doer=side_key.map(doer))
    own_merges = set(side.loc[side["author_key"].eq(side["doer"]), "key"])
    others = side[side["author_key"].notna() & side["author_key"].ne(side["doer"]) & side["doer"].notna()
                  & ~side["author_key"].isin(not_people)].drop_duplicates("key")
    merge_other = pd.Series(merge_key.map(others.set_index("key")["author_key"]).to_numpy(),
                            index=acts.index[merging.to_numpy()])
    own = own | pd.Series(merge_key.isin(own_merges), index=acts.index[merging.to_numpy()]).reindex(
        acts.index, fill_value=False)
    other = other.where(single, merge_other.reindex(acts.index)).where(~upstream)
    whose = other.where(other.notna(), acts["who"].where(own))
    return acts.assign(own_work=own.astype(bool), whose=whose.astype(object))


def merge_keys(repo_ids: pd.Series, shas: pd.Series) -> pd.Index:
    """One string per (repo, merge sha): the same sha may be held under two repos."""
    return pd.Index(shas.astype(str) + "@" + repo_ids.astype(str))


def pr_numbers(commits: pd.DataFrame, items: pd.DataFrame, pull_refs: pd.DataFrame) -> pd.Series:
    """Each commit's PR number (0 when it did not come in through a known PR).

    In order: the squash or merge result of a merged PR (its ``merge_commit_sha``; GitHub
    also sets one on unmerged PRs, for a test merge that never reaches the branch), a
    ``(#N)`` or ``Merge pull request #N`` subject (the commit says which PR it landed), the
    head of ``refs/pull/N/head`` (git sources; a later PR can be opened from a branch
    whose tip already landed), and for commits a merge brought in, that merge's number.
    An imported history's subjects name another repository's PRs: they are not read.
    """
    merged = items[items["is_pr"] & items["merged_at"].notna() & items["merge_commit_sha"].notna()]
    by_merge_sha = dict(zip(zip(merged["repo_id"], merged["merge_commit_sha"], strict=True),
                            merged["number"], strict=True))
    by_head = dict(zip(zip(pull_refs["repo_id"], pull_refs["sha"], strict=True),
                       pull_refs["number"], strict=True))
    keys = list(zip(commits["repo_id"], commits["sha"], strict=True))
    numbers = [int(by_merge_sha.get(key) or 0) for key in keys]
    subjects = commits["message"].fillna("")
    named = subjects[subjects.str.contains("#", regex=False) & ~commits["imported"]]
    found = named.str.extract(PR_SUBJECT)
    from_subject = found[0].fillna(found[1]).dropna()
    position_of = {index: position for position, index in enumerate(commits.index)}
    for index, text in from_subject.items():
        position = position_of[index]
        if not numbers[position]:
            numbers[position] = int(text)
    for position, key in enumerate(keys):
        if not numbers[position]:
            numbers[position] = int(by_head.get(key) or 0)
    number_of = dict(zip(keys, numbers, strict=True))
    merged_by = commits["merged_by_sha"].tolist()
    for position, key in enumerate(keys):
        if not numbers[position] and merged_by[position] is not None:
            numbers[position] = number_of.get((key[0], merged_by[position]), 0)
    return pd.Series(numbers, index=commits.index, dtype="int64")


def community_created(commits: pd.DataFrame) -> pd.Series:
    """Whether each commit created a community file (rules version 5): it is the first
    commit of its repository whose file list (git sources only) holds that community
    path, by the time it landed (``reached_at``), then its committer date, then sha.
    File lists carry paths, not git's A/M status, so the first to touch a path within the
    harvested history is its creation; a path deleted and made again is not created again,
    and a file renamed (git's ``--no-renames``: the old path deleted, the new one added)
    is created under its new path. Every copy that counts is read, bots' and opted-out
    people's too, so that a file they created is nobody's creation, not the next editor's."""
    created = pd.Series(False, index=commits.index)
    rows, paths = [], []
    for row, text in commits["files"].items():
        if isinstance(text, str) and text:
            for path in json.loads(text):
                if COMMUNITY_FILE.search(path):
                    rows.append(row)
                    paths.append(path)
    if not rows:
        return created
    touched = pd.DataFrame({
        "row": rows, "path": paths,
        "repo_id": commits.loc[rows, "repo_id"].to_numpy(),
        "reached_at": commits.loc[rows, "reached_at"].replace("", None).fillna("9999").to_numpy(),
        "committed_at": commits.loc[rows, "committer_date"].replace("", None).fillna("9999").to_numpy(),
        "sha": commits.loc[rows, "sha"].to_numpy()})
    first = touched.sort_values(["reached_at", "committed_at", "sha"], kind="stable").drop_duplicates(
        ["repo_id", "path"])
    created.loc[first["row"].unique()] = True
    return created


# --- people -----------------------------------------------------------------------------

def opted_out_makers(conn: sqlite3.Connection, config: Config | None,
                     people: pd.DataFrame) -> set[str]:
    """Maker keys of everyone in the config's opt-out list (by login or email)."""
    if config is None:
        return set()
    opt_out = config.opt_out
    if not opt_out:
        return set()
    keys = set(people.loc[people["login"].str.lower().isin(opt_out), "key"])
    keys |= set(people.loc[people["email"].fillna("").str.lower().isin(opt_out), "key"])
    keys |= {f"git:{item}" for item in opt_out if "@" in item}
    if table_exists(conn, "maker_identities"):
        rows = conn.execute("SELECT identity, maker_key FROM maker_identities").fetchall()
        keys |= {row[1] for row in rows if str(row[0]).strip().lower() in opt_out}
    return keys


def bot_makers(conn: sqlite3.Connection, people: pd.DataFrame) -> set[str]:
    """Maker keys that are bots: identity's answer plus account type and ``[bot]`` logins
    (identity's table may be empty until its first refresh)."""
    found = set()
    if table_exists(conn, "makers"):
        found = {str(row[0]) for row in conn.execute("SELECT key FROM makers WHERE is_bot")}
    is_bot = people["type"].eq("Bot") | people["login"].str.lower().str.endswith("[bot]")
    return found | set(people.loc[is_bot, "key"])


def role_account_makers(conn: sqlite3.Connection, config: Config | None) -> set[str]:
    """Maker keys that are role accounts (graphminer.bots), bots left out (they are bots).

    Only makers that could be one are read whole: an identity holding a role word or
    "account", or an email user name used on three machines or more (the rest, nearly
    everyone, cannot be a role's whatever the rule's details)."""
    if not table_exists(conn, "maker_identities"):
        return set()
    words = config["people"]["role_accounts"] if config is not None else None
    hints = sorted(role_words(words)) + ["account"]
    if not all(hint.isascii() for hint in hints):  # SQLite folds the case of ASCII only
        hints = [""]
    like = " OR ".join("lower(identity) LIKE ?" for _ in hints)
    shared = (
        "SELECT substr(email, 1, instr(email, '@') - 1) FROM maker_identities "
        "WHERE kind = 'git' AND instr(email, '@') > 1 GROUP BY 1 "
        "HAVING COUNT(DISTINCT substr(email, instr(email, '@') + 1)) >= 3")
    rows = conn.execute(
        "SELECT i.maker_key, i.kind, i.identity FROM maker_identities i "
        "JOIN makers m ON m.key = i.maker_key WHERE NOT m.is_bot AND i.maker_key IN ("
        f"SELECT maker_key FROM maker_identities WHERE {like} "
        f"UNION SELECT maker_key FROM maker_identities WHERE kind = 'git' "
        f"AND substr(email, 1, instr(email, '@') - 1) IN ({shared}))",
        [f"%{hint}%" for hint in hints]).fetchall()
    return set(role_accounts(((row[0], row[1], row[2]) for row in rows), words))
