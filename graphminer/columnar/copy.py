"""The columnar copy kept beside the store, refreshed incrementally after each harvest.

A store ``F`` gets ``F.columnar.duckdb`` (DuckDB's own file format; DuckDB adds
``F.columnar.duckdb.wal`` while it writes): the typed events table and the makers and
repositories it is coded against (``graphminer.columnar.tables``), plus what the
precomputed tables were last written from (``graphminer.columnar.precomputed``).

``refresh(conn, config)`` (run by ``graphminer.precompute.refresh``, with the harvest's lock
held) brings the copy up to date: only the repositories whose records changed since the
last refresh (``_columnar_touched``, filled by migration 0012's triggers) or whose commits'
or pull refs' makers changed (identity's ``commit_makers`` and ``pull_ref_makers`` against
``_columnar_identity`` and ``_columnar_ref_identity``, the copy's last reading of them) are
read again, with the repositories sharing a commit or pull ref with them. A repository the
triggers alone noted keeps its events when its records are the ones of the last refresh
(its print, ``build.prints_sql``, kept in ``repo_prints``): a harvest that writes every
record again unchanged (``harvest --full``) costs their reading, not a rebuild, and its
night is then a quiet one. A copy is rebuilt whole when it is missing, of another
layout (``tables.SCHEMA_VERSION``), made under other settings (forks, the opt-out list), or
not the one the store was last refreshed with (a random token, ``columnar_sync``, written
to both at each refresh: a store restored from a backup does not match its copy).

The copy also records the store's file as the refresh left it (``seal``: after a checkpoint
that empties the write-ahead log, the main file's inode, size and modification time in
nanoseconds, and the log's size and time when it holds anything). A reader trusts the copy
only while the store's file is still that one: any write since (a page damaged on disk, a
restore, a write that did not pass through the triggers) moves the main file's time or
grows the log, so the copy is not fresh and the pandas implementation reads SQLite itself,
which reports a damaged store as it always did. A write committed into the log leaves the
main file alone until the log is checkpointed into it, which is why the log is part of the
seal; a checkpoint that moves it into the main file changes the main file's time. Left
out, by the file system's own limit: a change of the same size within the same clock tick
as the seal (the time's resolution).

``open_copy(conn, config)`` gives readers the copy when it is fresh (read only: a harvest
may be writing the store), else None; ``graphminer.columnar.Columnar.for_store`` then builds
the tables in memory instead. Nothing here writes a file graphminer did not write: a file
at the copy's path that is not a copy (no ``_copy`` table saying so) is left alone and the
tables are built in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphminer.columnar import build, tables
from graphminer.events import long_lived_branches, opted_out_makers, people_frame
from graphminer.store import store_path

if TYPE_CHECKING:
    import duckdb

    from graphminer.config import Config

SUFFIX = ".columnar.duckdb"
APPLICATION = "graphminer columnar copy"
SYNC_KEY = "columnar_sync"
SEAL_KEY = "store_file"


def copy_path(conn: sqlite3.Connection) -> Path | None:
    """Where the store's columnar copy lives (None for a store in memory)."""
    path = store_path(conn)
    return path.with_name(path.name + SUFFIX) if path is not None else None


def settings(conn: sqlite3.Connection, config: Config | None) -> str:
    """What the copy's rows depend on besides the records: forks harvested or not, who
    opted out (by the keys the opt-out list resolves to now), and ``[git]
    long_lived_branches`` (merges into them land work)."""
    if not (config is not None and config.opt_out):
        return settings_of(config, [])
    return settings_of(config, opted_out_makers(conn, config, people_frame(conn)))


def settings_of(config: Config | None, opted_out: Any) -> str:
    """``settings`` from the opted-out keys."""
    values = {
        "schema": tables.SCHEMA_VERSION,
        "forks": bool(config and config["harvest"].get("include_forks")),
        "opted_out": sorted(opted_out),
        "long_lived_branches": list(long_lived_branches(config)),
    }
    return hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()


def sync_token(conn: sqlite3.Connection) -> str | None:
    """The token of the last refresh, as the store holds it."""
    row = conn.execute("SELECT value FROM _settings WHERE key = ?", (SYNC_KEY,)).fetchone()
    return row[0] if row else None


def copy_value(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """A value of the copy's ``_copy`` table (None without one)."""
    rows = con.execute("SELECT value FROM _copy WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def is_copy(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the DuckDB database is a columnar copy graphminer wrote (or is empty)."""
    names = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
    if not names:
        return True
    return "_copy" in names and copy_value(con, "application") == APPLICATION


def has_columnar_tables(conn: sqlite3.Connection) -> bool:
    """Whether the store has migration 0012's bookkeeping (a store opened read-only may
    predate it)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                        "name='_columnar_touched'").fetchone() is not None


def open_writable(path: Path) -> duckdb.DuckDBPyConnection | None:
    """The copy at ``path`` opened for writing (made when missing), None when the file is
    not a copy graphminer wrote, or another process holds it."""
    try:
        con = build.connect(str(path))
    except Exception:  # noqa: BLE001 (not a DuckDB file, locked, unreadable: leave it be)
        return None
    if not is_copy(con):
        con.close()
        return None
    return con


def fresh(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection, config: Config | None) -> bool:
    """Whether the copy holds the store's events as of its last refresh, under these
    settings, with no record touched since."""
    if not is_copy(con) or copy_value(con, "application") != APPLICATION:
        return False
    if not has_columnar_tables(conn):
        return False
    token = sync_token(conn)
    if token is None or copy_value(con, "sync") != token:
        return False
    if copy_value(con, SEAL_KEY) != store_file_state(conn):
        return False
    if copy_value(con, "settings") != settings(conn, config):
        return False
    return conn.execute("SELECT 1 FROM _columnar_touched LIMIT 1").fetchone() is None


def store_file_state(conn: sqlite3.Connection) -> str | None:
    """The store's file as the file system sees it: the main file's inode, size and
    modification time (nanoseconds), and its write-ahead log's size and time when the log
    holds anything (an absent or empty log is the same: a reader may create it empty).
    None for a store in memory or a file that cannot be read."""
    path = store_path(conn)
    if path is None:
        return None
    try:
        main = path.stat()
    except OSError:
        return None
    try:
        log = Path(f"{path}-wal").stat()
        wal = [log.st_size, log.st_mtime_ns] if log.st_size else None
    except OSError:
        wal = None
    return json.dumps([main.st_ino, main.st_size, main.st_mtime_ns, wal])


def settled_state(conn: sqlite3.Connection) -> str | None:
    """``store_file_state`` after a checkpoint that moves the write-ahead log into the main
    file and empties it (when no other connection reads the log; else the log stays, and is
    part of the state). Call outside a transaction."""
    if store_path(conn) is None:
        return None
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    return store_file_state(conn)


def seal(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection) -> None:
    """Record in the copy the store's file as it is now (``settled_state``): readers trust
    the copy only while the file stays so (``fresh``)."""
    con.execute("INSERT OR REPLACE INTO _copy VALUES (?, ?)", [SEAL_KEY, settled_state(conn)])
    con.execute("CHECKPOINT")


def sealed_copy(conn: sqlite3.Connection) -> duckdb.DuckDBPyConnection | None:
    """The store's copy open for writing when the store's file is still the one its last
    seal recorded (nothing written since the refresh but what the caller is about to write
    itself, such as releasing the harvest lock), else None. The caller seals it again
    after that write (``seal``), so that its own write does not turn readers to pandas."""
    path = copy_path(conn)
    if path is None or not path.is_file() or not has_columnar_tables(conn):
        return None
    state = settled_state(conn)
    con = open_writable(path)
    if con is None:
        return None
    if state is None or copy_value_safe(con, SEAL_KEY) != state:
        con.close()
        return None
    return con


def open_copy(conn: sqlite3.Connection, config: Config | None) -> duckdb.DuckDBPyConnection | None:
    """The store's copy, read only, when it is fresh (else None)."""
    path = copy_path(conn)
    if path is None or not path.is_file():
        return None
    try:
        con = build.connect(str(path), read_only=True)
    except Exception:  # noqa: BLE001 (locked by a refresh, or not a copy: build in memory)
        return None
    if not fresh(con, conn, config):
        con.close()
        return None
    return con


def identity_changes(conn: sqlite3.Connection) -> list[int]:
    """Repositories whose commits' makers (identity's ``commit_makers``) differ from the
    copy's last reading (``_columnar_identity``)."""
    rows = conn.execute("""
        SELECT cm.repo_id FROM commit_makers cm
        LEFT JOIN _columnar_identity s ON s.repo_id = cm.repo_id AND s.sha = cm.sha
        WHERE s.sha IS NULL OR s.author_key IS NOT cm.author_key
           OR s.committer_key IS NOT cm.committer_key
        UNION
        SELECT s.repo_id FROM _columnar_identity s
        LEFT JOIN commit_makers cm ON cm.repo_id = s.repo_id AND cm.sha = s.sha
        WHERE cm.sha IS NULL
        UNION
        SELECT pm.repo_id FROM pull_ref_makers pm
        LEFT JOIN _columnar_ref_identity s ON s.repo_id = pm.repo_id AND s.number = pm.number
        WHERE s.number IS NULL OR s.author_key IS NOT pm.author_key
        UNION
        SELECT s.repo_id FROM _columnar_ref_identity s
        LEFT JOIN pull_ref_makers pm ON pm.repo_id = s.repo_id AND pm.number = s.number
        WHERE pm.number IS NULL""").fetchall()
    return [row[0] for row in rows]


def tag_changes(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection,
                config: Config | None) -> list[int]:
    """Repositories holding an annotated tag whose tagger identity resolution now gives
    another maker than the copy's event (a tag is its tagger's by 'Name <email>')."""
    tags = conn.execute("""
        SELECT r.repo_id, r.id, mi.maker_key FROM releases r
        JOIN maker_identities mi ON mi.kind = 'git'
         AND mi.identity = coalesce(r.tagger_name, '') || ' <' || r.tagger_email || '>'
        WHERE r.source = 'git' AND r.tagger_email IS NOT NULL AND r.published_at IS NOT NULL
          AND COALESCE(r.draft, 0) = 0""").fetchall()
    kept = con.execute("""SELECT e.repo_id, e.k1, m.key FROM events e JOIN makers m ON m.code = e.maker
                          WHERE e.kind = 'release' AND e.subkind = 'tag'""").fetchall()
    if not tags and not kept:
        return []
    excluded = opted_out_makers(conn, config, people_frame(conn))
    now = {tuple(row) for row in tags if row[2] not in excluded}
    return sorted({row[0] for row in now ^ {tuple(row) for row in kept}})


def touched_repos(conn: sqlite3.Connection) -> list[int]:
    """Repositories whose records the store's triggers noted written since the last refresh."""
    return sorted(row[0] for row in conn.execute("SELECT repo_id FROM _columnar_touched"))


def refresh_values(conn: sqlite3.Connection, config: Config | None) -> dict[str, str]:
    """What a refresh records in the copy (``note_copy``): a new token, the settings.

    A refresh is recorded in both, each in its own transaction, in either order (the
    store's writing and the copy's run on two threads): in one DuckDB transaction what it
    wrote to the store and the token (``note_copy``); in the store's transaction, the same
    token, the touched repositories cleared and the commits' makers as read
    (``note_store``). A crash between the two commits leaves the two tokens unequal: the
    next refresh rebuilds the copy rather than trust it."""
    return {"application": APPLICATION, "sync": secrets.token_hex(16),
            "settings": settings(conn, config)}


def note_copy(con: duckdb.DuckDBPyConnection, values: dict[str, str],
              keep: Callable[[], None] | None = None) -> None:
    """The copy's half of recording a refresh: ``keep`` and ``values`` in one transaction
    (``con`` alone: it may run beside the store's writing, on another thread)."""
    con.execute("CREATE TABLE IF NOT EXISTS _copy (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("BEGIN TRANSACTION")
    try:
        if keep is not None:
            keep()
        for key, value in values.items():
            con.execute("INSERT OR REPLACE INTO _copy VALUES (?, ?)", [key, value])
    except BaseException:  # (interrupted when the store's writing failed, say)
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    con.execute("CHECKPOINT")


def note_store(conn: sqlite3.Connection, repo_ids: list[int] | None, token: str) -> None:
    """The store's half of recording a refresh (in the caller's transaction): the token, the
    touched repositories cleared, the commits' makers as read (``repo_ids``': every one
    when None)."""
    if repo_ids is None:
        conn.execute("DELETE FROM _columnar_identity")
        conn.execute("INSERT INTO _columnar_identity SELECT repo_id, sha, author_key, "
                     "committer_key FROM commit_makers")
        conn.execute("DELETE FROM _columnar_ref_identity")
        conn.execute("INSERT INTO _columnar_ref_identity SELECT repo_id, number, author_key "
                     "FROM pull_ref_makers")
    elif repo_ids:
        listed = build.listed(repo_ids)
        conn.execute(f"DELETE FROM _columnar_identity WHERE repo_id IN ({listed})")
        conn.execute("INSERT INTO _columnar_identity SELECT repo_id, sha, author_key, "
                     f"committer_key FROM commit_makers WHERE repo_id IN ({listed})")
        conn.execute(f"DELETE FROM _columnar_ref_identity WHERE repo_id IN ({listed})")
        conn.execute("INSERT INTO _columnar_ref_identity SELECT repo_id, number, author_key "
                     f"FROM pull_ref_makers WHERE repo_id IN ({listed})")
    conn.execute("DELETE FROM _columnar_touched")
    conn.execute("INSERT OR REPLACE INTO _settings(key, value) VALUES (?, ?)", (SYNC_KEY, token))


def refresh(conn: sqlite3.Connection, config: Config | None) -> tuple[duckdb.DuckDBPyConnection, dict[str, Any]]:
    """Bring the store's copy up to date (made whole when needed, else the repositories
    touched since the last refresh); returns it open for writing, and what was done:
    ``{"rebuilt": bool, "repos": [repo ids read again]}``. The caller records the refresh
    (``note_copy``, ``note_store``) once it has written the store. A store in memory, or a copy that
    cannot be opened, gets the tables in memory (``"in_memory": True``; nothing written
    beside the store)."""
    path = copy_path(conn)
    con = open_writable(path) if path is not None and has_columnar_tables(conn) else None
    if con is None:
        con = build.connect()
        tables.create(con)
        tables.load(con, conn, config, None)
        return con, {"rebuilt": True, "repos": None, "in_memory": True}
    whole = (copy_value_safe(con, "sync") != sync_token(conn)
             or copy_value_safe(con, "settings") != settings(conn, config))
    if whole:
        for table in ("events", "makers", "repos", "commit_copies", "ref_copies", "repo_prints",
                      "landing_kept"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        for kind in ("kind_t", "target_t"):
            con.execute(f"DROP TYPE IF EXISTS {kind}")
        tables.create(con)
        tables.create_prints(con)
        tables.load(con, conn, config, None)
        return con, {"rebuilt": True, "repos": None}
    touched = set(touched_repos(conn))
    forced = set(identity_changes(conn)) | set(tag_changes(con, conn, config))
    bots_changed = tables.bots_changed(con, conn, config)
    if bots_changed:  # whose work a landing act landed reads them: every repository again
        forced = {row[0] for row in conn.execute("SELECT id FROM repos")}
    dirty = sorted(touched | forced)
    if dirty or bots_changed:
        # the copy's events are about to change: until the refresh is recorded in both
        # (note_copy and note_store) the copy may hold what the store never took (its
        # writing failed, the process died), and the next refresh must rebuild it
        unrecorded(con)
        # a repository only the triggers noted is read again, but its events are put in
        # place only when its records differ from the last refresh's (its print)
        tables.create_prints(con)
        dirty = tables.load(con, conn, config, dirty, check=sorted(touched - forced))
    return con, {"rebuilt": False, "repos": dirty, "bots_changed": bots_changed}


def unrecorded(con: duckdb.DuckDBPyConnection) -> None:
    """Mark the copy as changed since its last recorded refresh: its token no longer the
    store's (``note_copy`` gives it a new one)."""
    con.execute("INSERT OR REPLACE INTO _copy VALUES ('sync', 'unrecorded')")


def copy_value_safe(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """``copy_value`` of a copy that may not have its ``_copy`` table yet."""
    try:
        return copy_value(con, key)
    except Exception:  # noqa: BLE001 (a new, empty copy)
        return None


def remove(conn: sqlite3.Connection) -> None:
    """Delete the store's copy (graphminer's own file; tests and a rebuild use it)."""
    path = copy_path(conn)
    if path is None:
        return
    for candidate in (path, Path(str(path) + ".wal")):
        if candidate.exists():
            os.remove(candidate)
