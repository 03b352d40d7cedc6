"""The CLI shell: help, version, bad config keys exit 2 with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cli_fork
import pytest
from harvest_support import assert_one_line, cli, folder_state
from test_git_support import Repo

from graphminer.config import load_config
from graphminer.errors import BadInput
from graphminer.store import git_repo_id, open_store, schema_version


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return cli_fork.run(list(args), cwd=cwd)


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


@pytest.mark.parametrize("command", [
    ["harvest", "--org", "civic"], ["harvest-git", "."], ["makers"], ["export", "gexf", "g.gexf"],
])
def test_a_config_that_is_a_folder_or_binary_is_not_a_toml_file(tmp_path: Path, command) -> None:
    """Not "does not exist" for a folder, nor a codec's complaint for a binary file (issue
    23): one line saying it is not a TOML file, exit 2, nothing made."""
    (tmp_path / "config-folder").mkdir()
    (tmp_path / "picture.png").write_bytes(bytes(range(256)) * 4)
    before = folder_state(tmp_path)
    for given in ("config-folder", "picture.png"):
        done = cli(*command, "--config", str(tmp_path / given), "--store", str(tmp_path / "s.sqlite"),
                   cwd=tmp_path)
        line = assert_one_line(done, "not a TOML file", given)
        assert "does not exist" not in line and "codec" not in line
        assert folder_state(tmp_path) == before


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    """A store harvested by the real CLI from a real git repository of 40 makers."""
    folder = tmp_path_factory.mktemp("small-store")
    repo = Repo(folder / "repo")
    for number in range(40):
        repo.commit((f"Maker Number{number}", f"maker{number}@example.org"))
    done = cli("harvest-git", str(repo.path), "--store", str(folder / "store.sqlite"), cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "store.sqlite"


@pytest.mark.parametrize("command", [
    ["identities"], ["identities", "--json"], ["makers"], ["makers", "--json"], ["stats"],
    ["trajectory", "maker7@example.org"], ["check"], ["makers", "--help"], ["--help"],
])
def test_output_read_by_a_reader_gone_away_ends_quietly(small_store, command) -> None:
    """`graphminer identities | head -1`, made certain: the pipe's reading end is closed
    before the command writes. It ends as git does: no error, nothing on standard error,
    the shell's status for SIGPIPE (141), never "internal error"."""
    reading, writing = os.pipe()
    os.close(reading)
    env = {**os.environ, "GRAPHMINER_CONFIG": ""}
    args = [*command, "--store", str(small_store)] if "--help" not in command else command
    try:
        done = subprocess.run([sys.executable, "-m", "graphminer", *args], stdout=writing,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    finally:
        os.close(writing)
    assert done.stderr == "" and done.returncode == 141, (done.returncode, done.stderr)


def test_output_read_by_head_ends_quietly(small_store) -> None:
    """The shell pipeline itself (whether `head` leaves before or after the last write)."""
    done = subprocess.run(f'"{sys.executable}" -m graphminer identities --store "{small_store}" | head -1; '
                          'echo "status ${PIPESTATUS[0]}" >&2', shell=True, executable="/bin/bash",
                          capture_output=True, text=True, env={**os.environ, "GRAPHMINER_CONFIG": ""},
                          timeout=120)
    assert len(done.stdout.splitlines()) == 1
    status = done.stderr.strip().splitlines()[-1]
    assert done.stderr.strip().splitlines() == [status] and status in ("status 0", "status 141"), done.stderr
