"""The columnar tables: the events (typed, one row per contribution), the makers and the
repositories they are coded against, in a DuckDB database (in memory, or the copy kept
beside the store by ``graphminer.columnar.copy``).

``create(con)`` makes the tables; ``load(con, conn, config, repo_ids)`` reads those
repositories (all when None) from the store and puts their events in place
(``graphminer.columnar.build``), with ``commit_copies`` and ``ref_copies``: every copy of
a commit or pull ref, so that which one counts is decided across repositories;
makers get integer codes that never change once given (a new key takes the next code), so
only what changed is rewritten; a copy beside the store keeps each repository's print
(``repo_prints``) so that records written again unchanged are not put in place again.
Bots and the repositories' names and orgs are small and read again whole every time.

    >>> con = connect()
    >>> create(con)
    >>> con.execute("SELECT count(*) FROM events").fetchall()
    [(0,)]
    >>> con.execute("SELECT enum_range(NULL::kind_t)[1:3]").fetchall()
    [(['issue_opened', 'pr_opened', 'pr_merged'],)]
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from graphminer.columnar.build import (
    KINDS,
    ORDER_KEY,
    TARGET_TYPES,
    bot_keys,
    connect,
    create_landing,
    event_rows,
    ids_frame,
    narrow,
    prints_sql,
    shared_with,
    stage,
)
from graphminer.columnar.engine import quarter_of
from graphminer.events import role_account_makers

if TYPE_CHECKING:
    import duckdb

    from graphminer.config import Config

__all__ = ["connect", "create", "load", "replace_repos", "SCHEMA_VERSION"]

# Raised whenever a table below changes shape or a column's meaning: a copy of another version
# is rebuilt. "4": ``community`` is the commit that created a community file (rules version 5),
# no longer any commit touching one. "5": the milestones last written to the store are kept
# without their links (``graphminer.columnar.precomputed.UNKEPT``). "6": and with makers as
# codes, times as epoch seconds (``graphminer.columnar.precomputed.CODED``).
SCHEMA_VERSION = "6"
# The events' own columns (the derived ones follow, ``DERIVED``), with their types.
BASE_TYPES = (
    ("t", "BIGINT"), ("month_no", "INTEGER"), ("quarter_no", "INTEGER"), ("maker", "INTEGER"),
    ("repo_id", "BIGINT"), ("kind", "kind_t"), ("part", "UTINYINT"), ("k1", "BIGINT"),
    ("k2", "BIGINT"), ("sha", "VARCHAR"), ("target_type", "target_t"), ("target_num", "BIGINT"),
    ("target_author", "INTEGER"), ("subkind", "VARCHAR"), ("label", "VARCHAR"),
    ("by_commit", "BOOLEAN"), ("via_pr", "BOOLEAN"), ("pr", "BIGINT"), ("is_merge", "BOOLEAN"),
    ("direct_push", "BOOLEAN"), ("committer", "INTEGER"), ("community", "BOOLEAN"),
    ("landed", "BOOLEAN"), ("action", "BOOLEAN"), ("landed_by", "VARCHAR"),
    ("imported", "BOOLEAN"), ("merge_kind", "VARCHAR"), ("own_work", "BOOLEAN"))
BASE_COLUMNS = tuple(name for name, _ in BASE_TYPES)
# Those that may be NULL (the others are NOT NULL).
NULLABLE = ("k1", "k2", "sha", "target_num", "target_author", "label", "committer", "landed_by")
# Read by the rules, the same whatever as_of (``derive``).
DERIVED = (("seq", "BIGINT"), ("org", "INTEGER"), ("is_bot", "BOOLEAN"),
           ("someone_else", "BOOLEAN"), ("prev_n", "BIGINT"), ("next_n", "BIGINT"),
           ("prev_o", "BIGINT"), ("next_o", "BIGINT"), ("prev_r", "BIGINT"), ("next_r", "BIGINT"),
           ("other_repo_t", "BIGINT"), ("other_org_t", "BIGINT"), ("repo_rank", "INTEGER"),
           ("org_rank", "INTEGER"))


def enum(values: tuple[str, ...]) -> str:
    """SQL: an ENUM type of ``values``."""
    return "ENUM(" + ", ".join(f"'{value}'" for value in values) + ")"


def create(con: duckdb.DuckDBPyConnection) -> None:
    """The empty tables, and the ENUM types of kinds and targets."""
    con.execute(f"CREATE TYPE IF NOT EXISTS kind_t AS {enum(KINDS)}")
    con.execute(f"CREATE TYPE IF NOT EXISTS target_t AS {enum(TARGET_TYPES)}")
    con.execute("""CREATE TABLE IF NOT EXISTS makers (
        code INTEGER PRIMARY KEY, key VARCHAR NOT NULL UNIQUE, is_bot BOOLEAN NOT NULL DEFAULT FALSE,
        role_account BOOLEAN NOT NULL DEFAULT FALSE)""")
    con.execute("""CREATE TABLE IF NOT EXISTS repos (
        repo_id BIGINT PRIMARY KEY, full_name VARCHAR, org VARCHAR, org_code INTEGER,
        in_scope BOOLEAN)""")
    columns = [f"{name} {kind}{'' if name in NULLABLE else ' NOT NULL'}" for name, kind in BASE_TYPES]
    columns += [f"{name} {kind}" for name, kind in DERIVED]
    con.execute(f"CREATE TABLE IF NOT EXISTS events ({', '.join(columns)})")
    # every in-scope copy of a commit and of a pull ref, the ones that do not count too:
    # which copy counts is decided across repositories (graphminer.columnar.build)
    con.execute("""CREATE TABLE IF NOT EXISTS commit_copies (
        repo_id BIGINT NOT NULL, sha VARCHAR NOT NULL, reached_at VARCHAR)""")
    con.execute("""CREATE TABLE IF NOT EXISTS ref_copies (
        repo_id BIGINT NOT NULL, number BIGINT NOT NULL, sha VARCHAR NOT NULL)""")


def code_new_makers(con: duckdb.DuckDBPyConnection) -> None:
    """Give every maker key of the staged events (makers, item authors, committers) and every
    bot a code, keeping the codes already given."""
    con.execute("""INSERT INTO makers (code, key)
        SELECT (SELECT coalesce(max(code), 0) FROM makers) + row_number() OVER (ORDER BY key), key
        FROM (SELECT maker AS key FROM s_events UNION SELECT target_author FROM s_events
              UNION SELECT committer FROM s_events UNION SELECT key FROM s_bots)
        WHERE key IS NOT NULL AND key NOT IN (SELECT key FROM makers)""")
    con.execute("""UPDATE makers SET is_bot = key IN (SELECT key FROM s_bots),
                   role_account = key IN (SELECT key FROM s_bots WHERE role_account)""")


def bots_changed(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection,
                 config: Config | None = None) -> bool:
    """Whether the store's makers who are not people (bots, identity's and the accounts',
    and role accounts) differ from the copy's."""
    roles = role_account_makers(conn, config)
    bots = bot_keys(conn) | roles  # build.not_people, without a frame of every account
    known = con.execute("SELECT key, role_account FROM makers WHERE is_bot").fetchall()
    return {row[0] for row in known} != bots or {row[0] for row in known if row[1]} != roles


def refresh_repos(con: duckdb.DuckDBPyConnection) -> None:
    """The repositories' names, orgs (coded in name order) and scope, from ``s_repos``."""
    con.execute("DELETE FROM repos")
    con.execute("""INSERT INTO repos
        SELECT r.repo_id, r.full_name, r.org, dense_rank() OVER (ORDER BY r.org),
               r.repo_id IN (SELECT repo_id FROM s_scope)
        FROM s_repos r""")


def load(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection, config: Config | None,
         repo_ids: list[int] | None, check: list[int] | tuple[int, ...] = ()) -> list[int] | None:
    """Read the store's records of ``repo_ids`` (all when None) and put their events in
    place; repositories sharing a commit or pull ref with them are read again too
    (``build.shared_with``). Those of ``check`` are left as they are when their records
    are the ones of the last refresh (their print, ``build.prints_sql``, is the one kept in
    ``repo_prints``: a harvest that wrote them again unchanged). Returns the repositories
    whose events were put in place (None: all). The temporary tables the staging made are
    dropped after (``unstaged``), but for ``KEPT_AFTER_LOAD``."""
    before = temporary_tables(con)
    try:
        return loaded(con, conn, config, repo_ids, check)
    finally:
        unstaged(con, before)


# What a load leaves for the refresh after it (graphminer.columnar.precomputed's nights).
KEPT_AFTER_LOAD = ("replaced_makers",)


def temporary_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The connection's temporary tables."""
    return {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}


def unstaged(con: duckdb.DuckDBPyConnection, before: set[str]) -> None:
    """Drop the temporary tables made since ``before`` (the staged records, the events made
    of them: hundreds of megabytes at a million events), but ``KEPT_AFTER_LOAD``. Kept,
    they slowed the rules after them several times over (the bench world's changed night:
    ``shared_responders`` 0.23 -> 1.42 s, ``cand_org_bridge`` 0.16 -> 0.63 s)."""
    for name in sorted(temporary_tables(con) - before - set(KEPT_AFTER_LOAD)):
        con.execute(f'DROP TABLE IF EXISTS temp."{name}"')


def loaded(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection, config: Config | None,
           repo_ids: list[int] | None, check: list[int] | tuple[int, ...] = ()) -> list[int] | None:
    """``load``, its staging tables left in place."""
    stage(con, conn, config, repo_ids)
    if repo_ids is not None:
        same = unchanged(con, check) if check else set()
        if same:
            repo_ids = sorted(set(repo_ids) - same)
            if not repo_ids:
                return []
            narrow(con, repo_ids)
        shared = shared_with(con)
        if shared:
            repo_ids = sorted(set(repo_ids) | set(shared))
            stage(con, conn, config, repo_ids)
    replace_repos(con, repo_ids, config)
    keep_prints(con, repo_ids)
    return repo_ids


def has_prints(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database keeps the repositories' prints (a copy beside the store does;
    tables built in memory for one reading do not)."""
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND "
                            "table_name = 'repo_prints'").fetchall()[0][0])


def create_prints(con: duckdb.DuckDBPyConnection) -> None:
    """The tables of the repositories' prints (``build.prints_sql``) and of their commits'
    walks (``build.commit_landing``) as of the last refresh."""
    con.execute("CREATE TABLE IF NOT EXISTS repo_prints (repo_id BIGINT PRIMARY KEY, "
                "print VARCHAR NOT NULL)")
    create_landing(con)  # and their commits' walks


def unchanged(con: duckdb.DuckDBPyConnection, repo_ids: list[int] | tuple[int, ...]) -> set[int]:
    """Of ``repo_ids`` (staged), those whose print is the one kept (none without prints)."""
    if not has_prints(con):
        return set()
    con.execute(f"CREATE OR REPLACE TEMP TABLE s_prints AS {prints_sql()}")
    con.register("_checked", ids_frame(repo_ids))
    same = {row[0] for row in con.execute("""
        SELECT p.repo_id FROM s_prints p JOIN repo_prints k ON k.repo_id = p.repo_id
        WHERE p.print = k.print AND p.repo_id IN (SELECT repo_id FROM _checked)""").fetchall()}
    con.unregister("_checked")
    return same


def keep_prints(con: duckdb.DuckDBPyConnection, repo_ids: list[int] | None) -> None:
    """Keep the staged repositories' prints (every repository's when ``repo_ids`` is None)."""
    if not has_prints(con):
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE s_prints AS {prints_sql()}")
    if repo_ids is None:
        con.execute("DELETE FROM repo_prints")
    else:
        con.execute("DELETE FROM repo_prints WHERE repo_id IN (SELECT repo_id FROM s_staged)")
    con.execute("INSERT INTO repo_prints SELECT repo_id, print FROM s_prints")


def replace_repos(con: duckdb.DuckDBPyConnection, repo_ids: list[int] | None,
                  config: Config | None = None) -> None:
    """Replace the events of ``repo_ids`` (every event when None) with the staged store's.
    When many events change (``in_place_fits``), the events table is written once, its
    events kept and the staged ones derived together (``derive`` over ``source``), not
    emptied, filled, then written again by ``derive``."""
    event_rows(con, config)
    code_new_makers(con)
    refresh_repos(con)
    copies = ("commit_copies", "ref_copies")
    if repo_ids is None:
        for table in copies:
            con.execute(f"DELETE FROM {table}")
    else:
        con.register("_dirty", ids_frame(repo_ids))
        con.execute("CREATE OR REPLACE TEMP TABLE s_dirty AS SELECT repo_id FROM _dirty")
        con.unregister("_dirty")
        # whose events are taken away (a night's refresh computes them again, with the
        # makers of the events put in their place: graphminer.columnar.precomputed)
        con.execute("""CREATE OR REPLACE TEMP TABLE replaced_makers AS
            SELECT DISTINCT maker FROM events WHERE repo_id IN (SELECT repo_id FROM s_dirty)""")
        for table in copies:
            con.execute(f"DELETE FROM {table} WHERE repo_id IN (SELECT repo_id FROM s_dirty)")
    con.execute("INSERT INTO commit_copies SELECT repo_id, sha, reached_at FROM c_facts")
    con.execute("""INSERT INTO ref_copies SELECT p.repo_id, p.number, p.sha FROM s_pull_refs p
                   JOIN s_scope s ON s.repo_id = p.repo_id""")
    if repo_ids is None:
        derive(con, source=f"({staged_events_sql(rid='e.rowid')})",
               keys=f"SELECT rowid AS rid, {ordered()} FROM s_events")
        return
    # the makers whose events changed: those taken away, and those put in place (their
    # derived columns are not set yet)
    con.execute("""CREATE OR REPLACE TEMP TABLE derive_makers AS
        SELECT maker FROM replaced_makers
        UNION SELECT DISTINCT m.code FROM s_events e JOIN makers m ON m.key = e.maker""")
    if not in_place_fits(con):
        # (``rid``: an event kept its rowid times two, a staged one its rowid there times
        # two plus one)
        kept = "FROM events WHERE repo_id NOT IN (SELECT repo_id FROM s_dirty)"
        derive(con, "derive_makers",
               source=f"""(SELECT *, rowid * 2 AS rid {kept}
                           UNION ALL {staged_events_sql(rid='e.rowid * 2 + 1')})""",
               keys=f"""SELECT rowid * 2 AS rid, {ordered()} {kept}
                        UNION ALL SELECT rowid * 2 + 1, {ordered()} FROM s_events""")
        return
    con.execute("DELETE FROM events WHERE repo_id IN (SELECT repo_id FROM s_dirty)")
    con.execute(f"INSERT INTO events {staged_events_sql()}")
    derive(con, "derive_makers")


# How a staged event (``s_events e``, its makers ``m``, item author ``a`` and committer
# ``c`` joined) gives the events table's columns that are not its own.
STAGED_VALUES = {
    "month_no": "year(to_timestamp(e.t)) * 12 + month(to_timestamp(e.t))",
    "quarter_no": quarter_of("e.t"),
    "maker": "m.code", "target_author": "a.code", "committer": "c.code"}


def staged_events_sql(rid: str | None = None) -> str:
    """SQL: the staged events (``s_events e``) as rows of the events table, makers coded, the
    derived columns (``DERIVED``) NULL; and ``rid`` as ``rid`` when given."""
    values = [f"CAST({STAGED_VALUES.get(column, 'e.' + column)} AS {kind}) AS {column}"
              for column, kind in BASE_TYPES]
    nulls = [f"NULL::{kind} AS {name}" for name, kind in DERIVED]
    extra = [] if rid is None else [f"{rid} AS rid"]
    return f"""
        SELECT {', '.join(values + nulls + extra)}
        FROM s_events e
        JOIN makers m ON m.key = e.maker
        LEFT JOIN makers a ON a.key = e.target_author
        LEFT JOIN makers c ON c.key = e.committer"""


def in_place_fits(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether, once the events of ``s_dirty`` are replaced by the staged ones, few enough
    rows change for ``derive_in_place``: the new events, and every event of
    ``derive_makers``' makers, at most ``IN_PLACE_SHARE`` of the table."""
    kept, redone = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE maker IN (SELECT maker FROM derive_makers))
        FROM events WHERE repo_id NOT IN (SELECT repo_id FROM s_dirty)""").fetchall()[0]
    fresh = con.execute("SELECT count(*) FROM s_events").fetchall()[0][0]
    total = kept + fresh
    return total > 0 and redone + fresh <= IN_PLACE_SHARE * total


# The derived columns that read the maker's own actions (``derive``).
STEPPED = ("prev_n", "next_n", "prev_o", "next_o", "prev_r", "next_r", "other_repo_t", "other_org_t")
# The derived columns read from the makers and repositories tables (``derive``).
LOOKED_UP = ("org", "is_bot", "someone_else", "repo_rank", "org_rank")
# How far apart ``seq`` numbers the events: a night's new events take places between their
# neighbours' (``place``), so that no other event is numbered again. The rules read ``seq``
# only to order events and to find one again, never as a count.
GAP = 1 << 20
# Above this share of the table's rows to set, the events table is written again whole
# (cheaper than updating most rows in place).
IN_PLACE_SHARE = 0.125


def derive(con: duckdb.DuckDBPyConnection, only: str | None = None,
           source: str | None = None, keys: str | None = None) -> None:
    """The columns the rules read that do not depend on as_of (``DERIVED``), for every event:
    each event's place ``seq`` (in the shared order, ``build.ORDER_KEY``, ``GAP`` apart), its
    repository's org, whether its maker is a bot and its item someone else's; for each
    action of a person, the same maker's previous and next action in the network, the org
    and the repository, and their latest action in another repository or org at or before
    it (the same second counts: ``graphminer.trajectory.bridge_candidates``). With ``only``
    (a table of maker codes, ``maker``: whose events changed; every new event's maker among
    them), those steps are computed again for these makers' actions alone: the others'
    read their own actions only, which did not change; and when few rows change, the new
    events take places between their neighbours' and only the rows whose columns change
    are updated (``derive_in_place``), else the table is written again (in no particular
    order: the rules read ``seq`` to order events, never the table's order, and sorting the
    table as it was written was a tenth of derive's work). With
    ``source`` (SQL: a relation of the events table's columns, the derived ones of events
    not in ``only`` kept, and a ``rid`` unique to each) and ``keys`` (SQL: the ``rid`` and
    the order's columns, ``build.ORDER_KEY``, of each of its events), the table is written
    from them instead, never in place. The places are numbered over those narrow keys and
    joined to the events by ``rid``: numbered over the whole events, the one window over
    the whole table (it runs on one thread) sorted every column along, 1.9 of derive's
    3.2 s on the bench world."""
    if only is not None and source is None and derive_in_place(con, only):
        return
    kept = ", ".join(column for column in BASE_COLUMNS)
    redo = "TRUE" if only is None else f"e.maker IN (SELECT maker FROM {only})"
    source = source or "(SELECT *, rowid AS rid FROM events)"
    keys = keys or f"SELECT rowid AS rid, {ordered()} FROM events"
    con.execute(f"""CREATE OR REPLACE TABLE events AS
        WITH placed AS (
            SELECT rid, row_number() OVER (ORDER BY {ordered()}) * {GAP} AS seq FROM ({keys})),
        base AS (
            SELECT {', '.join('e.' + column for column in BASE_COLUMNS)}, p.seq,
                   {looked_up()},
                   {redo} AS redo, {', '.join(f'e.{column} AS kept_{column}' for column in STEPPED)}
            FROM {source} e JOIN placed p ON p.rid = e.rid {looked_up_joins()}),
        {steps_sql('base', 'redo')}
        SELECT b.{kept.replace(', ', ', b.')}, b.seq, b.org, b.is_bot, b.someone_else,
               {', '.join(f'CASE WHEN b.redo THEN {value} ELSE b.kept_{column} END AS {column}'
                          for column, value in zip(STEPPED, STEPPED_VALUES, strict=True))},
               b.repo_rank, b.org_rank
        FROM base b {steps_joins('b')}""")


STEPPED_VALUES = ('s.prev_n', 's.next_n', 's.prev_o', 's.next_o', 's.prev_r', 's.next_r',
                  'orep.other_t', 'oorg.other_t')


def ordered(alias: str = "") -> str:
    """SQL: the shared order of events (``build.ORDER_KEY``), columns prefixed by ``alias``."""
    return ", ".join(alias + key.strip() for key in ORDER_KEY.split(","))


# Their values for an event ``e`` (``looked_up_joins``), in ``LOOKED_UP``'s order.
LOOKED_UP_VALUES = ("r.org_code", "m.is_bot",
                    "e.target_author IS NOT NULL AND e.target_author <> e.maker "
                    "AND NOT coalesce(ta.is_bot, FALSE)", "r.repo_rank", "r.org_rank")


def looked_up() -> str:
    """SQL: ``LOOKED_UP``'s values of an event ``e`` (joined by ``looked_up_joins``)."""
    return ", ".join(f"{value} AS {column}"
                     for column, value in zip(LOOKED_UP, LOOKED_UP_VALUES, strict=True))


def looked_up_joins() -> str:
    """SQL: the joins ``looked_up`` reads, for events ``e``."""
    return """JOIN makers m ON m.code = e.maker
        JOIN (SELECT repo_id, org_code, dense_rank() OVER (ORDER BY full_name) AS repo_rank,
                     dense_rank() OVER (ORDER BY org) AS org_rank FROM repos) r
          ON r.repo_id = e.repo_id
        LEFT JOIN makers ta ON ta.code = e.target_author"""


def steps_sql(source: str, redo: str) -> str:
    """SQL (CTEs ``acts``, ``steps``, ``others_repo``, ``others_org``): the ``STEPPED``
    values of the actions of people in ``source`` (rows with ``seq``, the base columns and
    ``is_bot``) where ``redo`` holds."""
    steps = ",\n".join(
        f"lag(t) OVER (PARTITION BY {keys} ORDER BY t, seq) AS prev_{name}, "
        f"lead(t) OVER (PARTITION BY {keys} ORDER BY t, seq) AS next_{name}"
        for name, keys in (("n", "maker"), ("o", "maker, org"), ("r", "maker, repo_id")))
    return f"""acts AS (SELECT seq, maker, org, repo_id, t FROM {source}
                     WHERE action AND NOT is_bot AND {redo}),
        steps AS (SELECT seq, {steps} FROM acts),
        {others('repo_id', 'repo')},
        {others('org', 'org')}"""


def steps_joins(alias: str) -> str:
    """SQL: the joins of ``steps_sql``'s CTEs to the events ``alias`` (``STEPPED_VALUES``)."""
    return f"""LEFT JOIN steps s ON s.seq = {alias}.seq
        LEFT JOIN others_repo orep ON orep.maker = {alias}.maker AND orep.t = {alias}.t
             AND {alias}.repo_id IS NOT NULL AND {alias}.action AND NOT {alias}.is_bot
        LEFT JOIN others_org oorg ON oorg.maker = {alias}.maker AND oorg.t = {alias}.t
             AND {alias}.org IS NOT NULL AND {alias}.action AND NOT {alias}.is_bot"""


def derive_in_place(con: duckdb.DuckDBPyConnection, only: str) -> bool:
    """``derive`` with ``only`` by updating the rows that change, when few do: the new
    events (``seq`` NULL) placed between their neighbours (``place``), the looked-up columns
    set where they differ, the steps of ``only``'s makers' events set where they differ.
    False (nothing done) when too many rows would change or a gap is too narrow for the
    new events: the table is then written again whole."""
    total, fresh, redone = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE seq IS NULL),
               count(*) FILTER (WHERE maker IN (SELECT maker FROM {only})) FROM events""").fetchall()[0]
    if total == 0 or max(fresh, redone) > IN_PLACE_SHARE * total:
        return False
    con.execute("BEGIN TRANSACTION")  # rowids name the rows to update: no checkpoint between
    try:
        if not place(con):
            con.execute("ROLLBACK")
            return False
        con.execute(f"""CREATE OR REPLACE TEMP TABLE d_looked AS
            SELECT e.rowid AS rid, e.maker, e.is_bot IS NOT NULL AND e.is_bot <> m.is_bot AS flipped,
                   {looked_up()}
            FROM events e {looked_up_joins()}
            WHERE ({', '.join('e.' + c for c in LOOKED_UP)}) IS DISTINCT FROM
                  ({', '.join(LOOKED_UP_VALUES)})""")
        # a maker who became a bot or a person: their steps read their actions again
        con.execute(f"INSERT INTO {only} SELECT DISTINCT maker FROM d_looked WHERE flipped "
                    f"AND maker NOT IN (SELECT maker FROM {only})")
        con.execute(f"""UPDATE events SET {', '.join(f'{c} = d.{c}' for c in LOOKED_UP)}
                        FROM d_looked d WHERE events.rowid = d.rid""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE d_stepped AS
            WITH mine AS (SELECT rowid AS rid, * FROM events WHERE maker IN (SELECT maker FROM {only})),
            {steps_sql('mine', 'TRUE')}
            SELECT b.rid, {', '.join(f'{value} AS {column}' for column, value in zip(STEPPED, STEPPED_VALUES, strict=True))}
            FROM mine b {steps_joins('b')}
            WHERE ({', '.join('b.' + c for c in STEPPED)}) IS DISTINCT FROM ({', '.join(STEPPED_VALUES)})""")
        con.execute(f"""UPDATE events SET {', '.join(f'{c} = d.{c}' for c in STEPPED)}
                        FROM d_stepped d WHERE events.rowid = d.rid""")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    for table in ("d_places", "d_looked", "d_stepped"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return True


def place(con: duckdb.DuckDBPyConnection) -> bool:
    """Give the events without a place (``seq`` NULL) one between their neighbours' in the
    shared order, spread evenly over the gap (after the last event: ``GAP`` apart). False
    (nothing set) when a gap holds fewer free numbers than the events to place in it."""
    # an event's neighbours: among the events of its second, by the rest of the shared
    # order (a window over those seconds alone); else the last of the seconds before it and
    # the first of those after (as-of joins over the seconds' lowest and highest places)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE d_places AS
        WITH fresh AS (SELECT rowid AS rid, t, part, k1, k2, sha FROM events WHERE seq IS NULL),
        seconds AS (SELECT t, min(seq) AS first_seq, max(seq) AS last_seq FROM events
                    WHERE seq IS NOT NULL GROUP BY t),
        near AS (
            SELECT NULL::BIGINT AS rid, t, part, k1, k2, sha, seq FROM events
            WHERE seq IS NOT NULL AND t IN (SELECT t FROM fresh)
            UNION ALL SELECT rid, t, part, k1, k2, sha, NULL FROM fresh),
        walked AS (
            SELECT rid, t, row_number() OVER (ORDER BY {ordered()}, seq NULLS LAST) AS n,
                   max(seq) OVER (PARTITION BY t ORDER BY {ordered()}, seq NULLS LAST
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS below,
                   min(seq) OVER (PARTITION BY t ORDER BY {ordered()}, seq NULLS LAST
                                  ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS above
            FROM near),
        bounded AS (
            SELECT w.rid, w.n, coalesce(w.below, b.last_seq, 0) AS below,
                   coalesce(w.above, a.first_seq) AS above
            FROM (SELECT * FROM walked WHERE rid IS NOT NULL) w
            ASOF LEFT JOIN seconds b ON w.t > b.t
            ASOF LEFT JOIN seconds a ON w.t < a.t)
        SELECT rid, below, above,
               row_number() OVER (PARTITION BY below ORDER BY n) AS i,
               count(*) OVER (PARTITION BY below) AS k
        FROM bounded""")
    narrow = con.execute("SELECT count(*) FROM d_places WHERE above IS NOT NULL "
                         "AND above - below <= k").fetchall()[0][0]
    if narrow:
        return False
    con.execute(f"""UPDATE events SET seq = CASE WHEN d.above IS NULL THEN d.below + {GAP} * d.i
                                                 ELSE d.below + (d.above - d.below) * d.i // (d.k + 1) END
                    FROM d_places d WHERE events.rowid = d.rid""")
    return True


def others(unit: str, name: str) -> str:
    """SQL (a CTE ``others_<name>``): per maker and second they acted in, the time of their
    latest action in another ``unit`` at or before it (the same for each of that second's
    actions). The seconds of a maker are labelled with their one unit (or as several); runs
    of equal labels follow each other; a second of one unit looks back to the last second
    of the run before its own (the second before the latest run start), a second of several
    units to itself."""
    return f"""
        seconds_{name} AS (
            SELECT maker, t, min({unit}) <> max({unit}) AS several, min({unit}) AS the_unit
            FROM acts GROUP BY maker, t),
        placed_{name} AS (
            SELECT *, CASE WHEN row_number() OVER w = 1 OR several OR lag(several) OVER w
                                OR the_unit <> lag(the_unit) OVER w
                           THEN lag(t) OVER w END AS run_prev
            FROM seconds_{name} WINDOW w AS (PARTITION BY maker ORDER BY t)),
        others_{name} AS (
            SELECT maker, t, CASE WHEN several THEN t ELSE last_value(run_prev IGNORE NULLS) OVER (
                       PARTITION BY maker ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                   END AS other_t
            FROM placed_{name})"""
