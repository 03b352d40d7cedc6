"""The columnar tables: the events (typed, one row per contribution), the makers and the
repositories they are coded against, in a DuckDB database (in memory, or the copy kept
beside the store by ``graphminer.columnar.copy``).

``create(con)`` makes the tables; ``replace_repos(con, repo_ids)`` puts the events of those
repositories (all when None) in place from the staged store (``graphminer.columnar.build``);
makers get integer codes that never change once given (a new key takes the next code), so
only what changed is rewritten. Bots and the repositories' names and orgs are small and
read again whole every time.

    >>> con = connect()
    >>> create(con)
    >>> [row[0] for row in con.execute("SELECT kind FROM kinds ORDER BY kind").fetchall()][:3]
    ['issue_opened', 'pr_opened', 'pr_merged']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphminer.columnar.build import KINDS, ORDER_KEY, TARGET_TYPES, connect, event_rows

if TYPE_CHECKING:
    import duckdb

__all__ = ["connect", "create", "replace_repos", "SCHEMA_VERSION"]

# Raised whenever a table below changes shape: a copy of another version is rebuilt.
SCHEMA_VERSION = "1"


def enum(values: tuple[str, ...]) -> str:
    """SQL: an ENUM type of ``values``."""
    return "ENUM(" + ", ".join(f"'{value}'" for value in values) + ")"


def create(con: duckdb.DuckDBPyConnection) -> None:
    """The empty tables (and the two small constant ones, ``kinds`` and ``target_types``)."""
    con.execute(f"CREATE TYPE IF NOT EXISTS kind_t AS {enum(KINDS)}")
    con.execute(f"CREATE TYPE IF NOT EXISTS target_t AS {enum(TARGET_TYPES)}")
    con.execute("CREATE TABLE IF NOT EXISTS kinds AS SELECT unnest(enum_range(NULL::kind_t)) AS kind")
    con.execute("""CREATE TABLE IF NOT EXISTS makers (
        code INTEGER PRIMARY KEY, key VARCHAR NOT NULL UNIQUE, is_bot BOOLEAN NOT NULL DEFAULT FALSE)""")
    con.execute("""CREATE TABLE IF NOT EXISTS repos (
        repo_id BIGINT PRIMARY KEY, full_name VARCHAR, org VARCHAR, org_code INTEGER,
        in_scope BOOLEAN)""")
    con.execute("""CREATE TABLE IF NOT EXISTS events (
        t BIGINT NOT NULL, month_no INTEGER NOT NULL, quarter_no INTEGER NOT NULL,
        maker INTEGER NOT NULL, repo_id BIGINT NOT NULL, kind kind_t NOT NULL,
        part UTINYINT NOT NULL, k1 BIGINT, k2 BIGINT, sha VARCHAR,
        target_type target_t NOT NULL, target_num BIGINT, target_author INTEGER,
        subkind VARCHAR NOT NULL, label VARCHAR, by_commit BOOLEAN NOT NULL,
        via_pr BOOLEAN NOT NULL, pr BIGINT NOT NULL, is_merge BOOLEAN NOT NULL,
        direct_push BOOLEAN NOT NULL, committer INTEGER, community BOOLEAN NOT NULL,
        landed BOOLEAN NOT NULL, action BOOLEAN NOT NULL, seq BIGINT)""")


def code_new_makers(con: duckdb.DuckDBPyConnection) -> None:
    """Give every maker key of the staged events (makers, item authors, committers) and every
    bot a code, keeping the codes already given."""
    con.execute("""INSERT INTO makers (code, key)
        SELECT (SELECT coalesce(max(code), 0) FROM makers) + row_number() OVER (ORDER BY key), key
        FROM (SELECT maker AS key FROM s_events UNION SELECT target_author FROM s_events
              UNION SELECT committer FROM s_events UNION SELECT key FROM s_bots)
        WHERE key IS NOT NULL AND key NOT IN (SELECT key FROM makers)""")
    con.execute("""UPDATE makers SET is_bot = key IN (SELECT key FROM s_bots)""")


def refresh_repos(con: duckdb.DuckDBPyConnection) -> None:
    """The repositories' names, orgs (coded in name order) and scope, from ``s_repos``."""
    con.execute("DELETE FROM repos")
    con.execute("""INSERT INTO repos
        SELECT r.repo_id, r.full_name, r.org, dense_rank() OVER (ORDER BY r.org),
               r.repo_id IN (SELECT repo_id FROM s_scope)
        FROM s_repos r""")


def replace_repos(con: duckdb.DuckDBPyConnection, repo_ids: list[int] | None) -> None:
    """Replace the events of ``repo_ids`` (every event when None) with the staged store's."""
    event_rows(con)
    code_new_makers(con)
    refresh_repos(con)
    if repo_ids is None:
        con.execute("DELETE FROM events")
    else:
        con.register("_dirty", _ids_frame(repo_ids))
        con.execute("DELETE FROM events WHERE repo_id IN (SELECT repo_id FROM _dirty)")
        con.unregister("_dirty")
    con.execute("""INSERT INTO events
        SELECT e.t,
               year(to_timestamp(e.t)) * 12 + month(to_timestamp(e.t)),
               year(to_timestamp(e.t)) * 4 + (month(to_timestamp(e.t)) - 1) // 3,
               m.code, e.repo_id, e.kind::kind_t, e.part, e.k1, e.k2, e.sha,
               e.target_type::target_t, e.target_num, a.code, e.subkind, e.label, e.by_commit,
               e.via_pr, e.pr, e.is_merge, e.direct_push, c.code, e.community, e.landed, e.action,
               NULL
        FROM s_events e
        JOIN makers m ON m.key = e.maker
        LEFT JOIN makers a ON a.key = e.target_author
        LEFT JOIN makers c ON c.key = e.committer""")
    renumber(con)


def renumber(con: duckdb.DuckDBPyConnection) -> None:
    """Give every event its place ``seq`` in the shared order (``build.ORDER_KEY``), and keep
    the table in that order (the rules read it in that order; ties in time are rare)."""
    con.execute(f"""CREATE OR REPLACE TABLE events AS
        SELECT * EXCLUDE (seq), row_number() OVER (ORDER BY {ORDER_KEY}) AS seq
        FROM events ORDER BY {ORDER_KEY}""")


def _ids_frame(repo_ids: list[int]):
    import pandas as pd

    return pd.DataFrame({"repo_id": pd.Series([int(r) for r in repo_ids], dtype="int64")})
