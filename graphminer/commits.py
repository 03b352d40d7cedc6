"""Commit roles: which PR each default-branch commit came through, and direct pushes.

Owns the reading of TRAJECTORIES.md "Landed code and direct pushes" from stored commits
(either source) and ``pull_refs``. A commit **came in through a PR** (``via_pr``) when it
is a PR's merge (``Merge pull request #N from OWNER/branch``; OWNER is the head
repository's owner, not the PR's author, so the subject never names a maker), a squash or
rebase result (subject ending ``(#N)``), the head of ``refs/pull/N/head``, or reachable
from a merge commit's second parent but not from its first parent (whatever that merge's
subject says, as the rules read). A **direct push** is on the default branch's
first-parent chain, not a merge, not via a PR, and not committed by
``GitHub <noreply@github.com>``. The head is the stored commit no other stored commit
has as parent, latest by committer date.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

MERGE_PR = re.compile(r"^Merge pull request #(\d+) from \S+")
SQUASH_PR = re.compile(r"\(#(\d+)\)\s*$")
GITHUB_COMMITTER = "noreply@github.com"
COLUMNS = ["repo_id", "sha", "pr_number", "via_pr", "is_merge", "direct_push", "first_parent"]


def commit_roles(conn: sqlite3.Connection, repo_id: int | None = None):
    """DataFrame(repo_id, sha, pr_number, via_pr, is_merge, direct_push, first_parent).

    One row per stored commit (of ``repo_id``, or of every repo); ``pr_number`` is a
    nullable Int64 (the PR it came through, when one is known).
    """
    import pandas as pd

    repo_ids = [repo_id] if repo_id is not None else [
        row[0] for row in conn.execute("SELECT DISTINCT repo_id FROM commits ORDER BY repo_id")]
    rows: list[tuple] = []
    for one in repo_ids:
        rows += repo_commit_roles(conn, one)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["pr_number"] = frame["pr_number"].astype("Int64")
    for column in ("via_pr", "is_merge", "direct_push", "first_parent"):
        frame[column] = frame[column].astype(bool)
    frame["repo_id"] = frame["repo_id"].astype("int64")
    frame["sha"] = frame["sha"].astype(str)
    return frame


def repo_commit_roles(conn: sqlite3.Connection, repo_id: int) -> list[tuple]:
    """The rows of ``commit_roles`` for one repository, as tuples in COLUMNS order."""
    commits = _load(conn, repo_id)
    if not commits:
        return []
    pull_heads = {sha: number for number, sha in conn.execute(
        "SELECT number, sha FROM pull_refs WHERE repo_id = ? AND sha IS NOT NULL", (repo_id,))}
    chain = first_parent_chain(commits, head_of(commits))
    introduced_by = merge_introductions(commits, chain)
    pr_of_merge = {sha: _own_pr(sha, commits[sha], pull_heads) for sha in chain
                   if len(commits[sha]["parents"]) > 1}
    on_chain = set(chain)
    rows = []
    for sha, commit in commits.items():
        is_merge = len(commit["parents"]) > 1
        pr_number = _own_pr(sha, commit, pull_heads)
        merge = introduced_by.get(sha)
        if pr_number is None and merge is not None:
            pr_number = pr_of_merge.get(merge)
        via_pr = pr_number is not None or merge is not None
        first_parent = sha in on_chain
        direct_push = (
            first_parent and not is_merge and not via_pr
            and (commit["committer_email"] or "").lower() != GITHUB_COMMITTER
        )
        rows.append((repo_id, sha, pr_number, via_pr, is_merge, direct_push, first_parent))
    return rows


def _load(conn: sqlite3.Connection, repo_id: int) -> dict[str, dict[str, Any]]:
    commits = {}
    for sha, parents, message, committer_email, committer_date in conn.execute(
        "SELECT sha, parents, message, committer_email, committer_date FROM commits WHERE repo_id = ?",
        (repo_id,),
    ):
        commits[sha] = {
            "parents": json.loads(parents) if parents else [],
            "subject": (message or "").split("\n", 1)[0].strip(),
            "committer_email": committer_email,
            "committer_date": committer_date or "",
        }
    return commits


def head_of(commits: dict[str, dict[str, Any]]) -> str:
    """The default branch's tip: no stored commit has it as parent; latest if several."""
    parents = {parent for commit in commits.values() for parent in commit["parents"]}
    tips = [sha for sha in commits if sha not in parents] or list(commits)
    return max(tips, key=lambda sha: (commits[sha]["committer_date"], sha))


def first_parent_chain(commits: dict[str, dict[str, Any]], head: str) -> list[str]:
    """The first-parent chain from the root (oldest) to ``head``, within stored commits."""
    chain = []
    seen = set()
    sha: str | None = head
    while sha is not None and sha in commits and sha not in seen:
        chain.append(sha)
        seen.add(sha)
        parents = commits[sha]["parents"]
        sha = parents[0] if parents else None
    chain.reverse()
    return chain


def merge_introductions(commits: dict[str, dict[str, Any]], chain: list[str]) -> dict[str, str]:
    """sha -> the first-parent merge that brought it in (reachable from its second parent
    or later, not from its first)."""
    seen: set[str] = set()
    introduced: dict[str, str] = {}
    for merge in chain:
        # 'seen' is every ancestor of the previous chain commit, i.e. of this one's first parent
        stack = list(commits[merge]["parents"][1:])
        while stack:
            sha = stack.pop()
            if sha in seen or sha not in commits:
                continue
            seen.add(sha)
            introduced[sha] = merge
            stack.extend(commits[sha]["parents"])
        seen.add(merge)
    return introduced


def _own_pr(sha: str, commit: dict[str, Any], pull_heads: dict[str, int]) -> int | None:
    """The PR a commit names by itself: merge subject, '(#N)' subject, or a PR head ref."""
    subject = commit["subject"]
    parents = commit["parents"]
    if len(parents) > 1:
        match = MERGE_PR.match(subject)
        if match:
            return int(match.group(1))
    match = SQUASH_PR.search(subject)
    if match:
        return int(match.group(1))
    if sha in pull_heads:
        return pull_heads[sha]
    if len(parents) > 1 and parents[1] in pull_heads:
        return pull_heads[parents[1]]
    return None
