"""The precomputed tables of ``graphminer trajectory`` (migration 0004's ``traj_*``), from
the columnar engine, written to the store as what changed since the last refresh.

``every_maker(columnar, conn, ...)`` makes the rows of the four tables in DuckDB
(``new_traj_*``), exactly as ``graphminer.precompute.table_rows`` makes them from pandas:
milestones of every scope with their triggers, stages, each maker's current stage and
counts, the lookup index of names (the milestones in the copy's own form, ``CODED``:
makers as codes, times as seconds; the store's text and the links are made for the rows
written alone, ``stored_select``); and writes to the store (``write``) only
the rows that differ from what the copy last wrote (``written_traj_*``,
kept in the copy), or every row when ``whole`` (no earlier writing is known): a quiet
night rewrites the few rows as_of moved (inactive, gone, the last quarter's stage) and
nothing else (``quiet_changes``); a night that changed some repositories' events computes
again only the makers those events can reach, from their events and their neighbours'
(``night_changes``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import pandas as pd

from graphminer.columnar.engine import TARGET
from graphminer.columnar.lanes import beside
from graphminer.milestones import CAREER_KEYS

if TYPE_CHECKING:
    import duckdb

    from graphminer.columnar import Columnar

ISO = "'%Y-%m-%dT%H:%M:%SZ'"


def iso(column: str) -> str:
    """SQL: epoch seconds as ``YYYY-MM-DDTHH:MM:SSZ`` (a TIMESTAMP, UTC by definition:
    formatting a TIMESTAMPTZ, ``to_timestamp``'s, took twice as long).

    >>> import duckdb
    >>> duckdb.sql(f"SELECT {iso('1700000000')}, {iso('NULL')}").fetchall()
    [('2023-11-14T22:13:20Z', None)]
    """
    return f"strftime(make_timestamp(CAST({column} AS BIGINT) * 1000000), {ISO})"


# (table, its columns in the store, its primary key)
TABLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("traj_makers", ("key", "login", "name", "is_bot", "stage", "state", "organiser", "bridge",
                     "counts", "role_account"), ("key",)),
    ("traj_maker_names", ("needle", "kind", "maker_key"), ("needle", "kind", "maker_key")),
    ("traj_milestones", ("maker_key", "scope", "scope_name", "milestone", "at", "trigger_kind",
                         "trigger_repo", "trigger_target", "trigger_at", "link", "trigger_by"),
     ("maker_key", "scope", "scope_name", "milestone")),
    ("traj_stages", ("maker_key", "quarter", "stage", "organiser", "bridge", "state"),
     ("maker_key", "quarter")),
)
SHAPES = {table: (columns, key) for table, columns, key in TABLES}
NAMES = tuple(table for table, _, _ in TABLES)
# Columns the copy does not keep of what it wrote (``written_traj_*``), each with the kept
# columns it follows from (with the web address: a refresh under another address writes
# every row, ``graphminer.precompute``): a milestone's link from its trigger's repository
# and target. Kept, the links were half the time of keeping the milestones (1.1M rows:
# 2.6 s against 1.4 s).
UNKEPT = {"traj_milestones": {"link": ("trigger_repo", "trigger_target")}}
# Columns the copy holds in its own form (in ``new_``, ``up_``, ``del_`` and ``written_``
# tables), each with its type there, the SQL giving the store's value from a row ``u`` and
# the join that SQL reads: a milestone's maker and trigger's maker as their codes (the
# copy's ``makers`` only ever gains rows, so a code names one key as long as the copy
# lives), its times as epoch seconds. Equal in one form when equal in the other; compared,
# sorted and kept as integers, and written out only for the rows the store is given (on
# the changed night, 400,000 of 1.1M milestones).
CODED: dict[str, dict[str, tuple[str, str, str]]] = {"traj_milestones": {
    "maker_key": ("INTEGER", "mk.key", "JOIN makers mk ON mk.code = u.maker_key"),
    "at": ("BIGINT", iso('u."at"'), ""),
    "trigger_at": ("BIGINT", iso("u.trigger_at"), ""),
    "trigger_by": ("INTEGER", "bm.key", "LEFT JOIN makers bm ON bm.code = u.trigger_by")}}


def kept_columns(table: str) -> tuple[str, ...]:
    """The columns of ``table`` the copy keeps of what it wrote.

    >>> kept_columns("traj_milestones")[-2:]
    ('trigger_at', 'trigger_by')
    """
    return tuple(column for column in SHAPES[table][0] if column not in UNKEPT.get(table, {}))


def compared_columns(table: str) -> tuple[str, ...]:
    """The kept columns of ``table`` outside its key: those a changed row differs by (bit
    ``i`` of its ``moved``, ``diff``, stands for the ``i``-th).

    >>> compared_columns("traj_stages")
    ('stage', 'organiser', 'bridge', 'state')
    """
    key = SHAPES[table][1]
    return tuple(column for column in kept_columns(table) if column not in key)


def set_columns(table: str, moved: int) -> tuple[str, ...]:
    """The columns a changed row of ``table`` is updated in (``moved``: ``diff``'s bits), in
    the table's order, with the unkept ones that follow from them.

    >>> set_columns("traj_milestones", 0b000100)
    ('trigger_repo', 'link')
    >>> set_columns("traj_milestones", 0b010001)
    ('at', 'trigger_at')
    """
    moving = {column for index, column in enumerate(compared_columns(table)) if moved >> index & 1}
    moving |= {column for column, sources in UNKEPT.get(table, {}).items() if moving & set(sources)}
    return tuple(column for column in SHAPES[table][0] if column in moving)


def copy_type(table: str, column: str) -> str:
    """The type of ``column`` of ``table`` in the copy (``CODED``; else text, as stored)."""
    return CODED.get(table, {}).get(column, ("VARCHAR",))[0]


def stored_value(table: str, column: str, base: str) -> str:
    """SQL: the store's value of ``column`` of ``table`` from the copy's row ``u``
    (``CODED``; an unkept column from the kept ones it follows from, ``UNKEPT``).

    >>> stored_value("traj_milestones", "trigger_by", "https://github.com")
    'bm.key'
    >>> stored_value("traj_stages", "stage", "https://github.com")
    'u."stage"'
    """
    if column in CODED.get(table, {}):
        return CODED[table][column][1]
    if column in UNKEPT.get(table, {}):
        repo, target = UNKEPT[table][column]
        return link(f"u.{repo}", f"u.{target}", base)
    return f'u."{column}"'


def stored_joins(table: str, columns: tuple[str, ...]) -> str:
    """SQL: the joins ``stored_value`` reads for ``columns`` of ``table``."""
    return " ".join(CODED[table][column][2] for column in columns
                    if column in CODED.get(table, {}) and CODED[table][column][2])


def stored_select(table: str, source: str, columns: tuple[str, ...], base: str,
                  where: str = "") -> str:
    """SQL: ``columns`` of ``table`` as the store holds them, from the copy's rows of
    ``source`` (``u``), ordered by the store's key (where those columns hold it)."""
    key = SHAPES[table][1]
    order = [str(columns.index(column) + 1) for column in key if column in columns]
    return (f"SELECT {', '.join(stored_value(table, column, base) for column in columns)} "
            f"FROM {source} u {stored_joins(table, columns)} {where} "
            + (f"ORDER BY {', '.join(order)}" if order else ""))


def link(repo: str, target: str, base: str) -> str:
    """SQL: ``graphminer.precompute.item_link``: the web page of an event's target."""
    quoted = base.replace("'", "''")
    ref = f"substr({target}, strpos({target}, ':') + 1)"
    kind = f"substr({target}, 1, strpos({target}, ':') - 1)"
    return f"""CASE WHEN {repo} IS NULL OR {repo} = '' OR {target} IS NULL OR {target} = ''
                    OR strpos({target}, ':') = 0 THEN NULL
               WHEN {kind} = 'issue' THEN '{quoted}/' || {repo} || '/issues/' || {ref}
               WHEN {kind} = 'pr' THEN '{quoted}/' || {repo} || '/pull/' || {ref}
               WHEN {kind} = 'commit' THEN '{quoted}/' || {repo} || '/commit/' || {ref}
               WHEN {kind} = 'release' THEN '{quoted}/' || {repo} || '/releases'
               ELSE NULL END"""


def milestone_select(table: str, scope: str) -> str:
    """SQL: the milestone acts of ``table`` (one scope) as rows of ``traj_milestones`` in
    the copy's form (``CODED``; without the link)."""
    name = {"network": "''", "org": "coalesce(a.ext_org, r.org)",
            "repo": "coalesce(a.ext_repo, r.full_name)"}[scope]
    return f"""
        SELECT CAST(a.maker AS INTEGER) AS maker_key, '{scope}' AS scope, {name} AS scope_name,
               a.milestone, CAST(a.dated AS BIGINT) AS "at", CAST(a.kind AS VARCHAR) AS trigger_kind,
               coalesce(a.ext_repo, r.full_name) AS trigger_repo,
               {TARGET} AS trigger_target, CAST(a.t AS BIGINT) AS trigger_at,
               CAST(a.by_maker AS INTEGER) AS trigger_by
        FROM {table} a
        LEFT JOIN repos r ON r.repo_id = a.repo_id
        WHERE a.maker IS NOT NULL"""


# The scopes of milestones, in the order they are computed
SCOPES = ("network", "org", "repo")


def united(parts: list[str]) -> str:
    """SQL: the union of milestone rows ``parts``."""
    return " UNION ALL ".join(f"({part})" for part in parts)


def milestone_rows(columnar: Columnar, moment: int) -> None:
    """``new_traj_milestones``: milestones of the three scopes with triggers (``CODED``)."""
    parts = [milestone_select(columnar.engine.act_table(moment, columnar.limits, scope,
                                                       columnar.outside), scope)
             for scope in SCOPES]
    columnar.con.execute(f"CREATE OR REPLACE TEMP TABLE new_traj_milestones AS {united(parts)}")


def stage_rows(columnar: Columnar, moment: int, marks: tuple[str, str] | None = None,
               since: int | None = None, only: str | None = None) -> None:
    """``new_traj_stages``: the network stages, quarters as ``YYYY-MM-DD`` (from ``marks``,
    tables kept from an earlier as_of, when given; only quarters from ``since`` on when
    given; only the makers of the table ``only`` when given)."""
    columnar.engine.stages(moment, columnar.limits, columnar.outside, marks=marks,
                           since=since, only=only, frame=False)
    # from the engine's own table of them (``stage_out``: the frame's rows), not the frame
    columnar.con.execute("""CREATE OR REPLACE TEMP TABLE new_traj_stages AS
        SELECT CAST(maker AS VARCHAR) AS maker_key,
               strftime(to_timestamp(quarter), '%Y-%m-%d') AS quarter,
               CAST(stage AS VARCHAR) AS stage, CAST(organiser AS BIGINT) AS organiser,
               CAST(bridge AS BIGINT) AS bridge, CAST(state AS VARCHAR) AS state
        FROM stage_out ORDER BY maker, q""")


# What a later as_of changes when no event is new: the gaps, and the careers' milestones
# (following's acts may be dated after the last refresh); the last quarters' stages.
AS_OF_MILESTONES = ("inactive", "gone", *CAREER_KEYS)
AS_OF_LISTED = ", ".join(f"'{name}'" for name in AS_OF_MILESTONES)  # (as an SQL list)


# Margin around a quiet night's window (seconds): a maker whose action lies within it of a
# threshold is computed again (more makers than move is harmless: their rows compare equal).
QUIET_MARGIN = 2 * 86_400
# Above this share of the makers reached by a night's changes (``night_changes``), every
# maker is computed again (``rows``): reading only theirs no longer saves anything.
NIGHT_SHARE = 0.8


def quiet_makers(columnar: Columnar, moment: int, before: int) -> str:
    """The temporary table ``quiet_makers`` (``code``, ``key``): the makers whose
    milestones a quiet night from ``before`` to ``moment`` may move, and within one quarter
    the makers whose stages it may move (when a new quarter begins, every maker gets its
    row: the caller computes them all). With no event between the two, a maker's
    milestones and stages move with as_of only where a gap until as_of reaches
    ``inactive_days`` or ``gone_days`` in between (the gap runs from the maker's last
    action in a scope, which is one of their events: every maker with an event that far
    before the window is taken, margin included) or where following stored acts (the
    careers' milestones are dated by them: every followed maker is taken)."""
    con, limits = columnar.con, columnar.limits
    low, high = int(before) - QUIET_MARGIN, int(moment) + QUIET_MARGIN
    near = " OR ".join(f"e.t + {int(limits[name]) * 86_400} BETWEEN {low} AND {high}"
                       for name in ("inactive_days", "gone_days"))
    outside = columnar.outside
    followed = sorted(set(outside["maker"].astype(str))) if outside is not None and len(outside) else []
    con.register("_followed", pd.DataFrame({"key": pd.Series(followed, dtype=object)}))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE quiet_makers AS
        SELECT DISTINCT e.maker AS code, mk.key FROM events e JOIN makers mk ON mk.code = e.maker
        WHERE {near}
        UNION
        SELECT mk.code, mk.key FROM _followed f JOIN makers mk ON mk.key = f.key""")
    con.unregister("_followed")
    return "quiet_makers"


def as_of_milestones(columnar: Columnar, moment: int, among: str) -> str:
    """SQL: the milestones as_of moves (``AS_OF_MILESTONES`` in the network, the gaps in
    orgs and repositories) of the makers of the table ``among`` (``code``), in the copy's
    form. These read each maker's own events (and following's acts) alone, so the rules
    read those makers' events only; their acts are made here, the SQL reads them."""
    engine = columnar.engine
    parts = []
    engine.only = among
    try:
        for scope in SCOPES:
            names = AS_OF_MILESTONES if scope == "network" else ("inactive", "gone")
            part = milestone_select(engine.act_table(moment, columnar.limits, scope,
                                                     columnar.outside, names=names), scope)
            parts.append(f"SELECT * FROM ({part}) WHERE maker_key IN (SELECT code FROM {among})")
    finally:
        engine.only = None
    return united(parts)


def quiet_changes(columnar: Columnar, moment: int, before: int) -> None:
    """``up_*`` and ``del_*`` when only as_of moved, from ``before`` to ``moment`` (a quiet
    night): the milestones of ``AS_OF_MILESTONES`` computed again and compared with the
    ones last written; the stages of the quarters from ``before``'s on, from the marks kept
    at the last refresh (``kept_stage_*``: no event is new, so none changed); each maker's
    current stage. Nothing else can have changed. Only the milestones of the makers
    ``quiet_makers`` gives are compared, and within one quarter only their stages are
    computed: the others' rows cannot move."""
    engine, con = columnar.engine, columnar.con
    moved = quiet_makers(columnar, moment, before)
    con.execute("CREATE OR REPLACE TEMP TABLE quiet_milestones AS "
                + as_of_milestones(columnar, moment, moved))
    diff(con, "traj_milestones", "SELECT * FROM quiet_milestones",
         f"SELECT * FROM written_traj_milestones WHERE milestone IN ({AS_OF_LISTED}) "
         f"AND maker_key IN (SELECT code FROM {moved})")
    same_quarter = engine.quarter_number(before) == engine.quarter_number(moment)
    only = moved if same_quarter else None
    among = "" if only is None else f" AND maker_key IN (SELECT key FROM {only})"
    since = engine.quarter_number(before)
    stage_rows(columnar, moment, marks=("kept_stage_marks", "kept_stage_reached"), since=since,
               only=only)
    first_day = con.execute(f"SELECT {quarter_day(since)}").fetchall()[0][0]
    diff(con, "traj_stages", "SELECT * FROM new_traj_stages",
         f"SELECT * FROM written_traj_stages WHERE quarter >= '{first_day}'{among}")
    keys = "" if only is None else f" WHERE w.key IN (SELECT key FROM {only})"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE new_traj_makers AS
        WITH {LAST_STAGES}
        SELECT w.key, w.login, w.name, w.is_bot, coalesce(l.stage, w.stage) AS stage,
               coalesce(l.state, w.state) AS state, coalesce(l.organiser, w.organiser) AS organiser,
               coalesce(l.bridge, w.bridge) AS bridge, w.counts, w.role_account
        FROM written_traj_makers w LEFT JOIN last l ON l.maker_key = w.key{keys}""")
    diff(con, "traj_makers", "SELECT * FROM new_traj_makers",
         "SELECT * FROM written_traj_makers" + ("" if only is None else
                                                f" WHERE key IN (SELECT key FROM {only})"))
    every_row(con, "traj_maker_names", "(SELECT * FROM written_traj_maker_names WHERE FALSE)")


def quarter_day(quarter: int) -> str:
    """SQL: the first day (``YYYY-MM-DD``) of a quarter number."""
    return (f"strftime(make_date(CAST({quarter} // 4 AS BIGINT), "
            f"CAST({quarter} % 4 * 3 + 1 AS BIGINT), 1), '%Y-%m-%d')")


LAST_STAGES = """last AS (
            SELECT maker_key, stage, state, organiser, bridge FROM (
                SELECT *, row_number() OVER (PARTITION BY maker_key ORDER BY quarter DESC) AS rk
                FROM new_traj_stages) WHERE rk = 1)"""


def count_json(count_kinds: dict[str, tuple[str, ...]]) -> str:
    """SQL: a maker's counts as ``graphminer.precompute.kind_counts`` writes them (JSON):
    one entry per name of ``count_kinds``, counting the events of its kinds."""
    parts = []
    for index, (name, kinds) in enumerate(count_kinds.items()):
        listed = ", ".join(f"'{kind}'" for kind in kinds)
        parts.append(("'{' || " if index == 0 else "', ' || ")
                     + f"'\"{name}\": ' || CAST(sum(CASE WHEN CAST(kind AS VARCHAR) IN ({listed}) "
                       f"THEN 1 ELSE 0 END) AS VARCHAR)")
    return " || ".join(parts) + " || '}'"


def maker_keys(columnar: Columnar) -> list[str]:
    """Every maker with an event (bots included), in key order."""
    return [row[0] for row in columnar.con.execute(
        "SELECT DISTINCT mk.key FROM events e JOIN makers mk ON mk.code = e.maker ORDER BY 1"
    ).fetchall()]


def maker_rows(columnar: Columnar, moment: int, info: dict[str, dict[str, Any]],
               names: list[tuple[str, str, str]], count_kinds: dict[str, tuple[str, ...]]) -> None:
    """``new_traj_makers`` and ``new_traj_maker_names``: every maker of ``info`` (key ->
    login, name, is_bot: those with an event and any other the caller knows), their bot
    flag, current stage and counts; the names (``names``: needle, kind, key) they may be
    looked up by."""
    con = columnar.con
    keys = sorted(info)
    con.register("_info", pd.DataFrame({
        "key": keys, "login": [info[key]["login"] for key in keys],
        "name": [info[key]["name"] for key in keys],
        "info_bot": [bool(info[key]["is_bot"]) for key in keys]}, dtype=object))
    con.register("_names", pd.DataFrame(names, columns=["needle", "kind", "maker_key"],
                                        dtype=object))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE new_traj_makers AS
        WITH {LAST_STAGES},
        counted AS (
            SELECT maker, {count_json(count_kinds)} AS counts FROM events WHERE t <= {moment}
            GROUP BY maker),
        flagged AS (SELECT DISTINCT e.maker, e.is_bot, m.role_account FROM events e
                    JOIN makers m ON m.code = e.maker)
        SELECT CAST(i.key AS VARCHAR) AS key, CAST(i.login AS VARCHAR) AS login,
               CAST(i.name AS VARCHAR) AS name,
               -- a role account is flagged as one, not as a bot (graphminer.precompute)
               CAST((coalesce(f.is_bot, FALSE) OR CAST(i.info_bot AS BOOLEAN))
                    AND NOT coalesce(f.role_account, FALSE) AS BIGINT) AS is_bot,
               l.stage, l.state, coalesce(l.organiser, 0) AS organiser,
               coalesce(l.bridge, 0) AS bridge, coalesce(c.counts, '{{}}') AS counts,
               CAST(coalesce(f.role_account, FALSE) AS BIGINT) AS role_account
        FROM _info i
        LEFT JOIN makers mk ON mk.key = i.key
        LEFT JOIN flagged f ON f.maker = mk.code
        LEFT JOIN last l ON l.maker_key = i.key
        LEFT JOIN counted c ON c.maker = mk.code""")
    con.execute("""CREATE OR REPLACE TEMP TABLE new_traj_maker_names AS
        SELECT CAST(needle AS VARCHAR) AS needle, CAST(kind AS VARCHAR) AS kind,
               CAST(maker_key AS VARCHAR) AS maker_key FROM _names""")
    con.unregister("_info")
    con.unregister("_names")


def no_rows(con: duckdb.DuckDBPyConnection) -> None:
    """The four ``new_traj_*`` tables, empty (the store has no event)."""
    for table, _, _ in TABLES:
        con.execute(f"CREATE OR REPLACE TEMP TABLE new_{table} AS SELECT "
                    + ", ".join(f'NULL::{copy_type(table, column)} AS "{column}"'
                                for column in kept_columns(table)) + " WHERE FALSE")


def quoted(columns: tuple[str, ...], alias: str = "") -> str:
    """SQL: the columns, quoted (``at`` is a keyword), each prefixed by ``alias.``."""
    return ", ".join(f'{alias + "." if alias else ""}"{column}"' for column in columns)


def diff(con: duckdb.DuckDBPyConnection, table: str, new: str, old: str) -> None:
    """The temporary tables ``up_<table>`` (rows of ``new`` not in ``old``: to write, each
    with ``moved``: NULL where ``old`` has no row of its key, else which of its
    ``compared_columns`` changed, one bit each, the store's row then updated in those
    alone) and ``del_<table>`` (keys of ``old`` not in ``new``: to delete); ``new`` and
    ``old`` are queries over the same part of the table (all of it, or what a quiet night
    moves), chosen by key columns. Both have the kept columns (``kept_columns``) in the
    copy's form (``CODED``), and rows are compared by them."""
    key = SHAPES[table][1]
    columns = kept_columns(table)
    sides = {}
    for side, sql in (("new", new), ("old", old)):
        whole = re.fullmatch(r"SELECT \* FROM (\w+)", sql.strip())
        if whole:  # a table as it is
            sides[side] = whole.group(1)
        else:  # a part of one: read once, not once per statement below
            sides[side] = f"diff_{side}"
            con.execute(f"CREATE OR REPLACE TEMP TABLE diff_{side} AS SELECT * FROM ({sql})")
    # (a join by key, the other columns compared with NULLs equal: EXCEPT's rows, the rows
    # being distinct by their key, in half its time: 0.77 against 1.55 s for 1.1M milestones)
    on = " AND ".join(f'n."{column}" = o."{column}"' for column in key)
    bits = " + ".join(f'CASE WHEN n."{column}" IS DISTINCT FROM o."{column}" THEN {1 << index} '
                      "ELSE 0 END" for index, column in enumerate(compared_columns(table))) or "0"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE up_{table} AS
        SELECT * FROM (
            SELECT {quoted(columns, 'n')},
                   CASE WHEN o."{key[0]}" IS NOT NULL THEN {bits} END AS moved
            FROM {sides['new']} n LEFT JOIN {sides['old']} o ON {on})
        WHERE moved IS NULL OR moved <> 0""")
    # (each side's keys being distinct, every old key is among the new ones when as many new
    # rows found theirs as there are old rows: then none is deleted, and the join that
    # finds them, 0.2 s for the changed night's 1.1M milestones, is not run)
    found, old = con.execute(f"""SELECT (SELECT count(*) FROM {sides['new']})
        - (SELECT count(*) FROM up_{table} WHERE moved IS NULL), (SELECT count(*) FROM {sides['old']})""").fetchall()[0]
    gone = " WHERE FALSE" if found == old else f" ANTI JOIN {sides['new']} n ON {on}"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE del_{table} AS
        SELECT {quoted(key, 'o')} FROM {sides['old']} o{gone}""")
    for side in ("new", "old"):
        con.execute(f"DROP TABLE IF EXISTS diff_{side}")


def changes(con: duckdb.DuckDBPyConnection, whole: bool,
            tables: tuple[str, ...] | None = None) -> None:
    """``up_*`` and ``del_*`` of every table (of ``tables`` when given) from ``new_*`` (all
    rows when ``whole``: the store's table is rewritten; else against what the copy last
    wrote)."""
    for table in tables or NAMES:
        if whole:
            every_row(con, table, f"new_{table}")
        else:
            diff(con, table, f"SELECT * FROM new_{table}", f"SELECT * FROM written_{table}")


def every_row(con: duckdb.DuckDBPyConnection, table: str, source: str) -> None:
    """``up_<table>`` and ``del_<table>`` as ``diff`` makes them, writing every row of
    ``source`` (a table, or SQL in parentheses) as new and deleting none."""
    key = SHAPES[table][1]
    columns = kept_columns(table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE up_{table} AS "
                f"SELECT {quoted(columns)}, NULL::INTEGER AS moved FROM {source}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE del_{table} AS "
                f"SELECT {quoted(key)} FROM {source} WHERE FALSE")


def has_written(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the copy knows what it last wrote to the store."""
    names = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    return all(f"written_{table}" in names for table, _, _ in TABLES)


# Up to this many rows to write are read from the copy at once, and the copy's own work
# meanwhile (``write``'s ``alongside``) runs while the store writes them; more (a first
# refresh at ten million events writes tens of millions) are read in batches.
READ_AT_ONCE = 1_000_000


def write(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection, whole: bool, base: str,
          alongside: Callable[[], None] | None = None,
          tables: tuple[str, ...] | None = None,
          then: Callable[[], None] | None = None) -> dict[str, int]:
    """Write ``up_*`` and ``del_*`` of every table (of ``tables`` when given) to the store's
    tables (inside the caller's transaction; each table emptied first when ``whole``; the
    links under the web address ``base``), then
    run ``then`` when given. Returns how many rows were written per table. ``alongside``
    (work on ``con`` alone) runs once the rows are read from the copy: on another thread
    while the store writes them when there are few enough (``READ_AT_ONCE``), else after
    them."""
    tables = tables or NAMES
    counts = {table: change_count(con, table) for table in tables}

    def stores(rows: Fetched) -> None:
        stored(conn, whole, rows)
        if then is not None:
            then()

    if alongside is not None and sum(counts.values()) <= READ_AT_ONCE:
        rows = fetched(con, tables, base)
        beside(con, alongside, lambda: stores(rows))
        return counts
    for table in tables:
        if whole:
            conn.execute(f"DELETE FROM {table}")
        for read, statement in table_statements(con, table, base):
            batched(con.execute(read), conn, statement)
    if then is not None:
        then()
    if alongside is not None:
        alongside()
    return counts


def table_statements(con: duckdb.DuckDBPyConnection, table: str,
                     base: str) -> list[tuple[str, str]]:
    """For ``table``'s changes, what to read of the copy and the store's statement for each
    row read: the deletions (``del_<table>``), then the rows of ``up_<table>``
    (``written_statements``)."""
    key = SHAPES[table][1]
    moves = [row[0] for row in con.execute(
        f"SELECT DISTINCT moved FROM up_{table} WHERE moved IS NOT NULL ORDER BY 1").fetchall()]
    return [(stored_select(table, f"del_{table}", key, base),
             f"DELETE FROM {table} WHERE " + " AND ".join(f"{column} = ?" for column in key)),
            *written_statements(table, moves, base)]


# (a store table, and its statements with the rows each is run for)
Fetched = list[tuple[str, list[tuple[str, list[tuple]]]]]


def fetched(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...], base: str) -> Fetched:
    """The changes of ``tables`` read from the copy, to be ``stored``."""
    return [(table, [(statement, con.execute(read).fetchall())
                     for read, statement in table_statements(con, table, base)])
            for table in tables]


def stored(conn: sqlite3.Connection, whole: bool, rows: Fetched) -> None:
    """Write ``fetched``'s rows to the store (each table emptied first when ``whole``)."""
    for table, statements in rows:
        if whole:
            conn.execute(f"DELETE FROM {table}")
        for statement, batch in statements:
            conn.executemany(statement, batch)


def every_maker(columnar: Columnar, conn: sqlite3.Connection, moment: int, base: str,
                maker_info: Callable[[list[str]], tuple[dict[str, dict[str, Any]],
                                                        list[tuple[str, str, str]]]],
                count_kinds: dict[str, tuple[str, ...]], whole: bool,
                alongside: Callable[[], None] | None,
                recorded: Callable[[], None]) -> dict[str, int]:
    """The four ``new_traj_*`` tables of every maker (exactly as
    ``graphminer.precompute.table_rows`` makes them from pandas) and what changed written to
    the store (inside the caller's transaction, as ``write``; ``alongside`` as there), then
    ``recorded`` (the store's record of the refresh) run and the store's transaction
    committed. ``maker_info`` gives, for the makers' keys, their login, name and bot flag
    and the lookup names; it reads the store on this thread, whose connection that is,
    while the milestones' rules run on DuckDB's.

    The milestones, nine tenths of the rows, are written as soon as they are computed: the
    store writes them on this thread (SQLite writes on one core), then the others, and
    commits, while the stages, the makers' rows, their changes and ``alongside`` (the
    copy's record: what it wrote, kept) are computed on DuckDB's. On the changed night the
    store's writing and commit had taken 3 s after everything else, one core idle. (The
    store may commit before the copy: until the copy commits, its token is not the store's
    new one, and a refresh that died in between leaves the next one to rebuild the copy.)
    Returns how many rows were written per table."""
    con = columnar.con
    if not has_events(con):
        no_rows(con)
        changes(con, whole)
        return write(con, conn, whole, base, alongside, then=recorded)
    keys = maker_keys(columnar)
    info, names = beside(con, lambda: milestone_rows(columnar, moment),
                         lambda: maker_info(keys))
    first = "traj_milestones"
    rest = tuple(table for table in NAMES if table != first)
    changes(con, whole, (first,))

    def others() -> None:
        stage_rows(columnar, moment)
        maker_rows(columnar, moment, info, names, count_kinds)
        changes(con, whole, rest)

    if alongside is None or change_count(con, first) > READ_AT_ONCE:
        counts = write(con, conn, whole, base, tables=(first,))
        others()
        return counts | write(con, conn, whole, base, alongside, rest, then=recorded)
    milestones = fetched(con, (first,), base)
    later: Future[Fetched] = Future()

    def computed() -> None:
        try:
            others()
            later.set_result(fetched(con, rest, base))
        except BaseException as failure:
            later.set_exception(failure)
            raise
        alongside()

    def stores() -> None:
        stored(conn, whole, milestones)
        stored(conn, whole, later.result())
        recorded()
        conn.commit()

    beside(con, computed, stores)
    return {table: change_count(con, table) for table in NAMES}


def has_events(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the copy has events (else no rows, and no stages' marks to keep)."""
    return con.execute("SELECT count(*) FROM events").fetchall()[0][0] > 0


def change_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """How many rows ``up_<table>`` and ``del_<table>`` hold (rows to write)."""
    return con.execute(f"SELECT (SELECT count(*) FROM up_{table}) + "
                       f"(SELECT count(*) FROM del_{table})").fetchall()[0][0]


def written_statements(table: str, moves: list[int], base: str) -> list[tuple[str, str]]:
    """``write``'s reading and store statement for the rows of ``up_<table>``: those whose
    key the store holds updated in place, in the columns that changed (one statement per
    ``moves``, their ``moved`` bits, ``set_columns``), the others inserted; the values as
    the store holds them (``stored_select``). (An INSERT OR
    REPLACE of a row the store holds deletes it and appends it again under a new rowid,
    moving its key's index entry too: on a night that changed 455,000 of the bench world's
    1.1M milestones, 3.7 s against 2.7 s for UPDATE, its commit included; the changed
    columns alone are half the values to read from the copy and hand to SQLite.)

    >>> [statement for _, statement in written_statements("traj_stages", [0b1001], "")][0]
    'UPDATE traj_stages SET stage = ?, state = ? WHERE maker_key = ? AND quarter = ?'
    """
    columns, key = SHAPES[table]
    statements = []
    for moved in moves:
        rest = set_columns(table, moved)
        statements.append((
            stored_select(table, f"up_{table}", rest + key, base, f"WHERE u.moved = {int(moved)}"),
            f"UPDATE {table} SET {', '.join(f'{column} = ?' for column in rest)} WHERE "
            + " AND ".join(f"{column} = ?" for column in key)))
    statements.append((
        stored_select(table, f"up_{table}", columns, base, "WHERE u.moved IS NULL"),
        f"INSERT OR REPLACE INTO {table}({', '.join(columns)}) VALUES "
        f"({', '.join('?' for _ in columns)})"))
    return statements


def batched(result: duckdb.DuckDBPyConnection, conn: sqlite3.Connection, statement: str,
            size: int = 100_000) -> int:
    """Run ``statement`` on ``conn`` for each row of a DuckDB ``result``, fetched ``size``
    rows at a time; returns how many rows."""
    count = 0
    while rows := result.fetchmany(size):
        conn.executemany(statement, rows)
        count += len(rows)
    return count


def keep_written(con: duckdb.DuckDBPyConnection, complete: bool, marks: bool) -> None:
    """Remember what was just written (the copy's ``written_traj_*``: the new tables when
    ``complete``, every maker's rows computed, which the store's tables now equal; else the
    last ones with ``up_*`` and ``del_*`` applied) and, when they were computed from the
    events, the stages' marks (``kept_stage_*``: a quiet night starts from them). Written
    again whole, not updated row by row: after a night that changed most makers' rows,
    deleting and inserting those rows cost more than writing the table."""
    for table, _, key in TABLES:
        columns = quoted(kept_columns(table))
        if complete:
            # (in no order: sorted by milestone, the quiet night's reading of a few
            # milestones, AS_OF_MILESTONES, skipped row groups, 13 against 25 ms of the bench
            # world's 1.1M, but the sort was a third of keeping them: 0.65 against 0.42 s)
            con.execute(f"CREATE OR REPLACE TABLE written_{table} AS SELECT {columns} FROM new_{table}")
            continue
        on = " AND ".join(f'written_{table}."{column}" = k."{column}"' for column in key)
        con.execute(f"""DELETE FROM written_{table} USING (
            SELECT {quoted(key)} FROM up_{table} UNION SELECT {quoted(key)} FROM del_{table}) k
            WHERE {on}""")
        con.execute(f"INSERT INTO written_{table} SELECT {columns} FROM up_{table}")
    if marks:
        con.execute("CREATE OR REPLACE TABLE kept_stage_marks AS SELECT * FROM stage_marks")
        con.execute("CREATE OR REPLACE TABLE kept_stage_reached AS SELECT * FROM stage_reached")


def has_kept_marks(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the copy kept the stages' marks of its last whole computation."""
    names = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    return {"kept_stage_marks", "kept_stage_reached"} <= names


def night_makers(columnar: Columnar, moment: int, before: int, repos: list[int]) -> None:
    """The temporary tables ``night_makers`` (``code``, ``key``: the makers whose rows a night
    that changed the events of ``repos`` may change, besides what as_of moves) and
    ``night_read`` (``code``: the makers whose events the rules read to compute those rows).

    A maker's milestones and stages read their own events (and the columns derived from
    them), the other makers' events in the repositories they act in (the rules that look
    across makers: core, creator, maintainer's releases and approvals, organiser's closes,
    follow-ups and first responses all stay within a repository), and of the authors of
    items there, their first contact in the network (a first response answers an author's
    first contact). So the makers that may change are those whose events changed (taken
    away with ``repos``' old events, ``replaced_makers``, or in ``repos`` now, or newly
    reached by as_of) and, where such a maker's first contact in the network moved, every
    maker of a repository in which they opened an issue or a pull request. Their rows are
    right when the rules read every event of every maker of every repository they act in
    (``night_read``; a bot's events are no rule's: the rules leave them out, and a bot's
    row reads its own events' counts alone)."""
    con = columnar.con
    con.register("_night_repos", pd.DataFrame({"repo_id": pd.Series(repos, dtype="int64")}))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE night_repos AS
        SELECT repo_id FROM _night_repos
        UNION SELECT DISTINCT repo_id FROM events WHERE t > {int(before)} AND t <= {int(moment)}""")
    con.unregister("_night_repos")
    con.execute("""CREATE OR REPLACE TEMP TABLE night_changed AS
        SELECT maker FROM replaced_makers
        UNION SELECT DISTINCT maker FROM events WHERE repo_id IN (SELECT repo_id FROM night_repos)""")
    # their first contact in the network, now and as last written
    con.execute(f"""CREATE OR REPLACE TEMP TABLE night_first AS
        SELECT c.maker FROM night_changed c
        LEFT JOIN (SELECT maker, min(t) AS fc FROM events
                   WHERE action AND NOT is_bot AND t <= {int(moment)}
                     AND maker IN (SELECT maker FROM night_changed) GROUP BY maker) n
          ON n.maker = c.maker
        LEFT JOIN (SELECT maker_key, "at" FROM written_traj_milestones
                   WHERE scope = 'network' AND milestone = 'first_contact') w ON w.maker_key = c.maker
        WHERE (n.fc IS NULL) <> (w."at" IS NULL) OR n.fc <> w."at"
        """)
    con.execute("""CREATE OR REPLACE TEMP TABLE night_makers AS
        SELECT code, key FROM makers WHERE code IN (
            SELECT maker FROM night_changed
            UNION
            SELECT DISTINCT maker FROM events WHERE repo_id IN (
                SELECT DISTINCT repo_id FROM events
                WHERE maker IN (SELECT maker FROM night_first)
                  AND kind IN ('issue_opened', 'pr_opened')))""")
    con.execute("""CREATE OR REPLACE TEMP TABLE night_read AS
        SELECT DISTINCT maker AS code FROM events WHERE NOT is_bot AND repo_id IN (
            SELECT DISTINCT repo_id FROM events
            WHERE maker IN (SELECT code FROM night_makers) AND NOT is_bot)""")


def night_changes(columnar: Columnar, moment: int, before: int, repos: list[int],
                  maker_info: Callable[[list[str], list[str]],
                                       tuple[dict[str, dict[str, Any]], list[tuple[str, str, str]]]],
                  count_kinds: dict[str, tuple[str, ...]]) -> int | None:
    """``up_*`` and ``del_*`` after a night that changed the events of ``repos`` alone (the
    same identities, bots, follows and settings as the last refresh, whose stages' marks
    are kept): every row of the makers ``night_makers`` gives, computed from the events of
    ``night_read`` alone; for the others, what as_of moves (as on a quiet night: the
    milestones of ``AS_OF_MILESTONES`` of the makers ``quiet_makers`` gives, and the
    stages, from their kept marks: their events did not change). ``maker_info`` gives the
    login, name, bot flag and lookup names of the keys it is given (the night's makers that
    have events, and of the keys without events it is also given, those identity
    resolution knows). Returns how many makers were computed again; None (nothing done)
    when the night reaches more than ``NIGHT_SHARE`` of the makers: computing every maker
    (``rows``) is then cheaper."""
    engine, con, limits = columnar.engine, columnar.con, columnar.limits
    night_makers(columnar, moment, before, repos)
    reached, every = con.execute("SELECT (SELECT count(*) FROM night_makers), "
                                 "(SELECT count(*) FROM makers)").fetchall()[0]
    if reached > NIGHT_SHARE * every:
        return None
    engine.only = "night_read"
    try:
        milestone_rows(columnar, moment)
        engine.stage_marks(moment, limits, columnar.outside)
    finally:
        engine.only = None
    night = "(SELECT key FROM night_makers)"
    codes = "(SELECT code FROM night_makers)"  # the milestones' makers (``CODED``)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE night_milestones AS
        SELECT * FROM new_traj_milestones WHERE maker_key IN {codes}""")
    # the marks: the night's makers' new ones, the others' kept ones
    for table, kept in (("stage_marks", "kept_stage_marks"), ("stage_reached", "kept_stage_reached")):
        con.execute(f"""CREATE OR REPLACE TEMP TABLE night_{table} AS
            SELECT * FROM {table} WHERE maker IN (SELECT code FROM night_makers)
            UNION ALL SELECT * FROM {kept} WHERE maker NOT IN (SELECT code FROM night_makers)""")
    # the others: what as_of moves
    quiet_makers(columnar, moment, before)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE night_quiet AS
        SELECT code, key FROM quiet_makers WHERE key NOT IN {night}""")
    con.execute("INSERT INTO night_milestones " + as_of_milestones(columnar, moment, "night_quiet"))
    diff(con, "traj_milestones", "SELECT * FROM night_milestones",
         f"""SELECT * FROM written_traj_milestones WHERE maker_key IN {codes}
             OR (milestone IN ({AS_OF_LISTED}) AND maker_key IN (SELECT code FROM night_quiet))""")
    # the stages from the marks: every quarter of the night's makers; of the others, the
    # quarters from the last refresh's on (theirs move with as_of alone)
    marks = ("night_stage_marks", "night_stage_reached")
    stage_rows(columnar, moment, marks=marks, only="night_makers")
    con.execute("CREATE OR REPLACE TEMP TABLE night_stages AS SELECT * FROM new_traj_stages")
    con.execute("""CREATE OR REPLACE TEMP TABLE night_others AS
        SELECT code FROM makers WHERE code NOT IN (SELECT code FROM night_makers)""")
    since = engine.quarter_number(before)
    stage_rows(columnar, moment, marks=marks, since=since, only="night_others")
    con.execute("INSERT INTO new_traj_stages SELECT * FROM night_stages")
    first_day = con.execute(f"SELECT {quarter_day(since)}").fetchall()[0][0]
    diff(con, "traj_stages", "SELECT * FROM new_traj_stages",
         f"SELECT * FROM written_traj_stages WHERE maker_key IN {night} OR quarter >= '{first_day}'")
    # the night's makers' rows and names afresh; the others' with their current stage
    found = con.execute("""SELECT key, code IN (SELECT DISTINCT maker FROM events) FROM night_makers
                           ORDER BY key""").fetchall()
    info, names = maker_info([key for key, acted in found if acted],
                             [key for key, acted in found if not acted])
    maker_rows(columnar, moment, info, names, count_kinds)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE night_maker_rows AS
        SELECT * FROM new_traj_makers
        UNION ALL
        (WITH {LAST_STAGES}
         SELECT w.key, w.login, w.name, w.is_bot, coalesce(l.stage, w.stage) AS stage,
                coalesce(l.state, w.state) AS state, coalesce(l.organiser, w.organiser) AS organiser,
                coalesce(l.bridge, w.bridge) AS bridge, w.counts, w.role_account
         FROM written_traj_makers w LEFT JOIN last l ON l.maker_key = w.key
         WHERE w.key NOT IN {night})""")
    con.execute("CREATE OR REPLACE TEMP TABLE new_traj_makers AS SELECT * FROM night_maker_rows")
    diff(con, "traj_makers", "SELECT * FROM new_traj_makers", "SELECT * FROM written_traj_makers")
    diff(con, "traj_maker_names", "SELECT * FROM new_traj_maker_names",
         f"SELECT * FROM written_traj_maker_names WHERE maker_key IN {night}")
    # kept for the next nights: the marks every maker's stages were computed from
    con.execute("CREATE OR REPLACE TEMP TABLE stage_marks AS SELECT * FROM night_stage_marks")
    con.execute("CREATE OR REPLACE TEMP TABLE stage_reached AS SELECT * FROM night_stage_reached")
    return len(found)
