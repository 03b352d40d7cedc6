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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import synthetic_events, synthetic_milestones, timed  # noqa: E402

from graphminer import graph as graphs  # noqa: E402
from graphminer import stats  # noqa: E402
from graphminer.config import parse_config  # noqa: E402
from graphminer.export import exportable_graph, write_gexf  # noqa: E402
from graphminer.milestones import KEYS as MILESTONES  # noqa: E402
from graphminer.report import ReportInputs, write_report  # noqa: E402


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
