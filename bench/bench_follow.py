"""Following makers beyond the harvested orgs: requests per followed maker and time spent
waiting on the search limit.

    python bench/bench_follow.py [--makers 3000 --orgs 4 --repos-per-org 10 --window 2]

Generates a world with outside activity (generate --outside-share), harvests its orgs
in-process from a real fakehub, then runs the real following stage three times: a first follow
and two quiet re-follows (nothing changed; goal <= 1 counted request per maker). Search is
limited to GitHub's 30 requests per token per window, the window shortened to --window
seconds so the bench runs in minutes; the wait is also given scaled to GitHub's 60 s
window. Every number comes from fakehub's request log, including the 403/429 count on
/search/issues (goal: 0).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench_harvest_common import ROOT, TOKEN, harvest_once, load, log_count, log_since, workdir

from graphminer.config import parse_config
from graphminer.fakehub.testing import serve
from graphminer.pipeline import follow_makers

SEARCH_LIMIT = 30  # GitHub's, per token per minute


def follow_lines(lines: list[dict], harvested: set[str]) -> list[dict]:
    return [line for line in lines if line["path"].startswith(("/users/", "/search/"))
            or (line["path"].startswith("/repos/") and line["path"].split("/")[2].lower() not in harvested)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--orgs", type=int, default=4)
    parser.add_argument("--repos-per-org", type=int, default=10)
    parser.add_argument("--makers", type=int, default=3000)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--share", type=float, default=0.3, help="share of makers with outside activity")
    parser.add_argument("--window", type=float, default=2.0, help="search rate window, seconds")
    args = parser.parse_args()
    folder = workdir("bench-follow-")
    subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate", "--seed", str(args.seed),
                    "--orgs", str(args.orgs), "--repos-per-org", str(args.repos_per_org), "--makers",
                    str(args.makers), "--years", str(args.years), "--outside-share", str(args.share),
                    "--no-truth", "--out", str(folder / "world")], check=True, capture_output=True, cwd=ROOT)
    world = load(folder / "world" / "world.json.gz")
    harvested = [org["login"] for org in world["orgs"] if not org.get("outside")]
    text = (f'[harvest]\norgs = {json.dumps(harvested)}\n[paths]\nstore = "store.sqlite"\n'
            f'cache = "cache"\n[careers]\nfollow = true\nfollow_every_days = 0\n')
    config = parse_config(text, source="bench", base_dir=folder / "ours")
    lower = {org.lower() for org in harvested}
    with serve(folder / "world" / "world.json.gz", search_rate_limit=SEARCH_LIMIT,
               search_rate_window=args.window, rate_limit=1_000_000) as hub:
        harvest_once({"orgs": [{"login": org} for org in harvested]}, hub.url, folder / "ours")
        runs = []
        for _ in range(3):
            mark = log_count(hub)
            started = time.perf_counter()
            summary = follow_makers(config, api_url=hub.url, tokens=[TOKEN])
            runs.append((summary, time.perf_counter() - started, follow_lines(log_since(hub, mark), lower)))
    print(f"world: {len(harvested)} harvested orgs, {sum(1 for o in world['orgs'] if o.get('outside'))} "
          f"outside orgs, {len(world['users'])} users (seed {args.seed})")
    for name, (summary, seconds, lines) in zip(("first follow", "quiet re-follow", "quiet again"), runs, strict=True):
        makers = max(1, summary.makers)
        counted = sum(1 for line in lines if line["counted"])
        searches = [line for line in lines if line["path"] == "/search/issues"]
        refused = sum(1 for line in searches if line["status"] in (403, 429))
        print(f"{name + ':':<17} {summary.makers} makers, {len(lines)} requests, {counted} counted "
              f"({counted / makers:.2f} per maker), {len(searches)} searches, {refused} refused (403/429), "
              f"{seconds:.1f} s, {summary.search_wait_seconds:.1f} s waiting on the search limit "
              f"({args.window:g} s windows; at GitHub's 30 a minute: "
              f"{summary.search_requests / SEARCH_LIMIT:.1f} min of searching)")


if __name__ == "__main__":
    main()
