"""Bad input to harvest-git: one line, exit 2, no traceback, nothing stored lost; a corrupt
record in a log is a warning naming its line while the rest is harvested."""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from test_git_support import write_config

CTI = "civictechindex+CTI-website-backend"


def cli(*args: str) -> subprocess.CompletedProcess:
    """The real command in its own process, so a traceback would show on stderr."""
    return subprocess.run([sys.executable, "-m", "graphminer", *args], capture_output=True, text=True,
                          env={**os.environ, "GRAPHMINER_CONFIG": ""})


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_bad_paths_are_one_line_errors_and_keep_the_store(shared_dir: Path, tmp_path: Path) -> None:
    conf = str(write_config(tmp_path))
    good = shared_dir / "data" / "git-logs" / f"{CTI}.log.gz"
    assert cli("harvest-git", str(good), "--config", conf).returncode == 0
    store = tmp_path / "conf" / "store.sqlite"
    before = sqlite3.connect(store).execute("SELECT COUNT(*), SUM(LENGTH(files)) FROM commits").fetchone()

    not_repo = tmp_path / "plain-folder"
    not_repo.mkdir()
    assert_one_line_error(cli("harvest-git", str(not_repo), "--config", conf), "not a git repository")
    assert_one_line_error(cli("harvest-git", str(tmp_path / "missing.log.gz"), "--config", conf), "does not exist")
    broken = tmp_path / "acme+broken.log.gz"
    broken.write_bytes(gzip.compress(b"commit 123\n")[:15])
    assert_one_line_error(cli("harvest-git", str(broken), "--config", conf), "cannot read the git log")
    notes = tmp_path / "acme+notes.log"
    notes.write_text("shopping list\neggs\n")
    assert_one_line_error(cli("harvest-git", str(notes), "--config", conf), "not a saved git log")
    anonymous = tmp_path / "history.log"
    anonymous.write_bytes(gzip.decompress(good.read_bytes()))
    assert_one_line_error(cli("harvest-git", str(anonymous), "--config", conf), "--org and --repo")

    after = sqlite3.connect(store).execute("SELECT COUNT(*), SUM(LENGTH(files)) FROM commits").fetchone()
    assert after == before


def test_corrupt_record_is_a_warning_naming_its_line(shared_dir: Path, tmp_path: Path) -> None:
    text = gzip.decompress((shared_dir / "data" / "git-logs" / f"{CTI}.log.gz").read_bytes()).decode()
    lines = text.split("\n")
    dates = [i for i, line in enumerate(lines) if line.startswith("AuthorDate:")]
    broken_at = dates[10]
    lines[broken_at] = "AuthorDate: sometime last spring"
    commit_line = max(i for i in range(broken_at) if lines[i].startswith("commit ")) + 1
    log = tmp_path / "civictechindex+CTI-website-backend.log"
    log.write_text("stray text\nbefore the log\n" + "\n".join(lines))
    result = cli("harvest-git", str(log), "--config", str(write_config(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert f"{log}:1: text before the first 'commit' line" in result.stderr
    assert f"{log}:{commit_line + 2}: corrupt commit record skipped" in result.stderr
    assert "160 new commits" in result.stdout
