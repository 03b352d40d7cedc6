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
