"""Identity resolution on a generated world harvested over HTTP from the real fakehub:
makers equal the generator's ground truth wherever the world holds evidence for a link
(truth's ``resolvable``), and an identity with no evidence stays its own maker. The world
plants issue 21's identity cases (``identity_cases``): every commit side's maker is the
one the truth's own reading of docs/identities.md gives it."""

from __future__ import annotations

import json
import os
import sqlite3
from collections import defaultdict
from pathlib import Path

import cli_fork
import pytest

from graphminer.fakehub.generator import generate_world
from graphminer.fakehub.testing import serve


@pytest.fixture(scope="module")
def harvested(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("identity-world")
    made = generate_world(folder / "w", seed=23, orgs=2, repos_per_org=3, makers=80, years=3,
                          identity_cases=True)
    truth = json.loads(Path(made["truths"][0]).read_text("utf-8"))
    import gzip

    world = json.load(gzip.open(made["world"], "rt", encoding="utf-8"))
    store = folder / "store.sqlite"
    (folder / "graphminer.toml").write_text("[people]\n", "utf-8")
    env = {**os.environ, "GITHUB_TOKEN": "test-token-not-secret"}
    env.pop("GRAPHMINER_CONFIG", None)
    with serve(made["world"]) as hub:
        args = ["harvest", "--api-url", hub.url, "--store", str(store),
                "--cache", str(folder / "cache"), "--config", str(folder / "graphminer.toml")]
        for org in world["orgs"]:
            args += ["--org", org["login"]]
        done = cli_fork.run(args, env=env, timeout=300, cwd=folder)
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
        assert emails or not key[4:].split("#")[0].count("@"), key  # imported logins, placeholders
        for email in emails:
            assert by_email[email] == {key}, (key, email, by_email[email])


def test_bots_are_flagged(harvested: dict) -> None:
    conn, truth = harvested["conn"], harvested["truth"]["makers"]
    flagged = {row[0] for row in conn.execute("SELECT key FROM makers WHERE is_bot = 1")}
    expected = {key for key, maker in truth.items() if maker["is_bot"]}
    assert expected and expected <= flagged
    people = {key for key, maker in truth.items() if not maker["is_bot"]}
    assert not (people & flagged)


# ---------------------------------------------------------------- issue 21's cases


@pytest.fixture(scope="module")
def sides(harvested: dict) -> list[dict]:
    """Every commit side of the harvested repositories: its identity, whether the API
    linked it, the truth's maker (``People``, the truth's own reading) and graphminer's."""
    from graphminer.fakehub.truth import DEFAULT_RULES, People, harvested_repos

    world, conn = harvested["world"], harvested["conn"]
    repos = harvested_repos(world)
    commits = [commit for commit in world["commits"] if commit["repo_id"] in repos]
    people = People(world, commits, DEFAULT_RULES)
    harvested["joined"] = people.joined
    mine = {(repo, sha): (author, committer) for repo, sha, author, committer in conn.execute(
        "SELECT repo_id, sha, author_key, committer_key FROM commit_makers")}
    found = []
    for commit in commits:
        for index, side in enumerate(("author", "committer")):
            found.append({"name": commit[side]["name"], "email": commit[side]["email"].lower(),
                          "linked": commit[f"{side}_id"] is not None, "sha": commit["sha"], "side": side,
                          "truth": people.side_key(commit, side),
                          "mine": mine[(commit["repo_id"], commit["sha"])][index]})
    return found


def test_every_commit_side_has_the_truths_maker(sides: list[dict]) -> None:
    differ = [(s["name"], s["email"], s["truth"], s["mine"]) for s in sides if s["truth"] != s["mine"]]
    assert not differ, differ[:10]
    assert len(sides) > 300


def test_the_world_exercises_each_rule_of_the_truths_reading(harvested: dict, sides: list[dict]) -> None:
    """The joins each rule decided (not merely confirmed) in the truth: the world holds
    personal domains, login words (noreply logins carried by an address) and merge
    subjects, each deciding at least once, beside addresses and names linked by the API."""
    joined = harvested["joined"]
    for rule in ("anchor", "personal-domain", "login-word", "merge-subject"):
        assert joined[rule] >= 1, (rule, dict(joined))


def test_a_role_looking_address_of_ones_own_domain_and_its_subdomain(sides: list[dict]) -> None:
    """hi@ of a domain named after its owner's handle, under the handle and the full name,
    is one maker, and so is an address on a host of that domain: an account's (the label
    is its login) and a git-only person's."""
    kinds = set()
    for side in sides:
        local, _, domain = side["email"].partition("@")
        if local != "hi" or side["linked"]:
            continue
        kind = "git" if side["truth"].startswith("git:") else "account"
        same = [s for s in sides if s["email"] == side["email"]]
        names = {s["name"] for s in same}
        assert {s["truth"] for s in same} == {side["truth"]}, same
        if domain.split(".")[0] in names and any(len(name.split()) > 1 for name in names):
            kinds.add((kind, "two names"))
        hosts = [s for s in sides if s["email"].endswith(f"@host.{domain}")]
        assert {s["truth"] for s in hosts} <= {side["truth"]}, hosts
        if hosts:
            kinds.add((kind, "subdomain"))
    assert kinds == {(kind, case) for kind in ("git", "account") for case in ("two names", "subdomain")}


def test_a_noreply_address_under_a_first_name_and_the_logins_other_address(sides: list[dict]) -> None:
    found = 0
    for side in sides:
        if "noreply.github.com" not in side["email"] or " " in side["name"] or side["linked"]:
            continue
        login = side["email"].split("+")[-1].split("@")[0]
        others = [s for s in sides if s["email"].startswith(f"{login}@") and not s["linked"] and " " in s["name"]]
        if others:
            assert {s["truth"] for s in others} == {side["truth"]} and not side["truth"].startswith("git:")
            found += 1
    assert found


def test_weak_evidence_joins_nobody(sides: list[dict]) -> None:
    """A first name alone on two people's addresses, a placeholder under two people's
    names, a login of imported history carried by one commit: each stays apart."""
    full_names = {s["name"] for s in sides if " " in s["name"]}
    linked = {s["email"] for s in sides if s["linked"]}
    first_only = [s for s in sides if " " not in s["name"] and "@" in s["email"] and "noreply" not in s["email"]
                  and s["email"] not in linked and any(name.split()[0] == s["name"] for name in full_names)]
    by_name: dict[str, set[str]] = defaultdict(set)
    for side in first_only:
        by_name[side["name"]].add(side["email"])
        assert side["truth"] == f"git:{side['email']}"  # its own maker, none of the namesakes'
    assert any(len(emails) > 1 for emails in by_name.values())
    placeholder = {s["name"]: s["truth"] for s in sides if s["email"] == "add_email_here"}
    assert len(placeholder) >= 2 and len(set(placeholder.values())) == len(placeholder)
    imported = {s["email"] for s in sides if "@" not in s["email"] and s["email"] != "add_email_here"}
    weak = [login for login in imported
            if len({s["sha"] for s in sides if s["side"] == "author" and s["email"].startswith(f"{login}@")}) == 1]
    assert weak and all(s["truth"] == f"git:{s['email']}" for s in sides if s["email"] in weak)
