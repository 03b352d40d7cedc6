"""fakehub's GraphQL endpoint over real HTTP: records, cursors, errors, points and limits.

Expected records come from the fixture world's JSON and from the REST endpoints of the same
running server; expected costs are GitHub's published formula worked by hand in each test
("Rate limits and node limits for the GraphQL API": requests = product of the parents'
``first``, points = requests / 100 rounded, at least 1; nodes = product including the
connection's own ``first``). Every query sent here is first checked against GitHub's schema
read in place from ../shared.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import requests

from graphminer.fakehub.testing import serve

FIXTURES = Path(__file__).parent / "fixtures"
WORLD = FIXTURES / "fakehub-small.json"
RAW = json.loads(WORLD.read_text())
SHARED_SCHEMA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "github-api" / "graphql" / "schema.graphql.gz"
PACKAGED_SCHEMA = Path(__file__).resolve().parents[1] / "graphminer" / "data" / "github-graphql" / "schema.graphql.gz"
TOKEN = {"Authorization": "token t1"}
TIMELINE_TYPES = {"labeled": "LabeledEvent", "assigned": "AssignedEvent", "milestoned": "MilestonedEvent",
                  "closed": "ClosedEvent", "reopened": "ReopenedEvent", "merged": "MergedEvent"}

ACTOR = "login ... on User { databaseId } ... on Bot { databaseId }"
EVENT = f"""__typename
  ... on LabeledEvent {{ id createdAt actor {{ {ACTOR} }} label {{ name }} }}
  ... on AssignedEvent {{ id createdAt actor {{ {ACTOR} }} assignee {{ ... on User {{ login }} }} }}
  ... on MilestonedEvent {{ id createdAt actor {{ {ACTOR} }} milestoneTitle }}
  ... on ClosedEvent {{ id createdAt actor {{ {ACTOR} }} stateReason }}
  ... on ReopenedEvent {{ id createdAt actor {{ {ACTOR} }} }}"""
ITEM_FIELDS = f"""id databaseId number title state createdAt updatedAt closedAt
  author {{ {ACTOR} }}
  labels(first: 100) {{ pageInfo {{ hasNextPage }} nodes {{ name }} }}
  assignees(first: 100) {{ pageInfo {{ hasNextPage }} nodes {{ login databaseId }} }}
  comments(first: 100) {{ pageInfo {{ hasNextPage }}
    nodes {{ id databaseId fullDatabaseId author {{ {ACTOR} }} createdAt updatedAt body }} }}"""
ISSUES_QUERY = f"""
query Issues($owner: String!, $name: String!, $after: String) {{
  repository(owner: $owner, name: $name) {{
    databaseId id nameWithOwner
    issues(first: 4, after: $after, orderBy: {{field: UPDATED_AT, direction: ASC}}) {{
      totalCount pageInfo {{ hasNextPage endCursor }}
      nodes {{ fullDatabaseId stateReason {ITEM_FIELDS}
        timelineItems(first: 100, itemTypes: [LABELED_EVENT, ASSIGNED_EVENT, MILESTONED_EVENT,
                                              CLOSED_EVENT, REOPENED_EVENT]) {{
          pageInfo {{ hasNextPage }} nodes {{ {EVENT} }} }} }}
    }}
  }}
}}"""
PULLS_QUERY = f"""
query Pulls($owner: String!, $name: String!, $after: String) {{
  repository(owner: $owner, name: $name) {{
    pullRequests(first: 3, after: $after, orderBy: {{field: UPDATED_AT, direction: ASC}}) {{
      totalCount pageInfo {{ hasNextPage endCursor }}
      nodes {{ fullDatabaseId {ITEM_FIELDS}
        mergedAt mergedBy {{ login }} mergeCommit {{ oid }}
        reviews(first: 100) {{ pageInfo {{ hasNextPage }}
          nodes {{ id databaseId fullDatabaseId state submittedAt author {{ {ACTOR} }}
            comments(first: 100) {{ pageInfo {{ hasNextPage }}
              nodes {{ id fullDatabaseId createdAt updatedAt author {{ login }} }} }} }} }}
        reviewThreads(first: 100) {{ nodes {{ comments(first: 100) {{ nodes {{ fullDatabaseId }} }} }} }}
        timelineItems(first: 100, itemTypes: [LABELED_EVENT, ASSIGNED_EVENT, MILESTONED_EVENT,
                                              CLOSED_EVENT, REOPENED_EVENT, MERGED_EVENT]) {{
          pageInfo {{ hasNextPage }}
          nodes {{ {EVENT} ... on MergedEvent {{ id createdAt actor {{ {ACTOR} }} commit {{ oid }} }} }} }} }}
    }}
  }}
}}"""


def shared_schema():
    if not SHARED_SCHEMA.is_file():
        pytest.skip(f"GitHub's GraphQL schema is not at {SHARED_SCHEMA} (../shared is absent)")
    from graphql import build_schema
    schema = build_schema(gzip.decompress(SHARED_SCHEMA.read_bytes()).decode(), assume_valid_sdl=True)
    schema._validation_errors = []
    return schema


@pytest.fixture(scope="module")
def github_schema():
    return shared_schema()


@pytest.fixture(scope="module")
def hub():
    with serve(WORLD) as running:
        yield running


def post(hub, query: str, variables: dict | None = None, headers: dict | None = None,
         path: str = "/graphql") -> requests.Response:
    return requests.post(hub.url + path, json={"query": query, "variables": variables or {}},
                         headers=TOKEN if headers is None else headers, timeout=60)


def valid(schema, query: str) -> str:
    """The query, after checking it against GitHub's schema (so the tests ask what GitHub would answer)."""
    from graphql import parse, validate
    errors = validate(schema, parse(query))
    assert not errors, errors
    return query


def every_page(hub, query: str, connection: str, variables: dict) -> tuple[list[dict], list[dict]]:
    """(every node, every page's repository object) of a top-level repository connection."""
    nodes, pages, after = [], [], None
    while True:
        answer = post(hub, query, {**variables, "after": after})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert "errors" not in body, body["errors"]
        repository = body["data"]["repository"]
        pages.append(repository)
        nodes += repository[connection]["nodes"]
        info = repository[connection]["pageInfo"]
        if not info["hasNextPage"]:
            return nodes, pages
        after = info["endCursor"]


def rest_all(hub, path: str, **params) -> list[dict]:
    records, url = [], hub.url + path
    params = {"per_page": 100, **params}
    while url:
        response = requests.get(url, params=params, headers=TOKEN, timeout=60)
        assert response.status_code == 200, response.text
        records += response.json()
        url, params = response.links.get("next", {}).get("url"), None
    return records


def login_of(user_id: int | None) -> str | None:
    """A login as GitHub's GraphQL gives it: a bot's without the ``[bot]`` of REST."""
    logins = {u["id"]: u["login"] for u in RAW["users"]}
    return None if user_id is None else logins[user_id].removesuffix("[bot]")


# -- the schema --------------------------------------------------------------------------


def test_packaged_schema_is_githubs_published_one():
    if not SHARED_SCHEMA.is_file():
        pytest.skip(f"no ../shared schema at {SHARED_SCHEMA}")
    assert gzip.decompress(PACKAGED_SCHEMA.read_bytes()) == gzip.decompress(SHARED_SCHEMA.read_bytes())
    assert (PACKAGED_SCHEMA.parent / "LICENSE.md").is_file()


# -- records -----------------------------------------------------------------------------


def test_issues_with_comments_and_timeline_are_the_worlds_and_rests(hub, github_schema):
    query = valid(github_schema, ISSUES_QUERY)
    nodes, pages = every_page(hub, query, "issues", {"owner": "civic", "name": "site"})
    world_issues = [i for i in RAW["issues"] if i["repo_id"] == 200 and not i.get("pull_request")]
    assert sorted(n["databaseId"] for n in nodes) == sorted(i["id"] for i in world_issues)
    assert len(pages) == -(-len(world_issues) // 4)  # pages of 4
    assert pages[0]["databaseId"] == 200 and pages[0]["nameWithOwner"] == "civic/site"
    assert all(n["fullDatabaseId"] == str(n["databaseId"]) for n in nodes)
    # the same records as the REST endpoints of the same server
    rest = {i["id"]: i for i in rest_all(hub, "/repos/civic/site/issues", state="all") if "pull_request" not in i}
    assert set(rest) == {n["databaseId"] for n in nodes}
    for node in nodes:
        record = rest[node["databaseId"]]
        assert node["id"] == record["node_id"]
        assert (node["number"], node["title"], node["state"], node["createdAt"], node["updatedAt"], node["closedAt"]) == (
            record["number"], record["title"], record["state"].upper(), record["created_at"],
            record["updated_at"], record["closed_at"])
        assert node["stateReason"] == (record["state_reason"].upper() if record["state_reason"] else None)
        assert node["author"]["login"] == record["user"]["login"].removesuffix("[bot]")
        assert node["author"]["databaseId"] == record["user"]["id"]
        assert [label["name"] for label in node["labels"]["nodes"]] == [label["name"] for label in record["labels"]]
        assert [a["databaseId"] for a in node["assignees"]["nodes"]] == [a["id"] for a in record["assignees"]]
    # updatedAt ascending, as asked
    assert [n["updatedAt"] for n in nodes] == sorted(n["updatedAt"] for n in nodes)
    # comments: the world's, with REST's ids and node ids
    comments = [c for n in nodes for c in n["comments"]["nodes"]]
    issue_numbers = {i["number"] for i in world_issues}
    world_comments = {c["id"]: c for c in RAW["issue_comments"] if c["repo_id"] == 200 and c["issue_number"] in issue_numbers}
    assert sorted(c["databaseId"] for c in comments) == sorted(world_comments)
    rest_comments = {c["id"]: c for c in rest_all(hub, "/repos/civic/site/issues/comments")}
    for comment in comments:
        world = world_comments[comment["databaseId"]]
        assert comment["id"] == rest_comments[comment["databaseId"]]["node_id"]
        assert (comment["createdAt"], comment["updatedAt"], comment["body"], comment["author"]["login"]) == (
            world["created_at"], world["updated_at"], world["body"], login_of(world["user_id"]))
    # timeline events of the five issue types: the world's, keyed by REST's node_id
    events = [(n["number"], e) for n in nodes for e in n["timelineItems"]["nodes"]]
    expected = Counter((e["issue_number"], TIMELINE_TYPES[e["event"]], e["created_at"], login_of(e["actor_id"]))
                       for e in RAW["issue_events"] if e["repo_id"] == 200 and e["issue_number"] in issue_numbers
                       and e["event"] in TIMELINE_TYPES)
    assert Counter((number, e["__typename"], e["createdAt"], e["actor"]["login"]) for number, e in events) == expected
    assert sum(expected.values()) > 0
    rest_events = {e["node_id"]: e for e in rest_all(hub, "/repos/civic/site/issues/events")}
    for number, event in events:
        assert rest_events[event["id"]]["issue"]["number"] == number
        assert TIMELINE_TYPES[rest_events[event["id"]]["event"]] == event["__typename"]
    # nothing was cut: every nested list fit in its page
    assert not any(n[key]["pageInfo"]["hasNextPage"] for n in nodes
                   for key in ("labels", "assignees", "comments", "timelineItems"))


def test_pull_requests_with_reviews_and_review_comments_are_the_worlds_and_rests(hub, github_schema):
    query = valid(github_schema, PULLS_QUERY)
    nodes, _ = every_page(hub, query, "pullRequests", {"owner": "civic", "name": "site"})
    world_pulls = {i["number"]: i for i in RAW["issues"] if i["repo_id"] == 200 and i.get("pull_request")}
    rest = {p["number"]: p for p in rest_all(hub, "/repos/civic/site/pulls", state="all")}
    assert sorted(n["number"] for n in nodes) == sorted(world_pulls) == sorted(rest)
    for node in nodes:
        pull, world = rest[node["number"]], world_pulls[node["number"]]["pull_request"]
        assert (node["databaseId"], node["id"]) == (pull["id"], pull["node_id"])
        assert node["mergedAt"] == world["merged_at"] == pull["merged_at"]
        assert node["state"] == ("MERGED" if world["merged_at"] else pull["state"].upper())
        if world["merged_at"]:
            assert node["mergeCommit"]["oid"] == world["merge_commit_sha"]
            assert node["mergedBy"]["login"] == login_of(world["merged_by_id"])
        else:
            assert node["mergeCommit"] is None and node["mergedBy"] is None
    # reviews and their comments: the world's, with REST's ids
    reviews = [r for n in nodes for r in n["reviews"]["nodes"]]
    world_reviews = {r["id"]: r for r in RAW["reviews"] if r["repo_id"] == 200}
    assert sorted(r["databaseId"] for r in reviews) == sorted(world_reviews)
    for node in nodes:
        rest_reviews = requests.get(f"{hub.url}/repos/civic/site/pulls/{node['number']}/reviews",
                                    params={"per_page": 100}, headers=TOKEN, timeout=60).json()
        assert [(r["databaseId"], r["id"], r["state"], r["submittedAt"]) for r in node["reviews"]["nodes"]] == [
            (r["id"], r["node_id"], r["state"], r["submitted_at"]) for r in rest_reviews]
    review_comments = [c for r in reviews for c in r["comments"]["nodes"]]
    world_review_comments = {c["id"] for c in RAW["review_comments"] if c["repo_id"] == 200}
    assert sorted(int(c["fullDatabaseId"]) for c in review_comments) == sorted(world_review_comments)
    threaded = [c for n in nodes for t in n["reviewThreads"]["nodes"] for c in t["comments"]["nodes"]]
    assert sorted(int(c["fullDatabaseId"]) for c in threaded) == sorted(world_review_comments)
    rest_review_comments = {c["id"]: c for c in rest_all(hub, "/repos/civic/site/pulls/comments")}
    assert {c["id"] for c in review_comments} == {rest_review_comments[int(c["fullDatabaseId"])]["node_id"]
                                                  for c in review_comments}
    # timeline events, merged included
    events = Counter((n["number"], e["__typename"], e["createdAt"], e["actor"]["login"])
                     for n in nodes for e in n["timelineItems"]["nodes"])
    expected = Counter((e["issue_number"], TIMELINE_TYPES[e["event"]], e["created_at"], login_of(e["actor_id"]))
                       for e in RAW["issue_events"] if e["repo_id"] == 200 and e["issue_number"] in world_pulls
                       and e["event"] in TIMELINE_TYPES)
    assert events == expected and any(kind == "MergedEvent" for _, kind, _, _ in expected)


def test_organization_lists_its_repositories(hub, github_schema):
    query = valid(github_schema, """query { organization(login: "civic") {
        databaseId repositories(first: 100) { totalCount nodes { databaseId nameWithOwner } } } }""")
    body = post(hub, query).json()
    civic = next(o for o in RAW["orgs"] if o["login"] == "civic")
    expected = sorted(r["id"] for r in RAW["repos"] if r["owner"] == "civic")
    repos = body["data"]["organization"]["repositories"]
    assert body["data"]["organization"]["databaseId"] == civic["id"]
    assert sorted(r["databaseId"] for r in repos["nodes"]) == expected and repos["totalCount"] == len(expected)


def test_cursor_paging_visits_every_item_once_and_last_pages_backwards(hub, github_schema):
    query = valid(github_schema, """query($after: String, $before: String, $first: Int, $last: Int) {
        repository(owner: "civic", name: "site") {
          issues(first: $first, after: $after, last: $last, before: $before) {
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { number } } } } }""")
    world_numbers = sorted(i["number"] for i in RAW["issues"] if i["repo_id"] == 200 and not i.get("pull_request"))
    seen, after = [], None
    while True:
        connection = post(hub, query, {"first": 5, "after": after}).json()["data"]["repository"]["issues"]
        seen += [edge["node"]["number"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        after = connection["pageInfo"]["endCursor"]
    assert sorted(seen) == world_numbers and len(seen) == len(set(seen))
    backwards, before = [], None
    while True:
        connection = post(hub, query, {"last": 7, "before": before}).json()["data"]["repository"]["issues"]
        backwards = [edge["node"]["number"] for edge in connection["edges"]] + backwards
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert backwards == seen
    # a nested list, one item a page, through issue(number)
    counts = Counter(c["issue_number"] for c in RAW["issue_comments"] if c["repo_id"] == 200)
    number = max(counts, key=counts.get)
    nested = valid(github_schema, """query($number: Int!, $after: String) {
        repository(owner: "civic", name: "site") { issueOrPullRequest(number: $number) {
          ... on Issue { comments(first: 1, after: $after) { pageInfo { hasNextPage endCursor } nodes { databaseId } } }
          ... on PullRequest { comments(first: 1, after: $after) { pageInfo { hasNextPage endCursor } nodes { databaseId } } } } } }""")
    comment_ids, after = [], None
    while True:
        comments = post(hub, nested, {"number": number, "after": after}).json()["data"]["repository"][
            "issueOrPullRequest"]["comments"]
        comment_ids += [c["databaseId"] for c in comments["nodes"]]
        if not comments["pageInfo"]["hasNextPage"]:
            break
        after = comments["pageInfo"]["endCursor"]
    assert counts[number] > 1
    assert comment_ids == sorted(c["id"] for c in RAW["issue_comments"] if c["repo_id"] == 200 and c["issue_number"] == number)
    bad = post(hub, query, {"first": 5, "after": "not-a-cursor"}).json()
    assert bad["errors"][0]["type"] == "INVALID_CURSOR_ARGUMENTS"


# -- GitHub's refusals -------------------------------------------------------------------


def test_unknown_field_is_refused_with_githubs_error_before_running(hub):
    before = hub.stats()["by_token"].get("t1", {}).get("counted", 0)
    query = '{ repository(owner: "civic", name: "site") { nameWithOwner colour } }'
    answer = post(hub, query, path="/api/graphql")
    assert answer.status_code == 200
    body = answer.json()
    assert "data" not in body
    assert body["errors"] == [{
        "path": ["query", "repository", "colour"],
        "extensions": {"code": "undefinedField", "typeName": "Repository", "fieldName": "colour"},
        "locations": [{"line": 1, "column": query.index("colour") + 1}],
        "message": "Field 'colour' doesn't exist on type 'Repository'"}]
    assert answer.headers["X-RateLimit-Resource"] == "graphql"
    assert hub.stats()["by_token"]["t1"]["counted"] == before  # refused queries cost nothing


def test_connections_need_first_or_last_up_to_100(hub, github_schema):
    missing = valid(github_schema, '{ repository(owner: "civic", name: "site") { issues { nodes { number } } } }')
    error = post(hub, missing).json()["errors"][0]
    assert error["type"] == "MISSING_PAGINATION_BOUNDARIES" and error["path"] == ["repository", "issues"]
    assert "`issues` connection" in error["message"]
    too_many = valid(github_schema, '{ repository(owner: "civic", name: "site") { issues(first: 101) { nodes { number } } } }')
    error = post(hub, too_many).json()["errors"][0]
    assert error["type"] == "EXCESSIVE_PAGINATION" and "101" in error["message"]
    # totalCount alone needs no page size, as on GitHub
    count = valid(github_schema, '{ repository(owner: "civic", name: "site") { issues { totalCount } } }')
    expected = sum(1 for i in RAW["issues"] if i["repo_id"] == 200 and not i.get("pull_request"))
    assert post(hub, count).json()["data"]["repository"]["issues"]["totalCount"] == expected


def test_unknown_repository_and_missing_token(hub):
    body = post(hub, '{ repository(owner: "civic", name: "nope") { id } }').json()
    assert body["data"] == {"repository": None} and body["errors"][0]["type"] == "NOT_FOUND"
    assert post(hub, "{ rateLimit { cost } }", headers={}).status_code == 401


# -- points ------------------------------------------------------------------------------

# GitHub's documented example, on an organization and with a fragment:
# requests 1 (repositories) + 100 (issues, once per repo) + 100*50 (labels, once per issue) = 5,101
# -> 51 points; nodes 100 + 100*50 + 100*50*60 = 305,100
DOC_EXAMPLE = """query { rateLimit { cost nodeCount }
  organization(login: "civic") { repositories(first: 100) { nodes { ...Issues } } } }
fragment Issues on Repository { issues(first: 50) { nodes { labels(first: 60) { nodes { name } } } } }"""
# requests 1 + 100 (issues) + 100 (pullRequests) + 100*40 (comments) = 4,201 -> 42 points;
# nodes 100 + 4,000 + 500 + 4,000 = 8,600
MIXED = """query($issues: Int = 40) { rateLimit { cost nodeCount }
  organization(login: "civic") { repositories(first: 100) { nodes {
    issues(first: $issues) { nodes { comments(first: 1) { nodes { id } } } }
    pullRequests(last: 5) { nodes { id } } } } } }"""


def test_cost_is_githubs_formula(hub, github_schema):
    for query, variables, points, nodes in ((DOC_EXAMPLE, {}, 51, 305_100), (MIXED, {}, 42, 8_600),
                                            (MIXED, {"issues": 10}, 12, 100 + 1_000 + 500 + 1_000),
                                            ("query { rateLimit { cost nodeCount } }", {}, 1, 0)):
        valid(github_schema, query)
        used_before = int(post(hub, "query { rateLimit { used } }").json()["data"]["rateLimit"]["used"])
        answer = post(hub, query, variables)
        assert answer.json()["data"]["rateLimit"] == {"cost": points, "nodeCount": nodes}, query
        assert int(answer.headers["X-RateLimit-Used"]) == used_before + points


def test_node_limit_refuses_before_running(hub, github_schema):
    # nodes: 100 repos + 100*100 issues + 100*100*100 comments = 1,010,100 > 500,000
    query = valid(github_schema, """{ organization(login: "civic") { repositories(first: 100) { nodes {
        issues(first: 100) { nodes { comments(first: 100) { nodes { id } } } } } } } }""")
    before = hub.stats()["by_token"]["t1"]["counted"]
    body = post(hub, query).json()
    assert body["errors"][0]["type"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert "1,010,100" in body["errors"][0]["message"] and "500,000" in body["errors"][0]["message"]
    assert "data" not in body and hub.stats()["by_token"]["t1"]["counted"] == before


def test_log_line_names_query_variables_and_cost(hub):
    query = "query($n: String!) { rateLimit { cost } repository(owner: \"civic\", name: $n) { databaseId } }"
    assert post(hub, query, {"n": "site"}).status_code == 200
    line = hub.log_lines()[-1]
    assert (line["method"], line["path"], line["status"], line["token"], line["counted"]) == (
        "POST", "/graphql", 200, "t1", True)
    assert line["graphql"] == {"query": query, "variables": {"n": "site"}, "cost": 1}


# -- limits ------------------------------------------------------------------------------


def test_points_window_headers_weight_502_and_exhaustion(github_schema):
    heavy = valid(github_schema, """{ organization(login: "civic") { repositories(first: 100) { nodes {
        issues(first: 100) { nodes { labels(first: 40) { nodes { name } } } } } } } }""")  # 410,100 nodes
    smaller = valid(github_schema, """{ rateLimit { cost remaining } organization(login: "civic") {
        repositories(first: 10) { nodes { issues(first: 100) { nodes { number } } } } } }""")  # 1,010 nodes
    with serve(WORLD, graphql_rate_limit=60, graphql_max_weight=400_000) as limited:
        refused = post(limited, heavy)
        assert refused.status_code == 502 and refused.json()["errors"][0]["message"].startswith("Something went wrong")
        assert refused.headers["X-RateLimit-Used"] == "0"  # a timeout is not charged
        done = post(limited, smaller)
        assert done.status_code == 200 and done.json()["data"]["rateLimit"] == {"cost": 1, "remaining": 59}
        reset_at = post(limited, "{ rateLimit { resetAt } }").json()["data"]["rateLimit"]["resetAt"]
        assert datetime.fromisoformat(reset_at.replace("Z", "+00:00")).timestamp() == int(done.headers["X-RateLimit-Reset"])
        assert {key: done.headers[f"X-RateLimit-{key}"] for key in ("Limit", "Remaining", "Used", "Resource")} == {
            "Limit": "60", "Remaining": "59", "Used": "1", "Resource": "graphql"}
        assert post(limited, DOC_EXAMPLE).headers["X-RateLimit-Remaining"] == "7"  # 60 - 1 - 1 - 51
        exhausted = post(limited, DOC_EXAMPLE)
        assert exhausted.status_code == 200 and exhausted.json()["errors"][0]["type"] == "RATE_LIMITED"
        assert exhausted.headers["X-RateLimit-Remaining"] == "7"
        # REST keeps its own budget
        rest = requests.get(limited.url + "/repos/civic/site", headers=TOKEN, timeout=60)
        assert (rest.headers["X-RateLimit-Resource"], rest.headers["X-RateLimit-Used"]) == ("core", "1")
        # another token has its own points
        assert post(limited, smaller, headers={"Authorization": "token t2"}).headers["X-RateLimit-Used"] == "1"


def test_secondary_limit_answers_403_with_retry_after(github_schema):
    valid(github_schema, DOC_EXAMPLE)
    with serve(WORLD, graphql_secondary_limit=60) as limited:
        assert post(limited, DOC_EXAMPLE).status_code == 200  # 51 points this minute
        refused = post(limited, DOC_EXAMPLE)  # 102 > 60
        assert refused.status_code == 403 and "secondary rate limit" in refused.json()["message"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert post(limited, "{ rateLimit { used } }").json()["data"]["rateLimit"]["used"] == 52  # 51 + 1 fits


def test_seeded_faults_hit_graphql_requests_too():
    with serve(WORLD, faults="error=1.0,seed=3") as faulty:
        answers = [post(faulty, "{ rateLimit { cost } }") for _ in range(3)]
        assert {a.status_code for a in answers} <= {500, 502, 503}
        assert [line.get("fault") for line in faulty.log_lines()] == ["error"] * 3
        assert all(line["graphql"] == {"query": "{ rateLimit { cost } }", "variables": {}, "cost": 0}
                   for line in faulty.log_lines())
        assert faulty.stats()["counted"] == 0


# -- a generated world -------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_world(tmp_path_factory) -> Path:
    from graphminer.fakehub.generator import generate_world
    return generate_world(tmp_path_factory.mktemp("gql") / "w", seed=11, orgs=2, repos_per_org=3,
                          makers=80, years=2, truth=False)["world"]


def test_generated_world_reads_the_same_records_as_rest(generated_world, github_schema):
    valid(github_schema, ISSUES_QUERY)
    valid(github_schema, PULLS_QUERY)
    world = json.loads(gzip.decompress(Path(generated_world).read_bytes()))
    users = {u["id"]: u["login"] for u in world["users"]}
    with serve(generated_world) as generated:
        for org in (o["login"] for o in world["orgs"] if not o.get("outside")):
            listed = post(generated, valid(github_schema, f"""{{ organization(login: "{org}") {{
                repositories(first: 100) {{ nodes {{ databaseId name }} }} }} }}""")).json()
            repos = listed["data"]["organization"]["repositories"]["nodes"]
            assert sorted(r["databaseId"] for r in repos) == sorted(r["id"] for r in world["repos"] if r["owner"] == org)
            for repo in repos:
                names = {"owner": org, "name": repo["name"]}
                issues, _ = every_page(generated, ISSUES_QUERY, "issues", names)
                pulls, _ = every_page(generated, PULLS_QUERY, "pullRequests", names)
                rest_issues = rest_all(generated, f"/repos/{org}/{repo['name']}/issues", state="all")
                rest_pulls = rest_all(generated, f"/repos/{org}/{repo['name']}/pulls", state="all")
                assert sorted((n["databaseId"], n["id"], n["updatedAt"]) for n in issues) == sorted(
                    (i["id"], i["node_id"], i["updated_at"]) for i in rest_issues if "pull_request" not in i)
                assert sorted((n["databaseId"], n["id"], n["mergedAt"]) for n in pulls) == sorted(
                    (p["id"], p["node_id"], p["merged_at"]) for p in rest_pulls)
                items = issues + pulls
                rest_comments = rest_all(generated, f"/repos/{org}/{repo['name']}/issues/comments")
                assert sorted((c["databaseId"], c["id"]) for n in items for c in n["comments"]["nodes"]) == sorted(
                    (c["id"], c["node_id"]) for c in rest_comments)
                rest_events = rest_all(generated, f"/repos/{org}/{repo['name']}/issues/events")
                assert sorted((e["id"], e["__typename"], e["actor"]["login"] if e["actor"] else None)
                              for n in items for e in n["timelineItems"]["nodes"]) == sorted(
                    (e["node_id"], TIMELINE_TYPES[e["event"]], e["actor"]["login"].removesuffix("[bot]") if e["actor"] else None)
                    for e in rest_events if e["event"] in TIMELINE_TYPES)
                repo_id = repo["databaseId"]
                assert sorted(r["databaseId"] for n in pulls for r in n["reviews"]["nodes"]) == sorted(
                    r["id"] for r in world["reviews"] if r["repo_id"] == repo_id)
                assert sorted(int(c["fullDatabaseId"]) for n in pulls for r in n["reviews"]["nodes"]
                              for c in r["comments"]["nodes"]) == sorted(
                    c["id"] for c in world["review_comments"] if c["repo_id"] == repo_id and c.get("review_id"))
                assert all(n["author"] is None or n["author"]["login"] in {v.removesuffix("[bot]") for v in users.values()}
                           for n in items)


def test_serving_rest_does_not_load_graphql_core():
    # fakehub must start fast; graphql-core and the schema load at the first GraphQL request
    probe = ("import sys, graphminer.fakehub.serve_cli, graphminer.fakehub.server, "
             "graphminer.fakehub.graphql_endpoint; print('graphql' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_spent_points_come_back_when_the_window_resets():
    """On the hub's clock, moved past the reset by the test (no wall-clock window that a
    busy machine could let lapse between two queries)."""
    with serve(WORLD, graphql_rate_limit=1, rate_window=3600) as limited:
        first = post(limited, "{ rateLimit { remaining resetAt } }")
        assert first.json()["data"]["rateLimit"]["remaining"] == 0
        assert post(limited, "{ rateLimit { remaining } }").json()["errors"][0]["type"] == "RATE_LIMITED"
        limited.advance_clock(3601)
        again = post(limited, "{ rateLimit { remaining } }")
        assert again.json()["data"]["rateLimit"]["remaining"] == 0
        assert int(again.headers["X-RateLimit-Reset"]) > int(first.headers["X-RateLimit-Reset"])


# -- releases ----------------------------------------------------------------------------

RELEASES_QUERY = """
query Releases($owner: String!, $name: String!, $after: String, $first: Int!) {
  repository(owner: $owner, name: $name) {
    releases(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id databaseId tagName name createdAt publishedAt isDraft isPrerelease
        author { login databaseId } tagCommit { oid } } } } }"""


def releases_as_rest_gives_them(node: dict) -> tuple:
    return (node["databaseId"], node["id"], node["tagName"], node["name"], node["createdAt"],
            node["publishedAt"], node["isDraft"], node["isPrerelease"],
            (node["author"] or {}).get("databaseId"))


def test_releases_are_rests_newest_first_and_page_by_cursor(hub, github_schema):
    """The fixture's three releases one a page (cursors), newest first, with REST's fields
    (REST promises no order: the fixture serves them shuffled)."""
    valid(github_schema, RELEASES_QUERY)
    nodes, pages = every_page(hub, RELEASES_QUERY, "releases", {"owner": "civic", "name": "site", "first": 1})
    rest = sorted(rest_all(hub, "/repos/civic/site/releases"), key=lambda r: r["created_at"], reverse=True)
    assert len(pages) == len(rest) == 3 and all(p["releases"]["totalCount"] == 3 for p in pages)
    assert [releases_as_rest_gives_them(n) for n in nodes] == [
        (r["id"], r["node_id"], r["tag_name"], r["name"], r["created_at"], r["published_at"],
         r["draft"], r["prerelease"], r["author"]["id"]) for r in rest]
    ascending = RELEASES_QUERY.replace("DESC", "ASC")
    oldest_first, _ = every_page(hub, ascending, "releases", {"owner": "civic", "name": "site", "first": 2})
    assert [n["databaseId"] for n in oldest_first] == [r["id"] for r in reversed(rest)]


def test_generated_world_releases_are_rests(generated_world, github_schema):
    world = json.loads(gzip.decompress(Path(generated_world).read_bytes()))
    with serve(generated_world) as generated:
        for repo in (r for r in world["repos"] if not r.get("fork")):
            names = {"owner": repo["owner"], "name": repo["name"], "first": 100}
            nodes, pages = every_page(generated, RELEASES_QUERY, "releases", names)
            rest = rest_all(generated, f"/repos/{repo['owner']}/{repo['name']}/releases")
            assert pages[0]["releases"]["totalCount"] == len(rest)
            assert sorted(map(releases_as_rest_gives_them, nodes)) == sorted(
                (r["id"], r["node_id"], r["tag_name"], r["name"], r["created_at"], r["published_at"],
                 r["draft"], r["prerelease"], (r["author"] or {}).get("id")) for r in rest)


TIMELINE_WITH_COMMENTS = """
query Timeline($owner: String!, $name: String!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: 100, after: $after) { pageInfo { hasNextPage endCursor }
      nodes { number timelineItems(first: 100, itemTypes: [ISSUE_COMMENT, PULL_REQUEST_REVIEW, LABELED_EVENT]) {
        pageInfo { hasNextPage } nodes { __typename
          ... on IssueComment { databaseId createdAt } ... on PullRequestReview { databaseId submittedAt }
          ... on LabeledEvent { createdAt } } } } } } }"""


def test_timeline_items_hold_comments_and_reviews_in_date_order(generated_world, github_schema):
    """A pull request's timeline lists its issue comments and reviews among its events,
    oldest first, each once (the harvester reads all three in one connection)."""
    valid(github_schema, TIMELINE_WITH_COMMENTS)
    world = json.loads(gzip.decompress(Path(generated_world).read_bytes()))
    seen = 0
    with serve(generated_world) as generated:
        for repo in (r for r in world["repos"] if not r.get("fork")):
            pulls, _ = every_page(generated, TIMELINE_WITH_COMMENTS, "pullRequests",
                                  {"owner": repo["owner"], "name": repo["name"]})
            for pull in pulls:
                items = pull["timelineItems"]["nodes"]
                assert not pull["timelineItems"]["pageInfo"]["hasNextPage"]
                key = (repo["id"], pull["number"])
                assert sorted(i["databaseId"] for i in items if i["__typename"] == "IssueComment") == sorted(
                    c["id"] for c in world["issue_comments"] if (c["repo_id"], c["issue_number"]) == key)
                assert sorted(i["databaseId"] for i in items if i["__typename"] == "PullRequestReview") == sorted(
                    r["id"] for r in world["reviews"] if (r["repo_id"], r["pr_number"]) == key)
                assert sum(1 for i in items if i["__typename"] == "LabeledEvent") == sum(
                    1 for e in world["issue_events"] if (e["repo_id"], e["issue_number"]) == key and e["event"] == "labeled")
                dates = [i.get("createdAt") or i.get("submittedAt") for i in items]
                assert dates == sorted(dates)
                seen += len(items)
    assert seen > 0
