"""Hand-built worlds for the events and trajectory tests, and a loader that writes a world
(fakehub's world format, docs/world-format.md) straight into a real store file.

The loader stands in for a harvest where a test is about the rules, not the harvest: it
writes the same columns the GitHub harvester fills. The acceptance test harvests over HTTP.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

from graphminer.store import open_store


def world_to_store(world: dict[str, Any], path: str | Path,
                   run_end: str | None = None) -> sqlite3.Connection:
    """Write a world into a new store at ``path`` and return the open connection."""
    conn = open_store(path)
    orgs = {org["login"]: org for org in world.get("orgs", [])}
    with conn:
        conn.executemany(
            "INSERT INTO people(id, login, type, name, email) VALUES (?,?,?,?,?)",
            [(u["id"], u["login"], u.get("type", "User"), u.get("name"), u.get("email"))
             for u in world.get("users", [])])
        conn.executemany(
            "INSERT INTO orgs(id, login, name, created_at) VALUES (?,?,?,?)",
            [(o["id"], o["login"], o.get("name"), o.get("created_at")) for o in orgs.values()])
        conn.executemany(
            "INSERT OR IGNORE INTO org_members(org_id, user_id) VALUES (?,?)",
            [(o["id"], m) for o in orgs.values() for m in o.get("members", [])])
        conn.executemany(
            "INSERT INTO repos(id, org_id, owner, name, full_name, fork, archived, default_branch,"
            " created_at, deleted_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(r["id"], orgs.get(r["owner"], {}).get("id"), r["owner"], r["name"],
              f"{r['owner']}/{r['name']}", int(r.get("fork", False)), int(r.get("archived", False)),
              r.get("default_branch", "main"), r.get("created_at"), r.get("deleted_at"))
             for r in world.get("repos", [])])
        conn.executemany(
            "INSERT INTO issues(repo_id, number, id, user_id, title, state, state_reason, created_at,"
            " updated_at, closed_at, is_pr, draft, merged_at, merged_by_id, merge_commit_sha,"
            " head_sha, author_association, labels, assignee_ids)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [issue_row(i) for i in world.get("issues", [])])
        conn.executemany(
            "INSERT INTO issue_comments(id, repo_id, issue_number, user_id, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?)",
            [(c["id"], c["repo_id"], c["issue_number"], c["user_id"], c["created_at"],
              c.get("updated_at", c["created_at"])) for c in world.get("issue_comments", [])])
        conn.executemany(
            "INSERT INTO issue_events(id, repo_id, issue_number, actor_id, event, created_at, label,"
            " assignee_id, commit_id) VALUES (?,?,?,?,?,?,?,?,?)",
            [(e["id"], e["repo_id"], e["issue_number"], e.get("actor_id"), e["event"],
              e["created_at"], e.get("label"), e.get("assignee_id"), e.get("commit_id"))
             for e in world.get("issue_events", [])])
        conn.executemany(
            "INSERT INTO reviews(id, repo_id, pr_number, user_id, state, submitted_at, commit_id)"
            " VALUES (?,?,?,?,?,?,?)",
            [(r["id"], r["repo_id"], r["pr_number"], r["user_id"], r["state"],
              r.get("submitted_at"), r.get("commit_id")) for r in world.get("reviews", [])])
        conn.executemany(
            "INSERT INTO review_comments(id, repo_id, pr_number, user_id, review_id, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?)",
            [(c["id"], c["repo_id"], c["pr_number"], c["user_id"], c.get("review_id"),
              c["created_at"], c.get("updated_at", c["created_at"]))
             for c in world.get("review_comments", [])])
        conn.executemany(
            "INSERT INTO commits(repo_id, sha, author_name, author_email, author_date,"
            " committer_name, committer_email, committer_date, author_id, committer_id, parents,"
            " message, files, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(c["repo_id"], c["sha"], c["author"]["name"], c["author"]["email"],
              c["author"]["date"], c["committer"]["name"], c["committer"]["email"],
              c["committer"]["date"], c.get("author_id"), c.get("committer_id"),
              json.dumps(c.get("parents", [])), c.get("message", ""),
              json.dumps(c["files"]) if c.get("files") is not None else None, "github")
             for c in world.get("commits", [])])
        conn.executemany(
            "INSERT INTO releases(id, repo_id, tag_name, name, author_id, draft, prerelease,"
            " created_at, published_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [(r["id"], r["repo_id"], r.get("tag_name"), r.get("name"), r.get("author_id"),
              int(r.get("draft", False)), int(r.get("prerelease", False)), r.get("created_at"),
              r.get("published_at")) for r in world.get("releases", [])])
        end = run_end or world.get("now")
        if end:
            conn.execute(
                "INSERT INTO _runs(kind, started_at, ended_at, status) VALUES ('github', ?, ?, 'ok')",
                (end, end))
    return conn


def issue_row(issue: dict[str, Any]) -> tuple:
    """An issue of the world as a row of the store's issues table."""
    pr = issue.get("pull_request") or {}
    return (
        issue["repo_id"], issue["number"], issue.get("id", issue["repo_id"] * 100000 + issue["number"]),
        issue["user_id"], issue.get("title", ""), issue.get("state", "open"),
        issue.get("state_reason"), issue["created_at"], issue.get("updated_at", issue["created_at"]),
        issue.get("closed_at"), int(bool(issue.get("pull_request"))), int(pr.get("draft", False)),
        pr.get("merged_at"), pr.get("merged_by_id"), pr.get("merge_commit_sha"), pr.get("head_sha"),
        issue.get("author_association", "NONE"), json.dumps(issue.get("labels", [])),
        json.dumps(issue.get("assignee_ids", [])),
    )


class World:
    """A tiny world built by hand: each method adds one record and returns it."""

    def __init__(self, now: str = "2024-12-31T23:59:59Z") -> None:
        self.data: dict[str, Any] = {
            "format": 1, "now": now, "users": [], "orgs": [], "repos": [], "issues": [],
            "issue_comments": [], "issue_events": [], "reviews": [], "review_comments": [], "commits": [],
            "releases": [],
        }
        self.ids = itertools.count(1000)
        self.numbers: dict[int, itertools.count] = {}
        self.shas = itertools.count(1)

    def user(self, login: str, uid: int, type: str = "User", email: str | None = None) -> int:
        self.data["users"].append({"id": uid, "login": login, "type": type, "name": login.title(),
                                   "email": email})
        return uid

    def repo(self, full_name: str, fork: bool = False) -> int:
        owner, name = full_name.split("/")
        if owner not in {o["login"] for o in self.data["orgs"]}:
            self.data["orgs"].append({"id": next(self.ids), "login": owner, "members": []})
        rid = next(self.ids)
        self.data["repos"].append({"id": rid, "owner": owner, "name": name, "fork": fork,
                                   "default_branch": "main"})
        self.numbers[rid] = itertools.count(1)
        return rid

    def issue(self, repo: int, user: int, at: str, pr: bool = False, **extra: Any) -> int:
        number = next(self.numbers[repo])
        record = {"repo_id": repo, "number": number, "user_id": user, "created_at": at,
                  "pull_request": None}
        if pr:
            record["pull_request"] = {"merged_at": extra.pop("merged_at", None),
                                      "merged_by_id": extra.pop("merged_by", None),
                                      "merge_commit_sha": extra.pop("merge_sha", None),
                                      "head_sha": extra.pop("head_sha", None)}
        record.update(extra)
        self.data["issues"].append(record)
        return number

    def pr(self, repo: int, user: int, at: str, **extra: Any) -> int:
        return self.issue(repo, user, at, pr=True, **extra)

    def comment(self, repo: int, number: int, user: int, at: str) -> None:
        self.data["issue_comments"].append({"id": next(self.ids), "repo_id": repo, "issue_number": number,
                                      "user_id": user, "created_at": at})

    def review_comment(self, repo: int, number: int, user: int, at: str) -> None:
        self.data["review_comments"].append({"id": next(self.ids), "repo_id": repo,
                                             "pr_number": number, "user_id": user,
                                             "created_at": at})

    def event(self, repo: int, number: int, actor: int | None, name: str, at: str,
              **extra: Any) -> None:
        self.data["issue_events"].append({"id": next(self.ids), "repo_id": repo, "issue_number": number,
                                    "actor_id": actor, "event": name, "created_at": at, **extra})

    def review(self, repo: int, number: int, user: int, state: str, at: str) -> None:
        self.data["reviews"].append({"id": next(self.ids), "repo_id": repo, "pr_number": number,
                                     "user_id": user, "state": state, "submitted_at": at})

    def release(self, repo: int, user: int, at: str) -> None:
        self.data["releases"].append({"id": next(self.ids), "repo_id": repo, "author_id": user,
                                      "published_at": at, "created_at": at})

    def commit(self, repo: int, at: str, author: int | None = None, email: str | None = None,
               parents: list[str] | None = None, message: str = "change",
               committer: int | None | str = "author", committer_email: str | None = None,
               files: list[str] | None = None) -> str:
        sha = f"{next(self.shas):040x}"
        author_email = email or f"user{author}@example.org"
        if committer == "author":
            committer_id, c_email = author, author_email
        elif committer == "github":
            committer_id, c_email = None, "noreply@github.com"
        elif committer is None:  # no linked account: the author's own email
            committer_id, c_email = None, committer_email or author_email
        else:
            committer_id, c_email = committer, committer_email or f"user{committer}@example.org"
        self.data["commits"].append({
            "repo_id": repo, "sha": sha, "message": message,
            "author": {"name": "A", "email": author_email, "date": at},
            "committer": {"name": "GitHub" if committer == "github" else "C", "email": c_email,
                          "date": at},
            "author_id": author, "committer_id": committer_id,
            "parents": parents if parents is not None else self.head(repo),
            "files": files,
        })
        return sha

    def head(self, repo: int) -> list[str]:
        """The parents a new commit on the default branch gets: the latest one so far."""
        own = [c for c in self.data["commits"] if c["repo_id"] == repo]
        return [own[-1]["sha"]] if own else []

    def store(self, path: str | Path) -> sqlite3.Connection:
        return world_to_store(self.data, path)
