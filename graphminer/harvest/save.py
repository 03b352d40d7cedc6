"""The store side of the GitHub harvest: typed upserts with the raw JSON beside them,
renames, transfers, purges (opt-outs and repos turned private).

It knows SQL, and nothing of HTTP: ``graphminer.harvest.github`` fetches pages and hands
them here with their ``Listing`` (``graphminer.harvest.listings``), whose row builder
(``graphminer.harvest.rows``) makes the typed row. Every ``save_*`` call is one transaction, so a harvest
killed at any point leaves whole pages behind, and upserts by primary key make a page
stored twice the same as once. Watermarks are written only after the records they cover.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphminer.harvest.listings import EVERY_LISTING, Listing
from graphminer.harvest.rows import dumps, org_row, repo_row, users_in
from graphminer.harvest.runs import forget_watermarks
from graphminer.store import utc_now

# Tables holding a repo's records (a purged repo leaves none behind): every listing's, and
# the git harvester's pull refs.
REPO_TABLES = (*dict.fromkeys(listing.table for listing in EVERY_LISTING), "pull_refs")


@dataclass
class Counts:
    """Records written by a harvest: new rows and rows whose content changed."""

    new: int = 0
    updated: int = 0
    by_table: dict[str, int] = field(default_factory=dict)


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


# --- records GH Archive stored first (graphminer.harvest.archive) ---------------------

ARCHIVE_TABLES = ("repos", "issues", "issue_comments", "issue_events", "reviews", "review_comments", "releases")


def archive_sourced(table: str, updates: list[str]) -> list[str]:
    """The upsert's updates with ``source`` for a table GH Archive also writes: a record the
    archive stored first is now the API's too ('both'; the API's fields win, as the rest of
    the upsert writes them)."""
    if table not in ARCHIVE_TABLES:
        return updates
    otherwise = "excluded.source" if table == "repos" else f"{table}.source"
    return [update for update in updates if not update.startswith("source=")] + [
        f"source=CASE WHEN {table}.source IN ('archive', 'both') THEN 'both' ELSE {otherwise} END"]


def archive_events_rekeyed(conn: sqlite3.Connection, rows: list[dict]) -> None:
    """An issue event GH Archive showed has no GitHub id there (a provisional negative one,
    source 'archive'): the API's event of the same issue, kind and time (REST's id, or
    GraphQL's provisional one) takes it over."""
    conn.executemany(
        "UPDATE issue_events SET id=? WHERE id<0 AND source='archive' AND repo_id=? AND issue_number=? "
        "AND event=? AND created_at=? AND NOT EXISTS (SELECT 1 FROM issue_events WHERE id=?)",
        [(row["id"], row["repo_id"], row["issue_number"], row["event"], row["created_at"], row["id"])
         for row in rows if row.get("id") is not None])


# --- the writer -------------------------------------------------------------------------

# table -> (primary key columns, columns an upsert must not overwrite): the org listings',
# then each repo listing's as it declares them
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orgs": (("id",), ()),
    "repos": (("id",), ("deleted_at",)),
    **{listing.table: (listing.key, listing.kept) for listing in EVERY_LISTING},
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
        """Store a listed repo; a new full_name for a known id is a rename (or a transfer
        between harvested orgs): the old name is kept as an alias."""
        with self.conn:
            before = self.conn.execute("SELECT full_name FROM repos WHERE id=?",
                                       (raw["id"],)).fetchone()
            if before is not None and before[0] != raw["full_name"]:
                self._alias(raw["id"], before[0])
            self.conn.execute("DELETE FROM repo_aliases WHERE full_name=?", (raw["full_name"],))
            self._upsert("repos", [(repo_row(org_id, raw), raw)])
            self.conn.execute("UPDATE repos SET deleted_at=NULL, transferred_to=NULL WHERE id=?",
                              (raw["id"],))

    def _alias(self, repo_id: int, old_name: str) -> None:
        self.conn.execute(
            "INSERT INTO repo_aliases(full_name, repo_id, until) VALUES (?, ?, ?) "
            "ON CONFLICT(full_name) DO UPDATE SET repo_id=excluded.repo_id, until=excluded.until",
            (old_name, repo_id, utc_now()))

    def mark_transferred(self, repo_id: int, new_full_name: str) -> int:
        """A repo moved to an owner outside the harvest: it left it (``deleted_at``), its
        history stays, and where it went is recorded."""
        with self.conn:
            cursor = self.conn.execute(
                "UPDATE repos SET deleted_at=COALESCE(deleted_at, ?), transferred_to=? "
                "WHERE id=? AND transferred_to IS NOT ?",
                (utc_now(), new_full_name, repo_id, new_full_name))
        return cursor.rowcount

    def purge_repo(self, repo_id: int) -> int:
        """Remove every record of a repo (one that turned private): nothing of it stays."""
        with self.conn:
            removed = sum(self.conn.execute(f"DELETE FROM {table} WHERE repo_id=?",
                                            (repo_id,)).rowcount for table in REPO_TABLES)
            removed += self.conn.execute("DELETE FROM repos WHERE id=?", (repo_id,)).rowcount
            self.conn.execute("DELETE FROM repo_aliases WHERE repo_id=?", (repo_id,))
            forget_watermarks(self.conn, f"repo:{repo_id}")
        return removed

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
        """Stored repos of an org that are not marked deleted: id -> full_name (the API's,
        including those GH Archive stored first: source 'both')."""
        rows = self.conn.execute(
            "SELECT id, full_name FROM repos WHERE org_id=? AND deleted_at IS NULL AND source IN ('github', 'both')",
            (org_id,),
        )
        return {row[0]: row[1] for row in rows}

    def save(self, listing: Listing, repo_id: int, items: list[dict],
             number: int | None = None) -> None:
        """Store one page of ``listing`` (``number``: the issue or PR of a per-item listing)."""
        if listing.slim:
            items = [listing.slim(raw) for raw in items]
        if number is None:
            to_row = lambda raw: listing.row(repo_id, raw)  # noqa: E731
        else:
            to_row = lambda raw: listing.row(repo_id, raw, number)  # noqa: E731
        if listing.author:
            drop = lambda raw: self.opt_out.user_out(raw.get(listing.author))  # noqa: E731
        else:
            drop = self.opt_out.commit_out
        self._save(listing.table, items, to_row, drop)

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

    def updated_by_number(self, table: str, repo_id: int) -> dict[int, str | None]:
        """The stored ``updated_at`` of each of a repo's items in ``table`` (pulls), by number."""
        return {row[0]: row[1] for row in self.conn.execute(
            f"SELECT number, updated_at FROM {table} WHERE repo_id=?", (repo_id,))}  # noqa: S608

    def holds(self, table: str, repo_id: int) -> bool:
        """Whether the store holds any record of the repo in ``table`` (a pull request
        counts whether /pulls or /issues stored it: a PR is an issue too)."""
        held = self.conn.execute(f"SELECT 1 FROM {table} WHERE repo_id=? LIMIT 1",  # noqa: S608
                                 (repo_id,)).fetchone() is not None
        if table == "pulls" and not held:
            held = self.conn.execute("SELECT 1 FROM issues WHERE repo_id=? AND is_pr=1 LIMIT 1",
                                     (repo_id,)).fetchone() is not None
        return held

    def issues_updated(self, repo_id: int, since: str | None, created_by: str | None) -> list[int]:
        """Issues (and PRs) updated since ``since`` and created by ``created_by`` (either
        bound None: open): the ones that may hold events not yet stored."""
        rows = self.conn.execute(
            "SELECT number FROM issues WHERE repo_id=:repo "
            "AND (:since IS NULL OR updated_at >= :since) "
            "AND (:created IS NULL OR created_at <= :created) ORDER BY number",
            {"repo": repo_id, "since": since, "created": created_by})
        return [row[0] for row in rows]

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
            if table == "issue_events":
                self._rekey_events([row for row, _ in pairs])
            self._upsert(table, pairs)

    def _rekey_events(self, rows: list[dict]) -> None:
        """An event stored from GraphQL (a provisional negative id) takes the numeric id
        REST gives it, found by the node id both APIs share; then the upsert updates it.
        So does one GH Archive showed (closed, reopened, merged: no id there), found by its
        issue, kind and time (``archive_events_rekeyed``)."""
        self.conn.executemany(
            "UPDATE issue_events SET id=? WHERE node_id=? AND id<0",
            [(row["id"], row["node_id"]) for row in rows if row.get("node_id") and row["id"] > 0])
        archive_events_rekeyed(self.conn, rows)

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
        updates = archive_sourced(table, updates)
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
            # annotated tags harvest-git stored as releases (their tagger is an email)
            removed += self.conn.execute(
                f"DELETE FROM releases WHERE source = 'git' AND lower(tagger_email) IN ({marks})",
                names).rowcount
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
