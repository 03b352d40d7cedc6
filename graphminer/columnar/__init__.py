"""The columnar engine: the events and the trajectory rules in DuckDB, set-based.

The events table (docs/events.md) is built by SQL over the store (``build``) into typed
columnar tables (``tables``: integer makers and repositories, epoch-second times, an ENUM
of kinds), kept in a copy beside the store and refreshed incrementally after each harvest
(``copy``); the milestones and stages are one SQL query per catalogue entry
(``rules``, registered like ``graphminer.trajectory.RULES``) run by ``engine``; pandas is
the exchange format at the edges (``frames``). The same rule queries compile for
ClickHouse (``clickhouse``). ``graphminer.trajectory`` stays the reference implementation
the tests hold this one to.

    >>> import sqlite3
    >>> from graphminer.store import open_store
    >>> conn = open_store(":memory:")
    >>> Columnar.in_memory(conn, None).events_frame().empty
    True
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Any

import networkx as nx
import pandas as pd

from graphminer import milestones as catalogue
from graphminer import timeutil
from graphminer.columnar import build, rules, tables
from graphminer.columnar.copy import open_copy
from graphminer.columnar.engine import Engine
from graphminer.columnar.frames import PORTED_COLUMNS, events_frame
from graphminer.columnar.graph import bipartite_graph
from graphminer.columnar.lanes import lane_count
from graphminer.events import COLUMNS
from graphminer.trajectory import thresholds

if TYPE_CHECKING:
    import duckdb

    from graphminer.config import Config

__all__ = ["Columnar", "seconds", "unsupported"]


def unsupported(keys: tuple[str, ...] | None = None, columns: tuple[str, ...] | None = None,
                version: str | None = None,
                read: dict[str, tuple[str, ...]] | None = None) -> str | None:
    """Why the columnar engine cannot give the pandas implementation's answers under the
    running rules (None when it can): a milestone without a query, an events column it does
    not build, another rules version or a milestone reading other thresholds than the ones
    its query was written for. Readers and ``graphminer.precompute.refresh`` then use the
    pandas implementation: the engine never serves an answer that differs from it. The
    arguments default to the running catalogue (``graphminer.milestones``) and events table.

    >>> unsupported() is None
    True
    >>> unsupported(keys=catalogue.KEYS + ("mentor",))
    'no columnar query for mentor'
    """
    keys = catalogue.KEYS if keys is None else keys
    columns = tuple(COLUMNS) if columns is None else columns
    version = catalogue.RULES_VERSION if version is None else version
    read = {entry.key: entry.thresholds for entry in catalogue.MILESTONES} if read is None else read
    missing = sorted(set(keys) - set(rules.RULES))
    if missing:
        return f"no columnar query for {', '.join(missing)}"
    unbuilt = [column for column in columns if column not in PORTED_COLUMNS]
    if unbuilt:
        return f"the columnar events have no {', '.join(unbuilt)}"
    if version != rules.PORTED_VERSION:
        return f"the columnar queries are rules version {rules.PORTED_VERSION}, not {version}"
    changed = sorted(key for key, names in read.items()
                     if tuple(names) != rules.PORTED_THRESHOLDS.get(key, ()))
    if changed:
        return f"the columnar queries read other thresholds for {', '.join(changed)}"
    return None


def seconds(moment: datetime | pd.Timestamp | str) -> int:
    """A moment as epoch seconds (UTC), to the second below."""
    stamp = moment if isinstance(moment, pd.Timestamp) else timeutil.as_of(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return int(stamp.value // 10**9) if stamp.value >= 0 else -int((-stamp.value + 10**9 - 1) // 10**9)


class Columnar:
    """The columnar tables of one store and the rules over them, answering in pandas."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config | None,
                 outside: pd.DataFrame | None = None, lanes: int | None = None) -> None:
        self.con = con
        self.config = config
        self.outside = outside
        # (its independent statements side by side: ``graphminer.columnar.lanes``; one lane
        # makes its tables the connection's own temporary ones, which a refresh reads)
        self.engine = Engine(con, lane_count() if lanes is None else lanes)

    @classmethod
    def in_memory(cls, conn: sqlite3.Connection, config: Config | None,
                  outside: pd.DataFrame | None = None, lanes: int | None = None) -> Columnar:
        """The tables built from the whole store in memory (nothing is written); ``outside``
        are the followed makers' acts (``graphminer.careers.outside_acts``)."""
        con = build.connect()
        tables.create(con)
        tables.load(con, conn, config, None)
        return cls(con, config, outside, lanes)

    @classmethod
    def for_store(cls, conn: sqlite3.Connection, config: Config | None,
                  outside: pd.DataFrame | None = None) -> Columnar:
        """The store's copy when it is fresh (read only), else the tables built in memory."""
        con = open_copy(conn, config)
        if con is None:
            return cls.in_memory(conn, config, outside)
        return cls(con, config, outside)

    @property
    def limits(self) -> dict[str, Any]:
        return thresholds(self.config)

    def events_frame(self, as_of: Any = None) -> pd.DataFrame:
        """The events table as ``graphminer.events.load_events`` gives it (up to ``as_of``)."""
        return events_frame(self.con, None if as_of is None else seconds(as_of))

    def acts(self, as_of: Any, scope: str = "network") -> pd.DataFrame:
        """``graphminer.trajectory.milestone_acts``: the long form with triggers."""
        return self.engine.acts(seconds(as_of), self.limits, scope, self.outside)

    def milestones(self, as_of: Any, scope: str = "network") -> pd.DataFrame:
        """``graphminer.trajectory.milestones``: one column per milestone."""
        return self.engine.milestones(seconds(as_of), self.limits, scope, self.outside)

    def stages(self, as_of: Any) -> pd.DataFrame:
        """``graphminer.trajectory.stages``: one stage per maker per quarter."""
        return self.engine.stages(seconds(as_of), self.limits, self.outside)

    def graph(self, as_of: Any, stages: pd.DataFrame | None = None,
              labels: dict[str, str] | None = None, include_bots: bool = False) -> nx.Graph:
        """``graphminer.graph.maker_project_graph`` of the events up to ``as_of``."""
        # (read on a lane of its own while the nodes are made, when the engine has lanes)
        return bipartite_graph(self.con, seconds(as_of), stages, labels, include_bots,
                               self.engine.lanes.count)
