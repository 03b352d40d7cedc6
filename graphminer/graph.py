"""The graph stage: the bipartite maker-project graph and its projections, from events.

Owns: ``maker_project_graph`` (makers and repos, an edge where a maker acted on a repo),
``maker_projection`` (makers linked when they worked on the same repo within
``window_days`` of each other), ``project_projection`` (repos linked by shared makers),
and the network-based core (``core_by_degree``: the 80% rule over degree in the
maker-maker projection). Everything is a pure function of the events table
(docs/events.md); bots are left out unless asked for.

Windowed links are found without pairing every maker of a repo with every other: times
are cut into buckets ``window_days`` wide, so two actions within the window fall in the
same bucket or in adjacent ones, and only those bucket pairs are compared
(``windowed_pairs``). The same function finds org bridges in ``graphminer.stats``.

    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "ts": pd.to_datetime(["2024-01-01", "2024-03-30"], utc=True),
    ...     "maker": ["1", "2"], "org": ["o", "o"], "repo": ["o/r", "o/r"],
    ...     "kind": ["comment", "comment"], "is_bot": [False, False]})
    >>> sorted(maker_projection(events).edges())
    [('maker:1', 'maker:2')]
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

DAY_NS = 86_400 * 10**9

# The events a bipartite graph was built from, kept beside (not inside) the graph so that
# exports never see a DataFrame among its attributes, and a projection of that graph can
# still use exact times rather than each edge's first/last span.
_GRAPH_EVENTS: weakref.WeakKeyDictionary[nx.Graph, pd.DataFrame] = weakref.WeakKeyDictionary()


def maker_node(key: str) -> str:
    """The node id of a maker."""
    return f"maker:{key}"


def repo_node(full_name: str) -> str:
    """The node id of a repo."""
    return f"repo:{full_name}"


def people_events(events: pd.DataFrame, include_bots: bool = False) -> pd.DataFrame:
    """The events of people (bots dropped unless ``include_bots``)."""
    if include_bots or "is_bot" not in events.columns:
        return events
    return events[~events["is_bot"].fillna(False).astype(bool)]


def actions_of(events: pd.DataFrame, include_bots: bool = False) -> pd.DataFrame:
    """The rows that are actions of people (docs/rules.md "Actions"): a commit that came
    in through a PR is not one (the PR is), so it adds no activity or link of its own.
    Frames without the ``action`` column count every row."""
    events = people_events(events, include_bots)
    if "action" in events.columns:
        return events[events["action"].fillna(False).astype(bool)]
    return events


def iso_dates(times: pd.Series) -> pd.Series:
    """Times as ISO dates (``YYYY-MM-DD``)."""
    return times.dt.strftime("%Y-%m-%d")


def iso_days(ns: np.ndarray) -> list[str]:
    """Nanoseconds since the epoch as ISO dates (``YYYY-MM-DD``)."""
    return (ns // DAY_NS).astype("datetime64[D]").astype(str).tolist()


def activity_columns(codes: np.ndarray, size: int, kinds: np.ndarray, kind_names: list[str],
                     ns: np.ndarray) -> dict[str, list]:
    """Per group code ``0 .. size-1``: ``activity``, ``first``/``last`` ISO dates and one
    ``n_<kind>`` count per kind, as columns of Python values."""
    spans = pd.Series(ns).groupby(codes).agg(["min", "max"]).reindex(range(size))
    per_kind = np.bincount(codes * len(kind_names) + kinds, minlength=size * len(kind_names))
    per_kind = per_kind.reshape(size, len(kind_names))
    columns = {
        "activity": np.bincount(codes, minlength=size).tolist(),
        "first": iso_days(spans["min"].to_numpy(dtype=np.int64)),
        "last": iso_days(spans["max"].to_numpy(dtype=np.int64)),
    }
    for index, kind in enumerate(kind_names):
        columns[f"n_{kind}"] = per_kind[:, index].tolist()
    return columns


def main_org(events: pd.DataFrame) -> pd.Series:
    """Each maker's org with the most actions (ties by org name)."""
    sizes = events.groupby(["maker", "org"], observed=True).size().rename("n").reset_index()
    sizes = sizes.sort_values(["maker", "n", "org"], ascending=[True, False, True])
    return sizes.drop_duplicates("maker").set_index("maker")["org"]


def stage_lists(stages: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each maker's current stage and their stages as ``[(quarter_start_iso, stage), ...]``.

    Few quarters and stage names: each (quarter, stage) pair is made once and shared by
    every maker's list that holds it; the rows are sorted only when they are not already
    in maker and quarter order (each maker's rows together, quarters rising)."""
    quarter_codes, starts_of = pd.factorize(stages["quarter"], sort=True)
    stage_codes, stage_names = pd.factorize(stages["stage"])
    makers = stages["maker"].to_numpy(dtype=object)
    if not len(stages) or (quarter_codes < 0).any() or (stage_codes < 0).any() or pd.isna(makers).any():
        return stage_lists_of_rows(stages)  # none, or a missing maker, quarter or stage
    change = np.r_[True, makers[1:] != makers[:-1]]
    starts = np.flatnonzero(change)
    if len(set(makers[starts].tolist())) < len(starts) or (np.diff(quarter_codes)[~change[1:]] <= 0).any():
        order = np.lexsort((quarter_codes, pd.factorize(makers)[0]))
        makers, quarter_codes, stage_codes = makers[order], quarter_codes[order], stage_codes[order]
        change = np.r_[True, makers[1:] != makers[:-1]]
        starts = np.flatnonzero(change)
    names = stage_names.astype(object).tolist()
    made = [(quarter, name) for quarter in iso_dates(pd.Series(starts_of)).tolist() for name in names]
    table = np.empty(len(made), dtype=object)
    for index, pair in enumerate(made):
        table[index] = pair
    pairs = table[quarter_codes * len(names) + stage_codes].tolist()
    ends = np.r_[starts[1:], len(makers)]
    index = pd.Index(makers[starts], dtype=object)
    history = pd.Series([pairs[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)],
                        index=index, dtype=object)
    current = pd.Series(np.asarray(names, dtype=object)[stage_codes[ends - 1]], index=index, dtype=object)
    return current, history


def stage_lists_of_rows(stages: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """``stage_lists`` row by row (any frame, missing values included)."""
    ordered = stages.sort_values(["maker", "quarter"])
    makers = ordered["maker"].to_numpy()
    # few distinct quarters: each written once
    codes, starts_of = pd.factorize(ordered["quarter"])
    quarters = np.asarray(iso_dates(pd.Series(starts_of)).tolist() + [None], dtype=object)[codes].tolist()
    names = ordered["stage"].astype(object).tolist()
    pairs = list(zip(quarters, names, strict=True))
    starts = np.flatnonzero(np.r_[True, makers[1:] != makers[:-1]]) if len(makers) else []
    ends = np.r_[starts[1:], len(makers)] if len(makers) else []
    keys = makers[starts] if len(makers) else []
    history = pd.Series(
        [pairs[start:end] for start, end in zip(starts, ends, strict=True)], index=keys, dtype=object
    )
    current = pd.Series([names[end - 1] for end in ends], index=keys, dtype=object)
    return current, history


def maker_labels(events: pd.DataFrame, labels: Mapping[str, str] | pd.Series | None) -> pd.Series:
    """A label per maker: from ``labels`` (key -> login or name), else a ``login`` column,
    else the key itself."""
    makers = pd.Index(events["maker"].unique())
    found = pd.Series(makers.astype(object), index=makers, dtype=object)
    if labels is not None:
        given = pd.Series(labels, dtype=object) if not isinstance(labels, pd.Series) else labels
        known = given.reindex(makers)
        found = known.where(known.notna(), found)
    elif "login" in events.columns:
        logins = events.drop_duplicates("maker").set_index("maker")["login"].reindex(makers)
        found = logins.where(logins.notna(), found)
    return found.astype(object)


def records(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """One dict per row of ``columns`` (name -> the column's values, all as long), its
    keys in the columns' order.

    >>> records({"a": [1, 2], "b": "xy"})
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    """
    values = list(columns.values())
    if len({len(column) for column in values}) > 1:
        raise ValueError(f"columns of different lengths: {[len(column) for column in values]}")
    return list(map(record_of(tuple(columns)), *values)) if values else []


@functools.lru_cache(maxsize=64)
def record_of(names: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    """The function of one value per name giving the dict of them, keys in ``names``'
    order: a dict display generated for these names (as ``collections.namedtuple``
    generates its methods; each name written as its literal), which makes the dict at
    its size at once; ``dict(zip(names, row))`` grows it step by step and needs a tuple
    per row (measured: about 0.7 the time; a graph makes a dict per node and edge).

    >>> record_of(("a", "it's"))(1, 2)
    {'a': 1, "it's": 2}
    """
    values = [f"_{index}" for index in range(len(names))]
    pairs = ", ".join(f"{name!r}: {value}" for name, value in zip(names, values, strict=True))
    return eval(f"lambda {', '.join(values)}: {{{pairs}}}", {})  # (names only as literals)


def maker_project_graph(
    events: pd.DataFrame,
    stages: pd.DataFrame | None = None,
    labels: Mapping[str, str] | pd.Series | None = None,
    include_bots: bool = False,
) -> nx.Graph:
    """The bipartite maker-project graph (node and edge attributes: docs/analysis-api.md).

    Nodes and edges count actions (``actions_of``). ``stages`` is
    ``graphminer.trajectory.stages(...)`` (makers then carry ``stage`` and ``stages``;
    without it, ``stage`` is None and ``stages`` empty). ``labels`` maps a maker key to its
    login (or name for makers without an account).
    """
    events = actions_of(events, include_bots)
    graph = nx.Graph(rules="bipartite maker-project")
    _GRAPH_EVENTS[graph] = events
    if events.empty:
        return graph
    # Everything is counted on integer codes; names come back only for the nodes.
    maker_codes, maker_keys = pd.factorize(events["maker"].astype(str))
    repo_codes, repo_names = pd.factorize(events["repo"].astype(str))
    kind_codes, kind_names = pd.factorize(events["kind"].astype(str))
    kinds = [str(kind) for kind in kind_names]
    ns = nanoseconds(events["ts"])
    n_makers, n_repos = len(maker_keys), len(repo_names)

    makers = {"kind": ["maker"] * n_makers,
              "label": maker_labels(events, labels).reindex(maker_keys).tolist(),
              "org": main_org(events).reindex(maker_keys).tolist()}
    activity = activity_columns(maker_codes, n_makers, kind_codes, kinds, ns)
    makers["first_active"], makers["last_active"] = activity.pop("first"), activity.pop("last")
    makers.update(activity)
    bots = np.zeros(n_makers, dtype=bool)
    if "is_bot" in events.columns:
        np.logical_or.at(bots, maker_codes, events["is_bot"].fillna(False).to_numpy(dtype=bool))
    makers["is_bot"] = bots.tolist()
    if stages is not None and not stages.empty:
        current, history = stage_lists(stages)
        makers["stage"] = [None if pd.isna(v) else v for v in current.reindex(maker_keys).tolist()]
        makers["stages"] = [v if isinstance(v, list) else [] for v in history.reindex(maker_keys).tolist()]
    else:
        makers["stage"] = [None] * n_makers
        makers["stages"] = [[] for _ in range(n_makers)]

    repo_org = events["org"].to_numpy(dtype=object)[np.unique(repo_codes, return_index=True)[1]]
    repos = {"kind": ["repo"] * n_repos, "label": [str(name) for name in repo_names], "org": repo_org.tolist()}
    activity = activity_columns(repo_codes, n_repos, kind_codes, kinds, ns)
    repos["first_active"], repos["last_active"] = activity.pop("first"), activity.pop("last")
    repos.update(activity)
    repos["is_bot"] = [False] * n_repos

    maker_ids = ("maker:" + pd.Index(maker_keys, dtype=str)).tolist()
    repo_ids = ("repo:" + pd.Index(repo_names, dtype=str)).tolist()
    graph.add_nodes_from(zip(maker_ids, records(makers), strict=True))
    graph.add_nodes_from(zip(repo_ids, records(repos), strict=True))

    edge_codes, edge_pairs = pd.factorize(maker_codes.astype(np.int64) * n_repos + repo_codes)
    edges = activity_columns(edge_codes, len(edge_pairs), kind_codes, kinds, ns)
    edges["weight"] = edges.pop("activity")
    sources = [maker_ids[code] for code in (edge_pairs // n_repos).tolist()]
    targets = [repo_ids[code] for code in (edge_pairs % n_repos).tolist()]
    graph.add_edges_from(zip(sources, targets, records(edges), strict=True))
    return graph


def _block_pairs(
    left_index: np.ndarray, partner_start: np.ndarray, partner_count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every (left, partner) where partners are ``partner_start .. +partner_count`` rows."""
    counts = partner_count.astype(np.int64)
    total = int(counts.sum())
    left = np.repeat(left_index, counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return left, np.repeat(partner_start, counts) + offsets


def _bucketed_spans(
    group: np.ndarray, entity: np.ndarray, start_ns: np.ndarray, end_ns: np.ndarray, window_ns: int
) -> pd.DataFrame:
    """Spans cut at bucket boundaries: per (group, bucket, entity) its earliest and latest time."""
    first_bucket = start_ns // window_ns
    last_bucket = end_ns // window_ns
    count = (last_bucket - first_bucket + 1).astype(np.int64)
    row = np.repeat(np.arange(len(group)), count)
    bucket = np.repeat(first_bucket, count) + (
        np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    )
    lo = np.maximum(start_ns[row], bucket * window_ns)
    hi = np.minimum(end_ns[row], (bucket + 1) * window_ns - 1)
    spans = pd.DataFrame({"group": group[row], "bucket": bucket, "entity": entity[row], "lo": lo, "hi": hi})
    spans = spans.groupby(["group", "bucket", "entity"], sort=True).agg(lo=("lo", "min"), hi=("hi", "max"))
    return spans.reset_index()


# Candidate pairs are made and de-duplicated this many at a time, to bound memory.
PAIR_CHUNK = 8_000_000


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values, sorted. Sorting beats hashing (pandas', and numpy 2's np.unique) on
    millions of random int64 keys that do not fit in cache."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def windowed_pair_keys(
    group: np.ndarray,
    entity: np.ndarray,
    start_ns: np.ndarray,
    end_ns: np.ndarray | None = None,
    window_days: float = 90,
) -> tuple[np.ndarray, int]:
    """Distinct linked (group, a, b) triples, each packed in one int64
    ``(group * n + a) * n + b`` with ``a < b``; returns the keys and ``n`` (entities).

    Inputs are parallel arrays: non-negative integer codes of the group (e.g. a repo) and
    the entity (e.g. a maker), and the time (or span ``start_ns .. end_ns``) of its activity
    in nanoseconds. Two entities link in a group when some of their times there are at most
    ``window_days`` apart. Cost follows the pairs found, not the square of a group's size.
    """
    if end_ns is None:
        end_ns = start_ns
    n = int(entity.max()) + 1 if len(entity) else 1
    if len(group) == 0:
        return np.empty(0, dtype=np.int64), n
    if (int(group.max()) + 1) * n * n >= 2**62:
        raise ValueError(f"too many groups and entities to pack pairs in 64 bits ({group.max() + 1} x {n}^2)")
    window_ns = max(int(round(window_days * DAY_NS)), 1)
    spans = _bucketed_spans(group, entity, start_ns, end_ns, window_ns)
    group_values = spans["group"].to_numpy(dtype=np.int64)
    bucket_values = spans["bucket"].to_numpy()
    entities = spans["entity"].to_numpy(dtype=np.int64)
    lo = spans["lo"].to_numpy()
    hi = spans["hi"].to_numpy()
    block_starts = np.flatnonzero(
        np.r_[True, (group_values[1:] != group_values[:-1]) | (bucket_values[1:] != bucket_values[:-1])]
    )
    block_ends = np.r_[block_starts[1:], len(spans)]
    block_of_row = np.repeat(np.arange(len(block_starts)), block_ends - block_starts)
    rows = np.arange(len(spans))
    # Same bucket: any two times in one bucket are less than a window apart.
    later = block_ends[block_of_row] - rows - 1
    # Adjacent buckets: the latest time in bucket k against the earliest in bucket k + 1.
    has_next = np.r_[
        (group_values[block_starts[1:]] == group_values[block_starts[:-1]])
        & (bucket_values[block_starts[1:]] == bucket_values[block_starts[:-1]] + 1),
        False,
    ]
    next_block = np.minimum(np.arange(len(block_starts)) + 1, len(block_starts) - 1)
    next_start = np.where(has_next, block_starts[next_block], 0)[block_of_row]
    next_count = np.where(has_next, block_ends[next_block] - block_starts[next_block], 0)[block_of_row]

    candidates = np.cumsum(later + next_count)
    cuts = np.searchsorted(candidates, np.arange(PAIR_CHUNK, int(candidates[-1]) + PAIR_CHUNK, PAIR_CHUNK))
    found = []
    for first, last in zip(np.r_[0, cuts[:-1] + 1], np.r_[cuts[:-1] + 1, len(rows)], strict=True):
        chunk = rows[first:last]
        left, right = _block_pairs(chunk, chunk + 1, later[first:last])
        left_adj, right_adj = _block_pairs(chunk, next_start[first:last], next_count[first:last])
        close = (lo[right_adj] - hi[left_adj]) <= window_ns
        left = np.r_[left, left_adj[close]]
        right = np.r_[right, right_adj[close]]
        a, b = entities[left], entities[right]
        keep = a != b
        keys = (group_values[left[keep]] * n + np.minimum(a, b)[keep]) * n + np.maximum(a, b)[keep]
        found.append(sorted_unique(keys))
    return sorted_unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64), n


def windowed_pairs(
    group: np.ndarray,
    entity: np.ndarray,
    start_ns: np.ndarray,
    end_ns: np.ndarray | None = None,
    window_days: float = 90,
) -> pd.DataFrame:
    """``windowed_pair_keys`` unpacked: columns ``group``, ``a``, ``b`` (``a < b``)."""
    keys, n = windowed_pair_keys(group, entity, start_ns, end_ns, window_days)
    return pd.DataFrame({"group": keys // (n * n), "a": keys // n % n, "b": keys % n})


def pair_weights(keys: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Packed (group, a, b) keys counted per (a, b): arrays ``a``, ``b``, ``weight``."""
    pairs = np.sort(keys % (n * n))
    starts = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]]) if len(pairs) else np.empty(0, dtype=np.int64)
    weight = np.diff(np.r_[starts, len(pairs)])
    pair = pairs[starts]
    return {"a": pair // n, "b": pair % n, "weight": weight}


def _events_of(source: nx.Graph | pd.DataFrame, include_bots: bool) -> pd.DataFrame | None:
    if isinstance(source, pd.DataFrame):
        return actions_of(source, include_bots)
    return _GRAPH_EVENTS.get(source)


def _edge_spans(graph: nx.Graph) -> pd.DataFrame:
    """(maker, repo, first, last) of every maker-repo edge of a bipartite graph."""
    rows = []
    for u, v, data in graph.edges(data=True):
        maker, repo = (u, v) if graph.nodes[u].get("kind") == "maker" else (v, u)
        rows.append((maker, repo, data.get("first"), data.get("last")))
    spans = pd.DataFrame(rows, columns=["maker", "repo", "first", "last"])
    spans["first"] = pd.to_datetime(spans["first"], utc=True)
    # An edge's last date covers that whole day.
    spans["last"] = pd.to_datetime(spans["last"], utc=True) + pd.Timedelta(days=1) - pd.Timedelta(1)
    return spans


EPOCH = pd.Timestamp(0, tz="UTC")


def nanoseconds(times: pd.Series) -> np.ndarray:
    """UTC times as int64 nanoseconds since the epoch, whatever the frame's resolution."""
    return ((times - EPOCH) // pd.Timedelta(1)).to_numpy(dtype=np.int64)


def named_pairs(pairs: dict[str, np.ndarray], names: pd.Index) -> pd.DataFrame:
    """Pairs of codes (``a``, ``b``, ``weight``) as categoricals over sorted ``names``,
    so ``a < b`` by code is ``a < b`` by name."""
    categories = pd.Index(names, dtype=object)
    return pd.DataFrame(
        {"a": pd.Categorical.from_codes(pairs["a"], categories=categories),
         "b": pd.Categorical.from_codes(pairs["b"], categories=categories),
         "weight": pairs["weight"]}
    )


def maker_pairs(source: nx.Graph | pd.DataFrame, window_days: float = 90, include_bots: bool = False) -> pd.DataFrame:
    """Maker-maker links: columns ``a``, ``b`` (maker node ids, ``a < b``, categoricals) and
    ``weight`` (number of repos on which they worked within ``window_days`` of each other).

    From events (or a graph made by ``maker_project_graph``) the times are exact; from any
    other bipartite graph each maker's span on a repo is its edge's ``first`` .. ``last``.
    """
    events = _events_of(source, include_bots)
    if events is not None:
        repo_codes, _ = pd.factorize(events["repo"])
        maker_codes, maker_keys = pd.factorize("maker:" + events["maker"].astype(str), sort=True)
        times = nanoseconds(events["ts"])
        keys, n = windowed_pair_keys(repo_codes, maker_codes, times, times, window_days)
    else:
        spans = _edge_spans(source)
        repo_codes, _ = pd.factorize(spans["repo"])
        maker_codes, maker_keys = pd.factorize(spans["maker"], sort=True)
        keys, n = windowed_pair_keys(
            repo_codes, maker_codes, nanoseconds(spans["first"]), nanoseconds(spans["last"]), window_days
        )
    return named_pairs(pair_weights(keys, n), maker_keys)


def _maker_nodes(source: nx.Graph | pd.DataFrame, include_bots: bool) -> list[tuple[str, dict]]:
    if isinstance(source, nx.Graph):
        return [(node, dict(data)) for node, data in source.nodes(data=True) if data.get("kind") == "maker"]
    makers = actions_of(source, include_bots)["maker"].astype(str).unique()
    return [(maker_node(key), {"kind": "maker", "label": key}) for key in makers]


def add_weighted_pairs(graph: nx.Graph, pairs: pd.DataFrame) -> None:
    """Add a pairs frame's links to ``graph`` as edges with a ``weight``."""
    graph.add_weighted_edges_from(
        zip(pairs["a"].to_numpy(dtype=object), pairs["b"].to_numpy(dtype=object), pairs["weight"].tolist(), strict=True)
    )


def maker_projection(
    source: nx.Graph | pd.DataFrame, window_days: float = 90, include_bots: bool = False
) -> nx.Graph:
    """Makers linked when they worked on the same repo within ``window_days`` (inclusive).

    Every maker is a node (with the bipartite graph's attributes when given one); edge
    ``weight`` is the number of repos on which the two were that close in time.
    """
    graph = nx.Graph(rules=f"makers linked within {window_days:g} days on a shared repo")
    graph.add_nodes_from(_maker_nodes(source, include_bots))
    pairs = maker_pairs(source, window_days, include_bots)
    add_weighted_pairs(graph, pairs)
    return graph


def _maker_repo_edges(source: nx.Graph | pd.DataFrame, include_bots: bool) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        events = actions_of(source, include_bots)
        edges = events[["maker", "repo"]].drop_duplicates()
        return pd.DataFrame(
            {"maker": "maker:" + edges["maker"].astype(str), "repo": "repo:" + edges["repo"].astype(str)}
        )
    rows = [
        (u, v) if source.nodes[u].get("kind") == "maker" else (v, u) for u, v in source.edges()
    ]
    return pd.DataFrame(rows, columns=["maker", "repo"])


def project_pairs(source: nx.Graph | pd.DataFrame, include_bots: bool = False) -> pd.DataFrame:
    """Repo-repo links: columns ``a``, ``b`` (repo node ids, ``a < b``), ``weight`` (shared makers)."""
    edges = _maker_repo_edges(source, include_bots)
    maker_codes, _ = pd.factorize(edges["maker"])
    repo_codes, repo_names = pd.factorize(edges["repo"], sort=True)
    order = np.lexsort((repo_codes, maker_codes))
    maker_codes, repo_codes = maker_codes[order], repo_codes[order].astype(np.int64)
    rows = np.arange(len(order))
    starts = np.flatnonzero(np.r_[True, maker_codes[1:] != maker_codes[:-1]]) if len(order) else rows
    ends = np.r_[starts[1:], len(order)]
    block_end = np.repeat(ends, ends - starts)
    left, right = _block_pairs(rows, rows + 1, block_end - rows - 1)
    n = len(repo_names)
    # Repos are sorted within a maker, so left < right already.
    return named_pairs(pair_weights(repo_codes[left] * n + repo_codes[right], n), repo_names)


def project_projection(source: nx.Graph | pd.DataFrame, include_bots: bool = False) -> nx.Graph:
    """Repos linked by the makers they share (edge ``weight`` = shared makers)."""
    graph = nx.Graph(rules="repos linked by shared makers")
    if isinstance(source, nx.Graph):
        graph.add_nodes_from(
            (node, dict(data)) for node, data in source.nodes(data=True) if data.get("kind") == "repo"
        )
    else:
        events = actions_of(source, include_bots)
        repos = events.drop_duplicates("repo")
        graph.add_nodes_from(
            (repo_node(repo), {"kind": "repo", "label": repo, "org": org})
            for repo, org in zip(repos["repo"], repos["org"], strict=True)
        )
    pairs = project_pairs(source, include_bots)
    add_weighted_pairs(graph, pairs)
    return graph


def eighty_percent_prefix(scores: pd.Series, share: float = 0.8) -> list:
    """The shortest prefix of ``scores`` (descending, ties by key ascending) whose sum
    reaches ``share`` of the total: the keys in that prefix."""
    scores = scores[scores > 0]
    if scores.empty:
        return []
    ordered = scores.rename("score").rename_axis("key").reset_index()
    ordered = ordered.sort_values(["score", "key"], ascending=[False, True], kind="mergesort")
    cumulative = ordered["score"].cumsum().to_numpy()
    needed = share * cumulative[-1]
    # Small tolerance: a prefix that reaches the share exactly must not miss it by rounding.
    length = int(np.searchsorted(cumulative, needed - 1e-9 * cumulative[-1], side="left")) + 1
    return ordered["key"].iloc[:length].tolist()


def pair_degrees(pairs: pd.DataFrame) -> pd.Series:
    """Degree of every node named in a pairs frame (columns ``a``, ``b``)."""
    if isinstance(pairs["a"].dtype, pd.CategoricalDtype):
        categories = pairs["a"].cat.categories
        codes = np.r_[pairs["a"].cat.codes.to_numpy(), pairs["b"].cat.codes.to_numpy()]
        degrees = pd.Series(np.bincount(codes, minlength=len(categories)), index=categories)
        return degrees[degrees > 0]
    return pd.concat([pairs["a"], pairs["b"]]).value_counts()


def core_by_degree(projection: nx.Graph | pd.DataFrame, share: float = 0.8) -> list[str]:
    """Network-based core: makers sorted by degree centrality in the maker-maker
    projection, the shortest prefix holding ``share`` of the total degree.

    Takes the projection graph or its pairs frame (``maker_pairs``).
    """
    if isinstance(projection, nx.Graph):
        degrees = pd.Series(dict(projection.degree()), dtype="int64")
    else:
        degrees = pair_degrees(projection)
    return eighty_percent_prefix(degrees, share)
