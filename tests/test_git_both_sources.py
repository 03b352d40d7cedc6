"""The same repository through the API (fakehub serving a world built from a real git log)
and through git: one repos row, one commit row per sha (source 'both', files filled), the
same makers whichever sources were harvested."""

from __future__ import annotations

import gzip
import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import cli_fork

from graphminer.fakehub.gitlog_world import world_from_git_logs
from graphminer.fakehub.testing import serve

CTI = "civictechindex+CTI-website-backend"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GITHUB_TOKEN": "test-token-not-secret"}
    env.pop("GRAPHMINER_CONFIG", None)
    return cli_fork.run(list(args), env=env, timeout=300, cwd=cwd)


def test_api_then_git_is_one_commit_and_one_maker_each(shared_dir: Path, tmp_path: Path) -> None:
    log = shared_dir / "data" / "git-logs" / f"{CTI}.log.gz"
    text = gzip.decompress(log.read_bytes()).decode()
    expected = len(re.findall(r"^commit [0-9a-f]{40}", text, re.MULTILINE))
    made = world_from_git_logs([str(log)], tmp_path / "world")
    world = json.load(gzip.open(made["world"], "rt", encoding="utf-8"))
    (tmp_path / "graphminer.toml").write_text("[people]\n", "utf-8")
    store = tmp_path / "store.sqlite"
    common = ["--store", str(store), "--config", str(tmp_path / "graphminer.toml")]
    with serve(made["world"]) as hub:
        done = cli("harvest", "--api-url", hub.url, "--cache", str(tmp_path / "cache"),
                   "--org", world["orgs"][0]["login"], *common, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    conn = sqlite3.connect(store)
    api_only = dict(((repo, sha), key) for repo, sha, key in conn.execute(
        "SELECT repo_id, sha, author_key FROM commit_makers"))
    assert len(api_only) == expected

    done = cli("harvest-git", str(log), *common, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "0 new commits" in done.stdout and f"{expected} updated" in done.stdout
    repos = conn.execute("SELECT id, source FROM repos WHERE lower(full_name) = lower('civictechindex/CTI-website-backend')").fetchall()
    assert len(repos) == 1 and repos[0][0] > 0  # the API's row, reused
    rows = conn.execute("SELECT source, files IS NOT NULL, author_id IS NOT NULL FROM commits").fetchall()
    assert len(rows) == expected
    assert all(source == "both" and has_files for source, has_files, _ in rows)
    assert any(linked for _, _, linked in rows)
    both = dict(((repo, sha), key) for repo, sha, key in conn.execute(
        "SELECT repo_id, sha, author_key FROM commit_makers"))
    assert both == api_only
    assert conn.execute("SELECT SUM(commits) FROM makers").fetchone()[0] == expected
    # every API-linked commit belongs to its account's maker
    for sha, author_id in conn.execute("SELECT sha, author_id FROM commits WHERE author_id IS NOT NULL"):
        assert both[(repos[0][0], sha)] == str(author_id)
