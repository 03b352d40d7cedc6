"""Identity resolution on real repositories and stores: mailmap (checked against git's own
``check-mailmap``), heuristics and splits, API links, noreply emails, opt-outs, bots, and
the identities command."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from harvest_support import cli
from test_git_support import Repo, run, write_config

from graphminer import identity
from graphminer.config import load_config
from graphminer.store import open_store


def harvest(repo: Repo, tmp_path: Path, **config) -> tuple[sqlite3.Connection, object]:
    conf = write_config(tmp_path, **config)
    result = run("harvest-git", str(repo.path), "--config", str(conf))
    assert result.exit_code == 0, result.output
    return sqlite3.connect(tmp_path / "conf" / "store.sqlite"), result


def maker_of(conn: sqlite3.Connection, sha: str) -> str | None:
    return conn.execute("SELECT author_key FROM commit_makers WHERE sha = ?", (sha,)).fetchone()[0]


MAILMAP = """# every form of line git knows
Proper One <one@x.org>
<two@x.org> <two-old@x.org>
Proper Three <three@x.org> <three-old@x.org>
Proper Four <four@x.org> Old Four <four-old@x.org>
this line is not a mailmap line
"""
MAILMAP_IDENTITIES = [
    ("one", "one@x.org"), ("Two", "two@x.org"), ("Two Old", "two-old@x.org"),
    ("Three", "three@x.org"), ("T3", "three-old@x.org"), ("Four", "four@x.org"),
    ("Old Four", "four-old@x.org"), ("Someone Else", "four-old@x.org"),
]


def test_mailmap_every_form_as_git_reads_it(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    shas = {who: repo.commit(who) for who in MAILMAP_IDENTITIES}
    conn, result = harvest(repo, tmp_path, mailmap=MAILMAP)
    assert "mailmap:6: not a mailmap line" in result.stderr
    mailmap_file = tmp_path / "conf" / "mailmap"
    # git's own reading of the same file is the ground truth for which email each maps to
    mapped = {}
    for name, email in MAILMAP_IDENTITIES:
        out = subprocess.run(
            ["git", "-C", str(repo.path), "-c", f"mailmap.file={mailmap_file}", "check-mailmap",
             f"{name} <{email}>"], capture_output=True, text=True, check=True).stdout.strip()
        mapped[(name, email)] = out.rpartition("<")[2].rstrip(">").lower()
    assert mapped[("Old Four", "four-old@x.org")] == "four@x.org"
    assert mapped[("Someone Else", "four-old@x.org")] == "four-old@x.org"
    for a in MAILMAP_IDENTITIES:
        for b in MAILMAP_IDENTITIES:
            same_target = mapped[a] == mapped[b]
            assert (maker_of(conn, shas[a]) == maker_of(conn, shas[b])) == same_target, (a, b)
    names = dict(conn.execute("SELECT key, name FROM makers"))
    assert names[maker_of(conn, shas[("one", "one@x.org")])] == "Proper One"
    assert names[maker_of(conn, shas[("T3", "three-old@x.org")])] == "Proper Three"
    rule = conn.execute("SELECT rule, evidence FROM maker_identities WHERE identity = 'Two Old <two-old@x.org>'").fetchone()
    assert rule[0] == "mailmap" and "line 3" in rule[1]


def test_same_name_merges_and_split_undoes_it(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    first = repo.commit(("Ada Lovelace", "ada@one.org"))
    second = repo.commit(("ada  LOVELACE", "ada@two.org"))
    # one word: never a name match (and not the local part 'ada' either, which the
    # same-login rule of tests/test_identity_rules.py would rightly take as evidence)
    third = repo.commit(("Lovelace", "ada@three.org"))
    conn, _ = harvest(repo, tmp_path / "merged")
    assert maker_of(conn, first) == maker_of(conn, second) == "git:ada@one.org"
    assert maker_of(conn, third) == "git:ada@three.org"
    rule = conn.execute("SELECT rule FROM maker_identities WHERE email = 'ada@two.org'").fetchone()[0]
    assert rule == "same-name"

    conn, _ = harvest(repo, tmp_path / "split", split=["ada@two.org"])
    assert maker_of(conn, first) == "git:ada@one.org"
    assert maker_of(conn, second) == "git:ada@two.org"
    rule = conn.execute("SELECT rule FROM maker_identities WHERE email = 'ada@two.org'").fetchone()[0]
    assert rule == "own"


def test_a_split_naming_no_identity_is_a_warning_naming_it(tmp_path: Path) -> None:
    """`[people] split` with a typo splits nothing: the harvest says so in a `warning:` line
    naming the entry (issue 23), and still splits what the other entries name."""
    repo = Repo(tmp_path / "r")
    first = repo.commit(("Ada Lovelace", "ada@one.org"))
    second = repo.commit(("Ada Lovelace", "ada@two.org"))
    conf = write_config(tmp_path, split=["ada@two.org", "ada@tow.org"])
    done = cli("harvest-git", str(repo.path), "--config", str(conf))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "ada@tow.org" in warnings[0] and "split" in warnings[0], done.stderr
    assert "ada@two.org" not in warnings[0]
    conn = sqlite3.connect(tmp_path / "conf" / "store.sqlite")
    assert maker_of(conn, first) != maker_of(conn, second)


def link_to_accounts(conn: sqlite3.Connection, links: dict[str, tuple[int, str]]) -> None:
    """Store what the GitHub harvester stores for API-linked commits: people rows and
    commits.author_id (source 'both')."""
    with conn:
        for sha, (user_id, login) in links.items():
            conn.execute("INSERT OR IGNORE INTO people(id, login, type) VALUES (?, ?, 'User')", (user_id, login))
            conn.execute("UPDATE commits SET author_id = ?, source = 'both' WHERE sha = ?", (user_id, sha))


def test_api_links_and_names_never_merge_two_accounts(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    a = repo.commit(("Chris Park", "chris@a.org"))
    b = repo.commit(("Chris Park", "chris@b.org"))
    c = repo.commit(("Chris Park", "chris@c.org"))
    a_again = repo.commit(("C. Park", "chris@a.org"))
    harvest(repo, tmp_path)
    config = load_config(tmp_path / "conf" / "graphminer.toml")
    conn = open_store(tmp_path / "conf" / "store.sqlite")

    link_to_accounts(conn, {a: (11, "chris-a"), b: (12, "chris-b")})
    identity.refresh(conn, config)
    assert maker_of(conn, a) == "11" and maker_of(conn, b) == "12"
    assert maker_of(conn, a_again) == "11"  # same email the API linked to one account
    assert maker_of(conn, c) == "git:chris@c.org"  # the name leads to two accounts: unknowable

    with conn:
        conn.execute("UPDATE commits SET author_id = NULL WHERE sha = ?", (b,))
    identity.refresh(conn, config)
    assert maker_of(conn, b) == maker_of(conn, c) == "11"
    rule, evidence = conn.execute(
        "SELECT rule, evidence FROM maker_identities WHERE email = 'chris@c.org'").fetchone()
    assert rule == "same-name" and "user id 11" in evidence
    assert conn.execute("SELECT rule FROM maker_identities WHERE identity = 'C. Park <chris@a.org>'").fetchone()[0] == "api-author-login"


def test_noreply_emails_of_both_forms(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    new_form = repo.commit(("Dee", "123+DeeDee@users.noreply.github.com"))
    old_form = repo.commit(("Dee D", "deedee@users.noreply.github.com"))
    other_old = repo.commit(("Eve", "eve@users.noreply.github.com"))
    conn, _ = harvest(repo, tmp_path)
    assert maker_of(conn, new_form) == maker_of(conn, old_form) == "123"
    assert conn.execute("SELECT login FROM makers WHERE key = '123'").fetchone()[0].lower() == "deedee"
    key = maker_of(conn, other_old)
    assert conn.execute("SELECT login FROM makers WHERE key = ?", (key,)).fetchone()[0] == "eve"


def test_opt_out_by_email_and_login(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    secret = repo.commit(("Sec Ret", "secret@x.org"))
    hidden = repo.commit(("Hid Den", "77+hidden@users.noreply.github.com"))
    kept = repo.commit(("Kept Person", "kept@x.org"))
    conn, _ = harvest(repo, tmp_path / "before")
    assert maker_of(conn, secret) == "git:secret@x.org"

    # opting out later purges what the first harvest stored
    conf = write_config(tmp_path / "before", opt_out=["SECRET@x.org", "hidden"])
    assert run("harvest-git", str(repo.path), "--config", str(conf)).exit_code == 0
    conn = sqlite3.connect(tmp_path / "before" / "conf" / "store.sqlite")
    stored = conn.execute("SELECT author_name, author_email FROM commits WHERE sha IN (?, ?)", (secret, hidden)).fetchall()
    assert stored == [(None, None), (None, None)]
    assert maker_of(conn, secret) is None and maker_of(conn, hidden) is None
    assert maker_of(conn, kept) == "git:kept@x.org"
    everything = json.dumps(conn.execute("SELECT * FROM makers").fetchall() +
                            conn.execute("SELECT * FROM maker_identities").fetchall()).lower()
    assert "secret" not in everything and "hidden" not in everything


def test_bots_by_type_suffix_and_list_not_by_surname(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    shas = {who: repo.commit(who) for who in [
        ("Eli Bohbot", "eli@x.org"), ("Ama Obot", "ama@x.org"),
        ("Renovate Bot", "bot@renovateapp.com"),
        ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        ("GitHub Actions Bot", "hackforla-bot@hackforla.org"),
        ("snyk-bot", "snyk-bot@snyk.io"),
    ]}
    conn, _ = harvest(repo, tmp_path)  # no bots.txt in the config folder: the packaged list
    bots = {who: conn.execute("SELECT is_bot FROM makers WHERE key = ?", (maker_of(conn, sha),)).fetchone()[0]
            for who, sha in shas.items()}
    assert [who[0] for who, flag in bots.items() if flag] == [
        "Renovate Bot", "dependabot[bot]", "GitHub Actions Bot", "snyk-bot"]

    listed = json.loads(run("identities", "--json", "--store", str(tmp_path / "conf" / "store.sqlite")).output)
    assert {m["name"] for m in listed} == {"Eli Bohbot", "Ama Obot"}
    with_bots = json.loads(run("identities", "--json", "--include-bots", "--store",
                               str(tmp_path / "conf" / "store.sqlite")).output)
    assert len(with_bots) == 6 and sum(m["is_bot"] for m in with_bots) == 4


def test_identities_explain(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(("Ada Lovelace", "ada@one.org"))
    repo.commit(("Ada Lovelace", "ada@two.org"))
    harvest(repo, tmp_path)
    store = str(tmp_path / "conf" / "store.sqlite")
    result = run("identities", "--store", store, "explain", "ADA@two.org")
    assert result.exit_code == 0
    assert "git:ada@one.org" in result.output and "[same-name]" in result.output
    assert "* Ada Lovelace <ada@two.org>" in result.output
    missing = run("identities", "--store", store, "explain", "nobody@nowhere")
    assert missing.exit_code == 2 and len(missing.output.strip().splitlines()) == 1


def test_two_people_sharing_a_role_account_stay_apart(tmp_path: Path) -> None:
    """A role account's name is no person's: 'FOI site testharness' written with Alice's
    and with Bob's address (each otherwise known by a first name only, so no other full
    name contradicts it) joins neither to the other. Read as one person's full name, it
    made them one maker before identity resolution read the role rules of issue 19. Each
    role commit stays with the address it was made from."""
    repo = Repo(tmp_path / "r")
    alice = repo.commit(("alice", "alice@smith.example"))
    bob = repo.commit(("bob", "bob@jones.example"))
    alice_role = repo.commit(("FOI site testharness", "alice@smith.example"))
    bob_role = repo.commit(("FOI site testharness", "bob@jones.example"))
    conn, _ = harvest(repo, tmp_path / "store")
    assert maker_of(conn, alice) == maker_of(conn, alice_role) == "git:alice@smith.example"
    assert maker_of(conn, bob) == maker_of(conn, bob_role) == "git:bob@jones.example"
    rules = {row[0] for row in conn.execute(
        "SELECT rule FROM maker_identities WHERE lower(identity) LIKE '%testharness%'")}
    assert "same-name" not in rules
