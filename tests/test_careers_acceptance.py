"""Acceptance of rules version 3's career milestones: generated worlds with outside
activity (generate --outside-share) are harvested through a real fakehub over HTTP with
following on; ``makers --json --as-of <truth's as_of>`` agrees with truth.json (fakehub's
independent truth_careers.py) for >= 99.5% of (maker, milestone) pairs, all milestones and
the five career ones alike, and every career milestone is reached by someone."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path

import cli_fork
import pytest
from test_trajectory_acceptance import mismatches

from graphminer.fakehub.testing import serve
from graphminer.milestones import CAREER_KEYS


def graphminer(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return cli_fork.run(list(args), env=env, cwd=cwd)


@pytest.mark.parametrize("seed", [3, 11])
def test_career_milestones_match_the_truth(tmp_path, seed):
    world_dir = tmp_path / "world"
    made = graphminer("fakehub", "generate", "--seed", str(seed), "--out", str(world_dir),
                      "--outside-share", "0.25")
    assert made.returncode == 0, made.stderr
    world = json.loads(gzip.decompress((world_dir / "world.json.gz").read_bytes()))
    truth = json.loads((world_dir / "truth.json").read_text())
    harvested = [org["login"] for org in world["orgs"] if not org.get("outside")]
    assert len(harvested) < len(world["orgs"])
    reached = {key: sum(1 for maker in truth["makers"].values() if maker["milestones"][key])
               for key in CAREER_KEYS}
    assert all(reached.values()), reached
    config = tmp_path / "g.toml"
    config.write_text(f"[harvest]\norgs = {json.dumps(harvested)}\n[careers]\nfollow = true\n",
                      encoding="utf-8")
    store = tmp_path / "store.sqlite"
    env = {**os.environ, "GITHUB_TOKEN": "careers-acceptance"}
    env.pop("GRAPHMINER_CONFIG", None)
    with serve(world_dir / "world.json.gz", search_rate_limit=10_000) as hub:  # pacing: test_follow
        run = graphminer("harvest", "--config", str(config), "--api-url", hub.url, "--store",
                         str(store), "--cache", str(tmp_path / "cache"), env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        searches = [line for line in hub.log_lines() if line["path"] == "/search/issues"]
        assert searches and all(line["status"] == 200 for line in searches)
    result = graphminer("makers", "--config", str(config), "--store", str(store), "--as-of",
                        truth["as_of"], "--json", "--include-bots", env=env)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    pairs, wrong = mismatches(truth, listing)
    for key, name, expected, got in wrong:
        print(f"seed {seed}: maker {key} {name}: truth {expected}, ours {got}")
    assert 1 - len(wrong) / pairs >= 0.995
    career_pairs = sum(1 for maker in truth["makers"].values() if not maker["is_bot"]) * len(CAREER_KEYS)
    career_wrong = [entry for entry in wrong if entry[1] in CAREER_KEYS]
    assert 1 - len(career_wrong) / career_pairs >= 0.995, career_wrong
    ours = {key: sum(1 for maker in listing if maker["milestones"][key]) for key in CAREER_KEYS}
    assert all(ours.values()), ours
    # graphminer careers counts what the truth counts, and says it in words
    table = graphminer("careers", "--config", str(config), "--store", str(store), "--as-of",
                       truth["as_of"], "--json", env=env)
    assert table.returncode == 0, table.stderr
    summary = json.loads(table.stdout)
    landed = [maker for maker in truth["makers"].values()
              if not maker["is_bot"] and maker["milestones"]["first_landed"]]
    assert abs(summary["landed"] - len(landed)) <= max(1, len(landed) // 100)
    for row in summary["destinations"]:
        expected = sum(1 for maker in landed if maker["milestones"][row["milestone"]])
        assert abs(row["reached"] - expected) <= max(1, len(landed) // 100), row
        assert sum(reached for _, reached in row["cohorts"].values()) == row["reached"]
    words = graphminer("careers", "--config", str(config), "--store", str(store), "--as-of",
                       truth["as_of"], env=env)
    assert f"Of the {summary['landed']} people whose first contribution landed in the network" in words.stdout


def test_careers_bad_org_is_one_line(tmp_path):
    done = graphminer("careers", "--store", str(tmp_path / "missing.sqlite"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
