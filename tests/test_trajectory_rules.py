"""Each milestone rule of docs/rules.md on small hand-built stores, with hand-worked dates.

Worlds go into a real SQLite store (test_events_support.World), events come from
``load_events``, milestones from ``graphminer.trajectory``. Expected dates are worked out
by hand from the rule's text in each test's comment.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_events_support import World

from graphminer import timeutil, trajectory
from graphminer.events import load_events

AS_OF = "2024-12-31T23:59:59Z"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture
def compute(tmp_path):
    """world -> milestones at a scope (network by default)."""
    counter = iter(range(1000))

    def run(world: World, scope: str = "network", as_of: str = AS_OF, **limits) -> pd.DataFrame:
        conn = world.store(tmp_path / f"store{next(counter)}.sqlite")
        events = load_events(conn)
        conn.close()
        config = {"trajectories": limits} if limits else None
        return trajectory.milestones(events, timeutil.as_of(as_of), config, scope=scope)

    return run


def reached(frame: pd.DataFrame, key, name: str):
    value = frame.loc[key, name]
    return None if pd.isna(value) else value


def test_first_milestones_use_the_pr_not_its_commits(compute):
    # Bob's branch commit (Jan 10) came in through the PR (second parent of the merge), so
    # it is no action: first contact is the PR (Jan 12), first landed its merge (Jan 15).
    w = World()
    alice, bob = w.user("alice", 1), w.user("bob", 2)
    site = w.repo("civic/site")
    root = w.commit(site, "2020-01-01T00:00:00Z", author=alice)
    branch = w.commit(site, "2020-01-10T00:00:00Z", author=bob, parents=[root])
    number = w.pr(site, bob, "2020-01-12T00:00:00Z", merged_at="2020-01-15T00:00:00Z",
                  merged_by=alice)
    merge = w.commit(site, "2020-01-15T00:00:00Z", author=alice, committer="github",
                     parents=[root, branch], message=f"Merge pull request #{number} from bob/x")
    w.data["issues"][-1]["pull_request"]["merge_commit_sha"] = merge
    w.comment(site, number, bob, "2020-01-13T00:00:00Z")
    got = compute(w)
    assert reached(got, "2", "first_contact") == ts("2020-01-12")
    assert reached(got, "2", "first_pr") == ts("2020-01-12")
    assert reached(got, "2", "first_comment") == ts("2020-01-13")
    assert reached(got, "2", "first_landed") == ts("2020-01-15")
    assert reached(got, "2", "first_issue") is None
    # Alice merged someone else's PR: maintainer at the merge. Her root commit was a direct
    # push, earlier, but in a repo where no one else had landed anything: a founder's own
    # first commits make her creator, not maintainer (rules version 2).
    assert reached(got, "1", "maintainer") == ts("2020-01-15")
    assert reached(got, "1", "creator") == ts("2020-01-01")


def test_returning_is_a_later_calendar_month_and_long_term_365_days(compute):
    w = World()
    carol = w.user("carol", 3)
    site = w.repo("civic/site")
    w.commit(site, "2020-01-31T23:00:00Z", author=carol, committer="github")
    w.commit(site, "2020-01-31T23:30:00Z", author=carol, committer="github")  # same month
    w.commit(site, "2020-02-01T00:00:00Z", author=carol, committer="github")  # next month
    w.commit(site, "2021-01-30T22:59:59Z", author=carol, committer="github")  # 364 d 23:59:59
    w.commit(site, "2021-01-30T23:00:00Z", author=carol, committer="github")  # exactly 365 d
    got = compute(w)
    assert reached(got, "3", "first_landed") == ts("2020-01-31T23:00:00")
    assert reached(got, "3", "returning") == ts("2020-02-01")
    assert reached(got, "3", "long_term") == ts("2021-01-30T23:00:00")
    # GitHub's web flow committed them: no direct push, so no maintainer.
    assert reached(got, "3", "maintainer") is None


def test_maintainer_acts_and_the_acts_that_are_not(compute):
    # Rules version 4: acting on someone else's work, in a repo where the maker had landed
    # work of their own before; a release where someone else had landed before.
    w = World()
    ann, ben, cat, dan, eve = (w.user(login, uid) for login, uid in
                               [("ann", 1), ("ben", 2), ("cat", 3), ("dan", 4), ("eve", 5)])
    gil = w.user("gil", 6)
    site = w.repo("civic/site")
    w.commit(site, "2019-01-01T00:00:00Z", author=eve, committer="github")
    for day, who in enumerate((ann, ben, cat, dan), start=1):  # everyone but gil lands once
        w.commit(site, f"2019-06-{day:02d}T00:00:00Z", author=who, committer="github")
    # ann: closes her own issue (no), closes ben's issue by a commit (no), approves ben's PR
    # merged BEFORE the review (no), then closes ben's issue by hand on 2020-03-01 (yes).
    own = w.issue(site, ann, "2020-01-01T00:00:00Z")
    w.event(site, own, ann, "closed", "2020-01-02T00:00:00Z")
    bens = w.issue(site, ben, "2020-01-01T00:00:00Z")
    w.event(site, bens, ann, "closed", "2020-01-03T00:00:00Z", commit_id="a" * 40)
    early = w.pr(site, ben, "2020-01-01T00:00:00Z", merged_at="2020-01-05T00:00:00Z", merged_by=eve)
    w.review(site, early, ann, "APPROVED", "2020-01-06T00:00:00Z")
    w.event(site, bens, ann, "reopened", "2020-02-01T00:00:00Z")
    w.event(site, bens, ann, "closed", "2020-03-01T00:00:00Z")
    # cat: approves ben's PR that is merged later (yes, dated at the review), and one never merged.
    later = w.pr(site, ben, "2020-04-01T00:00:00Z", merged_at="2020-04-20T00:00:00Z", merged_by=eve)
    w.review(site, later, cat, "APPROVED", "2020-04-10T00:00:00Z")
    never = w.pr(site, ben, "2020-03-01T00:00:00Z")
    w.review(site, never, cat, "APPROVED", "2020-03-05T00:00:00Z")
    # dan: merges his own PR on 2020-04-02 (a committer, not a maintainer), then publishes a
    # release on 2020-05-01 (yes: others had landed there before).
    w.pr(site, dan, "2020-04-01T00:00:00Z", merged_at="2020-04-02T00:00:00Z", merged_by=dan)
    w.release(site, dan, "2020-05-01T00:00:00Z")
    # ben: a merge of his own branch on 2020-06-01 (a committer act), then on 2020-07-01 a
    # merge whose branch holds cat's commit (landing someone else's work: yes).
    base = w.head(site)
    side = w.commit(site, "2020-05-30T00:00:00Z", author=ben, parents=base)
    w.commit(site, "2020-06-01T00:00:00Z", author=ben, parents=base + [side],
             message="Merge branch 'fix'")
    base = w.head(site)
    cats = w.commit(site, "2020-06-20T00:00:00Z", author=cat, parents=base)
    w.commit(site, "2020-07-01T00:00:00Z", author=ben, parents=base + [cats],
             message="Merge branch 'cat-docs'")
    # gil never landed anything there: merging ben's PR on 2020-08-01 is no maintainer act.
    w.pr(site, ben, "2020-07-20T00:00:00Z", merged_at="2020-08-01T00:00:00Z", merged_by=gil)
    got = compute(w)
    assert reached(got, "1", "maintainer") == ts("2020-03-01")
    assert reached(got, "3", "maintainer") == ts("2020-04-10")
    assert reached(got, "4", "maintainer") == ts("2020-05-01")
    assert reached(got, "4", "committer") == ts("2020-04-02")
    assert reached(got, "2", "maintainer") == ts("2020-07-01")
    assert reached(got, "2", "committer") == ts("2020-06-01")
    # eve merged ben's PR on 2020-01-05, having landed work there in 2019
    assert reached(got, "5", "maintainer") == ts("2020-01-05")
    assert reached(got, "6", "maintainer") is None


def test_own_pushes_make_a_committer_pushing_others_work_a_maintainer(compute):
    w = World()
    fay, gus = w.user("fay", 6), w.user("gus", 7)
    site = w.repo("civic/site")
    w.commit(site, "2020-01-01T00:00:00Z", author=fay, committer="github")
    # gus pushes his own commit (a committer) and then fay's commit (someone else's work,
    # landed by gus: a maintainer act, gus having landed before)
    w.commit(site, "2020-01-15T00:00:00Z", author=gus)
    w.commit(site, "2020-02-01T00:00:00Z", author=fay, committer=gus)
    got = compute(w)
    assert reached(got, "7", "committer") == ts("2020-01-15")
    assert reached(got, "7", "maintainer") == ts("2020-02-01")
    assert reached(got, "7", "first_landed") == ts("2020-01-15")
    assert reached(got, "6", "maintainer") is None and reached(got, "6", "committer") is None
    assert reached(got, "6", "returning") == ts("2020-02-01")


def test_a_foxtrot_merge_lands_nobody_elses_work(compute):
    # hal pulls the upstream main (holding ivy's commit) into his local main: what came in
    # was upstream already, so hal is no maintainer for it; his own pushes make a committer.
    w = World()
    hal, ivy = w.user("hal", 8), w.user("ivy", 9)
    site = w.repo("civic/site")
    base = [w.commit(site, "2020-01-01T00:00:00Z", author=hal)]
    upstream = w.commit(site, "2020-02-01T00:00:00Z", author=ivy, committer="github", parents=base)
    local = w.commit(site, "2020-02-02T00:00:00Z", author=hal, parents=base)
    w.commit(site, "2020-02-03T00:00:00Z", author=hal, parents=[local, upstream],
             message="Merge branch 'main' of github.com:civic/site")
    got = compute(w)
    assert reached(got, "8", "committer") == ts("2020-01-01")
    assert reached(got, "8", "maintainer") is None


def test_triager_and_reviewer_need_someone_elses_item(compute):
    w = World()
    hal, ivy = w.user("hal", 8), w.user("ivy", 9)
    bot = w.user("renovate[bot]", 10, type="Bot")
    site = w.repo("civic/site")
    own = w.issue(site, hal, "2020-01-01T00:00:00Z")
    w.event(site, own, hal, "labeled", "2020-01-02T00:00:00Z", label="bug")  # own: no
    bots = w.pr(site, bot, "2020-01-01T00:00:00Z")
    w.event(site, bots, hal, "assigned", "2020-01-03T00:00:00Z")  # a bot's: no
    w.review(site, bots, hal, "COMMENTED", "2020-01-03T00:00:00Z")  # a bot's: no
    ivys = w.pr(site, ivy, "2020-01-01T00:00:00Z")
    w.event(site, ivys, hal, "milestoned", "2020-01-04T00:00:00Z")
    w.review(site, ivys, hal, "CHANGES_REQUESTED", "2020-01-05T00:00:00Z")
    got = compute(w)
    assert reached(got, "8", "triager") == ts("2020-01-04")
    assert reached(got, "8", "reviewer") == ts("2020-01-05")
    assert "10" not in got.index  # bots have no milestones at all


def test_core_is_the_sustained_prefix_reaching_80_percent_of_a_year(compute):
    # civic/site: 2020Q2 jo 8, kim 6, lu 2; 2020Q3 jo 6, kim 7, lu 1.
    # The year to 2020Q2 (16 landed, 3 makers): prefix {jo 8, kim 6} holds 87.5%, but
    # neither has 12 of their own that year. The year to 2020Q3 (30): jo 14, kim 13 hold 90%,
    # both with >= max(12, 5% of 30) in two quarters -> core, dated at each one's first
    # landed contribution of 2020Q3 (jo 2020-07-01, kim 2020-07-07). lu: 3, never.
    # That prefix is cut to its first max(1, ceil(core_max_share x 3 makers)) places: one
    # (jo) by default, all three with core_max_share 1.
    # civic/pair: 30 landed from 2 makers only (no team) -> no core.
    # civic/burst: mo lands 20 in 2022Q1 alone, ned and ole 1 each: one quarter -> no core.
    w = World()
    jo, kim, lu = w.user("jo", 11), w.user("kim", 12), w.user("lu", 13)
    mo, ned, ole = w.user("mo", 14), w.user("ned", 15), w.user("ole", 16)
    site, pair, burst = w.repo("civic/site"), w.repo("civic/pair"), w.repo("civic/burst")
    for day, who in enumerate([jo] * 8 + [kim] * 6 + [lu] * 2, start=1):
        w.commit(site, f"2020-05-{day:02d}T00:00:00Z", author=who, committer="github")
    for day, who in enumerate([jo] * 6 + [kim] * 7 + [lu], start=1):
        w.commit(site, f"2020-07-{day:02d}T00:00:00Z", author=who, committer="github")
    for day, who in enumerate([ned] * 15 + [ole] * 15, start=1):
        w.commit(pair, f"2021-0{1 + day % 5}-{1 + day % 27:02d}T00:00:00Z", author=who, committer="github")
    for day, who in enumerate([mo] * 20 + [ned, ole], start=1):
        w.commit(burst, f"2022-02-{day:02d}T00:00:00Z", author=who, committer="github")
    got = compute(w)
    assert reached(got, "11", "core") == ts("2020-07-01")
    assert reached(got, "12", "core") is None
    got = compute(w, core_max_share=1)
    assert reached(got, "11", "core") == ts("2020-07-01")
    assert reached(got, "12", "core") == ts("2020-07-07")
    assert reached(got, "13", "core") is None
    assert reached(got, "14", "core") is None
    assert reached(got, "15", "core") is None and reached(got, "16", "core") is None


def test_core_needs_its_share_of_the_year(tmp_path):
    # 2021Q1 and Q2: "31" 9 + 9, "32" 7 + 7, "33" 4 + 4 (40 landed): prefix {31, 32}
    # holds 80%. With core_min_own 5: both core. With core_min_own_share 0.4 as well (16 of
    # 40): only "31" has its share.
    w = World()
    a, b, c = w.user("a", 31), w.user("b", 32), w.user("c", 33)
    site = w.repo("civic/site")
    for month in ("01", "04"):
        for day, who in enumerate([c] * 4 + [b] * 7 + [a] * 9, start=1):
            w.commit(site, f"2021-{month}-{day:02d}T00:00:00Z", author=who, committer="github")
    conn = w.store(tmp_path / "s.sqlite")
    events = load_events(conn)
    conn.close()
    limits = {"core_min_own": 5, "core_max_share": 1}
    got = trajectory.milestones(events, AS_OF, {"trajectories": limits})
    assert reached(got, "31", "core") == ts("2021-04-12")
    assert reached(got, "32", "core") == ts("2021-04-05")
    assert reached(got, "33", "core") is None
    got = trajectory.milestones(events, AS_OF, {"trajectories": {**limits, "core_min_own_share": 0.4}})
    assert reached(got, "31", "core") == ts("2021-04-12")
    assert reached(got, "32", "core") is None


def test_core_ties_go_to_the_smaller_key(compute):
    # Each of 2021Q1 and Q2: "33" 6, "32" 6, "31" 20 (64 landed in the year to Q2): "31"
    # holds 62.5%, then "32" and "33" tie at 12; by key "32" comes first and reaches 81.25%,
    # so the prefix is {31, 32}: "33" has as many as "32" but loses the tie. Dated in Q2.
    # (core_max_share 1: three makers would leave one place by default.)
    w = World()
    a, b, c = w.user("a", 31), w.user("b", 32), w.user("c", 33)
    site = w.repo("civic/site")
    for month in ("01", "04"):
        for i, who in enumerate([c] * 6 + [b] * 6 + [a] * 20):
            w.commit(site, f"2021-{month}-{1 + i // 2:02d}T{12 * (i % 2):02d}:00:00Z",
                     author=who, committer="github")
    got = compute(w, core_max_share=1)
    assert reached(got, "31", "core") == ts("2021-04-07")
    assert reached(got, "32", "core") == ts("2021-04-04")
    assert reached(got, "33", "core") is None


def test_creator_and_the_organiser_it_becomes(compute):
    w = World()
    mo, ned = w.user("mo", 14), w.user("ned", 15)
    site = w.repo("civic/site")
    w.issue(site, mo, "2020-03-01T00:00:00Z")
    w.commit(site, "2020-03-01T00:00:00Z", author=mo, committer="github")  # same second: commit first
    w.issue(site, ned, "2020-04-01T00:00:00Z")
    got = compute(w)
    assert reached(got, "14", "creator") == ts("2020-03-01")
    assert reached(got, "14", "organiser") == ts("2020-04-01")
    assert reached(got, "15", "creator") is None


def test_first_responder_within_seven_days_inclusive(compute):
    w = World()
    owner, newbie, fast, late, other = (w.user(n, i) for n, i in
                                        [("owner", 30), ("newbie", 31), ("fast", 32),
                                         ("late", 33), ("other", 34)])
    site = w.repo("civic/site")
    w.commit(site, "2019-01-01T00:00:00Z", author=owner, committer="github")
    first = w.issue(site, newbie, "2020-01-01T00:00:00Z")  # newbie's first contact
    w.comment(site, first, newbie, "2020-01-02T00:00:00Z")  # the author: not a response
    w.comment(site, first, fast, "2020-01-08T00:00:00Z")  # exactly 7 x 24 h: counts
    w.comment(site, first, late, "2020-01-09T00:00:00Z")  # not the first response
    second = w.issue(site, other, "2020-01-01T00:00:00Z")  # other's first contact
    w.comment(site, second, late, "2020-01-08T00:00:01Z")  # first response, 1 s too late
    again = w.issue(site, newbie, "2020-02-01T00:00:00Z")  # not newbie's first contact
    w.comment(site, again, late, "2020-02-01T01:00:00Z")
    got = compute(w)
    assert reached(got, "32", "organiser") == ts("2020-01-08")
    assert reached(got, "33", "organiser") is None


def test_organiser_labels_and_issues_closed_as_completed(compute):
    w = World()
    pat, quin, ros = w.user("pat", 40), w.user("quin", 41), w.user("ros", 42)
    site = w.repo("civic/site")
    w.commit(site, "2019-01-01T00:00:00Z", author=ros, committer="github")
    issue = w.issue(site, quin, "2020-01-01T00:00:00Z", state_reason="completed")
    pr = w.pr(site, quin, "2020-01-01T00:00:00Z")
    w.event(site, pr, pat, "labeled", "2020-01-05T00:00:00Z", label="help wanted")  # a PR: no
    w.event(site, issue, pat, "labeled", "2020-01-10T00:00:00Z", label="Good First Issue")
    # quin's issue: closed by ros, reopened, finally closed by pat as completed on 2020-03-01
    w.event(site, issue, ros, "closed", "2020-02-01T00:00:00Z")
    w.event(site, issue, ros, "reopened", "2020-02-02T00:00:00Z")
    w.event(site, issue, pat, "closed", "2020-03-01T00:00:00Z")
    not_planned = w.issue(site, ros, "2020-01-01T00:00:00Z", state_reason="not_planned")
    w.event(site, not_planned, pat, "closed", "2020-01-03T00:00:00Z")
    got = compute(w)
    assert reached(got, "40", "organiser") == ts("2020-01-10")
    assert reached(got, "41", "organiser") == ts("2020-03-01")
    # ros created the repo (2019) and quin acted there later: organiser at quin's first action;
    # the not_planned close never counts for ros.
    assert reached(got, "42", "organiser") == ts("2020-01-01")


def test_coder_to_organiser(compute):
    # sam: 2020Q1 3 landed commits (code 3/3 > 50%); 2020Q2 2 issues + 1 commit (organising
    # 2/3 >= 50%) -> dated at his first organising action of 2020Q2, the issue of
    # 2020-05-01. tom: only organising quarters -> never.
    w = World()
    sam, tom = w.user("sam", 50), w.user("tom", 51)
    site = w.repo("civic/site")
    for day in (1, 2, 3):
        w.commit(site, f"2020-02-0{day}T00:00:00Z", author=sam, committer="github")
    w.issue(site, sam, "2020-05-01T00:00:00Z")
    w.issue(site, sam, "2020-05-02T00:00:00Z")
    w.commit(site, "2020-05-03T00:00:00Z", author=sam, committer="github")
    for day in (1, 2, 3):
        w.issue(site, tom, f"2020-02-0{day}T00:00:00Z")
        w.issue(site, tom, f"2020-05-0{day}T00:00:00Z")
    got = compute(w)
    assert reached(got, "50", "coder_to_organiser") == ts("2020-05-01")
    assert reached(got, "51", "coder_to_organiser") is None


def test_bridges_within_365_days(compute):
    # 2020 is a leap year: 2020-01-01 + 365 d = 2020-12-31.
    w = World()
    uma, vic = w.user("uma", 60), w.user("vic", 61)
    a, b, other = w.repo("civic/a"), w.repo("civic/b"), w.repo("elsewhere/c")
    w.issue(a, uma, "2020-01-01T00:00:00Z")
    w.issue(b, uma, "2020-12-31T00:00:00Z")  # exactly 365 d after: a repo bridge
    w.issue(other, uma, "2022-06-01T00:00:00Z")  # 517 d after the last one: no org bridge
    w.issue(a, vic, "2020-01-01T00:00:00Z")
    w.issue(other, vic, "2020-12-31T00:00:01Z")  # 1 s too late
    w.issue(other, vic, "2021-01-02T00:00:00Z")
    w.issue(b, vic, "2021-06-01T00:00:00Z")  # other's issue 150 d before: both bridges
    got = compute(w)
    assert reached(got, "60", "repo_bridge") == ts("2020-12-31")
    assert reached(got, "60", "org_bridge") is None
    assert reached(got, "61", "repo_bridge") == ts("2021-06-01")
    assert reached(got, "61", "org_bridge") == ts("2021-06-01")


def test_inactive_gone_returned_and_as_of(compute):
    w = World()
    wes = w.user("wes", 70)
    site = w.repo("civic/site")
    w.issue(site, wes, "2020-01-01T00:00:00Z")
    w.issue(site, wes, "2021-03-01T00:00:00Z")  # 425 d later
    w.issue(site, wes, "2025-01-01T00:00:00Z")  # after as_of: ignored
    got = compute(w, as_of="2021-06-01T00:00:00Z")
    assert reached(got, "70", "inactive") == ts("2020-06-29")  # 2020-01-01 + 180 d
    assert reached(got, "70", "gone") == ts("2020-12-31")  # + 365 d
    assert reached(got, "70", "returned") == ts("2021-03-01")
    before = compute(w, as_of="2020-06-28T23:59:59Z")
    assert reached(before, "70", "inactive") is None  # the gap has not reached 180 d yet
    at = compute(w, as_of="2020-06-29T00:00:00Z")
    assert reached(at, "70", "inactive") == ts("2020-06-29")  # trailing gap up to as_of


def test_bots_are_removed_before_any_rule(compute):
    w = World()
    xan = w.user("xan", 80)
    bot = w.user("helper-bot", 81, type="Bot")
    site = w.repo("civic/site")
    w.commit(site, "2019-01-01T00:00:00Z", author=bot, committer="github")  # the bot's first
    first = w.issue(site, xan, "2020-01-01T00:00:00Z")
    w.comment(site, first, bot, "2020-01-01T01:00:00Z")  # never a first responder
    bots = w.pr(site, bot, "2020-01-02T00:00:00Z", merged_at="2020-01-03T00:00:00Z", merged_by=xan)
    got = compute(w)
    assert "81" not in got.index
    assert reached(got, "80", "maintainer") is None  # merging a bot's PR is no one's
    assert reached(got, "80", "creator") == ts("2020-01-01")  # the bot's commit is nobody's
    assert bots


def test_scopes(compute):
    # yan lands in civic/a in January and civic/b in February: returning holds at network
    # scope (a later month than the network first_landed) but not in either repo alone.
    w = World()
    yan = w.user("yan", 90)
    a, b = w.repo("civic/a"), w.repo("civic/b")
    w.commit(a, "2020-01-10T00:00:00Z", author=yan, committer="github")
    w.commit(b, "2020-02-10T00:00:00Z", author=yan, committer="github")
    network = compute(w)
    assert reached(network, "90", "returning") == ts("2020-02-10")
    repo = compute(w, scope="repo")
    assert repo.loc[("90", "civic/a"), "returning"] is pd.NaT or pd.isna(repo.loc[("90", "civic/a"), "returning"])
    assert pd.isna(repo.loc[("90", "civic/b"), "returning"])
    assert repo.loc[("90", "civic/b"), "first_landed"] == ts("2020-02-10")
    org = compute(w, scope="org")
    assert org.loc[("90", "civic"), "returning"] == ts("2020-02-10")
    assert org.loc[("90", "civic"), "repo_bridge"] == ts("2020-02-10")


def test_stages_per_quarter(tmp_path):
    w = World()
    zed, boss = w.user("zed", 95), w.user("boss", 96)
    site = w.repo("civic/site")
    w.commit(site, "2019-01-01T00:00:00Z", author=boss, committer="github")
    w.issue(site, zed, "2020-02-01T00:00:00Z")  # 2020Q1 participant
    w.pr(site, zed, "2020-04-01T00:00:00Z", merged_at="2020-05-01T00:00:00Z", merged_by=boss)
    w.pr(site, zed, "2020-07-01T00:00:00Z", merged_at="2020-08-01T00:00:00Z", merged_by=boss)
    other = w.pr(site, boss, "2020-10-01T00:00:00Z")
    w.event(site, other, zed, "closed", "2020-11-01T00:00:00Z")  # maintainer in 2020Q4
    conn = w.store(tmp_path / "s.sqlite")
    events = load_events(conn)
    table = trajectory.stages(events, timeutil.as_of("2021-12-31T23:59:59Z"))
    zeds = table[table["maker"] == "95"].set_index("quarter")
    # the role held: maintainer while the close of 2020Q4 is within the quarter or the
    # three before it (2020Q4..2021Q3); in 2021Q4 no role holds and the state shows
    expected = {"2020-01-01": "participant", "2020-04-01": "contributor",
                "2020-07-01": "returning", "2020-10-01": "maintainer",
                "2021-01-01": "maintainer", "2021-07-01": "maintainer", "2021-10-01": "gone"}
    for quarter, stage in expected.items():
        assert zeds.loc[ts(quarter), "stage"] == stage
    assert len(zeds) == 8  # 2020Q1 .. 2021Q4
    # last action 2020-11-01: +180 d = 2021-04-30 (inactive by 2021Q2's end), +365 d =
    # 2021-11-01 (gone by 2021Q4's end)
    assert zeds.loc[ts("2021-01-01"), "state"] == "active"
    assert zeds.loc[ts("2021-04-01"), "state"] == "inactive"
    assert zeds.loc[ts("2021-10-01"), "state"] == "gone"
    assert trajectory.current_stages(table)["95"] == "gone"


def test_core_is_held_only_in_its_quarters(tmp_path):
    # civic/site: kit lands 7 in 2020Q2 and 7 in 2020Q3, lou and max 2 each in 2020Q2: the
    # year to 2020Q3 holds 18, kit 14 of them in two quarters: core in 2020Q3 (not 2020Q2,
    # a single quarter). In 2020Q4 kit lands one more (the year to 2020Q4: kit 15 of 19, in
    # three quarters): core again. From 2021Q1 on kit lands nothing: returning while a
    # landed contribution is within the rolling year, then the state (gone) shows.
    w = World()
    kit, lou, mx = w.user("kit", 61), w.user("lou", 62), w.user("max", 63)
    site = w.repo("civic/site")
    for day, who in enumerate([kit] * 7 + [lou] * 2 + [mx] * 2, start=1):
        w.commit(site, f"2020-05-{day:02d}T00:00:00Z", author=who, committer="github")
    for day in range(1, 8):
        w.commit(site, f"2020-08-{day:02d}T00:00:00Z", author=kit, committer="github")
    w.commit(site, "2020-10-01T00:00:00Z", author=kit, committer="github")
    conn = w.store(tmp_path / "s.sqlite")
    events = load_events(conn)
    table = trajectory.stages(events, timeutil.as_of("2021-12-31T23:59:59Z"))
    kits = table[table["maker"] == "61"].set_index("quarter")["stage"]
    assert kits.to_dict() == {
        ts("2020-04-01"): "contributor", ts("2020-07-01"): "core", ts("2020-10-01"): "core",
        ts("2021-01-01"): "returning", ts("2021-04-01"): "returning",
        ts("2021-07-01"): "returning", ts("2021-10-01"): "gone"}


def test_community_files_count_where_file_lists_exist(compute):
    # git sources know which files a commit touched: creating a file that makes room for
    # others (an issue template, CONTRIBUTING, a pull request template, in any folder: the
    # first commit of the repo to touch it) is an organiser act; editing one someone made
    # before, or code, or a README is not (rules version 5; version 4 counted every edit)
    w = World()
    una, val = w.user("una", 97), w.user("val", 98)
    site = w.repo("civic/site")
    w.commit(site, "2019-01-01T00:00:00Z", author=val, committer="github", files=["app.py"])
    w.commit(site, "2020-03-01T00:00:00Z", author=una, committer="github", files=["src/main.py"])
    w.commit(site, "2020-04-01T00:00:00Z", author=una, committer="github",
             files=[".github/ISSUE_TEMPLATE/bug.md"])
    w.commit(site, "2020-05-01T00:00:00Z", author=val, committer="github", files=["docs/CONTRIBUTING.md"])
    wes, xia = w.user("wes", 99), w.user("xia", 100)
    w.commit(site, "2020-06-01T00:00:00Z", author=wes, committer="github", files=["README.md"])
    w.commit(site, "2020-07-01T00:00:00Z", author=wes, committer="github", files=["READ.py"])
    w.commit(site, "2020-08-01T00:00:00Z", author=wes, committer="github",
             files=["docs/pull_request_template.md"])
    w.commit(site, "2020-09-01T00:00:00Z", author=xia, committer="github",
             files=["GOVERNANCE.md", "README.md"])
    yan = w.user("yan", 101)
    w.commit(site, "2020-10-01T00:00:00Z", author=yan, committer="github",
             files=[".github/ISSUE_TEMPLATE/bug.md", "docs/CONTRIBUTING.md", "GOVERNANCE.md"])
    got = compute(w)
    assert reached(got, "101", "organiser") is None  # edited three, created none
    assert reached(got, "97", "organiser") == ts("2020-04-01")
    assert reached(got, "99", "organiser") == ts("2020-08-01")
    assert reached(got, "100", "organiser") == ts("2020-09-01")
    # val created the repo; una acted there on 2020-03-01, before val's CONTRIBUTING edit
    assert reached(got, "98", "organiser") == ts("2020-03-01")


def test_a_maker_who_never_landed_work_is_no_maintainer_whatever_the_acts_labels():
    """Acts on others' work count only after one's own landed work: X closes A's issue
    but never landed anything, while B (who landed) approves A's PR. The approvals are
    renumbered when joined with their PRs' merge times, so an approval and X's close once
    shared a label and X's close came through unchecked."""
    import pandas as pd

    from graphminer import trajectory as rules

    def row(second, maker, kind, target, author=None, subkind="", landed=False):
        return {"ts": pd.Timestamp(f"2024-01-01T00:00:{second:02d}Z"), "maker": maker, "org": "o",
                "repo": "o/r", "kind": kind, "target": target, "target_author": author,
                "subkind": subkind, "label": None, "by_commit": False, "landed": landed,
                "action": True, "community": False, "own_work": False, "is_bot": False,
                "target_is_bot": False}

    events = pd.DataFrame([
        row(1, "X", "issue_event", "issue:1", "A", "closed"),
        row(2, "B", "commit", "commit:b", "B", landed=True),
        row(3, "A", "pr_opened", "pr:2", "A"),
        row(4, "B", "review", "pr:2", "A", "APPROVED"),
        row(5, "A", "pr_merged", "pr:2", "A", landed=True),
    ])
    found = rules.maintainer_candidates(rules.rule_events(events, pd.Timestamp("2025-01-01T00:00:00Z")))
    assert set(found["maker"].astype(str)) == {"B"}
