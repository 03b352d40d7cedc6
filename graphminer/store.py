"""The store: one SQLite file in WAL mode; owns the schema, its migrations and the lock.

Migrations are the numbered files ``graphminer/migrations/NNNN_name.sql``, applied in
order and recorded in ``_migrations``; two are never numbered alike. A store written by a
newer graphminer (a version we do not know) is refused untouched. Only one harvest writes a
store at a time (``harvest_lock``); readers never wait (WAL).

The store knows it is a store: SQLite's ``application_id`` holds ``APPLICATION_ID`` and
``user_version`` the schema version, set at creation (stores made before were recognised by
their ``_migrations`` table and are marked when next written). Any other file (another
tool's SQLite database, an HTTP cache, a text file, an empty file) is read from its header
alone and refused byte-for-byte untouched. Before a migration the store is copied beside
itself with SQLite's online backup API.

It also reads its own bookkeeping for every floor above it: whether a table exists, the
last finished harvest and when it ended, and the as_of used when none is given
(``default_as_of``, docs/rules.md "Dating"). It knows SQL and nothing of GitHub.
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
from typing import TYPE_CHECKING

from graphminer.errors import BadInput
from graphminer.timeutil import as_of, format_instant, parse_stored

if TYPE_CHECKING:
    import pandas as pd


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
    """Open (and migrate) the store at ``path``; refuse one from a newer graphminer, and
    any file that is not a graphminer store, untouched.

    ``readonly`` opens without migrating or writing (a query while a harvest writes);
    ``threads``: the connection may be used from the harvest's worker threads (one at a
    time: ``graphminer.harvest.workers.SerialStore``).
    """
    path = Path(path)
    new = require_store_path(path, create=create, readonly=readonly)
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    else:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=not threads)
    conn.row_factory = sqlite3.Row
    try:
        if new:  # marked first, so that a harvest killed at any point leaves a store
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        _check_is_sqlite(conn, path)
        conn.execute("PRAGMA foreign_keys=OFF")
        current = schema_version(conn)
        known = migrations()
        newest = known[-1][0] if known else 0
        if current == 0 and (readonly or not create):
            raise BadInput(f"{path} is not a graphminer store yet (nothing harvested into it): run a harvest first")
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
            if current > 0:
                backup_store(conn, path, current)
            _migrate(conn, current, known)
        if not readonly:
            _mark(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def require_store_path(path: Path, *, create: bool = True, readonly: bool = False) -> bool:
    """The checks ``open_store`` makes before SQLite opens anything, from the file's header
    alone (a command may make them before it writes anything else, such as the cache):
    BadInput unless ``path`` is a store this graphminer knows, or may become one. Returns
    whether the store is new (``path`` does not exist yet)."""
    if not path.exists() and (readonly or not create):
        raise BadInput(f"no store at {path}: run 'graphminer harvest' (or give --store)")
    if not path.parent.exists():
        raise BadInput(f"cannot create the store {path}: folder {path.parent} does not exist")
    if path.exists() and path.is_dir():
        raise BadInput(f"the store {path} is a folder: give a file path")
    if not path.exists():
        return True
    require_store_file(path, readonly=readonly or not create)
    require_known_version(path)
    return False


APPLICATION_ID = 0x47524D4E  # "GRMN" in SQLite's header: this file is a graphminer store
SQLITE_MAGIC = b"SQLite format 3\x00"


def file_kind(path: Path) -> str:
    """What the file at ``path`` is, from its header alone (nothing is opened for writing):
    'empty', 'store' (marked), 'sqlite' (unmarked: an older store or a foreign database)
    or 'other'."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise BadInput(f"cannot read the store {path}: {error.strerror}; check its permissions") from None
    if not header:
        return "empty"
    if not header.startswith(SQLITE_MAGIC) or len(header) < 72:
        return "other"
    return "store" if int.from_bytes(header[68:72], "big") == APPLICATION_ID else "sqlite"


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` is an SQLite database of any kind (a store or not)."""
    return path.is_file() and file_kind(path) in ("store", "sqlite")


def require_store_file(path: Path, *, readonly: bool) -> None:
    """Refuse, untouched, an existing file that is not a graphminer store."""
    kind = file_kind(path)
    if kind == "store":
        return
    if kind == "empty":
        # Not ours: a new store is marked the moment it is created (open_store).
        if readonly:
            raise BadInput(f"{path} is not a graphminer store yet (an empty file): run a harvest first")
        raise BadInput(
            f"{path} is an empty file graphminer did not make: give a --store path that does not "
            "exist yet (graphminer creates the store there); the file was not touched"
        )
    if kind == "sqlite" and is_unmarked_store(path):
        return
    what = ("an SQLite database of another tool" if kind == "sqlite"
            else "not an SQLite file, or one whose header is damaged")
    raise BadInput(
        f"{path} is not a graphminer store ({what}): give another --store path; the file was not touched"
    )


def require_known_version(path: Path) -> None:
    """Refuse, before SQLite opens it (which could write, or leave a -wal and -shm beside
    it), a store whose header says a newer graphminer wrote it."""
    with open(path, "rb") as handle:
        header = handle.read(100)
    version = int.from_bytes(header[60:64], "big") if len(header) >= 64 else 0
    newest = migrations()[-1][0]
    if version > newest:
        raise BadInput(
            f"the store {path} has schema version {version}, newer than this graphminer "
            f"knows ({newest}): upgrade graphminer; the store was not touched"
        )


def peek(path: Path) -> sqlite3.Connection:
    """A read-only connection to an SQLite file that may not be ours: no lock, and no -wal
    or -shm left beside it (immutable, unless a -wal already holds part of it)."""
    mode = "mode=ro" if Path(f"{path}-wal").exists() else "mode=ro&immutable=1"
    return sqlite3.connect(f"file:{path}?{mode}", uri=True, timeout=30)


def sqlite_tables(path: Path) -> set[str] | None:
    """The tables of the SQLite file at ``path`` (None when SQLite cannot read it)."""
    try:
        conn = peek(path)
        try:
            return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None


def is_unmarked_store(path: Path) -> bool:
    """Whether an unmarked SQLite file is a store made before stores were marked: its
    ``_migrations`` names ours."""
    if "_migrations" not in (sqlite_tables(path) or set()):
        return False
    try:
        conn = peek(path)
        try:
            rows = conn.execute("SELECT version, name FROM _migrations").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    known = {(version, name) for version, name, _ in migrations()}
    newest = max(known)[0]
    return bool(rows) and all((version, name) in known or version > newest for version, name in rows)


def _mark(conn: sqlite3.Connection) -> None:
    """Write the store's identity into SQLite's header (a no-op when already there)."""
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    version = schema_version(conn)
    if conn.execute("PRAGMA user_version").fetchone()[0] != version:
        conn.execute(f"PRAGMA user_version={version}")


def backup_store(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the store beside itself (SQLite's online backup) before migrating it; return
    the copy's path, which never replaces an existing file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.v{version:04d}.{stamp}.backup")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.v{version:04d}.{stamp}-{counter}.backup")
    copy = sqlite3.connect(target)
    try:
        conn.backup(copy)
    finally:
        copy.close()
    return target


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


def check_pages(conn: sqlite3.Connection) -> None:
    """Raise ``sqlite3.DatabaseError`` when SQLite's ``quick_check`` finds the store's pages
    damaged (its b-trees, overflow chains and free list: every page is read once, the
    indexes are not compared with their tables). A reader that reads the store itself runs
    it first, so that damage in pages the answer does not read is reported, not passed
    over."""
    found = [row[0] for row in conn.execute("PRAGMA quick_check(1)").fetchall()]
    if found != ["ok"]:
        raise sqlite3.DatabaseError(f"database disk image is malformed ({'; '.join(found)})")


def damaged_store_message(error: sqlite3.DatabaseError) -> str:
    """One line for an SQLite error met while reading or writing a store: what it means and
    what to do (a damaged store is restored from its backup or rebuilt)."""
    said = str(error)
    if "locked" in said or "busy" in said:
        return f"the store is busy (SQLite said: {said}): wait for the other graphminer to finish and run again"
    if "readonly" in said or "read-only" in said:
        return f"cannot write the store (SQLite said: {said}): make the file and its folder writable"
    if "disk is full" in said or "disk I/O" in said:
        return f"cannot write the store (SQLite said: {said}): free some disk space and run again"
    return (
        f"the store is damaged (SQLite said: {said}): run 'graphminer check', then restore its "
        "latest .backup copy or rebuild it with 'graphminer harvest --full' into a new --store"
    )


def mark_interrupted(path: str | os.PathLike) -> None:
    """Mark this process's last run in the store at ``path`` 'interrupted' (after Ctrl-C or
    SIGTERM: the harvest closed it as failed, or left it running)."""
    path = Path(path)
    if not path.is_file() or file_kind(path) != "store":
        return
    conn = sqlite3.connect(path, timeout=30)
    try:
        with conn:
            conn.execute(
                "UPDATE _runs SET status='interrupted', ended_at=COALESCE(ended_at, ?) WHERE id = "
                "(SELECT MAX(id) FROM _runs WHERE pid=?) AND status IN ('running', 'failed')",
                (utc_now(), os.getpid()),
            )
    except sqlite3.Error:
        pass  # the store is not lost; the next run marks a run left 'running' as killed
    finally:
        conn.close()


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


# --- reading the bookkeeping -------------------------------------------------------------


def store_path(conn: sqlite3.Connection) -> Path | None:
    """The file of the store's main database (None in memory or a temporary
    file: nothing another connection can open)."""
    for _, name, path in conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return Path(path) if path else None
    return None


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the store has table ``name`` (a store opened read-only may predate it)."""
    return conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def last_run(conn: sqlite3.Connection) -> sqlite3.Row | tuple | None:
    """The last finished harvest (id, ended_at, source), None before any."""
    if not table_exists(conn, "_runs"):
        return None
    return conn.execute(
        "SELECT id, ended_at, source FROM _runs WHERE ended_at IS NOT NULL "
        "ORDER BY ended_at DESC, id DESC LIMIT 1"
    ).fetchone()


def harvest_end(conn: sqlite3.Connection) -> str | None:
    """When the last finished harvest ended (``YYYY-MM-DDTHH:MM:SSZ``), None before any.

    >>> conn = sqlite3.connect(":memory:")
    >>> harvest_end(conn) is None
    True
    >>> _ = conn.execute("CREATE TABLE _runs(id INTEGER PRIMARY KEY, ended_at TEXT, source TEXT)")
    >>> _ = conn.executemany("INSERT INTO _runs(ended_at) VALUES (?)",
    ...                      [("2024-06-30T12:00:00Z",), (None,), ("2024-05-01T08:00:00Z",)])
    >>> harvest_end(conn)
    '2024-06-30T12:00:00Z'
    """
    run = last_run(conn)
    return format_instant(parse_stored(run[1])) if run else None


def default_as_of(conn: sqlite3.Connection, newest_event: pd.Timestamp | None = None) -> pd.Timestamp:
    """The as_of used when none is given (docs/rules.md "Dating"): the last harvest's end,
    else the newest event (to the second), else now (to the second)."""
    ended = harvest_end(conn)
    if ended is not None:
        return as_of(ended)
    if newest_event is not None:
        return newest_event.floor("s")
    return as_of(datetime.now(UTC)).floor("s")
