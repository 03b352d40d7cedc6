"""Ground truth (graphminer.fakehub.truth) against brute-force recomputations in the test,
on random micro-worlds (hypothesis): gaps, bridges, returning/long_term and core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 300)), min_size=1, max_size=40))
def test_core_matches_every_prefix_tried_in_turn(landings):
    """Each landing is (maker id 1-6, day); core is checked per quarter by trying prefixes:
    a quarter with >= 10 landed from >= 3 makers, the shortest prefix holding 80%, makers
    with >= 3 of their own, dated at their first landing of the earliest such quarter."""
    world = World(now=iso(AS_OF))
    for user_id in range(1, 7):
        world.user(user_id, f"u{user_id}")
    for number, (user_id, day) in enumerate(landings, start=1):
        merged = EPOCH + timedelta(days=day, hours=12)
        world.pr(number, user_id, iso(merged - timedelta(hours=1)), merged_at=iso(merged))
    makers = world.truth()["makers"]
    by_quarter: dict[datetime, dict[str, list[datetime]]] = {}
    for user_id, day in landings:
        merged = EPOCH + timedelta(days=day, hours=12)
        by_quarter.setdefault(quarter_of(merged), {}).setdefault(str(user_id), []).append(merged)
    expected: dict[str, datetime] = {}
    for _, dates in sorted(by_quarter.items()):
        counts = {key: len(found) for key, found in dates.items()}
        total = sum(counts.values())
        if total < 10 or len(counts) < 3:
            continue
        ranked = sorted(counts, key=lambda key: (-counts[key], key))
        for size in range(1, len(ranked) + 1):
            if 5 * sum(counts[key] for key in ranked[:size]) >= 4 * total:
                for key in ranked[:size]:
                    if counts[key] >= 3:
                        expected.setdefault(key, min(dates[key]))
                break
    found = {key: maker["milestones"]["core"] for key, maker in makers.items()
             if maker["milestones"]["core"]}
    assert found == {key: iso(at) for key, at in expected.items()}
