"""Bad input to harvest-git: one line, exit 2, no traceback, nothing stored lost; a corrupt
record in a log is a warning naming its line while the rest is harvested."""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
from pathlib import Path

import cli_fork
from harvest_support import assert_one_line, folder_state
from test_git_support import Repo, write_config

CTI = "civictechindex+CTI-website-backend"


def cli(*args: str) -> subprocess.CompletedProcess:
    """The real command in its own process, so a traceback would show on stderr."""
    return cli_fork.run(list(args), env={**os.environ, "GRAPHMINER_CONFIG": ""})


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


def test_a_folder_that_is_not_a_repository_makes_no_store(tmp_path: Path) -> None:
    """Refused before the store is made: no empty store left behind (issue 23)."""
    conf = write_config(tmp_path)
    folder = tmp_path / "plain-folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("not history\n")
    before = folder_state(tmp_path)
    assert_one_line(cli("harvest-git", str(folder), "--config", str(conf), "--org", "acme", "--repo", "site"),
                    "not a git repository")
    assert folder_state(tmp_path) == before
    assert not (tmp_path / "conf" / "store.sqlite").exists()


def test_an_owner_or_repository_with_a_slash_is_bad_input(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(("Ann Lee", "ann@example.org"))
    conf = write_config(tmp_path)
    before = folder_state(tmp_path)
    assert_one_line(cli("harvest-git", str(repo.path), "--config", str(conf), "--org", "acme/site"),
                    "'acme/site'", "--org", "no slash")
    assert_one_line(cli("harvest-git", str(repo.path), "--config", str(conf), "--repo", "acme/site"),
                    "'acme/site'", "--repo")
    assert folder_state(tmp_path) == before


def test_a_shallow_clone_is_harvested_with_a_warning(tmp_path: Path) -> None:
    """A real `git clone --depth 2`: its commits are stored, with one warning that history
    before the shallow boundary is missing; the whole repository gets no such warning."""
    origin = Repo(tmp_path / "origin")
    for number in range(5):
        origin.commit((f"Maker {number}", f"maker{number}@example.org"))
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{origin.path}", str(clone)],
                   check=True, capture_output=True)
    in_clone = int(subprocess.run(["git", "-C", str(clone), "rev-list", "--count", "HEAD"],
                                  check=True, capture_output=True, text=True).stdout)
    assert in_clone == 2  # git's own count: the clone is shallow
    shallow = cli("harvest-git", str(clone), "--config", str(write_config(tmp_path / "a")))
    assert shallow.returncode == 0, shallow.stderr
    warnings = [line for line in shallow.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "shallow" in warnings[0], shallow.stderr
    assert "first contacts may be late" in warnings[0]
    assert f"{in_clone} new commits" in shallow.stdout
    whole = cli("harvest-git", str(origin.path), "--config", str(write_config(tmp_path / "b")))
    assert whole.returncode == 0 and "shallow" not in whole.stderr, whole.stderr
    assert "5 new commits" in whole.stdout
