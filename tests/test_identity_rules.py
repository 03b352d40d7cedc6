"""The identity rules of issue 15, each on a small real repository: what it joins, what
it must leave apart (two people, two logins), its recorded rule and evidence, and the
split that undoes it. Names and emails follow the patterns of real civic tech history
(fixmystreet's log in ../shared)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from test_git_support import Repo, run, write_config
from test_identity import harvest, maker_of

from graphminer.identity import domain_is_host, is_generic_email, names_agree


def rule_of(conn: sqlite3.Connection, identity: str) -> tuple[str, str]:
    return conn.execute("SELECT rule, evidence FROM maker_identities WHERE identity = ?", (identity,)).fetchone()


def test_names_agree_and_hosts() -> None:
    assert names_agree("matthew", "matthew somerville")
    assert names_agree("m somerville", "matthew somerville")
    assert names_agree("stevenday", "steven day") and names_agree("davea", "dave arter")
    assert names_agree("chris", "chris mytton")  # a first name agrees: the rules ask for more
    assert not names_agree("rikard", "jonas oberg")
    assert not names_agree("anna", "annie")  # two one-word names never agree
    assert not names_agree("sam jones", "ann jones")  # a shared surname is not enough
    assert domain_is_host("fury.ukcod.org.uk") and domain_is_host("dev.fixamingata.se")
    assert domain_is_host("clives-mbp.home") and domain_is_host("vps29.(none)")
    assert not domain_is_host("dracos.co.uk") and not domain_is_host("joesiltberg.se")
    assert is_generic_email("git@joesiltberg.se") and not is_generic_email("git@joesiltberg.se", frozenset({"joesiltberg.se"}))
    assert is_generic_email("info@mysociety.org") and is_generic_email("root@dev.fixamingata.se", frozenset({"dev.fixamingata.se"}))


def test_login_style_identity_joins_the_one_person_with_that_login(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    old = repo.commit(("matthew", "matthew"))
    org = repo.commit(("Matthew Somerville", "matthew@mysociety.org"))
    host = repo.commit(("Matthew Somerville", "matthew@fury.ukcod.org.uk"))
    louise_old = repo.commit(("louise", "louise"))
    louise = repo.commit(("Louise Crow", "louise.crow@gmail.com"))
    repo.commit(("Louise Crow", "louise@peas.ukcod.org.uk"))
    repo.commit(("Louise Crow", "louise@peas.ukcod.org.uk"))  # one commit would be too weak (below)
    chris_old = repo.commit(("chris", "chris"))  # 2006's Chris: no identity carries 'chris'
    chris = repo.commit(("Chris Mytton", "chrism@mysociety.org"))
    conn, _ = harvest(repo, tmp_path / "a")
    assert maker_of(conn, old) == maker_of(conn, org) == maker_of(conn, host)
    assert maker_of(conn, louise_old) == maker_of(conn, louise)
    louise_key = maker_of(conn, louise)
    assert conn.execute("SELECT name FROM makers WHERE key = ?", (louise_key,)).fetchone()[0] == "Louise Crow"
    assert maker_of(conn, chris_old) != maker_of(conn, chris)
    rule, evidence = rule_of(conn, "matthew <matthew>")
    assert rule == "same-login" and "'matthew'" in evidence and "no other person" in evidence

    # the same word on two people: no join
    repo.commit(("Matthew Jones", "matthew@jones.example.net"))
    conn, _ = harvest(repo, tmp_path / "b")
    assert maker_of(conn, old) != maker_of(conn, org)
    assert maker_of(conn, org) == maker_of(conn, host)  # same-name still holds

    # a split undoes it
    split_repo = Repo(tmp_path / "s")
    first = split_repo.commit(("matthew", "matthew"))
    second = split_repo.commit(("Matthew Somerville", "matthew@mysociety.org"))
    conn, _ = harvest(split_repo, tmp_path / "s0")
    assert maker_of(conn, first) != maker_of(conn, second)  # one commit carrying it: too weak
    split_repo.commit(("Matthew Somerville", "matthew@mysociety.org"))
    conn, _ = harvest(split_repo, tmp_path / "s2")
    assert maker_of(conn, first) == maker_of(conn, second)
    conn, _ = harvest(split_repo, tmp_path / "s1", split=["matthew"])
    assert maker_of(conn, first) != maker_of(conn, second)
    assert rule_of(conn, "matthew <matthew>")[0] == "own"


def test_one_word_name_first_name_of_two_people_stays_apart(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    word = repo.commit(("Sam", "sam@old-laptop.home"))
    one = repo.commit(("Sam Pearson", "sam@sgp.me.uk"))
    repo.commit(("Sam Smith", "s.smith@example.net"))  # a second Sam
    conn, _ = harvest(repo, tmp_path)
    assert maker_of(conn, word) != maker_of(conn, one)


def test_personal_domain_makes_role_addresses_personal(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    short = repo.commit(("Guillaume", "fixmystreet@stereo.lu"))
    full = repo.commit(("Guillaume RISCHARD", "git@stereo.lu"))
    # an organisation's domain holds several people: info@ there is nobody in particular
    ann = repo.commit(("Ann Lee", "info@civic-example.org"))
    bo = repo.commit(("Bo Chen", "info@civic-example.org"))
    repo.commit(("Bo Chen", "bo@civic-example.org"))
    conn, _ = harvest(repo, tmp_path / "a")
    assert maker_of(conn, short) == maker_of(conn, full)
    assert rule_of(conn, "Guillaume <fixmystreet@stereo.lu>")[0] == "personal-domain"
    assert "stereo.lu" in rule_of(conn, "Guillaume <fixmystreet@stereo.lu>")[1]
    assert maker_of(conn, ann) != maker_of(conn, bo)

    conn, _ = harvest(repo, tmp_path / "b", split=["fixmystreet@stereo.lu"])
    assert maker_of(conn, short) != maker_of(conn, full)


def test_two_people_on_one_domain_is_no_personal_domain(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    jonas = repo.commit(("Jonas Oberg", "jonas@morus.se"))
    rikard = repo.commit(("Rikard", "rikard@morus.se"))
    odd = repo.commit(("Jonas Oberg", "rikard@morus.se"))  # a shared config
    conn, _ = harvest(repo, tmp_path)
    # the email joins its two names (as ever); the name does not carry Rikard to Jonas
    assert maker_of(conn, rikard) == maker_of(conn, odd)
    assert maker_of(conn, jonas) != maker_of(conn, rikard)


def test_noreply_login_equal_to_a_personal_domain_label(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    web = repo.commit(("M Somerville", "dracos@users.noreply.github.com"))
    mail = repo.commit(("Matthew Somerville", "matthew-github@dracos.co.uk"))
    conn, _ = harvest(repo, tmp_path)
    assert maker_of(conn, web) == maker_of(conn, mail)
    rule, evidence = rule_of(conn, "Matthew Somerville <matthew-github@dracos.co.uk>")
    assert rule == "noreply-login" and "dracos" in evidence
    assert conn.execute("SELECT login FROM makers WHERE key = ?", (maker_of(conn, mail),)).fetchone()[0] == "dracos"


def test_never_two_logins(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    # a one-word name equal to the login pezholio never joins an identity that the
    # login stuart already holds, however well the names agree
    a = repo.commit(("Stuart Harrison", "pezholio@users.noreply.github.com"))
    repo.commit(("pezholio", "pezholio@users.noreply.github.com"))
    c = repo.commit(("Stu Harrison", "stuart@users.noreply.github.com"))
    repo.commit(("Stu Harrison", "stu@other-example.net"))
    b = repo.commit(("pezholio", "stu@other-example.net"))
    conn, _ = harvest(repo, tmp_path)
    assert maker_of(conn, b) == maker_of(conn, c)
    assert maker_of(conn, a) != maker_of(conn, c)
    # without the login stuart, the same name joins
    repo2 = Repo(tmp_path / "r2")
    a2 = repo2.commit(("Stuart Harrison", "pezholio@users.noreply.github.com"))
    b2 = repo2.commit(("pezholio", "stu@other-example.net"))
    conn, _ = harvest(repo2, tmp_path / "two")
    assert maker_of(conn, a2) == maker_of(conn, b2)
    assert rule_of(conn, "pezholio <stu@other-example.net>")[0] == "same-login"


def test_bot_under_two_emails_is_one_bot(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(("Ann Lee", "ann@example.net"))  # (a store of bots alone trips precompute)
    web = repo.commit(("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"))
    support = repo.commit(("dependabot[bot]", "support@dependabot.com"))
    other = repo.commit(("renovate[bot]", "bot@renovateapp.com"))
    conn, _ = harvest(repo, tmp_path)
    assert maker_of(conn, web) == maker_of(conn, support) == "49699333"
    assert maker_of(conn, other) != maker_of(conn, web)
    assert rule_of(conn, "dependabot[bot] <support@dependabot.com>")[0] == "same-bot"


def test_summary_line_and_unchanged_json(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(("matthew", "matthew"))
    repo.commit(("Matthew Somerville", "matthew@mysociety.org"))
    repo.commit(("Matthew Somerville", "matthew@dracos.co.uk"))
    repo.commit(("Ann Lee", "ann@example.net"))
    conf = write_config(tmp_path)
    assert run("harvest-git", str(repo.path), "--config", str(conf)).exit_code == 0
    text = run("identities", "--config", str(conf)).output
    summary = text.splitlines()[-1]
    assert summary.startswith("4 identities, 2 makers; joins by rule: ") and "same-login" in summary
    makers = __import__("json").loads(run("identities", "--json", "--config", str(conf)).output)
    assert isinstance(makers, list) and {"key", "identities"} <= set(makers[0])


# ---------------------------------------------------------------- issue 21


def test_role_local_part_on_a_persons_own_domain_and_its_subdomains(tmp_path: Path) -> None:
    """hi@ under a handle and a full name, on a domain whose label is the handle: one
    person; an address on a machine of that domain is theirs too. On an organisation's
    domain (two people who cannot be one) hi@ stays a role's."""
    repo = Repo(tmp_path / "r")
    handle = repo.commit(("zeitgeist", "hi@zeitgeist.de"))
    full = repo.commit(("Jane Doe", "hi@zeitgeist.de"))
    laptop = repo.commit(("Jane Doe", "jane@laptop.zeitgeist.de"))
    ann = repo.commit(("Ann Lee", "hi@civic.example.org"))
    bo = repo.commit(("Bo Chen", "hi@civic.example.org"))
    conn, _ = harvest(repo, tmp_path / "a")
    assert maker_of(conn, handle) == maker_of(conn, full) == maker_of(conn, laptop)
    assert maker_of(conn, ann) != maker_of(conn, bo)


def test_a_hyphenated_handle_is_its_domains_label(tmp_path: Path) -> None:
    """A login with a hyphen names its owner's domain as it is ('lena-moro12.example'):
    the handle is the owner's, so the domain is one person's (found by a generated world's
    truth, which reads the label as the login)."""
    repo = Repo(tmp_path / "r")
    full = repo.commit(("Lena Morov", "hi@lena-moro12.example"))
    handle = repo.commit(("lena-moro12", "hi@lena-moro12.example"))
    host = repo.commit(("lena-moro12", "lena-moro12@host.lena-moro12.example"))
    conn, _ = harvest(repo, tmp_path / "a")
    assert maker_of(conn, full) == maker_of(conn, handle) == maker_of(conn, host)


def test_a_login_of_imported_history_carried_in_one_commit_stays_apart(tmp_path: Path) -> None:
    """'inesbajan <inesbajan>' beside one commit of 'Ines Bajan <inesbajan@...>', whose
    address and name written together both carry the word: one commit is still too weak
    (counted once, not once per way it carries the word), and the name written together
    is no way around it. A second commit makes the evidence enough."""
    repo = Repo(tmp_path / "r")
    old = repo.commit(("inesbajan", "inesbajan"))
    repo.commit(("inesbajan", "inesbajan"))
    full = repo.commit(("Ines Bajan", "inesbajan@mail.example.org"))
    conn, _ = harvest(repo, tmp_path / "a")
    assert maker_of(conn, old) != maker_of(conn, full)
    repo.commit(("Ines Bajan", "inesbajan@mail.example.org"))
    conn, _ = harvest(repo, tmp_path / "b")
    assert maker_of(conn, old) == maker_of(conn, full)
    assert rule_of(conn, "inesbajan <inesbajan>")[0] == "same-login"


def test_names_as_displayed_camel_case_and_short_forms(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    plain = repo.commit(("Paul Tagliamonte", "tag@pault.example"))
    reversed_ = repo.commit(("Paul\u202eetnomailgaT\u202d", "paultag@mail.example"))
    camel_a = repo.commit(("SeanGau", "haca00193@gmail.com"))
    camel_b = repo.commit(("SeanGau", "rrtw0627@gmail.com"))
    sogo = repo.commit(("Sogo Ogundowole", "dowolebolu@gmail.com"))
    long_form = repo.commit(("Oluwasogo Ogundowole", "oluwasogo@Oluwasogos-MacBook-Pro.local"))
    sam = repo.commit(("Sam Jones", "sam@jones.example"))
    ann = repo.commit(("Ann Jones", "ann@jones2.example"))  # a shared surname is not one person
    conn, _ = harvest(repo, tmp_path / "a")
    assert maker_of(conn, plain) == maker_of(conn, reversed_)
    assert maker_of(conn, camel_a) == maker_of(conn, camel_b)
    assert maker_of(conn, sogo) == maker_of(conn, long_form)
    assert rule_of(conn, "Oluwasogo Ogundowole <oluwasogo@Oluwasogos-MacBook-Pro.local>")[0] == "name-variant"
    assert maker_of(conn, sam) != maker_of(conn, ann)


def test_address_spelling_a_full_name_and_a_first_name_alone(tmp_path: Path) -> None:
    """'Melanie <melanie.mazanec@...>' is Melanie Mazanec (her address spells the name);
    'Ben <ben.w@...>' beside one Ben Fossen stays apart: a first name alone never joins."""
    repo = Repo(tmp_path / "r")
    melanie = repo.commit(("Melanie", "melanie.mazanec@gmail.com"))
    full = repo.commit(("Melanie Mazanec", "12260067+mmazanec22@users.noreply.github.com"))
    ben = repo.commit(("Ben", "ben@old-laptop.home"))
    fossen = repo.commit(("Ben Fossen", "ben@civiceagle.example"))
    repo.commit(("Ben Fossen", "ben@civiceagle.example"))
    conn, _ = harvest(repo, tmp_path / "a")
    assert maker_of(conn, melanie) == maker_of(conn, full)
    assert rule_of(conn, "Melanie <melanie.mazanec@gmail.com>")[0] == "email-name"
    assert maker_of(conn, ben) != maker_of(conn, fossen)


def test_merge_subject_login_needs_one_author_identity(tmp_path: Path) -> None:
    """'Merge pull request #N from sroomf/...' bringing in only Sruthi Vedantham's commits
    makes the noreply 'Sruthi <ID+sroomf@...>' hers; an organisation's branches, merging
    several people's commits, join nobody to its noreply identity."""
    repo = Repo(tmp_path / "r")
    repo.commit(("Jesse Main", "jesse@example.org"))
    maintainer = ("Jesse Main", "jesse@example.org")

    def pull(number: int, login: str, *authors: tuple[str, str]) -> None:
        repo.git("checkout", "-q", "-b", f"b{number}")
        for author in authors:
            repo.commit(author)
        repo.git("checkout", "-q", "main")
        repo.merge(f"b{number}", f"Merge pull request #{number} from {login}/b{number}", maintainer)

    sruthi = ("Sruthi Vedantham", "sruthi@civic.example")
    pull(1, "sroomf", sruthi, sruthi)
    first_name = repo.commit(("Sruthi", "111374976+sroomf@users.noreply.github.com"))
    pull(2, "sroomf", sruthi)
    pull(3, "civicorg", ("Ann Lee", "ann@a.example"))
    pull(4, "civicorg", ("Bo Chen", "bo@b.example"))
    org_noreply = repo.commit(("Civic Org", "5555+civicorg@users.noreply.github.com"))
    pull(5, "mixed", ("Cy Dee", "cy@c.example"), ("Di Eve", "di@d.example"))
    mixed = repo.commit(("mixed", "6666+mixed@users.noreply.github.com"))
    conn, _ = harvest(repo, tmp_path / "a")
    sruthi_sha = conn.execute("SELECT sha FROM commits WHERE author_email = ? LIMIT 1", (sruthi[1],)).fetchone()[0]
    assert maker_of(conn, first_name) == maker_of(conn, sruthi_sha)
    assert rule_of(conn, "Sruthi Vedantham <sruthi@civic.example>")[0] == "merge-login"
    ann_sha = conn.execute("SELECT sha FROM commits WHERE author_email = 'ann@a.example'").fetchone()[0]
    cy_sha = conn.execute("SELECT sha FROM commits WHERE author_email = 'cy@c.example'").fetchone()[0]
    assert maker_of(conn, org_noreply) != maker_of(conn, ann_sha)
    assert maker_of(conn, mixed) != maker_of(conn, cy_sha)


def test_placeholders_and_role_accounts_are_no_evidence(tmp_path: Path) -> None:
    """Two people behind one placeholder or one role address stay two; a role's identity
    carries no login to anyone."""
    from graphminer.identity import is_login_style

    assert not is_login_style("ADD_EMAIL_HERE") and is_login_style("louise")
    repo = Repo(tmp_path / "r")
    ann = repo.commit(("Ann Lee", "ADD_EMAIL_HERE"))
    bo = repo.commit(("Bo Chen", "ADD_EMAIL_HERE"))
    cy = repo.commit(("Cy Dee", "deploy@civic.example"))
    di = repo.commit(("Di Eve", "deploy@civic.example"))
    root_old = repo.commit(("root", "root"))
    root_person = repo.commit(("Rory Root", "root@rory.example"))
    repo.commit(("Rory Root", "root@rory.example"))
    conn, _ = harvest(repo, tmp_path / "a")
    assert maker_of(conn, ann) != maker_of(conn, bo)
    assert maker_of(conn, cy) != maker_of(conn, di)
    assert maker_of(conn, root_old) != maker_of(conn, root_person)


def test_explain_lists_every_piece_of_evidence(tmp_path: Path) -> None:
    """Two pieces of evidence for one join (same full name, and the noreply login spelled
    by the name): explain shows both with their rules."""
    repo = Repo(tmp_path / "r")
    repo.commit(("Forest Gregg", "fgregg@uchicago.example"))
    repo.commit(("Forest Gregg", "fgregg@users.noreply.github.com"))
    conf = write_config(tmp_path)
    store = str(tmp_path / "store.sqlite")
    assert run("harvest-git", str(repo.path), "--store", store, "--config", str(conf)).exit_code == 0
    result = run("identities", "--config", str(conf), "--store", store, "explain", "fgregg@uchicago.example")
    assert result.exit_code == 0, result.output
    assert "[noreply-login]" in result.output and "also [same-name]" in result.output or (
        "[same-name]" in result.output and "also [noreply-login]" in result.output), result.output
