"""Our harvest against Perceval's, side by side on the same generated world and server
(goal: at most a quarter of Perceval's requests).

    python bench/bench_harvest_perceval.py [--orgs 2 --repos-per-org 4 --makers 150 --years 2]

Perceval runs from /work/main/.venv-perceval (create it with
``python3 -m venv .venv-perceval && .venv-perceval/bin/pip install perceval``), once per
repository and category (``issue``, ``pull_request``), with ``--enterprise-url`` at fakehub.
It also fetches reactions and user profiles, which we skip; we also fetch issue events,
review comments, commits and releases, which it does not. Requests are counted in
fakehub's log; wall time is measured around each tool.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench_harvest_common import (
    ROOT,
    TOKEN,
    generate,
    harvest_once,
    load,
    log_count,
    log_since,
    workdir,
)

from graphminer.fakehub.testing import serve

PERCEVAL = ROOT / ".venv-perceval" / "bin" / "perceval"


def perceval_run(url: str, world: dict, out: Path) -> tuple[float, int]:
    """Run Perceval over every harvested repo; returns (seconds, items it wrote)."""
    repos = [r for r in world["repos"] if not r.get("fork") and not r.get("blocked")]
    started = time.perf_counter()
    items = 0
    for repo in repos:
        for category in ("issue", "pull_request"):
            target = out / f"{repo['owner']}-{repo['name']}-{category}.jsonl"
            subprocess.run([str(PERCEVAL), "github", repo["owner"], repo["name"],
                            "--enterprise-url", url, "--category", category, "-t", TOKEN,
                            "--no-archive", "--json-line", "-o", str(target)],
                           check=True, capture_output=True)
            items += sum(1 for line in target.read_text().splitlines() if line.strip())
    return time.perf_counter() - started, items


def endpoint(path: str) -> str:
    """A request path with owners, names and numbers folded (for the breakdown)."""
    parts = path.removeprefix("/api/v3").strip("/").split("/")
    if parts[0] == "repos" and len(parts) > 3:
        return "/".join(["repos", *("N" if p.isdigit() else p for p in parts[3:])])
    return parts[0] + ("/..." if len(parts) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--orgs", type=int, default=2)
    parser.add_argument("--repos-per-org", type=int, default=4)
    parser.add_argument("--makers", type=int, default=150)
    parser.add_argument("--years", type=int, default=2)
    args = parser.parse_args()
    if not PERCEVAL.exists():
        sys.exit(f"Perceval is not installed at {PERCEVAL}: python3 -m venv .venv-perceval && "
                 ".venv-perceval/bin/pip install perceval")
    folder = workdir("bench-perceval-")
    generate(folder / "world", seed=args.seed, orgs=args.orgs, repos_per_org=args.repos_per_org,
             makers=args.makers, years=args.years)
    world = load(folder / "world" / "world.json.gz")
    (folder / "perceval").mkdir()
    with serve(folder / "world" / "world.json.gz", rate_limit=1_000_000) as hub:
        summary, ours_seconds = harvest_once(world, hub.url, folder / "ours")
        ours = log_since(hub, 0)
        mark = log_count(hub)
        perceval_seconds, perceval_items = perceval_run(hub.url, world, folder / "perceval")
        theirs = log_since(hub, mark)
    prs = sum(1 for issue in world["issues"] if issue.get("pull_request"))
    print(f"world: {len(world['repos'])} repos, {len(world['issues'])} issues and PRs "
          f"({prs} PRs), {len(world['users'])} users (seed {args.seed})")
    print(f"{'':28}{'requests':>10}{'wall s':>10}")
    print(f"{'graphminer (everything)':28}{len(ours):>10}{summary.seconds:>10.1f}"
          f"   (+{ours_seconds - summary.seconds:.1f} s refreshing derived tables)")
    print(f"{'perceval issue+pull_request':28}{len(theirs):>10}{perceval_seconds:>10.1f}")
    print(f"ratio ours/perceval: requests {len(ours) / len(theirs):.3f} (goal <= 0.25), "
          f"wall time {summary.seconds / perceval_seconds:.3f} "
          f"({ours_seconds / perceval_seconds:.3f} with the refresh)")
    print(f"graphminer stored {summary.records_new} records; perceval wrote {perceval_items} items")
    print("perceval's requests by endpoint:")
    for name, count in Counter(endpoint(line["path"]) for line in theirs).most_common(8):
        print(f"  {count:>6}  {name}")


if __name__ == "__main__":
    main()
