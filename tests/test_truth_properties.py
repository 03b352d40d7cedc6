"""Ground truth (graphminer.fakehub.truth) against brute-force recomputations in the test,
on random micro-worlds (hypothesis): gaps, bridges, returning/long_term and core."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_truth import World

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
AS_OF = EPOCH + timedelta(days=1200)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def quarter_of(moment: datetime) -> datetime:
    return datetime(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1, tzinfo=UTC)


# Action times in whole hours since EPOCH (so gaps of exactly N days occur), with a repo
# index 0-2 (repos 0 and 1 in org "civic", repo 2 in org "other").
actions_strategy = st.lists(
    st.tuples(st.integers(0, 1150 * 24), st.integers(0, 2)), min_size=1, max_size=12
)


def world_of(actions: list[tuple[int, int]]) -> World:
    world = World(now=iso(AS_OF))
    world.org("other")
    world.user(1, "alice")
    world.repo(11)
    world.repo(12, owner="other")
    repo_ids = [10, 11, 12]
    for number, (hours, repo) in enumerate(actions, start=1):
        world.issue(number, 1, iso(EPOCH + timedelta(hours=hours)), repo=repo_ids[repo])
    return world


def expected_gap_milestones(times: list[datetime]) -> dict[str, datetime | None]:
    distinct = sorted(set(times))
    ends = distinct[1:] + [AS_OF]
    found: dict[str, datetime | None] = {"inactive": None, "gone": None, "returned": None}
    for start, end in zip(distinct, ends, strict=True):
        if found["inactive"] is None and end - start >= timedelta(days=180):
            found["inactive"] = start + timedelta(days=180)
        if found["gone"] is None and end - start >= timedelta(days=365):
            found["gone"] = start + timedelta(days=365)
    for start, end in zip(distinct, distinct[1:], strict=False):
        if end - start >= timedelta(days=365):
            found["returned"] = end
            break
    return found


def expected_bridge(places: list[tuple[datetime, object]]) -> datetime | None:
    hits = [
        when for when, place in places
        for other_when, other_place in places
        if other_place != place and when - timedelta(days=365) <= other_when <= when
    ]
    return min(hits) if hits else None


@SETTINGS
@given(actions_strategy)
def test_gaps_and_bridges_match_a_brute_force_count(actions):
    marks = world_of(actions).milestones("1")
    times = [EPOCH + timedelta(hours=hours) for hours, _ in actions]
    for key, value in expected_gap_milestones(times).items():
        assert marks[key] == (iso(value) if value else None), key
    repo_bridge = expected_bridge([(when, repo) for when, (_, repo) in zip(times, actions, strict=True)])
    org_bridge = expected_bridge(
        [(when, repo == 2) for when, (_, repo) in zip(times, actions, strict=True)]
    )
    assert marks["repo_bridge"] == (iso(repo_bridge) if repo_bridge else None)
    assert marks["org_bridge"] == (iso(org_bridge) if org_bridge else None)
    assert marks["first_contact"] == iso(min(times))


@SETTINGS
@given(st.lists(st.integers(0, 1100 * 24), min_size=1, max_size=10))
def test_returning_and_long_term_match_a_brute_force_count(merge_hours):
    world = World(now=iso(AS_OF))
    world.user(1, "alice")
    for number, hours in enumerate(merge_hours, start=1):
        merged = EPOCH + timedelta(hours=hours)
        world.pr(number, 1, iso(merged - timedelta(hours=1)), merged_at=iso(merged))
    marks = world.milestones("1")
    landed = sorted(EPOCH + timedelta(hours=hours) for hours in merge_hours)
    first = landed[0]
    later_months = [when for when in landed if (when.year, when.month) > (first.year, first.month)]
    long_term = [when for when in landed if when - first >= timedelta(days=365)]
    assert marks["first_landed"] == iso(first)
    assert marks["returning"] == (iso(later_months[0]) if later_months else None)
    assert marks["long_term"] == (iso(long_term[0]) if long_term else None)


def quarters_back(quarter: datetime, count: int) -> datetime:
    """The quarter COUNT quarters before QUARTER."""
    index = quarter.year * 4 + (quarter.month - 1) // 3 - count
    return datetime(index // 4, 3 * (index % 4) + 1, 1, tzinfo=UTC)


# Rules version 4's core, from docs/rules.md's text and its defaults (tried here by brute
# force over every quarter and every prefix, with plain fractions of whole numbers).
CORE_SHARE, CORE_MAX_SHARE, MIN_OWN_SHARE = Fraction(8, 10), Fraction(1, 10), Fraction(5, 100)
MIN_LANDED, MIN_MAKERS, MIN_OWN, MIN_QUARTERS = 10, 3, 12, 2


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 420)), min_size=1, max_size=90),
       st.integers(1, 6))
def test_core_matches_every_prefix_tried_in_turn(landings, busy):
    """Each landing is (maker id 1-6, day), plus a stream of landings by one BUSY maker so
    that core is reached often. For each quarter Q, the year ending with Q (Q and the three
    before) counts when it holds >= 10 landed and >= 3 makers had landed by Q's end; the
    year's makers ranked by count (ties by key); the shortest prefix reaching 80%, cut to its
    first max(1, ceil(10% of the year's makers)); kept: >= max(12, 5% of the year) of their
    own, in >= 2 quarters of the year, one of them Q; dated at their first landing in the
    earliest such Q."""
    landings = landings + [(busy, day) for day in range(3, 420, 9)]
    world = World(now=iso(AS_OF))
    for user_id in range(1, 7):
        world.user(user_id, f"u{user_id}")
    for number, (user_id, day) in enumerate(landings, start=1):
        merged = EPOCH + timedelta(days=day, hours=12)
        world.pr(number, user_id, iso(merged - timedelta(hours=1)), merged_at=iso(merged))
    makers = world.truth()["makers"]
    landed = [(str(user_id), EPOCH + timedelta(days=day, hours=12)) for user_id, day in landings]
    expected: dict[str, datetime] = {}
    for quarter in sorted({quarter_of(at) for _, at in landed}):
        first = quarters_back(quarter, 3)
        after = quarters_back(quarter, -1)
        year = [(key, at) for key, at in landed if first <= at < after]
        team = {key for key, at in landed if at < after}
        if len(year) < MIN_LANDED or len(team) < MIN_MAKERS:
            continue
        counts: dict[str, int] = {}
        for key, _ in year:
            counts[key] = counts.get(key, 0) + 1
        ranked = sorted(counts, key=lambda key: (-counts[key], key))
        size = next(size for size in range(1, len(ranked) + 1)
                    if sum(counts[key] for key in ranked[:size]) >= CORE_SHARE * len(year))
        size = min(size, max(1, math.ceil(CORE_MAX_SHARE * len(counts))))
        for key in ranked[:size]:
            quarters = {quarter_of(at) for who, at in year if who == key}
            if (counts[key] >= max(MIN_OWN, MIN_OWN_SHARE * len(year))
                    and len(quarters) >= MIN_QUARTERS and quarter in quarters):
                expected.setdefault(key, min(at for who, at in year if who == key and quarter_of(at) == quarter))
    found = {key: maker["milestones"]["core"] for key, maker in makers.items()
             if maker["milestones"]["core"]}
    assert found == {key: iso(at) for key, at in expected.items()}
