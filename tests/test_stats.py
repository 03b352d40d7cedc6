"""Stats on tiny examples worked out by hand (numbers in the comments)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from graphminer.stats import (
    cohorts,
    conversions,
    core_overlap,
    durations_to,
    funnel_counts,
    kaplan_meier,
    km_median,
    org_bridges,
    paths,
    render_text,
    summarise,
    time_to_milestones,
)

# docs/rules.md's table, in its order.
KEYS = [
    "first_contact", "first_issue", "first_comment", "first_pr", "first_landed", "returning",
    "long_term", "maintainer", "triager", "reviewer", "core", "creator", "organiser",
    "coder_to_organiser", "repo_bridge", "org_bridge", "inactive", "gone", "returned",
]
AS_OF = pd.Timestamp("2024-01-01T00:00:00Z")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def milestone_frame(rows: dict[str, dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {key: pd.to_datetime([r.get(key) for r in rows.values()], utc=True) for key in KEYS},
        index=pd.Index(list(rows), name="maker", dtype=str),
    )


def test_kaplan_meier_hand_computed_with_censoring() -> None:
    # Days: 2 event, 3 event, 3 censored, 5 event, 6 censored, 8 event, 9 censored.
    # t=2: 7 at risk, 1 event -> S = 6/7 = 0.8571
    # t=3: 6 at risk (the censored 3 is still at risk at 3), 1 event -> S = 0.8571 * 5/6 = 0.7143
    # t=5: 4 at risk (5, 6, 8, 9), 1 event -> S = 0.7143 * 3/4 = 0.5357
    # t=8: 2 at risk (8, 9), 1 event -> S = 0.5357 * 1/2 = 0.2679  -> median 8.
    # Dropping the censored would give a median of 4, counting them as reached 5.
    days = np.array([2, 3, 3, 5, 6, 8, 9])
    observed = np.array([1, 1, 0, 1, 0, 1, 0], dtype=bool)
    curve = kaplan_meier(days, observed)
    assert curve["time"].tolist() == [2, 3, 5, 8]
    assert curve["at_risk"].tolist() == [7, 6, 4, 2]
    assert curve["survival"].round(4).tolist() == [0.8571, 0.7143, 0.5357, 0.2679]
    assert km_median(days, observed) == 8


def test_kaplan_meier_median_not_reached() -> None:
    # 1 event in 4 at t=1 -> S = 0.75, then nothing: more than half never got there.
    assert km_median(np.array([1, 4, 4, 7]), np.array([1, 0, 0, 0], dtype=bool)) is None
    # Exactly one half: S(3) = 1/2 * ... t=1: 4 at risk -> 0.75; t=3: 3 at risk, 1 -> 0.5 -> median 3.
    assert km_median(np.array([1, 3, 5, 7]), np.array([1, 1, 0, 0], dtype=bool)) == 3


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=40))
def test_kaplan_meier_without_censoring_is_the_plain_median(days: list[int]) -> None:
    # With every maker observed, S(t) is the share still waiting after t, so the KM median
    # is the ceil(n/2)-th smallest duration.
    ordered = sorted(days)
    expected = ordered[(len(days) + 1) // 2 - 1]
    assert km_median(np.array(days), np.ones(len(days), dtype=bool)) == expected


@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=30))
def test_kaplan_meier_matches_the_textbook_loop(rows: list[tuple[int, bool]]) -> None:
    survival, expected = 1.0, None
    for time in sorted({d for d, _ in rows}):
        at_risk = sum(1 for d, _ in rows if d >= time)
        events = sum(1 for d, seen in rows if d == time and seen)
        if events:
            survival *= 1 - events / at_risk
            if expected is None and survival <= 0.5 + 1e-12:
                expected = time
    days = np.array([d for d, _ in rows])
    seen = np.array([s for _, s in rows], dtype=bool)
    assert km_median(days, seen) == expected


TINY = {
    # a: contact, lands 10 days later, returns, long-term; maintainer at day 100.
    "a": {"first_contact": "2020-01-01", "first_landed": "2020-01-11", "returning": "2020-03-01",
          "long_term": "2021-02-01", "maintainer": "2020-04-10"},
    # b: contact, lands 30 days later, never returns.
    "b": {"first_contact": "2021-06-01", "first_landed": "2021-07-01"},
    # c: contact only, organiser after 50 days.
    "c": {"first_contact": "2021-06-01", "organiser": "2021-07-21"},
    # d: contact 2023-12-02 (censored 30 days later at as_of).
    "d": {"first_contact": "2023-12-02"},
    # e: merged someone's PR (maintainer) before landing anything: counted as 0 days from landing.
    "e": {"first_contact": "2022-01-01", "maintainer": "2022-01-05", "first_landed": "2022-02-01",
          "returning": "2022-03-15"},
}


def test_funnel_counts_and_conversions() -> None:
    milestones = milestone_frame(TINY)
    counts = funnel_counts(milestones)
    assert counts["first_contact"] == 5
    assert counts["first_landed"] == 3 and counts["returning"] == 2 and counts["long_term"] == 1
    assert counts["maintainer"] == 2 and counts["organiser"] == 1 and counts["core"] == 0
    rates = {(row["from"], row["to"]): row for row in conversions(milestones)}
    assert rates[("first_contact", "first_landed")]["rate"] == 0.6
    assert rates[("first_landed", "returning")]["makers_both"] == 2
    assert rates[("first_landed", "returning")]["rate"] == round(2 / 3, 4)
    assert rates[("returning", "long_term")]["rate"] == 0.5
    assert rates[("maintainer", "core")]["rate"] == 0.0


def test_time_to_first_landed_with_censoring() -> None:
    milestones = milestone_frame(TINY)
    timed = durations_to(milestones, "first_contact", "first_landed", AS_OF)
    # a 10 days, b 30 days, e 31 days reached; c censored after 944 days; d after 30 days.
    assert timed.loc["a"].tolist() == [10.0, True]
    assert timed.loc["c"].tolist() == [(AS_OF - ts("2021-06-01")).days, False]
    assert timed.loc["d"].tolist() == [30.0, False]
    # KM over 10e, 30e, 30c, 31e, 944c: t=10: 5 at risk -> 0.8; t=30: 4 at risk, 1 event -> 0.6;
    # t=31: 2 at risk -> 0.3 -> median 31.
    figures = time_to_milestones(milestones, "first_contact", AS_OF, ["first_landed"])
    assert figures["first_landed"] == {"makers": 5, "reached": 3, "censored": 2, "median_days": 31.0}


def test_time_from_first_landed_clips_earlier_milestones_to_zero() -> None:
    milestones = milestone_frame(TINY)
    timed = durations_to(milestones, "first_landed", "maintainer", AS_OF)
    assert sorted(timed.index) == ["a", "b", "e"]
    assert timed.loc["e"].tolist() == [0.0, True]
    assert timed.loc["a"].tolist() == [90.0, True]
    figures = time_to_milestones(milestones, "first_landed", AS_OF)
    assert "first_pr" not in figures and "maintainer" in figures
    # 0e, 90e, b censored (2021-07-01 -> 2024-01-01 = 914 days): t=0 -> 2/3; t=90 -> 1/3.
    assert figures["maintainer"]["median_days"] == 90.0


def test_paths_most_common_first() -> None:
    rows = dict(TINY)
    rows["f"] = {"first_contact": "2021-01-01", "first_landed": "2021-02-01"}  # same path as b
    result = paths(milestone_frame(rows))
    assert result[0] == {"path": ["first_contact", "first_landed"], "makers": 2, "share": round(2 / 6, 4)}
    as_lists = [row["path"] for row in result]
    assert ["first_contact", "first_landed", "returning", "maintainer", "long_term"] in as_lists
    # e became maintainer before landing: order follows dates.
    assert ["first_contact", "maintainer", "first_landed", "returning"] in as_lists
    assert sum(row["makers"] for row in result) == 6


def test_quarter_dated_core_comes_after_first_landed_in_paths() -> None:
    # Core is dated 2022-01-01 (its quarter's first day), before the landing that made it.
    rows = {"g": {"first_contact": "2022-01-10", "first_landed": "2022-02-01", "core": "2022-01-01",
                  "returning": "2022-03-02", "coder_to_organiser": "2022-01-01"}}
    assert paths(milestone_frame(rows))[0]["path"] == [
        "first_contact", "coder_to_organiser", "first_landed", "core", "returning"
    ]


def events_for(actions: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime([when for _, _, when in actions], utc=True),
            "maker": pd.Series([maker for maker, _, _ in actions], dtype=str),
            "org": pd.Series([org for _, org, _ in actions], dtype=str),
            "repo": pd.Series([f"{org}/r" for _, org, _ in actions], dtype=str),
            "kind": "comment",
            "is_bot": False,
        }
    )


def test_cohorts_by_year_of_first_contact() -> None:
    milestones = milestone_frame(TINY)
    events = events_for([
        ("a", "x", "2020-01-01"), ("a", "x", "2022-06-01"),  # a: still there after 1 and 2 years, not 3
        ("b", "x", "2021-06-01"), ("b", "x", "2022-06-10"),  # b: after 1 year (374 days), not 2
        ("c", "x", "2021-06-01"),
        ("d", "x", "2023-12-02"),
        ("e", "x", "2022-01-01"),
    ])
    rows = {row["year"]: row for row in cohorts(milestones, events, AS_OF)}
    assert sorted(rows) == [2020, 2021, 2022, 2023]
    assert rows[2020]["makers"] == 1 and rows[2020]["returning"] == 1.0
    assert rows[2020]["retention"]["1"] == {"eligible": 1, "retained": 1, "share": 1.0}
    assert rows[2020]["retention"]["2"]["retained"] == 1
    assert rows[2020]["retention"]["3"] == {"eligible": 1, "retained": 0, "share": 0.0}
    assert rows[2021]["makers"] == 2 and rows[2021]["returning"] == 0.0
    assert rows[2021]["retention"]["1"] == {"eligible": 2, "retained": 1, "share": 0.5}
    # 2021-06-01 + 3 x 365 days is after as_of: nobody observable yet.
    assert rows[2021]["retention"]["3"] == {"eligible": 0, "retained": 0, "share": None}
    assert rows[2023]["retention"]["1"]["eligible"] == 0


def test_org_bridges_within_a_year() -> None:
    events = events_for([
        ("m1", "x", "2020-01-01"), ("m1", "y", "2020-04-10"),  # 100 days: bridges x-y
        ("m2", "x", "2020-01-01"), ("m2", "y", "2021-02-05"),  # 401 days: no bridge
        ("m3", "y", "2022-01-01"), ("m3", "x", "2022-12-01"), ("m3", "z", "2022-12-02"),
    ])
    bridges = org_bridges(events, AS_OF)
    assert bridges == [
        {"orgs": ["x", "y"], "makers": 2},
        {"orgs": ["x", "z"], "makers": 1},
        {"orgs": ["y", "z"], "makers": 1},
    ]
    assert org_bridges(events, AS_OF, org="z") == bridges[1:]


def test_core_overlap_jaccard() -> None:
    # Repo o/r: a, b, c within days of each other; d alone a year later on another repo.
    events = events_for([
        ("a", "o", "2023-01-01"), ("b", "o", "2023-01-02"), ("c", "o", "2023-01-03"),
        ("d", "p", "2023-09-01"),
    ])
    milestones = milestone_frame({
        "a": {"first_contact": "2023-01-01", "core": "2023-01-01"},
        "d": {"first_contact": "2023-09-01", "core": "2023-07-01"},
        "b": {"first_contact": "2023-01-02"},
        "c": {"first_contact": "2023-01-03"},
    })
    # Degrees a 2, b 2, c 2: total 6, 80% = 4.8 -> a, b, c. Count core {a, d}: both {a},
    # union {a, b, c, d} -> Jaccard 0.25.
    overlap = core_overlap(milestones, events, AS_OF)
    assert overlap["count_based"] == 2 and overlap["network_based"] == 3
    assert overlap["both"] == 1 and overlap["jaccard"] == 0.25


def test_summarise_is_json_and_readable() -> None:
    milestones = milestone_frame(TINY)
    events = events_for([
        ("a", "x", "2020-01-01"), ("b", "x", "2021-06-01"), ("c", "y", "2021-06-01"),
        ("d", "x", "2023-12-02"), ("e", "x", "2022-01-01"), ("e", "y", "2022-01-02"),
        ("late", "x", "2024-06-01"),
    ])
    summary = summarise(events, milestones, AS_OF)
    assert json.loads(json.dumps(summary)) == summary
    assert summary["rules_version"] == "5" and summary["as_of"] == "2024-01-01T00:00:00Z"
    assert summary["makers"] == 5 and summary["actions"] == 6  # the 2024-06 action is after as_of
    assert summary["bridges"] == [{"orgs": ["x", "y"], "makers": 1}]
    assert summary["anchors"]["one_off_share"] == round(1 / 3, 4)
    text = render_text(summary)
    assert "first_contact -> first_landed: 3/5 (60.0%)" in text
    for_org = summarise(events, milestones.loc[["c", "e"]], AS_OF, org="y")
    assert for_org["org"] == "y" and for_org["actions"] == 2 and for_org["makers"] == 2


def test_summarise_with_no_makers() -> None:
    milestones = milestone_frame({})
    events = events_for([])
    summary = summarise(events, milestones, AS_OF)
    assert summary["makers"] == 0 and summary["paths"] == [] and summary["cohorts"] == []
    assert summary["time_to"]["from_first_contact"]["first_landed"]["median_days"] is None
    render_text(summary)


def test_lifelines_gives_the_old_estimators_medians_on_every_test_world() -> None:
    """The hand-written estimator was replaced by lifelines (issue 22): on the durations of
    every test world's ground truth, each median is the one the old estimator gave
    (recorded by tests/fixtures/km_medians_make.py before it was removed)."""
    import gzip
    import json
    from pathlib import Path

    recorded = json.loads(gzip.decompress(
        (Path(__file__).parent / "fixtures" / "km-medians.json.gz").read_bytes()))
    compared = reached = 0
    for world, pairs in recorded.items():
        for pair, row in pairs.items():
            median = km_median(np.array(row["days"]), np.array(row["observed"], dtype=bool))
            assert median == row["median"], (world, pair, median, row["median"])
            compared += 1
            reached += row["median"] is not None
    assert len(recorded) == 5 and compared > 200 and reached > 50


def test_kaplan_meier_band_holds_the_curve() -> None:
    days = np.array([2, 3, 3, 5, 6, 8, 9, 12, 15, 20])
    observed = np.array([1, 1, 0, 1, 0, 1, 0, 1, 1, 0], dtype=bool)
    curve = kaplan_meier(days, observed)
    assert (curve["lower"] <= curve["survival"] + 1e-12).all()
    assert (curve["survival"] <= curve["upper"] + 1e-12).all()
    assert (curve["upper"] - curve["lower"] > 0.05).all()  # ten people: a wide band
