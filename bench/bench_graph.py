"""Benchmark of the graph stage and the stats: maker-project graph, both projections, the
network core and every stats figure on a synthetic events frame (default 1,000,000 events,
about 50,000 makers and 5,000 repos, heavy-tailed like real activity), timed against a
baseline in the same run: one plain pandas groupby pass over the same events.

    python bench/bench_graph.py [--events N] [--makers M] [--repos R] [--seed S]

Prints each step's wall time, the process's peak memory (RSS) and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphminer import graph as graphs  # noqa: E402
from graphminer import stats as figures  # noqa: E402

KINDS = ["commit", "pr_opened", "pr_merged", "comment", "review_comment", "review", "issue_event",
         "issue_opened", "merge_performed", "release"]
KIND_SHARES = [0.25, 0.1, 0.08, 0.25, 0.05, 0.07, 0.12, 0.06, 0.015, 0.005]
MILESTONE_KEYS = [
    "first_contact", "first_issue", "first_comment", "first_pr", "first_landed", "returning",
    "long_term", "maintainer", "triager", "reviewer", "core", "creator", "organiser",
    "coder_to_organiser", "repo_bridge", "org_bridge", "inactive", "gone", "returned",
]
START = pd.Timestamp("2014-01-01", tz="UTC")
YEARS = 10


def synthetic_events(n_events: int, n_makers: int, n_repos: int, seed: int) -> pd.DataFrame:
    """Events with heavy-tailed makers and repos, each maker active over a career window."""
    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.2, n_makers) + 1
    per_maker = np.maximum(1, np.round(weights / weights.sum() * n_events)).astype(np.int64)
    per_maker[np.argmax(per_maker)] += n_events - per_maker.sum()
    maker = np.repeat(np.arange(n_makers), per_maker)
    n = len(maker)
    career_start = rng.uniform(0, YEARS * 365, n_makers)
    career_days = np.minimum(rng.exponential(300, n_makers) + 1, YEARS * 365)
    day = career_start[maker] + rng.uniform(0, 1, n) * career_days[maker]
    day = np.minimum(day, YEARS * 365 - 1)
    popularity = 1.0 / np.arange(1, n_repos + 1) ** 0.9
    popularity /= popularity.sum()
    home = rng.choice(n_repos, n_makers, p=popularity)
    other = rng.choice(n_repos, n, p=popularity)
    repo = np.where(rng.uniform(0, 1, n) < 0.75, home[maker], other)
    org = repo % max(1, n_repos // 50)
    kind = rng.choice(len(KINDS), n, p=KIND_SHARES)
    maker_names = pd.Index([f"{i + 1000}" for i in range(n_makers)], dtype=str)
    org_names = pd.Index([f"org{i}" for i in range(org.max() + 1)], dtype=str)
    repo_names = pd.Index([f"org{r % max(1, n_repos // 50)}/repo{r}" for r in range(n_repos)], dtype=str)
    events = pd.DataFrame({
        "ts": START + pd.to_timedelta(np.round(day * 86400).astype(np.int64), unit="s"),
        "maker": pd.Categorical.from_codes(maker, maker_names).astype(str),
        "org": pd.Categorical.from_codes(org, org_names).astype(str),
        "repo": pd.Categorical.from_codes(repo, repo_names).astype(str),
        "kind": pd.Categorical.from_codes(kind, pd.Index(KINDS, dtype=str)).astype(str),
        "is_bot": maker < n_makers // 500,
        "action": ~((kind == 0) & (rng.uniform(0, 1, n) < 0.4)),  # commits through PRs
    })
    return events.sort_values("ts", kind="stable", ignore_index=True)


def synthetic_milestones(events: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A milestones frame in the contract's shape: real first_contact/first_landed from the
    events, later milestones at plausible random offsets (the trajectory rules are
    benchmarked in bench_trajectory.py; this one times the stats over their output)."""
    rng = np.random.default_rng(seed)
    people = events[~events["is_bot"] & events["action"]]
    first = people.groupby("maker")["ts"].min()
    landed = people[people["kind"].isin(["pr_merged", "commit"])].groupby("maker")["ts"].min()
    frame = pd.DataFrame(index=first.index)
    for key in MILESTONE_KEYS:
        frame[key] = pd.Series(pd.NaT, index=first.index, dtype="datetime64[ns, UTC]")
    frame["first_contact"] = first
    frame["first_landed"] = landed.reindex(first.index)
    for key, chance, mean_days in [("returning", 0.5, 60), ("long_term", 0.15, 500), ("maintainer", 0.1, 300),
                                   ("core", 0.05, 400), ("organiser", 0.08, 200), ("org_bridge", 0.1, 250),
                                   ("reviewer", 0.2, 150), ("inactive", 0.7, 200)]:
        base = frame["first_landed"] if key in ("returning", "long_term", "core") else frame["first_contact"]
        hit = rng.uniform(0, 1, len(frame)) < chance
        offset = pd.to_timedelta(rng.exponential(mean_days, len(frame)), unit="D")
        frame[key] = (base + offset).where(hit & base.notna())
    return frame


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, results: dict, action):
    started = time.perf_counter()
    value = action()
    results[label] = time.perf_counter() - started
    print(f"  {label:<34} {results[label]:7.2f} s   peak RSS so far {rss_mb():7.0f} MB", flush=True)
    return value


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
