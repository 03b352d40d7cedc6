"""The maker-project graph and its projections, checked against independent counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphminer import graph as graphs
from graphminer.graph import (
    core_by_degree,
    maker_pairs,
    maker_project_graph,
    maker_projection,
    project_projection,
)

KINDS = ["commit", "pr_opened", "pr_merged", "comment", "review", "issue_opened"]


def random_events(seed: int, n: int = 400, makers: int = 30, repos: int = 6, days: int = 700) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    repo_ids = rng.integers(0, repos, n)
    start = pd.Timestamp("2022-01-01", tz="UTC")
    seconds = rng.integers(0, days * 86400, n)
    maker_ids = rng.integers(0, makers, n)
    return pd.DataFrame(
        {
            "ts": start + pd.to_timedelta(seconds, unit="s"),
            "maker": [f"{m}" for m in maker_ids],
            "org": [f"org{r % 2}" for r in repo_ids],
            "repo": [f"org{r % 2}/repo{r}" for r in repo_ids],
            "kind": rng.choice(KINDS, n),
            "target": "issue:1",
            "target_author": None,
            "details": "{}",
            "is_bot": maker_ids == 0,  # maker 0 is a bot
        }
    )


def test_graph_matches_independent_counts() -> None:
    events = random_events(1)
    graph = maker_project_graph(events)
    people = [row for row in events.itertuples() if not row.is_bot]
    weights = Counter((row.maker, row.repo) for row in people)
    kinds = Counter((row.maker, row.repo, row.kind) for row in people)
    first: dict = {}
    last: dict = {}
    for row in people:
        key = (row.maker, row.repo)
        first[key] = min(first.get(key, row.ts), row.ts)
        last[key] = max(last.get(key, row.ts), row.ts)

    makers = {row.maker for row in people}
    repos = {row.repo for row in people}
    assert graph.number_of_nodes() == len(makers) + len(repos)
    assert graph.number_of_edges() == len(weights)
    assert nx.is_bipartite(graph)
    for (maker, repo), weight in weights.items():
        edge = graph.edges[f"maker:{maker}", f"repo:{repo}"]
        assert edge["weight"] == weight
        assert edge["first"] == first[(maker, repo)].strftime("%Y-%m-%d")
        assert edge["last"] == last[(maker, repo)].strftime("%Y-%m-%d")
        for kind in KINDS:
            assert edge[f"n_{kind}"] == kinds[(maker, repo, kind)]
    activity = Counter(row.maker for row in people)
    for maker, n in activity.items():
        node = graph.nodes[f"maker:{maker}"]
        assert node["kind"] == "maker" and node["activity"] == n and node["is_bot"] is False
        assert sum(node[f"n_{kind}"] for kind in KINDS) == n
    repo_activity = Counter(row.repo for row in people)
    for repo, n in repo_activity.items():
        node = graph.nodes[f"repo:{repo}"]
        assert node["kind"] == "repo" and node["activity"] == n and node["label"] == repo
        assert node["org"] == repo.split("/")[0]


def test_records_give_one_dict_per_row_keys_in_column_order_whatever_the_names() -> None:
    """``records`` (a dict display generated per set of names): any attribute name, quotes
    and backslashes included, is a key as written, in the columns' order, each row's values
    its own; columns of different lengths are refused."""
    import doctest

    names = ["kind", "it's", 'say "hi"', "n_a\\b", "x y", "lambda", "_0"]
    columns = {name: [index, [index], None] for index, name in enumerate(names)}
    made = graphs.records(columns)
    assert made == [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    assert [list(record) for record in made] == [names] * 3
    assert made[0]["it's"] == 1 and made[1]["it's"] == [1] and made[1]["it's"] is columns["it's"][1]
    assert graphs.records({"a": []}) == [] and graphs.records({}) == []
    with pytest.raises(ValueError, match="different lengths"):
        graphs.records({"a": [1], "b": [1, 2]})
    assert doctest.testmod(graphs, report=False).failed == 0


def test_bots_left_out_unless_asked() -> None:
    events = random_events(2)
    assert "maker:0" not in maker_project_graph(events)
    with_bots = maker_project_graph(events, include_bots=True)
    assert with_bots.nodes["maker:0"]["is_bot"] is True


def test_labels_org_and_stages() -> None:
    events = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2023-01-05", "2023-02-01", "2023-08-01", "2023-08-02"], utc=True),
            "maker": ["7", "7", "7", "git:ann@example.org"],
            "org": ["a", "b", "b", "a"],
            "repo": ["a/x", "b/y", "b/y", "a/x"],
            "kind": ["comment", "commit", "commit", "issue_opened"],
            "is_bot": False,
        }
    )
    stages = pd.DataFrame(
        {
            "maker": ["7", "7", "git:ann@example.org"],
            "quarter": pd.to_datetime(["2023-01-01", "2023-07-01", "2023-07-01"], utc=True),
            "stage": ["participant", "contributor", "participant"],
        }
    )
    graph = maker_project_graph(events, stages, labels={"7": "octocat", "git:ann@example.org": "Ann Lee"})
    node = graph.nodes["maker:7"]
    assert node["label"] == "octocat"
    assert node["org"] == "b"  # two of its three actions
    assert (node["first_active"], node["last_active"]) == ("2023-01-05", "2023-08-01")
    assert node["stage"] == "contributor"
    assert node["stages"] == [("2023-01-01", "participant"), ("2023-07-01", "contributor")]
    assert graph.nodes["maker:git:ann@example.org"]["label"] == "Ann Lee"
    assert graph.edges["maker:7", "repo:b/y"]["n_commit"] == 2


@pytest.mark.parametrize("order", ["sorted", "shuffled", "missing stage"])
def test_stage_lists_give_each_makers_quarters_in_order_however_the_rows_come(order: str) -> None:
    rng = np.random.default_rng(7)
    quarters = pd.date_range("2020-01-01", periods=12, freq="QS", tz="UTC")
    rows = [(f"m{maker}", quarter, str(rng.choice(["participant", "contributor", "core"])))
            for maker in range(40) for quarter in quarters[rng.integers(0, 6):rng.integers(6, 13)]]
    stages = pd.DataFrame(rows, columns=["maker", "quarter", "stage"])
    if order != "sorted":
        stages = stages.sample(frac=1, random_state=3).reset_index(drop=True)
    if order == "missing stage":
        stages.loc[5, "stage"] = None
    # expected, row by row in plain Python: each maker's rows by quarter
    expected: dict[str, list] = defaultdict(list)
    for maker, quarter, stage in sorted(stages.itertuples(index=False), key=lambda row: (row[0], row[1])):
        expected[maker].append((quarter.strftime("%Y-%m-%d"), stage))
    current, history = graphs.stage_lists(stages)
    assert history.to_dict() == dict(expected)
    assert current.to_dict() == {maker: pairs[-1][1] for maker, pairs in expected.items()}


def two_makers(days_apart: float) -> pd.DataFrame:
    start = pd.Timestamp("2024-01-10T12:00:00Z")
    return pd.DataFrame(
        {
            "ts": [start, start + pd.Timedelta(days=days_apart)],
            "maker": ["1", "2"],
            "org": "o",
            "repo": "o/r",
            "kind": "comment",
            "is_bot": False,
        }
    )


@pytest.mark.parametrize(("days", "linked"), [(1, True), (89, True), (90, True), (90.001, False), (91, False), (400, False)])
def test_projection_window(days: float, linked: bool) -> None:
    projection = maker_projection(two_makers(days), window_days=90)
    assert set(projection.nodes) == {"maker:1", "maker:2"}
    assert projection.has_edge("maker:1", "maker:2") is linked


def brute_force_pairs(events: pd.DataFrame, window_days: float) -> Counter:
    times = defaultdict(list)
    for row in events.itertuples():
        if not row.is_bot:
            times[row.repo].append((row.maker, row.ts))
    linked = set()
    for repo, acts in times.items():
        for (m1, t1), (m2, t2) in combinations(acts, 2):
            if m1 != m2 and abs(t1 - t2) <= pd.Timedelta(days=window_days):
                linked.add((repo, *sorted((f"maker:{m1}", f"maker:{m2}"))))
    return Counter((a, b) for _, a, b in linked)


@pytest.mark.parametrize("seed", [3, 4, 5])
@pytest.mark.parametrize("window", [30, 90])
def test_maker_pairs_equal_brute_force(seed: int, window: int, monkeypatch: pytest.MonkeyPatch) -> None:
    if seed == 5:  # candidates handled a few at a time give the same answer
        monkeypatch.setattr(graphs, "PAIR_CHUNK", 7)
    events = random_events(seed, n=300, makers=40, days=900)
    expected = brute_force_pairs(events, window)
    pairs = maker_pairs(events, window)
    found = {(a, b): w for a, b, w in zip(pairs["a"], pairs["b"], pairs["weight"], strict=True)}
    assert found == dict(expected)
    # From the bipartite graph the projection keeps exact times.
    projection = maker_projection(maker_project_graph(events), window)
    assert {tuple(sorted(edge)): data["weight"] for *edge, data in projection.edges(data=True)} == dict(expected)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 6), st.integers(0, 400 * 24)), min_size=1, max_size=40),
    st.integers(1, 120),
)
def test_windowed_pairs_property(acts: list[tuple[int, int, int]], window: int) -> None:
    group = np.array([g for g, _, _ in acts])
    entity = np.array([e for _, e, _ in acts])
    hours = np.array([h for _, _, h in acts], dtype=np.int64)
    expected = {
        (g1, min(e1, e2), max(e1, e2))
        for (g1, e1, h1), (g2, e2, h2) in combinations(acts, 2)
        if g1 == g2 and e1 != e2 and abs(h1 - h2) <= window * 24
    }
    found = graphs.windowed_pairs(group, entity, hours * 3600 * 10**9, window_days=window)
    assert set(zip(found["group"], found["a"], found["b"], strict=True)) == expected
    assert len(found) == len(expected)


def test_projection_of_a_plain_graph_uses_edge_spans() -> None:
    graph = nx.Graph()
    graph.add_node("maker:a", kind="maker")
    graph.add_node("maker:b", kind="maker")
    graph.add_node("maker:c", kind="maker")
    graph.add_node("repo:o/r", kind="repo")
    graph.add_edge("maker:a", "repo:o/r", first="2020-01-01", last="2021-01-01")
    graph.add_edge("maker:b", "repo:o/r", first="2021-03-31", last="2021-04-02")  # 89 days after a's last
    graph.add_edge("maker:c", "repo:o/r", first="2021-07-01", last="2021-07-01")  # 90 days after b's last
    projection = maker_projection(graph, window_days=90)
    assert sorted(tuple(sorted(e)) for e in projection.edges) == [("maker:a", "maker:b"), ("maker:b", "maker:c")]


def test_project_projection_counts_shared_makers() -> None:
    events = random_events(6)
    people = events[~events["is_bot"]]
    repos_of = people.groupby("maker")["repo"].apply(set)
    expected: Counter = Counter()
    for repos in repos_of:
        for a, b in combinations(sorted(repos), 2):
            expected[(f"repo:{a}", f"repo:{b}")] += 1
    for source in (events, maker_project_graph(events)):
        projection = project_projection(source)
        found = {tuple(sorted(edge)): data["weight"] for *edge, data in projection.edges(data=True)}
        assert found == dict(expected)
        assert all(data["kind"] == "repo" for _, data in projection.nodes(data=True))


def test_core_by_degree_eighty_percent_rule() -> None:
    # Degrees: a 4, b 2, c 1, d 1, e 0 -> total 8, 80% = 6.4: a + b = 6 < 6.4, + c = 7.
    graph = nx.Graph([("a", "b"), ("a", "c"), ("a", "d"), ("a", "x")])
    graph.add_node("e")
    graph.add_edge("b", "x")
    degrees = dict(graph.degree())
    assert degrees == {"a": 4, "b": 2, "c": 1, "d": 1, "x": 2, "e": 0}
    # Total 10, 80% = 8: a (4) + b (2, ties with x, b first) + x (2) = 8.
    assert core_by_degree(graph) == ["a", "b", "x"]
    assert core_by_degree(graph, share=0.5) == ["a", "b"]


def test_commits_that_came_in_through_a_pr_add_no_activity() -> None:
    events = two_makers(10)
    extra = events.iloc[[0]].assign(kind="commit", action=False)  # a commit of maker 1's PR
    events = pd.concat([events.assign(action=True), extra, extra.assign(maker="3")], ignore_index=True)
    graph = maker_project_graph(events)
    assert "maker:3" not in graph  # only commits through someone's PR: no action of their own
    assert graph.nodes["maker:1"]["activity"] == 1
    assert "n_commit" not in graph.edges["maker:1", "repo:o/r"]
    assert "maker:3" not in maker_projection(events)
