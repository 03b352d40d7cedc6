"""The terminal, read as a new user would (issue 22), on real civic tech history: two saved
git logs of ../shared/data/git-logs harvested into one store.

- every maker ``graphminer identities`` lists answers ``trajectory`` by its key, login,
  name and each of its identities (a name two makers share is refused naming both);
- ``identities`` and ``identities explain`` count commits one way: a git identity's
  commits are the ``Author:`` lines of the log itself, the maker's the sum of them;
- ``makers`` is sorted by first contact, then key.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from harvest_support import cli

from graphminer import precompute
from graphminer.config import load_config
from graphminer.errors import BadInput
from graphminer.identity import explain, list_makers
from graphminer.store import open_store

LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "git-logs"
NAMES = ("codeforamerica+cfapi", "g0v+g0v.tw")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    if not all((LOGS / f"{name}.log.gz").is_file() for name in NAMES):
        pytest.skip(f"the real git logs are not beside the checkout ({LOGS})")
    folder = tmp_path_factory.mktemp("terminal")
    path = folder / "store.sqlite"
    for name in NAMES:
        done = cli("harvest-git", str(LOGS / f"{name}.log.gz"), "--store", str(path), cwd=folder)
        assert done.returncode == 0, done.stderr[-2000:]
    return path


def test_every_listed_maker_answers_trajectory(store):
    config = load_config(None)
    conn = open_store(store, readonly=True)
    try:
        makers = list_makers(conn, include_bots=True)
        assert len(makers) > 80
        asked = 0
        for maker in makers:
            for who in [maker["key"], maker["login"], maker["name"],
                        *(item["identity"] for item in maker["identities"])]:
                if not who:
                    continue
                asked += 1
                try:
                    answer = precompute.maker_timeline(conn, config, who)
                except BadInput as refusal:  # a name two makers share: refused, naming both
                    assert who == maker["name"] and maker["key"] in str(refusal), (who, str(refusal))
                    continue
                assert answer["key"] == maker["key"], who
        assert asked > 3 * len(makers)
    finally:
        conn.close()


def log_authors() -> Counter:
    """'Name <email>' -> commits it authored, read straight from the saved logs."""
    counts: Counter = Counter()
    for name in NAMES:
        with gzip.open(LOGS / f"{name}.log.gz", "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("Author:"):
                    counts[line[len("Author:"):].strip()] += 1
    return counts


def test_commits_are_counted_one_way(store):
    authors = log_authors()
    conn = open_store(store, readonly=True)
    try:
        makers = list_makers(conn, include_bots=True)
        for maker in makers:
            git = [item for item in maker["identities"] if item["kind"] == "git"]
            assert maker["commits"] == sum(item["commits"] for item in git), maker["key"]
            for item in git:
                assert item["commits"] == authors[item["identity"]], item["identity"]
            assert all(item["commits"] is None for item in maker["identities"] if item["kind"] != "git")
            # explain, asked about any of its identities, gives the same numbers
            for item in git[:2]:
                told = [m for m in explain(conn, item["identity"]) if m["key"] == maker["key"]]
                assert told and told[0]["commits"] == maker["commits"]
                assert {i["identity"]: i["commits"] for i in told[0]["identities"]} == \
                    {i["identity"]: i["commits"] for i in maker["identities"]}
        assert sum(maker["commits"] for maker in makers) == sum(authors.values())
    finally:
        conn.close()


def test_explain_prints_one_count_per_person(store):
    done = cli("identities", "explain", "audreyt@audreyt.org", "--store", str(store))
    assert done.returncode == 0, done.stderr
    head, *lines = done.stdout.splitlines()
    # one line an identity, each with its count; "also [rule] ..." lines under it are more
    # evidence for the same join (identities explain lists every piece), never a count
    identities = [line for line in lines if not line.lstrip().startswith("also [")]
    written = [who for who in log_authors() if who.endswith("<audreyt@audreyt.org>")]
    assert len(identities) == len(written) and len(lines) > len(identities)
    total = int(re.search(r"(\d+) commits", head).group(1))
    assert sum(int(re.search(r"\] (\d+) commits", line).group(1)) for line in identities) == total
    assert total == sum(n for who, n in log_authors().items() if who.endswith("<audreyt@audreyt.org>"))


def test_makers_are_sorted_by_first_contact_then_key(store):
    done = cli("makers", "--store", str(store), "--json")
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    order = [(entry["milestones"]["first_contact"] or "~", entry["key"]) for entry in listing]
    assert order == sorted(order) and len(order) > 50
    text = cli("makers", "--store", str(store)).stdout.splitlines()[1:-1]
    dates = [line.split()[-6] for line in text if re.search(r"\d{4}-\d\d-\d\d", line)]
    assert dates == sorted(dates) and len(dates) > 50
