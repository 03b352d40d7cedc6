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


def counted(con: duckdb.DuckDBPyConnection, group: str, kinds: list[str], order: str,
            extra: str = "", joins: str = "") -> list[tuple]:
    """Per ``group`` of the actions (table ``g_actions``): activity, first and last day and
    one count per kind, in the order the groups first act."""
    per_kind = ", ".join(f"sum(CASE WHEN a.kind = '{kind}' THEN 1 ELSE 0 END)" for kind in kinds)
    return con.execute(f"""
        SELECT {group}, count(*), {day('min(a.t)')}, {day('max(a.t)')}, {per_kind}{extra}
        FROM g_actions a {joins}
        GROUP BY {group} ORDER BY min(a.seq)""").fetchall()


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
    makers = counted(con, "a.maker", kinds, "", ", bool_or(a.is_bot), min(mk.key), min(o.org)",
                     """JOIN makers mk ON mk.code = a.maker
                        JOIN (SELECT maker, org FROM (
                                  SELECT a.maker, r.org, row_number() OVER (
                                      PARTITION BY a.maker ORDER BY count(*) DESC, r.org) AS rk
                                  FROM g_actions a JOIN repos r ON r.repo_id = a.repo_id
                                  GROUP BY a.maker, r.org) WHERE rk = 1) o ON o.maker = a.maker""")
    repos = counted(con, "a.repo_id", kinds, "", ", min(r.full_name), min(r.org)",
                    "JOIN repos r ON r.repo_id = a.repo_id")
    edges = counted(con, "a.maker, a.repo_id", kinds, "")
    width = len(kinds)
    current: dict[str, Any] = {}
    history: dict[str, Any] = {}
    if stages is not None and not stages.empty:
        now, past = stage_lists(stages)
        current, history = now.to_dict(), past.to_dict()
    given = dict(labels) if labels is not None else {}

    def counts(row: tuple, start: int) -> dict[str, int]:
        return {f"n_{kind}": int(row[start + index]) for index, kind in enumerate(kinds)}

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
