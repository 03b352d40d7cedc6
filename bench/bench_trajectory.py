"""Benchmark of the trajectory stage on a store holding a generated world of about
1,000,000 events (about 50,000 makers, 5,000 repos):

1. events + milestones + stages + graph, wall time and peak memory (goal: <= 30 s,
   <= 3 GB), against a baseline in the same process: one plain pandas groupby-min pass
   over the same events; and against an earlier rules version in the same run (goal:
   events + milestones + stages within 1.2x): the same phase of an earlier checkout
   (``--baseline-src``, default ``git archive`` of ``--baseline-ref`` unpacked in the
   workdir; ``--baseline-ref 056d39d`` is rules version 3, before issue 19) on a copy of the
   same store, in its own process, alternating with this version's runs (``--rounds``, the
   fastest of each counts);
2. ``precompute.refresh`` (what runs after each harvest), wall time;
3. ``graphminer trajectory LOGIN`` wall time, process start included (goal: <= 0.5 s),
   against ``python -c pass``.

    python bench/bench_trajectory.py [--makers 50000] [--repos-per-org 100] [--orgs 50]
                                     [--years 6] [--seed 42] [--workdir bench/cache/trajectory]
                                     [--baseline-src PATH] [--baseline-ref main] [--rounds 2]

The world is generated with ``graphminer fakehub generate --no-truth`` and written
straight into a store by the tests' world loader (tests/test_events_support.py), which
fills the same columns the harvester does; identity resolution then runs on it. Each
measured step runs in its own process so that peak memory is the step's own.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_fill(world: Path, store: Path) -> dict:
    """Write the world into a new store, resolve identities (not measured: the harvest's job)."""
    from test_events_support import world_to_store

    from graphminer import identity
    from graphminer.config import load_config

    data = json.loads(gzip.decompress(world.read_bytes()))
    started = time.perf_counter()
    conn = world_to_store(data, store)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    identity.refresh(conn, load_config(None))
    return {"store_fill_s": loaded, "identity_s": time.perf_counter() - started,
            "events_in_world": sum(len(data[k]) for k in (
                "issues", "issue_comments", "issue_events", "reviews", "review_comments", "commits",
                "releases"))}


def phase_analyse(store: Path) -> dict:
    """events, milestones, stages, graph; then the groupby-min baseline on the same events."""
    from graphminer.config import load_config
    from graphminer.store import default_as_of, open_store

    config = load_config(None)
    conn = open_store(store, readonly=True)
    times = {}
    started = time.perf_counter()
    import pandas  # noqa: F401  (import time counted, as a command pays it)

    from graphminer import trajectory
    from graphminer.events import load_events
    times["imports_s"] = time.perf_counter() - started
    as_of = default_as_of(conn)
    step = time.perf_counter()
    events = load_events(conn, config)
    times["events_s"] = time.perf_counter() - step
    step = time.perf_counter()
    network = trajectory.milestones(events, as_of, config)
    times["milestones_s"] = time.perf_counter() - step
    step = time.perf_counter()
    stage_table = trajectory.stages(events, as_of, config, network=network)
    times["stages_s"] = time.perf_counter() - step
    step = time.perf_counter()
    try:
        from graphminer import graph as graphs
    except ImportError:
        graphs = None
    if graphs is not None:
        graph = graphs.maker_project_graph(events, stage_table)
        times["graph_nodes"] = graph.number_of_nodes()
    times["graph_s"] = time.perf_counter() - step
    times["total_s"] = time.perf_counter() - started
    times["peak_mb"] = peak_mb()
    step = time.perf_counter()
    events.groupby("maker")["ts"].min()
    times["baseline_groupby_min_s"] = time.perf_counter() - step
    times["events"] = len(events)
    times["makers"] = int(events["maker"].nunique())
    times["repos"] = int(events["repo"].nunique())
    times["milestones_reached"] = int(network.notna().sum().sum())
    return times


def phase_precompute(store: Path) -> dict:
    """precompute.refresh as after a harvest."""
    from graphminer import precompute
    from graphminer.config import load_config
    from graphminer.store import open_store

    conn = open_store(store)
    started = time.perf_counter()
    precompute.refresh(conn, load_config(None))
    seconds = time.perf_counter() - started
    login = conn.execute(
        "SELECT m.login FROM traj_makers m JOIN traj_milestones t ON t.maker_key = m.key "
        "WHERE m.login IS NOT NULL AND NOT m.is_bot GROUP BY m.key "
        "ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
    return {"precompute_s": seconds, "peak_mb": peak_mb(), "login": login}


def child(phase: str, workdir: Path, script: Path | None = None) -> dict:
    """Run one phase in a fresh process (of this checkout, or of ``script``'s) and return
    what it printed."""
    result = subprocess.run([sys.executable, str(script or __file__), "--phase", phase,
                             "--workdir", str(workdir)], capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"phase {phase} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def baseline_checkout(workdir: Path, source: str | None, ref: str) -> Path:
    """The version-1 source tree: ``source`` when given, else ``git archive REF`` unpacked
    once into the workdir (no worktree, no checkout: the repository is not touched)."""
    if source:
        return Path(source)
    target = workdir / f"baseline-{ref.replace('/', '_')}"
    if not (target / "graphminer").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def baseline_store(store: Path, baseline: Path, workdir: Path) -> Path:
    """A copy of the store the baseline opens: its migration records cut to the ones the
    baseline knows (later migrations only add tables and columns it never reads)."""
    folder = workdir / "baseline-store"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "store.sqlite"
    if not copy.exists() or copy.stat().st_mtime < store.stat().st_mtime:
        import sqlite3

        source = sqlite3.connect(store)
        target = sqlite3.connect(copy)
        source.backup(target)
        source.close()
        known = max(int(path.name[:4]) for path in (baseline / "graphminer" / "migrations").glob("[0-9]*.sql"))
        with target:
            target.execute("DELETE FROM _migrations WHERE version > ?", (known,))
        target.close()
    return folder


def seconds(runs: list[dict]) -> str:
    """The total times of some analyse runs, as ``12.3, 12.9``."""
    return ", ".join(f"{run['total_s']:.1f}" for run in runs)


def wall(command: list[str], runs: int = 7) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=["fill", "analyse", "precompute"])
    parser.add_argument("--makers", type=int, default=50000)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--repos-per-org", type=int, default=100)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "cache" / "trajectory"))
    parser.add_argument("--baseline-src", help="a source tree of the earlier version (default: "
                        "git archive of --baseline-ref unpacked in the workdir)")
    parser.add_argument("--baseline-ref", default="main",
                        help="the git ref of the earlier version (056d39d: rules version 3)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating runs of each version; the fastest of each counts")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    world = workdir / "world" / "world.json.gz"
    store = workdir / "store.sqlite"
    if args.phase == "fill":
        print(json.dumps(phase_fill(world, store)))
        return
    if args.phase == "analyse":
        print(json.dumps(phase_analyse(store)))
        return
    if args.phase == "precompute":
        print(json.dumps(phase_precompute(store)))
        return

    workdir.mkdir(parents=True, exist_ok=True)
    if not world.exists():
        subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate", "--seed",
                        str(args.seed), "--orgs", str(args.orgs), "--repos-per-org",
                        str(args.repos_per_org), "--makers", str(args.makers), "--years",
                        str(args.years), "--no-truth", "--out", str(world.parent)], check=True)
    if not store.exists():
        filled = child("fill", workdir)
        print(f"store filled from the world: {filled['events_in_world']:,} records in "
              f"{filled['store_fill_s']:.1f} s, identities {filled['identity_s']:.1f} s")
    baseline = baseline_checkout(workdir, args.baseline_src, args.baseline_ref)
    baseline_dir = baseline_store(store, baseline, workdir)
    ours_runs, v1_runs = [], []
    for _ in range(max(args.rounds, 1)):
        v1_runs.append(child("analyse", baseline_dir, baseline / "bench" / "bench_trajectory.py"))
        ours_runs.append(child("analyse", workdir))
    analysed = min(ours_runs, key=lambda run: run["total_s"])
    version_1 = min(v1_runs, key=lambda run: run["total_s"])
    print(f"events {analysed['events']:,}, makers {analysed['makers']:,}, repos {analysed['repos']:,}, "
          f"milestones reached {analysed['milestones_reached']:,}")
    for name in ("imports_s", "events_s", "milestones_s", "stages_s", "graph_s"):
        print(f"  {name[:-2]:<11} {analysed[name]:7.2f} s")
    ratio = analysed["total_s"] / max(analysed["baseline_groupby_min_s"], 1e-9)
    print(f"events+milestones+stages+graph: {analysed['total_s']:.2f} s (goal <= 30 s), "
          f"peak {analysed['peak_mb']:.0f} MB (goal <= 3072 MB)")
    print(f"baseline (one pandas groupby-min over the same events): "
          f"{analysed['baseline_groupby_min_s']:.3f} s; ratio {ratio:.0f}x")
    print(f"the earlier version ({baseline}), same store, same run: "
          f"{version_1['total_s']:.2f} s (milestones {version_1['milestones_s']:.2f} s, "
          f"stages {version_1['stages_s']:.2f} s), {version_1['milestones_reached']:,} milestones; "
          f"this version {analysed['total_s']:.2f} s (milestones {analysed['milestones_s']:.2f} s, "
          f"stages {analysed['stages_s']:.2f} s); ratio {analysed['total_s'] / version_1['total_s']:.2f}x "
          f"(fastest of {len(ours_runs)} alternating runs each: "
          f"{seconds(v1_runs)} s vs {seconds(ours_runs)} s)")
    core = ("events_s", "milestones_s", "stages_s")
    ours_core = min(sum(run[name] for name in core) for run in ours_runs)
    theirs_core = min(sum(run[name] for name in core) for run in v1_runs)
    print(f"events + milestones + stages: this version {ours_core:.2f} s, the earlier version "
          f"{theirs_core:.2f} s; ratio {ours_core / theirs_core:.2f}x (goal <= 1.2x; fastest of "
          f"each's alternating runs)")
    pre = child("precompute", workdir)
    print(f"precompute.refresh (after each harvest): {pre['precompute_s']:.2f} s, "
          f"peak {pre['peak_mb']:.0f} MB")
    login = pre["login"]
    command = [sys.executable, "-m", "graphminer", "trajectory", login, "--store", str(store)]
    trajectory_s = wall(command)
    baseline_s = wall([sys.executable, "-c", "pass"])
    print(f"graphminer trajectory {login}: {trajectory_s:.3f} s wall (median of 7, goal <= 0.5 s); "
          f"python -c pass: {baseline_s:.3f} s; ratio {trajectory_s / baseline_s:.1f}x")


if __name__ == "__main__":
    main()
