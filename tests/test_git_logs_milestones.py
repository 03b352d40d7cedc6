"""Milestones of the seven real civic tech logs in ../shared/data/git-logs, harvested
git-only (``graphminer harvest-git LOG``), against a reading of each log written here.

The reading (TRAJECTORIES.md "Dating" and "Git-only history", from the log's text alone):
HEAD is the commit decorated ``HEAD``; its first-parent chain is the mainline; a non-merge
commit on it lands at its own committer date; a commit reached from a mainline merge's
second (or later) parent, and not already reached from an earlier one, lands at that
merge's committer date when it is not a merge itself; merge commits land nobody's work.
Who authored a commit and which makers are bots come from identity resolution's tables
(``commit_makers``, ``makers``): identity is not what is checked here; the dates are.
"""

from __future__ import annotations

import gzip
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

LOGS = [
    "hackforla+website",
    "g0v+g0v.tw",
    "openstates+openstates-core",
    "codeforamerica+cfapi",
    "codeforamerica+brigade-information",
    "civictechindex+CTI-website-backend",
    "mysociety+fixmystreet",
]
COMMIT = re.compile(r"^commit ([0-9a-f]{40})((?: [0-9a-f]{40})*)(?: \((.*)\))?$", re.MULTILINE)
COMMIT_DATE = re.compile(r"^CommitDate: +(.*)$", re.MULTILINE)


def read_log(path: Path) -> tuple[dict[str, list[str]], dict[str, str], str]:
    """(sha -> parents, sha -> committer date as UTC ``YYYY-MM-DDTHH:MM:SSZ``, HEAD's sha)."""
    text = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    parents: dict[str, list[str]] = {}
    dates: dict[str, str] = {}
    head = None
    starts = list(COMMIT.finditer(text))
    for index, match in enumerate(starts):
        sha = match.group(1)
        parents[sha] = match.group(2).split()
        if match.group(3) and re.search(r"\bHEAD\b", match.group(3)):
            head = sha
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        date = COMMIT_DATE.search(text, match.end(), end).group(1).strip()
        moment = datetime.strptime(date, "%a %b %d %H:%M:%S %Y %z").astimezone(UTC)
        dates[sha] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return parents, dates, head or starts[-1].group(1)


def landing_dates(parents: dict[str, list[str]], dates: dict[str, str], head: str) -> dict[str, str]:
    """sha -> when its work landed on the branch, for every non-merge commit reached."""
    chain = []
    sha: str | None = head
    while sha is not None:
        chain.append(sha)
        sha = parents[sha][0] if parents[sha] else None
    seen = set(chain)
    landed = {sha: dates[sha] for sha in chain if len(parents[sha]) < 2}
    for merge in reversed(chain):  # oldest merge first
        stack = list(parents[merge][1:])
        while stack:
            sha = stack.pop()
            if sha in seen or sha not in parents:
                continue
            seen.add(sha)
            if len(parents[sha]) < 2:
                landed[sha] = dates[merge]
            stack.extend(parents[sha])
    return landed


@pytest.mark.parametrize("name", LOGS)
def test_git_only_first_landed_follows_the_log(name: str, shared_dir: Path, git_log_store) -> None:
    log = shared_dir / "data" / "git-logs" / f"{name}.log.gz"
    parents, dates, head = read_log(log)
    landed = landing_dates(parents, dates, head)

    conn = sqlite3.connect(git_log_store(name))
    author_of = dict(conn.execute("SELECT sha, author_key FROM commit_makers"))
    bots = {row[0] for row in conn.execute("SELECT key FROM makers WHERE is_bot")}
    # role accounts (rules version 4: root, deploy...) are not people either
    bots |= {row[0] for row in conn.execute("SELECT key FROM traj_makers WHERE role_account")}
    expected: dict[str, str] = {}
    for sha, at in landed.items():
        maker = author_of[sha]
        if maker not in bots and (maker not in expected or at < expected[maker]):
            expected[maker] = at
    assert len(expected) > 5
    network = {}
    for maker, milestone, at in conn.execute(
            "SELECT maker_key, milestone, at FROM traj_milestones WHERE scope = 'network'"):
        network.setdefault(maker, {})[milestone] = at
    # every person with a non-bot non-merge commit has first contact and first landed...
    assert all("first_contact" in network.get(maker, {}) for maker in expected)
    got = {maker: network[maker].get("first_landed") for maker in expected}
    wrong = {maker: (at, got[maker]) for maker, at in expected.items() if got[maker] != at}
    # ... dated as the log says (shown: maker -> (the log's date, ours))
    assert not wrong, dict(list(wrong.items())[:10])
    # no milestone of any scope precedes that scope's first contact
    early = conn.execute(
        "SELECT m.maker_key, m.scope, m.scope_name, m.milestone, m.at, f.at "
        "FROM traj_milestones m JOIN traj_milestones f ON f.maker_key = m.maker_key "
        "AND f.scope = m.scope AND f.scope_name = m.scope_name AND f.milestone = 'first_contact' "
        "WHERE m.at < f.at").fetchall()
    assert early == []
    conn.close()
