"""Identity resolution on a generated world harvested over HTTP from the real fakehub:
makers equal the generator's ground truth wherever the world holds evidence for a link
(truth's ``resolvable``), and an identity with no evidence stays its own maker."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from graphminer.fakehub.generator import generate_world
from graphminer.fakehub.testing import serve


@pytest.fixture(scope="module")
def harvested(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("identity-world")
    made = generate_world(folder / "w", seed=23, orgs=2, repos_per_org=3, makers=80, years=3)
    truth = json.loads(Path(made["truths"][0]).read_text("utf-8"))
    import gzip

    world = json.load(gzip.open(made["world"], "rt", encoding="utf-8"))
    store = folder / "store.sqlite"
    (folder / "graphminer.toml").write_text("[people]\n", "utf-8")
    env = {**os.environ, "GITHUB_TOKEN": "test-token-not-secret"}
    env.pop("GRAPHMINER_CONFIG", None)
    with serve(made["world"]) as hub:
        args = [sys.executable, "-m", "graphminer", "harvest", "--api-url", hub.url, "--store", str(store),
                "--cache", str(folder / "cache"), "--config", str(folder / "graphminer.toml")]
        for org in world["orgs"]:
            args += ["--org", org["login"]]
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300, cwd=folder)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"truth": truth, "world": world, "conn": sqlite3.connect(store)}


def email_makers(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """email -> the maker keys of every commit side that carries it (author or committer)."""
    found: dict[str, set[str]] = defaultdict(set)
    query = ("SELECT lower(c.{0}_email), m.{0}_key FROM commits c JOIN commit_makers m "
             "ON m.repo_id = c.repo_id AND m.sha = c.sha WHERE m.{0}_key IS NOT NULL")
    for role in ("author", "committer"):
        for email, key in conn.execute(query.format(role)):
            found[email].add(key)
    return found


def test_world_has_the_cases_that_matter(harvested: dict) -> None:
    makers = harvested["truth"]["makers"]
    assert any(m["resolvable"] and any("noreply" in i for i in m["identities"]) for m in makers.values())
    assert any(not m["resolvable"] and not m["is_bot"] for m in makers.values())
    assert any(m["is_bot"] for m in makers.values())


def test_resolvable_makers_match_the_truth(harvested: dict) -> None:
    conn, truth = harvested["conn"], harvested["truth"]["makers"]
    by_email = email_makers(conn)
    mine = {row[0]: row[1] for row in conn.execute("SELECT key, is_bot FROM makers")}
    checked = 0
    for key, expected in truth.items():
        if not expected["resolvable"] or expected["is_bot"]:
            continue
        assert key in mine, key
        for email in (i for i in expected["identities"] if "@" in i):
            assert by_email[email] == {key}, (key, email, by_email[email])
            checked += 1
    assert checked > 20


def test_unresolvable_identities_stay_their_own_makers(harvested: dict) -> None:
    conn, truth = harvested["conn"], harvested["truth"]["makers"]
    by_email = email_makers(conn)
    for key, expected in truth.items():
        if expected["resolvable"] or expected["is_bot"]:
            continue
        emails = [i for i in expected["identities"] if "@" in i]
        assert emails, key
        for email in emails:
            assert by_email[email] == {key}, (key, email, by_email[email])


def test_bots_are_flagged(harvested: dict) -> None:
    conn, truth = harvested["conn"], harvested["truth"]["makers"]
    flagged = {row[0] for row in conn.execute("SELECT key FROM makers WHERE is_bot = 1")}
    expected = {key for key, maker in truth.items() if maker["is_bot"]}
    assert expected and expected <= flagged
    people = {key for key, maker in truth.items() if not maker["is_bot"]}
    assert not (people & flagged)
