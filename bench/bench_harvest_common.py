"""Shared parts of the harvest benchmarks: generating a world, serving it, harvesting it
in-process, reading fakehub's request log, and the request floor of a world.

The floor is computed from the world's records, not from the harvester: for every
listing the harvest must make, max(1, ceil(items / 100)) pages, plus one call per pull
request for its reviews (as many pages as its reviews need) and the per-org calls.
"""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphminer.config import parse_config  # noqa: E402
from graphminer.harvest.github import Summary  # noqa: E402
from graphminer.harvest.progress import Progress  # noqa: E402
from graphminer.pipeline import harvest_github  # noqa: E402

TOKEN = "bench-token"


def generate(out: Path, *, seed: int, orgs: int, repos_per_org: int, makers: int, years: int,
             delta_days: int = 0, flags: tuple[str, ...] = ()) -> Path:
    """Run the real generator (``flags``: more of its options); returns the folder holding
    world.json.gz and its deltas."""
    subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate", "--seed", str(seed),
                    "--orgs", str(orgs), "--repos-per-org", str(repos_per_org), "--makers",
                    str(makers), "--years", str(years), "--delta-days", str(delta_days),
                    "--no-truth", "--out", str(out), *flags], check=True, capture_output=True,
                   cwd=ROOT)
    return out


def load(path: Path) -> dict:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def pages(items: int) -> int:
    return max(1, math.ceil(items / 100))


def request_floor(world: dict) -> int:
    """The fewest requests a complete harvest of ``world`` can make (see module docstring)."""
    per_repo: dict[str, dict[int, int]] = {}
    for collection in ("issues", "issue_comments", "issue_events", "review_comments", "commits", "releases"):
        counts: dict[int, int] = {}
        for record in world[collection]:
            counts[record["repo_id"]] = counts.get(record["repo_id"], 0) + 1
        per_repo[collection] = counts
    wanted = {r["id"] for r in world["repos"]
              if not r.get("fork") and not r.get("blocked") and not r.get("private")}
    prs: dict[int, int] = {}
    reviews: dict[tuple[int, int], int] = {}
    for issue in world["issues"]:
        if issue.get("pull_request") and issue["repo_id"] in wanted:
            prs[issue["repo_id"]] = prs.get(issue["repo_id"], 0) + 1
            reviews[(issue["repo_id"], issue["number"])] = 0
    for review in world["reviews"]:
        key = (review["repo_id"], review["pr_number"])
        if key in reviews:
            reviews[key] += 1
    total = 0
    for org in world["orgs"]:
        if org.get("outside"):
            continue
        org_repos = [r for r in world["repos"] if r["owner"].lower() == org["login"].lower()
                     and not r.get("private")]
        total += 1 + pages(len(org.get("public_members") or [])) + pages(len(org_repos))
    for rid in wanted:
        total += pages(per_repo["issues"].get(rid, 0)) + pages(prs.get(rid, 0))
        for collection in ("issue_comments", "issue_events", "review_comments", "commits", "releases"):
            total += pages(per_repo[collection].get(rid, 0))
    total += sum(pages(n) for n in reviews.values())
    return total


def config_for(world: dict, folder: Path, every_days: int | None = None):
    """The harvest config of ``world``'s orgs (``every_days``: ``full_every_days``; 0 sweeps
    every listing of every repo tonight, as a sweep night does, with its watermarks)."""
    orgs = json.dumps([org["login"] for org in world["orgs"] if not org.get("outside")])
    sweep = "" if every_days is None else f"full_every_days = {every_days}\n"
    text = f'[harvest]\norgs = {orgs}\n{sweep}[paths]\nstore = "store.sqlite"\ncache = "cache"\n'
    return parse_config(text, source="bench", base_dir=folder)


def harvest_once(world: dict, url: str, folder: Path, *, full: bool = False,
                 tokens: list[str] | None = None, api: str = "rest",
                 every_days: int | None = None) -> tuple[Summary, float]:
    """One in-process harvest into ``folder`` (``api``: how issues and PRs are read; REST
    by default, the baseline of every bench; ``every_days``: see ``config_for``); returns
    its summary and wall time."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    summary = harvest_github(config_for(world, folder, every_days), api_url=url, full=full,
                             tokens=tokens or [TOKEN], api=api,
                             say=lambda message: None, progress=Progress(False))
    return summary, time.perf_counter() - started


def log_count(hub) -> int:
    return len(hub.log_path.read_bytes().splitlines()) if hub.log_path.exists() else 0


def log_since(hub, start: int) -> list[dict]:
    lines = hub.log_path.read_bytes().splitlines()[start:]
    return [json.loads(line) for line in lines if line.strip()]


def workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
