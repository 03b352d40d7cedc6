"""Requests of a harvest on a world where every hard edge of real GitHub is on (issue 9),
against the floor and against a plain harvest of the same world timed in the same run.

    python bench/bench_harvest_edges.py [--orgs 3 --repos-per-org 6 --makers 300 --years 4]

The world has a renamed and a transferred repo (in its first delta), a private repo and
deleted accounts (ghost); fakehub serves it with a page cap (--page-cap), the biggest repo's
heavy pages failing (--slow-pages), per-token ETags and 429s, to three tokens. Prints the
floor (from the world's records), the requests of a plain harvest (one token, no page cap,
shared ETags) and of the edge harvest with their ratios, then a quiet night and a delta
night of each (goal for the quiet night: 0 counted).
"""

from __future__ import annotations

import argparse
import json

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

TOKENS = ["bench-edge-1", "bench-edge-2", "bench-edge-3"]


def night(hub, world: dict, folder, tokens: list[str] | None) -> tuple[int, int, float]:
    """One harvest: (requests, counted, seconds fetching and storing)."""
    mark = log_count(hub)
    summary, _ = harvest_once(world, hub.url, folder, tokens=tokens)
    lines = log_since(hub, mark)
    return len(lines), sum(1 for line in lines if line["counted"]), summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orgs", type=int, default=3)
    parser.add_argument("--repos-per-org", type=int, default=6)
    parser.add_argument("--makers", type=int, default=300)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--page-cap", type=int, default=300)
    args = parser.parse_args()
    folder = workdir("bench-harvest-edges-")
    generate(folder / "world", seed=args.seed, orgs=args.orgs, repos_per_org=args.repos_per_org,
             makers=args.makers, years=args.years, delta_days=1,
             flags=("--renamed-repos", "1", "--transferred-repos", "1", "--private-repos", "1",
                    "--deleted-accounts", "3"))
    path = folder / "world" / "world.json.gz"
    delta = folder / "world" / "delta-1.json.gz"
    world = load(path)
    floor = request_floor(world)
    biggest = max(world["repos"], key=lambda repo: sum(1 for issue in world["issues"]
                                                       if issue["repo_id"] == repo["id"]))
    figures: dict[str, list[tuple[int, int, float]]] = {}
    edges = serve(path, page_cap=args.page_cap, rate_limit=5000, limit_status="both",
                  slow_pages=[f"{biggest['owner']}/{biggest['name']}"], slow_seconds=0.05)
    plain = serve(path, page_cap=0, per_token_etags=False)
    refused = {}
    for name, server, tokens in (("plain", plain, None), ("edges", edges, TOKENS)):
        with server as hub:
            runs = [night(hub, world, folder / name, tokens)]
            runs.append(night(hub, world, folder / name, tokens))
            hub.apply_delta(delta)
            runs.append(night(hub, world, folder / name, tokens))
            statuses: dict[int, int] = {}
            for line in log_since(hub, 0):
                statuses[line["status"]] = statuses.get(line["status"], 0) + 1
            refused[name] = {k: v for k, v in sorted(statuses.items()) if k in (301, 422, 502, 429)}
        figures[name] = runs
    records = sum(len(world[c]) for c in ("issues", "issue_comments", "issue_events", "reviews",
                                            "review_comments", "commits", "releases"))
    print(f"world: {len(world['orgs'])} orgs, {len(world['repos'])} repos, {records} records "
          f"(seed {args.seed}); page cap {args.page_cap}, slow pages on {biggest['owner']}/"
          f"{biggest['name']}, three tokens")
    print(f"floor (from the world's records):          {floor} requests")
    (plain_made, plain_counted, plain_s), (edge_made, edge_counted, edge_s) = \
        figures["plain"][0], figures["edges"][0]
    print(f"first harvest, plain (fakehub's log):       {plain_made} requests "
          f"({plain_made / floor:.3f} x floor), {plain_counted} counted, {plain_s:.2f} s")
    print(f"first harvest, every edge on:               {edge_made} requests "
          f"({edge_made / floor:.3f} x floor, {edge_made / plain_made:.3f} x plain), "
          f"{edge_counted} counted, {edge_s:.2f} s")
    print(f"edge answers met: {json.dumps(refused['edges'])}")
    for label, index in (("quiet night", 1), ("delta night", 2)):
        p_made, p_counted, _ = figures["plain"][index]
        e_made, e_counted, _ = figures["edges"][index]
        print(f"{label + ',':<13} plain: {p_made} requests, {p_counted} counted; "
              f"every edge on: {e_made} requests, {e_counted} counted")


if __name__ == "__main__":
    main()
