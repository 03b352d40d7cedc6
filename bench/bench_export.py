"""Benchmark of the exports and the report on a network the size of Code for All's
(default 1,000,000 events, 50,000 makers, 5,000 repos: about 55,000 nodes), synthesised
with numpy (heavy-tailed makers and repos, careers of a few months to years).

Figures (targets from issue #6): GEXF export of the graph <= 20 s, the report <= 60 s.
Baselines timed in the same run: networkx's own ``write_gexf`` of the same graph (which
writes no stage history and fails the official schema), and ``graphminer.stats.summarise``
(the figures the report draws, without drawing them).

    python bench/bench_export.py [--events N] [--makers M] [--repos R] [--seed S] [--out DIR]
    python bench/bench_export.py --store FILE [--out DIR]

Milestones and stages are synthesised too (the trajectory rules have their own bench): the
report and export time here starts from the events, milestones and stages frames.
With ``--store`` (for instance the store bench/bench_trajectory.py fills from a generated
1,000,000-event world), the commands are timed end to end instead, as a user runs them:
``graphminer export gexf`` and ``graphminer report``, each a fresh process that loads the
events and runs the trajectory rules, against ``graphminer stats`` on the same store.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphminer import graph as graphs  # noqa: E402
from graphminer import stats  # noqa: E402
from graphminer.config import parse_config  # noqa: E402
from graphminer.export import exportable_graph, write_gexf  # noqa: E402
from graphminer.report import ReportInputs, write_report  # noqa: E402
from graphminer.trajectory import MILESTONES  # noqa: E402

KINDS = ["commit", "pr_opened", "pr_merged", "comment", "review_comment", "review", "issue_event",
         "issue_opened", "merge_performed", "release"]
KIND_SHARES = [0.25, 0.1, 0.08, 0.25, 0.05, 0.07, 0.12, 0.06, 0.015, 0.005]
START = pd.Timestamp("2014-01-01", tz="UTC")
YEARS = 10


def synthetic_events(n_events: int, n_makers: int, n_repos: int, seed: int) -> pd.DataFrame:
    """Events in docs/events.md's shape: heavy-tailed makers and repos, career windows."""
    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.2, n_makers) + 1
    per_maker = np.maximum(1, np.round(weights / weights.sum() * n_events)).astype(np.int64)
    per_maker[np.argmax(per_maker)] += max(0, n_events - per_maker.sum())
    maker = np.repeat(np.arange(n_makers), per_maker)
    n = len(maker)
    career_start = rng.uniform(0, YEARS * 365, n_makers)
    career_days = np.minimum(rng.exponential(300, n_makers) + 1, YEARS * 365)
    day = np.minimum(career_start[maker] + rng.uniform(0, 1, n) * career_days[maker], YEARS * 365 - 1)
    popularity = 1.0 / np.arange(1, n_repos + 1) ** 0.9
    popularity /= popularity.sum()
    home = rng.choice(n_repos, n_makers, p=popularity)
    repo = np.where(rng.uniform(0, 1, n) < 0.75, home[maker], rng.choice(n_repos, n, p=popularity))
    n_orgs = max(1, n_repos // 25)
    kind = rng.choice(len(KINDS), n, p=KIND_SHARES)
    maker_names = pd.Index([str(i + 1000) for i in range(n_makers)], dtype=object)
    repo_names = pd.Index([f"org{r % n_orgs}/repo{r}" for r in range(n_repos)], dtype=object)
    events = pd.DataFrame({
        "ts": START + pd.to_timedelta(np.round(day * 86400).astype(np.int64), unit="s"),
        "maker": maker_names[maker].to_numpy(),
        "org": np.asarray([f"org{i}" for i in range(n_orgs)], dtype=object)[repo % n_orgs],
        "repo": repo_names[repo].to_numpy(),
        "kind": np.asarray(KINDS, dtype=object)[kind],
        "target": "issue:1", "target_author": None, "details": "{}",
        "is_bot": False,
    })
    events["ts"] = events["ts"].dt.as_unit("ns")
    return events.sort_values("ts", kind="stable", ignore_index=True)


def synthetic_milestones(events: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Network-scope milestones: real first_contact/first_landed, later ones at random offsets."""
    rng = np.random.default_rng(seed)
    first = events.groupby("maker")["ts"].min()
    landed = events[events["kind"].isin(["pr_merged", "commit"])].groupby("maker")["ts"].min()
    frame = pd.DataFrame({key: pd.Series(pd.NaT, index=first.index, dtype="datetime64[ns, UTC]")
                          for key in MILESTONES})
    frame["first_contact"] = first
    frame["first_landed"] = landed.reindex(first.index)
    for key, chance, mean_days in [("returning", 0.5, 60), ("long_term", 0.15, 500), ("maintainer", 0.1, 300),
                                   ("core", 0.05, 400), ("organiser", 0.08, 200), ("org_bridge", 0.1, 250),
                                   ("reviewer", 0.2, 150), ("inactive", 0.7, 200)]:
        base = frame["first_landed"] if key in ("returning", "long_term", "core") else frame["first_contact"]
        hit = rng.uniform(0, 1, len(frame)) < chance
        offset = pd.to_timedelta(rng.exponential(mean_days, len(frame)), unit="D")
        frame[key] = (base + offset).where(hit & base.notna())
    frame.index.name = "maker"
    return frame


def synthetic_stages(events: pd.DataFrame, milestones: pd.DataFrame) -> pd.DataFrame:
    """One row per maker per active quarter, the stage read from the milestones."""
    quarters = events["ts"].dt.tz_localize(None).dt.to_period("Q").dt.start_time.dt.tz_localize("UTC")
    grid = pd.DataFrame({"maker": events["maker"], "quarter": quarters}).drop_duplicates()
    ends = grid["quarter"] + pd.DateOffset(months=3)
    ms = milestones.reindex(grid["maker"].to_numpy())
    stage = np.select(
        [ms["core"].to_numpy() < ends.to_numpy(), ms["maintainer"].to_numpy() < ends.to_numpy(),
         ms["returning"].to_numpy() < ends.to_numpy(), ms["first_landed"].to_numpy() < ends.to_numpy()],
        ["core", "maintainer", "returning", "contributor"], default="participant")
    return grid.assign(stage=stage, organiser=False, bridge=False, state="active").reset_index(drop=True)


def org_milestones(events: pd.DataFrame, milestones: pd.DataFrame) -> pd.DataFrame:
    frame = events.groupby(["maker", "org"])["ts"].min().rename("first_contact").to_frame()
    makers = frame.index.get_level_values("maker")
    for key in MILESTONES[1:]:
        frame[key] = milestones[key].reindex(makers).to_numpy()
    return frame


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, results: dict, action):
    started = time.perf_counter()
    value = action()
    results[label] = time.perf_counter() - started
    print(f"  {label:<44} {results[label]:7.2f} s   peak RSS {rss_mb():6.0f} MB", flush=True)
    return value


def networkx_gexf(graph: nx.Graph, path: Path) -> None:
    plain = nx.Graph()
    plain.add_nodes_from((n, {k: v for k, v in a.items() if k != "stages"}) for n, a in graph.nodes(data=True))
    plain.add_edges_from(graph.edges(data=True))
    nx.write_gexf(plain, path)


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def end_to_end(store: Path, out: Path) -> None:
    """Time the export and report commands on a real store, against `graphminer stats`."""
    graphminer = [sys.executable, "-m", "graphminer"]
    print(f"end to end on {store}")
    stats_s = wall([*graphminer, "stats", "--store", str(store), "--json"])
    print(f"  baseline: graphminer stats --json        {stats_s:7.2f} s")
    gexf_s = wall([*graphminer, "export", "gexf", str(out / "store.gexf"), "--store", str(store)])
    print(f"  graphminer export gexf                    {gexf_s:7.2f} s")
    report_s = wall([*graphminer, "report", str(out / "store-report"), "--store", str(store)])
    print(f"  graphminer report                         {report_s:7.2f} s")
    print(f"export gexf {gexf_s:.2f} s (ratio to stats {gexf_s / stats_s:.2f}); "
          f"report {report_s:.2f} s (ratio to stats {report_s / stats_s:.2f}); files in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--makers", type=int, default=50_000)
    parser.add_argument("--repos", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="keep the files here (default: a temp folder)")
    parser.add_argument("--store", type=Path, default=None, help="time the commands end to end on this store")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-export-"))
    out.mkdir(parents=True, exist_ok=True)
    if args.store:
        end_to_end(args.store, out)
        return
    results: dict[str, float] = {}

    print(f"synthesising {args.events:,} events, {args.makers:,} makers, {args.repos:,} repos", flush=True)
    events = timed("synthesise events", results, lambda: synthetic_events(args.events, args.makers, args.repos, args.seed))
    milestones = timed("synthesise milestones", results, lambda: synthetic_milestones(events, args.seed))
    stages = timed("synthesise stages", results, lambda: synthetic_stages(events, milestones))
    org_ms = timed("synthesise org milestones", results, lambda: org_milestones(events, milestones))
    as_of = events["ts"].max()
    graph = timed("maker_project_graph (graph.py)", results, lambda: graphs.maker_project_graph(events, stages))
    print(f"  graph: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges")

    print("GEXF")
    timed("baseline: networkx write_gexf", results, lambda: networkx_gexf(graph, out / "networkx.gexf"))

    def ours() -> None:
        safe = exportable_graph(graph, key=b"bench")
        write_gexf(safe, out / "graph.gexf")

    timed("graphminer GEXF (privacy pass + write)", results, ours)
    size = (out / "graph.gexf").stat().st_size / 1e6
    print(f"  graph.gexf {size:.0f} MB, networkx.gexf {(out / 'networkx.gexf').stat().st_size / 1e6:.0f} MB")

    print("report")
    config = parse_config("", source="bench", base_dir=out)
    inputs = ReportInputs(events=events, milestones=milestones, org_milestones=org_ms, stages=stages,
                          as_of=as_of, labels={}, config=config)
    timed("baseline: stats.summarise (figures only)", results,
          lambda: stats.summarise(events, milestones, as_of, config))
    timed("graphminer report (200 maker pages)", results, lambda: write_report(out / "report", inputs, 200))

    gexf, gexf_base = results["graphminer GEXF (privacy pass + write)"], results["baseline: networkx write_gexf"]
    report, report_base = results["graphminer report (200 maker pages)"], results["baseline: stats.summarise (figures only)"]
    print()
    print(f"GEXF export   {gexf:6.2f} s (target <= 20 s: {'ok' if gexf <= 20 else 'MISSED'}); "
          f"networkx write_gexf {gexf_base:.2f} s; ratio ours/networkx {gexf / gexf_base:.2f}")
    print(f"report        {report:6.2f} s (target <= 60 s: {'ok' if report <= 60 else 'MISSED'}); "
          f"stats.summarise {report_base:.2f} s; ratio report/summarise {report / report_base:.2f}")
    print(f"files in {out}")


if __name__ == "__main__":
    main()
