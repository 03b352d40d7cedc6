"""World generator: activity outside the harvested orgs, where followed makers went.

Owns planting, for a share of the makers whose contribution landed (``generate
--outside-share F``), what following finds (FAKEHUB.md "Users and search"): outside orgs
(``"outside": true``) whose logins come from GitHub's government and civic hacker lists
(graphminer/data/github-communities) or are made up ("other"), with repos and pull
requests, merged and unmerged, before the maker's first action and after their last one,
and after they went quiet for over a year; and repos under the makers' own accounts, with
and without commits by another maker, and forks. Every world with outside activity has
at least one maker reaching each career milestone. It rewrites ``world.json.gz`` after
the generator wrote it (only then: with share 0 the bytes are untouched) with ids far
above the generator's, so deltas never collide. Its own random stream keeps the rest of
the world as the seed made it. The truth is ``truth_careers.py``'s, from the world alone.
"""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graphminer.destinations import packaged_list
from graphminer.errors import BadInput

BASE_ID = 900_000_000  # above any id the generator or its deltas hand out
ROLES = ("moved_on", "civic", "government", "founder", "other")
BOT_WORDS = ("[bot]", "bot", "renovate", "dependabot", "github-actions", "greenkeeper", "snyk")


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def activity_spans(world: dict) -> dict[int, tuple[datetime, datetime]]:
    """user id -> (earliest, latest) time of any record naming them (a superset of what the
    rules count, so "after the latest" is after their last action whatever the rules)."""
    spans: dict[int, list[datetime]] = {}

    def seen(user_id: Any, *times: Any) -> None:
        if user_id is None:
            return
        for value in times:
            if value:
                moment = _time(value)
                span = spans.setdefault(user_id, [moment, moment])
                span[0], span[1] = min(span[0], moment), max(span[1], moment)

    for issue in world.get("issues", []):
        pull = issue.get("pull_request") or {}
        seen(issue.get("user_id"), issue["created_at"], issue["updated_at"], issue.get("closed_at"),
             pull.get("merged_at"))
        seen(issue.get("closed_by_id"), issue.get("closed_at"))
        seen(pull.get("merged_by_id"), pull.get("merged_at"))
    for name, stamp in (("issue_comments", "updated_at"), ("review_comments", "updated_at"),
                        ("reviews", "submitted_at"), ("releases", "created_at")):
        field = {"reviews": "user_id", "releases": "author_id"}.get(name, "user_id")
        for record in world.get(name, []):
            seen(record.get(field), record.get("created_at"), record.get(stamp))
    for event in world.get("issue_events", []):
        seen(event.get("actor_id"), event["created_at"])
    for commit in world.get("commits", []):
        seen(commit.get("author_id"), commit["author"]["date"], commit["committer"]["date"])
        seen(commit.get("committer_id"), commit["author"]["date"], commit["committer"]["date"])
    return {user_id: (span[0], span[1]) for user_id, span in spans.items()}


def landed_makers(world: dict) -> list[int]:
    """Users (not bots) with a PR merged in a public, non-fork repo of a harvested org."""
    users = {user["id"]: user for user in world["users"]}
    orgs = {org["login"].lower() for org in world["orgs"] if not org.get("outside")}
    repos = {repo["id"] for repo in world["repos"] if repo["owner"].lower() in orgs
             and not (repo.get("fork") or repo.get("private") or repo.get("blocked"))}
    found = set()
    for issue in world["issues"]:
        pull = issue.get("pull_request") or {}
        user = users.get(issue.get("user_id"))
        if pull.get("merged_at") and issue["repo_id"] in repos and user is not None and \
                user.get("type") == "User" and not any(word in user["login"].lower() for word in BOT_WORDS):
            found.add(user["id"])
    return sorted(found)


class Planter:
    """Adds outside orgs, repos, PRs and commits to a world dict, ids from BASE_ID."""

    def __init__(self, world: dict, rng: random.Random) -> None:
        self.world, self.rng = world, rng
        self.now = _time(world["now"])
        self.next_id = BASE_ID
        self.numbers: dict[int, int] = {}
        self.users = {user["id"]: user for user in world["users"]}
        starts = [_time(org["created_at"]) for org in world["orgs"]] + \
                 [_time(repo["created_at"]) for repo in world["repos"]]
        self.dawn = min(starts) - timedelta(days=400)
        taken = {org["login"].lower() for org in world["orgs"]} | {u["login"].lower() for u in world["users"]}
        self.owners: dict[str, list[dict]] = {}
        for kind, count in (("government", 3), ("civic", 3), ("research", 1)):
            choices = sorted(login for login in packaged_list(kind) if login not in taken)
            for login in rng.sample(choices, count):
                self.owners.setdefault(kind, []).append(self.org(login))
        self.owners["other"] = [self.org(f"outside-works-{n}") for n in range(1, 4)]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def org(self, login: str) -> dict:
        """An outside org with one repo; returns the repo."""
        created = _text(self.dawn)
        self.world["orgs"].append({"id": self.new_id(), "login": login, "name": login, "description": None,
                                   "created_at": created, "members": [], "public_members": [],
                                   "outside": True})
        return self.repo(login, "service", created)

    def repo(self, owner: str, name: str, created: str, fork: bool = False) -> dict:
        record = {"id": self.new_id(), "owner": owner, "name": name, "description": None, "fork": fork,
                  "archived": False, "default_branch": "main", "created_at": created,
                  "updated_at": created, "pushed_at": created, "language": None}
        self.world["repos"].append(record)
        return record

    def pull(self, repo: dict, user_id: int, when: datetime, merged: bool) -> None:
        number = self.numbers[repo["id"]] = self.numbers.get(repo["id"], 0) + 1
        stamp = _text(when)
        self.world["issues"].append({
            "repo_id": repo["id"], "number": number, "id": self.new_id(), "user_id": user_id,
            "title": f"Outside change {number}", "body": None, "state": "closed" if merged else "open",
            "state_reason": None, "created_at": stamp, "updated_at": stamp,
            "closed_at": stamp if merged else None, "closed_by_id": None, "labels": [],
            "assignee_ids": [], "milestone": None, "author_association": "CONTRIBUTOR",
            "pull_request": {"merged_at": stamp if merged else None, "merged_by_id": None,
                             "merge_commit_sha": None, "head_ref": f"change-{number}",
                             "head_sha": self.sha(), "base_ref": "main", "draft": False}})

    def sha(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def commit(self, repo: dict, user_id: int, when: datetime, parents: list[str]) -> str:
        login = self.users[user_id]["login"]
        person = {"name": login, "email": f"{user_id}+{login}@users.noreply.github.com", "date": _text(when)}
        sha = self.sha()
        self.world["commits"].append({"repo_id": repo["id"], "sha": sha, "message": "work",
                                      "author": person, "committer": dict(person), "author_id": user_id,
                                      "committer_id": user_id, "parents": parents})
        return sha

    def between(self, low: datetime, high: datetime) -> datetime:
        seconds = max(1, int((high - low).total_seconds()))
        return low + timedelta(seconds=self.rng.randrange(seconds))

    def plant(self, user_id: int, role: str, span: tuple[datetime, datetime], helper: int) -> None:
        """One maker's outside story for ``role`` (and some that must not count)."""
        first, last = span
        after = (last + timedelta(days=1), self.now - timedelta(hours=1))
        pick = self.rng.choice
        # never counted: unmerged after the last action, merged before the first
        self.pull(pick(self.owners["civic"]), user_id, self.between(*after), merged=False)
        self.pull(pick(self.owners["government"]), user_id, first - timedelta(days=self.rng.randint(2, 300)),
                  merged=True)
        if role == "moved_on":
            self.pull(pick(self.owners["other"]), user_id,
                      self.between(last + timedelta(days=367), self.now - timedelta(hours=1)), merged=True)
        elif role in ("civic", "government", "other"):
            self.pull(pick(self.owners[role]), user_id, self.between(*after), merged=True)
            if role == "other":
                self.pull(pick(self.owners["research"]), user_id, self.between(*after), merged=True)
        login = self.users[user_id]["login"]
        own = self.repo(login, "own-notes", _text(self.between(*after)))  # alone: not founder
        self.commit(own, user_id, _time(own["created_at"]) + timedelta(hours=1), [])
        if role == "founder":
            made = self.repo(login, "own-project", _text(self.between(*after)))
            start = _time(made["created_at"])
            head = self.commit(made, user_id, start + timedelta(hours=1), [])
            self.commit(made, helper, start + timedelta(hours=2), [head])
            fork = self.repo(login, "someone-elses", _text(self.between(*after)), fork=True)
            self.commit(fork, helper, _time(fork["created_at"]) + timedelta(hours=1), [])


def plant_outside(world_path: Path, seed: int, share: float) -> int:
    """Plant outside activity for ``share`` of the landed makers (at least five: one per
    career milestone) into the world file; returns how many makers got some."""
    if not 0 < share <= 1:
        raise BadInput(f"--outside-share {share:g}: give a share of makers between 0 and 1")
    with gzip.open(world_path, "rt", encoding="utf-8") as handle:
        world = json.load(handle)
    rng = random.Random(seed * 104729 + 31)
    spans = activity_spans(world)
    now = _time(world["now"])
    roomy = [user for user in landed_makers(world)
             if user in spans and spans[user][1] < now - timedelta(days=3)]
    quiet = [user for user in roomy if spans[user][1] < now - timedelta(days=400)]
    if len(roomy) < 6 or not quiet:
        raise BadInput("--outside-share needs at least six makers whose work landed, one of them "
                       "quiet for over a year: raise --makers or --years")
    count = min(len(roomy), max(5, round(share * len(roomy))))
    chosen = [quiet[0]] + [user for user in rng.sample(roomy, len(roomy)) if user != quiet[0]][:count - 1]
    planter = Planter(world, rng)
    for index, user in enumerate(chosen):
        role = ROLES[index % len(ROLES)]
        if role == "moved_on" and user not in quiet:
            role = "other"
        helper = next(other for other in roomy if other != user)
        planter.plant(user, role, spans[user], helper)
    with open(world_path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                      compresslevel=3) as out:
        out.write(json.dumps(world, separators=(",", ":")).encode())
    return len(chosen)
