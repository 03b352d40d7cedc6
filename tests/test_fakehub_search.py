"""fakehub's "Users and search" (FAKEHUB.md): /users/{u}/repos, /users/{u}/orgs, outside
orgs in /organizations, /search/issues qualifiers, the 1,000-result cap and the search
rate resource, against a real fakehub process. Expected answers are counted here from
the world file itself (tests/careers_support.py), not from fakehub's code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from careers_support import PROLIFIC_PRS, outside_world

from graphminer.fakehub.testing import serve

AUTH = {"Authorization": "token search-check"}
RECORDED = Path("/work/shared/data/github-api/recorded/search-issues/normalized-fixture.json")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    world = outside_world(tmp_path_factory.mktemp("w") / "world.json")
    with serve(world, search_rate_limit=1000) as running:
        yield running, json.loads(world.read_text())


def search(hub, q: str, **params) -> requests.Response:
    return requests.get(hub.url + "/search/issues", params={"q": q, **params}, headers=AUTH, timeout=30)


def test_user_repos_lists_owned_repos_by_creation(hub):
    running, _ = hub
    got = requests.get(running.url + "/users/bob/repos", params={"type": "owner", "sort": "created"},
                       headers=AUTH, timeout=30).json()
    assert [repo["full_name"] for repo in got] == ["bob/tool"]
    assert got[0]["owner"]["login"] == "bob" and got[0]["fork"] is False
    org = requests.get(running.url + "/users/acme/repos", headers=AUTH, timeout=30).json()
    assert [repo["name"] for repo in org] == ["big", "lib"]  # full_name order by default
    assert requests.get(running.url + "/users/bob/repos", params={"type": "nope"},
                        headers=AUTH, timeout=30).status_code == 422


def test_user_orgs_and_outside_orgs_listed(hub):
    running, world = hub
    orgs = requests.get(running.url + "/users/carol/orgs", headers=AUTH, timeout=30).json()
    assert {org["login"] for org in orgs} == {"opengov", "gsa"}
    listed = requests.get(running.url + "/organizations", params={"per_page": 100},
                          headers=AUTH, timeout=30).json()
    assert {org["login"] for org in listed} == {org["login"] for org in world["orgs"]}


def test_contributors_of_an_outside_repo(hub):
    running, _ = hub
    got = requests.get(running.url + "/repos/bob/tool/contributors", headers=AUTH, timeout=30).json()
    assert sorted(c["login"] for c in got) == ["bob", "carol"]


def test_search_merged_prs_by_author_outside_an_org(hub):
    running, world = hub
    answer = search(running, "author:bob is:pr is:merged -org:civic -org:opengov").json()
    expected = sorted(f"{r['owner']}/{r['name']}" for i in world["issues"] if i["user_id"] == 2
                      and (i.get("pull_request") or {}).get("merged_at")
                      for r in world["repos"] if r["id"] == i["repo_id"]
                      and r["owner"] not in ("civic", "opengov"))
    assert answer["total_count"] == len(expected) == 2
    assert answer["incomplete_results"] is False
    assert sorted(item["repository_url"].split("/repos/")[1] for item in answer["items"]) == expected
    assert all(item["pull_request"]["merged_at"] for item in answer["items"])


def test_search_ranges(hub):
    running, world = hub
    unmerged = sum(1 for i in world["issues"] if i["user_id"] == 2 and i.get("pull_request")
                   and not i["pull_request"].get("merged_at"))
    by = {q: search(running, q).json()["total_count"] for q in (
        "author:bob type:pr merged:>=2023-01-01", "author:bob type:pr merged:<2023-01-01",
        "author:bob type:pr merged:2022-12-01..2023-05-01", "author:bob is:pr created:2023-06-01",
        "author:bob is:pr is:unmerged", "author:bob is:pr merged:>2023-05-02T10:00:00Z")}
    # bob merged civic#6 (2023-01-08), gsa/notify (2023-05-02), acme/lib (2022-12-01)
    assert by == {"author:bob type:pr merged:>=2023-01-01": 2,
                  "author:bob type:pr merged:<2023-01-01": 1,
                  "author:bob type:pr merged:2022-12-01..2023-05-01": 2,
                  "author:bob is:pr created:2023-06-01": 1,
                  "author:bob is:pr is:unmerged": unmerged,
                  "author:bob is:pr merged:>2023-05-02T10:00:00Z": 0}


def test_search_sort_created(hub):
    running, _ = hub
    items = search(running, "author:bob is:pr is:merged", sort="created", order="asc").json()["items"]
    created = [item["created_at"] for item in items]
    assert created == sorted(created) and len(created) == 3


def test_search_reaches_only_1000_results(hub):
    running, _ = hub
    first = search(running, "author:prolific is:pr is:merged org:acme", per_page=100)
    assert first.json()["total_count"] == PROLIFIC_PRS
    assert 'rel="last"' in first.headers["Link"] and "page=10" in first.links["last"]["url"]
    assert len(search(running, "author:prolific is:pr", per_page=100, page=10).json()["items"]) == 100
    deep = search(running, "author:prolific is:pr", per_page=100, page=11)
    assert deep.status_code == 422
    assert deep.json()["message"] == "Only the first 1000 search results are available"


def test_search_refuses_what_it_cannot_answer(hub):
    running, _ = hub
    for q in ("sesame", "author:bob label:bug", "merged:yesterday"):
        answer = search(running, q)
        assert answer.status_code == 422, q
    assert requests.get(running.url + "/search/issues", headers=AUTH, timeout=30).status_code == 422


def test_search_answer_has_the_recorded_shape(hub):
    running, _ = hub
    if not RECORDED.exists():
        pytest.skip("the recorded GitHub answer is in ../shared")
    recorded = json.loads(RECORDED.read_text())[0]["response"]
    ours = search(running, "author:bob is:pr").json()
    assert set(ours) == set(recorded)
    missing = set(recorded["items"][0]) - set(ours["items"][0])
    assert not missing
    assert set(recorded["items"][0]["user"]) <= set(ours["items"][0]["user"])


def test_search_has_its_own_rate_resource(tmp_path):
    world = outside_world(tmp_path / "world.json", prolific=False)
    with serve(world, search_rate_limit=3, rate_limit=100) as running:
        statuses = [search(running, "author:bob is:pr") for _ in range(4)]
        assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
        assert statuses[3].status_code in (403, 429)
        assert statuses[0].headers["X-RateLimit-Resource"] == "search"
        assert statuses[0].headers["X-RateLimit-Limit"] == "3"
        core = requests.get(running.url + "/users/bob", headers=AUTH, timeout=30)
        assert core.status_code == 200 and core.headers["X-RateLimit-Resource"] == "core"
        assert core.headers["X-RateLimit-Used"] == "1"
        limits = requests.get(running.url + "/rate_limit", headers=AUTH, timeout=30).json()
        assert limits["resources"]["search"]["limit"] == 3
        assert limits["resources"]["search"]["remaining"] == 0
        assert limits["resources"]["core"]["used"] == 1


def test_user_repos_validate_as_githubs_minimal_repositories(hub):
    """GitHub's description gives /users/{u}/repos the same schema as /orgs/{org}/repos (an
    array of minimal-repository); the subset has the latter, so it checks the former."""
    from test_fakehub_openapi import validator

    running, _ = hub
    got = requests.get(running.url + "/users/bob/repos", headers=AUTH, timeout=30).json()
    validator("/orgs/{org}/repos").validate(got)
    orgs = requests.get(running.url + "/users/carol/orgs", headers=AUTH, timeout=30).json()
    validator("/users/{username}/orgs").validate(orgs)
