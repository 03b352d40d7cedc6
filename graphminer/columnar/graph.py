"""The bipartite maker-project graph from the columnar tables: ``graphminer.graph``'s
``maker_project_graph``, node for node and attribute for attribute, with every count,
first and last date and main org computed by SQL; only the networkx graph itself is built
in Python.

Makers, repositories and edges are added in the order they first act (as the pandas
implementation factorizes them), so exports write them in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import networkx as nx
    import pandas as pd

DAY_FORMAT = "'%Y-%m-%d'"


def day(column: str) -> str:
    """SQL: epoch seconds as the ISO date of their day (UTC)."""
    return f"strftime(to_timestamp({column}), {DAY_FORMAT})"


def edge_counts(con: duckdb.DuckDBPyConnection, kinds: list[str]) -> None:
    """``g_edges``: per maker and repository acting on it (table ``g_actions``), the actions,
    first and last time, place of the first, and one count per kind; read once, the makers'
    and repositories' figures are sums of these."""
    per_kind = ", ".join(f"count(*) FILTER (WHERE kind = '{kind}') AS k{index}"
                         for index, kind in enumerate(kinds))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE g_edges AS
        SELECT maker, repo_id, count(*) AS n, min(t) AS first_t, max(t) AS last_t,
               min(seq) AS first_seq, bool_or(is_bot) AS bot, {per_kind}
        FROM g_actions GROUP BY maker, repo_id""")


def counted(con: duckdb.DuckDBPyConnection, group: str, width: int, extra: str = "",
            joins: str = "") -> list[tuple]:
    """Per ``group`` of the edges (``g_edges e``): activity, first and last day, one count
    per kind, then ``extra``, in the order the groups first act."""
    per_kind = ", ".join(f"sum(e.k{index})" for index in range(width))
    return con.execute(f"""
        SELECT {group}, sum(e.n), {day('min(e.first_t)')}, {day('max(e.last_t)')}, {per_kind}{extra}
        FROM g_edges e {joins}
        GROUP BY {group} ORDER BY min(e.first_seq)""").fetchall()


def bipartite_graph(con: duckdb.DuckDBPyConnection, moment: int, stages: pd.DataFrame | None,
                    labels: Mapping[str, str] | None, include_bots: bool = False) -> nx.Graph:
    """``graphminer.graph.maker_project_graph`` of the events up to ``moment`` (epoch
    seconds): nodes and edges count actions; ``stages`` as ``graphminer.trajectory.stages``
    gives them (or None); ``labels`` maps maker keys to logins."""
    import networkx as nx

    from graphminer.graph import stage_lists

    graph = nx.Graph(rules="bipartite maker-project")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE g_actions AS
        SELECT e.maker, e.repo_id, e.t, CAST(e.kind AS VARCHAR) AS kind, e.seq, e.is_bot
        FROM events e WHERE e.action AND e.t <= {moment}
        {'' if include_bots else 'AND NOT e.is_bot'}""")
    kinds = [row[0] for row in con.execute(
        "SELECT kind FROM g_actions GROUP BY kind ORDER BY min(seq)").fetchall()]
    if not kinds:
        return graph
    width = len(kinds)
    edge_counts(con, kinds)
    makers = counted(con, "e.maker", width, ", bool_or(e.bot), min(mk.key), min(o.org)",
                     """JOIN makers mk ON mk.code = e.maker
                        JOIN (SELECT maker, org FROM (
                                  SELECT e.maker, r.org, row_number() OVER (
                                      PARTITION BY e.maker ORDER BY sum(e.n) DESC, r.org) AS rk
                                  FROM g_edges e JOIN repos r ON r.repo_id = e.repo_id
                                  GROUP BY e.maker, r.org) WHERE rk = 1) o ON o.maker = e.maker""")
    repos = counted(con, "e.repo_id", width, ", min(r.full_name), min(r.org)",
                    "JOIN repos r ON r.repo_id = e.repo_id")
    edges = con.execute(f"""
        SELECT maker, repo_id, n, {day('first_t')}, {day('last_t')},
               {', '.join(f'k{index}' for index in range(width))}
        FROM g_edges ORDER BY first_seq""").fetchall()
    current: dict[str, Any] = {}
    history: dict[str, Any] = {}
    if stages is not None and not stages.empty:
        now, past = stage_lists(stages)
        current, history = now.to_dict(), past.to_dict()
    given = dict(labels) if labels is not None else {}

    names = [f"n_{kind}" for kind in kinds]

    def counts(row: tuple, start: int) -> dict[str, int]:
        return dict(zip(names, row[start:start + width], strict=True))

    maker_ids = {}
    nodes = []
    for row in makers:
        key = row[5 + width]
        node = f"maker:{key}"
        maker_ids[row[0]] = node
        label = given.get(key)
        attributes = {"kind": "maker", "label": key if label is None else label,
                      "org": row[6 + width], "first_active": row[2], "last_active": row[3],
                      "activity": int(row[1]), **counts(row, 4), "is_bot": bool(row[4 + width]),
                      "stage": current.get(key), "stages": history.get(key, [])}
        nodes.append((node, attributes))
    graph.add_nodes_from(nodes)
    repo_ids = {}
    nodes = []
    for row in repos:
        name = row[4 + width]
        node = f"repo:{name}"
        repo_ids[row[0]] = node
        nodes.append((node, {"kind": "repo", "label": name, "org": row[5 + width],
                             "first_active": row[2], "last_active": row[3], "activity": int(row[1]),
                             **counts(row, 4), "is_bot": False}))
    graph.add_nodes_from(nodes)
    graph.add_edges_from(
        (maker_ids[row[0]], repo_ids[row[1]],
         {"first": row[3], "last": row[4], **counts(row, 5), "weight": int(row[2])})
        for row in edges)
    return graph
