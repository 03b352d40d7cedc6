"""The nightly cost over a 30-day run of daily deltas: requests per night against records
changed per night, with a from-scratch harvest of the last day's world as the baseline
(what a harvester without incremental runs pays every night).

    python bench/bench_harvest_nightly.py [--days 30 --orgs 3 --repos-per-org 5 --makers 250]
"""

from __future__ import annotations

import argparse
import statistics

from bench_harvest_common import (
    generate,
    harvest_once,
    load,
    log_count,
    log_since,
    workdir,
)

from graphminer.fakehub.testing import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orgs", type=int, default=3)
    parser.add_argument("--repos-per-org", type=int, default=5)
    parser.add_argument("--makers", type=int, default=250)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    folder = workdir("bench-nightly-")
    generate(folder / "world", seed=args.seed, orgs=args.orgs, repos_per_org=args.repos_per_org,
             makers=args.makers, years=args.years, delta_days=args.days)
    world = load(folder / "world" / "world.json.gz")
    nights = []
    with serve(folder / "world" / "world.json.gz") as hub:
        first, first_seconds = harvest_once(world, hub.url, folder / "nightly")
        print(f"first harvest: {first.requests} requests, {first.records_new} records, "
              f"{first_seconds:.1f} s")
        print(f"{'night':>5} {'ops':>5} {'stored':>7} {'requests':>9} {'counted':>8} {'304s':>6} {'fetch s':>8} {'all s':>6}")
        for day in range(1, args.days + 1):
            delta_path = folder / "world" / f"delta-{day}.json.gz"
            ops = len(load(delta_path)["ops"])
            hub.apply_delta(delta_path)
            mark = log_count(hub)
            summary, seconds = harvest_once(world, hub.url, folder / "nightly")
            lines = log_since(hub, mark)
            counted = sum(1 for line in lines if line["counted"])
            stored = summary.records_new + summary.records_updated
            nights.append((ops, stored, len(lines), counted, seconds, summary.seconds))
            print(f"{day:>5} {ops:>5} {stored:>7} {len(lines):>9} {counted:>8} "
                  f"{summary.not_modified:>6} {summary.seconds:>8.2f} {seconds:>6.2f}")
        mark = log_count(hub)
        scratch, baseline_seconds = harvest_once(world, hub.url, folder / "from-scratch")
        baseline = len(log_since(hub, mark))
    counted = [night[3] for night in nights]
    changed = [night[0] for night in nights]
    seconds = [night[4] for night in nights]
    fetch_seconds = [night[5] for night in nights]
    print(f"per night (mean of {len(nights)}): {statistics.mean(changed):.1f} records changed upstream, "
          f"{statistics.mean(counted):.1f} counted requests "
          f"({statistics.mean(counted) / max(1e-9, statistics.mean(changed)):.2f} per changed record), "
          f"{statistics.mean(fetch_seconds):.2f} s fetching and storing, "
          f"{statistics.mean(seconds):.2f} s with the refresh of derived tables")
    print(f"baseline, from-scratch harvest of the last world: {baseline} requests, "
          f"{scratch.seconds:.1f} s fetching and storing, {baseline_seconds:.1f} s in all")
    print(f"ratio nightly/from-scratch: requests {statistics.mean(counted) / baseline:.3f}, "
          f"fetch time {statistics.mean(fetch_seconds) / scratch.seconds:.3f}, "
          f"wall time {statistics.mean(seconds) / baseline_seconds:.3f}")


if __name__ == "__main__":
    main()
