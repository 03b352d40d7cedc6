"""Bad input to ``graphminer harvest`` as a new user meets it (issue 23): a token that is
not ASCII, ``GITHUB_TOKENS`` holding only commas, an org with a slash, a store from a newer
graphminer: each is one line on standard error, exit 2, and nothing written, created or
touched. An API that cannot be reached is not bad input: exit 1, as the README says.

Each case runs the real CLI in its own process against one real fakehub process shared by
the module (its world is only read), and compares the folder's every byte and mtime before
and after.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
from pathlib import Path

import cli_fork
import pytest
from conftest import FIXTURES, ROOT
from harvest_support import assert_one_line, folder_state

from graphminer.fakehub.testing import serve
from graphminer.store import migrations, open_store

WORLD = FIXTURES / "fakehub-small.json"  # orgs civic and opengov


@pytest.fixture(scope="module")
def hub():
    """One fakehub for the module: no test here changes its world."""
    with serve(WORLD) as running:
        yield running


def run_harvest(folder: Path, *args: str, tokens: dict[str, str] | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess:
    """``graphminer harvest`` with the store and cache in ``folder`` and only ``tokens``
    (GITHUB_TOKEN / GITHUB_TOKENS) in its environment."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("GITHUB_TOKEN", "GITHUB_TOKENS", "GRAPHMINER_CONFIG")}
    env.update(tokens or {"GITHUB_TOKEN": "test-token-not-secret"})
    return cli_fork.run(["harvest", "--store", str(folder / "store.sqlite"), "--cache", str(folder / "cache"),
                         *args], env=env, cwd=folder, timeout=timeout)


def requests_seen(hub) -> int:
    return hub.stats()["requests"]


@pytest.mark.parametrize("tokens, place", [
    ({"GITHUB_TOKEN": "ghp_t\u00f6ken"}, "GITHUB_TOKEN"),
    ({"GITHUB_TOKENS": "ghp_fine,ghp_\u2013dash"}, "#2 of GITHUB_TOKENS"),
])
def test_a_token_that_is_not_ascii_is_bad_input(hub, tmp_path, tokens, place):
    before, asked = folder_state(tmp_path), requests_seen(hub)
    done = run_harvest(tmp_path, "--api-url", hub.url, "--org", "civic", tokens=tokens)
    line = assert_one_line(done, "ASCII", place)
    assert "t\u00f6ken" not in line and "dash" not in line  # never the token itself
    assert folder_state(tmp_path) == before
    assert requests_seen(hub) == asked


def test_tokens_holding_only_commas_are_bad_input(hub, tmp_path):
    """Not a harvest without a token (which would wait an hour for GitHub's 60 requests)."""
    before, asked = folder_state(tmp_path), requests_seen(hub)
    done = run_harvest(tmp_path, "--api-url", hub.url, "--org", "civic",
                       tokens={"GITHUB_TOKENS": ",,,"}, timeout=60)
    assert_one_line(done, "GITHUB_TOKENS", "no token")
    assert folder_state(tmp_path) == before
    assert requests_seen(hub) == asked


def test_an_org_with_a_slash_is_bad_input_naming_it(hub, tmp_path):
    before, asked = folder_state(tmp_path), requests_seen(hub)
    done = run_harvest(tmp_path, "--api-url", hub.url, "--org", "civic", "--org", "g0v/extra")
    assert_one_line(done, "'g0v/extra'", "--org", "no slash")
    assert folder_state(tmp_path) == before
    config = tmp_path / "graphminer.toml"
    config.write_text('[harvest]\norgs = ["civic", "opengov/site"]\n', encoding="utf-8")
    before = folder_state(tmp_path)
    done = run_harvest(tmp_path, "--api-url", hub.url, "--config", str(config))
    assert_one_line(done, "'opengov/site'", "harvest.orgs", "no slash")
    assert folder_state(tmp_path) == before
    assert requests_seen(hub) == asked


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def readme_exit_codes() -> str:
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    return re.search(r"Exit codes: 0 done; (.*?); 2 bad input", text).group(1)


@pytest.mark.parametrize("tokens", [{"GITHUB_TOKEN": "tok-1"}, {"GITHUB_TOKENS": "tok-1,tok-2"}])
def test_an_unreachable_api_exits_1_as_the_readme_says(tmp_path, tokens):
    """One token or several (several are probed first): the connection failing past every
    retry is exit 1, as the README's exit codes have it, not 2 (bad input)."""
    assert readme_exit_codes().startswith("1 ") and "connection failed" in readme_exit_codes()
    (tmp_path / "quick.toml").write_text("[harvest]\nmax_retries = 0\n", encoding="utf-8")
    done = run_harvest(tmp_path, "--api-url", f"http://127.0.0.1:{closed_port()}", "--org",
                       "civic", "--config", str(tmp_path / "quick.toml"), tokens=tokens)
    assert_one_line(done, "cannot reach the GitHub API", "--api-url", code=1)


def store_from_a_newer_graphminer(path: Path) -> int:
    """A real store (made by open_store, in WAL mode as every store is) whose header says
    a later graphminer wrote it: user_version above the newest migration known here."""
    open_store(path).close()
    newer = migrations()[-1][0] + 5
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={newer}")
    conn.close()
    return newer


def test_a_store_from_a_newer_graphminer_is_refused_untouched(hub, tmp_path):
    """No write, no version reset, no -wal or -shm beside it, no backup: bytes and mtime
    of every file in its folder are what they were."""
    newer = store_from_a_newer_graphminer(tmp_path / "store.sqlite")
    (tmp_path / "cache").mkdir()
    before = folder_state(tmp_path)
    done = run_harvest(tmp_path, "--api-url", hub.url, "--org", "civic")
    assert_one_line(done, "newer", str(newer), "not touched")
    assert folder_state(tmp_path) == before
    for command in (["makers"], ["check"], ["harvest-git", str(ROOT), "--org", "a", "--repo", "b"]):
        done = cli_fork.run([*command, "--store", str(tmp_path / "store.sqlite")],
                            env={**os.environ, "GRAPHMINER_CONFIG": ""}, cwd=tmp_path, timeout=120)
        assert_one_line(done, "newer", str(newer))
        assert folder_state(tmp_path) == before, command
