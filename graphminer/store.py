"""The store: one SQLite file in WAL mode; owns the schema, its migrations and the lock.

Migrations are the numbered files ``graphminer/migrations/NNNN_name.sql``, applied in
order and recorded in ``_migrations``; two are never numbered alike. A store written by a
newer graphminer (a version we do not know) is refused untouched. Only one harvest writes a
store at a time (``harvest_lock``); readers never wait (WAL).
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from graphminer.errors import BadInput


def utc_now() -> str:
    """Now as GitHub writes times: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def migrations() -> list[tuple[int, str, str]]:
    """Every known migration as (version, name, sql), in order."""
    found = []
    for entry in resources.files("graphminer.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name[5:-4], entry.read_text("utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied to this store (0 for a new file)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='_migrations'"
    ).fetchone()
    if not exists:
        return 0
    return conn.execute("SELECT COALESCE(MAX(version), 0) FROM _migrations").fetchone()[0]


def open_store(path: str | os.PathLike, *, create: bool = True, readonly: bool = False,
               threads: bool = False) -> sqlite3.Connection:
    """Open (and migrate) the store at ``path``; refuse one from a newer graphminer.

    ``readonly`` opens without migrating or writing (a query while a harvest writes);
    ``threads``: the connection may be used from the harvest's worker threads (one at a
    time: ``graphminer.harvest.workers.SerialStore``).
    """
    path = Path(path)
    if not path.exists() and (readonly or not create):
        raise BadInput(f"no store at {path}: run 'graphminer harvest' (or give --store)")
    if not path.parent.exists():
        raise BadInput(f"cannot create the store {path}: folder {path.parent} does not exist")
    if path.exists() and path.is_dir():
        raise BadInput(f"the store {path} is a folder: give a file path")
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    else:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=not threads)
    conn.row_factory = sqlite3.Row
    try:
        _check_is_sqlite(conn, path)
        conn.execute("PRAGMA foreign_keys=OFF")
        current = schema_version(conn)
        known = migrations()
        newest = known[-1][0] if known else 0
        if current > newest:
            raise BadInput(
                f"the store {path} has schema version {current}, newer than this graphminer "
                f"knows ({newest}): upgrade graphminer; the store was not touched"
            )
        # Only now: switching to WAL rewrites the file header of a store we must not touch.
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        if not readonly and current < newest:
            _migrate(conn, current, known)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_is_sqlite(conn: sqlite3.Connection, path: Path) -> None:
    try:
        conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as error:
        raise BadInput(f"{path} is not a graphminer store (SQLite said: {error})") from None


def _migrate(conn: sqlite3.Connection, current: int, known: list[tuple[int, str, str]]) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for version, name, sql in known:
        if version <= current:
            continue
        # executescript commits first; wrap each migration in its own transaction.
        conn.executescript(
            "BEGIN;\n"
            + sql
            + f"\nINSERT INTO _migrations(version, name, applied_at) VALUES ({version}, "
            + f"'{name}', '{utc_now()}');\nCOMMIT;"
        )


def git_repo_id(full_name: str) -> int:
    """A stable negative id for a repo known only from git (GitHub ids are positive)."""
    digest = hashlib.sha1(full_name.lower().encode("utf-8")).digest()
    return -(int.from_bytes(digest[:6], "big") + 1)


class StoreBusy(BadInput):
    """Another harvest holds the store's lock."""


@contextmanager
def harvest_lock(conn: sqlite3.Connection, command: str, wait_seconds: float = 5.0) -> Iterator[None]:
    """Hold the store's single-writer lock for the duration of a harvest.

    A second harvest waits up to ``wait_seconds``, then fails naming the running one. A
    lock left by a process that no longer exists (killed) is taken over.
    """
    host = socket.gethostname()
    deadline = time.monotonic() + wait_seconds
    while True:
        with conn:
            row = conn.execute("SELECT pid, host, command, started_at FROM _lock WHERE id=1").fetchone()
            if row is None or (row["host"] == host and not pid_alive(row["pid"])):
                conn.execute(
                    "INSERT OR REPLACE INTO _lock(id, pid, host, command, started_at) "
                    "VALUES (1, ?, ?, ?, ?)",
                    (os.getpid(), host, command, utc_now()),
                )
                break
        if time.monotonic() >= deadline:
            raise StoreBusy(
                f"another harvest is writing this store: '{row['command']}' (pid {row['pid']} "
                f"on {row['host']}, since {row['started_at']}); wait for it to finish"
            )
        time.sleep(0.2)
    try:
        yield
    finally:
        with conn:
            conn.execute("DELETE FROM _lock WHERE id=1 AND pid=?", (os.getpid(),))


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
