"""Real GitHub's hard edges in fakehub (FAKEHUB.md), each on and off, over real HTTP.

Expected values come from the fixture world's JSON (read here, independently of fakehub's
code) or from GitHub's own texts (the 422 message, PyGithub's recorded 301).
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
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
        return sum(1 for kind, field in (("issue_comments", "issue_number"), ("issue_events", "issue_number"),
                                         ("reviews", "pr_number"))
                   for r in RAW[kind] if r["repo_id"] == 200 and r[field] == n)
    return max(numbers, key=parts)


def test_per_issue_events_and_timeline_hold_the_issues_records_oldest_first():
    number = _fixture_issue_with_most_parts()
    events = sorted((e for e in RAW["issue_events"] if e["repo_id"] == 200 and e["issue_number"] == number),
                    key=lambda e: (e["created_at"], e["id"]))
    comments = [c for c in RAW["issue_comments"] if c["repo_id"] == 200 and c["issue_number"] == number]
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
        # PyGithub reads both through its own pagination
        from github import Auth, Github

        client = Github(base_url=hub.url, per_page=2, auth=Auth.Token("pygithub-token"), retry=None,
                        seconds_between_requests=0)
        issue = client.get_repo("civic/site").get_issue(number)
        assert [e.id for e in issue.get_events()] == [e["id"] for e in events]
        assert sorted((t.event, t.id) for t in issue.get_timeline()) == sorted((e[1], e[2]) for e in expected)
        client.close()


# -- per-token ETags ------------------------------------------------------------------


def _conditional(hub, path: str, token: str, etag: str) -> requests.Response:
    return requests.get(hub.url + path, headers={"Authorization": f"token {token}",
                                                 "If-None-Match": etag}, timeout=30)


@pytest.mark.parametrize("path", ["/repos/civic/site", "/repos/civic/site/issues?state=all"])
def test_etags_are_per_token_and_another_tokens_etag_never_gives_a_304(path):
    with serve(WORLD) as hub:
        one = requests.get(hub.url + path, headers=AUTH, timeout=30)
        two = requests.get(hub.url + path, headers={"Authorization": "token edge-two"}, timeout=30)
        assert one.content == two.content
        assert one.headers["ETag"] != two.headers["ETag"]
        assert _conditional(hub, path, "edge-one", one.headers["ETag"]).status_code == 304
        crossed = _conditional(hub, path, "edge-two", one.headers["ETag"])
        assert crossed.status_code == 200 and crossed.content == one.content
        by_token = hub.stats()["by_token"]
        assert by_token["edge-one"]["counted"] == 1  # its 304 was free
        assert by_token["edge-two"]["counted"] == 2  # the crossed ETag cost a request


def test_shared_etags_when_switched_off():
    path = "/repos/civic/site/issues?state=all"
    with serve(WORLD, per_token_etags=False) as hub:
        one = requests.get(hub.url + path, headers=AUTH, timeout=30)
        two = requests.get(hub.url + path, headers={"Authorization": "token edge-two"}, timeout=30)
        assert one.headers["ETag"] == two.headers["ETag"]
        assert _conditional(hub, path, "edge-two", one.headers["ETag"]).status_code == 304


# -- renamed and transferred repos --------------------------------------------------------


def _moves_delta(tmp_path: Path) -> Path:
    """civic/site renamed civic/website; opengov/data transferred to the user alice."""
    site = next(r for r in RAW["repos"] if r["id"] == 200)
    data = next(r for r in RAW["repos"] if r["id"] == 203)
    delta = {"format": 1, "now": "2023-03-03T23:59:00Z", "ops": [
        {"op": "upsert", "kind": "repos", "record": dict(site, name="website")},
        {"op": "upsert", "kind": "repos", "record": dict(data, owner="alice")}]}
    path = tmp_path / "moves.json"
    path.write_text(json.dumps(delta))
    return path


def test_old_names_answer_301_to_repositories_id_with_the_query_kept(tmp_path):
    with serve(WORLD) as hub:
        before = get(hub, "/repos/civic/site/issues", state="closed", per_page=3, sort="updated")
        hub.apply_delta(_moves_delta(tmp_path))
        moved = requests.get(hub.url + "/repos/civic/site/issues?state=closed&per_page=3&sort=updated",
                             headers=AUTH, allow_redirects=False, timeout=30)
        assert moved.status_code == 301
        location = f"{hub.url}/repositories/200/issues?state=closed&per_page=3&sort=updated"
        assert moved.headers["Location"] == location
        assert moved.json() == {"message": "Moved Permanently", "url": location,
                                "documentation_url": "https://developer.github.com/v3/#http-redirects"}
        assert "X-RateLimit-Remaining" in moved.headers
        followed = requests.get(location, headers=AUTH, timeout=30)
        assert [i["number"] for i in followed.json()] == [i["number"] for i in before.json()]
        assert all(i["state"] == "closed" for i in followed.json())
        assert followed.json()[0]["repository_url"].endswith("/repos/civic/website")
        # the Link headers of /repositories/{id} listings keep that form
        assert followed.links["next"]["url"].startswith(f"{hub.url}/repositories/200/issues?")
        assert "state=closed" in followed.links["next"]["url"]
        # the transferred repo: the old name redirects, the new owner serves it
        gone = requests.get(hub.url + "/repos/opengov/data", headers=AUTH, allow_redirects=False, timeout=30)
        assert gone.status_code == 301 and gone.headers["Location"] == f"{hub.url}/repositories/203"
        assert get(hub, "/repos/alice/data").json()["owner"]["login"] == "alice"
        assert [r["name"] for r in get(hub, "/orgs/opengov/repos").json()] == []
        # under /api/v3 too
        enterprise = requests.get(hub.url + "/api/v3/repos/civic/site", headers=AUTH,
                                  allow_redirects=False, timeout=30)
        assert enterprise.headers["Location"] == f"{hub.url}/api/v3/repositories/200"


def test_pygithub_lands_on_the_renamed_repo(tmp_path):
    from github import Auth, Github

    with serve(WORLD) as hub:
        hub.apply_delta(_moves_delta(tmp_path))
        client = Github(base_url=hub.url, per_page=4, auth=Auth.Token("pygithub-token"), retry=None,
                        seconds_between_requests=0)
        repo = client.get_repo("civic/site")
        assert repo.full_name == "civic/website" and repo.id == 200
        closed = [i.number for i in repo.get_issues(state="closed")]
        expected = sorted((i["number"] for i in RAW["issues"] if i["repo_id"] == 200
                           and i["state"] == "closed"), reverse=True)
        assert sorted(closed, reverse=True) == expected
        client.close()


def test_without_redirects_old_names_are_404_and_repositories_id_is_always_served(tmp_path):
    with serve(WORLD, redirects=False) as hub:
        direct = get(hub, "/repositories/200/issues", state="all", per_page=100)
        assert len(direct.json()) == sum(1 for i in RAW["issues"] if i["repo_id"] == 200)
        hub.apply_delta(_moves_delta(tmp_path))
        assert get(hub, "/repos/civic/site").status_code == 404
        assert get(hub, "/repositories/200").json()["full_name"] == "civic/website"
        assert get(hub, "/repositories/999999").status_code == 404


def test_generated_deltas_rename_and_transfer_and_the_truth_keeps_the_history(tmp_path):
    import gzip

    from graphminer.fakehub.generator import apply_delta, generate_world
    from graphminer.fakehub.truth import harvested_repos

    sizes = {"seed": 3, "orgs": 2, "repos_per_org": 3, "makers": 40, "years": 1, "delta_days": 1}
    plain = generate_world(tmp_path / "plain", **sizes)
    moved = generate_world(tmp_path / "moved", renamed_repos=1, transferred_repos=1, **sizes)
    assert plain["world"].read_bytes() == moved["world"].read_bytes()

    def ops(made: dict) -> list:
        return json.loads(gzip.decompress(made["deltas"][0].read_bytes()))["ops"]

    plain_ops, moved_ops = ops(plain), ops(moved)
    assert moved_ops[:len(plain_ops)] == plain_ops  # the moves come on top, nothing else changes
    moves = [op["record"] for op in moved_ops[len(plain_ops):]]
    assert len(moves) == 2 and all(op_kind == "repos" for op_kind in
                                   (op["kind"] for op in moved_ops[len(plain_ops):]))
    world = json.loads(gzip.decompress(moved["world"].read_bytes()))
    orgs = {org["login"] for org in world["orgs"]}
    users = {user["login"] for user in world["users"]} | {
        op["record"]["login"] for op in moved_ops if op["kind"] == "users"}
    before = {repo["id"]: repo for repo in world["repos"]}
    renamed, transferred = moves
    old = before[renamed["id"]]
    assert renamed["owner"] == old["owner"] and renamed["name"] != old["name"]
    assert renamed["former_names"] == [f"{old['owner']}/{old['name']}"]
    gone = before[transferred["id"]]
    assert transferred["owner"] in users and transferred["owner"] not in orgs
    assert transferred["former_names"] == [f"{gone['owner']}/{gone['name']}"]
    # the truth after the delta still counts what happened in the transferred repo
    truth_before = json.loads((tmp_path / "moved" / "truth.json").read_text())
    truth_after = json.loads((tmp_path / "moved" / "truth-after-1.json").read_text())
    assert set(truth_before["makers"]) <= set(truth_after["makers"])
    after = apply_delta(world, {"format": 1, "now": moved["final_now"], "ops": moved_ops})
    assert transferred["id"] in harvested_repos(after)
    with serve(moved["world"]) as hub:
        hub.apply_delta(moved["deltas"][0])
        for repo, was in ((renamed, old), (transferred, gone)):
            answer = get(hub, f"/repos/{was['owner']}/{was['name']}/issues", state="all")
            assert answer.url == f"{hub.url}/repositories/{repo['id']}/issues?state=all"
            assert get(hub, f"/repos/{repo['owner']}/{repo['name']}").json()["id"] == repo["id"]


# -- slow pages -----------------------------------------------------------------------------


def test_slow_listings_answer_502_to_pages_above_50_every_time():
    import time

    with serve(WORLD, slow_pages=["civic/site:issues", "opengov/data"], slow_seconds=0.3) as hub:
        for _ in range(2):
            started = time.monotonic()
            heavy = get(hub, "/repos/civic/site/issues", per_page=100, state="all")
            assert heavy.status_code == 502 and heavy.json()["message"] == "Server Error"
            assert time.monotonic() - started >= 0.3
        assert get(hub, "/repositories/200/issues", per_page=51).status_code == 502
        light = get(hub, "/repos/civic/site/issues", per_page=50, state="all")
        assert light.status_code == 200
        assert len(light.json()) == min(50, sum(1 for i in RAW["issues"] if i["repo_id"] == 200))
        assert get(hub, "/repos/civic/site/issues", state="all").status_code == 200  # default 30
        assert get(hub, "/repos/civic/site/pulls", per_page=100).status_code == 200  # not named
        assert get(hub, "/repos/opengov/data/issues", per_page=100).status_code == 502  # whole repo
        assert get(hub, "/repos/opengov/data/commits", per_page=100).status_code == 502
        assert get(hub, "/repos/opengov/data", per_page=100).status_code == 200  # not a listing
        assert hub.stats()["by_token"]["edge-one"]["counted"] == 4  # a 502 costs nothing
    with serve(WORLD) as hub:
        assert get(hub, "/repos/civic/site/issues", per_page=100).status_code == 200


@pytest.mark.parametrize(("args", "named"), [
    (["serve", str(WORLD), "--slow-pages", "civic/site:wiki"], "--slow-pages 'civic/site:wiki'"),
    (["serve", str(WORLD), "--page-cap", "-1"], "--page-cap -1"),
    (["serve", str(WORLD), "--token-ttl", "0"], "--token-ttl 0"),
    (["serve", str(WORLD), "--token-ttl-requests", "0"], "--token-ttl-requests 0"),
    (["serve", str(WORLD), "--latency", "-5"], "--latency -5"),
    (["generate", "--out", "{tmp}/w", "--renamed-repos", "1"], "--renamed-repos"),
    (["generate", "--out", "{tmp}/w", "--private-repos", "99"], "--private-repos"),
    (["generate", "--out", "{tmp}/w", "--deleted-accounts", "-1"], "--deleted-accounts"),
])
def test_bad_edge_flags_are_one_line_exit_2(args, named, tmp_path):
    import subprocess
    import sys

    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    done = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert named in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# -- primary limits answering 429, expiring tokens ---------------------------------------------


def _refusals(hub, token: str, count: int) -> list[requests.Response]:
    answers = [get(hub, "/repos/civic/site", token=token) for _ in range(count)]
    return [a for a in answers if a.status_code != 200]


def test_exhausted_limits_answer_429_and_403_in_turn_by_default():
    with serve(WORLD, rate_limit=2, rate_window=60) as hub:
        refused = _refusals(hub, "edge-one", 6)
        assert [r.status_code for r in refused] == [429, 403, 429, 403]
        for r in refused:
            assert r.json()["message"].startswith("API rate limit exceeded")
            assert r.headers["X-RateLimit-Remaining"] == "0" and "X-RateLimit-Reset" in r.headers
        assert hub.stats()["by_token"]["edge-one"]["counted"] == 2


@pytest.mark.parametrize("status", [403, 429])
def test_limit_status_can_be_pinned(status):
    with serve(WORLD, rate_limit=1, rate_window=60, limit_status=status) as hub:
        assert [r.status_code for r in _refusals(hub, "edge-one", 4)] == [status] * 3


def test_tokens_expire_token_ttl_seconds_after_their_first_use():
    """On the hub's clock, moved ahead by the test (no wall-clock waiting, so a busy
    machine cannot change the outcome)."""
    with serve(WORLD, token_ttl=1000.0) as hub:
        assert get(hub, "/repos/civic/site", token="early").status_code == 200
        hub.advance_clock(600)
        assert get(hub, "/repos/civic/site", token="late").status_code == 200
        hub.advance_clock(600)
        expired = get(hub, "/repos/civic/site", token="early")
        assert expired.status_code == 401 and expired.json()["message"] == "Bad credentials"
        assert get(hub, "/repos/civic/site", token="late").status_code == 200  # its own clock
        assert get(hub, "/repos/civic/site", token=None).status_code == 200  # no token, no expiry
        assert hub.stats()["by_token"]["early"]["counted"] == 1  # the 401 cost nothing
        hub.advance_clock(400)
        assert get(hub, "/repos/civic/site", token="late").status_code == 401
    with serve(WORLD) as hub:
        get(hub, "/repos/civic/site", token="early")
        hub.advance_clock(10 ** 6)
        assert get(hub, "/repos/civic/site", token="early").status_code == 200


def test_tokens_expire_after_token_ttl_requests_answered():
    with serve(WORLD, token_ttl_requests=3) as hub:
        first = [get(hub, "/repos/civic/site", token="short").status_code for _ in range(3)]
        assert get(hub, "/repos/civic/site", token="other").status_code == 200  # its own count
        assert first == [200, 200, 200]
        assert [get(hub, "/repos/civic/site", token="short").status_code for _ in range(2)] == [401, 401]
        assert get(hub, "/repos/civic/site", token=None).status_code == 200
        assert hub.stats()["by_token"]["short"]["counted"] == 3


def test_the_clock_moved_ahead_resets_rate_windows_and_dates_the_answers():
    with serve(WORLD, rate_limit=2, rate_window=3600) as hub:
        answers = [get(hub, "/repos/civic/site", token="t") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        reset = int(answers[0].headers["X-RateLimit-Reset"])
        moved = hub.advance_clock(3601)  # past the reset (a whole second, rounded up)
        again = get(hub, "/repos/civic/site", token="t")
        assert again.status_code == 200 and int(again.headers["X-RateLimit-Reset"]) >= reset + 3600
        dated = parsedate_to_datetime(again.headers["Date"])
        assert dated >= parsedate_to_datetime(moved["now"]) and dated.timestamp() > time.time() + 3000
        refused = requests.post(hub.url + "/_fakehub/clock", json={"advance": -5}, timeout=30)
        assert refused.status_code == 422 and "advance" in refused.json()["message"]


# -- private repos ------------------------------------------------------------------------


def _load(path: Path) -> dict:
    import gzip

    return json.loads(gzip.decompress(path.read_bytes()))


def _people_by_repo(world: dict) -> dict[int, set[int]]:
    """User ids acting in each repo (issues, comments, reviews, events), read from the world."""
    found: dict[int, set[int]] = {}
    for kind, field in (("issues", "user_id"), ("issue_comments", "user_id"), ("reviews", "user_id"),
                        ("review_comments", "user_id"), ("issue_events", "actor_id")):
        for record in world[kind]:
            if record.get(field):
                found.setdefault(record["repo_id"], set()).add(record[field])
    return found


@pytest.fixture(scope="module")
def private_world(tmp_path_factory) -> tuple[dict, dict]:
    from graphminer.fakehub.generator import generate_world

    folder = tmp_path_factory.mktemp("private")
    sizes = {"seed": 4, "orgs": 2, "repos_per_org": 3, "makers": 40, "years": 1}
    return generate_world(folder / "plain", **sizes), generate_world(folder / "private", private_repos=1, **sizes)


def test_private_repos_are_listed_for_members_only_with_type_all(private_world):
    plain, made = private_world
    world = _load(made["world"])
    private = [repo for repo in world["repos"] if repo.get("private")]
    assert len(private) == 1
    repo = private[0]
    plain_repos = {r["id"]: r for r in _load(plain["world"])["repos"]}
    assert {**plain_repos[repo["id"]], "private": True} == repo  # nothing else differs
    org = f"/orgs/{repo['owner']}/repos"
    with serve(made["world"]) as hub:
        listed = get(hub, org, type="all", per_page=100).json()
        mine = [r for r in listed if r["id"] == repo["id"]]
        assert mine and mine[0]["private"] is True and mine[0]["visibility"] == "private"
        assert all(r["private"] is False and r["visibility"] == "public"
                   for r in listed if r["id"] != repo["id"])
        assert repo["id"] not in [r["id"] for r in get(hub, org, type="public", per_page=100).json()]
        assert [r["id"] for r in get(hub, org, type="private").json()] == [repo["id"]]
        assert repo["id"] not in [r["id"] for r in get(hub, org, token=None, per_page=100).json()]
        check = validator("/orgs/{org}/repos")
        assert not list(check.iter_errors(listed))
        path = f"/repos/{repo['owner']}/{repo['name']}"
        own = get(hub, path)
        assert own.json()["private"] is True
        assert not list(validator("/repos/{owner}/{repo}").iter_errors(own.json()))
        issues = get(hub, path + "/issues", state="all", per_page=100).json()
        assert len(issues) == min(100, sum(1 for i in world["issues"] if i["repo_id"] == repo["id"]))
        assert get(hub, path, token=None).status_code == 404
        assert get(hub, f"/repositories/{repo['id']}/issues", token=None).status_code == 404


def test_the_truth_leaves_private_repos_out(private_world):
    plain, made = private_world
    world = _load(made["world"])
    repo_id = next(repo["id"] for repo in world["repos"] if repo.get("private"))
    acting = _people_by_repo(world)
    only_there = acting[repo_id] - set().union(*(ids for rid, ids in acting.items() if rid != repo_id))
    plain_truth = json.loads((made["world"].parent.parent / "plain" / "truth.json").read_text())
    truth = json.loads((made["world"].parent / "truth.json").read_text())
    assert only_there and {str(u) for u in only_there} <= set(plain_truth["makers"])
    assert not {str(u) for u in only_there} & set(truth["makers"])


# -- deleted accounts (ghost) ----------------------------------------------------------------


GHOST_ID = 10137  # GitHub's deleted-account user (travisbrown/octocrabby#2)


def test_deleted_accounts_show_ghost_in_their_old_records_and_nowhere_in_the_truth(tmp_path):
    from graphminer.fakehub.generator import generate_world

    sizes = {"seed": 6, "orgs": 2, "repos_per_org": 3, "makers": 40, "years": 1, "delta_days": 1}
    plain = generate_world(tmp_path / "plain", **sizes)
    made = generate_world(tmp_path / "ghost", deleted_accounts=2, **sizes)
    before, world = _load(plain["world"]), _load(made["world"])
    users = {u["id"]: u for u in world["users"]}
    assert users[GHOST_ID] == {**users[GHOST_ID], "login": "ghost", "type": "User"}
    deleted = {u["id"] for u in before["users"]} - set(users)
    assert len(deleted) == 2 and not deleted & {u for o in world["orgs"] for u in o["members"]}
    # every record of a deleted account now names ghost; nothing else changed
    for kind, field in (("issues", "user_id"), ("issue_comments", "user_id"), ("reviews", "user_id"),
                        ("issue_events", "actor_id"), ("releases", "author_id")):
        assert len(before[kind]) == len(world[kind])
        for old, new in zip(before[kind], world[kind], strict=True):
            assert new[field] == (GHOST_ID if old[field] in deleted else old[field]), (kind, old["id"])
    ghosted = [i for i in world["issues"] if i["user_id"] == GHOST_ID]
    assert ghosted
    for old, new in zip(before["commits"], world["commits"], strict=True):
        assert new["author_id"] == (None if old["author_id"] in deleted else old["author_id"])
        assert new["author"] == old["author"]  # git keeps the name and email
    with serve(made["world"]) as hub:
        issue = ghosted[0]
        repo = next(r for r in world["repos"] if r["id"] == issue["repo_id"])
        served = get(hub, f"/repos/{repo['owner']}/{repo['name']}/issues/{issue['number']}").json()
        assert (served["user"]["login"], served["user"]["id"]) == ("ghost", GHOST_ID)
        assert get(hub, "/users/ghost").json()["id"] == GHOST_ID
        assert hub.apply_delta(made["deltas"][0])["applied"] > 0
    for truth_file in ("truth.json", "truth-after-1.json"):
        truth = json.loads((tmp_path / "ghost" / truth_file).read_text())
        keys = set(truth["makers"])
        assert str(GHOST_ID) not in keys and not {str(d) for d in deleted} & keys
        assert all(entry["login"] != "ghost" for entry in truth["makers"].values())
        assert all("ghost" not in entry["identities"] for entry in truth["makers"].values())


def test_ghost_is_never_someone_else_a_creator_or_a_first_responder(tmp_path):
    """A hand-made world: ghost opens the repo's first issue, alice answers at once, ghost
    comments on bob's first issue at once. Ghost is nobody: not a maker, not the creator,
    and answering ghost does not make alice a first responder."""
    from graphminer.fakehub.truth import compute_truth

    world = {"format": 1, "now": "2024-06-30T00:00:00Z",
             "users": [{"id": GHOST_ID, "login": "ghost", "type": "User", "created_at": "2008-05-13T00:00:00Z"},
                       {"id": 1, "login": "alice", "type": "User", "created_at": "2020-01-01T00:00:00Z"},
                       {"id": 2, "login": "bob", "type": "User", "created_at": "2020-01-01T00:00:00Z"}],
             "orgs": [{"id": 100, "login": "civic", "created_at": "2020-01-01T00:00:00Z",
                       "members": [1], "public_members": [1]}],
             "repos": [{"id": 5, "owner": "civic", "name": "site", "created_at": "2024-01-01T00:00:00Z"}],
             "issues": [
                 {"repo_id": 5, "number": 1, "id": 11, "user_id": GHOST_ID, "state": "open",
                  "created_at": "2024-01-02T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z", "closed_at": None},
                 {"repo_id": 5, "number": 2, "id": 12, "user_id": 2, "state": "open",
                  "created_at": "2024-02-01T00:00:00Z", "updated_at": "2024-02-01T00:00:00Z", "closed_at": None}],
             "issue_comments": [
                 {"id": 21, "repo_id": 5, "issue_number": 1, "user_id": 1,
                  "created_at": "2024-01-02T01:00:00Z", "updated_at": "2024-01-02T01:00:00Z"},
                 {"id": 22, "repo_id": 5, "issue_number": 2, "user_id": GHOST_ID,
                  "created_at": "2024-02-01T01:00:00Z", "updated_at": "2024-02-01T01:00:00Z"}],
             "issue_events": [], "reviews": [], "review_comments": [], "commits": [], "releases": []}
    makers = compute_truth(world)["makers"]
    assert set(makers) == {"1", "2"}
    alice, bob = makers["1"]["milestones"], makers["2"]["milestones"]
    assert alice["organiser"] is None  # answering ghost's issue is answering nobody's first issue
    assert alice["first_contact"] == "2024-01-02T01:00:00Z"
    # ghost's earlier issue does not make ghost the creator: bob's is the first item by a maker
    assert alice["creator"] is None and bob["creator"] == "2024-02-01T00:00:00Z"


# -- reviews move a PR's updated_at, not its issue's ----------------------------------------


def _review_delta(tmp_path: Path) -> tuple[Path, int, str]:
    """A review and a review comment on a PR of civic/site, later than anything in the world."""
    pr = next(i for i in RAW["issues"] if i["repo_id"] == 200 and i.get("pull_request"))
    when, later = "2023-03-03T10:00:00Z", "2023-03-03T11:00:00Z"
    delta = {"format": 1, "now": "2023-03-03T23:59:00Z", "ops": [
        {"op": "upsert", "kind": "reviews", "record": {
            "id": 77001, "repo_id": 200, "pr_number": pr["number"], "user_id": 2,
            "state": "APPROVED", "submitted_at": when}},
        {"op": "upsert", "kind": "review_comments", "record": {
            "id": 77002, "repo_id": 200, "pr_number": pr["number"], "user_id": 2,
            "created_at": later, "updated_at": later}}]}
    path = tmp_path / "review.json"
    path.write_text(json.dumps(delta))
    return path, pr["number"], later


def test_reviews_move_a_prs_updated_at_in_pulls_not_its_issues(tmp_path):
    path, number, when = _review_delta(tmp_path)
    with serve(WORLD) as hub:
        issue_before = get(hub, f"/repos/civic/site/issues/{number}").json()["updated_at"]
        hub.apply_delta(path)
        assert get(hub, f"/repos/civic/site/issues/{number}").json()["updated_at"] == issue_before
        assert issue_before < when
        listed = get(hub, "/repos/civic/site/issues", state="all", per_page=100).json()
        assert next(i for i in listed if i["number"] == number)["updated_at"] == issue_before
        assert number not in [i["number"] for i in get(hub, "/repos/civic/site/issues", state="all",
                                                       since=when).json()]
        assert get(hub, f"/repos/civic/site/pulls/{number}").json()["updated_at"] == when
        newest = get(hub, "/repos/civic/site/pulls", state="all", sort="updated", direction="desc").json()[0]
        assert (newest["number"], newest["updated_at"]) == (number, when)
    with serve(WORLD, reviews_move_issues=True) as hub:
        hub.apply_delta(path)
        assert get(hub, f"/repos/civic/site/issues/{number}").json()["updated_at"] == when
        assert number in [i["number"] for i in get(hub, "/repos/civic/site/issues", state="all",
                                                   since=when).json()]


# -- releases ------------------------------------------------------------------------------


def test_releases_come_in_no_promised_order_with_created_at_the_tag_commits_date():
    releases = [r for r in RAW["releases"] if r["repo_id"] == 200]
    newest_first = [r["id"] for r in sorted(releases, key=lambda r: r["created_at"], reverse=True)]
    with serve(WORLD) as hub:
        served = get(hub, "/repos/civic/site/releases").json()
        assert sorted(r["id"] for r in served) == sorted(newest_first)
        assert [r["id"] for r in served] not in (newest_first, newest_first[::-1])
        assert [r["id"] for r in get(hub, "/repos/civic/site/releases").json()] == [r["id"] for r in served]
        by_id = {r["id"]: r for r in releases}
        for release in served:
            assert release["created_at"] == by_id[release["id"]]["created_at"]
            assert release["published_at"] == by_id[release["id"]]["published_at"]
            assert release["created_at"] < release["published_at"]
    with serve(WORLD, ordered_releases=True) as hub:
        assert [r["id"] for r in get(hub, "/repos/civic/site/releases").json()] == newest_first


# -- latency -------------------------------------------------------------------------------


def test_latency_delays_every_answer_without_blocking_the_others():
    import time
    from concurrent.futures import ThreadPoolExecutor

    with serve(WORLD, latency_ms=1000) as hub:
        started = time.monotonic()
        assert get(hub, "/repos/civic/site").status_code == 200
        assert time.monotonic() - started >= 1.0
        started = time.monotonic()
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda n: get(hub, f"/repos/civic/site/issues/{n}"), range(1, 7)))
        took = time.monotonic() - started
        assert all(a.status_code == 200 for a in answers)
        # concurrent, not one after the other (which takes at least 6 s): wide margins, so
        # that a busy machine cannot turn the answer
        assert 1.0 <= took < 4.0, took
        assert hub.stats()["requests"] == 7  # the control endpoint is neither delayed nor counted
    with serve(WORLD) as hub:
        started = time.monotonic()
        get(hub, "/repos/civic/site")
        assert time.monotonic() - started < 1.0  # no latency of its own by default


def test_every_world_edge_at_once_is_still_same_seed_same_bytes(tmp_path):
    from graphminer.fakehub.generator import generate_world

    sizes = {"seed": 8, "orgs": 2, "repos_per_org": 4, "makers": 50, "years": 1, "delta_days": 2,
             "renamed_repos": 1, "transferred_repos": 1, "private_repos": 1, "deleted_accounts": 2}
    first, second = generate_world(tmp_path / "a", **sizes), generate_world(tmp_path / "b", **sizes)
    for path in [first["world"], *first["deltas"], *first["truths"]]:
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    assert len(second["deltas"]) == 2 and len(second["truths"]) == 3
    with serve(first["world"]) as hub:  # the world and both deltas load and apply
        for delta in first["deltas"]:
            assert hub.apply_delta(delta)["applied"] > 0
