"""The bipartite maker-project graph from the columnar tables: ``graphminer.graph``'s
``maker_project_graph``, node for node and attribute for attribute, with every count,
first and last time and main org computed by SQL; the networkx graph itself is built in
Python, from the results' columns (numpy's, made lists: a third of the time of rows of
Python objects), each day's ISO date made once.

Makers, repositories and edges are added in the order they first act (as the pandas
implementation factorizes them), so exports write them in the same order.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from graphminer.columnar.lanes import Aside
from graphminer.graph import DAY_NS, iso_days, records
from graphminer.graph import stage_lists as lists_of

if TYPE_CHECKING:
    import duckdb


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
    # (count_if, not count(*) FILTER: about 0.8 the time of the statement in DuckDB 2.0;
    # count_if gives a HUGEINT, which numpy would read as float)
    per_kind = ", ".join(f"CAST(count_if(kind = '{kind}') AS BIGINT) AS k{index}"
                         for index, kind in enumerate(kinds))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE g_edges AS
        SELECT maker, repo_id, count(*) AS n, min(t) AS first_t, max(t) AS last_t,
               min(seq) AS first_seq, bool_or(is_bot) AS bot, {per_kind}
        FROM events WHERE {actions} GROUP BY maker, repo_id""")


def columns(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, list]:
    """The columns ``sql`` gives, by name, each a list of Python values (NULL as None)."""
    return {name: values.tolist() for name, values in con.execute(sql).fetchnumpy().items()}


def counted(con: duckdb.DuckDBPyConnection, group: str, width: int, extra: str = "",
            joins: str = "") -> dict[str, list]:
    """Per ``group`` of the edges (``g_edges e``): ``code`` (the group), then ``extra``
    (named), first and last time (``first_t``, ``last_t``), ``activity`` and one count per
    kind (``k0``, ...), in the order the groups first act."""
    # (sums as BIGINT: DuckDB's own HUGEINT is slow to hand to Python)
    per_kind = ", ".join(f"CAST(sum(e.k{index}) AS BIGINT) AS k{index}" for index in range(width))
    return columns(con, f"""
        SELECT {group} AS code{extra}, min(e.first_t) AS first_t, max(e.last_t) AS last_t,
               CAST(sum(e.n) AS BIGINT) AS activity, {per_kind}
        FROM g_edges e {joins}
        GROUP BY {group} ORDER BY min(e.first_seq)""")


def graph_reads(con: duckdb.DuckDBPyConnection, moment: int,
                include_bots: bool) -> Iterator[Any]:
    """What the graph reads from the tables, in turn: the kinds acted (first first), then,
    when there are some, the edges' columns (``maker``, ``repo_id``, ``first_t``,
    ``last_t``, ``k0``, ..., ``n``, in the order they first act: their dicts are made while
    the makers are read), the makers' and the repositories' (``counted``'s)."""
    actions = f"action AND t <= {moment}" + ("" if include_bots else " AND NOT is_bot")
    kinds = [row[0] for row in con.execute(
        f"SELECT CAST(kind AS VARCHAR) FROM events WHERE {actions} GROUP BY kind "
        "ORDER BY min(seq)").fetchall()]
    yield kinds
    if not kinds:
        return
    width = len(kinds)
    edge_counts(con, kinds, actions)
    yield columns(con, f"""
        SELECT maker, repo_id, first_t, last_t, {', '.join(f'k{index}' for index in range(width))}, n
        FROM g_edges ORDER BY first_seq""")
    yield counted(con, "e.maker", width, ", min(mk.key) AS key, min(o.org) AS org, bool_or(e.bot) AS bot",
                  """JOIN makers mk ON mk.code = e.maker
                     JOIN (SELECT maker, org FROM (
                               SELECT e.maker, r.org, row_number() OVER (
                                   PARTITION BY e.maker ORDER BY sum(e.n) DESC, r.org) AS rk
                               FROM g_edges e JOIN repos r ON r.repo_id = e.repo_id
                               GROUP BY e.maker, r.org) WHERE rk = 1) o ON o.maker = e.maker""")
    yield counted(con, "e.repo_id", width, ", min(r.full_name) AS key, min(r.org) AS org",
                  "JOIN repos r ON r.repo_id = e.repo_id")


def days(seconds: list[int]) -> list[str]:
    """Epoch seconds as the ISO dates of their days (UTC), each date's string made once."""
    found, places = np.unique(np.floor_divide(np.asarray(seconds, dtype=np.int64), 86400),
                              return_inverse=True)
    return np.asarray(iso_days(found * DAY_NS), dtype=object)[places].tolist()


def bipartite_graph(con: duckdb.DuckDBPyConnection, moment: int, stages: pd.DataFrame | None,
                    labels: Mapping[str, str] | None, include_bots: bool = False,
                    lanes: int = 1) -> nx.Graph:
    """``graphminer.graph.maker_project_graph`` of the events up to ``moment`` (epoch
    seconds): nodes and edges count actions; ``stages`` as ``graphminer.trajectory.stages``
    gives them (or None); ``labels`` maps maker keys to logins. With two ``lanes`` or
    more, the tables are read on a cursor of ``con`` on a thread of its own (``Aside``)
    while this one makes the stage lists and the nodes of what was read already."""
    with collection_paused():
        if lanes < 2:
            return built_graph(graph_reads(con, moment, include_bots), stages, labels)
        with Aside(con, lambda cursor: graph_reads(cursor, moment, include_bots)) as reads:
            return built_graph(reads, stages, labels)


def built_graph(reads: Iterator[Any], stages: pd.DataFrame | None,
                labels: Mapping[str, str] | None) -> nx.Graph:
    """``bipartite_graph``'s work (with the collector paused) from ``graph_reads``."""
    graph = nx.Graph(rules="bipartite maker-project")
    current: dict[str, Any] = {}
    history: dict[str, Any] = {}
    if stages is not None and not stages.empty:
        now, past = lists_of(stages)
        current = dict(zip(now.index.tolist(), now.tolist(), strict=True))
        history = dict(zip(past.index.tolist(), past.tolist(), strict=True))
    kinds = next(reads)
    if not kinds:
        return graph
    counted_as = {f"k{index}": f"n_{kind}" for index, kind in enumerate(kinds)}
    given: Mapping[str, str] = labels if labels is not None else {}
    edges = next(reads)
    links = records({"first": days(edges["first_t"]), "last": days(edges["last_t"]),
                     **{name: edges[column] for column, name in counted_as.items()},
                     "weight": edges["n"]})
    makers = next(reads)
    keys = makers["key"]
    maker_ids = ["maker:" + key for key in keys]
    shown = list(map(given.get, keys, keys))
    if None in shown:  # (a label given as None: the key, as graphminer.graph has it)
        shown = [key if label is None else label for key, label in zip(keys, shown, strict=True)]
    # the attributes in graphminer.graph's order, one dict per node
    nodes = dict(zip(maker_ids, records({
        "kind": ["maker"] * len(keys), "label": shown,
        **attributes(makers, counted_as), "is_bot": makers["bot"],
        "stage": list(map(current.get, keys)),
        "stages": [history.get(key, []) for key in keys]}), strict=True))
    repos = next(reads)
    repo_ids = ["repo:" + key for key in repos["key"]]
    nodes.update(zip(repo_ids, records({
        "kind": ["repo"] * len(repo_ids), "label": repos["key"],
        **attributes(repos, counted_as), "is_bot": [False] * len(repo_ids)}), strict=True))
    return filled(graph, nodes, zip(ends(makers["code"], maker_ids, edges["maker"]),
                                    ends(repos["code"], repo_ids, edges["repo_id"]), links,
                                    strict=True))


def attributes(group: dict[str, list], counted_as: dict[str, str]) -> dict[str, list]:
    """A group's (``counted``'s columns) ``org``, ``first_active``, ``last_active``,
    ``activity`` and counts (``counted_as``: column -> attribute), in that order."""
    return {"org": group["org"], "first_active": days(group["first_t"]),
            "last_active": days(group["last_t"]), "activity": group["activity"],
            **{name: group[column] for column, name in counted_as.items()}}


def ends(codes: list[int], ids: list[str], of: list[int]) -> list[str]:
    """The node ids (``ids``, one per code of ``codes``) of the codes ``of``."""
    return list(map(dict(zip(codes, ids, strict=True)).__getitem__, of))


def filled(graph: nx.Graph, nodes: dict[Any, dict], links: Iterable[tuple[Any, Any, dict]]) -> nx.Graph:
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
    adjacency.update({node: {} for node in nodes})
    for u, v, attributes in links:
        adjacency[u][v] = attributes
        adjacency[v][u] = attributes
    return graph
