"""Holding the columnar engine (graphminer.columnar) to the pandas implementation
(graphminer.events, graphminer.trajectory) on one store: the same events, milestones of
every scope with the same triggers, and the same stages, value for value.

``differences(conn, config, as_of)`` returns a list of readable differences (empty when
the two agree); the tests assert it is empty on every world and log they read.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import networkx as nx
import pandas as pd

from graphminer import trajectory
from graphminer.careers import outside_acts
from graphminer.columnar import Columnar
from graphminer.events import load_events, newest_event
from graphminer.graph import maker_project_graph
from graphminer.reader import maker_labels
from graphminer.store import default_as_of
from graphminer.timeutil import as_of as as_of_of


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with missing values as None in text columns, a plain index, plain dtypes."""
    frame = frame.reset_index(drop=True).copy()
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype) in ("str", "string", "category"):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def first_difference(label: str, left: pd.DataFrame, right: pd.DataFrame) -> str | None:
    """Where two frames differ (None when they are equal), in words."""
    left, right = normalised(left), normalised(right)
    if list(left.columns) != list(right.columns):
        return f"{label}: columns {list(left.columns)} != {list(right.columns)}"
    if len(left) != len(right):
        return f"{label}: {len(left)} rows (pandas) != {len(right)} rows (columnar)"
    for column in left.columns:
        a, b = left[column], right[column]
        same = (a == b) | (a.isna() & b.isna())
        if not bool(same.all()):
            row = int((~same).to_numpy().argmax())
            return (f"{label}: {int((~same).sum())} rows differ in {column!r}, first at row {row}: "
                    f"pandas {left.iloc[row].to_dict()} columnar {right.iloc[row].to_dict()}")
    return None


def wide_difference(label: str, left: pd.DataFrame, right: pd.DataFrame) -> str | None:
    """Where two wide milestone frames differ (index and every column)."""
    if list(left.index) != list(right.index):
        missing = sorted(set(left.index) ^ set(right.index), key=str)[:5]
        return f"{label}: index differs ({len(left)} vs {len(right)} rows; e.g. {missing})"
    return first_difference(label, left.reset_index(), right.reset_index())


def differences(conn: sqlite3.Connection, config: Any, as_of: Any = None,
                columnar: Columnar | None = None) -> list[str]:
    """Every way the columnar engine and the pandas implementation disagree on this store."""
    events = load_events(conn, config)
    moment = as_of_of(as_of) if as_of is not None else default_as_of(conn, newest_event(events))
    outside = outside_acts(conn, config)
    engine = columnar or Columnar.in_memory(conn, config, outside)
    found = []
    found.append(first_difference("events", events, engine.events_frame()))
    limits = trajectory.thresholds(config)
    ev = trajectory.rule_events(events, moment)
    wide = {}
    for scope in ("network", "org", "repo"):
        keys = trajectory.scope_keys(scope)
        pandas_long = trajectory.acts_of_prepared(ev, moment, limits, keys, outside)
        ours_long = engine.acts(moment, scope)
        # one row per (scope key, milestone): compared in that order (the rows' order in
        # the long form is no part of its contract)
        order = [*keys, "milestone"]
        found.append(first_difference(f"{scope} acts",
                                      pandas_long.astype({k: object for k in order}).sort_values(order),
                                      ours_long.sort_values(order)))
        wide[scope] = trajectory.wide_milestones(ev, pandas_long, keys)
        found.append(wide_difference(f"{scope} milestones", wide[scope],
                                     engine.milestones(moment, scope)))
    stages = trajectory.stages(events, moment, config, network=wide["network"])
    ours = engine.stages(moment)
    found.append(first_difference("stages", stages, ours))
    labels = maker_labels(conn)
    expected = maker_project_graph(events[events["ts"] <= moment], stages, labels=labels)
    found.append(graph_difference(expected, engine.graph(moment, ours, labels)))
    found.append(graph_difference(expected, engine.graph(moment, stages, labels)))
    return [difference for difference in found if difference]


def typed(attributes: dict[str, Any]) -> list[tuple[str, Any, type]]:
    """A node's or edge's attributes in order, each with its value's type (a count read
    as a float equals the int but writes differently: ``3.0`` in an export)."""
    return [(name, value, type(value)) for name, value in attributes.items()]


def graph_difference(left: nx.Graph, right: nx.Graph) -> str | None:
    """Where two graphs differ: nodes and edges in order, every attribute in order."""
    if list(left.nodes) != list(right.nodes):
        return f"graph nodes: {len(left)} (pandas) vs {len(right)} (columnar)"
    if list(left.edges) != list(right.edges):
        return f"graph edges: {left.number_of_edges()} (pandas) vs {right.number_of_edges()}"
    for node in left.nodes:
        if typed(left.nodes[node]) != typed(right.nodes[node]):
            return f"graph node {node}: pandas {left.nodes[node]} columnar {right.nodes[node]}"
    for edge in left.edges:
        if typed(left.edges[edge]) != typed(right.edges[edge]):
            return f"graph edge {edge}: pandas {left.edges[edge]} columnar {right.edges[edge]}"
    if left.graph != right.graph:
        return f"graph attributes: {left.graph} vs {right.graph}"
    return None
