"""The store side of the GitHub harvest: typed upserts with the raw JSON beside them,
watermarks, run bookkeeping and opt-out purges.

It knows SQL and GitHub's JSON shapes, and nothing of HTTP: ``graphminer.harvest.github``
fetches pages and hands them here. Every ``save_*`` call is one transaction, so a harvest
killed at any point leaves whole pages behind, and upserts by primary key make a page
stored twice the same as once. Watermarks are written only after the records they cover.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphminer.store import pid_alive, utc_now

# Fields of a record that embed a GitHub user object.
USER_FIELDS = ("user", "actor", "assignee", "assigner", "author", "committer", "merged_by",
               "closed_by", "requested_reviewer", "review_requester", "owner")


@dataclass
class Counts:
    """Records written by a harvest: new rows and rows whose content changed."""

    new: int = 0
    updated: int = 0
    by_table: dict[str, int] = field(default_factory=dict)


def dumps(record: Any) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def user_id(user: Any) -> int | None:
    return user.get("id") if isinstance(user, dict) else None


def users_in(record: dict) -> list[dict]:
    """The GitHub user objects embedded in a record (author, actor, assignees...)."""
    found = [record[name] for name in USER_FIELDS if isinstance(record.get(name), dict)]
    found += [user for user in record.get("assignees") or [] if isinstance(user, dict)]
    return [user for user in found if "login" in user and "id" in user]


def number_from_url(url: str | None) -> int | None:
    """The trailing number of an API URL (``.../issues/12`` -> 12)."""
    if not url:
        return None
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


# --- typed rows, one function per record kind ------------------------------------------


def org_row(raw: dict) -> dict:
    return {"id": raw["id"], "login": raw["login"], "name": raw.get("name"),
            "created_at": raw.get("created_at")}


def repo_row(org_id: int | None, raw: dict) -> dict:
    return {
        "id": raw["id"], "org_id": org_id, "owner": raw["owner"]["login"], "name": raw["name"],
        "full_name": raw["full_name"], "fork": int(bool(raw.get("fork"))),
        "archived": int(bool(raw.get("archived"))), "default_branch": raw.get("default_branch"),
        "created_at": raw.get("created_at"), "updated_at": raw.get("updated_at"),
        "pushed_at": raw.get("pushed_at"), "source": "github",
    }


def issue_row(repo_id: int, raw: dict) -> dict:
    pull = raw.get("pull_request")
    return {
        "repo_id": repo_id, "number": raw["number"], "id": raw.get("id"),
        "user_id": user_id(raw.get("user")), "title": raw.get("title"), "state": raw.get("state"),
        "state_reason": raw.get("state_reason"), "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"), "closed_at": raw.get("closed_at"),
        "is_pr": int(pull is not None),
        "draft": None if raw.get("draft") is None else int(bool(raw["draft"])),
        "merged_at": pull.get("merged_at") if isinstance(pull, dict) else None,
        "author_association": raw.get("author_association"),
        "labels": dumps([label.get("name") for label in raw.get("labels") or []
                         if isinstance(label, dict)]),
        "assignee_ids": dumps([user["id"] for user in raw.get("assignees") or []
                               if isinstance(user, dict)]),
    }


def comment_row(repo_id: int, raw: dict) -> dict:
    return {
        "id": raw["id"], "repo_id": repo_id, "issue_number": number_from_url(raw.get("issue_url")),
        "user_id": user_id(raw.get("user")), "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"), "author_association": raw.get("author_association"),
    }


def event_row(repo_id: int, raw: dict) -> dict:
    label = raw.get("label")
    return {
        "id": raw["id"], "repo_id": repo_id,
        "issue_number": (raw.get("issue") or {}).get("number"),
        "actor_id": user_id(raw.get("actor")), "event": raw.get("event"),
        "created_at": raw.get("created_at"),
        "label": label.get("name") if isinstance(label, dict) else None,
        "assignee_id": user_id(raw.get("assignee")), "commit_id": raw.get("commit_id"),
    }


def review_row(repo_id: int, pr_number: int, raw: dict) -> dict:
    return {
        "id": raw["id"], "repo_id": repo_id, "pr_number": pr_number,
        "user_id": user_id(raw.get("user")), "state": raw.get("state"),
        "submitted_at": raw.get("submitted_at"), "commit_id": raw.get("commit_id"),
    }


def review_comment_row(repo_id: int, raw: dict) -> dict:
    return {
        "id": raw["id"], "repo_id": repo_id,
        "pr_number": number_from_url(raw.get("pull_request_url")),
        "user_id": user_id(raw.get("user")), "review_id": raw.get("pull_request_review_id"),
        "in_reply_to_id": raw.get("in_reply_to_id"), "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"),
    }


def pull_row(repo_id: int, raw: dict) -> dict:
    head, base = raw.get("head") or {}, raw.get("base") or {}
    return {
        "repo_id": repo_id, "number": raw["number"], "id": raw.get("id"),
        "updated_at": raw.get("updated_at"), "merged_at": raw.get("merged_at"),
        "merge_commit_sha": raw.get("merge_commit_sha"), "head_sha": head.get("sha"),
        "head_ref": head.get("ref"), "base_ref": base.get("ref"),
    }


def commit_row(repo_id: int, raw: dict) -> dict:
    commit = raw.get("commit") or {}
    author, committer = commit.get("author") or {}, commit.get("committer") or {}
    return {
        "repo_id": repo_id, "sha": raw["sha"], "author_name": author.get("name"),
        "author_email": author.get("email"), "author_date": author.get("date"),
        "committer_name": committer.get("name"), "committer_email": committer.get("email"),
        "committer_date": committer.get("date"), "author_id": user_id(raw.get("author")),
        "committer_id": user_id(raw.get("committer")),
        "parents": dumps([parent.get("sha") for parent in raw.get("parents") or []]),
        "message": commit.get("message"), "source": "github",
    }


def release_row(repo_id: int, raw: dict) -> dict:
    return {
        "id": raw["id"], "repo_id": repo_id, "tag_name": raw.get("tag_name"),
        "name": raw.get("name"), "author_id": user_id(raw.get("author")),
        "draft": int(bool(raw.get("draft"))), "prerelease": int(bool(raw.get("prerelease"))),
        "created_at": raw.get("created_at"), "published_at": raw.get("published_at"),
    }


def slim_event(raw: dict) -> dict:
    """An issue event without its embedded copy of the issue: the issue is stored on its
    own, and the copy would go stale (and mark the event changed) at every issue edit."""
    issue = raw.get("issue")
    if not isinstance(issue, dict):
        return raw
    return {**raw, "issue": {"id": issue.get("id"), "number": issue.get("number")}}


def slim_pull(raw: dict) -> dict:
    """A /pulls listing item without the two full repository objects it embeds."""
    slim = dict(raw)
    for side in ("head", "base"):
        part = slim.get(side)
        if isinstance(part, dict) and isinstance(part.get("repo"), dict):
            slim[side] = {**part, "repo": {"id": part["repo"].get("id"),
                                           "full_name": part["repo"].get("full_name")}}
    return slim


# --- opt-outs ---------------------------------------------------------------------------


class OptOut:
    """The config's opt-out list: logins and emails never stored."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = {str(name).strip().lower() for name in names if str(name).strip()}

    def __bool__(self) -> bool:
        return bool(self.names)

    def has(self, value: Any) -> bool:
        return isinstance(value, str) and value.lower() in self.names

    def user_out(self, user: Any) -> bool:
        return isinstance(user, dict) and self.has(user.get("login"))

    def scrub(self, value: Any) -> Any:
        """``value`` with every embedded opted-out user object replaced by null."""
        if not self.names:
            return value
        if isinstance(value, dict):
            if self.user_out(value):
                return None
            return {key: self.scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        return value

    def commit_out(self, raw: dict) -> bool:
        """A commit authored by an opted-out person (by login or by email)."""
        author = (raw.get("commit") or {}).get("author") or {}
        return self.user_out(raw.get("author")) or self.has(author.get("email"))


# --- the writer -------------------------------------------------------------------------

# table -> (primary key columns, columns an upsert must not overwrite)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orgs": (("id",), ()),
    "repos": (("id",), ("deleted_at",)),
    "issues": (("repo_id", "number"), ("merged_by_id", "merge_commit_sha", "head_sha")),
    "issue_comments": (("id",), ()),
    "issue_events": (("id",), ()),
    "reviews": (("id",), ()),
    "review_comments": (("id",), ()),
    "pulls": (("repo_id", "number"), ()),
    "commits": (("repo_id", "sha"), ("files",)),
    "releases": (("id",), ()),
}


class Saver:
    """Writes harvested records into one store, counting what is new or changed."""

    def __init__(self, conn: sqlite3.Connection, opt_out: Iterable[str] = ()) -> None:
        self.conn = conn
        self.opt_out = OptOut(opt_out)
        self.counts = Counts()

    # records ---------------------------------------------------------------------------

    def save_org(self, raw: dict) -> None:
        with self.conn:
            self._upsert("orgs", [(org_row(raw), raw)])

    def save_members(self, org_id: int, users: list[dict]) -> None:
        """Replace the org's public members with this complete listing."""
        kept = [user for user in users if not self.opt_out.user_out(user)]
        with self.conn:
            self._save_people(kept)
            self.conn.execute("DELETE FROM org_members WHERE org_id=?", (org_id,))
            self.conn.executemany(
                "INSERT OR IGNORE INTO org_members(org_id, user_id, public) VALUES (?, ?, 1)",
                [(org_id, user["id"]) for user in kept],
            )

    def save_repo(self, org_id: int | None, raw: dict) -> None:
        with self.conn:
            self._upsert("repos", [(repo_row(org_id, raw), raw)])
            self.conn.execute("UPDATE repos SET deleted_at=NULL WHERE id=?", (raw["id"],))

    def mark_deleted(self, repo_ids: Iterable[int], when: str | None = None) -> int:
        """Record repos found gone upstream (their records stay: the history happened)."""
        when = when or utc_now()
        with self.conn:
            cursor = self.conn.executemany(
                "UPDATE repos SET deleted_at=? WHERE id=? AND deleted_at IS NULL",
                [(when, repo_id) for repo_id in repo_ids],
            )
        return cursor.rowcount

    def repos_of_org(self, org_id: int) -> dict[int, str]:
        """Stored repos of an org that are not marked deleted: id -> full_name."""
        rows = self.conn.execute(
            "SELECT id, full_name FROM repos WHERE org_id=? AND deleted_at IS NULL AND source='github'",
            (org_id,),
        )
        return {row[0]: row[1] for row in rows}

    def save_issues(self, repo_id: int, items: list[dict]) -> None:
        self._save("issues", items, lambda raw: issue_row(repo_id, raw),
                   drop=lambda raw: self.opt_out.user_out(raw.get("user")))

    def save_comments(self, repo_id: int, items: list[dict]) -> None:
        self._save("issue_comments", items, lambda raw: comment_row(repo_id, raw),
                   drop=lambda raw: self.opt_out.user_out(raw.get("user")))

    def save_events(self, repo_id: int, items: list[dict]) -> None:
        self._save("issue_events", [slim_event(raw) for raw in items],
                   lambda raw: event_row(repo_id, raw),
                   drop=lambda raw: self.opt_out.user_out(raw.get("actor")))

    def save_reviews(self, repo_id: int, pr_number: int, items: list[dict]) -> None:
        self._save("reviews", items, lambda raw: review_row(repo_id, pr_number, raw),
                   drop=lambda raw: self.opt_out.user_out(raw.get("user")))

    def save_review_comments(self, repo_id: int, items: list[dict]) -> None:
        self._save("review_comments", items, lambda raw: review_comment_row(repo_id, raw),
                   drop=lambda raw: self.opt_out.user_out(raw.get("user")))

    def save_pulls(self, repo_id: int, items: list[dict]) -> None:
        self._save("pulls", [slim_pull(raw) for raw in items], lambda raw: pull_row(repo_id, raw),
                   drop=lambda raw: self.opt_out.user_out(raw.get("user")))

    def save_commits(self, repo_id: int, items: list[dict]) -> None:
        self._save("commits", items, lambda raw: commit_row(repo_id, raw),
                   drop=self.opt_out.commit_out)

    def save_releases(self, repo_id: int, items: list[dict]) -> None:
        self._save("releases", items, lambda raw: release_row(repo_id, raw),
                   drop=lambda raw: self.opt_out.user_out(raw.get("author")))

    def link_pull_details(self, repo_id: int) -> None:
        """Copy onto each PR what other listings know: the merger (from its latest
        'merged' event) and the head and merge commits (from the /pulls listing).
        Only rows that change are written, so a quiet night writes nothing."""
        with self.conn:
            self.conn.execute(
                """WITH links AS (
                     SELECT i.number,
                       (SELECT e.actor_id FROM issue_events e
                        WHERE e.repo_id = i.repo_id AND e.issue_number = i.number
                          AND e.event = 'merged'
                        ORDER BY e.created_at DESC, e.id DESC LIMIT 1) AS merged_by_id,
                       p.merge_commit_sha, p.head_sha
                     FROM issues i LEFT JOIN pulls p ON p.repo_id = i.repo_id AND p.number = i.number
                     WHERE i.repo_id = :repo AND i.is_pr = 1)
                   UPDATE issues SET merged_by_id = links.merged_by_id,
                     merge_commit_sha = links.merge_commit_sha, head_sha = links.head_sha
                   FROM links
                   WHERE issues.repo_id = :repo AND issues.number = links.number
                     AND (issues.merged_by_id IS NOT links.merged_by_id
                          OR issues.merge_commit_sha IS NOT links.merge_commit_sha
                          OR issues.head_sha IS NOT links.head_sha)""",
                {"repo": repo_id},
            )

    def missing_parents(self, repo_id: int) -> set[str]:
        """Parents of the repo's API-harvested commits that are not stored themselves."""
        rows = self.conn.execute(
            """SELECT DISTINCT parent.value FROM commits c, json_each(c.parents) parent
               WHERE c.repo_id = :repo AND c.source != 'git' AND parent.value NOT IN
                 (SELECT sha FROM commits WHERE repo_id = :repo)""",
            {"repo": repo_id})
        return {row[0] for row in rows}

    def known_commits(self, repo_id: int, shas: list[str]) -> set[str]:
        if not shas:
            return set()
        marks = ", ".join("?" * len(shas))
        rows = self.conn.execute(
            f"SELECT sha FROM commits WHERE repo_id=? AND sha IN ({marks})", [repo_id, *shas])
        return {row[0] for row in rows}

    # people ----------------------------------------------------------------------------

    def _save_people(self, users: list[dict]) -> None:
        rows = {}
        for user in users:
            if self.opt_out.user_out(user):
                continue
            rows[user["id"]] = (user["id"], user["login"], user.get("type"),
                                int(bool(user.get("site_admin"))), dumps(user))
        self.conn.executemany(
            """INSERT INTO people(id, login, type, site_admin, raw) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT(id) DO UPDATE SET login=excluded.login, type=excluded.type,
                 site_admin=excluded.site_admin, raw=excluded.raw
               WHERE people.login IS NOT excluded.login OR people.raw IS NOT excluded.raw""",
            list(rows.values()),
        )

    def save_profile(self, raw: dict) -> None:
        """A user's profile (only with ``harvest.profile_fields``): name and public email."""
        if self.opt_out.user_out(raw) or self.opt_out.has(raw.get("email")):
            return
        with self.conn:
            self._save_people([raw])
            self.conn.execute("UPDATE people SET name=?, email=? WHERE id=?",
                              (raw.get("name"), raw.get("email"), raw["id"]))

    # generic upsert --------------------------------------------------------------------

    def _save(self, table: str, items: list[dict], to_row, drop) -> None:
        pairs, people = [], []
        for raw in items:
            if self.opt_out and drop(raw):
                continue
            raw = self.opt_out.scrub(raw)
            people.extend(users_in(raw))
            pairs.append((to_row(raw), raw))
        with self.conn:
            self._save_people(people)
            self._upsert(table, pairs)

    def _upsert(self, table: str, pairs: list[tuple[dict, dict]]) -> None:
        """Insert new rows, update changed ones (by raw JSON), leave the rest untouched."""
        if not pairs:
            return
        keys, keep = TABLES[table]
        rows = []
        for row, raw in pairs:
            rows.append({**row, "raw": dumps(raw)})
        stored = self._stored_raw(table, keys, rows)
        changed = []
        for row in rows:
            key = tuple(row[k] for k in keys)
            if key not in stored:
                self.counts.new += 1
            elif stored[key] != row["raw"]:
                self.counts.updated += 1
            else:
                continue
            changed.append(row)
            self.counts.by_table[table] = self.counts.by_table.get(table, 0) + 1
        if not changed:
            return
        columns = list(changed[0])
        updates = [f"{c}=excluded.{c}" for c in columns if c not in keys and c not in keep]
        if table == "commits":
            # A commit first seen by the git harvester is now seen by both sources.
            updates = [u for u in updates if not u.startswith("source=")]
            updates.append("source=CASE WHEN commits.source='github' THEN 'github' ELSE 'both' END")
        sql = (f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
               f"ON CONFLICT({', '.join(keys)}) DO UPDATE SET {', '.join(updates)}")
        self.conn.executemany(sql, [tuple(row[c] for c in columns) for row in changed])

    def _stored_raw(self, table: str, keys: tuple[str, ...], rows: list[dict]) -> dict[tuple, str]:
        found: dict[tuple, str] = {}
        for start in range(0, len(rows), 400):
            chunk = rows[start:start + 400]
            placeholders = ", ".join("(" + ", ".join("?" * len(keys)) + ")" for _ in chunk)
            params = [row[k] for row in chunk for k in keys]
            sql = (f"SELECT {', '.join(keys)}, raw FROM {table} "
                   f"WHERE ({', '.join(keys)}) IN (VALUES {placeholders})")
            for record in self.conn.execute(sql, params):
                found[tuple(record[: len(keys)])] = record[len(keys)]
        return found

    # opt-out purge ---------------------------------------------------------------------

    def purge_opted_out(self) -> int:
        """Remove what was stored about opted-out people before they opted out."""
        if not self.opt_out:
            return 0
        names = sorted(self.opt_out.names)
        marks = ", ".join("?" * len(names))
        with self.conn:
            ids = [row[0] for row in self.conn.execute(
                f"SELECT id FROM people WHERE lower(login) IN ({marks}) OR lower(email) IN ({marks})",
                names + names)]
            removed = 0
            id_marks = ", ".join("?" * len(ids))
            if ids:
                removed += self.conn.execute(
                    f"DELETE FROM pulls WHERE (repo_id, number) IN "
                    f"(SELECT repo_id, number FROM issues WHERE user_id IN ({id_marks}))", ids).rowcount
                for table, column in (("issues", "user_id"), ("issue_comments", "user_id"),
                                      ("issue_events", "actor_id"), ("reviews", "user_id"),
                                      ("review_comments", "user_id"), ("releases", "author_id"),
                                      ("org_members", "user_id"), ("people", "id")):
                    removed += self.conn.execute(
                        f"DELETE FROM {table} WHERE {column} IN ({id_marks})", ids).rowcount
                for table, column in (("issues", "merged_by_id"), ("issue_events", "assignee_id"),
                                      ("commits", "committer_id")):
                    self.conn.execute(
                        f"UPDATE {table} SET {column}=NULL WHERE {column} IN ({id_marks})", ids)
            removed += self.conn.execute(
                f"DELETE FROM commits WHERE lower(author_email) IN ({marks})"
                + (f" OR author_id IN ({id_marks})" if ids else ""), names + ids).rowcount
            self.conn.execute(
                f"UPDATE commits SET committer_name=NULL, committer_email=NULL "
                f"WHERE lower(committer_email) IN ({marks})", names)
            self._rescrub_raw(names)
        return removed

    def _rescrub_raw(self, names: list[str]) -> None:
        """Null the opted-out people embedded in other people's records' raw JSON."""
        for table, (keys, _) in TABLES.items():
            for name in names:
                pattern = f'%"login":"{name}"%'
                rows = self.conn.execute(
                    f"SELECT {', '.join(keys)}, raw FROM {table} WHERE lower(raw) LIKE ?",
                    (pattern,)).fetchall()
                for row in rows:
                    raw = self.opt_out.scrub(json.loads(row["raw"]))
                    if table == "issues":
                        ids = [u["id"] for u in raw.get("assignees") or [] if isinstance(u, dict)]
                        self.conn.execute(
                            "UPDATE issues SET assignee_ids=? WHERE repo_id=? AND number=?",
                            (dumps(ids), row[0], row[1]))
                    where = " AND ".join(f"{k}=?" for k in keys)
                    self.conn.execute(f"UPDATE {table} SET raw=? WHERE {where}",
                                      [dumps(raw)] + [row[k] for k in keys])


# --- watermarks and runs ----------------------------------------------------------------


def watermark(conn: sqlite3.Connection, scope: str, endpoint: str) -> sqlite3.Row | None:
    """The stored progress of one listing (``since``, ``cursor``), or None."""
    return conn.execute("SELECT since, cursor FROM _watermarks WHERE scope=? AND endpoint=?",
                        (scope, endpoint)).fetchone()


def set_watermark(conn: sqlite3.Connection, scope: str, endpoint: str, since: str | None,
                  cursor: str | None = None, validators: dict | None = None) -> None:
    """Record a listing's progress once the records it covers are stored; ``validators``
    are its first page's ETag and Last-Modified (the HTTP cache revalidates with them)."""
    validators = validators or {}
    with conn:
        conn.execute(
            """INSERT INTO _watermarks(scope, endpoint, since, cursor, etag, last_modified, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(scope, endpoint) DO UPDATE SET since=excluded.since,
                 cursor=excluded.cursor, etag=excluded.etag,
                 last_modified=excluded.last_modified, updated_at=excluded.updated_at""",
            (scope, endpoint, since, cursor, validators.get("etag"),
             validators.get("last_modified"), utc_now()),
        )


def start_run(conn: sqlite3.Connection, source: str, orgs: list[str]) -> int:
    """Open a ``_runs`` row (status 'running'); runs left running by a dead process are
    marked 'killed' first."""
    with conn:
        for row in conn.execute("SELECT id, pid FROM _runs WHERE status='running'").fetchall():
            if row["pid"] is None or not pid_alive(row["pid"]):
                conn.execute("UPDATE _runs SET status='killed' WHERE id=?", (row["id"],))
        cursor = conn.execute(
            "INSERT INTO _runs(kind, started_at, status, source, orgs, pid) "
            "VALUES ('github', ?, 'running', ?, ?, ?)",
            (utc_now(), source, dumps(orgs), os.getpid()),
        )
    return cursor.lastrowid


def finish_run(conn: sqlite3.Connection, run_id: int, status: str, *, requests: int,
               not_modified: int, rate_remaining: int | None, counts: Counts,
               failures: list[dict], ended_at: str | None = None) -> None:
    """Close a ``_runs`` row; ``ended_at`` is the source's time (the API's ``Date``), the
    local clock when there is none."""
    with conn:
        conn.execute(
            """UPDATE _runs SET ended_at=?, status=?, requests=?, not_modified=?,
                 rate_remaining=?, records_new=?, records_updated=?, failures=? WHERE id=?""",
            (ended_at or utc_now(), status, requests, not_modified, rate_remaining, counts.new,
             counts.updated, dumps(failures), run_id),
        )

