"""Benchmark of the ground truth (``graphminer.fakehub.truth.compute_truth``) on a generated
world (default about 100,000 events; ``--makers 50000 --orgs 10 --repos-per-org 20
--years 8`` gives about 1,000,000).

Goal (issue #2 / task brief): a ~100k-event world in well under a minute, a 1M-event world
in a few minutes at most. Baseline timed in the same run: one plain pass over the same
records that parses each record's date and groups it by person (the least per-record
Python work any rule must do). Also printed: the time to read the world file.

    python bench/bench_truth.py [--seed S] [--orgs N] [--repos-per-org N] [--makers N]
                                [--years N] [--out DIR]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphminer.fakehub.generator import generate_world, load_json  # noqa: E402
from graphminer.fakehub.truth import compute_truth  # noqa: E402

DATED = {"issues": ("user_id", "created_at"), "issue_comments": ("user_id", "created_at"),
         "issue_events": ("actor_id", "created_at"), "reviews": ("user_id", "submitted_at"),
         "review_comments": ("user_id", "created_at"), "releases": ("author_id", "created_at")}


def baseline_pass(world: dict) -> int:
    """Parse every record's date and group it by person; return the number of people."""
    by_person: dict = defaultdict(list)
    for kind, (who, date) in DATED.items():
        for record in world.get(kind, []):
            by_person[record.get(who)].append(datetime.fromisoformat(record[date] or world["now"]))
    for commit in world.get("commits", []):
        stamp = datetime.fromisoformat(commit["committer"]["date"])
        by_person[(commit["author"]["email"] or "").lower()].append(stamp)
    return len(by_person)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--orgs", type=int, default=6)
    parser.add_argument("--repos-per-org", type=int, default=10)
    parser.add_argument("--makers", type=int, default=5000)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--out", help="folder for the world (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp) / "bench-truth-world"
        started = time.perf_counter()
        result = generate_world(out, seed=args.seed, orgs=args.orgs,
                                repos_per_org=args.repos_per_org, makers=args.makers,
                                years=args.years, truth=False)
        print(f"generated {result['events']:,} events in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        world = load_json(result["world"])
        print(f"read the world file: {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        people = baseline_pass(world)
        baseline = time.perf_counter() - started
        print(f"baseline (parse and group every record, {people:,} people): {baseline:.2f} s")
        started = time.perf_counter()
        truth = compute_truth(world)
        seconds = time.perf_counter() - started
        print(f"compute_truth ({len(truth['makers']):,} makers): {seconds:.2f} s "
              f"= {seconds / baseline:.1f} x baseline; "
              f"{result['events'] / seconds:,.0f} events/s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (RSS, whole process incl. the world): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
