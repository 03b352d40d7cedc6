"""The bookkeeping of every harvest (GitHub and git): one ``_runs`` row per run, and the
per-listing progress in ``_watermarks``, keyed by scope (``repo:<id>``) and the listing's
name (``graphminer.harvest.listings``, or the git harvester's head).

A run left 'running' by a dead process is marked 'killed' when the next one starts.
Watermarks are written only after the records they cover, so a killed run resumes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable

from graphminer.store import pid_alive, utc_now


def watermark(conn: sqlite3.Connection, scope: str, endpoint: str) -> sqlite3.Row | None:
    """The stored progress of one listing (``since``, ``cursor``, ``per_page``), or None."""
    return conn.execute(
        "SELECT since, cursor, per_page FROM _watermarks WHERE scope=? AND endpoint=?",
        (scope, endpoint)).fetchone()


def set_watermark(conn: sqlite3.Connection, scope: str, endpoint: str, since: str | None,
                  cursor: str | None = None, validators: dict | None = None,
                  per_page: int | None = None) -> None:
    """Record a listing's progress once the records it covers are stored; ``validators``
    are its first page's ETag and Last-Modified (the HTTP cache revalidates with them);
    ``per_page`` the page size GitHub last served it with (kept when not given)."""
    validators = validators or {}
    with conn:
        conn.execute(
            """INSERT INTO _watermarks(scope, endpoint, since, cursor, etag, last_modified,
                                       updated_at, per_page)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(scope, endpoint) DO UPDATE SET since=excluded.since,
                 cursor=excluded.cursor, etag=excluded.etag,
                 last_modified=excluded.last_modified, updated_at=excluded.updated_at,
                 per_page=COALESCE(excluded.per_page, _watermarks.per_page)""",
            (scope, endpoint, since, cursor, validators.get("etag"),
             validators.get("last_modified"), utc_now(), per_page),
        )


def forget_watermarks(conn: sqlite3.Connection, scope: str) -> None:
    """Drop every watermark of a scope (a repo purged from the store)."""
    conn.execute("DELETE FROM _watermarks WHERE scope=?", (scope,))


def start_run(conn: sqlite3.Connection, kind: str, source: str, orgs: Iterable[str]) -> int:
    """Open a ``_runs`` row (status 'running'); runs left running by a dead process are
    marked 'killed' first. ``source`` is an API URL (never with credentials) or a path."""
    with conn:
        for row in conn.execute("SELECT id, pid FROM _runs WHERE status='running'").fetchall():
            if row["pid"] is None or not pid_alive(row["pid"]):
                conn.execute("UPDATE _runs SET status='killed' WHERE id=?", (row["id"],))
        cursor = conn.execute(
            "INSERT INTO _runs(kind, started_at, status, source, orgs, pid) "
            "VALUES (?, ?, 'running', ?, ?, ?)",
            (kind, utc_now(), source, json.dumps(list(orgs)), os.getpid()),
        )
    return cursor.lastrowid


def finish_run(conn: sqlite3.Connection, run_id: int, status: str, *, records_new: int = 0,
               records_updated: int = 0, failures: Iterable[dict] = (),
               requests: int | None = None, not_modified: int | None = None,
               rate_remaining: int | None = None, orgs: Iterable[str] | None = None,
               started_at: str | None = None, ended_at: str | None = None) -> None:
    """Close a run with its status ('ok', 'partial', 'failed') and figures; ``orgs``
    replaces the run's org list when the run learnt it only as it went; ``ended_at`` is the
    source's time (the API's ``Date``), the local clock when there is none, and
    ``started_at``, given, replaces the local start with the source's first ``Date``."""
    with conn:
        conn.execute(
            """UPDATE _runs SET started_at=COALESCE(?, started_at), ended_at=?, status=?,
                 records_new=?, records_updated=?,
                 failures=?, requests=COALESCE(?, requests),
                 not_modified=COALESCE(?, not_modified), rate_remaining=?,
                 orgs=COALESCE(?, orgs) WHERE id=?""",
            (started_at if ended_at else None, ended_at or utc_now(), status, records_new, records_updated, json.dumps(list(failures)),
             requests, not_modified, rate_remaining,
             None if orgs is None else json.dumps(list(orgs)), run_id),
        )
