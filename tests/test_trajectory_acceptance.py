"""THE acceptance test of issue #5: generated worlds harvested through fakehub over HTTP;
network-scope milestones of ``makers --json --as-of <truth's as_of>`` equal truth.json
(fakehub's independent implementation of the rules) for >= 99.5% of (maker, milestone)
pairs. Every mismatch is printed with the maker, the milestone and both dates.
"""

from __future__ import annotations

import collections
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphminer.fakehub.testing import serve


def graphminer(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphminer", *args], capture_output=True,
                          text=True, env=env)


def harvested(tmp_path: Path, seed: int, *sizes: str) -> tuple[dict, Path]:
    """Generate a world, serve it with fakehub, harvest it over HTTP; (truth, store)."""
    world_dir = tmp_path / f"world-{seed}"
    made = graphminer("fakehub", "generate", "--seed", str(seed), "--out", str(world_dir), *sizes)
    assert made.returncode == 0, made.stderr
    world = json.loads(gzip.decompress((world_dir / "world.json.gz").read_bytes()))
    truth = json.loads((world_dir / "truth.json").read_text())
    store = tmp_path / f"store-{seed}.sqlite"
    env = dict(os.environ, GITHUB_TOKEN="acceptance-token")
    with serve(world_dir / "world.json.gz") as hub:
        orgs = [arg for org in world["orgs"] for arg in ("--org", org["login"])]
        run = graphminer("harvest", "--api-url", hub.url, "--store", str(store),
                         "--cache", str(tmp_path / f"cache-{seed}"), *orgs, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    return truth, store


def mismatches(truth: dict, listing: list[dict]) -> tuple[int, list[tuple]]:
    """(pairs compared, [(key, milestone, truth's date, ours)])."""
    ours = {maker["key"]: maker for maker in listing}
    pairs, wrong = 0, []
    for key, expected in truth["makers"].items():
        got = ours.get(key)
        if expected["is_bot"]:
            if got is not None:
                assert got["is_bot"], f"{key} is a bot in the truth"
            continue
        for name, date in expected["milestones"].items():
            pairs += 1
            value = got["milestones"].get(name) if got else "(maker missing)"
            if value != date:
                wrong.append((key, name, date, value))
    return pairs, wrong


@pytest.mark.slow
@pytest.mark.parametrize("seed,sizes", [
    (1, ()), (2, ()), (5, ("--makers", "300", "--orgs", "3", "--years", "6")),
])
def test_network_milestones_match_the_ground_truth(tmp_path, seed, sizes):
    truth, store = harvested(tmp_path, seed, *sizes)
    result = graphminer("makers", "--store", str(store), "--as-of", truth["as_of"], "--json",
                        "--include-bots")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    pairs, wrong = mismatches(truth, listing)
    by_milestone = collections.Counter(name for _, name, _, _ in wrong)
    for key, name, expected, got in wrong:
        print(f"seed {seed}: maker {key} {name}: truth {expected}, ours {got}")
    print(f"seed {seed}: {pairs} pairs, {len(wrong)} mismatches {dict(by_milestone)}")
    assert pairs > 1000  # a world with real content
    reached = sum(1 for m in truth["makers"].values() for v in m["milestones"].values() if v)
    assert reached > pairs / 4  # and milestones that are actually reached
    assert 1 - len(wrong) / pairs >= 0.995
    # every person the truth lists with an action is ours too, with the same key
    listed = {maker["key"] for maker in listing}
    people = {k for k, m in truth["makers"].items() if not m["is_bot"]}
    assert people <= listed
