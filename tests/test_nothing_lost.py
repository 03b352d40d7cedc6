"""Nothing lost, nothing overwritten: outputs refuse what graphminer did not write, the
store refuses files that are not stores, and bad input is one line (issue 12).

Each case runs the real CLI as a subprocess on real files, over a store harvested from a
generated world through a real fakehub process, and checks the bytes of every file it
must not touch.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from harvest_support import cli, harvest_generated

from graphminer.store import APPLICATION_ID, migrations, open_store, schema_version

SMALL = {"seed": 5, "orgs": 2, "repos_per_org": 2, "makers": 20, "years": 1}


@pytest.fixture(scope="module")
def harvested(tmp_path_factory) -> dict:
    """A store and its HTTP cache, harvested once for the whole module (kept read-only:
    each test copies what it writes to)."""
    folder = tmp_path_factory.mktemp("harvested")
    _, store, orgs = harvest_generated(folder, **SMALL)
    return {"store": store, "cache": folder / "cache" / "http_cache.sqlite", "orgs": orgs}


@pytest.fixture
def store(harvested, tmp_path) -> Path:
    copy = tmp_path / "store.sqlite"
    shutil.copyfile(harvested["store"], copy)
    return copy


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_one_line(done, *words: str, code: int = 2) -> None:
    assert done.returncode == code, (done.returncode, done.stdout[-500:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def checkout(folder: Path) -> Path:
    """A folder as a project checkout looks: .git, sources, and a cache/ with a store."""
    (folder / ".git" / "refs").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")
    (folder / "main.py").write_bytes(b"print('hello')\n")
    (folder / "README.md").write_bytes(b"# my project\n")
    return folder


# --- report --------------------------------------------------------------------------------

def test_report_dot_in_a_checkout_is_refused_untouched(store, tmp_path):
    project = checkout(tmp_path / "project")
    before = tree_digest(project)
    done = cli("report", ".", "--store", str(store), cwd=project)
    assert_one_line(done, "did not write", "new or empty folder")
    assert tree_digest(project) == before


def test_report_into_the_stores_folder_keeps_the_store(store, tmp_path):
    before = digest(store)
    done = cli("report", str(tmp_path), "--store", str(store))
    assert_one_line(done, "store.sqlite")
    assert digest(store) == before


def test_report_replaces_its_own_earlier_report(store, tmp_path):
    out = tmp_path / "out"
    out.mkdir()  # an empty folder is fine
    assert cli("report", str(out), "--store", str(store), "--makers", "4").returncode == 0
    assert len(list((out / "makers").iterdir())) == 4
    assert (out / ".graphminer-report").is_file()
    done = cli("report", str(out), "--store", str(store), "--makers", "2")
    assert done.returncode == 0, done.stderr
    assert len(list((out / "makers").iterdir())) == 2


# --- export --------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["gexf", "json", "graphml"])
def test_export_onto_the_store_is_refused_untouched(store, fmt):
    before = digest(store)
    done = cli("export", fmt, str(store), "--store", str(store))
    assert_one_line(done, "SQLite", "another output file name")
    assert digest(store) == before


def test_export_onto_the_http_cache_or_a_foreign_file_is_refused(store, harvested, tmp_path):
    cache = tmp_path / "http_cache.sqlite"
    shutil.copyfile(harvested["cache"], cache)
    notes = tmp_path / "notes.gexf"
    notes.write_bytes(b"my own notes, not a graph\n")
    for target in (cache, notes):
        before = digest(target)
        assert_one_line(cli("export", "gexf", str(target), "--store", str(store)), str(target.name))
        assert digest(target) == before


def test_export_csv_into_a_folder_keeps_other_files_and_replaces_its_own(store, tmp_path):
    project = checkout(tmp_path / "project")
    (project / "nodes.csv").write_bytes(b"name,age\nann,3\n")  # somebody else's nodes.csv
    before = tree_digest(project)
    assert_one_line(cli("export", "csv", str(project), "--store", str(store)), "nodes.csv")
    assert tree_digest(project) == before
    out = tmp_path / "csv"
    for _ in range(2):  # the second run replaces the first one's files
        done = cli("export", "all", str(out), "--store", str(store))
        assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["edges.csv", "graph.gexf", "graph.graphml", "graph.json", "nodes.csv"])


# --- demo ----------------------------------------------------------------------------------

def test_demo_in_a_checkout_holding_cache_is_refused_untouched(store, tmp_path):
    project = checkout(tmp_path / "project")
    (project / "cache").mkdir()
    shutil.copyfile(store, project / "cache" / "graphminer.sqlite")
    (project / "graphminer.sqlite").write_bytes(b"not the demo's\n")
    before = tree_digest(project)
    done = cli("demo", ".", cwd=project)
    assert_one_line(done, "did not write", "demo")
    assert tree_digest(project) == before


# --- --store on what is not a store --------------------------------------------------------

def foreign_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes(text) VALUES ('keep me')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("command", [
    ["makers"], ["stats"], ["trajectory", "someone"], ["export", "json", "{tmp}/o.json"],
    ["report", "{tmp}/r"], ["harvest-git", "{tmp}/no-such.log"], ["identities"],
])
def test_store_option_on_a_foreign_sqlite_or_the_http_cache(command, harvested, tmp_path):
    targets = [foreign_sqlite(tmp_path / "other.db"), tmp_path / "http_cache.sqlite"]
    shutil.copyfile(harvested["cache"], targets[1])
    for target in targets:
        before = digest(target)
        args = [part.replace("{tmp}", str(tmp_path)) for part in command]
        done = cli(*args, "--store", str(target))
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert digest(target) == before
        assert not Path(f"{target}-wal").exists()
    done = cli("makers", "--store", str(targets[0]))
    assert_one_line(done, "not a graphminer store", "not touched")


def test_harvest_refuses_a_foreign_store_untouched(tmp_path):
    target = foreign_sqlite(tmp_path / "other.db")
    before = digest(target)
    done = cli("harvest", "--org", "x", "--api-url", "http://127.0.0.1:9", "--store", str(target),
               "--cache", str(tmp_path / "c"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "not a graphminer store" in done.stderr
    assert digest(target) == before


def test_empty_store_file(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    for command in (["makers"], ["stats"], ["trajectory", "x"], ["export", "gexf", str(tmp_path / "o.gexf")],
                    ["report", str(tmp_path / "r")]):
        done = cli(*command, "--store", str(empty))
        assert_one_line(done, "not a graphminer store yet", "run a harvest first")
    done = cli("harvest-git", str(tmp_path / "missing.log"), "--store", str(empty), "--org", "a", "--repo", "b")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert empty.read_bytes() == b""
    done = cli("harvest", "--api-url", "http://127.0.0.1:9", "--org", "x", "--store", str(empty),
               "--cache", str(tmp_path / "c"))
    assert_one_line(done, "empty file graphminer did not make", "not touched")
    assert empty.read_bytes() == b""


# --- the store's identity and its backup -----------------------------------------------------

def application_id(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[68:72], "big")


def test_new_store_is_marked(tmp_path):
    path = tmp_path / "s.sqlite"
    conn = open_store(path)
    version = schema_version(conn)
    conn.close()
    assert application_id(path) == APPLICATION_ID
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == version


def test_store_made_before_marking_is_recognised_then_marked(store):
    conn = sqlite3.connect(store)
    conn.execute("PRAGMA application_id=0")  # as every store made before issue 12
    conn.close()
    assert application_id(store) == 0
    done = cli("makers", "--store", str(store))  # a reader recognises it, and writes nothing
    assert done.returncode == 0, done.stderr
    assert application_id(store) == 0
    open_store(store).close()  # a writer marks it
    assert application_id(store) == APPLICATION_ID


def test_migration_backs_the_store_up_first(tmp_path):
    # a store an older graphminer made: its first three migrations applied, a repo in it
    store = tmp_path / "store.sqlite"
    conn = sqlite3.connect(store)
    conn.execute("CREATE TABLE _migrations "
                 "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for version, name, sql in migrations()[:3]:
        conn.executescript(sql)
        conn.execute("INSERT INTO _migrations VALUES (?, ?, '2025-01-01T00:00:00Z')", (version, name))
    conn.execute("INSERT INTO repos(id, owner, name, full_name) VALUES (7, 'civic', 'site', 'civic/site')")
    conn.commit()
    conn.close()
    open_store(store).close()
    backups = list(tmp_path.glob("store.sqlite.v*.backup"))
    assert len(backups) == 1, list(tmp_path.iterdir())
    copy = sqlite3.connect(backups[0])
    assert copy.execute("SELECT MAX(version) FROM _migrations").fetchone()[0] == 3
    assert copy.execute("SELECT full_name FROM repos").fetchall() == [("civic/site",)]
    copy.close()
    upgraded = sqlite3.connect(store)
    assert upgraded.execute("SELECT MAX(version) FROM _migrations").fetchone()[0] == migrations()[-1][0]
    upgraded.close()


# --- damaged stores and dates ---------------------------------------------------------------

def damage(path: Path) -> None:
    """Overwrite pages in the middle of the file (the header stays a store's)."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(size // 2)
        handle.write(b"\xff" * 16384)


@pytest.mark.parametrize("command", [["makers"], ["stats"], ["export", "gexf", "{tmp}/o.gexf"],
                                     ["report", "{tmp}/r"]])
def test_damaged_store_says_so_and_how_to_recover(command, store, tmp_path):
    Path(f"{store}-wal").unlink(missing_ok=True)
    damage(store)
    before = digest(store)
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    done = cli(*args, "--store", str(store))
    assert_one_line(done, "damaged", "harvest --full")
    if command[0] != "export":  # export opens the store for writing (its pseudonym key)
        assert digest(store) == before


def test_as_of_before_any_event_is_an_empty_answer(store, tmp_path):
    done = cli("makers", "--store", str(store), "--as-of", "1900-01-01")
    assert done.returncode == 0, done.stderr
    assert "0 makers" in done.stdout
    done = cli("export", "json", str(tmp_path / "o.json"), "--store", str(store), "--as-of", "1900-01-01")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("command", [["makers"], ["stats"], ["trajectory", "x"],
                                     ["export", "gexf", "{tmp}/o.gexf"], ["report", "{tmp}/r"]])
def test_as_of_far_away_is_one_line(command, store, tmp_path):
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    assert_one_line(cli(*args, "--store", str(store), "--as-of", "3000-01-01"), "--as-of", "1700 to 2199")


def test_harvest_refuses_a_cache_folder_holding_another_file_as_its_cache(store, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copyfile(store, cache / "http_cache.sqlite")  # a store where the HTTP cache goes
    before = digest(cache / "http_cache.sqlite")
    done = cli("harvest", "--org", "x", "--api-url", "http://127.0.0.1:9", "--store",
               str(tmp_path / "new.sqlite"), "--cache", str(cache))
    assert_one_line(done, "not graphminer's HTTP cache", "not touched")
    assert digest(cache / "http_cache.sqlite") == before
    assert not (tmp_path / "new.sqlite").exists()


def test_a_harvest_uses_its_own_http_cache_again(harvested, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copyfile(harvested["cache"], cache / "http_cache.sqlite")
    done = cli("harvest", "--org", "x", "--api-url", "http://127.0.0.1:9", "--store",
               str(tmp_path / "new.sqlite"), "--cache", str(cache), "--config", str(quick_config(tmp_path)))
    assert "not graphminer's HTTP cache" not in done.stderr
    assert "cannot reach the GitHub API" in done.stderr  # it went on to the network


def quick_config(folder: Path) -> Path:
    path = folder / "quick.toml"
    path.write_text("[harvest]\nmax_retries = 0\n")
    return path
