"""The real harvester's first harvest over GraphQL (issue 14) against its REST-only first
harvest of the same world: GraphQL points plus REST requests against REST requests (goal
<= 0.3x), the wall time of each, and the next quiet night's counted requests.

    python bench/bench_graphql_harvest.py [--orgs 10 --repos-per-org 30 --makers 1500 --years 4 --latency 0] [--sweep]

Both sides are ``harvest_github`` in process against a real fakehub (``--api rest`` and
``--api auto``, which on a first harvest reads issues and pull requests over GraphQL); the
counts come from fakehub's log: points are what it charged (``graphql.cost``), requests
the REST lines it counted against the rate limit. ``--latency`` is fakehub's delay per
request in milliseconds (GitHub's is about 250). ``--sweep`` adds, after the quiet night, a
REST sweep night on each store (``full_every_days = 0``: every listing of every repo, from
its watermarks, conditionally): the counted requests it costs show what the GraphQL first
harvest left for REST to read once (the listings it read without REST's validators).
"""

from __future__ import annotations

import argparse

from bench_graphql_cost import projection
from bench_harvest_common import generate, harvest_once, load, log_since, workdir

from graphminer.fakehub.testing import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--repos-per-org", type=int, default=30)
    parser.add_argument("--makers", type=int, default=1500)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--latency", type=int, default=0, help="fakehub's delay per request, ms")
    parser.add_argument("--sides", default="rest,auto",
                        help="which harvests to run (at --latency 250 the REST side alone takes "
                             "about 25 minutes: run each side on its own)")
    parser.add_argument("--sweep", action="store_true", help="then a REST sweep night on each store")
    args = parser.parse_args()
    folder = workdir("bench-graphql-harvest-")
    generate(folder / "world", seed=args.seed, orgs=args.orgs, repos_per_org=args.repos_per_org,
             makers=args.makers, years=args.years)
    path = folder / "world" / "world.json.gz"
    world = load(path)
    limits = dict(rate_limit=1_000_000, graphql_rate_limit=1_000_000,
                  graphql_secondary_limit=1_000_000, latency_ms=args.latency or None)
    figures = {}
    for api in args.sides.split(","):
        with serve(path, **limits) as hub:
            summary, seconds = harvest_once(world, hub.url, folder / api, api=api)
            assert summary.status == "ok", summary.lines()
            first = log_since(hub, 0)
            _, night_seconds = harvest_once(world, hub.url, folder / api, api=api)
            night = log_since(hub, len(first))
            sweep = []
            if args.sweep:
                harvest_once(world, hub.url, folder / api, api="rest", every_days=0)
                sweep = log_since(hub, len(first) + len(night))
        figures[api] = {
            "points": sum(line["graphql"]["cost"] for line in first if "graphql" in line),
            "queries": sum(1 for line in first if "graphql" in line),
            "rest": sum(1 for line in first if "graphql" not in line and line["counted"]),
            "seconds": seconds,
            "night": sum(1 for line in night if line["counted"]),
            "night_seconds": night_seconds,
            "sweep": sum(1 for line in sweep if line["counted"]),
        }
    repos = sum(1 for r in world["repos"] if not r.get("fork"))
    print(f"world: {repos} repos, {len(world['issues'])} issues and PRs (seed {args.seed}), "
          f"fakehub latency {args.latency} ms")
    if set(figures) != {"rest", "auto"}:
        for api, found in figures.items():
            print(f"{api}: {found['points']} points in {found['queries']} queries + {found['rest']} "
                  f"counted REST requests, {found['seconds']:.1f} s; next quiet night "
                  f"{found['night']} counted ({found['night_seconds']:.1f} s)")
        return
    rest, auto = figures["rest"], figures["auto"]
    print(f"REST-only first harvest:  {rest['rest']} counted requests, {rest['seconds']:.1f} s")
    print(f"GraphQL first harvest:    {auto['points']} points in {auto['queries']} queries "
          f"+ {auto['rest']} counted REST requests, {auto['seconds']:.1f} s")
    print(f"ratio (points + REST) / REST-only: {(auto['points'] + auto['rest']) / rest['rest']:.3f}"
          "  (goal <= 0.3)")
    print(f"next quiet REST night:    {auto['night']} counted requests after GraphQL "
          f"({auto['night_seconds']:.1f} s), {rest['night']} after REST ({rest['night_seconds']:.1f} s)")
    if args.sweep:
        print(f"then a REST sweep night: {auto['sweep']} counted requests after GraphQL, "
              f"{rest['sweep']} after REST")
    print(projection(world, auto["points"], auto["rest"]))


if __name__ == "__main__":
    main()
