"""Benchmark of the graph stage and the stats: maker-project graph, both projections, the
network core and every stats figure on a synthetic events frame (default 1,000,000 events,
about 50,000 makers and 5,000 repos, heavy-tailed like real activity), timed against a
baseline in the same run: one plain pandas groupby pass over the same events.

    python bench/bench_graph.py [--events N] [--makers M] [--repos R] [--seed S]

Prints each step's wall time, the process's peak memory (RSS) and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import rss_mb, synthetic_events, synthetic_milestones, timed  # noqa: E402

from graphminer import graph as graphs  # noqa: E402
from graphminer import stats as figures  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--makers", type=int, default=50_000)
    parser.add_argument("--repos", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    results: dict[str, float] = {}
    print(f"synthesising {args.events:,} events, {args.makers:,} makers, {args.repos:,} repos", flush=True)
    events = timed("synthesise events", results, lambda: synthetic_events(args.events, args.makers, args.repos, args.seed))
    milestones = timed("synthesise milestones", results, lambda: synthetic_milestones(events, args.seed))
    as_of = events["ts"].max()
    stages = events.assign(quarter=events["ts"].dt.tz_localize(None).dt.to_period("Q").dt.start_time.dt.tz_localize("UTC"))
    stages = stages.drop_duplicates(["maker", "quarter"])[["maker", "quarter"]].assign(stage="contributor")
    print(f"  rows {len(events):,}, stage rows {len(stages):,}; RSS before the work {rss_mb():.0f} MB")

    print("baseline")
    timed("baseline: groupby(maker, repo) pass", results,
          lambda: events.groupby(["maker", "repo"])["ts"].agg(["min", "max", "size"]))
    print("graph stage")
    bipartite = timed("maker_project_graph", results, lambda: graphs.maker_project_graph(events, stages))
    pairs = timed("maker_pairs (90-day window)", results, lambda: graphs.maker_pairs(events, 90))
    core = timed("core_by_degree", results, lambda: graphs.core_by_degree(pairs))
    project_pairs = timed("project_pairs", results, lambda: graphs.project_pairs(bipartite))
    print("stats")
    summary = timed("stats.summarise (network)", results, lambda: figures.summarise(events, milestones, as_of))
    one_org = events["org"].value_counts().index[0]
    org_milestones = milestones.loc[milestones.index.isin(events.loc[events["org"] == one_org, "maker"].unique())]
    timed(f"stats.summarise (org {one_org})", results,
          lambda: figures.summarise(events, org_milestones, as_of, org=one_org))
    peak_before_networkx = rss_mb()
    print("projections as networkx graphs (what exports of a projection pay)")
    projects_graph = timed("project_projection (networkx)", results, lambda: graphs.project_projection(bipartite))
    makers_graph = timed("maker_projection (networkx)", results, lambda: graphs.maker_projection(bipartite, 90))

    work = sum(results[k] for k in results if not k.startswith(("synthesise", "baseline")) and "networkx" not in k)
    with_networkx = sum(results[k] for k in results if "networkx" in k)
    baseline = results["baseline: groupby(maker, repo) pass"]
    print("\nresults")
    print(f"  bipartite: {bipartite.number_of_nodes():,} nodes, {bipartite.number_of_edges():,} edges")
    print(f"  maker projection: {makers_graph.number_of_edges():,} edges ({len(pairs):,} pairs); "
          f"project projection: {projects_graph.number_of_edges():,} edges ({len(project_pairs):,} pairs)")
    print(f"  network core {len(core):,} makers; core overlap {summary['core']}")
    print(f"  graph + projections + stats: {work:.2f} s wall; baseline {baseline:.2f} s; "
          f"ratio {work / baseline:.1f}x")
    print(f"  peak memory (RSS, whole process incl. synthesis): {peak_before_networkx:.0f} MB before the "
          f"networkx projections, {rss_mb():.0f} MB after")
    print(f"  building both projections as networkx graphs: {with_networkx:.2f} s more")


if __name__ == "__main__":
    main()
