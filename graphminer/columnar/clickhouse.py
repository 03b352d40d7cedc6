"""The rule queries compiled for ClickHouse: the path to trajectories where GH Archive's
events live (ClickHouse's ``github_events``; in-process, chDB).

``compile_rules(moment, limits, keys)`` gives, for each milestone of the catalogue, the
ClickHouse SQL of its earliest candidate per scope key: ``graphminer.columnar.rules``'
query, written in DuckDB's dialect, transpiled by sqlglot (``transpile``), which fails
loudly on anything it cannot carry over. They read the tables ``events``, ``makers`` and
``repos`` laid out as the columnar copy lays them (``graphminer.columnar.tables``) through
a view ``ev`` (``prepare_sql``). ``chdb_milestones(con, moment, limits)`` runs them on
chDB over the columnar tables of a DuckDB connection, exported as Parquet: the test holds
the answer to DuckDB's, row for row. sqlglot and chDB are test dependencies, imported at the top
of this module, which only tests and benches import (never graphminer at start-up).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlglot
from chdb import session

from graphminer import milestones as catalogue
from graphminer.columnar import rules

if TYPE_CHECKING:
    import duckdb
# Standard SQL where ClickHouse's defaults differ: NULLs for the columns an outer join
# leaves without a match (not the type's zero), and a name in an expression means the
# source's column even where the SELECT list gives another expression that alias.
SETTINGS = "SETTINGS join_use_nulls = 1, prefer_column_name_to_alias = 1"
ROW_COLUMNS = ("milestone", "maker", "dated", "kind", "target_type", "target_num", "sha", "t",
               "by_maker", "repo_id")


def transpile(sql: str) -> str:
    """DuckDB SQL as ClickHouse SQL (sqlglot; an error on anything it cannot read).

    One difference sqlglot leaves: ClickHouse names a selected ``t.column`` after the whole
    expression, standard SQL (and DuckDB) after the column; so every qualified column
    selected without an alias is given its own name as alias.
    """
    expressions = sqlglot.expressions
    tree = sqlglot.parse_one(sql, read="duckdb")
    for select in tree.find_all(expressions.Select):
        select.set("expressions", [
            projection.as_(projection.name)
            if isinstance(projection, expressions.Column) and projection.table
            and not isinstance(projection.this, expressions.Star) else projection
            for projection in select.expressions])
    return tree.sql(dialect="clickhouse", unsupported_level=sqlglot.ErrorLevel.RAISE)


def prepare_sql(moment: int) -> str:
    """ClickHouse SQL of the view ``ev``: the events as the rules see them."""
    return "CREATE VIEW ev AS " + transpile(rules.PREPARE.format(moment=moment))


def compile_rules(moment: int, limits: dict[str, Any],
                  keys: tuple[str, ...] = ("maker",)) -> dict[str, str]:
    """Each milestone's query (its earliest candidate per scope key up to as_of), in
    ClickHouse's dialect."""
    query = rules.Query(moment, limits, keys)
    return {name: transpile(rules.milestone_sql(name, query)) for name in catalogue.KEYS}


def chdb_milestones(con: duckdb.DuckDBPyConnection, moment: int,
                    limits: dict[str, Any]) -> pd.DataFrame:
    """The network-scope milestone acts computed by chDB (ClickHouse in-process) from the
    columnar tables of ``con``, coded as DuckDB's (``ROW_COLUMNS``), one row per (milestone,
    maker), sorted."""
    compiled = compile_rules(moment, limits)
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for table in ("events", "makers", "repos"):
            path = Path(folder) / f"{table}.parquet"
            con.execute(f"COPY (SELECT * FROM {table}) TO '{path}' (FORMAT parquet)")
            files[table] = path
        chdb = session.Session(str(Path(folder) / "chdb"))
        try:
            chdb.query("CREATE DATABASE IF NOT EXISTS traj")
            chdb.query("USE traj")
            for table, path in files.items():
                chdb.query(f"CREATE TABLE {table} ENGINE = Memory AS "
                           f"SELECT * FROM file('{path}', Parquet)")
            chdb.query(prepare_sql(moment))
            frames = []
            for sql in compiled.values():
                listed = ", ".join(ROW_COLUMNS)
                result = chdb.query(f"SELECT {listed} FROM ({sql}) {SETTINGS}", "DataFrame")
                frames.append(result)
        finally:
            chdb.close()
    found = pd.concat(frames, ignore_index=True)
    return normalised(found)


def duckdb_milestones(con: duckdb.DuckDBPyConnection, moment: int,
                      limits: dict[str, Any]) -> pd.DataFrame:
    """The same rows computed by DuckDB from the same queries (before transpiling)."""
    query = rules.Query(moment, limits, ("maker",))
    con.execute(f"CREATE OR REPLACE TEMP VIEW ev AS {rules.PREPARE.format(moment=moment)}")
    frames = [con.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM ({rules.milestone_sql(name, query)})")
              .df() for name in catalogue.KEYS]
    return normalised(pd.concat(frames, ignore_index=True))


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by (milestone, maker), numbers as integers, text and missing as Python
    values, so two engines' answers compare value for value."""
    frame = frame.astype(object).where(frame.notna(), None)
    for column in ("maker", "dated", "target_num", "t", "by_maker", "repo_id"):
        frame[column] = [None if value is None else int(value) for value in frame[column]]
    for column in ("milestone", "kind", "target_type", "sha"):
        frame[column] = [None if value is None else str(value) for value in frame[column]]
    return frame.sort_values(["milestone", "maker"]).reset_index(drop=True)
