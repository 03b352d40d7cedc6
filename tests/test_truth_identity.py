"""Ground truth (graphminer.fakehub.truth): identity rules and bots, on hand-built worlds."""

from __future__ import annotations

from test_truth import WEB_FLOW, World, t


def makers_of(world: World) -> dict:
    return world.truth()["makers"]


def test_linked_commit_author_is_the_user_and_lists_login_and_emails():
    world = World()
    alice = world.user(1, "alice")
    world.commit("1" * 40, t("2020-01-01"), ("Alice Smith", "Alice@Example.org"), author_id=alice)
    world.commit("2" * 40, t("2020-01-02"), ("A. Smith", "a@work.example"), author_id=alice,
                 parents=["1" * 40])
    makers = makers_of(world)
    assert set(makers) == {"1"}
    assert makers["1"]["identities"] == ["alice", "a@work.example", "alice@example.org"]
    assert makers["1"]["resolvable"] is True
    assert makers["1"]["milestones"]["first_landed"] == t("2020-01-01")


def test_noreply_emails_of_both_forms_resolve_to_the_account():
    world = World()
    world.user(583231, "octocat")
    world.user(2, "hubot")
    # The id form wins even when the login part is an old login (a renamed user).
    world.commit("1" * 40, t("2020-01-01"),
                 ("The Octocat", "583231+oldname@users.noreply.github.com"))
    world.commit("2" * 40, t("2020-01-02"), ("Hu Bot Person", "HUBOT@users.noreply.github.com"),
                 parents=["1" * 40])
    # An old-form email naming no current login stays unlinked.
    world.commit("3" * 40, t("2020-01-03"), ("Gone Person", "ghostly@users.noreply.github.com"),
                 parents=["2" * 40])
    makers = makers_of(world)
    assert set(makers) == {"583231", "2", "git:ghostly@users.noreply.github.com"}
    assert makers["583231"]["login"] == "octocat"
    assert makers["583231"]["milestones"]["first_landed"] == t("2020-01-01")
    # a direct push of their own commit: a committer (rules version 4)
    assert makers["2"]["milestones"]["committer"] == t("2020-01-02")
    assert makers["git:ghostly@users.noreply.github.com"]["resolvable"] is False


def test_email_seen_on_a_linked_commit_links_an_unlinked_one():
    world = World()
    alice = world.user(1, "alice")
    world.commit("1" * 40, t("2020-01-01"), ("Alice Smith", "alice@example.org"), author_id=alice)
    world.commit("2" * 40, t("2020-03-01"), ("alice", "alice@example.org"), parents=["1" * 40])
    makers = makers_of(world)
    assert set(makers) == {"1"}
    assert makers["1"]["milestones"]["returning"] == t("2020-03-01")


def test_full_name_of_exactly_one_linked_user_links_an_unlinked_email():
    world = World()
    alice = world.user(1, "alice")
    world.commit("1" * 40, t("2020-01-01"), ("Alice  Smith", "alice@example.org"), author_id=alice)
    world.commit("2" * 40, t("2020-03-01"), ("alice smith", "alice@laptop.local"),
                 parents=["1" * 40])
    makers = makers_of(world)
    assert set(makers) == {"1"}
    assert makers["1"]["identities"] == ["alice", "alice@example.org", "alice@laptop.local"]
    assert makers["1"]["milestones"]["returning"] == t("2020-03-01")


def test_names_that_are_ambiguous_short_or_generic_never_link():
    world = World()
    one = world.user(1, "sam1")
    two = world.user(2, "sam2")
    mono = world.user(3, "mono")
    gen = world.user(4, "gen")
    ident = [
        (("Sam Lee", "sam@one.example"), one),
        (("Sam Lee", "sam@two.example"), two),
        (("Cher", "cher@one.example"), mono),
        (("Your Name", "gen@one.example"), gen),
        (("Sam Lee", "sam@three.example"), None),
        (("Cher", "cher@two.example"), None),
        (("Your Name", "you@two.example"), None),
    ]
    parent: list[str] = []
    for index, ((name, email), user_id) in enumerate(ident):
        sha = f"{index:040d}"
        world.commit(sha, t(f"2020-01-0{index + 1}"), (name, email), author_id=user_id,
                     parents=parent)
        parent = [sha]
    makers = makers_of(world)
    # Two linked accounts share "Sam Lee": both stay, and the third email links to neither.
    assert set(makers) == {"1", "2", "3", "4", "git:sam@three.example", "git:cher@two.example",
                           "git:you@two.example"}
    for key in ("git:sam@three.example", "git:cher@two.example", "git:you@two.example"):
        assert makers[key]["resolvable"] is False
        assert makers[key]["identities"] == [key[4:]]


def test_unlinked_emails_with_one_full_name_are_one_maker_keyed_by_the_earliest_commit():
    world = World()
    alice = world.user(1, "alice")
    dee = ("Dee Nolink", "dee@new.example")
    world.commit("1" * 40, t("2020-01-01"), ("Alice Smith", "alice@example.org"), author_id=alice)
    world.commit("2" * 40, t("2020-02-01"), dee, parents=["1" * 40], author_date=t("2019-01-01"))
    world.commit("3" * 40, t("2020-01-15"), ("dee nolink", "DEE@old.example"), parents=["1" * 40])
    world.commit("4" * 40, t("2020-03-01"), ("Dee Nolink", "dee@old.example"),
                 parents=["2" * 40, "3" * 40], message="Merge branch 'x'")
    makers = makers_of(world)
    # Commit 3 (committed 2020-01-15) is the earliest by committer date.
    assert set(makers) == {"1", "git:dee@old.example"}
    dee_entry = makers["git:dee@old.example"]
    assert dee_entry["identities"] == ["dee@new.example", "dee@old.example"]
    assert dee_entry["resolvable"] is False
    assert dee_entry["login"] is None
    # Commit 3 came in through the merge; commits 2 (direct push) and 4 (merge) landed, her
    # own work put there by herself: a committer (rules version 4), no maintainer.
    assert dee_entry["milestones"]["first_landed"] == t("2020-02-01")
    assert dee_entry["milestones"]["committer"] == t("2020-02-01")
    assert dee_entry["milestones"]["maintainer"] is None


def test_a_linked_commit_is_never_moved_to_another_account():
    world = World()
    alice = world.user(1, "alice")
    bob = world.user(2, "bob")
    # bob once committed with alice's email: his commit stays his, and the email is
    # ambiguous evidence, so an unlinked commit with it links to nobody.
    world.commit("1" * 40, t("2020-01-01"), ("Alice Smith", "shared@example.org"), author_id=alice)
    world.commit("2" * 40, t("2020-01-02"), ("Bob Jones", "shared@example.org"), author_id=bob,
                 parents=["1" * 40])
    world.commit("3" * 40, t("2020-01-03"), ("Someone", "shared@example.org"), parents=["2" * 40])
    makers = makers_of(world)
    assert set(makers) == {"1", "2", "git:shared@example.org"}
    assert makers["2"]["milestones"]["first_landed"] == t("2020-01-02")


def test_committer_identity_resolves_for_direct_pushes():
    world = World()
    alice = world.user(1, "alice")
    bob = world.user(2, "bob")
    world.commit("0" * 40, t("2019-12-01"), ("Alice Smith", "alice@example.org"), author_id=alice,
                 committer=("GitHub", "noreply@github.com"))  # alice's own work landed first
    world.commit("1" * 40, t("2020-01-01"), ("Bob Jones", "bob@example.org"), author_id=bob,
                 parents=["0" * 40])
    # alice applies carol's patch; the committer side is linked only by alice's email.
    world.commit("2" * 40, t("2020-02-01"), ("Carol King", "carol@example.org"),
                 committer=("Alice Smith", "alice@example.org"), committer_id=alice,
                 parents=["1" * 40])
    world.commit("3" * 40, t("2020-03-01"), ("Carol King", "carol@example.org"),
                 committer=("A S", "alice@example.org"), parents=["2" * 40])
    makers = makers_of(world)
    assert makers["1"]["milestones"]["maintainer"] == t("2020-02-01")
    assert makers["1"]["milestones"]["first_landed"] == t("2019-12-01")
    assert makers["git:carol@example.org"]["milestones"]["first_landed"] == t("2020-02-01")
    assert makers["git:carol@example.org"]["milestones"]["maintainer"] is None


def test_own_issue_closed_and_email_linked_commit_are_the_same_maker():
    world = World()
    alice = world.user(1, "alice")
    world.commit("1" * 40, t("2020-01-01"), ("Alice Smith", "alice@example.org"), author_id=alice)
    world.issue(1, alice, t("2020-01-05"))
    # Closing her own issue is no maintainer act; the unlinked commit is hers by email.
    world.event(1, alice, "closed", t("2020-01-06"))
    world.commit("2" * 40, t("2020-01-07"), ("Alice Smith", "alice@example.org"),
                 committer=WEB_FLOW, parents=["1" * 40])
    makers = makers_of(world)
    assert set(makers) == {"1"}
    # her direct push is a founder's (no one else landed in the repo): no maintainer act
    assert makers["1"]["milestones"]["maintainer"] is None
    assert makers["1"]["milestones"]["creator"] == t("2020-01-01")


def test_bot_identities_by_list_and_pattern_but_no_surname_regex():
    world = World()
    ident = [
        ("GitHub Actions Bot", "hackforla-bot@hackforla.org"),
        ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        ("Renovate Bot", "renovate@whitesourcesoftware.com"),
        ("snyk-bot", "snyk-bot@snyk.io"),
        ("Anna Bohbot", "anna@example.org"),
        ("Kofi Obot", "kofi@example.org"),
    ]
    parent: list[str] = []
    for index, person in enumerate(ident):
        sha = f"{index:040d}"
        world.commit(sha, t(f"2020-01-0{index + 1}"), person, parents=parent)
        parent = [sha]
    makers = makers_of(world)
    bots = {key for key, maker in makers.items() if maker["is_bot"]}
    assert bots == {
        "git:hackforla-bot@hackforla.org",
        "git:49699333+dependabot[bot]@users.noreply.github.com",
        "git:renovate@whitesourcesoftware.com",
        "git:snyk-bot@snyk.io",
    }
    assert makers["git:anna@example.org"]["is_bot"] is False
    assert makers["git:kofi@example.org"]["milestones"]["first_landed"] == t("2020-01-06")
    # The bots' commits are nobody's: anna's is the repo's first landed commit.
    assert makers["git:anna@example.org"]["milestones"]["creator"] == t("2020-01-05")


def test_bot_list_is_configurable():
    world = World()
    world.user(1, "alice")
    world.user(2, "civicbot")
    world.issue(1, 1, t("2020-01-01"))
    world.comment(1, 2, t("2020-01-02"))
    assert world.truth()["makers"]["2"]["is_bot"] is False
    assert world.truth()["makers"]["2"]["milestones"]["organiser"] == t("2020-01-02")
    truth = world.truth(bots=["civicbot"])
    assert truth["makers"]["2"]["is_bot"] is True
    assert set(truth["makers"]["2"]["milestones"].values()) == {None}


def test_web_flow_committer_is_nobody():
    world = World()
    alice = world.user(1, "alice")
    world.commit("1" * 40, t("2020-01-01"), ("Alice Smith", "alice@example.org"),
                 author_id=alice, committer=WEB_FLOW, committer_id=19864447)
    makers = makers_of(world)
    assert set(makers) == {"1"}
    assert makers["1"]["identities"] == ["alice", "alice@example.org"]


# ------------------------------------------------------------------ issue 21: open sides


def chain(world: World, identities: list, start: int = 1, parent: str | None = None) -> str:
    """Commit each identity in turn on one line of history; returns the last sha."""
    parents = [parent] if parent else []
    sha = ""
    for index, identity in enumerate(identities, start=start):
        sha = f"{index:040d}"
        world.commit(sha, t(f"2020-01-{index:02d}"), identity, parents=parents)
        parents = [sha]
    return sha


def test_a_role_looking_address_on_a_persons_own_domain_is_theirs():
    """hi@ under a handle and a full name on the handle's own domain, and an address on a
    machine of that domain: one person. On an organisation's domain (two people who
    cannot be one) hi@ is a role's: each name its own maker, the later one keyed #2."""
    world = World()
    chain(world, [("Lena Morov", "hi@lena-moro12.example"), ("lena-moro12", "hi@lena-moro12.example"),
                  ("lena-moro12", "lena-moro12@host.lena-moro12.example"),
                  ("Ann Lee", "hi@civic.example.org"), ("Bo Chen", "hi@civic.example.org")])
    makers = makers_of(world)
    assert makers["git:hi@lena-moro12.example"]["identities"] == [
        "hi@lena-moro12.example", "lena-moro12@host.lena-moro12.example"]
    assert makers["git:hi@civic.example.org"]["identities"] == ["hi@civic.example.org"]
    assert makers["git:hi@civic.example.org#2"]["milestones"]["first_landed"] == t("2020-01-05")
    assert len(makers) == 3


def test_a_noreply_address_under_a_first_name_brings_the_logins_other_identities():
    world = World()
    world.user(7, "lmorov")
    chain(world, [("Lena", "7+lmorov@users.noreply.github.com"), ("Lena Morov", "lmorov@posteo.example"),
                  ("Lena", "lena@laptop.example")])
    makers = makers_of(world)
    # the login is carried by the full name's address; 'Lena' alone is nobody's evidence
    assert makers["7"]["identities"] == ["lmorov", "7+lmorov@users.noreply.github.com", "lmorov@posteo.example"]
    assert makers["git:lena@laptop.example"]["resolvable"] is False


def merged(world: World, number: int, login: str, base: str, authors: list, day: int) -> str:
    """A PR branch of ``authors``' commits off ``base``, merged on the mainline by
    'Merge pull request #N from LOGIN/topic'; returns the merge's sha."""
    parent = base
    for index, author in enumerate(authors):
        sha = f"{number:02d}{index:038d}"
        world.commit(sha, t(f"2020-02-{day:02d}", f"0{index}:00:00"), author, parents=[parent])
        parent = sha
    sha = f"{number:02d}" + "f" * 38
    world.commit(sha, t(f"2020-02-{day:02d}", "09:00:00"), ("Jesse Main", "jesse@main.example"),
                 author_id=1, parents=[base, parent],
                 message=f"Merge pull request #{number} from {login}/topic\n\nA change")
    return sha


def test_merge_subjects_name_whose_commits_they_brought_in():
    """Every merge from hcape brought in Hana Cape's one identity: it is hcape's. A login
    whose merges bring in two people joins nobody, and so does the repository's owner."""
    world = World()
    world.user(1, "jmain")
    world.user(7, "hcape")
    world.user(8, "mixed")
    world.user(9, "civic")
    hana = ("Hana Cape", "hana@laptop-3.example")
    base = chain(world, [("Jesse Main", "jesse@main.example")])
    world.data["commits"][0]["author_id"] = world.data["commits"][0]["committer_id"] = 1
    head = merged(world, 1, "hcape", base, [hana, hana], 1)
    head = merged(world, 2, "hcape", head, [hana], 2)
    head = merged(world, 3, "mixed", head, [("Cy Dee", "cy@c.example"), ("Di Eve", "di@d.example")], 3)
    merged(world, 4, "civic", head, [("Ed Fox", "ed@e.example")], 4)
    makers = makers_of(world)
    assert makers["7"]["identities"] == ["hcape", "hana@laptop-3.example"]
    assert {"git:cy@c.example", "git:di@d.example", "git:ed@e.example"} <= set(makers)


def test_merge_subjects_need_one_identity_every_time():
    world = World()
    world.user(1, "jmain")
    world.user(7, "hcape")
    base = chain(world, [("Jesse Main", "jesse@main.example")])
    head = merged(world, 1, "hcape", base, [("Hana Cape", "hana@laptop-3.example")], 1)
    merged(world, 2, "hcape", head, [("Hana Cape", "hana@work.example")], 2)
    makers = makers_of(world)
    # two identities over two merges: neither is hcape's; one full name makes them one person
    assert makers["git:hana@laptop-3.example"]["identities"] == ["hana@laptop-3.example", "hana@work.example"]


def test_a_first_name_alone_and_a_placeholder_join_nobody():
    """'Chen' beside one Chen Zuda, and 'Chen' of another person: three makers. A
    placeholder address under two full names is two people: the account holder's name
    joins her account, the other's is its own maker, a third person's keyed #2."""
    world = World()
    zuda = world.user(7, "chenzuda")
    chain(world, [("Chen", "chen@laptop-1.example"), ("Chen", "chen@laptop-2.example"),
                  ("Chen Daga", "ADD_EMAIL_HERE"), ("Chen Zuda", "ADD_EMAIL_HERE"), ("Cy Dee", "ADD_EMAIL_HERE")])
    world.commit("9" * 40, t("2020-02-01"), ("Chen Zuda", "chenzuda@civic.example.com"), author_id=zuda,
                 parents=[f"{5:040d}"])
    makers = makers_of(world)
    assert makers["7"]["identities"] == ["chenzuda", "add_email_here", "chenzuda@civic.example.com"]
    assert {"git:chen@laptop-1.example", "git:chen@laptop-2.example", "git:add_email_here",
            "git:add_email_here#2"} == set(makers) - {"7"}
    assert makers["git:add_email_here"]["milestones"]["first_landed"] == t("2020-01-03")
    assert makers["git:add_email_here#2"]["milestones"]["first_landed"] == t("2020-01-05")


def test_a_login_of_imported_history_needs_more_than_one_carrying_commit():
    world = World()
    last = chain(world, [("elinyozu", "elinyozu"), ("elinyozu", "elinyozu"),
                         ("Emeka Linyozu", "elinyozu@mail.example.org")])
    assert set(makers_of(world)) == {"git:elinyozu", "git:elinyozu@mail.example.org"}
    chain(world, [("Emeka Linyozu", "elinyozu@mail.example.org")], start=4, parent=last)
    assert makers_of(world)["git:elinyozu"]["identities"] == ["elinyozu", "elinyozu@mail.example.org"]


def test_an_address_whose_names_lead_to_two_users_is_split_by_name():
    world = World()
    alice, bob = world.user(1, "alice"), world.user(2, "bob")
    chain(world, [("Alice Smith", "alice@a.example"), ("Bob Jones", "bob@b.example")])
    world.data["commits"][0]["author_id"] = world.data["commits"][0]["committer_id"] = alice
    world.data["commits"][1]["author_id"] = world.data["commits"][1]["committer_id"] = bob
    chain(world, [("Alice Smith", "shared@x.example"), ("Bob Jones", "shared@x.example")], start=3,
          parent=f"{2:040d}")
    makers = makers_of(world)
    assert set(makers) == {"1", "2"}
    assert "shared@x.example" in makers["1"]["identities"] and "shared@x.example" in makers["2"]["identities"]
