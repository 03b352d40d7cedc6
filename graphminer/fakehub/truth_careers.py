"""Ground truth of the career milestones (rules version 3) for generated worlds.

Owns the truth of landed_elsewhere, civic_elsewhere, government, founder and moved_on
(docs/rules.md "Beyond the harvested organisations"), computed from the world dict alone:
it shares no code with ``graphminer.trajectory``, ``graphminer.careers``,
``graphminer.destinations`` or ``graphminer.harvest.follow`` (its own reading of GitHub's
community lists, its own dates), so each checks the other. ``truth.py`` calls
``career_marks`` with the network dates it computed (first_contact, first_landed, gone).

Interpretations: only makers who reached first_landed, have an account and are not bots
are followed. "After" is strictly after, to the second. A merged PR counts when it was
merged by as_of in a public repo whose owner is not a harvested org (orgs without
``"outside": true``); its destination kind is its owner's, first match wins: government,
research, civic, other. A repo founded is one of the maker's own account, not a fork, not
private, created by as_of, with a default-branch commit whose author account is another
user who is not a bot (what ``/contributors`` lists).
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

LIST_FILES = (("government", "governments.yml"), ("research", "research.yml"),
              ("civic", "civic_hackers.yml"))


def community_lists() -> dict[str, set[str]]:
    """kind -> lower-cased logins, read from the packaged YAML files (each ``- login`` item)."""
    folder = resources.files("graphminer").joinpath("data/github-communities")
    found: dict[str, set[str]] = {}
    for kind, name in LIST_FILES:
        logins = set()
        for line in folder.joinpath(name).read_text("utf-8").splitlines():
            text = line.strip()
            if text[:2] == "- ":
                logins.add(text[2:].split("#")[0].strip().strip("'\"").lower())
        found[kind] = logins
    return found


def owner_kind(owner: str, harvested: set[str], lists: dict[str, set[str]]) -> str:
    low = owner.lower()
    if low in harvested:
        return "harvested"
    for kind, _ in LIST_FILES:
        if low in lists[kind]:
            return kind
    return "other"


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def career_marks(world: dict, marks: dict[str, dict[str, datetime]], as_of: datetime,
                 is_bot: Any) -> dict[str, dict[str, datetime]]:
    """maker key -> the career milestones reached, from the network ``marks`` truth.py
    computed (first_contact, first_landed, gone); ``is_bot(user_id)`` says who is a bot."""
    harvested = {org["login"].lower() for org in world.get("orgs", []) if not org.get("outside")}
    lists = community_lists()
    users = {user["id"]: user for user in world.get("users", [])}
    repos = {repo["id"]: repo for repo in world.get("repos", []) if not repo.get("private")}
    followed = {int(key): found for key, found in marks.items()
                if not key.startswith("git:") and "first_landed" in found
                and int(key) in users and not is_bot(int(key))}
    merged: dict[int, list[tuple[datetime, str]]] = {}
    for issue in world.get("issues", []):
        pull = issue.get("pull_request") or {}
        repo = repos.get(issue["repo_id"])
        if issue.get("user_id") not in followed or not pull.get("merged_at") or repo is None:
            continue
        kind = owner_kind(repo["owner"], harvested, lists)
        when = _time(pull["merged_at"])
        if kind != "harvested" and when <= as_of:
            merged.setdefault(issue["user_id"], []).append((when, kind))
    founded = _founded(world, repos, followed, users, as_of, is_bot)
    result: dict[str, dict[str, datetime]] = {}
    for user_id, found in followed.items():
        contact, gone = found["first_contact"], found.get("gone")
        after = sorted((when, kind) for when, kind in merged.get(user_id, []) if when > contact)
        own: dict[str, datetime] = {}
        if after:
            own["landed_elsewhere"] = after[0][0]
        for key, kind in (("civic_elsewhere", "civic"), ("government", "government")):
            dates = [when for when, where in after if where == kind]
            if dates:
                own[key] = dates[0]
        later = [when for when, _ in after if gone is not None and when > gone]
        if later:
            own["moved_on"] = later[0]
        starts = [when for when in founded.get(user_id, []) if when > contact]
        if starts:
            own["founder"] = min(starts)
        if own:
            result[str(user_id)] = own
    return result


def _founded(world: dict, repos: dict[int, dict], followed: dict[int, Any], users: dict[int, dict],
             as_of: datetime, is_bot: Any) -> dict[int, list[datetime]]:
    """user id -> creation dates of their own repos another non-bot account committed to."""
    by_login = {user["login"].lower(): user_id for user_id, user in users.items() if user_id in followed}
    others: dict[int, set[int]] = {}
    for commit in world.get("commits", []):
        author = commit.get("author_id")
        if commit["repo_id"] in repos and author is not None:
            others.setdefault(commit["repo_id"], set()).add(author)
    found: dict[int, list[datetime]] = {}
    for repo_id, repo in repos.items():
        owner = by_login.get(repo["owner"].lower())
        if owner is None or repo.get("fork") or _time(repo["created_at"]) > as_of:
            continue
        helpers = {author for author in others.get(repo_id, set())
                   if author != owner and author in users and not is_bot(author)}
        if helpers:
            found.setdefault(owner, []).append(_time(repo["created_at"]))
    return found
