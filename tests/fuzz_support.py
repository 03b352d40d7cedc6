"""The CLI fuzz: random commands and arguments against a folder of awkward files.

A ``Playground`` holds a real harvested store and every kind of path a user can type: a
missing file, a folder, an empty file, another tool's SQLite, a damaged store, the HTTP
cache, a read-only folder, a project checkout, bad and good configs. ``commands()`` draws a
whole command line; ``run_case`` runs it in-process (click's CliRunner: a subprocess costs a
second of imports per case) and returns what broke the rules, if anything: a traceback, an
exit code other than 0, 1 or 2, more than one line on exit 2, or a file graphminer did not
write changed or gone. Commands that run until stopped (``fakehub serve``) and the slow
happy path of ``demo`` are left out. Used by tests/test_fuzz_cli.py and bench/bench_fuzz.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from hypothesis import strategies as st

from graphminer.cli import main

# Names of the awkward files and folders in a playground (relative to its root).
STORE = "store.sqlite"
PATHS = [
    STORE, "missing.sqlite", "no-such-folder/x.sqlite", "a-folder", "empty.sqlite", "other.db",
    "damaged.sqlite", "cache/http_cache.sqlite", "read-only", "read-only/x.sqlite", "project",
    "project/main.py", "notes.txt", "ünïcødé ✓.sqlite", "out/o1", "out/o2.gexf", "out", ".",
    "bad.toml", "good.toml", "acme+tool.log", "acme+empty.log",
]
CONFIGS = ["good.toml", "bad.toml", "range.toml", "missing.toml", "notes.txt", "a-folder"]
DATES = st.one_of(
    st.sampled_from(["2024-05-01", "1900-01-01", "3000-01-01", "2024-02-30", "0001-01-01",
                     "2024-05-01T12:00:00Z", "2024-05-01T12:00:00+05:00", "yesterday", "", "9999-12-31",
                     "1699-12-31", "2200-01-01", "2262-04-12"]),
    st.dates().map(str),
    st.text(max_size=12),
)
NUMBERS = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True).map(str),
                    st.sampled_from(["nan", "inf", "-1", "0", "1e309", "abc", ""]))
NAMES = st.one_of(st.sampled_from(["", "x", "ghost", "city-library-lab", "a@b.org", "-", "--json"]),
                  st.text(max_size=12))
FORMATS = ["gexf", "graphml", "json", "csv", "all"]
LOG = ("commit {sha}\nAuthor:     Ann Lee <ann@example.org>\nAuthorDate: Mon Jan 1 10:00:00 2024 +0000\n"
       "Commit:     Ann Lee <ann@example.org>\nCommitDate: Mon Jan 1 10:00:00 2024 +0000\n\n"
       "    first change\n\n:000000 100644 0000000 1111111 A\tREADME.md\n")


def paths(root_relative: bool = True) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(PATHS), st.text(min_size=1, max_size=10).filter(lambda t: "\x00" not in t))


def options(**choices: st.SearchStrategy) -> st.SearchStrategy[list[str]]:
    """Any subset of the options, each with a drawn value (None: a flag)."""
    def build(picked: dict) -> list[str]:
        args: list[str] = []
        for name, value in picked.items():
            args += [name] if value is None else [name, value]
        return args

    return st.fixed_dictionaries({}, optional=choices).map(build)


FLAG = st.none()
COMMON = {"--store": paths(), "--config": st.sampled_from(CONFIGS)}


@st.composite
def commands(draw) -> list[str]:
    """A whole command line after ``graphminer``."""
    kind = draw(st.sampled_from(["trajectory", "makers", "stats", "export", "report", "identities",
                                 "explain", "check", "harvest-git", "harvest", "demo", "junk"]))
    if kind == "trajectory":
        return ["trajectory", draw(NAMES)] + draw(options(**COMMON, **{
            "--org": NAMES, "--as-of": DATES, "--json": FLAG}))
    if kind == "makers":
        return ["makers"] + draw(options(**COMMON, **{
            "--org": NAMES, "--as-of": DATES, "--json": FLAG, "--include-bots": FLAG,
            "--stage": st.sampled_from(["core", "maintainer", "nonsense"])}))
    if kind == "stats":
        return ["stats"] + draw(options(**COMMON, **{"--org": NAMES, "--as-of": DATES, "--json": FLAG}))
    if kind == "export":
        return ["export", draw(st.sampled_from(FORMATS)), draw(paths())] + draw(options(**COMMON, **{
            "--org": NAMES, "--since": DATES, "--until": DATES, "--as-of": DATES,
            "--projection": st.sampled_from(["bipartite", "makers", "projects", "neither"]),
            "--min-weight": NUMBERS, "--pseudonymise": FLAG}))
    if kind == "report":
        return ["report", draw(paths())] + draw(options(**COMMON, **{"--as-of": DATES, "--makers": NUMBERS}))
    if kind == "identities":
        return ["identities"] + draw(options(**COMMON, **{"--json": FLAG, "--include-bots": FLAG}))
    if kind == "explain":
        return ["identities", "explain", draw(NAMES)] + draw(options(**{"--store": paths(), "--json": FLAG}))
    if kind == "check":
        return ["check"] + draw(options(**COMMON))
    if kind == "harvest-git":
        return ["harvest-git", draw(paths())] + draw(options(**COMMON, **{"--org": NAMES, "--repo": NAMES}))
    if kind == "harvest":  # an API that refuses at once, and no retries (quick.toml)
        return ["harvest", "--api-url", "http://127.0.0.1:9", "--config", "quick.toml"] + draw(options(**{
            "--store": paths(), "--cache": paths(), "--org": NAMES, "--full": FLAG}))
    if kind == "demo":  # only folders it must refuse: its happy path takes 15 s
        return ["demo", draw(st.sampled_from(["project", ".", "a-folder", "notes.txt", "no-such-folder/d",
                                              "cache"]))]
    return draw(st.lists(st.one_of(NAMES, paths(), DATES), max_size=4))


@dataclass
class Playground:
    """A folder of awkward files around a real store (see the module docstring)."""

    root: Path
    foreign: frozenset[str] = frozenset()  # the files it was built with (not graphminer's)

    @classmethod
    def build(cls, root: Path, store: Path, http_cache: Path) -> Playground:
        root.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store, root / STORE)
        (root / "cache").mkdir()
        shutil.copyfile(http_cache, root / "cache" / "http_cache.sqlite")
        shutil.copyfile(store, root / "damaged.sqlite")
        with open(root / "damaged.sqlite", "r+b") as handle:
            handle.seek((root / "damaged.sqlite").stat().st_size // 2)
            handle.write(b"\xff" * 16384)
        (root / "empty.sqlite").write_bytes(b"")
        conn = sqlite3.connect(root / "other.db")
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes(text) VALUES ('keep me')")
        conn.commit()
        conn.close()
        (root / "a-folder").mkdir()
        (root / "a-folder" / "keep.txt").write_text("mine\n")
        (root / "project" / ".git").mkdir(parents=True)
        (root / "project" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (root / "project" / "main.py").write_text("print('hello')\n")
        (root / "notes.txt").write_text("my notes\n")
        (root / "ünïcødé ✓.sqlite").write_bytes(b"not sqlite at all\n")
        (root / "read-only").mkdir()
        (root / "read-only" / "x.sqlite").write_bytes(b"")
        (root / "read-only").chmod(stat.S_IRUSR | stat.S_IXUSR)
        (root / "out").mkdir()
        (root / "good.toml").write_text("[trajectories]\ncore_share = 0.8\n")
        (root / "bad.toml").write_text("[trajectories\ncore_share = \n")
        (root / "range.toml").write_text("[trajectories]\ncore_share = 7.5\ninactive_days = -5\n")
        (root / "quick.toml").write_text(
            '[harvest]\nmax_retries = 0\n[paths]\nstore = "out/s.sqlite"\ncache = "out/http"\n')
        (root / "acme+tool.log").write_text(LOG.format(sha="a" * 40) + "garbage spliced in\n")
        (root / "acme+empty.log").write_text("")
        ground = cls(root)
        ground.foreign = frozenset(ground.foreign_digests())
        return ground

    def foreign_digests(self) -> dict[str, str]:
        """Every file graphminer did not write, by digest: those the playground was built
        with, but the store (commands may harvest into it), its companions and out/."""
        found = {}
        for path in sorted(self.root.rglob("*")):
            name = path.relative_to(self.root).as_posix()
            if not path.is_file() or path.is_symlink() or self.graphminers(name):
                continue
            if self.foreign and name not in self.foreign:
                continue  # written by graphminer during the fuzz
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        return found

    @staticmethod
    def graphminers(name: str) -> bool:
        """Files graphminer may write: the stores (the damaged one too: a harvest may write
        into it) and their companions and backups, outputs."""
        return (name.startswith((STORE, "out/", "cache/graphminer.sqlite", "damaged.sqlite"))
                or name.endswith((".backup", "-wal", "-shm", "-journal")))


def run_case(ground: Playground, args: list[str]) -> str | None:
    """Run ``graphminer ARGS`` in the playground; what broke the rules, or None."""
    before = ground.foreign_digests()
    cwd = os.getcwd()
    os.chdir(ground.root)
    try:
        result = CliRunner().invoke(main, args, env={"GITHUB_TOKEN": "fuzz-token", "GRAPHMINER_CONFIG": None,
                                                     "GRAPHMINER_DEBUG": None})
    finally:
        os.chdir(cwd)
    stderr = result.stderr
    said = f"graphminer {' '.join(args)!r}: exit {result.exit_code}: {stderr.strip()[-400:]!r}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"{said}: raised {type(result.exception).__name__}: {result.exception}"
    if "Traceback" in result.output or "internal error" in stderr:
        return f"{said}: a traceback or an internal error"
    if result.exit_code not in (0, 1, 2):
        return f"{said}: exit code {result.exit_code}"
    if result.exit_code == 2 and len(stderr.strip().splitlines()) != 1:
        return f"{said}: {len(stderr.strip().splitlines())} lines on stderr, not one"
    after = ground.foreign_digests()
    for name, digest in before.items():
        if name not in after:
            return f"{said}: removed {name}"
        if after[name] != digest:
            return f"{said}: changed {name}"
    problems = store_problems(ground.root / STORE)
    return f"{said}: the store is no longer sound: {problems}" if problems else None


def store_problems(store: Path) -> str | None:
    """SQLite's quick check of the playground's store ('ok' is None)."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        conn.close()
    return None if verdict == "ok" else verdict
