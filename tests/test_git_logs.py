"""The git harvester on the seven real civic tech logs in ../shared/data/git-logs.

Ground truth is counted here from the log text itself (regular expressions over the
file), never from the harvester."""

from __future__ import annotations

import gzip
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from test_git_support import run, write_config

LOGS = [
    "hackforla+website",
    "g0v+g0v.tw",
    "openstates+openstates-core",
    "codeforamerica+cfapi",
    "codeforamerica+brigade-information",
    "civictechindex+CTI-website-backend",
    "mysociety+fixmystreet",
]


def log_text(shared_dir: Path, name: str) -> str:
    return gzip.decompress((shared_dir / "data" / "git-logs" / f"{name}.log.gz").read_bytes()).decode(
        "utf-8", "replace")


def harvested(tmp_path: Path, shared_dir: Path, name: str, **config) -> sqlite3.Connection:
    conf = write_config(tmp_path, **config)
    store = tmp_path / "store.sqlite"
    result = run("harvest-git", str(shared_dir / "data" / "git-logs" / f"{name}.log.gz"),
                 "--store", str(store), "--config", str(conf))
    assert result.exit_code == 0, result.output
    return sqlite3.connect(store)


@pytest.mark.parametrize("name", LOGS)
def test_real_log_counts(name: str, shared_dir: Path, tmp_path: Path) -> None:
    text = log_text(shared_dir, name)
    expected_commits = len(re.findall(r"^commit [0-9a-f]{40}", text, re.MULTILINE))
    expected_authors = Counter(m.strip() for m in re.findall(r"^Author:(.*)$", text, re.MULTILINE))
    refs = gzip.decompress((shared_dir / "data" / "git-logs" / f"{name}.pull-refs.tsv.gz").read_bytes())
    expected_heads = len(re.findall(rb"^refs/pull/\d+/head\t", refs, re.MULTILINE))

    conn = harvested(tmp_path, shared_dir, name)
    owner, repo = name.split("+")
    (repo_id, source), = conn.execute("SELECT id, source FROM repos WHERE full_name = ?", (f"{owner}/{repo}",))
    assert source == "git"
    assert conn.execute("SELECT COUNT(*) FROM commits WHERE repo_id = ?", (repo_id,)).fetchone()[0] == expected_commits
    per_author = Counter(dict(conn.execute(
        "SELECT author_name || ' <' || author_email || '>', COUNT(*) FROM commits GROUP BY 1")))
    assert per_author == expected_authors
    assert conn.execute("SELECT COUNT(*) FROM pull_refs").fetchone()[0] == expected_heads
    # after resolution every commit has exactly one author maker, and nothing is lost
    assert conn.execute("SELECT COUNT(*) FROM commit_makers WHERE author_key IS NOT NULL").fetchone()[0] == expected_commits
    assert conn.execute("SELECT SUM(commits) FROM makers").fetchone()[0] == expected_commits
    # files come from --raw: spot-check the first commit's paths against the text
    first = re.search(r"^commit ([0-9a-f]{40}).*?\n\n(.*?)(?=^commit |\Z)", text, re.MULTILINE | re.DOTALL)
    paths = re.findall(r"^:[^\t]*\t(.*)$", first.group(2), re.MULTILINE)
    stored = conn.execute("SELECT files FROM commits WHERE sha = ?", (first.group(1),)).fetchone()[0]
    assert sorted(__import__("json").loads(stored)) == sorted(paths)


def test_hackforla_identities_and_bots(shared_dir: Path, tmp_path: Path) -> None:
    text = log_text(shared_dir, "hackforla+website")
    conn = harvested(tmp_path, shared_dir, "hackforla+website", bots="# none: the packaged list is not used\n")
    bot_commits = len(re.findall(r"^Author: +GitHub Actions Bot <hackforla-bot@hackforla\.org>$", text, re.MULTILINE))
    assert bot_commits == 2560
    key, is_bot, commits = conn.execute(
        "SELECT m.key, m.is_bot, m.commits FROM makers m JOIN maker_identities i ON i.maker_key = m.key "
        "WHERE i.identity = 'GitHub Actions Bot <hackforla-bot@hackforla.org>'").fetchone()
    # with an empty bots file the packaged list is not used: only the type, [bot] and (rules
    # version 4) bot-word rules apply, and "GitHub Actions Bot" has "Bot" as a word of its name
    assert is_bot == 1 and commits == bot_commits
    listed_only = "SELECT is_bot FROM makers WHERE key = 'git:actions@github.com'"
    assert conn.execute(listed_only).fetchone() == (0,)  # "GitHub Actions": in the packaged list only

    conn = harvested(tmp_path / "again", shared_dir, "hackforla+website")
    (is_bot, commits), = conn.execute(
        "SELECT m.is_bot, m.commits FROM makers m JOIN maker_identities i ON i.maker_key = m.key "
        "WHERE i.identity = 'GitHub Actions Bot <hackforla-bot@hackforla.org>'")
    assert is_bot == 1 and commits == bot_commits
    dependabot = conn.execute("SELECT is_bot FROM makers WHERE key = '49699333'").fetchone()
    assert dependabot == (1,)
    assert conn.execute(listed_only).fetchone() == (1,)

    # every noreply email resolves to its login (ID form: to the account ID)
    noreply = set(re.findall(r"^(?:Author|Commit): .*<([^<>]+@users\.noreply\.github\.com)>$", text, re.MULTILINE))
    assert len(noreply) > 100
    for email in noreply:
        local = email.split("@")[0]
        user_id, _, login = local.rpartition("+")
        key, maker_login = conn.execute(
            "SELECT m.key, m.login FROM maker_identities i JOIN makers m ON m.key = i.maker_key "
            "WHERE i.email = ?", (email.lower(),)).fetchone()
        if user_id:
            assert key == user_id, email
        else:
            assert maker_login.lower() == login.lower(), email

    raw = len({m.strip() for m in re.findall(r"^Author:(.*)$", text, re.MULTILINE)})
    makers = conn.execute("SELECT COUNT(DISTINCT author_key) FROM commit_makers").fetchone()[0]
    assert raw == 628 and makers < raw


def test_second_run_of_a_log_reads_nothing_new(shared_dir: Path, tmp_path: Path) -> None:
    conf = write_config(tmp_path)
    log = str(shared_dir / "data" / "git-logs" / "civictechindex+CTI-website-backend.log.gz")
    first = run("harvest-git", log, "--config", str(conf))
    second = run("harvest-git", log, "--config", str(conf))
    assert "161 new commits" in first.output
    assert "0 new commits, 0 updated" in second.output
    conn = sqlite3.connect(tmp_path / "conf" / "store.sqlite")
    runs = conn.execute("SELECT kind, status, records_new FROM _runs ORDER BY id").fetchall()
    assert runs == [("git", "ok", 161), ("git", "ok", 0)]
