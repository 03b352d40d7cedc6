"""The demo: the whole flow, offline, on the bundled world (the README's main command).

Serves ``graphminer/data/demo-world.json.gz`` with fakehub on a free loopback port,
harvests it over HTTP with the real GitHub harvester into a fresh store, follows the makers
whose work landed beyond the harvested orgs (the world plants outside activity:
government, research and civic owners from GitHub's community lists, and people's own
accounts), then prints the network funnel, where people went (destinations by name) and
three contrasting trajectories, and writes the GEXF, the CSVs and the HTML report.
Nothing leaves the machine.

The bundled world is the generator's output for ``DEMO_WORLD`` (tests check that it still
is); regenerate it with ``python -m graphminer.demo --regenerate``.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from graphminer import export as exporter
from graphminer import precompute, report
from graphminer.api import render_stats, store_stats
from graphminer.columnar.copy import SUFFIX
from graphminer.config import Config, load_config, parse_config
from graphminer.errors import BadInput
from graphminer.fakehub.generator import generate_world
from graphminer.fakehub.testing import serve
from graphminer.outputs import DEMO_MARKER, mark_folder, remove_marked, require_own_folder
from graphminer.pipeline import follow_makers, harvest_github
from graphminer.store import harvest_end, open_store
from graphminer.timeline import maker_names, render_timeline

DEMO_WORLD = {"seed": 2024, "orgs": 4, "repos_per_org": 4, "makers": 200, "years": 4,
              "outside_share": 0.25}
# Following asks search once or twice a maker: fakehub's search limit (GitHub's: 30 a minute
# a token) is raised for the demo, so it shows where people went without minutes of waiting.
DEMO_SEARCH_RATE_LIMIT = 10_000
# What the demo writes into OUTDIR (a name ending in '/' is a folder it owns whole).
# (the store with SQLite's log and index beside it, and its columnar copy with DuckDB's log:
# graphminer.columnar.copy; unlisted, a second demo into the folder refused it as foreign)
DEMO_STORE = "graphminer.sqlite"
DEMO_FILES = [DEMO_STORE, f"{DEMO_STORE}-wal", f"{DEMO_STORE}-shm", DEMO_STORE + SUFFIX,
              f"{DEMO_STORE}{SUFFIX}.wal", "fakehub-requests.jsonl", "graph.gexf", "cache/", "csv/",
              "report/"]
DEMO_TOKEN = "demo-token"  # fakehub's test token: any token not starting with "bad" works


def bundled_world() -> Path:
    """Where the bundled demo world is inside the installed package."""
    return Path(str(resources.files("graphminer").joinpath("data/demo-world.json.gz")))


def world_orgs(world_path: Path) -> tuple[list[str], str]:
    """The logins of a world file's harvested orgs (not the outside ones its makers went
    to) and its 'now'."""
    with gzip.open(world_path, "rt", encoding="utf-8") as handle:
        world = json.load(handle)
    return [org["login"] for org in world["orgs"] if not org.get("outside")], world["now"]


def demo_config(outdir: Path, orgs: list[str]) -> Config:
    """The packaged default config, pointed at the demo's orgs and its folder."""
    base = load_config()  # the user's config, if any, for trajectory thresholds and opt-outs
    outdir = outdir.resolve()  # a relative OUTDIR would otherwise resolve against itself
    text = "[harvest]\norgs = " + json.dumps(orgs) + "\n"
    text += f"[paths]\nstore = {json.dumps(str(outdir / DEMO_STORE))}\n"
    text += f"cache = {json.dumps(str(outdir / 'cache'))}\n"
    config = parse_config(text, source="demo", base_dir=outdir)
    for section in ("people", "trajectories", "export", "report", "careers"):
        config.values[section] = base.values[section]
    config.values["careers"] = {**config.values["careers"], "follow": True}
    return config


def fresh_outdir(outdir: Path) -> Path:
    """Create OUTDIR (its parent must exist) and remove a previous demo's files: OUTDIR is
    new, empty or holds only what an earlier demo wrote (graphminer.outputs)."""
    outdir = require_own_folder(outdir, DEMO_MARKER, "demo")
    try:
        outdir.mkdir(exist_ok=True)
    except OSError as error:
        raise BadInput(f"cannot create {outdir}: {error.strerror}; choose another folder") from None
    remove_marked(outdir, DEMO_MARKER)
    mark_folder(outdir, DEMO_MARKER, DEMO_FILES)  # claimed first: an interrupted demo can be rerun
    return outdir


def contrasting_makers(listing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Three makers whose paths differ: a maintainer, an organiser who does not maintain,
    a one-off contributor (each want lists its choices, best first)."""
    def reached(entry: dict[str, Any], key: str) -> bool:
        return entry["milestones"].get(key) is not None

    def activity(entry: dict[str, Any]) -> int:
        return sum(entry["counts"].values())

    people = [entry for entry in listing if not entry["is_bot"] and entry["login"]]
    wants: list[tuple[list[Callable[[dict[str, Any]], bool]], Callable]] = [
        ([lambda e: reached(e, "maintainer") and reached(e, "core")], max),
        ([lambda e: reached(e, "coder_to_organiser") and not reached(e, "maintainer"),
          lambda e: reached(e, "organiser") and not reached(e, "maintainer"),
          lambda e: reached(e, "organiser")], max),
        # the most typical one-off: landed once, the least active
        ([lambda e: reached(e, "first_landed") and not reached(e, "returning")
          and not reached(e, "maintainer") and not reached(e, "core")], min),
    ]
    picks: list[dict[str, Any]] = []
    for choices, pick in wants:
        for choice in choices:
            candidates = [e for e in people if choice(e) and e not in picks]
            if candidates:
                picks.append(pick(candidates, key=activity))
                break
    return picks


def run_demo(outdir: Path, say: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole flow; returns what it wrote and measured."""
    started = time.perf_counter()
    outdir = fresh_outdir(outdir)
    world = bundled_world()
    orgs, world_now = world_orgs(world)
    config = demo_config(outdir, orgs)
    say(f"graphminer demo: the bundled world ({len(orgs)} orgs: {', '.join(orgs)}), "
        f"served by fakehub on loopback, harvested over HTTP into {config.store_path}")
    # fakehub's Date header reads the world's now: the harvest records it as its end, so
    # every later query on the demo store (makers, stats, trajectory, without --as-of) is
    # as of the world's last day, not today
    with serve(world, log=outdir / "fakehub-requests.jsonl", clock="world",
               search_rate_limit=DEMO_SEARCH_RATE_LIMIT) as hub:
        summary = harvest_github(config, orgs=orgs, api_url=hub.url, tokens=[DEMO_TOKEN],
                                 say=lambda message: say(f"  {message}"))
        for line in summary.lines():
            say(f"  {line}")
        followed = follow_makers(config, api_url=hub.url, tokens=[DEMO_TOKEN],
                                 say=lambda message: say(f"  {message}"))
        log = hub.log_lines()
        served = hub.stats()
    for line in followed.lines():
        say(f"  {line}")
    rest = [line for line in log if "graphql" not in line]
    queries = [line["graphql"] for line in log if "graphql" in line]
    say(f"fakehub answered {len(rest)} REST requests ({sum(line['counted'] for line in rest)} "
        f"counted against the core rate limit) and {len(queries)} GraphQL queries "
        f"({sum(query['cost'] for query in queries)} points)")
    conn = open_store(config.store_path)
    try:
        as_of = harvest_end(conn)
        if as_of != world_now:  # the clock the whole demo rests on
            raise RuntimeError(f"the demo harvest ended at {as_of}, not the world's now {world_now}")
        say(f"\nAll figures are as of the world's last day, {world_now} (the harvest's end).\n")
        say(render_stats(store_stats(config.store_path, config)))
        listing = precompute.makers_listing(conn, config)
        picks = contrasting_makers(listing)
        say("\nThree makers, three paths:\n")
        for entry in picks:
            answer = precompute.maker_timeline(conn, config, entry["login"])
            say(render_timeline(answer, maker_names(conn, answer)))
            say("")
        gexf = outdir / "graph.gexf"
        options = exporter.ExportOptions()
        exporter.export("gexf", gexf, conn, config, options)
        csv_files = exporter.export("csv", outdir / "csv", conn, config, options)
        index = report.report(outdir / "report", conn, config)
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    say("Written:")
    say(f"  store          {config.store_path}")
    say(f"  Gephi (GEXF)   {gexf}")
    say(f"  spreadsheets   {', '.join(str(path) for path in csv_files)}")
    say(f"  report         {index}")
    say(f"demo finished in {seconds:.1f} s")
    return {"store": config.store_path, "gexf": gexf, "csv": csv_files, "report": index,
            "makers": [entry["key"] for entry in picks], "seconds": seconds, "served": served}


def regenerate_bundled_world() -> Path:
    """Write the bundled world from DEMO_WORLD with the generator (for maintainers)."""
    target = Path(__file__).parent / "data" / "demo-world.json.gz"
    with tempfile.TemporaryDirectory() as tmp:
        result = generate_world(Path(tmp) / "w", truth=False, **DEMO_WORLD)
        shutil.copyfile(result["world"], target)
    return target


if __name__ == "__main__":
    if sys.argv[1:] == ["--regenerate"]:
        print(regenerate_bundled_world())
