"""The git harvester on real repositories made here: working tree, mirror, partial clone,
incremental runs, pull refs, and commit roles (PR linking, direct pushes)."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from test_git_support import GITHUB, Repo, fast_import_stream, run, write_config

from graphminer.config import load_config
from graphminer.events import load_events
from graphminer.pipeline import harvest_git as run_harvest_git

ANN = ("Ann Lee", "ann@example.org")
BO = ("Bo Chen", "bo@example.org")
CY = ("Cy Diaz", "cy@example.org")


@pytest.fixture
def history(tmp_path: Path) -> dict:
    """main: a, b (direct push), PR #7 merged (two commits from a feature branch),
    a squash commit '(#8)' committed by GitHub, a local merge of a branch."""
    repo = Repo(tmp_path / "work")
    shas = {"a": repo.commit(ANN, "Initial commit", files=["README.md"])}
    shas["b"] = repo.commit(ANN, "Direct push to main", files=["docs/a b.md"])
    repo.git("checkout", "-q", "-b", "feature")
    shas["f1"] = repo.commit(BO, "Feature part 1", files=["src/one.py"])
    shas["f2"] = repo.commit(BO, "Feature part 2", files=["src/two.py", "src/one.py"])
    repo.git("checkout", "-q", "main")
    shas["c"] = repo.commit(ANN, "Meanwhile on main")
    shas["m7"] = repo.merge("feature", "Merge pull request #7 from exampleorg/feature", CY, GITHUB)
    shas["s8"] = repo.commit(BO, "Squashed work (#8)", committer=GITHUB)
    repo.git("update-ref", "refs/pull/7/head", shas["f2"])
    repo.git("update-ref", "refs/pull/9/head", shas["s8"])
    return {"repo": repo, "shas": shas}


def harvest(path: Path, tmp_path: Path, *extra: str):
    conf = write_config(tmp_path)
    result = run("harvest-git", str(path), "--config", str(conf), *extra)
    assert result.exit_code == 0, result.output
    return sqlite3.connect(tmp_path / "conf" / "store.sqlite"), result


def test_working_tree_commits_files_and_name(history: dict, tmp_path: Path) -> None:
    repo, shas = history["repo"], history["shas"]
    conn, result = harvest(repo.path, tmp_path)
    expected = int(repo.git("rev-list", "--count", "HEAD"))
    assert f"exampleorg/examplerepo: {expected} new commits" in result.output
    (repo_id, branch), = conn.execute("SELECT id, default_branch FROM repos WHERE full_name = 'exampleorg/examplerepo'")
    assert branch == "main"
    stored = {sha: (json.loads(files), json.loads(parents)) for sha, files, parents in conn.execute(
        "SELECT sha, files, parents FROM commits WHERE repo_id = ?", (repo_id,))}
    assert set(stored) == set(repo.git("rev-list", "HEAD").split())
    assert sorted(stored[shas["f2"]][0]) == ["src/one.py", "src/two.py"]
    assert stored[shas["b"]][0] == ["docs/a b.md"]
    assert stored[shas["m7"]][1] == [shas["c"], shas["f2"]]
    author, date = conn.execute("SELECT author_email, committer_date FROM commits WHERE sha = ?", (shas["a"],)).fetchone()
    assert author == "ann@example.org"
    # GIT_COMMITTER_DATE was epoch 1600003600 at +0200: stored as UTC
    assert date == "2020-09-13T13:26:40Z"
    refs = dict(conn.execute("SELECT number, sha FROM pull_refs"))
    assert refs == {7: shas["f2"], 9: shas["s8"]}


def test_commit_roles(history: dict, tmp_path: Path) -> None:
    shas = history["shas"]
    conn, _ = harvest(history["repo"].path, tmp_path)
    conn.row_factory = sqlite3.Row
    events = load_events(conn, None)
    roles = events[events["kind"] == "commit"].set_index("target")
    by = {name: roles.loc["commit:" + sha] for name, sha in shas.items()}
    assert by["b"]["direct_push"] and not by["b"]["via_pr"] and by["b"]["landed"]
    assert by["c"]["direct_push"]
    for name in ("f1", "f2"):  # reachable from the merge's second parent only
        assert by[name]["via_pr"] and by[name]["pr"] == 7
        assert not by[name]["direct_push"]
        assert by[name]["ts"] == by["m7"]["ts"]  # they reached main with the merge
    # git-only: no PR record holds #7, so the merge lands Bo's work, once for its author
    assert by["f1"]["landed"] + by["f2"]["landed"] == 1
    assert by["m7"]["is_merge"] and by["m7"]["via_pr"] and by["m7"]["pr"] == 7
    assert not by["m7"]["direct_push"] and not by["m7"]["landed"]  # a merge lands nobody's work
    assert by["s8"]["via_pr"] and by["s8"]["pr"] == 8 and not by["s8"]["direct_push"]
    assert by["s8"]["landed"]  # a squash commit of a PR no record holds: its author's work
    assert not by["a"]["via_pr"]
    # a direct push is also its committer's own act; a merge GitHub's web flow committed is
    # the act of its author (who pressed merge)
    committed = events[events["kind"] == "committed"].set_index("target")
    assert committed.loc["commit:" + shas["b"], "subkind"] == "direct_push"
    assert committed.loc["commit:" + shas["m7"], "subkind"] == "merge"
    assert committed.loc["commit:" + shas["m7"], "maker"] == by["m7"]["maker"]


def test_incremental_second_run_reads_only_new_commits(history: dict, tmp_path: Path) -> None:
    repo = history["repo"]
    config = load_config(write_config(tmp_path))
    first = run_harvest_git(repo.path, config=config)
    assert first.commits_read == 7
    repo.commit(CY, "New work")
    repo.commit(ANN, "More new work")
    second = run_harvest_git(repo.path, config=config)
    assert (second.commits_read, second.commits_new) == (2, 2)
    third = run_harvest_git(repo.path, config=config)
    assert third.commits_read == 0
    conn = sqlite3.connect(tmp_path / "conf" / "store.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0] == 9
    assert conn.execute("SELECT cursor FROM _watermarks WHERE endpoint = 'git:head'").fetchone()[0] == repo.head()


def test_rewritten_history_is_read_again(history: dict, tmp_path: Path) -> None:
    repo = history["repo"]
    config = load_config(write_config(tmp_path))
    run_harvest_git(repo.path, config=config)
    repo.git("reset", "-q", "--hard", history["shas"]["b"])
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    new = repo.commit(CY, "After a force push")
    again = run_harvest_git(repo.path, config=config)
    assert again.commits_new == 1 and again.head == new


def test_bare_mirror_and_partial_clone_without_blobs(history: dict, tmp_path: Path) -> None:
    source = history["repo"]
    expected = set(source.git("rev-list", "HEAD").split())
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(source.path), str(mirror)], check=True)
    conn, _ = harvest(mirror, tmp_path / "m", "--org", "exampleorg", "--repo", "mirrored")
    assert {row[0] for row in conn.execute("SELECT sha FROM commits")} == expected
    assert dict(conn.execute("SELECT number, sha FROM pull_refs")) == {7: history["shas"]["f2"], 9: history["shas"]["s8"]}

    source.git("config", "uploadpack.allowFilter", "true")
    partial = tmp_path / "partial"
    subprocess.run(["git", "clone", "-q", "--no-local", "--filter=blob:none", "--no-checkout",
                    f"file://{source.path}", str(partial)], check=True)
    shutil.rmtree(source.path)  # any blob the harvester asked for now fails to arrive
    conn, result = harvest(partial, tmp_path / "p", "--org", "exampleorg", "--repo", "partial")
    assert {row[0] for row in conn.execute("SELECT sha FROM commits")} == expected
    files = json.loads(conn.execute("SELECT files FROM commits WHERE sha = ?", (history["shas"]["f2"],)).fetchone()[0])
    assert sorted(files) == ["src/one.py", "src/two.py"]


def test_repository_from_fast_import_of_a_real_log(shared_dir: Path, tmp_path: Path) -> None:
    """A repository rebuilt from the CTI-website-backend log by git fast-import gives the
    same commits, authors and parents as the log itself."""
    log = shared_dir / "data" / "git-logs" / "civictechindex+CTI-website-backend.log.gz"
    repo = tmp_path / "cti.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    stream = fast_import_stream(gzip.decompress(log.read_bytes()).decode("utf-8"))
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=stream, check=True)
    conn, _ = harvest(repo, tmp_path / "from-repo", "--org", "civictechindex", "--repo", "CTI-website-backend")
    log_conn, _ = harvest(log, tmp_path / "from-log")
    query = "SELECT author_name, author_email, author_date, committer_date, message FROM commits ORDER BY 3, 4, 5"
    assert conn.execute(query).fetchall() == log_conn.execute(query).fetchall()
    assert conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0] == 161


def test_a_repository_of_bots_only_is_harvested_and_has_no_maker(tmp_path: Path) -> None:
    """Every commit by a bot (dependabot): the harvest stores them and ends well (it once
    crashed precomputing an empty stages table); people-facing queries show no maker."""
    bot = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    repo = Repo(tmp_path / "bots")
    shas = [repo.commit(bot, f"Bump library {n}", committer=GITHUB) for n in range(3)]
    conn, result = harvest(repo.path, tmp_path)
    assert sorted(row[0] for row in conn.execute("SELECT sha FROM commits")) == sorted(shas)
    conf = tmp_path / "conf" / "graphminer.toml"
    people = run("makers", "--config", str(conf), "--json")
    assert people.exit_code == 0, people.output
    assert json.loads(people.output) == []
    bots = run("makers", "--config", str(conf), "--json", "--include-bots")
    assert [maker["is_bot"] for maker in json.loads(bots.output)] == [True]
