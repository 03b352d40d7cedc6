"""The Python API for notebooks: one object over a store that hands out the flow's stages.

Owns no rule of its own: ``open_store(path)`` gives a ``Store`` whose ``events`` is
``graphminer.events.load_events``, ``milestones``/``stages`` are
``graphminer.trajectory``'s, ``graph`` is ``graphminer.graph``'s and ``stats`` is
``graphminer.stats.summarise``, all at one ``as_of`` (by default the end of the last
harvest), computed once and kept.

    >>> from graphminer.api import open_store                      # doctest: +SKIP
    >>> store = open_store("cache/graphminer.sqlite")              # doctest: +SKIP
    >>> store.milestones(scope="org").xs("mysociety", level="org")  # doctest: +SKIP
    >>> store.graph(projection="makers").number_of_edges()          # doctest: +SKIP
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import Any

import networkx as nx
import pandas as pd

from graphminer import graph as graphs
from graphminer import stats as figures
from graphminer import store as stores
from graphminer.config import Config, load_config
from graphminer.errors import BadInput
from graphminer.events import deleted_account_records

PROJECTIONS = ("bipartite", "makers", "projects")
SCOPES = ("network", "org", "repo")


def utc_timestamp(moment: datetime | pd.Timestamp | str) -> pd.Timestamp:
    """Any time (a string is ISO 8601, read as UTC) as a UTC Timestamp."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def last_harvest_end(conn: sqlite3.Connection) -> pd.Timestamp | None:
    """When the last finished harvest ended (the default as_of), None before any."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='_runs'").fetchone()
    if not exists:
        return None
    row = conn.execute("SELECT MAX(ended_at) FROM _runs WHERE ended_at IS NOT NULL").fetchone()
    return utc_timestamp(row[0]) if row and row[0] else None


def maker_labels(conn: sqlite3.Connection) -> dict[str, str]:
    """Maker key -> login, else name (identity's ``makers`` table; empty before it exists)."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='makers'").fetchone()
    if not exists:
        return {}
    rows = conn.execute("SELECT key, COALESCE(NULLIF(login, ''), name) FROM makers").fetchall()
    return {str(key): str(label) for key, label in rows if label}


class Store:
    """A store opened for analysis (read only: a harvest may write it meanwhile)."""

    def __init__(self, conn: sqlite3.Connection, config: Config, path: str | os.PathLike) -> None:
        self.conn = conn
        self.config = config
        self.path = path
        self._milestones: dict[tuple[str, pd.Timestamp], pd.DataFrame] = {}
        self._stages: dict[pd.Timestamp, pd.DataFrame] = {}

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @cached_property
    def events(self) -> pd.DataFrame:
        """The events table (docs/events.md), bots flagged, all times."""
        from graphminer.events import load_events

        return load_events(self.conn, self.config)

    @cached_property
    def as_of(self) -> pd.Timestamp:
        """The default as_of: the end of the last harvest, else the newest event, else now."""
        ended = last_harvest_end(self.conn)
        if ended is not None:
            return ended
        if len(self.events):
            return utc_timestamp(self.events["ts"].max()).floor("s")
        return pd.Timestamp.now(tz="UTC").floor("s")

    @cached_property
    def labels(self) -> dict[str, str]:
        """Maker key -> login (or name for makers without an account)."""
        return maker_labels(self.conn)

    def _when(self, as_of: datetime | pd.Timestamp | str | None) -> pd.Timestamp:
        return self.as_of if as_of is None else utc_timestamp(as_of)

    def events_until(self, as_of: datetime | pd.Timestamp | str | None = None) -> pd.DataFrame:
        """The events up to ``as_of`` (inclusive): later ones are ignored everywhere."""
        moment = self._when(as_of)
        return self.events[self.events["ts"] <= moment]

    @property
    def orgs(self) -> list[str]:
        """The orgs with events, lower-cased as the events table writes them."""
        return sorted(self.events["org"].dropna().unique().tolist())

    def milestones(self, scope: str = "network", as_of: datetime | pd.Timestamp | str | None = None) -> pd.DataFrame:
        """``graphminer.trajectory.milestones`` at ``scope`` (network, org or repo)."""
        from graphminer import trajectory

        if scope not in SCOPES:
            raise BadInput(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")
        moment = self._when(as_of)
        if (scope, moment) not in self._milestones:
            self._milestones[(scope, moment)] = trajectory.milestones(
                self.events_until(moment), moment, self.config, scope=scope
            )
        return self._milestones[(scope, moment)]

    def stages(self, as_of: datetime | pd.Timestamp | str | None = None) -> pd.DataFrame:
        """``graphminer.trajectory.stages``: one stage per maker per quarter."""
        from graphminer import trajectory

        moment = self._when(as_of)
        if moment not in self._stages:
            self._stages[moment] = trajectory.stages(self.events_until(moment), moment, self.config)
        return self._stages[moment]

    def graph(self, projection: str = "bipartite", as_of: datetime | pd.Timestamp | str | None = None,
              include_bots: bool = False) -> nx.Graph:
        """The maker-project graph (``bipartite``) or its ``makers`` / ``projects`` projection."""
        if projection not in PROJECTIONS:
            raise BadInput(f"unknown projection {projection!r}: use one of {', '.join(PROJECTIONS)}")
        events = self.events_until(as_of)
        stages = self.stages(as_of) if len(events) else None
        bipartite = graphs.maker_project_graph(events, stages, labels=self.labels, include_bots=include_bots)
        if projection == "makers":
            return graphs.maker_projection(bipartite, self.config["trajectories"]["projection_days"])
        if projection == "projects":
            return graphs.project_projection(bipartite)
        return bipartite

    def stats(self, org: str | None = None, as_of: datetime | pd.Timestamp | str | None = None) -> dict[str, Any]:
        """Every stats figure for the network, or for ``org``, as a JSON-ready dict."""
        from graphminer import trajectory

        moment = self._when(as_of)
        keys = list(trajectory.MILESTONES)
        if org is None:
            milestones = self.milestones("network", moment)[keys]
        else:
            org = org.strip().lower()
            if org not in self.orgs:
                known = ", ".join(self.orgs) or "none yet (harvest first)"
                raise BadInput(f"no events for org {org!r} in {self.path}: known orgs are {known}")
            by_org = self.milestones("org", moment)
            in_org = by_org.index.get_level_values("org") == org
            milestones = by_org[in_org].droplevel("org")[keys]
        ghosts = deleted_account_records(self.conn) if org is None else None
        return figures.summarise(self.events, milestones, moment, self.config, org,
                                 trajectory.RULES_VERSION, deleted_accounts=ghosts)


def open_store(path: str | os.PathLike, config: Config | None = None) -> Store:
    """Open the store at ``path`` for analysis (read only); ``config`` defaults to the one
    graphminer finds (``$GRAPHMINER_CONFIG``, ``./config/graphminer.toml``, packaged)."""
    config = config if config is not None else load_config()
    return Store(stores.open_store(path, readonly=True), config, path)


def store_stats(path: str | os.PathLike, config: Config, org: str | None = None,
                as_of: datetime | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The stats of the store at ``path`` (what ``graphminer stats`` prints); ``progress``
    hears each step's name on the way."""
    say = progress or (lambda message: None)
    with open_store(path, config) as store:
        say(f"reading events from {path}")
        say(f"{len(store.events):,} events; computing milestones and figures")
        return store.stats(org, as_of)
