"""`graphminer stats` and the Python API end to end: a generated world served by the real
fakehub process, harvested over HTTP into a real SQLite store, then read back.

Expected figures come from elsewhere than graphminer.stats: the generator's truth.json,
the `makers --json` command's milestones fed to a plain-Python Kaplan-Meier written here,
and counts taken straight from the store with SQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from columnar_support import graph_difference
from harvest_support import cli, harvest_generated

from graphminer.api import open_store
from graphminer.config import parse_config
from graphminer.errors import BadInput
from graphminer.graph import maker_project_graph


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("stats-world")
    made, store, orgs = harvest_generated(folder, seed=23, orgs=3, repos_per_org=2, makers=70, years=3)
    truth = json.loads(Path(made["truths"][0]).read_text("utf-8"))
    stats = cli("stats", "--store", str(store), "--as-of", truth["as_of"], "--json", cwd=folder)
    assert stats.returncode == 0, stats.stderr[-3000:]
    makers = cli("makers", "--store", str(store), "--as-of", truth["as_of"], "--json", cwd=folder)
    assert makers.returncode == 0, makers.stderr[-3000:]
    return {"folder": folder, "store": store, "orgs": orgs, "truth": truth,
            "stats": json.loads(stats.stdout), "makers": json.loads(makers.stdout)}


def when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def plain_km_median(durations: list[tuple[float, bool]]) -> float | None:
    """Kaplan-Meier median written the textbook way, one time at a time."""
    survival = 1.0
    for time in sorted({d for d, _ in durations}):
        at_risk = sum(1 for d, _ in durations if d >= time)
        events = sum(1 for d, seen in durations if d == time and seen)
        if events:
            survival *= 1 - events / at_risk
            if survival <= 0.5 + 1e-12:
                return time
    return None


def test_funnel_agrees_with_ground_truth(world: dict) -> None:
    stats, truth = world["stats"], world["truth"]
    assert stats["rules_version"] == truth["rules_version"] == "5"
    assert stats["as_of"] == truth["as_of"]
    people = [m for m in truth["makers"].values() if not m["is_bot"] and not m["role_account"]
              and m["milestones"].get("first_contact")]
    assert stats["makers"] == len(people)
    # committers (rules version 4) are shown beside maintainers, with the step between them
    keys = list(stats["funnel"]["counts"])
    assert keys.index("committer") + 1 == keys.index("maintainer")
    assert stats["funnel"]["counts"]["committer"] > 0
    assert {("first_landed", "committer"), ("committer", "maintainer")} <= {
        (row["from"], row["to"]) for row in stats["funnel"]["conversions"]}
    for key, n in stats["funnel"]["counts"].items():
        expected = sum(1 for m in people if m["milestones"].get(key))
        # The rules match truth on >= 99.5% of (maker, milestone) pairs (issue #5).
        assert abs(n - expected) <= max(1, 0.02 * expected), (key, n, expected)


def test_funnel_and_times_agree_with_makers_command(world: dict) -> None:
    stats, listing = world["stats"], world["makers"]
    as_of = when(world["truth"]["as_of"])
    people = [m for m in listing if not m["is_bot"] and not m["role_account"]
              and m["milestones"].get("first_contact")]
    counts = Counter(key for m in people for key, at in m["milestones"].items() if at)
    assert stats["makers"] == len(people)
    for key, n in stats["funnel"]["counts"].items():
        assert n == counts[key], key
    landed_then_returning = sum(1 for m in people if m["milestones"]["first_landed"] and m["milestones"]["returning"])
    row = next(r for r in stats["funnel"]["conversions"] if (r["from"], r["to"]) == ("first_landed", "returning"))
    assert (row["makers_from"], row["makers_both"]) == (counts["first_landed"], landed_then_returning)

    for target in ("first_landed", "returning", "maintainer", "organiser", "inactive"):
        durations = []
        for m in people:
            start, end = when(m["milestones"]["first_contact"]), when(m["milestones"][target])
            stop = end if end else as_of
            durations.append((max(0.0, (stop - start) / timedelta(days=1)), end is not None))
        expected = plain_km_median(durations)
        found = stats["time_to"]["from_first_contact"][target]
        assert found["reached"] == sum(1 for _, seen in durations if seen)
        assert found["median_days"] == (round(expected, 2) if expected is not None else None), target


def test_cohorts_and_paths_agree_with_makers_command(world: dict) -> None:
    stats, listing = world["stats"], world["makers"]
    people = [m for m in listing if not m["is_bot"] and not m["role_account"]
              and m["milestones"].get("first_contact")]
    years = Counter(when(m["milestones"]["first_contact"]).year for m in people)
    assert {row["year"]: row["makers"] for row in stats["cohorts"]} == dict(years)
    assert sum(row["makers"] for row in stats["paths"]) <= len(people)
    top = stats["paths"][0]
    assert top["path"][0] == "first_contact"
    assert top["makers"] >= max(row["makers"] for row in stats["paths"])


def test_bridges_match_org_bridge_milestones(world: dict) -> None:
    # A maker bridges two orgs exactly when they have the network org_bridge milestone.
    stats, listing = world["stats"], world["makers"]
    bridging = sum(1 for m in listing if not m["is_bot"] and m["milestones"].get("org_bridge"))
    pair_counts = [row["makers"] for row in stats["bridges"]]
    assert len(world["orgs"]) == 3 and len(pair_counts) <= 3
    if bridging:
        assert max(pair_counts) <= bridging <= sum(pair_counts)
    else:
        assert pair_counts == []
    core = stats["core"]
    assert core["count_based"] == stats["funnel"]["counts"]["core"]
    assert core["both"] <= min(core["count_based"], core["network_based"])


def test_org_stats_and_bad_input(world: dict) -> None:
    org = world["orgs"][0]
    done = cli("stats", "--store", str(world["store"]), "--org", org.upper(), "--as-of",
               world["truth"]["as_of"], "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["scope"] == "org" and figures["org"] == org.lower()
    conn = sqlite3.connect(world["store"])
    repos = {row[0] for row in conn.execute(
        "SELECT r.full_name FROM repos r JOIN orgs o ON o.id = r.org_id WHERE lower(o.login) = ?", (org.lower(),))}
    conn.close()
    assert figures["repos"] <= len(repos)
    assert 0 < figures["makers"] <= world["stats"]["makers"]
    assert all(org.lower() in row["orgs"] for row in figures["bridges"])

    text = cli("stats", "--store", str(world["store"]), "--org", org)
    assert text.returncode == 0 and f"Stats for org {org.lower()}" in text.stdout

    unknown = cli("stats", "--store", str(world["store"]), "--org", "no-such-org")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "no-such-org" in unknown.stderr and org.lower() in unknown.stderr
    bad_date = cli("stats", "--store", str(world["store"]), "--as-of", "last tuesday")
    assert bad_date.returncode == 2 and "Traceback" not in bad_date.stderr and "--as-of" in bad_date.stderr
    missing = cli("stats", "--store", str(world["folder"] / "nope.sqlite"))
    assert missing.returncode == 2 and "no store" in missing.stderr


def test_python_api(world: dict) -> None:
    config = parse_config("", source="test", base_dir=world["folder"])
    as_of = world["truth"]["as_of"]
    with open_store(world["store"], config) as store:
        events = store.events
        assert {"ts", "maker", "org", "repo", "kind"} <= set(events.columns)
        network = store.milestones(as_of=as_of)
        assert network.index.name == "maker"
        by_org = store.milestones(scope="org", as_of=as_of)
        assert list(by_org.index.names) == ["maker", "org"]
        stages = store.stages(as_of=as_of)
        assert {"maker", "quarter", "stage"} <= set(stages.columns)

        bipartite = store.graph(as_of=as_of)
        actions = events[events["action"] & ~events["is_bot"] & (events["ts"] <= as_of)]
        assert bipartite.number_of_nodes() == actions["maker"].nunique() + actions["repo"].nunique()
        assert bipartite.number_of_edges() == len(actions[["maker", "repo"]].drop_duplicates())
        assert nx.is_bipartite(bipartite)
        labelled = [d for _, d in bipartite.nodes(data=True) if d["kind"] == "maker" and d["stage"]]
        assert labelled, "makers carry their current stage"
        truth_logins = {m["login"] for m in world["truth"]["makers"].values() if m["login"]}
        assert {d["label"] for _, d in bipartite.nodes(data=True) if d["kind"] == "maker"} & truth_logins

        makers_graph = store.graph(projection="makers", as_of=as_of)
        assert set(makers_graph.nodes) == {n for n, d in bipartite.nodes(data=True) if d["kind"] == "maker"}
        projects_graph = store.graph(projection="projects", as_of=as_of)
        assert projects_graph.number_of_nodes() == actions["repo"].nunique()
        with pytest.raises(BadInput, match="projection"):
            store.graph(projection="nope")
        assert store.stats(as_of=as_of) == world["stats"]


def test_graph_is_the_columnar_engines_and_the_same_as_the_events_frames(world: dict) -> None:
    """store.graph() (and so a whole bipartite export) reads the columnar copy the harvest's
    refresh left, without the events frame, and gives graphminer.graph's graph of the
    events frame, node for node and attribute for attribute, bots in or out."""
    config = parse_config("", source="test", base_dir=world["folder"])
    as_of = world["truth"]["as_of"]
    with open_store(world["store"], config) as store:
        assert store.reader.columnar is not None, "the harvest's refresh left a fresh copy"
        ours = {bots: store.graph(as_of=as_of, include_bots=bots) for bots in (False, True)}
        assert "events" not in store.reader.__dict__, "the graph was made without the events frame"
        events = store.events
        events = events[events["ts"] <= pd.Timestamp(as_of)]
        stages = store.stages(as_of=as_of)
        for bots, graph in ours.items():
            expected = maker_project_graph(events, stages, labels=store.reader.labels, include_bots=bots)
            assert graph.number_of_nodes() > 10
            assert graph_difference(expected, graph) is None
        assert ours[True].number_of_nodes() > ours[False].number_of_nodes(), "the world has bots acting"


def iso_or_none(value) -> str | None:
    return None if value is None or value != value else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_python_api_and_cli_give_the_same_answers_at_the_default_as_of(world: dict) -> None:
    """No --as-of anywhere: the notebook's Store and the commands read the store through
    one reader (graphminer.reader), so as_of, milestones, stages and stats agree."""
    folder, store_path = world["folder"], str(world["store"])
    stats = json.loads(cli("stats", "--store", store_path, "--json", cwd=folder).stdout)
    listing = json.loads(cli("makers", "--store", store_path, "--json", cwd=folder).stdout)
    config = parse_config("", source="test", base_dir=folder)
    with open_store(world["store"], config) as store:
        as_of = iso_or_none(store.as_of)
        ended = sqlite3.connect(store_path).execute("SELECT MAX(ended_at) FROM _runs").fetchone()[0]
        assert as_of == ended  # the default as_of is the end of the last harvest
        assert stats["as_of"] == as_of and {m["as_of"] for m in listing} == {as_of}
        assert store.stats() == stats
        network = store.milestones()
        current = store.stages().sort_values("quarter").drop_duplicates("maker", keep="last")
        current = current.set_index("maker")["stage"]
        people = [m for m in listing if not m["is_bot"] and not m["role_account"]]
        assert len(people) == len(network) > 10
        for maker in people:
            row = network.loc[maker["key"]]
            assert maker["milestones"] == {key: iso_or_none(row[key]) for key in network.columns}
            assert maker["stage"] == current.get(maker["key"])
        # one maker's trajectory through the command, against the same Store
        busiest = max(people, key=lambda m: sum(m["counts"].values()))
        done = cli("trajectory", busiest["login"] or busiest["key"], "--store", store_path, "--json",
                   cwd=folder)
        answer = json.loads(done.stdout)
        assert answer["as_of"] == as_of
        assert answer["milestones"] == busiest["milestones"]
        stages = store.stages()
        own = stages[stages["maker"] == busiest["key"]].sort_values("quarter")
        assert [s["stage"] for s in answer["stages"]] == own["stage"].tolist()
