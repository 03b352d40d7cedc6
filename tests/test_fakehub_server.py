"""fakehub server over real HTTP: endpoints, pagination, validators, errors, deltas.

Expected values come from the fixture world's JSON, read independently of fakehub's code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from graphminer.fakehub.testing import serve

FIXTURES = Path(__file__).parent / "fixtures"
WORLD = FIXTURES / "fakehub-small.json"
DELTA = FIXTURES / "fakehub-small-delta.json"
RAW = json.loads(WORLD.read_text())


@pytest.fixture(scope="module")
def hub():
    with serve(WORLD) as running:
        yield running


def get_all(session: requests.Session, url: str, **params) -> list[requests.Response]:
    """Every page of a listing, following Link rel=next."""
    pages = [session.get(url, params=params)]
    while "next" in pages[-1].links:
        pages.append(session.get(pages[-1].links["next"]["url"]))
    return pages


def items(pages: list[requests.Response]) -> list:
    return [item for page in pages for item in page.json()]


def test_listening_line_is_exact(hub):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", hub.url)


def test_issues_list_prs_too_with_merged_at(hub):
    session = requests.Session()
    got = items(get_all(session, hub.url + "/repos/civic/site/issues", state="all", per_page=7))
    expected = [i for i in RAW["issues"] if i["repo_id"] == 200]
    assert sorted(i["number"] for i in got) == sorted(i["number"] for i in expected)
    prs = {i["number"]: i for i in expected if i["pull_request"]}
    for item in got:
        if item["number"] in prs:
            assert item["pull_request"]["merged_at"] == prs[item["number"]]["pull_request"]["merged_at"]
        else:
            assert "pull_request" not in item
    # default: open only, newest first
    open_numbers = [i["number"] for i in items(get_all(session, hub.url + "/repos/civic/site/issues"))]
    assert open_numbers == sorted((i["number"] for i in expected if i["state"] == "open"), reverse=True)


def test_same_under_api_v3(hub):
    plain = requests.get(hub.url + "/repos/civic/site/issues/5").json()
    prefixed = requests.get(hub.url + "/api/v3/repos/civic/site/issues/5").json()
    assert plain["id"] == prefixed["id"]
    assert prefixed["url"] == hub.url + "/api/v3/repos/civic/site/issues/5"


def test_link_header_shape(hub):
    response = requests.get(hub.url + "/repos/civic/site/issues?state=all&per_page=3&page=2")
    base = f"{hub.url}/repos/civic/site/issues?state=all&per_page=3&page="
    total = sum(1 for i in RAW["issues"] if i["repo_id"] == 200)
    last = -(-total // 3)
    assert response.headers["Link"] == (
        f'<{base}1>; rel="prev", <{base}3>; rel="next", <{base}{last}>; rel="last", <{base}1>; rel="first"')
    first = requests.get(hub.url + "/repos/civic/site/issues?state=all&per_page=3")
    assert first.headers["Link"] == f'<{base}2>; rel="next", <{base}{last}>; rel="last"'
    final = requests.get(f"{hub.url}/repos/civic/site/issues?state=all&per_page=3&page={last}")
    assert final.headers["Link"] == f'<{base}{last - 1}>; rel="prev", <{base}1>; rel="first"'


def test_since_filters_on_served_updated_at(hub):
    since = "2023-01-20T00:00:00Z"
    got = items(get_all(requests.Session(), hub.url + "/repos/civic/site/issues", state="all", since=since,
                        per_page=100))
    assert got and all(item["updated_at"] >= since for item in got)
    # an issue's updated_at counts its newest comment/event/review (docs/world-format.md)
    latest = {}
    for kind, number_key, date_keys in (("issue_comments", "issue_number", ("updated_at",)),
                                        ("issue_events", "issue_number", ("created_at",)),
                                        ("reviews", "pr_number", ("submitted_at",)),
                                        ("review_comments", "pr_number", ("updated_at",))):
        for record in RAW[kind]:
            if record["repo_id"] == 200:
                for key in date_keys:
                    n = record[number_key]
                    latest[n] = max(latest.get(n, ""), record[key])
    for issue in RAW["issues"]:
        served = max(issue["updated_at"], latest.get(issue["number"], ""))
        assert (served >= since) == (issue["number"] in {i["number"] for i in got})


def test_counts_of_every_listing_match_the_world(hub):
    session = requests.Session()
    url = hub.url + "/repos/civic/site"
    assert len(items(get_all(session, url + "/issues/comments", per_page=10))) == \
        sum(1 for c in RAW["issue_comments"] if c["repo_id"] == 200)
    assert len(items(get_all(session, url + "/issues/events", per_page=10))) == \
        sum(1 for c in RAW["issue_events"] if c["repo_id"] == 200)
    assert len(items(get_all(session, url + "/pulls/comments", per_page=10))) == \
        sum(1 for c in RAW["review_comments"] if c["repo_id"] == 200)
    assert len(items(get_all(session, url + "/pulls", state="all", per_page=4))) == \
        sum(1 for i in RAW["issues"] if i["repo_id"] == 200 and i["pull_request"])
    commits = items(get_all(session, url + "/commits", per_page=15))
    site_commits = [c for c in RAW["commits"] if c["repo_id"] == 200]
    assert [c["sha"] for c in commits] == [c["sha"] for c in sorted(
        site_commits, key=lambda c: c["committer"]["date"], reverse=True)]
    assert len(items(get_all(session, url + "/releases", per_page=2))) == 3
    assert sum(c["contributions"] for c in items(get_all(session, url + "/contributors"))) == \
        sum(1 for c in site_commits if c["author_id"] is not None)
    unknown = [c for c in commits if c["author"] is None]
    assert len(unknown) == sum(1 for c in site_commits if c["author_id"] is None)


def test_orgs_and_users(hub):
    orgs = requests.get(hub.url + "/organizations").json()
    assert [o["login"] for o in orgs] == [o["login"] for o in RAW["orgs"]]
    page = requests.get(hub.url + "/organizations?per_page=1")
    assert page.links["next"]["url"] == f"{hub.url}/organizations?per_page=1&since=100"
    assert [o["login"] for o in requests.get(page.links["next"]["url"]).json()] == ["opengov"]
    repos = requests.get(hub.url + "/orgs/civic/repos").json()
    assert [r["name"] for r in repos] == ["site", "takedown", "empty"]  # created_at ascending
    assert requests.get(hub.url + "/users/dependabot[bot]").json()["type"] == "Bot"
    assert [o["login"] for o in requests.get(hub.url + "/users/alice/orgs").json()] == ["civic"]
    assert requests.get(hub.url + "/users/bob/orgs").json() == []  # a private member
    members = requests.get(hub.url + "/orgs/civic/members", headers={"Authorization": "token t1"}).json()
    assert [m["login"] for m in members] == ["alice", "bob"]
    anonymous = requests.get(hub.url + "/orgs/civic/members").json()
    assert [m["login"] for m in anonymous] == ["alice"]


@pytest.mark.parametrize("path, status, message", [
    ("/repos/civic/nope", 404, "Not Found"),
    ("/no/such/route", 404, "Not Found"),
    ("/repos/civic/site/issues/999", 404, "Not Found"),
    ("/repos/civic/site/pulls/1", 404, "Not Found"),  # issue 1 is not a PR
    ("/repos/civic/empty/commits", 409, "Git Repository is empty."),
    ("/repos/civic/takedown", 451, "Repository access blocked"),
    ("/repos/civic/takedown/issues", 451, "Repository access blocked"),
    ("/repos/civic/site/issues?per_page=ten", 422, "Validation Failed"),
    ("/repos/civic/site/issues?since=yesterday", 422, "Validation Failed"),
    ("/repos/civic/site/issues?state=shut", 422, "Validation Failed"),
    ("/repos/civic/site/commits?sha=deadbeef", 404, "No commit found for SHA: deadbeef"),
])
def test_errors_have_github_bodies(hub, path, status, message):
    response = requests.get(hub.url + path)
    assert response.status_code == status
    body = response.json()
    assert body["message"] == message
    assert body["documentation_url"].startswith("https://docs.github.com/")


def test_bad_token_is_401(hub):
    response = requests.get(hub.url + "/repos/civic/site", headers={"Authorization": "token bad-one"})
    assert response.status_code == 401
    assert response.json()["message"] == "Bad credentials"


def test_etag_and_last_modified_give_uncounted_304(hub):
    headers = {"Authorization": "token etag-tester"}
    first = requests.get(hub.url + "/repos/civic/site/issues?state=all", headers=headers)
    assert first.status_code == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
    used = int(first.headers["X-RateLimit-Used"])
    again = requests.get(hub.url + "/repos/civic/site/issues?state=all",
                         headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    dated = requests.get(hub.url + "/repos/civic/site/issues?state=all",
                         headers={**headers, "If-Modified-Since": first.headers["Last-Modified"]})
    assert dated.status_code == 304 and dated.content == b""
    stale = requests.get(hub.url + "/repos/civic/site/issues?state=all",
                         headers={**headers, "If-None-Match": '"nope"'})
    assert stale.status_code == 200
    assert int(stale.headers["X-RateLimit-Used"]) == used + 1  # the two 304s cost nothing
    stats = hub.stats()["by_token"]["etag-tester"]
    assert stats == {"requests": 4, "counted": 2}
    logged = [line for line in hub.log_lines() if line["token"] == "etag-tester"]
    assert [(line["status"], line["counted"]) for line in logged] == [
        (200, True), (304, False), (304, False), (200, True)]
    assert logged[0]["path"] == "/repos/civic/site/issues" and logged[0]["query"] == {"state": "all"}


def test_delta_applies_while_running(tmp_path):
    with serve(WORLD) as running:
        before = requests.get(running.url + "/repos/civic/site/issues/1")
        old_etag = before.headers["ETag"]
        dave_number = next(i for i in RAW["issues"] if i["user_id"] == 4 and i["number"] > 3)["number"]
        dave_before = requests.get(f"{running.url}/repos/civic/site/issues/{dave_number}")
        answer = running.apply_delta(DELTA)
        delta = json.loads(DELTA.read_text())
        assert answer == {"applied": len(delta["ops"]), "now": delta["now"]}
        issue = requests.get(running.url + "/repos/civic/site/issues/1", headers={"If-None-Match": old_etag})
        assert issue.status_code == 200 and issue.json()["comments"] == before.json()["comments"] + 1
        # the new comment (10:00) and the edit of its first comment (13:00) both move it
        assert issue.json()["updated_at"] == "2023-03-03T13:00:00Z"
        assert requests.get(running.url + "/repos/civic/site/issues/2").json()["state"] == "closed"
        assert requests.get(running.url + "/repos/civic/site/pulls/3").json()["merged"] is True
        assert requests.get(running.url + "/repos/opengov/data").status_code == 404
        assert [r["name"] for r in requests.get(running.url + "/orgs/opengov/repos").json()] == ["newrepo"]
        # a rename changes records whose own dates do not move: no stale 304 on their dates
        dave_after = requests.get(f"{running.url}/repos/civic/site/issues/{dave_number}",
                                  headers={"If-Modified-Since": dave_before.headers["Last-Modified"]})
        assert dave_after.status_code == 200 and dave_after.json()["user"]["login"] == "dave-renamed"
        assert dave_after.json()["updated_at"] == dave_before.json()["updated_at"]
        renamed = requests.get(running.url + "/users/dave-renamed").json()
        assert renamed["id"] == 4
        assert requests.get(running.url + "/users/dave").status_code == 404
        # the new login shows everywhere at once (records embedding the user re-rendered)
        dave_issue = next(i for i in RAW["issues"] if i["user_id"] == 4)
        assert requests.get(f"{running.url}/repos/civic/site/issues/{dave_issue['number']}").json()[
            "user"]["login"] == "dave-renamed"
        edited = requests.get(running.url + "/repos/civic/site/issues/comments").json()
        assert next(c for c in edited if c["id"] == RAW["issue_comments"][0]["id"])["body"] == "edited"


def test_bad_delta_is_refused_and_changes_nothing(tmp_path):
    bad = tmp_path / "delta.json"
    bad.write_text(json.dumps({"format": 1, "now": "2023-03-05T00:00:00Z", "ops": [
        {"op": "upsert", "kind": "comments", "record": {"id": 5, "repo_id": 999, "issue_number": 1,
                                                        "user_id": 1, "created_at": "2023-03-04T00:00:00Z",
                                                        "updated_at": "2023-03-04T00:00:00Z"}}]}))
    with serve(WORLD) as running:
        response = requests.post(running.url + "/_fakehub/delta", data=bad.read_bytes())
        assert response.status_code == 422
        assert "ops[0].record.repo_id" in response.json()["message"]
        assert requests.get(running.url + "/repos/civic/site/issues/comments?per_page=100").json()[-1]["id"] != 5


@pytest.mark.parametrize("change, place", [
    (lambda w: w["issues"][12].__setitem__("repo_id", 12345), "issues[12].repo_id"),
    (lambda w: w["users"][0].__setitem__("type", "Robot"), "users[0].type"),
    (lambda w: w["issue_comments"][3].__setitem__("created_at", "2023-01-01 10:00"), "issue_comments[3].created_at"),
    (lambda w: w["commits"][2].pop("author"), "commits[2].author"),
    (lambda w: w.__setitem__("format", 2), "format"),
    (lambda w: w["repos"][1].__setitem__("owner", "nobody"), "repos[1].owner"),
    (lambda w: w["issue_comments"][0].__setitem__("issue_number", 999), "issue_comments[0].issue_number"),
    (lambda w: w["users"].append(dict(w["users"][0])), "users[5]"),
])
def test_malformed_world_is_one_line_exit_2(tmp_path, change, place):
    world = json.loads(WORLD.read_text())
    change(world)
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world))
    result = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "serve", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and place in lines[0]


def test_not_json_world(tmp_path):
    path = tmp_path / "world.json.gz"
    path.write_bytes(b"\x1f\x8bnot really gzip")
    result = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "serve", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and str(path) in result.stderr and "Traceback" not in result.stderr


def _apply_by_hand(world: dict, delta: dict) -> None:
    """The delta rules of docs/world-format.md, applied to plain lists (independent of world.py)."""
    keys = {"issues": ("repo_id", "number"), "commits": ("repo_id", "sha")}
    for op in delta["ops"]:
        if op["op"] == "delete":
            world["repos"] = [r for r in world["repos"] if r["id"] != op["id"]]
            continue
        fields = keys.get(op["kind"], ("id",))
        key = tuple(op["record"][f] for f in fields)
        records = world[op["kind"]]
        for i, record in enumerate(records):
            if tuple(record[f] for f in fields) == key:
                records[i] = op["record"]
                break
        else:
            records.append(op["record"])


def test_generated_gzip_deltas_apply_in_order(tmp_path):
    import gzip
    out = tmp_path / "gen"
    subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate", "--seed", "4", "--orgs", "2",
                    "--repos-per-org", "2", "--makers", "40", "--years", "1", "--delta-days", "2", "--no-truth",
                    "--out", str(out)], check=True, capture_output=True, timeout=120)
    world = json.loads(gzip.decompress((out / "world.json.gz").read_bytes()))
    with serve(out / "world.json.gz") as running:
        session = requests.Session()
        for day in (1, 2):
            delta_path = out / f"delta-{day}.json.gz"
            delta = json.loads(gzip.decompress(delta_path.read_bytes()))
            assert running.apply_delta(delta_path) == {"applied": len(delta["ops"]), "now": delta["now"]}
            _apply_by_hand(world, delta)
        logins = {u["id"]: u["login"] for u in world["users"]}
        for org in world["orgs"]:
            served = items(get_all(session, f"{running.url}/orgs/{org['login']}/repos", per_page=100))
            assert sorted(r["id"] for r in served) == sorted(r["id"] for r in world["repos"]
                                                              if r["owner"] == org["login"])
        for repo in world["repos"]:
            if repo.get("blocked"):
                continue
            name = f"{running.url}/repos/{repo['owner']}/{repo['name']}"
            served = items(get_all(session, name + "/issues", state="all", per_page=100))
            mine = {i["number"]: i for i in world["issues"] if i["repo_id"] == repo["id"]}
            assert {i["number"]: i["state"] for i in served} == {n: i["state"] for n, i in mine.items()}
            assert {i["number"]: i["user"]["login"] if i["user"] else None for i in served} == {
                n: logins.get(i["user_id"]) for n, i in mine.items()}
            comments = items(get_all(session, name + "/issues/comments", per_page=100))
            assert sorted((c["id"], c["body"]) for c in comments) == sorted(
                (c["id"], c["body"] or "") for c in world["issue_comments"] if c["repo_id"] == repo["id"])


def test_serve_helper_reports_why_the_server_did_not_start(tmp_path):
    path = tmp_path / "world.json"
    path.write_text("{}")
    with pytest.raises(RuntimeError, match="format must be 1"):
        with serve(path):
            pass


def test_busy_port_is_exit_2(hub):
    port = hub.url.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "serve", str(WORLD), "--port", port],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--port" in result.stderr and "Traceback" not in result.stderr


def test_concurrent_clients_while_a_delta_lands():
    from concurrent.futures import ThreadPoolExecutor

    paths = [f"/repos/civic/site/issues?state=all&per_page=5&page={i % 8 + 1}" for i in range(120)]
    paths += [f"/repos/civic/site/pulls/{3 * (i % 11 + 1)}" for i in range(60)]
    with serve(WORLD, rate_limit=100000) as running:

        def fetch(path: str) -> tuple[int, int]:
            with requests.Session() as session:
                response = session.get(running.url + path, headers={"Authorization": "token many"})
                response.json()  # complete, parseable
                return response.status_code, int(response.headers["X-RateLimit-Used"])

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(fetch, path) for path in paths]
            running.apply_delta(DELTA)
            results = [future.result() for future in futures]
        assert {status for status, _ in results} == {200}
        # every request took exactly one unit: no two answers report the same count
        assert sorted(used for _, used in results) == list(range(1, len(paths) + 1))
        stderr = (Path(running.log_path).parent / "stderr.txt")
        assert not stderr.exists() or "Traceback" not in stderr.read_text()


def test_world_folder_is_accepted_and_a_missing_file_named(tmp_path):
    folder = tmp_path / "gen"
    folder.mkdir()
    result = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "serve", str(folder)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "without world.json.gz" in result.stderr
    missing = tmp_path / "nope.json"
    result = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "serve", str(missing)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and str(missing) in result.stderr and "Traceback" not in result.stderr
    import gzip
    (folder / "world.json.gz").write_bytes(gzip.compress(WORLD.read_bytes()))
    with serve(folder) as running:
        assert requests.get(running.url + "/repos/civic/site").json()["id"] == 200


def test_repo_events_embed_the_same_issue_the_issues_listing_serves(hub):
    session = requests.Session()
    listed = {i["number"]: i for i in items(get_all(session, hub.url + "/repos/civic/site/issues",
                                                    state="all", per_page=100))}
    events = items(get_all(session, hub.url + "/repos/civic/site/issues/events", per_page=100))
    assert [e["id"] for e in events] == sorted((e["id"] for e in RAW["issue_events"] if e["repo_id"] == 200),
                                               reverse=True)
    by_id = {e["id"]: e for e in RAW["issue_events"]}
    for event in events:
        assert event["issue"] == listed[by_id[event["id"]]["issue_number"]]
        assert event["event"] == by_id[event["id"]]["event"]


def test_pulls_embed_the_repo_as_the_org_listing_serves_it(hub):
    listed = next(r for r in requests.get(hub.url + "/orgs/civic/repos").json() if r["name"] == "site")
    for pull in requests.get(hub.url + "/repos/civic/site/pulls?state=all").json() + [
            requests.get(hub.url + "/repos/civic/site/pulls/3").json()]:
        assert pull["head"]["repo"] == listed and pull["base"]["repo"] == listed
        assert pull["head"]["ref"].startswith("feature-") and pull["base"]["ref"] == "main"



def http_date(iso: str) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` as an HTTP ``Date`` header writes it."""
    return format_datetime(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), usegmt=True)


def test_world_clock_dates_answers_at_the_worlds_now_until_a_delta_moves_it():
    delta = json.loads(DELTA.read_text())
    token = {"Authorization": "token t1"}
    with serve(WORLD, clock="world", rate_window=30) as running:
        first = requests.get(running.url + "/repos/civic/site", headers=token)
        assert first.headers["Date"] == http_date(RAW["now"])
        assert requests.get(running.url + "/rate_limit", headers=token).headers["Date"] == first.headers["Date"]
        # rate-limit resets stay on the wall clock: within the 30 s window from now
        assert time.time() - 5 <= int(first.headers["X-RateLimit-Reset"]) <= time.time() + 35
        running.apply_delta(DELTA)
        moved = requests.get(running.url + "/repos/civic/site", headers=token)
        assert moved.headers["Date"] == http_date(delta["now"])
    with serve(WORLD) as wall:  # the default: real time, as GitHub sends it
        sent = parsedate_to_datetime(requests.get(wall.url + "/").headers["Date"])
        assert abs(sent.timestamp() - time.time()) < 60
