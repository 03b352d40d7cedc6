"""Requests for a full harvest of a generated world against the floor (goal: <= 1.15 x).

    python bench/bench_harvest_requests.py [--orgs 3 --repos-per-org 6 --makers 300 --years 4]

Prints the floor (computed from the world's records), the requests our harvest made
(from fakehub's log), their ratio, the wall time and the share of it spent waiting on
fakehub, then the cost of a second harvest of the unchanged world (goal: 0 counted).
"""

from __future__ import annotations

import argparse

from bench_harvest_common import (
    generate,
    harvest_once,
    load,
    log_count,
    log_since,
    request_floor,
    workdir,
)

from graphminer.fakehub.testing import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orgs", type=int, default=3)
    parser.add_argument("--repos-per-org", type=int, default=6)
    parser.add_argument("--makers", type=int, default=300)
    parser.add_argument("--years", type=int, default=4)
    args = parser.parse_args()
    folder = workdir("bench-harvest-")
    generate(folder / "world", seed=args.seed, orgs=args.orgs, repos_per_org=args.repos_per_org,
             makers=args.makers, years=args.years)
    world = load(folder / "world" / "world.json.gz")
    floor = request_floor(world)
    records = sum(len(world[c]) for c in ("issues", "issue_comments", "issue_events", "reviews",
                                            "review_comments", "commits", "releases"))
    with serve(folder / "world" / "world.json.gz") as hub:
        summary, seconds = harvest_once(world, hub.url, folder / "ours")
        first = log_since(hub, 0)
        mark = log_count(hub)
        again, again_seconds = harvest_once(world, hub.url, folder / "ours")
        second = log_since(hub, mark)
    made = len(first)
    print(f"world: {len(world['orgs'])} orgs, {len(world['repos'])} repos, {records} records "
          f"(seed {args.seed})")
    print(f"floor (from the world's records):     {floor} requests")
    print(f"full harvest (fakehub's log):         {made} requests, "
          f"{sum(1 for line in first if line['counted'])} counted")
    print(f"ratio to the floor:                   {made / floor:.3f}  (goal <= 1.15)")
    print(f"wall time:                            {summary.seconds:.2f} s fetching and storing "
          f"({summary.wait_seconds / summary.seconds:.0%} of it waiting on fakehub), "
          f"{seconds:.2f} s with the refresh of derived tables")
    print(f"second harvest, nothing changed:      {len(second)} requests, "
          f"{sum(1 for line in second if line['counted'])} counted, {again.seconds:.2f} s "
          f"fetching, {again_seconds:.2f} s in all")


if __name__ == "__main__":
    main()
