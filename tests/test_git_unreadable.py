"""A saved git log with unreadable stretches is read where it can be, with one warning
saying how many lines were skipped and where; an empty log, or one of which nothing can
be read, is one line, exit 2, and adds nothing (not even a repo) to the store."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from harvest_support import cli

LOG_ARGS = ["log", "--reverse", "--topo-order", "--raw", "--pretty=fuller", "--decorate=short",
            "--parents", "--no-renames", "HEAD"]


@pytest.fixture(scope="module")
def log_lines(tmp_path_factory) -> list[str]:
    """The saved log of a real six-commit repository, as lines."""
    repo = tmp_path_factory.mktemp("repo")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for number in range(1, 7):
        (repo / f"f{number}.txt").write_text(f"{number}\n")
        env = {**os.environ, "GIT_AUTHOR_DATE": f"2024-0{number}-01T10:00:00Z",
               "GIT_COMMITTER_DATE": f"2024-0{number}-01T10:00:00Z"}
        subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
        subprocess.run(["git", "-C", str(repo), "-c", f"user.name=Ann {number}", "-c",
                        f"user.email=ann{number}@example.org", "commit", "-q", "-m", f"change {number}"],
                       check=True, env=env)
    text = subprocess.run(["git", "-C", str(repo), *LOG_ARGS], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\n")


def repos(store: Path) -> list[str]:
    if not store.exists():
        return []
    conn = sqlite3.connect(store)
    try:
        return [row[0] for row in conn.execute("SELECT full_name FROM repos ORDER BY full_name")]
    finally:
        conn.close()


def test_garbage_spliced_in_is_skipped_with_one_warning(log_lines, tmp_path):
    second = [i for i, line in enumerate(log_lines) if line.startswith("commit ")][1]
    spliced = log_lines[: second - 1] + ["\x00\x01garbage", "@@ not git @@", "zzz"] + log_lines[second - 1:]
    log = tmp_path / "acme+tool.log"
    log.write_text("\n".join(spliced))
    done = cli("harvest-git", str(log), "--store", str(tmp_path / "s.sqlite"))
    assert done.returncode == 0, done.stderr
    assert "6 new commits" in done.stdout  # every commit read, garbage and all
    assert f"{log}: 3 unreadable lines skipped, at lines {second}-{second + 2}" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"commit hello\nnot a log\n"])
def test_empty_or_unreadable_log_adds_nothing(tmp_path, content):
    store = tmp_path / "s.sqlite"
    log = tmp_path / "acme+empty.log"
    log.write_bytes(content)
    done = cli("harvest-git", str(log), "--store", str(store))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "empty git log" in lines[0] or "no commit record could be read" in lines[0]
    assert repos(store) == []  # no phantom repo
    assert hashlib.sha256(log.read_bytes()).digest() == hashlib.sha256(content).digest()
