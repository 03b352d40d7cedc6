"""fakehub's issue search: parses ``/search/issues`` queries and finds the matching records.

Owns the query language fakehub understands (FAKEHUB.md "Users and search"): ``author:``,
``is:pr``/``type:pr``, ``is:issue``/``type:issue``, ``is:merged``/``is:unmerged``,
``is:open``/``is:closed``, ``created:``/``updated:``/``merged:``/``closed:`` ranges (``>=D``,
``>D``, ``<=D``, ``<D``, ``A..B``, ``A..*``, ``*..B``, a bare day), ``org:``/``user:``/``repo:``
and their negations ``-org:``/``-user:``/``-repo:``. Anything else is refused (422) rather
than silently ignored, so a client never believes fakehub filtered what it did not. The
server (``server.py``) owns paging, the 1,000-result cap and the ``search`` rate resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graphminer.fakehub.world import World

RESULT_CAP = 1000  # GitHub's: only the first 1,000 results of a query are reachable
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
RANGE_FIELDS = {"created": "created_at", "updated": "updated_at", "merged": "merged_at",
                "closed": "closed_at"}


class QueryError(ValueError):
    """A query fakehub cannot answer; the message says which part."""


@dataclass
class Bound:
    """Half of a range over ISO times (strings compare in time order)."""

    value: str
    inclusive: bool


@dataclass
class Query:
    authors: list[str] = field(default_factory=list)
    kind: str | None = None  # "pr", "issue" or None (both)
    merged: bool | None = None
    state: str | None = None
    ranges: list[tuple[str, Bound | None, Bound | None]] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    not_owners: list[str] = field(default_factory=list)
    repos: list[str] = field(default_factory=list)
    not_repos: list[str] = field(default_factory=list)


def _low(text: str) -> Bound | None:
    """The lower bound a date or time starts (None for ``*``)."""
    if text == "*":
        return None
    if DAY_RE.match(text):
        return Bound(text + "T00:00:00Z", True)
    if TIME_RE.match(text):
        return Bound(text, True)
    raise QueryError(f"{text!r} is not a date (YYYY-MM-DD) or UTC time (YYYY-MM-DDTHH:MM:SSZ)")


def _high(text: str) -> Bound | None:
    """The upper bound a date or time ends (None for ``*``)."""
    if text == "*":
        return None
    if DAY_RE.match(text):
        return Bound(text + "T23:59:59Z", True)
    if TIME_RE.match(text):
        return Bound(text, True)
    raise QueryError(f"{text!r} is not a date (YYYY-MM-DD) or UTC time (YYYY-MM-DDTHH:MM:SSZ)")


def parse_range(text: str) -> tuple[Bound | None, Bound | None]:
    """(lower, upper) bounds of a qualifier's range value."""
    if ".." in text:
        start, _, end = text.partition("..")
        return _low(start), _high(end)
    for prefix in (">=", "<=", ">", "<"):
        if text.startswith(prefix):
            rest = text[len(prefix):]
            if prefix == ">=":
                return _low(rest), None
            if prefix == ">":
                bound = _high(rest)
                return (Bound(bound.value, False) if bound else None), None
            if prefix == "<=":
                return None, _high(rest)
            bound = _low(rest)
            return None, (Bound(bound.value, False) if bound else None)
    return _low(text), _high(text)


def parse_query(q: str) -> Query:
    """The query ``q`` (as decoded from the URL) understood, or QueryError."""
    query = Query()
    terms = q.split()
    if not terms:
        raise QueryError("the q parameter is empty")
    for term in terms:
        negated = term.startswith("-")
        name, colon, value = term.lstrip("-").partition(":")
        name = name.lower()
        if not colon or not value:
            raise QueryError(f"fakehub searches by qualifiers only; {term!r} is not one")
        if name in ("is", "type") and not negated:
            value = value.lower()
            if value in ("pr", "issue"):
                query.kind = value
            elif name == "is" and value in ("merged", "unmerged"):
                query.merged = value == "merged"
                query.kind = "pr"
            elif name == "is" and value in ("open", "closed"):
                query.state = value
            else:
                raise QueryError(f"{term!r} is not a qualifier fakehub understands")
        elif name == "author" and not negated:
            query.authors.append(value.lower())
        elif name in ("org", "user"):
            (query.not_owners if negated else query.owners).append(value.lower())
        elif name == "repo":
            (query.not_repos if negated else query.repos).append(value.lower())
        elif name in RANGE_FIELDS and not negated:
            low, high = parse_range(value)
            query.ranges.append((RANGE_FIELDS[name], low, high))
        else:
            raise QueryError(f"{term!r} is not a qualifier fakehub understands")
    return query


def _within(value: str | None, low: Bound | None, high: Bound | None) -> bool:
    if value is None:
        return False
    if low is not None and (value < low.value or (value == low.value and not low.inclusive)):
        return False
    return not (high is not None and (value > high.value or (value == high.value and not high.inclusive)))


def matches(world: World, query: Query) -> list[tuple[int, int]]:
    """(repo id, number) of every public issue or PR the query finds, in no set order."""
    author_ids = set()
    for login in query.authors:
        user = world.user_by(login)
        author_ids.add(user["id"] if user else -1)
    found = []
    for repo_id, repo in world.repos.items():
        if repo.get("private"):
            continue
        owner = repo["owner"].lower()
        full_name = f"{owner}/{repo['name'].lower()}"
        if query.owners and owner not in query.owners:
            continue
        if owner in query.not_owners or full_name in query.not_repos:
            continue
        if query.repos and full_name not in query.repos:
            continue
        data = world.repo_data[repo_id]
        for number, record in data.issues.items():
            if _found(record, query, author_ids, data.issue_updated.get(number)):
                found.append((repo_id, number))
    return found


def _found(record: dict, query: Query, author_ids: set[int], updated: str | None) -> bool:
    pr = record.get("pull_request")
    if query.kind == "pr" and not pr:
        return False
    if query.kind == "issue" and pr:
        return False
    if query.authors and record.get("user_id") not in author_ids:
        return False
    if query.state and record["state"] != query.state:
        return False
    merged_at = pr.get("merged_at") if pr else None
    if query.merged is not None and (merged_at is not None) != query.merged:
        return False
    values = {"created_at": record["created_at"], "updated_at": updated or record["updated_at"],
              "merged_at": merged_at, "closed_at": record.get("closed_at")}
    return all(_within(values[name], low, high) for name, low, high in query.ranges)


def ordered(world: World, keys: list[tuple[int, int]], sort: str, direction: str) -> list[tuple[int, int]]:
    """The results in the order asked (best-match: newest created first, as fakehub's stand-in)."""
    def value(key: tuple[int, int]) -> tuple:
        data = world.repo_data[key[0]]
        record = data.issues[key[1]]
        if sort == "updated":
            primary = data.issue_updated.get(key[1]) or record["updated_at"]
        elif sort == "comments":
            primary = f"{data.comment_count.get(key[1], 0):012d}"
        else:
            primary = record["created_at"]
        return primary, record["id"]

    return sorted(keys, key=value, reverse=direction == "desc")
