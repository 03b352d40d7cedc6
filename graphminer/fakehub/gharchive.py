"""fakehub's GH Archive: a world's public events written as hourly files, era by era, with
the truth of what those files can show (FAKEHUB.md "GH Archive").

``write_gharchive(world, outdir)`` turns the world's records into the events GitHub's
public stream carried (one ``YYYY-MM-DD-H.json.gz`` an hour, the hour not zero-padded;
hours with no event are not written), as GitHub and GH Archive wrote them in each era:

- **the actor is who acted**: an issue or PR opened by its author, closed or reopened by
  who did it (a merged PR's ``closed`` event by its merger, ``merged_by`` in the payload);
  a comment, review comment or review by its author; a release by its author; a push by
  its pusher (the committer of the default branch commit it brought; for a merge GitHub
  committed, who merged the PR), its commits' authors only in ``commits`` (name and email);
- **pushes**: each default-branch commit on the first-parent chain, with the commits it
  brought in (oldest first), is one push; ``size`` is how many, at most 20 are listed;
- **hashed emails**: every commit email's local part is its SHA1 hex, domain kept;
- **before 2015** (Timeline API, as ClickHouse's and OpenDigger's loaders read it; no real
  sample is at hand): no event id, the actor a login with ``actor_attributes``,
  ``repository`` {id, name, owner, organization} instead of ``repo``, times with GitHub's
  Pacific offset, a push's commits as ``shas`` ([sha, email, message, name, distinct]),
  an issue event's ``issue`` the issue id (``number`` beside it), a comment event's
  ``comment_id`` and ``issue_id``, a member a login; no reviews;
- **author_association** on issues, PRs and comments from 2017 (absent before);
- **from 2025-05-24** an event is filed in the hour it was crawled (up to two hours after
  its ``created_at``), a share of events is missing (``missing_share``, default 0.1) and
  some are filed twice (in two hours, same id);
- **from 2025-10-07** payloads trimmed: a push has only ``push_id``, ``ref``, ``head``,
  ``before``; a PR event's ``pull_request`` only ``url``, ``id``, ``number``, ``head``,
  ``base``; no ``author_association``;
- ``missing_hours`` leaves whole hours out.

Not written (the world does not hold them): ForkEvent, WatchEvent, MemberEvent, branch
and tag CreateEvents. Private repos are never written.

The truth (``OUTDIR/truth.json``, the world truth's format) is ``compute_truth`` over the
world *as these files show it*: only the records whose event was written; issues and PRs
opened, closed, merged, reopened as the events say (a trimmed PR event shows who acted,
not the author nor whether it merged); commits only those listed, with hashed emails, no
account link, no parents, no committer (the web flow's stand-in), dated at their push;
outside the harvested orgs, a repo of a maker's own only when its creation was written,
and an account that pushed to it counted as its contributor; a Timeline issue event or
comment (its actor a login, no id) is someone's only when some written line shows that
account's id (else the issue is not shown opened, the comment not shown, a close has no
actor). Makers without an account are left out. Shares no code with graphminer's reader.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from graphminer.errors import BadInput

EVENTS_FROM = datetime(2015, 1, 1, tzinfo=UTC)
ASSOCIATION_FROM = datetime(2017, 1, 1, tzinfo=UTC)
CRAWL_FROM = datetime(2025, 5, 24, tzinfo=UTC)
TRIMMED_FROM = datetime(2025, 10, 7, tzinfo=UTC)
LISTED = 20
PACIFIC = ZoneInfo("America/Los_Angeles")
WEB_FLOW = {"name": "GitHub", "email": "noreply@github.com"}


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour_name(moment: datetime) -> str:
    """GH Archive's file name of the hour holding ``moment`` (hour not zero-padded).

    >>> hour_name(datetime(2015, 1, 1, 5, 30, tzinfo=UTC))
    '2015-01-01-5.json.gz'
    """
    return f"{moment.astimezone(UTC):%Y-%m-%d}-{moment.astimezone(UTC).hour}.json.gz"


def hashed_email(email: str | None) -> str | None:
    """An email as GH Archive publishes it: the SHA1 hex of its local part, domain kept.

    >>> hashed_email("ana@example.org")
    '72019bbac0b3dac88beac9ddfef0ca808919104f@example.org'
    """
    if email is None:
        return None
    local, at, domain = email.partition("@")
    return hashlib.sha1(local.encode("utf-8")).hexdigest() + (at + domain if at else "")


class Written:
    """One public event: when it happened, its type, its actor and what the truth learns."""

    __slots__ = ("at", "kind", "actor", "repo", "payload", "shows", "event_id")

    def __init__(self, at: datetime, kind: str, actor: int | None, repo: dict, payload: dict,
                 shows: tuple) -> None:
        self.at, self.kind, self.actor, self.repo, self.payload, self.shows = at, kind, actor, repo, payload, shows
        self.event_id = 0


class Archive:
    """The world's public events and how each era writes them."""

    def __init__(self, world: dict, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed * 7919 + 17)
        self.users = {user["id"]: user for user in world.get("users", [])}
        self.orgs = {org["login"].lower(): org for org in world.get("orgs", [])}
        self.repos = {repo["id"]: repo for repo in world.get("repos", []) if not repo.get("private")}
        self.issues = {(issue["repo_id"], issue["number"]): issue for issue in world.get("issues", [])}
        self.events: list[Written] = []

    # --- people and repos as payloads embed them -------------------------------------------

    def user(self, user_id: int | None) -> dict | None:
        user = self.users.get(user_id)
        if user is None:
            return None
        return {"id": user["id"], "login": user["login"], "type": user.get("type", "User"),
                "url": f"https://api.github.com/users/{user['login']}"}

    def actor(self, user_id: int | None) -> dict:
        user = self.users.get(user_id)
        if user is None:
            return {"id": 10137, "login": "ghost"}
        return {"id": user["id"], "login": user["login"], "gravatar_id": "",
                "url": f"https://api.github.com/users/{user['login']}"}

    def full_name(self, repo: dict) -> str:
        return f"{repo['owner']}/{repo['name']}"

    # --- the events -------------------------------------------------------------------------

    def add(self, at: str | None, kind: str, actor: int | None, repo_id: int, payload: dict,
            shows: tuple = ()) -> None:
        repo = self.repos.get(repo_id)
        if at is None or repo is None:
            return
        self.events.append(Written(_time(at), kind, actor, repo, payload, shows))

    def collect(self) -> list[Written]:
        self.creations()
        self.items()
        self.comments()
        self.reviews()
        self.releases()
        self.pushes()
        self.events.sort(key=lambda event: (event.at, event.kind, event.repo["id"]))
        for index, event in enumerate(self.events, start=1):
            event.event_id = 2_000_000_000 + index
        return self.events

    def creations(self) -> None:
        members = {org["login"].lower(): (org.get("members") or [None])[0] for org in self.world.get("orgs", [])}
        by_login = {user["login"].lower(): user["id"] for user in self.users.values()}
        for repo in self.repos.values():
            if repo.get("fork"):
                continue
            owner = repo["owner"].lower()
            creator = by_login.get(owner, members.get(owner))
            self.add(repo["created_at"], "CreateEvent", creator, repo["id"],
                     {"ref": None, "ref_type": "repository", "master_branch": repo.get("default_branch") or "main",
                      "description": repo.get("description") or "", "pusher_type": "user"},
                     ("repo", repo["id"]))

    def items(self) -> None:
        closes: dict[tuple, list[dict]] = defaultdict(list)
        for event in self.world.get("issue_events", self.world.get("events", [])):
            if event["event"] in ("closed", "reopened"):
                closes[(event["repo_id"], event["issue_number"])].append(event)
        for key, issue in self.issues.items():
            pull = issue.get("pull_request")
            kind = "PullRequestEvent" if pull else "IssuesEvent"
            self.add(issue["created_at"], kind, issue.get("user_id"), issue["repo_id"],
                     {"action": "opened", "issue": issue}, ("opened", key))
            merged_at = (pull or {}).get("merged_at")
            stated = sorted(closes.get(key, []), key=lambda event: (event["created_at"], event["id"]))
            merge_written = False
            for event in stated:
                merging = bool(pull and event["event"] == "closed" and event["created_at"] == merged_at)
                actor = pull.get("merged_by_id") if merging and pull.get("merged_by_id") else event.get("actor_id")
                self.add(event["created_at"], kind, actor, issue["repo_id"],
                         {"action": event["event"], "issue": issue, "merged": merging},
                         (event["event"], key, merging))
                merge_written = merge_written or merging
            if merged_at and not merge_written:
                self.add(merged_at, kind, pull.get("merged_by_id"), issue["repo_id"],
                         {"action": "closed", "issue": issue, "merged": True}, ("closed", key, True))
            elif issue.get("closed_at") and not stated and not merged_at:
                self.add(issue["closed_at"], kind, issue.get("closed_by_id"), issue["repo_id"],
                         {"action": "closed", "issue": issue, "merged": False}, ("closed", key, False))

    def comments(self) -> None:
        for comment in self.world.get("issue_comments", self.world.get("comments", [])):
            issue = self.issues.get((comment["repo_id"], comment["issue_number"]))
            if issue is not None:
                self.add(comment["created_at"], "IssueCommentEvent", comment.get("user_id"), comment["repo_id"],
                         {"action": "created", "issue": issue, "comment": comment}, ("comment", comment["id"]))
        for comment in self.world.get("review_comments", []):
            issue = self.issues.get((comment["repo_id"], comment["pr_number"]))
            if issue is not None:
                self.add(comment["created_at"], "PullRequestReviewCommentEvent", comment.get("user_id"),
                         comment["repo_id"], {"action": "created", "issue": issue, "comment": comment},
                         ("review_comment", comment["id"]))

    def reviews(self) -> None:
        for review in self.world.get("reviews", []):
            issue = self.issues.get((review["repo_id"], review["pr_number"]))
            if issue is not None and review.get("submitted_at") and _time(review["submitted_at"]) >= EVENTS_FROM:
                self.add(review["submitted_at"], "PullRequestReviewEvent", review.get("user_id"), review["repo_id"],
                         {"action": "created", "issue": issue, "review": review}, ("review", review["id"]))

    def releases(self) -> None:
        for release in self.world.get("releases", []):
            if not release.get("draft") and release.get("published_at"):
                self.add(release["published_at"], "ReleaseEvent", release.get("author_id"), release["repo_id"],
                         {"action": "published", "release": release}, ("release", release["id"]))

    def pushes(self) -> None:
        by_repo: dict[int, list[dict]] = defaultdict(list)
        for commit in self.world.get("commits", []):
            by_repo[commit["repo_id"]].append(commit)
        merged_by = {(issue["repo_id"], (issue.get("pull_request") or {}).get("merge_commit_sha")):
                     (issue.get("pull_request") or {}).get("merged_by_id") for issue in self.issues.values()}
        for repo_id, commits in by_repo.items():
            for head, brought, before in default_branch_pushes(commits):
                committer = head.get("committer") or {}
                if (committer.get("email") or "").lower() == WEB_FLOW["email"]:
                    pusher = merged_by.get((repo_id, head["sha"])) or head.get("author_id")
                else:
                    pusher = head.get("committer_id") or head.get("author_id")
                self.add(committer.get("date") or head["author"]["date"], "PushEvent", pusher, repo_id,
                         {"head": head, "brought": brought, "before": before},
                         ("push", repo_id, tuple(commit["sha"] for commit in brought)))


def default_branch_pushes(commits: list[dict]) -> list[tuple[dict, list[dict], str | None]]:
    """(head commit, commits it brought oldest first, sha before) per push: each commit on
    the first-parent chain from the tip (the commit nobody names as parent, newest
    committer date if several) with what its other parents brought in."""
    by_sha = {commit["sha"]: commit for commit in commits}
    named = {parent for commit in commits for parent in commit.get("parents") or []}
    tips = [commit for commit in commits if commit["sha"] not in named]
    if not tips:
        return []
    tip = max(tips, key=lambda commit: (commit["committer"]["date"], commit["sha"]))
    chain, current = [], tip
    while current is not None:
        chain.append(current)
        parents = current.get("parents") or []
        current = by_sha.get(parents[0]) if parents else None
    chain.reverse()
    reached: set[str] = set()
    pushes = []
    before = None
    for head in chain:
        brought, stack = [], [head["sha"]]
        while stack:
            sha = stack.pop()
            if sha in reached or sha not in by_sha:
                continue
            reached.add(sha)
            brought.append(by_sha[sha])
            parents = by_sha[sha].get("parents") or []
            stack.extend(parents[1:] if sha == head["sha"] else parents)
        brought.sort(key=lambda commit: (commit["committer"]["date"], commit["sha"]))
        pushes.append((head, brought, before))
        before = head["sha"]
    return pushes


# --- rendering, era by era ---------------------------------------------------------------------


class Renderer:
    """One event as a line of its era's file."""

    def __init__(self, archive: Archive) -> None:
        self.a = archive

    def line(self, event: Written) -> dict:
        era_trimmed = event.at >= TRIMMED_FROM
        associations = ASSOCIATION_FROM <= event.at < TRIMMED_FROM
        payload = getattr(self, "payload_" + event.kind)(event, associations, era_trimmed)
        if event.at < EVENTS_FROM:
            return self.timeline(event, payload)
        line = {"id": str(event.event_id), "type": event.kind, "actor": self.a.actor(event.actor),
                "repo": {"id": event.repo["id"], "name": self.a.full_name(event.repo),
                         "url": f"https://api.github.com/repos/{self.a.full_name(event.repo)}"},
                "payload": payload, "public": True, "created_at": _text(event.at)}
        org = self.a.orgs.get(event.repo["owner"].lower())
        if org is not None:
            line["org"] = {"id": org["id"], "login": org["login"]}
        return line

    def timeline(self, event: Written, payload: dict) -> dict:
        user = self.a.users.get(event.actor) or {"login": "ghost", "type": "User"}
        owner = event.repo["owner"]
        repository = {"id": event.repo["id"], "name": event.repo["name"], "owner": owner,
                      "url": f"https://github.com/{owner}/{event.repo['name']}",
                      "master_branch": event.repo.get("default_branch") or "master"}
        if owner.lower() in self.a.orgs:
            repository["organization"] = owner
        return {"type": event.kind, "actor": user["login"],
                "actor_attributes": {"login": user["login"], "type": user.get("type", "User"), "gravatar_id": ""},
                "repository": repository, "payload": self.timeline_payload(event, payload),
                "public": True, "created_at": event.at.astimezone(PACIFIC).isoformat(),
                "url": f"https://github.com/{owner}/{event.repo['name']}"}

    def timeline_payload(self, event: Written, payload: dict) -> dict:
        if event.kind == "PushEvent":
            return {"shas": [[c["sha"], c["author"]["email"], c["message"], c["author"]["name"], c["distinct"]]
                             for c in payload["commits"]],
                    "size": payload["size"], "ref": payload["ref"], "head": payload["head"]}
        if event.kind == "IssuesEvent":
            return {"action": payload["action"], "issue": payload["issue"]["id"], "number": payload["issue"]["number"]}
        if event.kind == "IssueCommentEvent":
            return {"comment_id": payload["comment"]["id"], "issue_id": payload["issue"]["id"]}
        return payload

    def issue(self, issue: dict, associations: bool) -> dict:
        rendered = {"id": issue["id"], "number": issue["number"], "title": issue.get("title") or "",
                    "user": self.a.user(issue.get("user_id")), "state": issue.get("state"),
                    "created_at": issue["created_at"], "closed_at": issue.get("closed_at")}
        if issue.get("pull_request"):
            rendered["pull_request"] = {"url": f"https://api.github.com/repos/pulls/{issue['number']}"}
        if associations:
            rendered["author_association"] = issue.get("author_association") or "NONE"
        return rendered

    def pull(self, issue: dict, merged: bool, associations: bool, trimmed: bool, repo: dict) -> dict:
        pull = issue["pull_request"]
        base = {"ref": pull.get("base_ref") or "main", "sha": pull.get("base_sha") or "0" * 40,
                "repo": {"id": repo["id"], "name": repo["name"], "default_branch": repo.get("default_branch") or "main"}}
        head = {"ref": pull.get("head_ref") or "patch", "sha": pull.get("head_sha") or "0" * 40}
        rendered = {"url": f"https://api.github.com/repos/{self.a.full_name(repo)}/pulls/{issue['number']}",
                    "id": pull.get("id", issue["id"]), "number": issue["number"], "head": head, "base": base}
        if trimmed:
            return rendered
        rendered.update({"title": issue.get("title") or "", "user": self.a.user(issue.get("user_id")),
                         "state": "closed" if merged or issue.get("state") == "closed" else "open",
                         "created_at": issue["created_at"], "closed_at": issue.get("closed_at"),
                         "merged": merged, "merged_at": pull.get("merged_at") if merged else None,
                         "merged_by": self.a.user(pull.get("merged_by_id")) if merged else None,
                         "merge_commit_sha": pull.get("merge_commit_sha")})
        if associations:
            rendered["author_association"] = issue.get("author_association") or "NONE"
        return rendered

    def payload_IssuesEvent(self, event: Written, associations: bool, trimmed: bool) -> dict:
        return {"action": event.payload["action"], "issue": self.issue(event.payload["issue"], associations)}

    def payload_PullRequestEvent(self, event: Written, associations: bool, trimmed: bool) -> dict:
        issue = event.payload["issue"]
        return {"action": event.payload["action"], "number": issue["number"],
                "pull_request": self.pull(issue, bool(event.payload.get("merged")), associations, trimmed,
                                          event.repo)}

    def comment(self, comment: dict, associations: bool) -> dict:
        rendered = {"id": comment["id"], "user": self.a.user(comment.get("user_id")),
                    "created_at": comment["created_at"], "updated_at": comment.get("updated_at")}
        for name in ("pull_request_review_id", "in_reply_to_id"):
            if name in comment or name == "pull_request_review_id":
                rendered[name] = comment.get("review_id") if name == "pull_request_review_id" else comment.get(name)
        if associations:
            rendered["author_association"] = comment.get("author_association") or "NONE"
        return rendered

    def payload_IssueCommentEvent(self, event: Written, associations: bool, trimmed: bool) -> dict:
        return {"action": "created", "issue": self.issue(event.payload["issue"], associations),
                "comment": self.comment(event.payload["comment"], associations)}

    def payload_PullRequestReviewCommentEvent(self, event: Written, associations: bool, trimmed: bool) -> dict:
        issue = event.payload["issue"]
        return {"action": "created", "comment": self.comment(event.payload["comment"], associations),
                "pull_request": self.pull(issue, False, associations, trimmed, event.repo)}

    def payload_PullRequestReviewEvent(self, event: Written, associations: bool, trimmed: bool) -> dict:
        review = event.payload["review"]
        rendered = {"id": review["id"], "user": self.a.user(review.get("user_id")), "state": review["state"].lower(),
                    "submitted_at": review["submitted_at"], "commit_id": review.get("commit_id")}
        if associations:
            rendered["author_association"] = review.get("author_association") or "NONE"
        return {"action": "created", "review": rendered,
                "pull_request": self.pull(event.payload["issue"], False, associations, trimmed, event.repo)}

    def payload_ReleaseEvent(self, event: Written, associations: bool, trimmed: bool) -> dict:
        release = event.payload["release"]
        return {"action": "published", "release": {
            "id": release["id"], "tag_name": release.get("tag_name"), "name": release.get("name"),
            "author": self.a.user(release.get("author_id")), "draft": False,
            "prerelease": bool(release.get("prerelease")), "created_at": release.get("created_at"),
            "published_at": release["published_at"], "target_commitish": release.get("target_commitish")}}

    def payload_CreateEvent(self, event: Written, associations: bool, trimmed: bool) -> dict:
        return event.payload

    def payload_PushEvent(self, event: Written, associations: bool, trimmed: bool) -> dict:
        head, brought = event.payload["head"], event.payload["brought"]
        ref = f"refs/heads/{event.repo.get('default_branch') or 'main'}"
        before = event.payload["before"] or "0" * 40
        if trimmed:
            return {"repository_id": event.repo["id"], "push_id": event.event_id, "ref": ref, "head": head["sha"],
                    "before": before}
        commits = [{"sha": commit["sha"],
                    "author": {"email": hashed_email(commit["author"].get("email")) or "",
                               "name": commit["author"].get("name") or ""},
                    "message": commit.get("message") or "", "distinct": True,
                    "url": f"https://api.github.com/repos/{self.a.full_name(event.repo)}/commits/{commit['sha']}"}
                   for commit in brought[:LISTED]]
        return {"push_id": event.event_id, "size": len(brought), "distinct_size": len(brought), "ref": ref,
                "head": head["sha"], "before": before, "commits": commits}


# --- filing: which hour, which are lost ------------------------------------------------------------


def filed_hours(event: Written, rng: random.Random, missing_share: float) -> list[datetime]:
    """The hours an event is filed in (none: lost): its own before 2025-05-24; from then the
    hour it was crawled, up to two later, sometimes two hours, a share never."""
    hour = event.at.replace(minute=0, second=0, microsecond=0)
    if event.at < CRAWL_FROM:
        return [hour]
    if rng.random() < missing_share:
        return []
    lag = rng.choices([0, 1, 2], weights=[6, 3, 1])[0]
    filed = [hour + timedelta(hours=lag)]
    if rng.random() < 0.05:
        filed.append(filed[0] + timedelta(hours=1))
    return filed


def write_gharchive(world: dict, outdir: str | Path, *, start: str | None = None, end: str | None = None,
                    seed: int = 0, missing_share: float | None = None,
                    missing_hours: tuple[str, ...] = ()) -> dict[str, Any]:
    """Write the world's public events as hourly files into ``outdir`` with ``truth.json``;
    returns a summary (hours written, events, events lost, hours left out)."""
    outdir = Path(outdir)
    if outdir.exists() and any(outdir.iterdir()) and not (outdir / "truth.json").exists():
        raise BadInput(f"{outdir} holds files fakehub did not write: give a new or empty folder")
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("*.json.gz"):
        old.unlink()
    share = 0.1 if missing_share is None else missing_share
    if not 0 <= share < 1:
        raise BadInput(f"--missing-share {share:g}: give a share between 0 and 1")
    low = _time(start + "T00:00:00Z" if start and len(start) == 10 else start) if start else None
    high = _time(end + "T23:59:59Z" if end and len(end) == 10 else end) if end else None
    archive = Archive(world, seed)
    renderer = Renderer(archive)
    gaps = {name if name.endswith(".json.gz") else name + ".json.gz" for name in missing_hours}
    files: dict[str, list[str]] = defaultdict(list)
    shown: list[Written] = []
    identified: set[int] = set()  # accounts some written line shows with their id
    lost = 0
    for event in archive.collect():
        if (low and event.at < low) or (high and event.at > high):
            continue
        hours = [hour for hour in filed_hours(event, archive.rng, share) if hour_name(hour) not in gaps]
        if not hours:
            lost += 1
            continue
        line = renderer.line(event)
        identified |= account_ids(line)
        text = json.dumps(line, separators=(",", ":"))
        for hour in hours:
            files[hour_name(hour)].append(text)
        shown.append(event)
    for name, lines in files.items():
        with open(outdir / name, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
            out.write(("\n".join(lines) + "\n").encode("utf-8"))
    from graphminer.fakehub.truth import compute_truth

    truth = compute_truth(shown_world(world, archive, shown, identified))
    truth["makers"] = {key: entry for key, entry in truth["makers"].items() if not key.startswith("git:")}
    truth["gharchive"] = {"hours": len(files), "events": len(shown), "lost": lost,
                          "missing_hours": sorted(gaps)}
    (outdir / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", "utf-8")
    return truth["gharchive"]


def account_ids(value: Any) -> set[int]:
    """The ids of the accounts a rendered line shows (every object with an id and a login).

    >>> sorted(account_ids({"actor": {"id": 7, "login": "ana"}, "payload": {"issue": {"user": {"id": 9, "login": "bo"}}}}))
    [7, 9]
    >>> account_ids({"actor": "ana", "actor_attributes": {"login": "ana"}})
    set()
    """
    found: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("id"), int) and isinstance(item.get("login"), str):
                found.add(item["id"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def shown_world(world: dict, archive: Archive, shown: list[Written], identified: set[int] | None = None) -> dict:
    """The world as the written events show it (see the module docstring); a Timeline
    event's actor is a login, tied to an account only when ``identified`` (some written line
    shows that account's id): an issue opened, a comment made by anyone else is not shown
    as theirs, a close or reopen has no actor."""
    identified = set(identified or ())
    outside = {org["login"].lower() for org in world.get("orgs", []) if org.get("outside")}
    harvested = {org["login"].lower() for org in world.get("orgs", []) if not org.get("outside")}
    users_by_login = {user["login"].lower() for user in world.get("users", [])}
    issues: dict[tuple, dict] = {}
    events, comments, review_comments, reviews, releases, commits = [], [], [], [], [], []
    created: set[int] = set()
    pushers: dict[int, set[int]] = defaultdict(set)
    next_id = 1
    carried = {"opened", "closed", "reopened", "comment", "review_comment", "review"}
    for event in shown:
        kind, trimmed = event.shows[0], event.at >= TRIMMED_FROM
        issue = event.payload.get("issue")
        # a Timeline issue event or comment names its actor by login only
        anonymous = (event.at < EVENTS_FROM and kind in ("opened", "closed", "reopened", "comment")
                     and not (issue or {}).get("pull_request") and event.actor not in identified)
        if kind in carried and issue is not None and (issue["repo_id"], issue["number"]) not in issues:
            timeline_comment = event.at < EVENTS_FROM and kind == "comment"
            pull_trimmed = trimmed and bool(issue.get("pull_request"))
            timeline_close = event.at < EVENTS_FROM and kind != "opened" and not issue.get("pull_request")
            if not timeline_comment and not timeline_close and not (kind == "opened" and anonymous) and \
                    (not pull_trimmed or kind == "opened"):
                pull = issue.get("pull_request")
                issues[(issue["repo_id"], issue["number"])] = {
                    **issue, "user_id": event.actor if pull_trimmed else issue.get("user_id"), "state": "open",
                    "closed_at": None, "closed_by_id": None, "state_reason": None,
                    "pull_request": ({**pull, "merged_at": None, "merged_by_id": None, "merge_commit_sha": None}
                                     if pull else None)}
        if kind == "repo":
            created.add(event.repo["id"])
        elif kind in ("closed", "reopened"):
            item = issues.get(event.shows[1])
            if item is None:
                continue
            merged = event.shows[2] and not trimmed
            stamp = _text(event.at)
            item["state"] = "closed" if kind == "closed" else "open"
            item["closed_at"] = stamp if kind == "closed" else None
            names = ["closed", "merged"] if merged else [kind]
            if merged:
                item["pull_request"] = {**item["pull_request"], "merged_at": stamp, "merged_by_id": event.actor,
                                        "merge_commit_sha": archive.issues[event.shows[1]]["pull_request"].get(
                                            "merge_commit_sha")}
            for name in names:
                next_id += 1
                events.append({"id": next_id, "repo_id": item["repo_id"], "issue_number": item["number"],
                               "actor_id": None if anonymous else event.actor, "event": name,
                               "created_at": stamp, "label": None,
                               "assignee_id": None, "milestone": None, "commit_id": None})
        elif kind == "comment":
            if not anonymous and not (event.at < EVENTS_FROM and event.payload["issue"].get("pull_request")):
                comments.append(event.payload["comment"])  # a Timeline comment names the issue by id
        elif kind == "review_comment":
            review_comments.append(event.payload["comment"])
        elif kind == "review":
            reviews.append(event.payload["review"])
        elif kind == "release":
            releases.append(event.payload["release"])
        elif kind == "push":
            pushers[event.repo["id"]].add(event.actor)
            if trimmed:
                continue
            owner = event.repo["owner"].lower()
            for commit in event.payload["brought"][:LISTED]:
                stamp = _text(event.at)
                seen = {"repo_id": commit["repo_id"], "sha": commit["sha"], "message": commit.get("message") or "",
                        "author": {"name": commit["author"].get("name"),
                                   "email": hashed_email(commit["author"].get("email")), "date": stamp},
                        "committer": {**WEB_FLOW, "date": stamp}, "author_id": None, "committer_id": None,
                        "parents": []}
                if owner in users_by_login and owner not in harvested:
                    seen["author_id"] = event.actor  # outside: the account that pushed contributed
                commits.append(seen)
    repos = []
    for repo in archive.repos.values():
        owner = repo["owner"].lower()
        if owner in harvested or any(name.partition("/")[0].lower() in harvested
                                     for name in repo.get("former_names", [])):
            repos.append(repo)
        elif owner in outside:
            repos.append(repo)
        elif repo["id"] in created:
            repos.append(repo)
    issue_keys = set(issues)
    kept = {name: value for name, value in world.items() if name not in ("events", "comments")}  # former names
    return {**kept,
            "repos": repos,
            "issues": list(issues.values()),
            "issue_events": events,
            "issue_comments": [c for c in comments if (c["repo_id"], c["issue_number"]) in issue_keys],
            "review_comments": [c for c in review_comments if (c["repo_id"], c["pr_number"]) in issue_keys],
            "reviews": [r for r in reviews if (r["repo_id"], r["pr_number"]) in issue_keys],
            "releases": releases,
            "commits": commits}
