"""Test support: run the CLI as a user would, and harvest a generated world through a
real fakehub process over HTTP into a real store."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import cli_fork

from graphminer.fakehub.generator import generate_world
from graphminer.fakehub.testing import serve


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m graphminer ARGS`` with a test token and no user config (a process forked
    from ``cli_fork``'s server: the same run, without the interpreter's start-up)."""
    env = {**os.environ, "GITHUB_TOKEN": "test-token-not-secret"}
    env.pop("GRAPHMINER_CONFIG", None)
    return cli_fork.run(list(args), env=env, cwd=cwd, timeout=300)


def assert_one_line(done: subprocess.CompletedProcess, *words: str, code: int = 2) -> str:
    """The exit code expected, no traceback, exactly one line on standard error holding each
    of ``words``; returns that line (the README's contract for bad input)."""
    assert done.returncode == code, (done.returncode, done.stdout[-500:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def folder_state(folder: Path) -> dict[str, tuple[bytes, int] | None]:
    """Everything in ``folder``, recursively: each file's bytes and modification time (in
    nanoseconds), each folder by name. Equal before and after a command: nothing in it was
    written, created, touched or removed."""
    state: dict[str, tuple[bytes, int] | None] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        state[name] = (path.read_bytes(), path.stat().st_mtime_ns) if path.is_file() else None
    return state


def warm_graphql(hub) -> None:
    """Have fakehub build GitHub's GraphQL schema now (a second or more: it is built at its
    first GraphQL request), by a query with a token of its own, so that a test timing rate
    windows does not count that second in a harvest's first window."""
    request = urllib.request.Request(hub.url + "/graphql", method="POST",
                                     data=json.dumps({"query": "{ viewer { login } }"}).encode(),
                                     headers={"Authorization": "token tok-warm-up"})
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()


def harvest_generated(folder: Path, **sizes: int) -> tuple[dict, Path, list[str]]:
    """Generate a world in FOLDER/w, harvest all its orgs over HTTP: (made, store, orgs)."""
    made = generate_world(folder / "w", **sizes)
    data = json.load(gzip.open(made["world"], "rt", encoding="utf-8"))
    orgs = [org["login"] for org in data["orgs"]]
    store = folder / "store.sqlite"
    with serve(made["world"]) as hub:
        args = ["harvest", "--api-url", hub.url, "--store", str(store), "--cache", str(folder / "cache")]
        for org in orgs:
            args += ["--org", org]
        done = cli(*args, cwd=folder)
    assert done.returncode == 0, done.stderr[-3000:]
    return made, store, orgs
