"""``graphminer check``: a healthy store exits 0; a damaged one, orphan records or a
watermark naming no repo exit 1 with the problem and how to recover; nothing is written."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from harvest_support import cli, harvest_generated

SMALL = {"seed": 8, "orgs": 1, "repos_per_org": 2, "makers": 20, "years": 1}


@pytest.fixture(scope="module")
def harvested(tmp_path_factory) -> Path:
    _, store, _ = harvest_generated(tmp_path_factory.mktemp("check"), **SMALL)
    return store


@pytest.fixture
def store(harvested, tmp_path) -> Path:
    copy = tmp_path / "store.sqlite"
    shutil.copyfile(harvested, copy)
    return copy


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(store: Path, sql: str) -> None:
    conn = sqlite3.connect(store)
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_healthy_store(store):
    before = digest(store)
    done = cli("check", "--store", str(store))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SQLite integrity check: ok" in done.stdout
    assert "rows per repo: fewest " in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "verdict: healthy"
    assert digest(store) == before


def test_orphan_records_are_a_problem(store):
    write(store, "INSERT INTO issues(repo_id, number, title) VALUES (987654321, 1, 'lost')")
    done = cli("check", "--store", str(store))
    assert done.returncode == 1
    assert "1 rows of issues belong to no stored repo" in done.stdout
    assert "NOT healthy" in done.stdout and "harvest --full" in done.stdout


def test_watermark_naming_no_repo_is_a_problem(store):
    write(store, "INSERT INTO _watermarks(scope, endpoint, since) VALUES ('repo:123', 'issues', 'soon')")
    done = cli("check", "--store", str(store))
    assert done.returncode == 1
    assert "watermark repo:123 issues names no stored repo" in done.stdout
    assert "unreadable time 'soon'" in done.stdout


def test_damaged_store_is_not_healthy(store):
    Path(f"{store}-wal").unlink(missing_ok=True)
    size = store.stat().st_size
    with open(store, "r+b") as handle:
        handle.seek(size // 2)
        handle.write(b"\xff" * 16384)
    before = digest(store)
    done = cli("check", "--store", str(store))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "NOT healthy" in done.stdout
    assert digest(store) == before


def test_not_a_store_is_bad_input(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_bytes(b"hello\n")
    done = cli("check", "--store", str(other))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert other.read_bytes() == b"hello\n"
