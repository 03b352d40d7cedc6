"""The store's rows handed to DuckDB: as typed NumPy columns (``rows_table``), here or in
a child process that reads some of the store beside this one (``Apart``), so that staging
the store (``graphminer.columnar.build.stage``) uses a second core.

Why a process, not a thread: reading rows through sqlite3 is nearly all Python's work
(each row's tuple and values are made holding the GIL; ``sqlite3_step``, which lets it
go, is a few percent of it: the bench world's 306,444 commits are 0.03 s of SQLite in
0.78 s of ``fetchall``), so a second thread reading ran beside the first one, not with
it (the bench world's staging: 2.38 s against 2.45 s). A child has its own GIL. It reads
with the standard library's sqlite3, on a connection of its own opened read only (never
another SQLite library, which in graphminer's process breaks SQLite's locks:
``graphminer.columnar.build``'s docstring), casts the rows to the staged types in a DuckDB
of its own and writes them as Parquet files into a temporary folder; the caller's DuckDB
reads them into its temporary table (a temporary table is one connection's own, so only
the caller's connection can make it). The child is started by ``subprocess`` (exec'd at
once: no copy of this process and its DuckDB threads runs on) and runs this file as a
script (``python -P``: it imports no graphminer, whose imports, pandas and all, take
longer than its reading), so this module imports nothing heavy at its top.

A second connection sees what the caller's sees only when the caller's has nothing
uncommitted (its writes are its transaction's alone until it commits): ``Apart`` is for a
store in a file read by a connection outside a transaction (``graphminer.columnar.build``
checks both, and reads everything itself otherwise). The refresh holds the harvest's lock,
so no one writes the store while both read it.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import duckdb

# (table, SQL over the store, DuckDB column types), as ``graphminer.columnar.build.STAGED``
Query = tuple[str, str, dict[str, str]]
# Rows a child reads and writes at a time (its memory, not its speed: a million commits'
# rows held whole as Python objects would be a gigabyte beside this process's own)
CHUNK = 100_000


def columns(rows: list[tuple], types: dict[str, str]) -> dict[str, np.ndarray]:
    """``rows`` as one NumPy array of the Python values per column (named as ``types``):
    DuckDB reads the values themselves, not a type pandas guessed. A pandas frame of the
    same rows took four times as long (the bench world's 306,444 commits: 1.0 s against
    0.25 s), nearly all of it in pandas."""
    matrix = np.array(rows, dtype=object) if rows else np.empty((0, len(types)), dtype=object)
    return {column: np.ascontiguousarray(matrix[:, index]) for index, column in enumerate(types)}


def casts(types: dict[str, str]) -> str:
    """The select list casting each column to its staged type."""
    return ", ".join(f"CAST({column} AS {kind}) AS {column}" for column, kind in types.items())


def rows_table(con: duckdb.DuckDBPyConnection, name: str, rows: list[tuple],
               types: dict[str, str]) -> None:
    """A temporary DuckDB table ``name`` holding ``rows`` with the columns and types given.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> rows_table(con, "t", [(1, "a"), (None, None)], {"n": "BIGINT", "s": "VARCHAR"})
    >>> con.execute("SELECT * FROM t ORDER BY n").fetchall()
    [(1, 'a'), (None, None)]
    """
    con.register("_staged", columns(rows, types))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {casts(types)} FROM _staged")
    finally:
        con.unregister("_staged")


def quoted(path: Path) -> str:
    """``path`` as a DuckDB string literal."""
    return "'" + str(path).replace("'", "''") + "'"


class Apart:
    """``queries`` run over the store at ``path`` by a child process, started at once (which
    reads and writes ``chunk`` rows at a time; through ADBC's SQLite driver when ``arrow``,
    ``arrow_parts``);
    ``into(con)`` waits for it and makes their temporary tables on ``con``; ``close`` (the
    ``with`` block's end) stops the child if it still runs and removes its files.

    >>> import duckdb, sqlite3, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> store = sqlite3.connect(f"{folder}/s.sqlite")
    >>> with store:
    ...     _ = store.execute("CREATE TABLE t AS SELECT 7 AS n, 'seven' AS s")
    >>> con = duckdb.connect()
    >>> with Apart(Path(f"{folder}/s.sqlite"),
    ...            [("t", "SELECT n, s FROM t", {"n": "BIGINT", "s": "VARCHAR"})]) as child:
    ...     child.into(con)
    True
    >>> con.execute("SELECT * FROM t").fetchall()
    [(7, 'seven')]
    """

    def __init__(self, path: Path, queries: list[Query], chunk: int = CHUNK,
                 arrow: bool = False) -> None:
        self.queries = queries
        self.folder = Path(tempfile.mkdtemp(prefix="graphminer-staged-"))
        spec = self.folder / "spec.json"
        spec.write_text(json.dumps({"uri": f"{path.absolute().as_uri()}?mode=ro",
                                    "folder": str(self.folder), "queries": queries,
                                    "chunk": chunk, "arrow": arrow}))
        try:  # (its errors are not the user's: a child that fails leaves its tables to be
            # read here, and a traceback on the terminal would say nothing more)
            self.child = subprocess.Popen([sys.executable, "-P", __file__, str(spec)],
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def into(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Wait for the child, then make each query's temporary table on ``con`` from the
        child's files; False (no table made) when the child failed."""
        if self.child.wait() != 0:
            return False
        for name, _, types in self.queries:
            files = quoted(self.folder / f"{name}-*.parquet")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS "
                        f"SELECT {casts(types)} FROM read_parquet({files})")
        return True

    def close(self) -> None:
        """Stop the child if it still runs, and remove its files."""
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Apart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_parts(cursor: sqlite3.Cursor, con: duckdb.DuckDBPyConnection, name: str,
                types: dict[str, str], folder: Path, chunk: int) -> None:
    """The child's work for one query (run on ``cursor``): its rows, ``chunk`` at a time,
    cast and written to ``folder`` as Parquet files ``name-N.parquet`` (at least one, so
    that no rows still give a table with its columns)."""
    part = 0
    while True:
        rows = cursor.fetchmany(chunk)
        con.register("_staged", columns(rows, types))
        target = quoted(folder / f"{name}-{part}.parquet")
        # uncompressed: the files live a second, on this machine (half the time to write)
        con.execute(f"COPY (SELECT {casts(types)} FROM _staged) TO {target} "
                    "(FORMAT parquet, COMPRESSION uncompressed)")
        con.unregister("_staged")
        part += 1
        if len(rows) < chunk:
            return


# A value of each staged type (``arrow_parts``' first row)
KIND_VALUES = {"BIGINT": "0", "BOOLEAN": "0", "VARCHAR": "''"}


def has_arrow_reader() -> bool:
    """Whether a child can read the store through ADBC's SQLite driver (``arrow_parts``)."""
    return all(importlib.util.find_spec(name) is not None
               for name in ("adbc_driver_sqlite", "adbc_driver_manager"))


def arrow_parts(uri: str, con: duckdb.DuckDBPyConnection, queries: list[Query],
                folder: Path) -> None:
    """The child's work through ADBC's SQLite driver, where it is installed: each query's
    rows as Arrow batches (no Python object per value: the bench world's staged tables in
    1.6 s against 3.7 s through sqlite3), cast and written to ``folder`` as
    ``name-0.parquet``. Never beside sqlite3 in one process (two copies of SQLite in one
    process break each other's locks: ``graphminer.columnar.build``); in this child it is
    the only one. Its driver gives a column the kind of the values of its first batch and
    refuses a later value of another kind, so each query's first row holds a value of each
    column's type (``KIND_VALUES``), marked and left out; any refusal ends the child with
    an error, and the caller reads the tables itself. (The driver's modules are imported by
    the child's entry point, below: never in graphminer's own process.)"""
    database = adbc_driver_sqlite.connect(uri)
    source = adbc_driver_manager.AdbcConnection(database)
    try:
        for name, sql, types in queries:
            first = ", ".join(f"{KIND_VALUES[kind]} AS c{index}"
                              for index, kind in enumerate(types.values()))
            cast = ", ".join(f"CAST(c{index} AS {kind}) AS {column}"
                             for index, (column, kind) in enumerate(types.items()))
            statement = adbc_driver_manager.AdbcStatement(source)
            try:
                statement.set_sql_query(f"SELECT 1 AS _kinds, {first} UNION ALL SELECT 0, * FROM ({sql})")
                stream, _ = statement.execute_query()
                con.register("_staged", stream)
                con.execute(f"COPY (SELECT {cast} FROM _staged WHERE _kinds = 0) TO "
                            f"{quoted(folder / f'{name}-0.parquet')} "
                            "(FORMAT parquet, COMPRESSION uncompressed)")
                con.unregister("_staged")
            finally:
                statement.close()
    finally:
        source.close()
        database.close()


def main(spec: dict[str, Any], con: duckdb.DuckDBPyConnection) -> None:
    """The child: every query of the spec ``Apart`` wrote, read and written out, cast on
    ``con`` (through ADBC when the spec asks, else sqlite3)."""
    con.execute("SET threads = 1")  # one core: the caller, or the other child, has the other
    try:
        if spec.get("arrow"):
            arrow_parts(spec["uri"], con, spec["queries"], Path(spec["folder"]))
            return
        conn = sqlite3.connect(spec["uri"], uri=True, timeout=30)
        try:
            cursor = conn.cursor()
            for name, sql, types in spec["queries"]:
                write_parts(cursor.execute(sql), con, name, types, Path(spec["folder"]), spec["chunk"])
        finally:
            conn.close()
    finally:
        con.close()


if __name__ == "__main__":
    # the child alone: its importers may never stage anything, and ADBC's SQLite (a second
    # SQLite library) must never load in graphminer's own process, nor beside sqlite3 here
    import duckdb

    child_spec: dict[str, Any] = json.loads(Path(sys.argv[1]).read_text())
    if child_spec.get("arrow"):  # (``arrow_parts`` reads these names)
        import adbc_driver_manager
        import adbc_driver_sqlite
    main(child_spec, duckdb.connect())
