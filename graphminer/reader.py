"""Reading a store for analysis: one as_of, the events up to it, labels, milestones and stages.

Every reader of a store (the ``trajectory``, ``makers`` and ``stats`` commands, the
exports, the report and the notebooks' ``graphminer.api``) goes through this module, so
they agree on what they answer:

- **as_of** (docs/rules.md "Dating"): ``--as-of`` when given, otherwise the end of the last
  finished harvest in ``_runs`` (a GitHub harvest records the API server's ``Date``, a
  git-only harvest the local clock), otherwise the newest event, otherwise now
  (``graphminer.store.default_as_of``).
- **events**: the columnar copy's when it is fresh (its refresh sealed the store's file as
  it left it, and the file is still so: ``graphminer.columnar.copy``), else
  ``graphminer.events.load_events`` after SQLite's ``quick_check`` of the store
  (``graphminer.store.check_pages``: a damaged store is reported, wherever the damage
  lies); everything after as_of is ignored.
- **labels**: maker key -> login, else name (identity's ``makers`` table).
- **sources**: which sources each repository has, and the milestones they cannot show
  (``graphminer.sources``): outputs say "not observable" for those, never 0.
- **milestones and stages**: read from the tables ``graphminer.precompute`` refreshes after
  each harvest when they are fresh for this as_of and config (``graphminer.timeline``
  says), else computed by the columnar engine over the store's copy when that is fresh
  (``graphminer.columnar``), else by ``graphminer.trajectory`` (the three give the same
  frames; tests hold them to it).
- **the maker-project graph**: the columnar engine's when the copy is fresh, else
  ``graphminer.graph`` over the events frame (the same graph).

It imports only what is below it in the flow: events, trajectory, the graph, the columnar
engine, careers (what following stored), timeline (freshness) and the store.
"""

from __future__ import annotations

import sqlite3
from functools import cached_property
from typing import Any

import networkx as nx
import pandas as pd

from graphminer import timeutil, trajectory
from graphminer.careers import outside_acts
from graphminer.columnar import Columnar, unsupported
from graphminer.columnar.copy import open_copy
from graphminer.config import Config
from graphminer.errors import BadInput
from graphminer.events import load_events, newest_event
from graphminer.graph import maker_project_graph
from graphminer.milestones import KEYS, RULES_VERSION
from graphminer.sources import hidden_milestones, repo_sources
from graphminer.store import check_pages, default_as_of, harvest_end, table_exists
from graphminer.timeline import fresh_as_of

SCOPES = ("network", "org", "repo")


def maker_labels(conn: sqlite3.Connection) -> dict[str, str]:
    """Maker key -> login, else name (identity's ``makers`` table; empty before it exists)."""
    if not table_exists(conn, "makers"):
        return {}
    rows = conn.execute("SELECT key, COALESCE(NULLIF(login, ''), name) FROM makers").fetchall()
    return {str(key): str(label) for key, label in rows if label}


class StoreReader:
    """A store read for analysis at one default as_of; each answer is computed once."""

    def __init__(self, conn: sqlite3.Connection, config: Config | None,
                 use_precomputed: bool = True) -> None:
        self.conn = conn
        self.config = config
        self.use_precomputed = use_precomputed
        self._milestones: dict[tuple[str, Any], pd.DataFrame] = {}
        self._stages: dict[Any, pd.DataFrame] = {}
        self._acts: dict[tuple[str, Any], tuple[pd.DataFrame, pd.DataFrame]] = {}

    @cached_property
    def columnar(self) -> Columnar | None:
        """The columnar engine over the store's copy (``graphminer.columnar``) when the copy
        is fresh and the engine implements the running rules (``unsupported``), else None:
        the pandas implementation (``graphminer.events``, ``graphminer.trajectory``) answers,
        as it does with ``use_precomputed`` off."""
        if not self.use_precomputed or unsupported() is not None:
            return None
        con = open_copy(self.conn, self.config)
        return Columnar(con, self.config, self.outside) if con is not None else None

    @cached_property
    def events(self) -> pd.DataFrame:
        """The events table (docs/events.md), bots flagged, all times."""
        if self.columnar is not None:  # the store's file as its refresh sealed it
            return self.columnar.events_frame()
        check_pages(self.conn)  # damage where the events are not read is reported too
        return load_events(self.conn, self.config)

    @cached_property
    def as_of(self) -> pd.Timestamp:
        """The default as_of (``default_as_of``)."""
        if harvest_end(self.conn) is not None:
            return default_as_of(self.conn)
        return default_as_of(self.conn, newest_event(self.events))

    @cached_property
    def outside(self) -> pd.DataFrame:
        """What following stored, as outside acts (``graphminer.careers``; empty without)."""
        return outside_acts(self.conn, self.config)

    @cached_property
    def sources(self) -> list:
        """Each repository's sources (``graphminer.sources.repo_sources``)."""
        return repo_sources(self.conn)

    def hidden(self, org: str | None = None) -> tuple[str, ...]:
        """The milestones the sources of the network (or ``org``) cannot show: docs/rules.md
        "What a source cannot see is not zero"."""
        return hidden_milestones(self.sources, org)

    @cached_property
    def labels(self) -> dict[str, str]:
        """Maker key -> login (or name for makers without an account)."""
        return maker_labels(self.conn)

    def moment(self, as_of: pd.Timestamp | None = None) -> pd.Timestamp:
        """``as_of``, or the default as_of when None."""
        return self.as_of if as_of is None else as_of

    def events_until(self, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """The events up to ``as_of`` (inclusive): later ones are ignored everywhere."""
        return self.events[self.events["ts"] <= self.moment(as_of)]

    @property
    def orgs(self) -> list[str]:
        """The orgs with events, lower-cased as the events table writes them."""
        return sorted(self.events["org"].dropna().unique().tolist())

    @cached_property
    def precomputed_as_of(self) -> pd.Timestamp | None:
        """as_of of the precomputed tables when they are fresh for this config, else None."""
        if not self.use_precomputed:
            return None
        fresh = fresh_as_of(self.conn, self.config)
        return timeutil.as_of(fresh) if fresh else None

    def milestones(self, scope: str = "network",
                   as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """``graphminer.trajectory.milestones`` at ``scope`` (network, org or repo)."""
        if scope not in SCOPES:
            raise BadInput(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")
        moment = self.moment(as_of)
        if (scope, moment) not in self._milestones:
            if moment == self.precomputed_as_of:
                found = precomputed_milestones(self.conn, scope)
            elif self.columnar is not None:
                found = self.columnar.milestones(moment, scope)
            else:
                ev, long = self.acts(scope, moment)
                found = trajectory.wide_milestones(ev, long, trajectory.SCOPE_KEYS[scope])
            self._milestones[(scope, moment)] = found
        return self._milestones[(scope, moment)]

    def acts(self, scope: str, moment: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(the events as the rules see them, the long-form milestone acts) of ``scope``
        at ``moment``, computed once (``milestones`` and ``triggers`` share them)."""
        if (scope, moment) not in self._acts:
            ev = trajectory.rule_events(self.events, moment)
            long = trajectory.acts_of_prepared(ev, moment, trajectory.thresholds(self.config),
                                               trajectory.SCOPE_KEYS[scope], self.outside)
            self._acts[(scope, moment)] = (ev, long)
        return self._acts[(scope, moment)]

    def stages(self, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """``graphminer.trajectory.stages``: one stage per maker per quarter."""
        moment = self.moment(as_of)
        if moment not in self._stages:
            if moment == self.precomputed_as_of:
                found = precomputed_stages(self.conn)
            elif self.columnar is not None:
                found = self.columnar.stages(moment)
            else:
                found = trajectory.stages(self.events_until(moment), moment, self.config,
                                          network=self.milestones("network", moment))
            self._stages[moment] = found
        return self._stages[moment]

    def graph(self, as_of: pd.Timestamp | None = None, include_bots: bool = False) -> nx.Graph:
        """``graphminer.graph.maker_project_graph`` of the events up to ``as_of``, with the
        stages and labels: the columnar engine's (``Columnar.graph``, node for node and
        attribute for attribute the same graph) when the copy is fresh, without reading the
        events into a frame; else from the events frame. Not kept: a graph is the caller's
        to change."""
        moment = self.moment(as_of)
        if self.columnar is not None:
            return self.columnar.graph(moment, self.stages(moment), self.labels, include_bots)
        return self.events_graph(moment, include_bots)

    def events_graph(self, as_of: pd.Timestamp | None = None, include_bots: bool = False) -> nx.Graph:
        """``graph`` built from the events frame whatever the copy (the projections read
        the events' own times it keeps, not the graph's days)."""
        events = self.events_until(as_of)
        stages = self.stages(as_of) if len(events) else None
        return maker_project_graph(events, stages, labels=self.labels, include_bots=include_bots)

    def triggers(self, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """The act behind each network-scope milestone: one row per (maker, milestone) with
        ``at``, the triggering ``kind``, ``target``, ``ts``, ``trigger_repo`` and, when the
        rules name it, ``by`` (whose act it was)."""
        moment = self.moment(as_of)
        wanted = ["maker", "milestone", "at", "kind", "target", "ts", "trigger_repo"]
        if moment == self.precomputed_as_of:
            found = precomputed_triggers(self.conn)
        elif self.columnar is not None:
            found = self.columnar.acts(moment, "network")[[*wanted, "by"]]
        else:
            acts = self.acts("network", moment)[1]
            found = acts[wanted + (["by"] if "by" in acts else [])]
        return found if "by" in found else whose_acts(found, self.events_until(moment))


def whose_acts(triggers: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """``triggers`` with ``by``, whose act each trigger was, read from the events when the
    rules do not say: the maker of the event the trigger names (the milestone's own maker
    when they are among several acting in that same second), None when no event matches."""
    keys = ["trigger_repo", "kind", "target", "ts"]
    acted = events[["repo", "kind", "target", "ts", "maker"]].rename(
        columns={"repo": "trigger_repo", "maker": "by"})
    acted = acted.astype({"trigger_repo": object, "kind": object, "target": object, "by": object})
    found = triggers.reset_index(drop=True)
    named = found[["maker", *keys]].astype(
        {"trigger_repo": object, "kind": object, "target": object, "maker": object})
    matched = named.reset_index(names="row").merge(acted, on=keys, how="inner")
    matched = matched.assign(own=matched["by"].eq(matched["maker"]))
    matched = matched.sort_values(["row", "own"], ascending=[True, False]).drop_duplicates("row")
    return found.assign(by=matched.set_index("row")["by"].reindex(found.index).to_numpy())


def precomputed_triggers(conn: sqlite3.Connection) -> pd.DataFrame:
    """The network-scope milestone acts stored after the last harvest, in
    ``triggers``' shape (a ``by`` column only when the table holds one)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(traj_milestones)")}
    by = next((name for name in ("trigger_by", "by") if name in columns), None)
    frame = pd.read_sql_query(
        "SELECT maker_key AS maker, milestone, at, trigger_kind AS kind, trigger_repo, "
        f"trigger_target AS target, trigger_at AS ts{f', {by} AS by' if by else ''} "
        "FROM traj_milestones WHERE scope = 'network'", conn)
    for column in ("at", "ts"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.as_unit("ns")
    return frame


def precomputed_milestones(conn: sqlite3.Connection, scope: str) -> pd.DataFrame:
    """Milestones of ``scope`` from the tables graphminer.precompute keeps, in
    trajectory.milestones' shape (one column per milestone, NaT if not reached)."""
    keys = trajectory.SCOPE_KEYS[scope]
    rows = pd.read_sql_query(
        f"SELECT maker_key AS maker, scope_name AS {keys[-1] if len(keys) > 1 else 'scope_name'}, "
        "milestone, at FROM traj_milestones WHERE scope = ?", conn, params=(scope,))
    rows["at"] = pd.to_datetime(rows["at"], utc=True).dt.as_unit("ns")
    rows[keys] = rows[keys].astype(object)  # as trajectory.milestones indexes them
    wide = rows.set_index([*keys, "milestone"])["at"].unstack("milestone")
    frame = pd.DataFrame({
        key: wide[key] if key in wide else pd.Series(pd.NaT, index=wide.index, dtype="datetime64[ns, UTC]")
        for key in KEYS
    })
    frame.attrs["rules_version"] = RULES_VERSION
    return frame


def precomputed_stages(conn: sqlite3.Connection) -> pd.DataFrame:
    """The network stages stored after the last harvest (reading them takes a second where
    computing them takes ten on a 1,000,000-event store)."""
    frame = pd.read_sql_query(
        "SELECT maker_key AS maker, quarter, stage, organiser, bridge, state FROM traj_stages "
        "ORDER BY maker_key, quarter", conn)
    frame["quarter"] = pd.to_datetime(frame["quarter"], utc=True).dt.as_unit("ns")
    frame["organiser"] = frame["organiser"].astype(bool)
    frame["bridge"] = frame["bridge"].astype(bool)
    return frame
