"""A small hand-made fakehub world (and its next-day delta) for the harvest tests.

Sizes are chosen so that paging is exercised (more than 100 issues, comments, events and
commits in one repo) while a harvest still takes a second or two. The counts the tests
check are computed here from the world's records, independently of the harvester.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2024, 1, 1, tzinfo=UTC)
NOW = "2024-06-30T23:59:59Z"
DELTA_NOW = "2024-07-01T23:59:59Z"


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def person(user: dict) -> tuple[str, str]:
    return user["login"].title(), f"{user['login']}@example.org"


def build_world(*, issues_in_site: int = 130, blocked: bool = False) -> dict:
    users = [{"id": i, "login": f"maker{i}", "type": "User", "name": f"Maker {i}",
              "email": None, "created_at": at(-1000)} for i in range(1, 13)]
    users.append({"id": 13, "login": "ci-bot", "type": "Bot", "name": None, "email": None,
                  "created_at": at(-1000)})
    orgs = [
        {"id": 100, "login": "civic", "name": "Civic", "description": "", "created_at": at(-2000),
         "members": [1, 2, 3, 4, 5], "public_members": [1, 2, 3]},
        {"id": 101, "login": "town", "name": "Town", "description": "", "created_at": at(-2000),
         "members": [4, 6], "public_members": [4]},
    ]

    def repo(rid: int, owner: str, name: str, hours: float, **extra) -> dict:
        record = {"id": rid, "owner": owner, "name": name, "description": name, "fork": False,
                  "archived": False, "blocked": False, "default_branch": "main",
                  "created_at": at(hours), "updated_at": at(hours + 1), "pushed_at": at(hours + 1),
                  "language": "Python"}
        record.update(extra)
        return record

    repos = [
        repo(201, "civic", "site", 0),
        repo(202, "civic", "empty", 1),
        repo(203, "civic", "forked", 2, fork=True),
        repo(204, "civic", "old", 3, archived=True),
        repo(205, "town", "app", 4),
        repo(206, "civic", "gone-soon", 5),
    ]
    if blocked:
        repos.append(repo(207, "civic", "blocked", 6, blocked=True))
    world = {"format": 1, "now": NOW, "users": users, "orgs": orgs, "repos": repos,
             "issues": [], "issue_comments": [], "issue_events": [], "reviews": [], "review_comments": [],
             "commits": [], "releases": []}
    ids = {"issue": 1000, "comment": 5000, "event": 9000, "review": 12000, "rc": 15000,
           "release": 18000}

    def next_id(kind: str) -> int:
        ids[kind] += 1
        return ids[kind]

    def fill(repo_id: int, n_issues: int, n_commits: int, n_releases: int, base: float) -> None:
        for number in range(1, n_issues + 1):
            author = 1 + (number * 7 + repo_id) % 12
            created = base + number * 3
            is_pr = number % 3 == 0
            closed = number % 4 == 0
            merged = is_pr and closed and number % 8 == 0
            merger = 1 + (number % 3)
            issue = {
                "repo_id": repo_id, "number": number, "id": next_id("issue"), "user_id": author,
                "title": f"Item {number}", "body": "text", "state": "closed" if closed else "open",
                "state_reason": ("completed" if closed and not is_pr else None),
                "created_at": at(created), "updated_at": at(created + 2),
                "closed_at": at(created + 2) if closed else None,
                "closed_by_id": merger if closed else None,
                "labels": ["good first issue"] if number % 5 == 0 else [],
                "assignee_ids": [merger] if number % 6 == 0 else [], "milestone": None,
                "author_association": "CONTRIBUTOR",
                "pull_request": None if not is_pr else {
                    "merged_at": at(created + 2) if merged else None,
                    "merged_by_id": merger if merged else None,
                    "merge_commit_sha": sha(repo_id, number, "merge") if merged else None,
                    "head_ref": f"branch-{number}", "head_sha": sha(repo_id, number, "head"),
                    "base_ref": "main", "draft": False},
            }
            world["issues"].append(issue)
            world["issue_comments"].append({
                "id": next_id("comment"), "repo_id": repo_id, "issue_number": number,
                "user_id": 1 + (number + 3) % 13, "body": "comment", "created_at": at(created + 1),
                "updated_at": at(created + 1), "author_association": "MEMBER"})
            world["issue_events"].append({
                "id": next_id("event"), "repo_id": repo_id, "issue_number": number,
                "actor_id": merger, "event": "labeled" if number % 5 == 0 else "subscribed",
                "created_at": at(created + 0.5), "label": "good first issue" if number % 5 == 0 else None,
                "assignee_id": None, "milestone": None, "commit_id": None, "state_reason": None})
            if closed:
                if merged:
                    world["issue_events"].append({
                        "id": next_id("event"), "repo_id": repo_id, "issue_number": number,
                        "actor_id": merger, "event": "merged", "created_at": at(created + 2),
                        "label": None, "assignee_id": None, "milestone": None,
                        "commit_id": sha(repo_id, number, "merge"), "state_reason": None})
                world["issue_events"].append({
                    "id": next_id("event"), "repo_id": repo_id, "issue_number": number,
                    "actor_id": merger, "event": "closed", "created_at": at(created + 2),
                    "label": None, "assignee_id": None, "milestone": None,
                    "commit_id": sha(repo_id, number, "merge") if merged else None,
                    "state_reason": None})
            if is_pr:
                review_id = next_id("review")
                world["reviews"].append({
                    "id": review_id, "repo_id": repo_id, "pr_number": number, "user_id": merger,
                    "state": "APPROVED" if merged else "COMMENTED", "body": "ok",
                    "submitted_at": at(created + 1.5), "commit_id": sha(repo_id, number, "head"),
                    "author_association": "MEMBER"})
                world["review_comments"].append({
                    "id": next_id("rc"), "repo_id": repo_id, "pr_number": number,
                    "review_id": review_id, "user_id": merger, "body": "nit", "path": "README.md",
                    "commit_id": sha(repo_id, number, "head"), "created_at": at(created + 1.5),
                    "updated_at": at(created + 1.5), "in_reply_to_id": None,
                    "author_association": "MEMBER"})
        parent = None
        for k in range(n_commits):
            author = world["users"][(k * 5 + repo_id) % 12]
            name, email = person(author)
            when = at(base + k * 2.5)
            digest = sha(repo_id, "commit", k)
            world["commits"].append({
                "repo_id": repo_id, "sha": digest, "message": f"Change {k}",
                "author": {"name": name, "email": email, "date": when},
                "committer": {"name": name, "email": email, "date": when},
                "author_id": author["id"] if k % 4 else None,
                "committer_id": author["id"] if k % 4 else None,
                "parents": [parent] if parent else []})
            parent = digest
        for k in range(n_releases):
            world["releases"].append({
                "id": next_id("release"), "repo_id": repo_id, "tag_name": f"v{k}", "name": f"v{k}",
                "body": "", "author_id": 1, "target_commitish": "main", "draft": False,
                "prerelease": False, "created_at": at(base + 50 + k * 40),
                "published_at": at(base + 50 + k * 40)})

    fill(201, issues_in_site, 120, 3, 10)
    fill(204, 6, 5, 0, 20)
    fill(205, 9, 12, 1, 30)
    fill(206, 4, 3, 0, 40)
    return world


def build_delta(world: dict) -> dict:
    """The next day: new comments, a closed issue, a merged PR, a new repo, a deleted repo,
    a renamed user (a public member, with a new comment), an edited comment."""
    day = datetime(2024, 7, 1, 12, tzinfo=UTC)

    def t(minutes: int) -> str:
        return (day + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")

    ops: list[dict] = []
    ops.append({"op": "upsert", "kind": "users",
                "record": {"id": 2, "login": "maker2-renamed", "type": "User", "name": "Maker 2",
                           "email": None, "created_at": at(-1000)}})
    for k, number in enumerate((1, 5, 9)):
        ops.append({"op": "upsert", "kind": "issue_comments", "record": {
            "id": 7000 + k, "repo_id": 201, "issue_number": number, "user_id": 2 + k,
            "body": "new", "created_at": t(k), "updated_at": t(k), "author_association": "MEMBER"}})
    issue = dict(next(i for i in world["issues"] if i["repo_id"] == 201 and i["number"] == 7))
    issue.update(state="closed", state_reason="completed", updated_at=t(10), closed_at=t(10),
                 closed_by_id=1)
    ops.append({"op": "upsert", "kind": "issues", "record": issue})
    ops.append({"op": "upsert", "kind": "issue_events", "record": {
        "id": 11001, "repo_id": 201, "issue_number": 7, "actor_id": 1, "event": "closed",
        "created_at": t(10), "label": None, "assignee_id": None, "milestone": None,
        "commit_id": None, "state_reason": "completed"}})
    pr = dict(next(i for i in world["issues"] if i["repo_id"] == 201 and i["number"] == 3))
    merge_sha = sha(201, 3, "merge-delta")
    pr.update(state="closed", updated_at=t(20), closed_at=t(20), closed_by_id=4)
    pr["pull_request"] = {**pr["pull_request"], "merged_at": t(20), "merged_by_id": 4,
                          "merge_commit_sha": merge_sha}
    ops.append({"op": "upsert", "kind": "issues", "record": pr})
    for k, event in enumerate(("merged", "closed")):
        ops.append({"op": "upsert", "kind": "issue_events", "record": {
            "id": 11002 + k, "repo_id": 201, "issue_number": 3, "actor_id": 4, "event": event,
            "created_at": t(20), "label": None, "assignee_id": None, "milestone": None,
            "commit_id": merge_sha, "state_reason": None}})
    head = next(c for c in world["commits"] if c["repo_id"] == 201 and c["message"] == "Change 119")
    base = next(c for c in world["commits"] if c["repo_id"] == 201 and c["message"] == "Change 2")
    # The PR's own commit was made (and dated) in January: merged now, it lands on the
    # default branch far below the newest-first listing's first page.
    ops.append({"op": "upsert", "kind": "commits", "record": {
        "repo_id": 201, "sha": sha(201, 3, "head"), "message": "Fix the thing",
        "author": {"name": "Maker3", "email": "maker3@example.org", "date": at(16)},
        "committer": {"name": "Maker3", "email": "maker3@example.org", "date": at(16)},
        "author_id": 3, "committer_id": 3, "parents": [base["sha"]]}})
    ops.append({"op": "upsert", "kind": "commits", "record": {
        "repo_id": 201, "sha": merge_sha, "message": "Merge pull request #3",
        "author": {"name": "Maker4", "email": "maker4@example.org", "date": t(20)},
        "committer": {"name": "GitHub", "email": "noreply@github.com", "date": t(20)},
        "author_id": 4, "committer_id": None, "parents": [head["sha"], sha(201, 3, "head")]}})
    # A merge is a push: GitHub moves the repo's pushed_at (the harvest's signal for commits).
    repo = next(r for r in world["repos"] if r["id"] == 201)
    ops.append({"op": "upsert", "kind": "repos", "record": {**repo, "pushed_at": t(20)}})
    ops.append({"op": "upsert", "kind": "repos", "record": {
        "id": 208, "owner": "civic", "name": "fresh", "description": "new", "fork": False,
        "archived": False, "blocked": False, "default_branch": "main", "created_at": t(30),
        "updated_at": t(31), "pushed_at": t(31), "language": None}})
    ops.append({"op": "upsert", "kind": "issues", "record": {
        "repo_id": 208, "number": 1, "id": 4001, "user_id": 9, "title": "Hello", "body": "",
        "state": "open", "state_reason": None, "created_at": t(32), "updated_at": t(32),
        "closed_at": None, "closed_by_id": None, "labels": [], "assignee_ids": [],
        "milestone": None, "author_association": "NONE", "pull_request": None}})
    ops.append({"op": "upsert", "kind": "commits", "record": {
        "repo_id": 208, "sha": sha(208, "first"), "message": "Initial commit",
        "author": {"name": "Maker9", "email": "maker9@example.org", "date": t(31)},
        "committer": {"name": "Maker9", "email": "maker9@example.org", "date": t(31)},
        "author_id": 9, "committer_id": 9, "parents": []}})
    ops.append({"op": "delete", "kind": "repos", "id": 206})
    edited = dict(next(c for c in world["issue_comments"] if c["repo_id"] == 205))
    edited.update(body="edited", updated_at=t(40))
    ops.append({"op": "upsert", "kind": "issue_comments", "record": edited})
    return {"format": 1, "now": DELTA_NOW, "ops": ops}


def apply_delta(world: dict, delta: dict) -> dict:
    """The world with a delta applied (an independent, plain-dict version of the server's)."""
    keys = {"issues": ("repo_id", "number"), "commits": ("repo_id", "sha")}
    changed = json.loads(json.dumps(world))
    changed["now"] = delta["now"]
    for op in delta["ops"]:
        if op["op"] == "delete":
            changed["repos"] = [r for r in changed["repos"] if r["id"] != op["id"]]
            for kind in ("issues", "issue_comments", "issue_events", "reviews", "review_comments", "commits",
                         "releases"):
                changed[kind] = [r for r in changed[kind] if r["repo_id"] != op["id"]]
            continue
        kind, record = op["kind"], op["record"]
        key = keys.get(kind, ("id",))
        mine = tuple(record[k] for k in key)
        rows = changed[kind]
        for i, row in enumerate(rows):
            if tuple(row[k] for k in key) == mine:
                rows[i] = record
                break
        else:
            rows.append(record)
    return changed


def write(data: dict, path: Path) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_delta_holds_every_kind_of_change_the_harvest_tests_rely_on():
    world = build_world()
    delta = build_delta(world)
    kinds = {(op["op"], op["kind"]) for op in delta["ops"]}
    assert {("upsert", "issue_comments"), ("upsert", "issues"), ("upsert", "issue_events"),
            ("upsert", "repos"), ("upsert", "users"), ("delete", "repos")} <= kinds
    changed = apply_delta(world, delta)
    assert {r["id"] for r in changed["repos"]} == {r["id"] for r in world["repos"]} - {206} | {208}
    assert next(u for u in changed["users"] if u["id"] == 2)["login"] == "maker2-renamed"
    assert len([i for i in world["issues"] if i["repo_id"] == 201]) > 100  # two pages
