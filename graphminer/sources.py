"""What a store's sources can show: docs/rules.md "What a source cannot see is not zero".

This module owns one question: for the repositories of a scope (the network, or one
organisation), which milestones can their sources not show at all. Per repository the
store knows its sources from its own records: ``api`` when the GitHub harvester wrote the
repository's row, ``git`` when ``harvest-git`` read its history (the row came from git, or
a git head is recorded for it), ``archive`` when ``harvest-archive`` read it from GH Archive
(the row came from the archive, or the API harvest found it there first: source 'both'),
and whether pull refs (``refs/pull/N/head``) were read. GH Archive shows issues, pull
requests, comments, reviews and the accounts that made them, so an archive source hides
none of the milestones git history hides.

From git history alone nobody's issues, comments, reviews or triage are recorded, so
``first_issue``, ``first_comment``, ``triager``, ``reviewer`` and ``coder_to_organiser``
(whose organising actions are exactly those) cannot be reached, nor the milestones beyond
the harvested organisations (following reads accounts through the API), and ``first_pr``
unless pull refs were read (then it is dated at the PR's head commit, an approximation). A
milestone is not observable in a scope when no repository of the scope has a source that
shows it; outputs then say so instead of counting 0: JSON keeps the milestone's value
(``null``) and adds ``"observable": {KEY: false}``, the stats funnel gives ``null`` and
leaves it out of conversion rates, text says :data:`NOT_OBSERVABLE`.

It imports no pandas, so the fast path of ``graphminer trajectory`` can use it.

>>> git_only = [RepoSources("a/x", "a", api=False, git=True, pull_refs=False)]
>>> hidden_milestones(git_only)[:6]
('first_issue', 'first_comment', 'first_pr', 'triager', 'reviewer', 'coder_to_organiser')
>>> "first_pr" in hidden_milestones([git_only[0]._replace(pull_refs=True)])
False
>>> hidden_milestones([git_only[0]._replace(api=True)])
()
>>> hidden_milestones([git_only[0]._replace(git=False, archive=True)])
()
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from itertools import groupby
from typing import Any, NamedTuple

from graphminer.milestones import CAREER_KEYS, KEYS

# Never recorded in git history (docs/rules.md "What a source cannot see is not zero"); the
# milestones beyond the harvested orgs need following, which reads accounts through the API.
NOT_FROM_GIT: tuple[str, ...] = ("first_issue", "first_comment", "triager", "reviewer",
                                 "coder_to_organiser", *CAREER_KEYS)
# Recorded in git only through pull refs (refs/pull/N/head), dated at the head commit.
FROM_PULL_REFS: tuple[str, ...] = ("first_pr",)
NOT_OBSERVABLE = "not observable from git history"
PULL_REF_DATING = ("first_pr is dated at the pull request's head commit (read from its pull "
                   "ref): an approximation, the pull request was opened later")
GIT_HIDES = ("issues, comments, reviews and triage are not in git history, so first_issue, "
             "first_comment, triager, reviewer and coder_to_organiser are not observable (nor "
             "where people went beyond the organisations: following needs their accounts), and "
             "organiser is seen only through community files created and founded projects")


class RepoSources(NamedTuple):
    """One stored repository's sources."""

    repo: str  # full name
    org: str  # owner, lower-cased
    api: bool
    git: bool
    pull_refs: bool
    archive: bool = False


def repo_sources(conn: sqlite3.Connection) -> list[RepoSources]:
    """Every stored repository with its sources, by full name."""
    rows = conn.execute(
        "SELECT r.full_name, lower(r.owner), r.source IN ('github', 'both'), "
        "r.source = 'git' OR EXISTS (SELECT 1 FROM _watermarks w WHERE w.scope = 'repo:' || r.id "
        "AND w.endpoint = 'git:head'), "
        "EXISTS (SELECT 1 FROM pull_refs p WHERE p.repo_id = r.id), r.source IN ('archive', 'both') "
        "FROM repos r ORDER BY lower(r.owner), r.full_name").fetchall()
    return [RepoSources(row[0], row[1] or "", bool(row[2]), bool(row[3]), bool(row[4]), bool(row[5]))
            for row in rows]


def in_scope(sources: Iterable[RepoSources], org: str | None = None) -> list[RepoSources]:
    """The repositories of the network, or of ``org``."""
    wanted = org.strip().lower() if org is not None else None
    return [row for row in sources if wanted is None or row.org == wanted]


def hidden_milestones(sources: Iterable[RepoSources], org: str | None = None) -> tuple[str, ...]:
    """The milestones no repository of the scope has a source to show (catalogue order)."""
    scope = in_scope(sources, org)
    if not scope or any(row.api or row.archive for row in scope):
        return ()
    hidden = set(NOT_FROM_GIT)
    if not any(row.pull_refs for row in scope):
        hidden |= set(FROM_PULL_REFS)
    return tuple(key for key in KEYS if key in hidden)


def approximate(sources: Iterable[RepoSources], org: str | None = None) -> dict[str, str]:
    """Milestones dated by an approximation in the scope, with what it is: first_pr when a
    repository known only from git had its pull refs read."""
    if any(row.pull_refs and not row.api and not row.archive for row in in_scope(sources, org)):
        return {"first_pr": PULL_REF_DATING}
    return {}


def observable(hidden: Iterable[str]) -> dict[str, bool]:
    """The ``"observable"`` sibling of a JSON answer: ``{KEY: false}`` per hidden milestone."""
    return {key: False for key in hidden}


def org_summaries(sources: Iterable[RepoSources]) -> list[dict[str, Any]]:
    """Per organisation: its sources ("api", "git", "archive", or those joined by "and",
    as "api and git"), whether pull refs were read, what is not observable, and one sentence
    saying what that hides."""
    found = []
    for org, group in groupby(sorted(sources, key=lambda row: row.org), key=lambda row: row.org):
        repos = list(group)
        api, git = any(row.api for row in repos), any(row.git for row in repos)
        archive = any(row.archive for row in repos)
        pulls = any(row.pull_refs for row in repos)
        hidden = hidden_milestones(repos)
        names = [name for name, has in (("api", api), ("git", git), ("archive", archive)) if has]
        found.append({
            "org": org, "sources": " and ".join(names) or "git",
            "repos": len(repos), "git_only_repos": sum(1 for row in repos if row.git and not row.api),
            "pull_refs": pulls, "not_observable": list(hidden), "says": sentence(api, pulls, archive),
        })
    return found


def sentence(api: bool, pulls: bool, archive: bool = False) -> str:
    """What an organisation's sources show and hide, in a sentence."""
    if api:
        return "GitHub's API: issues, pull requests, comments, reviews, events and commits."
    if archive:
        return ("GH Archive's public events: issues, pull requests, comments, reviews, releases and "
                "pushes by account; commit authors by name and hashed email only (someone who commits is "
                "counted apart from their account until the API harvest links the two), and from "
                "2025-10-07 trimmed payloads (the API harvest is the source there).")
    said = f"git history only: {GIT_HIDES}"
    if pulls:
        return f"{said}; {PULL_REF_DATING}."
    return f"{said}, nor is first_pr (no pull refs were read)."
