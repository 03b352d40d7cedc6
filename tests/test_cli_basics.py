"""The CLI shell: help, version, bad config keys exit 2 with one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from graphminer.config import load_config
from graphminer.errors import BadInput
from graphminer.store import git_repo_id, open_store, schema_version


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphminer", *args], capture_output=True, text=True, cwd=cwd
    )


def test_help_lists_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "fakehub" in result.stdout


def test_unknown_config_key_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[harvest]\norgz = ['x']\n")
    with pytest.raises(BadInput) as error:
        load_config(config)
    assert "harvest.orgz" in error.value.message
    assert "\n" not in error.value.message


def test_wrong_type_names_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[harvest]\ninclude_forks = 'yes'\n")
    with pytest.raises(BadInput, match="harvest.include_forks"):
        load_config(config)


def test_relative_paths_resolve_against_config_folder(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[paths]\nstore = 'data/s.sqlite'\n")
    assert load_config(config).store_path == tmp_path / "data" / "s.sqlite"


def test_store_migrates_and_refuses_newer(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    conn = open_store(path)
    version = schema_version(conn)
    assert version >= 1
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"repos", "issues", "commits", "_runs", "_watermarks"} <= tables
    conn.execute("INSERT INTO _migrations VALUES (9999, 'future', 'x')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(BadInput, match="newer"):
        open_store(path)
    assert path.read_bytes() == before


def test_git_repo_ids_are_negative_and_stable() -> None:
    assert git_repo_id("hackforla/website") == git_repo_id("HackForLA/Website") < 0
    assert git_repo_id("a/b") != git_repo_id("a/c")
