"""The bipartite maker-project graph from the columnar tables: ``graphminer.graph``'s
``maker_project_graph``, node for node and attribute for attribute, with every count,
first and last date and main org computed by SQL; only the networkx graph itself is built
in Python.

Makers, repositories and edges are added in the order they first act (as the pandas
implementation factorizes them), so exports write them in the same order.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import networkx as nx
import pandas as pd

from graphminer.graph import stage_lists as lists_of

if TYPE_CHECKING:
    import duckdb
DAY_FORMAT = "'%Y-%m-%d'"


def day(column: str) -> str:
    """SQL: epoch seconds as the ISO date of their day (UTC)."""
    return f"strftime(to_timestamp({column}), {DAY_FORMAT})"


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused (and restored as it was) while a graph's
    hundreds of thousands of acyclic dicts, lists and tuples are made: each allocation
    burst otherwise sets off collections that walk every object already made (measured:
    about a third of the graph step on the bench's world)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def edge_counts(con: duckdb.DuckDBPyConnection, kinds: list[str], actions: str) -> None:
    """``g_edges``: per maker and repository acting on it (the events matching ``actions``),
    the actions, first and last time, place of the first, and one count per kind; read
    once, the makers' and repositories' figures are sums of these."""
    per_kind = ", ".join(f"count(*) FILTER (WHERE kind = '{kind}') AS k{index}"
                         for index, kind in enumerate(kinds))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE g_edges AS
        SELECT maker, repo_id, count(*) AS n, min(t) AS first_t, max(t) AS last_t,
               min(seq) AS first_seq, bool_or(is_bot) AS bot, {per_kind}
        FROM events WHERE {actions} GROUP BY maker, repo_id""")


def counted(con: duckdb.DuckDBPyConnection, group: str, width: int, extra: str = "",
            joins: str = "") -> list[tuple]:
    """Per ``group`` of the edges (``g_edges e``): the group, then ``extra``, then first and
    last day, activity and one count per kind (the attributes' order), in the order the
    groups first act."""
    # (sums as BIGINT: DuckDB's own HUGEINT is slow to hand to Python)
    per_kind = ", ".join(f"CAST(sum(e.k{index}) AS BIGINT)" for index in range(width))
    return con.execute(f"""
        SELECT {group}{extra}, {day('min(e.first_t)')}, {day('max(e.last_t)')},
               CAST(sum(e.n) AS BIGINT), {per_kind}
        FROM g_edges e {joins}
        GROUP BY {group} ORDER BY min(e.first_seq)""").fetchall()


def bipartite_graph(con: duckdb.DuckDBPyConnection, moment: int, stages: pd.DataFrame | None,
                    labels: Mapping[str, str] | None, include_bots: bool = False) -> nx.Graph:
    """``graphminer.graph.maker_project_graph`` of the events up to ``moment`` (epoch
    seconds): nodes and edges count actions; ``stages`` as ``graphminer.trajectory.stages``
    gives them (or None); ``labels`` maps maker keys to logins."""
    with collection_paused():
        return built_graph(con, moment, stages, labels, include_bots)


def built_graph(con: duckdb.DuckDBPyConnection, moment: int, stages: pd.DataFrame | None,
                labels: Mapping[str, str] | None, include_bots: bool) -> nx.Graph:
    """``bipartite_graph``'s work (with the collector paused)."""
    graph = nx.Graph(rules="bipartite maker-project")
    actions = f"action AND t <= {moment}" + ("" if include_bots else " AND NOT is_bot")
    kinds = [row[0] for row in con.execute(
        f"SELECT CAST(kind AS VARCHAR) FROM events WHERE {actions} GROUP BY kind "
        "ORDER BY min(seq)").fetchall()]
    if not kinds:
        return graph
    width = len(kinds)
    edge_counts(con, kinds, actions)
    makers = counted(con, "e.maker", width, ", min(mk.key), min(o.org), bool_or(e.bot)",
                     """JOIN makers mk ON mk.code = e.maker
                        JOIN (SELECT maker, org FROM (
                                  SELECT e.maker, r.org, row_number() OVER (
                                      PARTITION BY e.maker ORDER BY sum(e.n) DESC, r.org) AS rk
                                  FROM g_edges e JOIN repos r ON r.repo_id = e.repo_id
                                  GROUP BY e.maker, r.org) WHERE rk = 1) o ON o.maker = e.maker""")
    repos = counted(con, "e.repo_id", width, ", min(r.full_name), min(r.org)",
                    "JOIN repos r ON r.repo_id = e.repo_id")
    edges = con.execute(f"""
        SELECT maker, repo_id, {day('first_t')}, {day('last_t')},
               {', '.join(f'k{index}' for index in range(width))}, n
        FROM g_edges ORDER BY first_seq""").fetchall()
    current: dict[str, Any] = {}
    history: dict[str, Any] = {}
    if stages is not None and not stages.empty:
        now, past = lists_of(stages)
        current = dict(zip(now.index.tolist(), now.tolist(), strict=True))
        history = dict(zip(past.index.tolist(), past.tolist(), strict=True))
    given: Mapping[str, str] = labels if labels is not None else {}
    counts = [f"n_{kind}" for kind in kinds]
    # the attributes in graphminer.graph's order, one dict per row as it comes
    maker_names = ("kind", "label", "org", "first_active", "last_active", "activity", *counts,
                   "is_bot", "stage", "stages")
    repo_names = ("kind", "label", "org", "first_active", "last_active", "activity", *counts,
                  "is_bot")
    edge_names = ("first", "last", *counts, "weight")
    maker_ids = {row[0]: "maker:" + row[1] for row in makers}
    repo_ids = {row[0]: "repo:" + row[1] for row in repos}
    nodes = {}
    for row in makers:
        key = row[1]
        label = given.get(key)
        nodes[maker_ids[row[0]]] = dict(zip(maker_names, (
            "maker", key if label is None else label, row[2], *row[4:], row[3], current.get(key),
            history.get(key, [])), strict=True))
    nodes.update((repo_ids[row[0]], dict(zip(repo_names, ("repo", row[1], row[2], *row[3:], False),
                                             strict=True))) for row in repos)
    links = [(maker_ids[row[0]], repo_ids[row[1]], dict(zip(edge_names, row[2:], strict=True)))
             for row in edges]
    return filled(graph, nodes, links)


def filled(graph: nx.Graph, nodes: dict[Any, dict], links: list[tuple[Any, Any, dict]]) -> nx.Graph:
    """``graph`` (new, empty) holding ``nodes`` (each with its attribute dict, in order) and
    the undirected ``links`` (u, v, attribute dict) between them, in order: the dicts given
    become the graph's own, as ``add_nodes_from`` and ``add_edges_from`` would make them
    (they copy each dict twice, a third of the graph step on the bench's world). Written
    into networkx's documented dict-of-dicts (``nx.Graph``, "Subclasses (Advanced)"):
    ``_node`` (node -> attributes) and ``_adj`` (node -> neighbour -> the edge's one dict).

    >>> graph = filled(nx.Graph(), {"a": {"kind": "maker"}, "b": {}}, [("a", "b", {"weight": 2})])
    >>> list(graph.nodes(data=True)), list(graph.edges(data=True))
    ([('a', {'kind': 'maker'}), ('b', {})], [('a', 'b', {'weight': 2})])
    >>> same = nx.Graph()
    >>> same.add_nodes_from([("a", {"kind": "maker"}), "b"])
    >>> same.add_edge("a", "b", weight=2)
    >>> nx.utils.graphs_equal(graph, same), graph.degree("b")
    (True, 1)
    """
    assert not graph._node, "filled() builds a new graph"
    graph._node.update(nodes)
    adjacency = graph._adj
    adjacency.update((node, {}) for node in nodes)
    for u, v, attributes in links:
        adjacency[u][v] = attributes
        adjacency[v][u] = attributes
    return graph
