"""DuckDB's memory cap (``graphminer.columnar.build.connect``): without one DuckDB keeps up
to 80% of the machine's memory (the 10M-event bench world's first refresh passed 14 GB);
with it, it spills to disk past ``MEMORY``, or ``GRAPHMINER_DUCKDB_MEMORY`` when set."""

from __future__ import annotations

import duckdb
import pytest

from graphminer.columnar import build


def limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


def limit_of(size: str) -> str:
    """The limit DuckDB itself reports for ``size`` (a plain connection, none of ours)."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{size}'")
    return limit(con)


@pytest.mark.parametrize("given", [None, "1GB", "512MB"])
def test_duckdb_memory_is_capped(monkeypatch: pytest.MonkeyPatch, given: str | None) -> None:
    if given is None:
        monkeypatch.delenv("GRAPHMINER_DUCKDB_MEMORY", raising=False)
    else:
        monkeypatch.setenv("GRAPHMINER_DUCKDB_MEMORY", given)
    expected = limit_of(given or "3GB")
    assert build.MEMORY == "3GB"
    assert limit(build.connect()) == expected
    assert limit(build.connect()) != limit(duckdb.connect()) or given is not None
