"""The Python API for notebooks: one object over a store that hands out the flow's stages.

Owns no rule of its own: ``open_store(path)`` gives a ``Store`` over the store reader every
command uses (``graphminer.reader.StoreReader``: ``events``, ``as_of``, ``labels``,
``milestones``, ``stages``), plus ``graph`` (``graphminer.graph``'s) and ``stats``
(``graphminer.stats.summarise``), all at one ``as_of`` (by default the end of the last
harvest), computed once and kept. So a notebook and the commands give the same answers.
A notebook may give as_of as ISO 8601 text, a datetime or a pandas Timestamp: this is where
it enters, and where it becomes its one type inside graphminer (``graphminer.timeutil.as_of``).

    >>> from graphminer.api import open_store                      # doctest: +SKIP
    >>> store = open_store("cache/graphminer.sqlite")              # doctest: +SKIP
    >>> store.milestones(scope="org", as_of="2024-06-30").xs("mysociety", level="org")  # doctest: +SKIP
    >>> store.graph(projection="makers").number_of_edges()          # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

import networkx as nx
import pandas as pd

from graphminer import graph as graphs
from graphminer import reader as reading
from graphminer import stats as figures
from graphminer import store as stores
from graphminer import timeutil
from graphminer.careers import careers_summary, render_careers
from graphminer.config import Config, load_config
from graphminer.errors import BadInput
from graphminer.events import deleted_account_records
from graphminer.evidence import collaborator_since, listed_against_maintainer, render_listed
from graphminer.milestones import KEYS, RULES_VERSION
from graphminer.sources import approximate, in_scope, org_summaries

PROJECTIONS = ("bipartite", "makers", "projects")
SCOPES = reading.SCOPES
GivenAsOf = str | datetime | None  # as a notebook gives it; None: the default as_of


def entered(as_of: GivenAsOf) -> pd.Timestamp | None:
    """A notebook's as_of as its one type inside graphminer (None stays None: the default)."""
    return None if as_of is None else timeutil.as_of(as_of)


class Store:
    """A store opened for analysis (read only: a harvest may write it meanwhile): the
    events, as_of, labels, orgs, milestones and stages of its ``reader``
    (``graphminer.reader.StoreReader``), plus the graph and the stats."""

    def __init__(self, reader: reading.StoreReader, path: str | os.PathLike) -> None:
        self.reader = reader
        self.path = path

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)  # events, as_of, labels, orgs, outside, conn, config

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.reader.conn.close()

    def events_until(self, as_of: GivenAsOf = None) -> pd.DataFrame:
        """The events up to ``as_of`` (inclusive)."""
        return self.reader.events_until(entered(as_of))

    def milestones(self, scope: str = "network", as_of: GivenAsOf = None) -> pd.DataFrame:
        """Milestones at ``scope`` (network, org or repo): one row per maker, one column per milestone."""
        return self.reader.milestones(scope, entered(as_of))

    def stages(self, as_of: GivenAsOf = None) -> pd.DataFrame:
        """One stage per maker per quarter."""
        return self.reader.stages(entered(as_of))

    def triggers(self, as_of: GivenAsOf = None) -> pd.DataFrame:
        """The act behind each network-scope milestone."""
        return self.reader.triggers(entered(as_of))

    def graph(self, projection: str = "bipartite", as_of: GivenAsOf = None,
              include_bots: bool = False) -> nx.Graph:
        """The maker-project graph (``bipartite``) or its ``makers`` / ``projects`` projection."""
        return store_graph(self.reader, projection, entered(as_of), include_bots)

    def stats(self, org: str | None = None, as_of: GivenAsOf = None) -> dict[str, Any]:
        """Every stats figure for the network, or for ``org``, as a JSON-ready dict."""
        return summary(self.reader, org, entered(as_of), self.path)


def store_graph(reader: reading.StoreReader, projection: str = "bipartite",
                as_of: pd.Timestamp | None = None, include_bots: bool = False) -> nx.Graph:
    """The maker-project graph of a store (or a projection of it) at ``as_of``."""
    if projection not in PROJECTIONS:
        raise BadInput(f"unknown projection {projection!r}: use one of {', '.join(PROJECTIONS)}")
    if projection == "bipartite":
        return reader.graph(as_of, include_bots)
    bipartite = reader.events_graph(as_of, include_bots)  # (the events' own times kept)
    if projection == "makers":
        return graphs.maker_projection(bipartite, reader.config["trajectories"]["projection_days"])
    return graphs.project_projection(bipartite)


def summary(reader: reading.StoreReader, org: str | None, as_of: pd.Timestamp | None,
            path: str | os.PathLike) -> dict[str, Any]:
    """Every stats figure of a store for the network, or for ``org``, as a JSON-ready dict
    (with where the followed makers went, when the store knows)."""
    moment = reader.moment(as_of)
    keys = list(KEYS)
    if org is None:
        milestones = reader.milestones("network", moment)[keys]
    else:
        org = org.strip().lower()
        if org not in reader.orgs:
            known = ", ".join(reader.orgs) or "none yet (harvest first)"
            raise BadInput(f"no events for org {org!r} in {path}: known orgs are {known}")
        by_org = reader.milestones("org", moment)
        in_org = by_org.index.get_level_values("org") == org
        milestones = by_org[in_org].droplevel("org")[keys]
    ghosts = deleted_account_records(reader.conn) if org is None else None
    found = figures.summarise(reader.events, milestones, moment, reader.config, org,
                              RULES_VERSION, deleted_accounts=ghosts, hidden=reader.hidden(org))
    # which sources each organisation has, and what that hides (rules version 4)
    found["sources"] = org_summaries(in_scope(reader.sources, org))
    found["approximate"] = approximate(reader.sources, org)
    listed = collaborator_since(reader.conn, found["as_of"], org)
    if listed:  # GH Archive's author_association: a check on the maintainer rule, never a milestone
        maintainers = milestones["maintainer"].dropna()
        found["collaborators"] = listed_against_maintainer(
            {key: at.strftime("%Y-%m-%dT%H:%M:%SZ") for key, at in maintainers.items()}, listed)
    if not reader.outside.empty:  # where the followed makers went (rules version 3)
        found["careers"] = careers_summary(reader, org, moment)
    return found


def open_store(path: str | os.PathLike, config: Config | None = None) -> Store:
    """Open the store at ``path`` for analysis (read only); ``config`` defaults to the one
    graphminer finds (``$GRAPHMINER_CONFIG``, ``./config/graphminer.toml``, packaged)."""
    config = config if config is not None else load_config()
    return Store(reading.StoreReader(stores.open_store(path, readonly=True), config), path)


def store_stats(path: str | os.PathLike, config: Config, org: str | None = None,
                as_of: pd.Timestamp | None = None,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The stats of the store at ``path`` (what ``graphminer stats`` prints); ``progress``
    hears each step's name on the way."""
    say = progress or (lambda message: None)
    with open_store(path, config) as store:
        say(f"reading events from {path}")
        say(f"{len(store.events):,} events; computing milestones and figures")
        return summary(store.reader, org, as_of, path)


def render_stats(summary: dict[str, Any]) -> str:
    """``store_stats``' answer as text: the stats' sections, then how many maintainers GitHub
    listed as collaborators and where the followed makers went, when the store knows
    (``graphminer.evidence``, ``graphminer.careers``)."""
    text = figures.render_text(summary)
    if summary.get("collaborators"):  # GH Archive's author_association beside maintainer
        text += "\n\n" + render_listed(summary["collaborators"])
    if summary.get("careers"):
        text += "\n\n" + render_careers(summary["careers"])
    return text
