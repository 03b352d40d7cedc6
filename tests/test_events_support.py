"""Hand-built worlds for the events and trajectory tests, and a loader that writes a world
(fakehub's world format, docs/world-format.md) straight into a real store file.

The loader stands in for a harvest where a test is about the rules, not the harvest: it
writes the same columns the GitHub harvester fills. The acceptance test harvests over HTTP.
``world_file_to_store`` writes a world file the same way, one record at a time (the
benchmarks' worlds of millions of records do not fit in memory as dicts).
"""

from __future__ import annotations

import gzip
import itertools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from graphminer.fakehub.world import FORMER_NAMES
from graphminer.store import open_store


def world_to_store(world: dict[str, Any], path: str | Path,
                   run_end: str | None = None) -> sqlite3.Connection:
    """Write a world into a new store at ``path`` and return the open connection."""
    conn = open_store(path)
    world = {FORMER_NAMES.get(name, name): value for name, value in world.items()}
    with conn:
        write_accounts(conn, world)
        for name in RECORDS:
            write_records(conn, name, world.get(name, []))
        note_run(conn, run_end or world.get("now"))
    return conn


def write_accounts(conn: sqlite3.Connection, world: dict[str, Any]) -> None:
    """The world's users, orgs, org members and repos, as the harvester stores them."""
    orgs = {org["login"]: org for org in world.get("orgs", [])}
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


def write_records(conn: sqlite3.Connection, name: str, records: Iterable[dict[str, Any]]) -> None:
    """One collection's records (a list, or an iterator read once) into its table."""
    statement, row = RECORDS[name]
    conn.executemany(statement, map(row, records))


def note_run(conn: sqlite3.Connection, end: str | None) -> None:
    """A finished GitHub harvest ending at ``end`` (the world's now), when there is one."""
    if end:
        conn.execute(
            "INSERT INTO _runs(kind, started_at, ended_at, status) VALUES ('github', ?, ?, 'ok')",
            (end, end))


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


def commit_row(c: dict[str, Any]) -> tuple:
    """A commit of the world as a row of the store's commits table."""
    return (c["repo_id"], c["sha"], c["author"]["name"], c["author"]["email"],
            c["author"]["date"], c["committer"]["name"], c["committer"]["email"],
            c["committer"]["date"], c.get("author_id"), c.get("committer_id"),
            json.dumps(c.get("parents", [])), c.get("message", ""),
            json.dumps(c["files"]) if c.get("files") is not None else None, "github")


# collection -> (its table's INSERT, a record as that table's row), in the order written
RECORDS: dict[str, tuple[str, Callable[[dict[str, Any]], tuple]]] = {
    "issues": (
        "INSERT INTO issues(repo_id, number, id, user_id, title, state, state_reason, created_at,"
        " updated_at, closed_at, is_pr, draft, merged_at, merged_by_id, merge_commit_sha,"
        " head_sha, author_association, labels, assignee_ids)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", issue_row),
    "issue_comments": (
        "INSERT INTO issue_comments(id, repo_id, issue_number, user_id, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?)",
        lambda c: (c["id"], c["repo_id"], c["issue_number"], c["user_id"], c["created_at"],
                   c.get("updated_at", c["created_at"]))),
    "issue_events": (
        "INSERT INTO issue_events(id, repo_id, issue_number, actor_id, event, created_at, label,"
        " assignee_id, commit_id) VALUES (?,?,?,?,?,?,?,?,?)",
        lambda e: (e["id"], e["repo_id"], e["issue_number"], e.get("actor_id"), e["event"],
                   e["created_at"], e.get("label"), e.get("assignee_id"), e.get("commit_id"))),
    "reviews": (
        "INSERT INTO reviews(id, repo_id, pr_number, user_id, state, submitted_at, commit_id)"
        " VALUES (?,?,?,?,?,?,?)",
        lambda r: (r["id"], r["repo_id"], r["pr_number"], r["user_id"], r["state"],
                   r.get("submitted_at"), r.get("commit_id"))),
    "review_comments": (
        "INSERT INTO review_comments(id, repo_id, pr_number, user_id, review_id, created_at,"
        " updated_at) VALUES (?,?,?,?,?,?,?)",
        lambda c: (c["id"], c["repo_id"], c["pr_number"], c["user_id"], c.get("review_id"),
                   c["created_at"], c.get("updated_at", c["created_at"]))),
    "commits": (
        "INSERT INTO commits(repo_id, sha, author_name, author_email, author_date,"
        " committer_name, committer_email, committer_date, author_id, committer_id, parents,"
        " message, files, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", commit_row),
    "releases": (
        "INSERT INTO releases(id, repo_id, tag_name, name, author_id, draft, prerelease,"
        " created_at, published_at) VALUES (?,?,?,?,?,?,?,?,?)",
        lambda r: (r["id"], r["repo_id"], r.get("tag_name"), r.get("name"), r.get("author_id"),
                   int(r.get("draft", False)), int(r.get("prerelease", False)), r.get("created_at"),
                   r.get("published_at"))),
}


def world_file_to_store(world: str | Path, path: str | Path) -> tuple[sqlite3.Connection, int]:
    """Write a world file (as ``fakehub generate`` writes it: the small collections before
    the record collections) into a new store at ``path``, one record at a time, and return
    the open connection and the number of records written. The same rows as
    ``world_to_store``; for a benchmark's own store only, the fill runs without a journal
    or syncs and builds the record tables' indexes once at the end (a crash leaves a
    store to delete)."""
    conn = open_store(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")  # 256 MB
    tables = [RECORDS[name][0].split()[2].split("(")[0] for name in RECORDS]
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
        f"tbl_name IN ({','.join('?' * len(tables))})", tables).fetchall()
    small: dict[str, Any] = {}
    written, accounts = 0, False
    with conn, _opened(world) as handle:
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        for name, value in _JsonStream(handle).entries():
            name = FORMER_NAMES.get(name, name)
            if name not in RECORDS:
                small[name] = list(value) if isinstance(value, Iterator) else value
                continue
            if not accounts:
                write_accounts(conn, small)
                accounts = True
            counter = itertools.count()
            write_records(conn, name, (record for record, _ in zip(value, counter, strict=False)))
            written += next(counter)
        if not accounts:
            write_accounts(conn, small)
        for _, index in indexes:
            conn.execute(index)
        note_run(conn, small.get("now"))
    conn.execute("PRAGMA journal_mode=WAL")
    return conn, written


def _opened(path: str | Path) -> IO[str]:
    """A world file (gzip or plain JSON) open as text."""
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    return (gzip.open if gzipped else open)(path, "rt", encoding="utf-8")


class _JsonStream:
    """A JSON object read from a text file one top-level entry at a time, the entries that
    are lists one item at a time (each item decoded by the json module): ``entries()``
    yields (name, value), a list as an iterator of its items to read before the next entry."""

    def __init__(self, handle: IO[str], chunk: int = 1 << 22) -> None:
        self.handle, self.chunk = handle, chunk
        self.text, self.at, self.ended = "", 0, False
        self.decode = json.JSONDecoder().raw_decode

    def entries(self) -> Iterator[tuple[str, Any]]:
        self._expect("{")
        if self._next_char() == "}":
            return
        while True:
            name = self._value()
            self._expect(":")
            if self._next_char() == "[":
                self.at += 1
                yield name, self._items()
            else:
                yield name, self._value()
            if self._expect(",}") == "}":
                return

    def _items(self) -> Iterator[Any]:
        if self._next_char() == "]":
            self.at += 1
            return
        while True:
            yield self._value()
            if self._expect(",]") == "]":
                return

    def _more(self) -> None:
        read = self.handle.read(self.chunk)
        self.text, self.at, self.ended = self.text[self.at:] + read, 0, not read

    def _next_char(self) -> str:
        """The next character that is not white space (not consumed)."""
        while True:
            while self.at < len(self.text) and self.text[self.at] in " \t\r\n":
                self.at += 1
            if self.at < len(self.text):
                return self.text[self.at]
            if self.ended:
                raise ValueError("the world file ends too early")
            self._more()

    def _expect(self, chars: str) -> str:
        char = self._next_char()
        if char not in chars:
            raise ValueError(f"the world file has {char!r} where one of {chars!r} belongs")
        self.at += 1
        return char

    def _value(self) -> Any:
        """The next JSON value (a number only once the character after it is read)."""
        self._next_char()
        while True:
            try:
                value, end = self.decode(self.text, self.at)
                if end < len(self.text) or self.ended:
                    self.at = end
                    return value
            except json.JSONDecodeError:
                if self.ended:
                    raise
            self._more()


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
