"""Quiet nights at real latency and one worker per token (issue 10).

    python bench/bench_harvest_quiet.py [--orgs 3 --repos-per-org 100 --latency 250
                                         --full-latency 250]

On a generated world of orgs x repos-per-org repos, fakehub answering every request after
``--latency`` ms (GitHub's is about 250):
- a quiet night (nothing changed) before, as main did (every listing of every repo,
  conditionally: ``full_every_days = 0`` sweeps every night), and after (the signals),
  with one token and with three: requests per repo, counted requests, wall time;
- a first full harvest with one token and with three (one worker per token), served after
  ``--full-latency`` ms: wall time and the ratio (goal: three tokens <= 0.45x of one).
The baseline of each figure is timed in the same run. Both latencies are served by the
same world on the same port (fakehub is restarted between them), so the caches hold.
"""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

from bench_harvest_common import config_for, generate, load, log_since, workdir

from graphminer.config import parse_config
from graphminer.fakehub.testing import serve
from graphminer.harvest.progress import Progress
from graphminer.pipeline import harvest_github

ONE = ["bench-quiet-1"]
THREE = ["bench-quiet-1", "bench-quiet-2", "bench-quiet-3"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def night(world: dict, hub, folder: Path, tokens: list[str], every_days: int | None = None) -> dict:
    """One harvest of ``folder``: its requests (all, per repo, counted) and wall time."""
    config = config_for(world, folder)
    if every_days is not None:
        orgs = json.dumps(config["harvest"]["orgs"])
        config = parse_config(f'[harvest]\norgs = {orgs}\nfull_every_days = {every_days}\n'
                              '[paths]\nstore = "store.sqlite"\ncache = "cache"\n',
                              source="bench", base_dir=folder)
    folder.mkdir(parents=True, exist_ok=True)
    start = len(hub.log_path.read_bytes().splitlines()) if hub.log_path.exists() else 0
    summary = harvest_github(config, api_url=hub.url, tokens=tokens, say=lambda message: None,
                             progress=Progress(False))
    lines = log_since(hub, start)
    # The harvest's own time, without the refresh of derived tables after it (the same
    # whatever the tokens).
    return {"requests": len(lines), "counted": sum(1 for line in lines if line["counted"]),
            "repos": summary.repos, "seconds": summary.seconds,
            "repo_requests": sum(1 for line in lines if line["path"].startswith("/repos/"))}


def describe(name: str, figures: dict) -> str:
    repos = max(figures["repos"], 1)
    return (f"{name:<44} {figures['requests']:>6} requests ({figures['requests'] / repos:.2f} "
            f"per repo, {figures['repo_requests'] / repos:.2f} on the repo's own paths, "
            f"{figures['counted']} counted) in {figures['seconds']:7.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--orgs", type=int, default=3)
    parser.add_argument("--repos-per-org", type=int, default=100)
    parser.add_argument("--makers", type=int, default=400)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--latency", type=int, default=250, help="ms, for the quiet nights")
    parser.add_argument("--full-latency", type=int, default=250, help="ms, for the full harvests")
    args = parser.parse_args()
    folder = workdir("bench-harvest-quiet-")
    generate(folder / "world", seed=args.seed, orgs=args.orgs, repos_per_org=args.repos_per_org,
             makers=args.makers, years=args.years)
    path = folder / "world" / "world.json.gz"
    world = load(path)
    port = free_port()
    print(f"world: {len(world['repos'])} repos in {args.orgs} orgs; full harvests at "
          f"{args.full_latency} ms, quiet nights at {args.latency} ms a request")
    with serve(path, latency_ms=args.full_latency, port=port, rate_limit=1_000_000) as hub:
        one = night(world, hub, folder / "one", ONE)
        three = night(world, hub, folder / "three", THREE)
    print(describe("full harvest, 1 token", one))
    print(describe("full harvest, 3 tokens (3 workers)", three))
    print(f"  3 tokens / 1 token wall time: {three['seconds'] / one['seconds']:.2f}x (goal <= 0.45x)")
    with serve(path, latency_ms=args.latency, port=port, rate_limit=1_000_000) as hub:
        before = night(world, hub, folder / "one", ONE, every_days=0)
        after = night(world, hub, folder / "one", ONE)
        after_three = night(world, hub, folder / "three", THREE)
    print(describe("quiet night before (every listing), 1 token", before))
    print(describe("quiet night after (signals), 1 token", after))
    print(describe("quiet night after (signals), 3 tokens", after_three))
    print(f"  after / before wall time: 1 token {after['seconds'] / before['seconds']:.2f}x, "
          f"3 tokens {after_three['seconds'] / before['seconds']:.2f}x (goal <= 2 requests per repo)")


if __name__ == "__main__":
    main()
