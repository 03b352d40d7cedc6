"""Accounts that are not people (rules version 4, issue 19), on a real git repository made
here: bots named by a 'bot' word, shared role accounts, and people whose surnames end in
"bot". They are flagged beside ``is_bot`` as ``role_account`` in ``makers --json`` and
``identities --json``, hold no milestone, and are nobody's work (landing a role account's
commit is no maintainer act). Which identity is which is written here from the rule's text
(docs/rules.md "Who counts")."""

from __future__ import annotations

import json
from pathlib import Path

from test_git_support import Repo, run, write_config

ANN = ("Ann Lee", "ann@example.org")
PEOPLE = [("Lena Bohbot", "lena@example.org"), ("Sam Abbot", "sam@example.org"),
          ("Mary Ng", "admin@Marys-MacBook-Pro.local")]
# a commit *name* that is one lower-case word ending in "bot" is a bot's (a GitHub login,
# lower-case by habit, is read only for a separate word: tests/test_truth.py, bots.py)
BOTS = [("fdsbot", "fdsbot@example.org"), ("Translation Bot", "tx@example.org"),
        ("deploy-bot", "db@example.org")]
ROLES = [("root", "root@server1"), ("deploy", "deploy@web1.example.org"),
         ("FOI site testharness", "foi@example.org"),
         ("FixMyStreet archive email account", "fms@example.org"),
         ("Anna", "ops@s1.example.org"), ("Ben", "ops@s2.example.org"), ("Cy", "ops@s3.example.org")]


def listing(command: str, conf: Path) -> dict[str, dict]:
    result = run(command, "--config", str(conf), "--json", "--include-bots")
    assert result.exit_code == 0, result.output
    return {maker["key"]: maker for maker in json.loads(result.output)}


def history(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "work")
    repo.commit(ANN, "Initial commit")
    for who in PEOPLE + BOTS + ROLES:
        repo.commit(who)
    # ann lands root's commit on a branch of hers: a role account's work is nobody's
    repo.git("checkout", "-q", "-b", "fix")
    repo.commit(("root", "root@server2"), "Hot fix on the server")
    repo.git("checkout", "-q", "main")
    repo.merge("fix", "Merge branch 'fix'", ANN)
    return repo


def kind_of(maker: dict) -> str:
    assert not (maker["is_bot"] and maker["role_account"]), maker["key"]
    return "bot" if maker["is_bot"] else "role" if maker["role_account"] else "person"


def test_bots_role_accounts_and_people(tmp_path: Path) -> None:
    repo = history(tmp_path)
    conf = write_config(tmp_path)
    result = run("harvest-git", str(repo.path), "--config", str(conf))
    assert result.exit_code == 0, result.output
    identities = listing("identities", conf)
    makers = listing("makers", conf)
    expected = {f"{name} <{email}>": kind for kind, group in (("person", PEOPLE), ("bot", BOTS),
                                                               ("role", ROLES)) for name, email in group}
    expected["root <root@server2>"] = "role"
    found = {}
    for key, maker in identities.items():
        for item in maker["identities"]:
            found[item["identity"]] = kind_of(maker)
            if kind_of(maker) != "person":
                assert key not in makers or not any(makers[key]["milestones"].values()), key
    assert {text: found[text] for text in expected} == expected
    assert all(kind_of(maker) == ("person" if not (maker["is_bot"] or maker["role_account"]) else
                                  kind_of(maker)) for maker in makers.values())
    ann = next(m for m in makers.values() if m["name"] == "Ann Lee")["milestones"]
    assert ann["maintainer"] is None  # she merged nobody's work but a role account's
    assert ann["committer"] is not None
    for name in ("Lena Bohbot", "Sam Abbot", "Mary Ng"):
        person = next(m for m in makers.values() if m["name"] == name)
        assert person["milestones"]["first_landed"] is not None
    # without --include-bots, neither bots nor role accounts are listed
    plain = run("makers", "--config", str(conf), "--json")
    assert {kind_of(m) for m in json.loads(plain.output)} == {"person"}
    plain = run("identities", "--config", str(conf), "--json")
    assert {kind_of(m) for m in json.loads(plain.output)} == {"person"}


def test_the_role_words_come_from_the_config(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    repo.commit(ANN, "Initial commit")
    repo.commit(("webmaster", "webmaster@example.org"))
    repo.commit(("root", "root@server1"))
    conf = write_config(tmp_path)
    conf.write_text(conf.read_text().replace("[people]\n", '[people]\nrole_accounts = ["webmaster"]\n'))
    result = run("harvest-git", str(repo.path), "--config", str(conf))
    assert result.exit_code == 0, result.output
    kinds = {maker["name"]: kind_of(maker) for maker in listing("makers", conf).values()}
    assert kinds == {"Ann Lee": "person", "webmaster": "role", "root": "person"}
