"""Worlds from real git logs: real commits and PR numbers, generated parts marked, bad files refused.

Expectations are counted here straight from the log text (``^commit `` lines, subjects),
independently of the module's parser.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from graphminer.errors import BadInput
from graphminer.fakehub.generator import load_json
from graphminer.fakehub.gitlog_world import build_git_log_world, world_from_git_logs

LOGS = ("g0v+g0v.tw.log.gz", "civictechindex+CTI-website-backend.log.gz")


@pytest.fixture(scope="module")
def git_world(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    logs = [shared_dir / "data" / "git-logs" / name for name in LOGS]
    out = tmp_path_factory.mktemp("gitlog") / "world"
    result = world_from_git_logs([str(p) for p in logs], out)
    texts = {name: gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
             for name, path in zip(LOGS, logs, strict=True)}
    return {"result": result, "world": load_json(out / "world.json.gz"), "texts": texts, "out": out}


def subjects(text: str) -> list[tuple[str, str]]:
    """(sha, subject) per commit, read with a plain regex over the log text."""
    found = []
    for chunk in re.split(r"^commit ", text, flags=re.M)[1:]:
        sha = chunk[:40]
        subject = re.search(r"^    (.*)$", chunk, flags=re.M)
        found.append((sha, subject[1] if subject else ""))
    return found


def first_parents(by_sha: dict[str, dict], sha: str) -> set[str]:
    chain = set()
    while sha in by_sha:
        chain.add(sha)
        parents = by_sha[sha]["parents"]
        sha = parents[0] if parents else None
    return chain


def repo_of(world: dict, name: str) -> dict:
    owner, repo = name.removesuffix(".log.gz").split("+")
    return next(r for r in world["repos"] if (r["owner"], r["name"]) == (owner, repo))


def test_commit_counts_equal_the_logs(git_world: dict) -> None:
    world = git_world["world"]
    for name, text in git_world["texts"].items():
        repo = repo_of(world, name)
        expected = len(re.findall(r"^commit ", text, flags=re.M))
        assert sum(c["repo_id"] == repo["id"] for c in world["commits"]) == expected
    assert len(world["orgs"]) == 2 and {o["login"] for o in world["orgs"]} == {"g0v", "civictechindex"}


def test_real_commit_facts_kept(git_world: dict) -> None:
    world = git_world["world"]
    first = next(c for c in world["commits"] if c["sha"] == "a3a2e4798bd4b3ec350733c8fcc758491b999c03")
    assert first["author"] == {"name": "Chia-liang Kao", "email": "clkao@clkao.org",
                               "date": "2013-01-19T14:49:58Z"}  # 22:49:58 +0800
    assert first["parents"] == [] and first["message"] == "g0v.tw"
    merge = next(c for c in world["commits"] if c["sha"] == "c3cc817f9c49d4a2dea2da0a11e5b81d5ff32d1d")
    assert merge["parents"] == ["93b9a769de6b95750bd6301d143b2b2e46eb40ea",
                                "c224a0afb2f09d4574b30a169d512dd74985eeae"]
    assert repo_of(world, LOGS[0])["default_branch"] == "master"
    assert repo_of(world, LOGS[1])["default_branch"] == "main"
    shas = {c["sha"] for c in world["commits"]}
    assert all(p in shas for c in world["commits"] for p in c["parents"])


def test_pr_numbers_from_subjects_and_merges_are_prs(git_world: dict) -> None:
    world = git_world["world"]
    for name, text in git_world["texts"].items():
        repo = repo_of(world, name)
        prs = {i["number"]: i for i in world["issues"] if i["repo_id"] == repo["id"] and i["pull_request"]}
        squash = {int(m[1]) for _, s in subjects(text) if (m := re.search(r"\(#(\d+)\)\s*$", s))}
        merges = {int(m[1]): sha for sha, s in subjects(text)
                  if (m := re.match(r"Merge pull request #(\d+) from ", s))}
        assert squash | set(merges), name
        assert squash <= set(prs), name
        by_sha = {c["sha"]: c for c in world["commits"] if c["repo_id"] == repo["id"]}
        for number, sha in merges.items():
            assert prs[number]["pull_request"]["merge_commit_sha"] == sha
            # the PR's own commits: on its merge's second-parent side, never on the first-parent side
            own = {s for s, c in by_sha.items() if c.get("pr_number") == number}
            assert by_sha[sha]["parents"][1] in own or by_sha[sha]["parents"][1] in {
                s for s, c in by_sha.items() if c.get("pr_number") not in (None, number)}
            assert not own & first_parents(by_sha, by_sha[sha]["parents"][0])
        for number in squash - set(merges):
            pull = prs[number]["pull_request"]
            assert pull["merged_at"] and pull["merge_commit_sha"] in {c["sha"] for c in world["commits"]}


def test_tags_become_releases(git_world: dict) -> None:
    world = git_world["world"]
    all_tags = 0
    for name, text in git_world["texts"].items():
        repo = repo_of(world, name)
        tags = {t for line in re.findall(r"^commit .*$", text, flags=re.M)
                for t in re.findall(r"tag: ([^,)]+)", line)}
        releases = {r["tag_name"] for r in world["releases"] if r["repo_id"] == repo["id"]}
        assert releases == tags, name
        all_tags += len(tags)
    assert all_tags > 0 and all(r.get("generated") for r in world["releases"])


def test_pull_refs_become_prs(git_world: dict, shared_dir: Path) -> None:
    world = git_world["world"]
    refs = gzip.decompress((shared_dir / "data" / "git-logs" / "g0v+g0v.tw.pull-refs.tsv.gz").read_bytes()).decode()
    heads = {int(m[1]): m[2] for m in re.finditer(r"^refs/pull/(\d+)/head\t([0-9a-f]{40})", refs, flags=re.M)}
    repo = repo_of(world, LOGS[0])
    prs = {i["number"]: i for i in world["issues"] if i["repo_id"] == repo["id"] and i["pull_request"]}
    assert set(heads) <= set(prs)
    assert all(prs[n]["pull_request"]["head_sha"] == sha for n, sha in heads.items())
    commits = {c["sha"] for c in world["commits"]}
    # A head already on the default branch landed (fast-forward or rebase): a merged PR.
    for number, sha in heads.items():
        if sha in commits:
            assert prs[number]["pull_request"]["merged_at"]


def test_generated_parts_are_marked_and_consistent(git_world: dict) -> None:
    from graphminer.fakehub.world import load_world

    world = git_world["world"]
    assert all(u.get("generated") for u in world["users"])
    assert all(i.get("generated") for i in world["issues"])
    assert all(e.get("generated") for e in world["issue_events"])
    assert not any(c.get("generated") for c in world["commits"])
    assert any(not i["pull_request"] for i in world["issues"]), "issues for the numbers no PR took"
    users = {u["id"] for u in world["users"]}
    referenced = {i["user_id"] for i in world["issues"]} | {e["actor_id"] for e in world["issue_events"]}
    referenced |= {c["author_id"] for c in world["commits"]} | {c["committer_id"] for c in world["commits"]}
    assert referenced - {None} <= users
    bots = [u for u in world["users"] if u["type"] == "Bot"]
    assert bots and all(u["login"].endswith("[bot]") for u in bots)
    squash_by_web = [c for c in world["commits"] if c["committer"]["email"] == "noreply@github.com"]
    assert squash_by_web and all(c["committer_id"] is None for c in squash_by_web)
    assert load_world(git_world["out"] / "world.json.gz").now == world["now"]
    truth = json.loads((git_world["out"] / "truth.json").read_text())
    assert truth["as_of"] == world["now"] and truth["makers"]


def test_same_logs_same_world(git_world: dict, shared_dir: Path) -> None:
    logs = [shared_dir / "data" / "git-logs" / name for name in LOGS]
    assert build_git_log_world(logs) == git_world["world"]


def test_bad_logs_refused_with_one_line(tmp_path: Path) -> None:
    corrupt = tmp_path / "civic+site.log.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00 this is not gzip")
    not_a_log = tmp_path / "civic+other.log"
    not_a_log.write_text("hello\nworld\n")
    badly_named = tmp_path / "site.log"
    badly_named.write_text("commit " + "a" * 40 + "\n")
    bad_date = tmp_path / "civic+dates.log"
    bad_date.write_text(f"commit {'b' * 40}\nAuthor:     A B <a@b.org>\nAuthorDate: yesterday\n")
    for path, needle in ((corrupt, "gzip"), (not_a_log, "line 1"), (badly_named, "OWNER+REPO"),
                         (bad_date, "line 3"), (tmp_path / "civic+missing.log.gz", "cannot read")):
        with pytest.raises(BadInput) as error:
            build_git_log_world([path])
        assert str(path) in error.value.message and needle in error.value.message
        result = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate",
                                 "--from-git-log", str(path), "--out", str(tmp_path / "w")],
                                capture_output=True, text=True)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr
