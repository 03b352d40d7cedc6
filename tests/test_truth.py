"""Ground truth (graphminer.fakehub.truth): each milestone rule on a hand-built micro-world.

Every expected date is worked out by hand in the test from the records it plants.
"""

from __future__ import annotations

import json

from graphminer.fakehub.truth import DEFAULT_RULES, MILESTONES, compute_truth

WEB_FLOW = ("GitHub", "noreply@github.com")


def t(day: str, clock: str = "00:00:00") -> str:
    return f"{day}T{clock}Z"


class World:
    """A tiny world in docs/world-format.md's shape; every record gets sane defaults."""

    def __init__(self, now: str = t("2022-01-01")) -> None:
        self.ids = iter(range(5000, 10**6))
        self.data: dict = {
            "format": 1,
            "now": now,
            "users": [],
            "orgs": [],
            "repos": [],
            "issues": [],
            "issue_comments": [],
            "issue_events": [],
            "reviews": [],
            "review_comments": [],
            "commits": [],
            "releases": [],
        }
        self.org("civic")
        self.repo(10)

    def org(self, login: str) -> None:
        self.data["orgs"].append(
            {"id": next(self.ids), "login": login, "name": login, "description": None,
             "created_at": t("2010-01-01"), "members": [], "public_members": []}
        )

    def user(self, user_id: int, login: str, kind: str = "User", name: str | None = None) -> int:
        self.data["users"].append(
            {"id": user_id, "login": login, "type": kind, "name": name, "email": None,
             "created_at": t("2010-01-01")}
        )
        return user_id

    def repo(self, repo_id: int, owner: str = "civic", **extra) -> int:
        self.data["repos"].append(
            {"id": repo_id, "owner": owner, "name": f"repo{repo_id}", "description": None,
             "fork": False, "archived": False, "blocked": False, "default_branch": "main",
             "created_at": t("2010-01-01"), "updated_at": t("2010-01-01"),
             "pushed_at": t("2010-01-01"), "language": None, **extra}
        )
        return repo_id

    def issue(self, number: int, user_id: int | None, created: str, repo: int = 10,
              pr: bool = False, merged_at: str | None = None, merge_sha: str | None = None,
              state_reason: str | None = None) -> None:
        pull = None
        if pr:
            pull = {"merged_at": merged_at, "merged_by_id": None, "merge_commit_sha": merge_sha,
                    "head_ref": "topic", "head_sha": "f" * 40, "base_ref": "main", "draft": False}
        self.data["issues"].append(
            {"repo_id": repo, "number": number, "id": next(self.ids), "user_id": user_id,
             "title": "t", "body": "", "state": "closed" if state_reason else "open",
             "state_reason": state_reason, "created_at": created, "updated_at": created,
             "closed_at": None, "closed_by_id": None, "labels": [], "assignee_ids": [],
             "milestone": None, "author_association": "NONE", "pull_request": pull}
        )

    def pr(self, number: int, user_id: int, created: str, **kw) -> None:
        self.issue(number, user_id, created, pr=True, **kw)

    def comment(self, number: int, user_id: int, created: str, repo: int = 10) -> None:
        self.data["issue_comments"].append(
            {"id": next(self.ids), "repo_id": repo, "issue_number": number, "user_id": user_id,
             "body": "", "created_at": created, "updated_at": created,
             "author_association": "NONE"}
        )

    def review_comment(self, number: int, user_id: int, created: str, repo: int = 10) -> None:
        self.data["review_comments"].append(
            {"id": next(self.ids), "repo_id": repo, "pr_number": number, "review_id": None,
             "user_id": user_id, "body": "", "path": "a.py", "commit_id": "f" * 40,
             "created_at": created, "updated_at": created, "in_reply_to_id": None,
             "author_association": "NONE"}
        )

    def event(self, number: int, actor: int, kind: str, created: str, repo: int = 10,
              label: str | None = None, commit_id: str | None = None) -> None:
        self.data["issue_events"].append(
            {"id": next(self.ids), "repo_id": repo, "issue_number": number, "actor_id": actor,
             "event": kind, "created_at": created, "label": label, "assignee_id": None,
             "milestone": None, "commit_id": commit_id, "state_reason": None}
        )

    def review(self, number: int, user_id: int, state: str, submitted: str, repo: int = 10) -> None:
        self.data["reviews"].append(
            {"id": next(self.ids), "repo_id": repo, "pr_number": number, "user_id": user_id,
             "state": state, "body": "", "submitted_at": submitted, "commit_id": "f" * 40,
             "author_association": "NONE"}
        )

    def commit(self, sha: str, date: str, author: tuple[str, str], committer=None,
               author_id: int | None = None, committer_id: int | None = None,
               parents: list[str] | None = None, message: str = "change", repo: int = 10,
               author_date: str | None = None) -> None:
        committer = committer or author
        if committer_id is None and committer == author:
            committer_id = author_id
        self.data["commits"].append(
            {"repo_id": repo, "sha": sha, "message": message,
             "author": {"name": author[0], "email": author[1], "date": author_date or date},
             "committer": {"name": committer[0], "email": committer[1], "date": date},
             "author_id": author_id, "committer_id": committer_id, "parents": parents or []}
        )

    def release(self, user_id: int, published: str, draft: bool = False, repo: int = 10) -> None:
        self.data["releases"].append(
            {"id": next(self.ids), "repo_id": repo, "tag_name": "v1", "name": "v1", "body": "",
             "author_id": user_id, "target_commitish": "main", "draft": draft,
             "prerelease": False, "created_at": published,
             "published_at": None if draft else published}
        )

    def truth(self, **rules) -> dict:
        # Through JSON, as the generator writes it and a reader loads it.
        return json.loads(json.dumps(compute_truth(json.loads(json.dumps(self.data)), rules or None)))

    def milestones(self, key: str, **rules) -> dict:
        return self.truth(**rules)["makers"][key]["milestones"]


def people(world: World) -> tuple[int, int, int]:
    return world.user(1, "alice"), world.user(2, "bob"), world.user(3, "carol")


# ------------------------------------------------------------------ format


def test_output_has_the_truth_file_format_with_every_milestone_key():
    world = World(now=t("2021-06-30", "23:59:59"))
    alice, bob, _ = people(world)
    world.issue(1, alice, t("2020-01-01"))
    world.commit("a" * 40, t("2020-02-01"), ("Dee Nolink", "dee@example.org"))
    truth = world.truth()
    assert set(truth) == {"rules_version", "as_of", "makers"}
    assert truth["rules_version"] == "5"
    assert truth["as_of"] == "2021-06-30T23:59:59Z"
    assert set(truth["makers"]) == {"1", "git:dee@example.org"}
    expected_keys = [
        "first_contact", "first_issue", "first_comment", "first_pr", "first_landed",
        "returning", "long_term", "committer", "maintainer", "triager", "reviewer", "core", "creator",
        "organiser", "coder_to_organiser", "repo_bridge", "org_bridge", "inactive", "gone",
        "returned", "landed_elsewhere", "civic_elsewhere", "government", "founder", "moved_on",
    ]
    assert list(MILESTONES) == expected_keys
    for maker in truth["makers"].values():
        assert set(maker) == {"login", "identities", "is_bot", "role_account", "resolvable",
                              "milestones"}
        assert list(maker["milestones"]) == expected_keys
        for value in maker["milestones"].values():
            assert value is None or (len(value) == 20 and value.endswith("Z"))
    assert truth["makers"]["1"]["login"] == "alice"
    assert truth["makers"]["1"]["resolvable"] is True
    dee = truth["makers"]["git:dee@example.org"]
    assert dee["login"] is None and dee["resolvable"] is False
    assert dee["identities"] == ["dee@example.org"]


def test_default_rules_hold_the_documented_thresholds():
    assert DEFAULT_RULES["inactive_days"] == 180
    assert DEFAULT_RULES["gone_days"] == 365
    assert DEFAULT_RULES["long_term_days"] == 365
    assert DEFAULT_RULES["first_response_hours"] == 168
    assert DEFAULT_RULES["core_share"] == 0.8
    assert DEFAULT_RULES["core_min_landed"] == 10
    assert DEFAULT_RULES["core_min_makers"] == 3
    assert DEFAULT_RULES["core_min_own"] == 12  # a year's landed contributions (version 4)
    assert DEFAULT_RULES["core_min_own_share"] == 0.05
    assert DEFAULT_RULES["core_min_quarters"] == 2
    assert DEFAULT_RULES["shift_min_actions"] == 3
    assert DEFAULT_RULES["organiser_labels"] == ["good first issue", "help wanted"]


# ------------------------------------------------------------------ first_*


def test_first_contact_issue_comment_and_pr_are_the_earliest_of_each_kind():
    world = World()
    alice, bob, _ = people(world)
    world.issue(1, bob, t("2019-12-01"))
    world.comment(1, alice, t("2020-01-05"))
    world.issue(2, alice, t("2020-01-10"))
    world.issue(3, alice, t("2020-02-10"))
    world.pr(4, bob, t("2020-01-20"))
    world.review(4, alice, "COMMENTED", t("2020-01-01"))  # a review is not a comment
    world.review_comment(4, alice, t("2020-01-03"))
    world.pr(5, alice, t("2020-03-01"))
    marks = world.milestones("1")
    assert marks["first_contact"] == t("2020-01-01")
    assert marks["first_comment"] == t("2020-01-03")
    assert marks["first_issue"] == t("2020-01-10")
    assert marks["first_pr"] == t("2020-03-01")
    assert marks["first_landed"] is None


# ------------------------------------------------------------------ landed, returning, long_term


def test_merged_pr_lands_at_merged_at_and_its_squash_commit_does_not_land_again():
    world = World()
    alice, bob, _ = people(world)
    world.commit("b" * 40, t("2019-12-01"), ("Bob Jones", "bob@example.org"), committer=WEB_FLOW,
                 author_id=bob)  # bob landed work there before he merged alice's PR
    world.pr(1, alice, t("2020-01-01"), merged_at=t("2020-01-03"), merge_sha="s" * 40)
    world.event(1, bob, "merged", t("2020-01-03"))
    world.commit("s" * 40, t("2020-01-03"), ("Alice Smith", "alice@example.org"),
                 committer=WEB_FLOW, author_id=alice, message="Add (#1)", parents=["b" * 40])
    world.commit("t" * 40, t("2020-03-04"), ("Alice Smith", "alice@example.org"),
                 committer=WEB_FLOW, author_id=alice, message="Fix (#9)\n\nbody", parents=["s" * 40])
    truth = world.truth()
    marks = truth["makers"]["1"]["milestones"]
    assert marks["first_landed"] == t("2020-01-03")
    # Both commits came in through PRs: no direct push. The squash commit of #1 does not
    # land again (the world holds PR #1); "(#9)" names a PR the world does not hold, so
    # that commit lands its author's work at its own date (rules version 2).
    assert marks["returning"] == t("2020-03-04") and marks["maintainer"] is None
    assert truth["makers"]["2"]["milestones"]["maintainer"] == t("2020-01-03")
    assert "noreply@github.com" not in json.dumps(truth)


def test_returning_needs_a_later_calendar_month_and_long_term_365_days():
    world = World(now=t("2023-01-01"))
    alice, _, _ = people(world)
    me = ("Alice Smith", "alice@example.org")
    world.commit("1" * 40, t("2020-01-31", "23:00:00"), me, author_id=alice)
    world.commit("2" * 40, t("2020-01-31", "23:30:00"), me, author_id=alice, parents=["1" * 40])
    world.commit("3" * 40, t("2020-02-01", "00:10:00"), me, author_id=alice, parents=["2" * 40])
    # 364 days and 23 hours after first_landed: not yet long-term.
    world.commit("4" * 40, t("2021-01-30", "22:00:00"), me, author_id=alice, parents=["3" * 40])
    world.commit("5" * 40, t("2021-01-30", "23:00:00"), me, author_id=alice, parents=["4" * 40])
    marks = world.milestones("1")
    assert marks["first_landed"] == t("2020-01-31", "23:00:00")
    assert marks["returning"] == t("2020-02-01", "00:10:00")
    assert marks["long_term"] == t("2021-01-30", "23:00:00")  # exactly 365 x 24 h later


def test_a_local_merge_lands_its_branch_once_per_author_at_the_merge():
    world = World()
    alice, bob, carol = people(world)
    b = ("Bob Jones", "bob@example.org")
    c = ("Carol King", "carol@example.org")
    world.commit("1" * 40, t("2020-01-01"), b, author_id=bob)
    world.commit("2" * 40, t("2020-01-05"), c, author_id=carol, parents=["1" * 40])
    world.commit("3" * 40, t("2020-01-06"), c, author_id=carol, parents=["2" * 40])
    world.commit("m" * 40, t("2020-01-10"), b, author_id=bob, parents=["1" * 40, "3" * 40],
                 message="Merge branch 'topic'")
    world.commit("4" * 40, t("2020-02-01"), b, author_id=bob, parents=["m" * 40])
    truth = world.truth()
    # carol's two commits came in through a merge with no PR: one landed contribution, at
    # the merge (when they reached the branch), which is also her first contact.
    carol_marks = truth["makers"]["3"]["milestones"]
    assert carol_marks["first_contact"] == carol_marks["first_landed"] == t("2020-01-10")
    assert carol_marks["returning"] is None
    marks = truth["makers"]["2"]["milestones"]
    assert marks["first_landed"] == t("2020-01-01")
    assert marks["returning"] == t("2020-02-01")  # the merge commit itself landed nothing
    # bob's pushes of his own commits make him a committer (rules version 4); his merge
    # landed carol's work, having landed his own before: a maintainer act.
    assert marks["committer"] == t("2020-01-01")
    assert marks["maintainer"] == t("2020-01-10")
    assert marks["creator"] == t("2020-01-01")


def test_merge_commit_committed_by_the_maker_dates_maintainer():
    world = World()
    alice, bob, carol = people(world)
    world.pr(7, carol, t("2020-01-01"), merged_at=t("2020-01-10"), merge_sha="m" * 40)
    world.commit("0" * 40, t("2019-12-01"), ("Bob Jones", "bob@example.org"), author_id=bob,
                 committer=WEB_FLOW)  # bob's own work landed first
    # bob merges carol's PR on the command line: no merged event, the merge commit is his.
    world.commit("1" * 40, t("2020-01-02"), ("Carol King", "carol@example.org"), author_id=carol,
                 committer=WEB_FLOW, parents=["0" * 40])
    world.commit("2" * 40, t("2020-01-03"), ("Carol King", "carol@example.org"),
                 author_id=carol, committer=WEB_FLOW, parents=["1" * 40])
    world.commit("m" * 40, t("2020-01-10"), ("Bob Jones", "bob@example.org"), author_id=bob,
                 parents=["1" * 40, "2" * 40], message="Merge pull request #7 from carol/topic")
    truth = world.truth()
    assert truth["makers"]["2"]["milestones"]["maintainer"] == t("2020-01-10")
    assert truth["makers"]["2"]["milestones"]["committer"] is None  # none of it was his
    assert truth["makers"]["2"]["milestones"]["first_landed"] == t("2019-12-01")
    carol_marks = truth["makers"]["3"]["milestones"]
    # carol's first commit (web-flow committer) landed; her PR landed at merged_at.
    assert carol_marks["first_landed"] == t("2020-01-02")
    assert carol_marks["maintainer"] is None


def test_direct_push_needs_the_maker_as_committer_not_web_flow():
    world = World()
    alice, bob, _ = people(world)
    a = ("Alice Smith", "alice@example.org")
    world.commit("0" * 40, t("2019-12-01"), ("Bob Jones", "bob@example.org"), author_id=bob,
                 committer=WEB_FLOW)
    world.commit("1" * 40, t("2020-01-01"), a, author_id=alice, committer=WEB_FLOW,
                 parents=["0" * 40])
    world.commit("2" * 40, t("2020-02-01"), a, author_id=alice, parents=["1" * 40])
    makers = world.truth()["makers"]
    assert makers["1"]["milestones"]["first_landed"] == t("2020-01-01")
    # her own commit pushed by herself: a committer (rules version 4), not a maintainer
    assert makers["1"]["milestones"]["committer"] == t("2020-02-01")
    assert makers["1"]["milestones"]["maintainer"] is None
    assert makers["2"]["milestones"]["maintainer"] is None
    assert makers["2"]["milestones"]["committer"] is None


def test_a_founders_own_pushes_and_releases_are_not_maintainer_acts():
    # alice pushes and releases in a repo where no one else has landed anything; bob's PR
    # lands on 2020-02-01; her release in that same second is not after it; her push of
    # 2020-03-01 is her own work (a committer act since her first push); her release of
    # 2020-04-01 is a maintainer act.
    world = World()
    alice, bob, _ = people(world)
    a = ("Alice Smith", "alice@example.org")
    world.commit("1" * 40, t("2020-01-01"), a, author_id=alice)
    world.commit("2" * 40, t("2020-01-02"), a, author_id=alice, parents=["1" * 40])
    world.release(alice, t("2020-01-03"))
    world.pr(1, bob, t("2020-01-20"), merged_at=t("2020-02-01"))
    world.release(alice, t("2020-02-01"))
    world.commit("3" * 40, t("2020-03-01"), a, author_id=alice, parents=["2" * 40])
    world.release(alice, t("2020-04-01"))
    marks = world.milestones("1")
    assert marks["creator"] == t("2020-01-01")
    assert marks["committer"] == t("2020-01-01")
    assert marks["maintainer"] == t("2020-04-01")


# ------------------------------------------------------------------ maintainer, triager, reviewer


def test_maintainer_acts_on_someone_elses_items_only():
    world = World()
    alice, bob, carol = people(world)
    world.pr(1, bob, t("2020-01-01"), merged_at=t("2020-01-02"))
    world.event(1, bob, "merged", t("2020-01-02"))  # own PR: not maintainer
    world.issue(2, carol, t("2020-01-01"))
    world.event(2, bob, "closed", t("2020-01-03"), commit_id="c" * 40)  # by a commit: no
    world.event(2, bob, "reopened", t("2020-01-04"))
    world.event(2, bob, "closed", t("2020-01-05"))  # someone else's, by hand: yes
    world.pr(3, carol, t("2020-01-01"), merged_at=t("2020-03-01"))
    world.event(3, alice, "merged", t("2020-03-01"))
    world.pr(4, alice, t("2020-03-02"), merged_at=t("2020-03-03"))
    world.pr(5, carol, t("2020-03-04"), merged_at=t("2020-03-05"))
    world.event(5, alice, "merged", t("2020-03-05"))
    marks = world.truth()["makers"]
    # bob merged his own PR (a committer), then closed carol's issue having landed work
    assert marks["2"]["milestones"]["committer"] == t("2020-01-02")
    assert marks["2"]["milestones"]["maintainer"] == t("2020-01-05")
    # alice's first merge came before any work of hers had landed there; her second after
    assert marks["1"]["milestones"]["maintainer"] == t("2020-03-05")
    assert marks["3"]["milestones"]["maintainer"] is None


def test_approval_of_a_later_merged_pr_is_dated_at_the_review():
    world = World()
    alice, bob, carol = people(world)
    world.commit("a" * 40, t("2019-12-01"), ("Alice Smith", "alice@example.org"), author_id=alice,
                 committer=WEB_FLOW)  # alice's own work landed before
    world.pr(1, carol, t("2020-01-01"), merged_at=t("2020-02-01"))
    world.review(1, alice, "APPROVED", t("2020-01-15"))
    world.pr(2, carol, t("2020-01-01"))  # never merged
    world.review(2, bob, "APPROVED", t("2020-01-10"))
    world.review(1, carol, "APPROVED", t("2020-01-12"))  # own PR
    world.review(1, bob, "APPROVED", t("2020-02-02"))  # after the merge: not "later merged"
    makers = world.truth()["makers"]
    assert makers["1"]["milestones"]["maintainer"] == t("2020-01-15")
    assert makers["1"]["milestones"]["reviewer"] == t("2020-01-15")
    assert makers["2"]["milestones"]["maintainer"] is None
    assert makers["2"]["milestones"]["reviewer"] == t("2020-01-10")
    assert makers["3"]["milestones"]["reviewer"] is None
    assert makers["3"]["milestones"]["maintainer"] is None


def test_published_release_is_a_maintainer_act_and_a_draft_is_not():
    world = World()
    alice, bob, carol = people(world)
    world.pr(1, carol, t("2020-01-01"), merged_at=t("2020-01-02"))  # someone landed before
    world.release(alice, t("2020-05-05"))
    world.release(bob, t("2020-04-04"), draft=True)
    world.data["releases"][-1]["published_at"] = t("2020-04-04")  # drafts never count
    makers = world.truth()["makers"]
    assert makers["1"]["milestones"]["maintainer"] == t("2020-05-05")
    assert makers["1"]["milestones"]["first_contact"] == t("2020-05-05")
    assert "2" not in makers


def test_triage_on_someone_elses_item_and_organiser_label_on_an_issue():
    world = World()
    alice, bob, carol = people(world)
    world.issue(1, alice, t("2020-01-01"))
    world.event(1, bob, "labeled", t("2020-01-02"), label="good first issue")
    world.pr(2, alice, t("2020-01-01"))
    world.event(2, carol, "labeled", t("2020-01-03"), label="Help Wanted")  # a PR: triage only
    world.event(2, carol, "assigned", t("2020-01-04"))
    world.issue(3, carol, t("2019-06-01"))
    world.event(3, carol, "milestoned", t("2019-06-02"))  # own issue: nothing
    makers = world.truth()["makers"]
    assert makers["2"]["milestones"]["triager"] == t("2020-01-02")
    assert makers["2"]["milestones"]["organiser"] == t("2020-01-02")
    assert makers["3"]["milestones"]["triager"] == t("2020-01-03")
    # carol's label on a PR is no organiser act; she organises as the repo's creator,
    # from alice's first action there.
    assert makers["3"]["milestones"]["creator"] == t("2019-06-01")
    assert makers["3"]["milestones"]["organiser"] == t("2020-01-01")
    assert makers["1"]["milestones"]["triager"] is None


def test_organiser_label_is_case_insensitive_and_configurable():
    world = World()
    alice, bob, _ = people(world)
    world.issue(1, alice, t("2020-01-01"))
    world.event(1, bob, "labeled", t("2020-01-05"), label="Good First Issue")
    world.event(1, bob, "labeled", t("2020-01-02"), label="newcomers")
    world.pr(2, alice, t("2020-01-01"))
    world.event(2, bob, "labeled", t("2020-01-01", "12:00:00"), label="good first issue")  # a PR
    assert world.milestones("2")["organiser"] == t("2020-01-05")
    assert world.milestones("2", organiser_labels=["Newcomers"])["organiser"] == t("2020-01-02")


# ------------------------------------------------------------------ organiser


def test_first_responder_within_seven_days_to_a_newcomers_first_item():
    world = World(now=t("2022-01-01"))
    alice, bob, carol = people(world)
    dave = world.user(4, "dave")
    erin = world.user(5, "erin")
    world.issue(1, alice, t("2020-01-01"))  # alice's first action
    world.comment(1, alice, t("2020-01-02"))  # the author's own reply does not count
    world.comment(1, bob, t("2020-01-08"))  # 7 x 24 h exactly: counts
    world.comment(1, carol, t("2020-01-08", "00:00:01"))  # not the first response
    world.pr(2, dave, t("2020-03-01"))
    world.review(2, carol, "COMMENTED", t("2020-03-08", "00:00:01"))  # one second too late
    world.issue(3, erin, t("2020-01-01"))
    world.issue(4, erin, t("2020-02-01"))  # not erin's first contact
    world.comment(4, carol, t("2020-02-02"))
    makers = world.truth()["makers"]
    assert makers["2"]["milestones"]["organiser"] == t("2020-01-08")
    assert makers["3"]["milestones"]["organiser"] is None


def test_issue_completed_by_someone_else_makes_its_author_an_organiser():
    world = World()
    alice, bob, carol = people(world)
    world.issue(1, alice, t("2020-01-01"), state_reason="completed")
    world.event(1, bob, "closed", t("2020-01-10"))
    world.event(1, alice, "reopened", t("2020-01-11"))
    world.event(1, carol, "closed", t("2020-01-20"))
    world.issue(2, bob, t("2020-01-01"), state_reason="not_planned")
    world.event(2, alice, "closed", t("2020-01-03"))
    world.issue(3, carol, t("2019-01-01"), state_reason="completed")
    world.event(3, carol, "closed", t("2019-01-03"))
    makers = world.truth()["makers"]
    # The last closed event (carol's) dates it.
    assert makers["1"]["milestones"]["organiser"] == t("2020-01-20")
    assert makers["2"]["milestones"]["organiser"] is None
    assert makers["3"]["milestones"]["creator"] == t("2019-01-01")
    # carol's repo saw alice and bob act on 2020-01-01: creator then organiser.
    assert makers["3"]["milestones"]["organiser"] == t("2020-01-01")


def test_creator_is_the_first_landed_commit_or_issue_and_organises_when_others_come():
    world = World()
    alice, bob, carol = people(world)
    world.repo(11)
    world.commit("b" * 40, t("2020-01-01"), ("Bob Jones", "bob@example.org"), author_id=bob,
                 repo=11)
    # Same second: ties by sha, so alice's 'a...' commit is the repo's first.
    world.commit("a" * 40, t("2020-01-01"), ("Alice Smith", "alice@example.org"),
                 author_id=alice, repo=11, parents=["b" * 40])
    world.repo(12)
    world.issue(1, carol, t("2019-05-05"), repo=12)
    world.commit("c" * 40, t("2019-05-06"), ("Bob Jones", "bob@example.org"), author_id=bob,
                 repo=12)
    makers = world.truth()["makers"]
    assert makers["1"]["milestones"]["creator"] == t("2020-01-01")
    assert makers["1"]["milestones"]["organiser"] == t("2020-01-01")  # bob, same second
    assert makers["3"]["milestones"]["creator"] == t("2019-05-05")
    assert makers["3"]["milestones"]["organiser"] == t("2019-05-06")
    assert makers["2"]["milestones"]["creator"] is None


# ------------------------------------------------------------------ core


def landed_prs(world: World, repo: int, counts: dict[int, int], day: str, first_number: int) -> None:
    number = first_number
    for user_id, count in counts.items():
        for _ in range(count):
            world.pr(number, user_id, t(day), merged_at=t(day, "12:00:00"), repo=repo)
            number += 1


def test_core_is_the_sustained_prefix_reaching_eighty_percent_of_a_year():
    world = World(now=t("2021-06-01"))
    alice, bob, carol = people(world)
    world.repo(11)
    world.repo(12)
    world.repo(13)
    # repo 11, 2020Q2 and Q3: alice 7 + 7, bob 6 + 6, carol 2 + 2. The year to Q3 holds 30:
    # alice 14 (47%), bob 12 (87%) -> prefix {alice, bob}; both >= 12 of their own in two
    # quarters -> core, dated at their first landed there in 2020Q3.
    landed_prs(world, 11, {alice: 7, bob: 6, carol: 2}, "2020-05-05", 1)
    landed_prs(world, 11, {alice: 7, bob: 6, carol: 2}, "2020-08-05", 100)
    # repo 12: carol lands 20 in 2020Q4 alone, alice and bob one each: one quarter -> no
    landed_prs(world, 12, {carol: 20, alice: 1, bob: 1}, "2020-11-05", 1)
    landed_prs(world, 13, {carol: 30}, "2020-02-05", 1)  # one maker: no team, no core
    # The prefix is cut to its first max(1, ceil(core_max_share x 3 makers)) places: with the
    # default 0.1, one (alice); with 1, all three places, so alice and bob.
    makers = world.truth()["makers"]
    assert makers["1"]["milestones"]["core"] == t("2020-08-05", "12:00:00")
    assert makers["2"]["milestones"]["core"] is None
    makers = world.truth(core_max_share=1)["makers"]
    assert makers["1"]["milestones"]["core"] == t("2020-08-05", "12:00:00")
    assert makers["2"]["milestones"]["core"] == t("2020-08-05", "12:00:00")
    assert makers["3"]["milestones"]["core"] is None
    world.data["issues"] = [i for i in world.data["issues"] if i["number"] < 100]
    assert world.truth(core_max_share=1)["makers"]["2"]["milestones"]["core"] is None


def test_core_is_one_of_the_few_makers_of_their_year():
    world = World(now=t("2021-06-01"))
    # the year to 2020Q3: u1 lands 14, u2 12, u3 to u12 one each in 2020Q3 (1 + 1 + 10 = 12
    # makers, 36 landed). u1 + u2 reach 26 of 36 (72%), so the 80% prefix runs into the
    # one-offs; max(1, ceil(0.1 x 12)) = 2 places: u1 and u2, both sustained -> core.
    for user_id in range(1, 13):
        world.user(user_id, f"u{user_id}")
    landed_prs(world, 10, {1: 7, 2: 6}, "2020-05-05", 1)
    landed_prs(world, 10, {1: 7, 2: 6, **{k: 1 for k in range(3, 13)}}, "2020-08-05", 100)
    makers = world.truth()["makers"]
    assert makers["1"]["milestones"]["core"] == t("2020-08-05", "12:00:00")
    assert makers["2"]["milestones"]["core"] == t("2020-08-05", "12:00:00")
    # without u11's and u12's (PRs 121, 122): ten makers, max(1, ceil(0.1 x 10)) = 1 place
    world.data["issues"] = [i for i in world.data["issues"] if i["number"] not in (121, 122)]
    makers = world.truth()["makers"]
    assert makers["1"]["milestones"]["core"] == t("2020-08-05", "12:00:00")
    assert makers["2"]["milestones"]["core"] is None


def test_core_ties_break_by_maker_key_in_string_order():
    world = World(now=t("2021-01-01"))
    for user_id in (5, 9, 12):
        world.user(user_id, f"u{user_id}")
    for day, number in (("2020-07-10", 1), ("2020-10-10", 100)):
        landed_prs(world, 10, {5: 6, 9: 20, 12: 6}, day, number)
    makers = world.truth(core_max_share=1)["makers"]
    # 64 landed: "9" holds 62.5%; "12" and "5" tie at 12, and "12" < "5" as strings: 81%
    # (core_max_share 1: the cut to the few of the year, one place of three, is tested above).
    cores = {key for key, maker in makers.items() if maker["milestones"]["core"]}
    assert cores == {"9", "12"}
    assert makers["12"]["milestones"]["core"] == t("2020-10-10", "12:00:00")


def test_core_counts_the_current_quarter_up_to_as_of_only():
    world = World(now=t("2020-05-20"))
    alice, bob, carol = people(world)
    landed_prs(world, 10, {alice: 6, bob: 2, carol: 3}, "2020-02-01", 1)
    landed_prs(world, 10, {alice: 5}, "2020-05-01", 50)
    world.pr(99, alice, t("2020-05-02"), merged_at=t("2020-05-21"))  # merged after as_of
    makers = world.truth()["makers"]
    assert all(m["milestones"]["core"] is None for m in makers.values())  # alice: 11 by as_of
    world.data["now"] = t("2020-05-21")
    makers = world.truth()["makers"]
    # the year to 2020Q2: 17 landed, alice 12 of them in two quarters
    assert makers["1"]["milestones"]["core"] == t("2020-05-01", "12:00:00")
    assert makers["2"]["milestones"]["core"] is None


# ------------------------------------------------------------------ coder_to_organiser


def test_coder_to_organiser_after_a_coding_quarter():
    world = World(now=t("2021-12-31"))
    alice, bob, _ = people(world)
    for number in (1, 2, 3):
        world.pr(number, alice, t("2020-01-1" + str(number)))  # Q1 2020: 3 code
    for number in (4, 5):
        world.issue(number, alice, t("2020-04-1" + str(number)))  # Q2: only 2 actions
    world.issue(6, bob, t("2019-01-01"))
    world.issue(7, alice, t("2020-07-01"))  # Q3: 1 organising + 1 labeled + 1 PR = 2/3
    world.event(6, alice, "labeled", t("2020-07-02"), label="bug")
    world.pr(8, alice, t("2020-07-03"))
    marks = world.milestones("1")
    assert marks["coder_to_organiser"] == t("2020-07-01")


def test_coder_to_organiser_needs_the_coding_quarter_first():
    world = World(now=t("2021-12-31"))
    alice, _, _ = people(world)
    for number in (1, 2, 3):
        world.issue(number, alice, t("2020-01-1" + str(number)))  # organising first
    for number in (4, 5, 6):
        world.pr(number, alice, t("2020-04-1" + str(number)))
    # A tie (2 code, 2 organising) is organising but not coding.
    world.pr(7, alice, t("2020-07-01"))
    world.pr(8, alice, t("2020-07-02"))
    world.issue(9, alice, t("2020-07-03"))
    world.issue(10, alice, t("2020-07-04"))
    # dated at the first organising action of that quarter
    assert world.milestones("1")["coder_to_organiser"] == t("2020-07-03")
    world.data["issues"] = [i for i in world.data["issues"] if i["number"] < 7]
    assert world.milestones("1")["coder_to_organiser"] is None


# ------------------------------------------------------------------ bridges


def test_repo_and_org_bridges_within_365_days():
    world = World(now=t("2023-01-01"))
    world.org("other")
    alice, bob, _ = people(world)
    world.repo(11)
    world.repo(20, owner="other")
    world.issue(1, alice, t("2020-01-01"))
    world.issue(1, alice, t("2020-12-31"), repo=11)  # 365 days later: a repo bridge
    world.issue(1, alice, t("2022-01-01"), repo=20)  # 366 days after repo 11: not an org bridge
    world.issue(2, alice, t("2022-01-02"), repo=20)
    world.issue(2, alice, t("2022-01-03"), repo=11)  # civic again, 1 day after other org
    marks = world.milestones("1")
    assert marks["repo_bridge"] == t("2020-12-31")
    assert marks["org_bridge"] == t("2022-01-03")


# ------------------------------------------------------------------ inactive, gone, returned


def test_inactive_gone_and_returned_use_the_first_gap():
    world = World(now=t("2022-06-01"))
    alice, _, _ = people(world)
    world.issue(1, alice, t("2020-01-01"))
    world.issue(2, alice, t("2020-07-19"))  # 200 days: first inactive gap
    world.issue(3, alice, t("2021-08-23"))  # 400 days later: gone, then returned
    marks = world.milestones("1")
    assert marks["inactive"] == t("2020-06-29")  # 2020-01-01 + 180 days
    assert marks["gone"] == t("2021-07-19")  # 2020-07-19 + 365 days
    assert marks["returned"] == t("2021-08-23")


def test_trailing_gap_until_as_of_counts_for_inactive_but_not_returned():
    world = World(now=t("2021-01-01"))
    alice, _, _ = people(world)
    world.issue(1, alice, t("2020-03-01"))
    marks = world.milestones("1")
    assert marks["inactive"] == t("2020-08-28")
    assert marks["gone"] is None  # 306 days until as_of
    assert marks["returned"] is None
    world.data["now"] = t("2021-03-01")
    marks = world.milestones("1")
    assert marks["gone"] == t("2021-03-01")  # 365 days after, exactly as_of


# ------------------------------------------------------------------ time, scope, bots


def test_records_after_as_of_are_ignored():
    world = World(now=t("2020-06-30", "23:59:59"))
    alice, bob, carol = people(world)
    world.issue(1, alice, t("2020-06-01"))
    world.comment(1, bob, t("2020-07-01"))
    world.event(1, carol, "labeled", t("2020-06-30", "23:59:59"), label="help wanted")
    world.issue(2, bob, t("2020-07-02"))
    makers = world.truth()["makers"]
    assert set(makers) == {"1", "3"}
    assert makers["3"]["milestones"]["organiser"] == t("2020-06-30", "23:59:59")


def test_forks_and_blocked_repos_are_out_deleted_repos_stay():
    world = World()
    alice, bob, carol = people(world)
    world.repo(11, fork=True)
    world.repo(12, blocked=True)
    world.repo(13, deleted=True)
    world.issue(1, alice, t("2020-01-01"), repo=11)
    world.issue(1, bob, t("2020-01-01"), repo=12)
    world.issue(1, carol, t("2020-01-01"), repo=13)
    world.issue(1, carol, t("2020-02-01"))
    makers = world.truth()["makers"]
    assert set(makers) == {"3"}
    # the deleted repo's history happened: carol's first issue is the one there
    assert makers["3"]["milestones"]["first_issue"] == t("2020-01-01")


def test_bots_are_listed_without_milestones_and_are_never_someone_else():
    world = World()
    alice, bob, _ = people(world)
    dependabot = world.user(49699333, "dependabot[bot]", kind="Bot")
    renovate = world.user(7, "renovate")
    typed = world.user(8, "helper", kind="Bot")
    # The repo's first commit is a bot's: the first human commit makes bob its creator.
    world.commit("1" * 40, t("2019-01-01"), ("GitHub Actions Bot", "hackforla-bot@hackforla.org"))
    world.commit("2" * 40, t("2019-02-01"), ("Bob Jones", "bob@example.org"), author_id=bob,
                 parents=["1" * 40], committer=WEB_FLOW)
    world.pr(1, dependabot, t("2020-01-01"), merged_at=t("2020-01-02"))
    world.event(1, alice, "merged", t("2020-01-02"))  # a bot's PR: not maintainer
    world.event(1, alice, "labeled", t("2020-01-01", "01:00:00"), label="help wanted")
    frank = world.user(6, "frank")
    world.issue(2, frank, t("2020-03-01"))  # frank's first action
    world.comment(2, renovate, t("2020-03-01", "00:01:00"))  # bots never respond first
    world.comment(2, bob, t("2020-03-02"))
    world.event(2, typed, "labeled", t("2020-03-01", "00:02:00"), label="good first issue")
    truth = world.truth()
    makers = truth["makers"]
    bots = {key for key, maker in makers.items() if maker["is_bot"]}
    assert bots == {"49699333", "7", "8", "git:hackforla-bot@hackforla.org"}
    for key in bots:
        assert set(makers[key]["milestones"].values()) == {None}
    alice_marks = makers["1"]["milestones"]
    assert alice_marks["maintainer"] is None
    assert alice_marks["triager"] is None
    assert alice_marks["first_contact"] == t("2020-01-01", "01:00:00")
    bob_marks = makers["2"]["milestones"]
    assert bob_marks["creator"] == t("2019-02-01")
    assert bob_marks["organiser"] == t("2020-01-01", "01:00:00")  # alice acted in his repo
    # renovate's comment is removed, so bob's is the first response to frank's first issue.
    world.data["commits"] = []
    assert world.milestones("2")["organiser"] == t("2020-03-02")


def test_mentioned_and_subscribed_events_are_not_actions_of_their_actor():
    world = World()
    alice, bob, _ = people(world)
    world.issue(1, alice, t("2020-01-01"))
    world.event(1, bob, "mentioned", t("2020-01-02"))
    world.event(1, bob, "subscribed", t("2020-01-02"))
    world.event(1, bob, "referenced", t("2020-01-03"), commit_id="c" * 40)
    assert world.milestones("2")["first_contact"] == t("2020-01-03")


def test_a_commit_outside_the_branch_history_lands_but_is_no_direct_push():
    world = World()
    alice, bob, _ = people(world)
    world.commit("1" * 40, t("2020-01-01"), ("Bob Jones", "bob@example.org"), author_id=bob)
    world.commit("2" * 40, t("2020-02-01"), ("Bob Jones", "bob@example.org"), author_id=bob,
                 parents=["1" * 40])
    # Names a parent outside the listing and nobody names it: reachable from no tip.
    world.commit("9" * 40, t("2019-06-01"), ("Alice Smith", "alice@example.org"),
                 author_id=alice, parents=["0" * 40])
    marks = world.milestones("1")
    assert marks["first_landed"] == t("2019-06-01")
    assert marks["maintainer"] is None and marks["committer"] is None
    # bob's own pushes: a committer (rules version 4), not a maintainer
    assert world.milestones("2")["committer"] == t("2020-01-01")
    assert world.milestones("2")["maintainer"] is None


# ------------------------------------------------------------------ rules version 4: not people


def test_role_accounts_and_bots_by_word_hold_no_milestones():
    # each identity pushes one commit straight to the branch (linked to no account)
    world = World()
    jbohbot = world.user(21, "jbohbot")  # a login lower-case by habit: a person
    deploybot = world.user(22, "deploy-bot")  # 'bot' as a separate word: a bot
    sides = {
        "root <root@server1>": "role", "deploy <deploy@web1.example.org>": "role",
        "FOI site testharness <foi@example.org>": "role",
        "FixMyStreet archive email account <fms@example.org>": "role",
        "Anna <ops@s1.example.org>": "role", "Ben <ops@s2.example.org>": "role",
        "Cy <ops@s3.example.org>": "role",  # one user name on three machines, three names
        "fdsbot <fdsbot@example.org>": "bot", "Translation Bot <tx@example.org>": "bot",
        "Lena Bohbot <lena@example.org>": "person", "Sam Abbot <sam@example.org>": "person",
        "Mary Ng <admin@Marys-MacBook-Pro.local>": "person",  # her own machine's user name
        "Rooty Rootson <root@example.org>": "person",
    }
    parent: list[str] = []
    for number, text in enumerate(sides, start=1):
        name, email = text[:-1].split(" <")
        sha = f"{number:040x}"
        world.commit(sha, t("2020-01-01", f"00:{number:02d}:00"), (name, email), parents=parent)
        parent = [sha]
    world.issue(1, jbohbot, t("2020-02-01"))
    world.issue(2, deploybot, t("2020-02-02"))
    makers = world.truth()["makers"]
    kinds = {}
    for key, maker in makers.items():
        if maker["role_account"]:
            kinds[key] = "role"
        elif maker["is_bot"]:
            kinds[key] = "bot"
        else:
            kinds[key] = "person"
        if kinds[key] != "person":
            assert set(maker["milestones"].values()) == {None}, key
            assert not (maker["is_bot"] and maker["role_account"])
        else:
            assert maker["milestones"]["first_contact"] is not None
    expected = {f"git:{text.split('<')[1][:-1].lower()}": kind for text, kind in sides.items()}
    expected.update({"21": "person", "22": "bot"})
    assert kinds == expected


def test_a_committer_who_never_maintains():
    # dee lands two PRs merged by bob, then pushes her own commit and merges her own PR:
    # a committer from her push, never a maintainer (she never acts on others' work).
    world = World()
    alice, bob, _ = people(world)
    dee = world.user(4, "dee")
    world.commit("0" * 40, t("2019-01-01"), ("Bob Jones", "bob@example.org"), author_id=bob)
    for number, day in ((1, "2020-01-01"), (2, "2020-02-01")):
        world.pr(number, dee, t(day), merged_at=t(day, "06:00:00"))
        world.event(number, bob, "merged", t(day, "06:00:00"))
    world.commit("1" * 40, t("2020-03-01"), ("Dee Day", "dee@example.org"), author_id=dee,
                 parents=["0" * 40])
    world.pr(3, dee, t("2020-04-01"), merged_at=t("2020-04-02"))
    world.event(3, dee, "merged", t("2020-04-02"))
    makers = world.truth()["makers"]
    assert makers["4"]["milestones"]["committer"] == t("2020-03-01")
    assert makers["4"]["milestones"]["maintainer"] is None
    assert makers["2"]["milestones"]["maintainer"] == t("2020-01-01", "06:00:00")


def test_a_foxtrot_merge_lands_nothing_of_anyone_elses():
    # bob pulls the upstream main, holding carol's commit, into his local main
    world = World()
    alice, bob, carol = people(world)
    b, c = ("Bob Jones", "bob@example.org"), ("Carol King", "carol@example.org")
    world.commit("0" * 40, t("2020-01-01"), b, author_id=bob)
    world.commit("1" * 40, t("2020-01-05"), c, author_id=carol, committer=WEB_FLOW, parents=["0" * 40])
    world.commit("2" * 40, t("2020-01-06"), b, author_id=bob, parents=["0" * 40])
    world.commit("3" * 40, t("2020-01-07"), b, author_id=bob, parents=["2" * 40, "1" * 40],
                 message="Merge branch 'main' of github.com:civic/repo10")
    makers = world.truth()["makers"]
    assert makers["2"]["milestones"]["maintainer"] is None
    assert makers["2"]["milestones"]["committer"] == t("2020-01-01")
    # the same merge named as a merge of carol's branch lands her work: a maintainer act
    world.data["commits"][-1]["message"] = "Merge branch 'carol-fix'"
    assert world.milestones("2")["maintainer"] == t("2020-01-07")
