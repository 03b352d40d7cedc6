"""Real GitHub's hard edges in fakehub (FAKEHUB.md), each on and off, over real HTTP.

Expected values come from the fixture world's JSON (read here, independently of fakehub's
code) or from GitHub's own texts (the 422 message, PyGithub's recorded 301).
"""

from __future__ import annotations

import json
from pathlib import Path

import requests
from test_fakehub_openapi import validator

from graphminer.fakehub.testing import serve

FIXTURES = Path(__file__).parent / "fixtures"
WORLD = FIXTURES / "fakehub-small.json"
RAW = json.loads(WORLD.read_text())
AUTH = {"Authorization": "token edge-one"}
DEEP = ("Pagination with the page parameter is not supported for large datasets, "
        "please use cursor based pagination (after/before)")
CAPPED = ("/repos/civic/site/issues", "/repos/civic/site/issues/comments",
          "/repos/civic/site/issues/events")


def get(hub, path: str, token: str | None = "edge-one", **params) -> requests.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.get(hub.url + path, params=params, headers=headers, timeout=30)


# -- deep pagination ----------------------------------------------------------------


def test_deep_pages_of_the_three_repo_listings_are_refused_whatever_the_query():
    with serve(WORLD, page_cap=10) as hub:
        for path in CAPPED:
            assert get(hub, path, per_page=5, page=2, state="all").status_code == 200
            for query in ({}, {"since": "2000-01-01T00:00:00Z"}, {"state": "all", "sort": "updated"}):
                refused = get(hub, path, per_page=5, page=3, **query)
                assert refused.status_code == 422, (path, query)
                assert refused.json()["message"] == DEEP
                assert refused.json()["documentation_url"].startswith("https://docs.github.com/")
            # per_page above 100 is served as 100: page 2 starts at item 100
            assert get(hub, path, per_page=500, page=2).status_code == 422
        # other listings and per-issue listings are not capped
        assert get(hub, "/repos/civic/site/pulls", per_page=5, page=3, state="all").status_code == 200
        assert get(hub, "/repos/civic/site/issues/3/comments", per_page=1, page=30).status_code == 200


def test_the_default_cap_is_ten_thousand_items_and_zero_switches_it_off():
    with serve(WORLD) as hub:
        assert get(hub, CAPPED[0], per_page=100, page=100).json() == []
        assert get(hub, CAPPED[0], per_page=100, page=101).status_code == 422
    with serve(WORLD, page_cap=0) as hub:
        issues = [i for i in RAW["issues"] if i["repo_id"] == 200]
        served = get(hub, CAPPED[0], per_page=5, page=3, state="all", direction="asc")
        assert served.status_code == 200
        expected = sorted(issues, key=lambda i: (i["created_at"], i["number"]))[10:15]
        assert [i["number"] for i in served.json()] == [i["number"] for i in expected]
        assert get(hub, CAPPED[0], per_page=100, page=1000).status_code == 200


# -- per-issue listings ---------------------------------------------------------------


def _fixture_issue_with_most_parts() -> int:
    numbers = [i["number"] for i in RAW["issues"] if i["repo_id"] == 200]

    def parts(n: int) -> int:
        return sum(1 for kind, field in (("comments", "issue_number"), ("events", "issue_number"),
                                         ("reviews", "pr_number"))
                   for r in RAW[kind] if r["repo_id"] == 200 and r[field] == n)
    return max(numbers, key=parts)


def test_per_issue_events_and_timeline_hold_the_issues_records_oldest_first():
    number = _fixture_issue_with_most_parts()
    events = sorted((e for e in RAW["events"] if e["repo_id"] == 200 and e["issue_number"] == number),
                    key=lambda e: (e["created_at"], e["id"]))
    comments = [c for c in RAW["comments"] if c["repo_id"] == 200 and c["issue_number"] == number]
    reviews = [r for r in RAW["reviews"] if r["repo_id"] == 200 and r["pr_number"] == number]
    assert events and comments and reviews, "the fixture issue should have every kind of part"
    with serve(WORLD, page_cap=1) as hub:
        served = get(hub, f"/repos/civic/site/issues/{number}/events", per_page=100).json()
        assert [e["id"] for e in served] == [e["id"] for e in events]
        assert all("issue" not in e for e in served)
        timeline = get(hub, f"/repos/civic/site/issues/{number}/timeline", per_page=100).json()
        expected = sorted([(e["created_at"], e["event"], e["id"]) for e in events]
                          + [(c["created_at"], "commented", c["id"]) for c in comments]
                          + [(r["submitted_at"], "reviewed", r["id"]) for r in reviews])
        got = [(item.get("created_at") or item.get("submitted_at"), item["event"], item["id"])
               for item in timeline]
        assert sorted(got) == expected
        assert [g[0] for g in got] == sorted(g[0] for g in got)
        check = validator("/repos/{owner}/{repo}/issues/{issue_number}/timeline")
        errors = list(check.iter_errors(timeline))
        assert not errors, f"{errors[0].message} at {list(errors[0].absolute_path)}"
        assert get(hub, "/repos/civic/site/issues/9999/timeline").status_code == 404
