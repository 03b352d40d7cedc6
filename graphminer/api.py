"""The Python API for notebooks: one object over a store that hands out the flow's stages.

Owns no rule of its own: ``open_store(path)`` gives a ``Store``, the store reader every
command uses (``graphminer.reader.StoreReader``: ``events``, ``as_of``, ``labels``,
``milestones``, ``stages``), plus ``graph`` (``graphminer.graph``'s) and ``stats``
(``graphminer.stats.summarise``), all at one ``as_of`` (by default the end of the last
harvest), computed once and kept. So a notebook and the commands give the same answers.

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
from typing import Any

import networkx as nx
import pandas as pd

from graphminer import graph as graphs
from graphminer import reader as reading
from graphminer import stats as figures
from graphminer import store as stores
from graphminer.config import Config, load_config
from graphminer.errors import BadInput
from graphminer.events import deleted_account_records
from graphminer.milestones import KEYS, RULES_VERSION
from graphminer.sources import approximate, in_scope, org_summaries

PROJECTIONS = ("bipartite", "makers", "projects")
SCOPES = reading.SCOPES


class Store(reading.StoreReader):
    """A store opened for analysis (read only: a harvest may write it meanwhile): the
    events, as_of, labels, milestones and stages of ``graphminer.reader.StoreReader``,
    plus the graph and the stats."""

    def __init__(self, conn: sqlite3.Connection, config: Config, path: str | os.PathLike) -> None:
        super().__init__(conn, config)
        self.path = path

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

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
        moment = self.moment(as_of)
        keys = list(KEYS)
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
        summary = figures.summarise(self.events, milestones, moment, self.config, org,
                                    RULES_VERSION, deleted_accounts=ghosts, hidden=self.hidden(org))
        # which sources each organisation has, and what that hides (rules version 4)
        summary["sources"] = org_summaries(in_scope(self.sources, org))
        summary["approximate"] = approximate(self.sources, org)
        if not self.outside.empty:  # where the followed makers went (rules version 3)
            from graphminer.careers import careers_summary

            summary["careers"] = careers_summary(self, org, moment)
        return summary


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
