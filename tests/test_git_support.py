"""Helpers for the git harvester and identity tests: real git repositories, configs,
and the CLI run in-process. (Holds one check of its own: the helper builds what it says.)"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner

from graphminer.cli import main

GITHUB = ("GitHub", "noreply@github.com")


class Repo:
    """A real git repository built commit by commit with chosen authors and dates."""

    def __init__(self, path: Path, remote: str | None = "https://github.com/exampleorg/examplerepo.git"):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        if remote:
            self.git("remote", "add", "origin", remote)
        self.clock = 1_600_000_000
        self.count = 0

    def git(self, *args: str, env: dict | None = None) -> str:
        result = subprocess.run(
            ["git", "-C", str(self.path), *args], capture_output=True, text=True,
            env={**os.environ, **(env or {})}, check=True,
        )
        return result.stdout.strip()

    def _env(self, author: tuple[str, str], committer: tuple[str, str] | None) -> dict:
        self.clock += 3600
        committer = committer or author
        date = f"{self.clock} +0200"
        return {
            "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1], "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_COMMITTER_DATE": date,
        }

    def commit(self, author: tuple[str, str], message: str = "", committer: tuple[str, str] | None = None,
               files: list[str] | None = None) -> str:
        """Commit changes to ``files`` (default: one new file) and return the sha."""
        self.count += 1
        for name in files or [f"file{self.count}.txt"]:
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"change {self.count}\n")
            self.git("add", name)
        self.git("commit", "-q", "-m", message or f"change {self.count}", env=self._env(author, committer))
        return self.head()

    def merge(self, branch: str, message: str, author: tuple[str, str],
              committer: tuple[str, str] | None = None) -> str:
        self.git("merge", "-q", "--no-ff", branch, "-m", message, env=self._env(author, committer))
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def write_config(tmp_path: Path, *, mailmap: str | None = None, split: list[str] | None = None,
                 opt_out: list[str] | None = None, bots: str | None = None) -> Path:
    """A config in tmp_path whose store, mailmap and bots files live there too."""
    folder = tmp_path / "conf"
    folder.mkdir(parents=True, exist_ok=True)
    if mailmap is not None:
        (folder / "mailmap").write_text(mailmap)
    if bots is not None:
        (folder / "bots.txt").write_text(bots)
    quoted = lambda items: "[" + ", ".join(f'"{item}"' for item in items or []) + "]"  # noqa: E731
    path = folder / "graphminer.toml"
    path.write_text(
        f'[paths]\nstore = "store.sqlite"\ncache = "cache"\n'
        f'[people]\nmailmap = "mailmap"\nbots = "bots.txt"\n'
        f"split = {quoted(split)}\nopt_out = {quoted(opt_out)}\n"
    )
    return path


def run(*args: str):
    """The graphminer CLI in-process; returns click's Result (stdout, stderr, exit_code)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_repo_helper_builds_merges(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    base = repo.commit(("Ann Lee", "ann@example.org"))
    repo.git("checkout", "-q", "-b", "feature")
    tip = repo.commit(("Bo Chen", "bo@example.org"))
    repo.git("checkout", "-q", "main")
    merge = repo.merge("feature", "Merge pull request #1 from bo/feature", ("Ann Lee", "ann@example.org"))
    assert repo.git("rev-list", "--parents", "-n", "1", merge).split() == [merge, base, tip]


def fast_import_stream(text: str) -> bytes:
    """A git fast-import stream (from a saved log's text) with the log's commits, authors, dates, messages and
    parents (file contents made up: the log holds none)."""
    out = []
    marks: dict[str, int] = {}
    for number, chunk in enumerate(re.split(r"^commit ", text, flags=re.MULTILINE)[1:], start=1):
        head, _, rest = chunk.partition("\n")
        shas = head.split(" (")[0].split()
        marks[shas[0]] = number
        fields = dict(re.findall(r"^(Author|AuthorDate|Commit|CommitDate): +(.*)$", rest, re.MULTILINE))
        data = ("\n".join(line[4:] for line in rest.split("\n") if line.startswith("    ")) + "\n").encode()
        if len(shas) == 1:
            out.append(b"reset refs/heads/main\n")
        out.append(f"commit refs/heads/main\nmark :{number}\n"
                   f"author {fields['Author']} {raw_date(fields['AuthorDate'])}\n"
                   f"committer {fields['Commit']} {raw_date(fields['CommitDate'])}\n"
                   f"data {len(data)}\n".encode() + data)
        parents = [marks[p] for p in shas[1:] if p in marks]
        if parents:
            out.append(f"from :{parents[0]}\n".encode())
        out += [f"merge :{p}\n".encode() for p in parents[1:]]
        out.append(f"M 100644 inline f{number % 97}.txt\ndata {len(str(number)) + 1}\n{number}\n\n".encode())
    return b"".join(out)


def raw_date(text: str) -> str:
    moment = datetime.strptime(text, "%a %b %d %H:%M:%S %Y %z")
    return f"{int(moment.timestamp())} {text.split()[-1]}"
