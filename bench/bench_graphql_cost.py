"""What a first harvest would cost over GraphQL: points plus the REST requests it still
needs, against the requests of a REST-only first harvest of the same world (goal <= 0.3x).

    python bench/bench_graphql_cost.py [--orgs 10 --repos-per-org 30 --makers 1500 --years 4]

An ESTIMATE until the harvester reads GraphQL: the GraphQL side is a reader written here,
shaped as the harvester's will be (issue 14), run against a real fakehub; its points are
what fakehub charged (the log's ``graphql.cost``), its REST requests what fakehub logged.
It reads, per organisation, the repositories with their issue and pull request counts;
then the issues and pull requests of several repositories per query (aliases), pages of up
to 100, each with comments, labels, assignees, timeline events (labeled, assigned,
milestoned, closed, reopened, merged) and, for pull requests, reviews; then follows up
only the nested lists longer than a page. Review comments, commits, releases and org
members stay on REST, where a repo-wide listing reads 100 of them per request (nested
under reviews in GraphQL they cost one request per review). It checks that it read every
record of the world. The REST-only side is the real harvester (``harvest_github``), its
requests counted in fakehub's log, with the floor of ``bench_harvest_common`` beside it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

import requests
from bench_harvest_common import (
    TOKEN,
    generate,
    harvest_once,
    load,
    log_since,
    request_floor,
    workdir,
)

from graphminer.fakehub.testing import serve

HEADERS = {"Authorization": f"token {TOKEN}"}
TIMELINE = "LABELED_EVENT, ASSIGNED_EVENT, MILESTONED_EVENT, CLOSED_EVENT, REOPENED_EVENT"
ACTOR = "login ... on User { databaseId } ... on Bot { databaseId }"
NESTED = {  # nested connection -> its selection
    "comments": f"comments(first: 100{{after}}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ databaseId createdAt updatedAt author {{ {ACTOR} }} }} }}",
    "labels": "labels(first: 100{after}) { pageInfo { hasNextPage endCursor } nodes { name } }",
    "assignees": "assignees(first: 100{after}) { pageInfo { hasNextPage endCursor } nodes { databaseId login } }",
    "timelineItems": (f"timelineItems(first: 100{{after}}, itemTypes: [{TIMELINE}{{merged}}]) "
                      f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ __typename ... on Node {{ id }} }} }}"),
    "reviews": f"reviews(first: 100{{after}}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ databaseId state submittedAt author {{ {ACTOR} }} }} }}",
}
ISSUE_NESTED = ("comments", "labels", "assignees", "timelineItems")
PULL_NESTED = (*ISSUE_NESTED, "reviews")
ITEM = "number databaseId title state createdAt updatedAt closedAt author { " + ACTOR + " }"
PER_QUERY_REQUESTS = 2500  # a batch's GraphQL requests (about 25 points), well under 500,000 nodes


def nested(names: tuple[str, ...], pulls: bool, after: dict[str, str] | None = None) -> str:
    after = after or {}
    return " ".join(NESTED[name].replace("{after}", f', after: "{after[name]}"' if name in after else "")
                    .replace("{merged}", ", MERGED_EVENT" if pulls else "") for name in names)


class Reader:
    """A GraphQL first read of every organisation, counting what it reads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers.update(HEADERS)
        self.read: Counter = Counter()
        self.queries = 0

    def post(self, query: str) -> dict:
        self.queries += 1
        body = self.session.post(self.url + "/graphql", json={"query": query}, timeout=300).json()
        if body.get("errors"):
            raise RuntimeError(json.dumps(body["errors"])[:500])
        return body["data"]

    def rest_pages(self, path: str) -> int:
        """Read a REST listing; returns how many items it had."""
        url, params, total = self.url + path, {"per_page": 100}, 0
        while url:
            response = self.session.get(url, params=params, timeout=300)
            total += len(response.json()) if response.status_code == 200 else 0
            url, params = response.links.get("next", {}).get("url"), None
        return total

    def repositories(self, org: str) -> list[dict]:
        repos, after = [], ""
        while True:
            data = self.post(f'{{ organization(login: "{org}") {{ repositories(first: 100{after}) {{ '
                             "pageInfo { hasNextPage endCursor } nodes { name isFork "
                             "issues { totalCount } pullRequests { totalCount } } } } }")
            page = data["organization"]["repositories"]
            repos += [{"owner": org, **node} for node in page["nodes"] if not node["isFork"]]
            if not page["pageInfo"]["hasNextPage"]:
                return repos
            after = f', after: "{page["pageInfo"]["endCursor"]}"'

    def read_all(self, orgs: list[str]) -> None:
        pending = []  # [repo, kind, remaining, after]
        for org in orgs:
            self.rest_pages(f"/orgs/{org}")
            self.rest_pages(f"/orgs/{org}/members")
            for repo in self.repositories(org):
                full = f"/repos/{org}/{repo['name']}"
                self.read["review_comments"] += self.rest_pages(f"{full}/pulls/comments")
                self.rest_pages(f"{full}/commits")
                self.rest_pages(f"{full}/releases")
                for kind, total in (("issues", repo["issues"]["totalCount"]),
                                    ("pullRequests", repo["pullRequests"]["totalCount"])):
                    if total:
                        pending.append([repo, kind, total, None])
        while pending:
            batch, requests_in_batch = [], 0
            while pending and (not batch or requests_in_batch + self._requests(pending[0]) <= PER_QUERY_REQUESTS):
                requests_in_batch += self._requests(pending[0])
                batch.append(pending.pop(0))
            pending += self._read_batch(batch)

    @staticmethod
    def _requests(job: list) -> int:
        size = min(100, job[2])
        return 1 + size * (len(PULL_NESTED) if job[1] == "pullRequests" else len(ISSUE_NESTED))

    def _read_batch(self, batch: list[list]) -> list[list]:
        parts = []
        for index, (repo, kind, remaining, after) in enumerate(batch):
            pulls = kind == "pullRequests"
            extra = " mergedAt mergedBy { login } mergeCommit { oid }" if pulls else " stateReason"
            cursor = f', after: "{after}"' if after else ""
            parts.append(f'r{index}: repository(owner: "{repo["owner"]}", name: "{repo["name"]}") {{ '
                         f"{kind}(first: {min(100, remaining)}{cursor}, orderBy: {{field: UPDATED_AT, direction: ASC}}) {{ "
                         f"pageInfo {{ hasNextPage endCursor }} nodes {{ {ITEM}{extra} "
                         f"{nested(PULL_NESTED if pulls else ISSUE_NESTED, pulls)} }} }} }}")
        data = self.post("{ " + " ".join(parts) + " }")
        again = []
        for index, (repo, kind, remaining, _) in enumerate(batch):
            connection = data[f"r{index}"][kind]
            for node in connection["nodes"]:
                self._take(repo, kind, node)
            if connection["pageInfo"]["hasNextPage"]:
                again.append([repo, kind, remaining - len(connection["nodes"]), connection["pageInfo"]["endCursor"]])
        return again

    def _take(self, repo: dict, kind: str, node: dict) -> None:
        """Count an issue or pull request and its nested lists, following up long ones."""
        pulls = kind == "pullRequests"
        self.read[kind] += 1
        names = PULL_NESTED if pulls else ISSUE_NESTED
        for name in names:
            self.read[name] += len(node[name]["nodes"])
        open_lists = {name: node[name]["pageInfo"]["endCursor"] for name in names
                      if node[name]["pageInfo"]["hasNextPage"]}
        while open_lists:
            data = self.post(f'{{ repository(owner: "{repo["owner"]}", name: "{repo["name"]}") {{ '
                             f'issueOrPullRequest(number: {node["number"]}) {{ ... on {"PullRequest" if pulls else "Issue"} '
                             f"{{ {nested(tuple(open_lists), pulls, open_lists)} }} }} }} }}")
            item = data["repository"]["issueOrPullRequest"]
            for name in list(open_lists):
                self.read[name] += len(item[name]["nodes"])
                if item[name]["pageInfo"]["hasNextPage"]:
                    open_lists[name] = item[name]["pageInfo"]["endCursor"]
                else:
                    del open_lists[name]


def expected_counts(world: dict) -> Counter:
    """What a complete read of the world's non-fork repos holds, counted from the world file."""
    wanted = {r["id"] for r in world["repos"] if not r.get("fork") and not r.get("blocked")}
    issues = {(i["repo_id"], i["number"]): bool(i.get("pull_request")) for i in world["issues"] if i["repo_id"] in wanted}
    kinds = {"labeled", "assigned", "milestoned", "closed", "reopened", "merged"}
    return Counter({
        "issues": sum(1 for pull in issues.values() if not pull),
        "pullRequests": sum(1 for pull in issues.values() if pull),
        "comments": sum(1 for c in world["issue_comments"] if (c["repo_id"], c["issue_number"]) in issues),
        "timelineItems": sum(1 for e in world["issue_events"] if (e["repo_id"], e["issue_number"]) in issues
                             and e["event"] in kinds and (e["event"] != "merged" or issues[(e["repo_id"], e["issue_number"])])),
        "reviews": sum(1 for r in world["reviews"] if r["repo_id"] in wanted),
        "review_comments": sum(1 for r in world["review_comments"] if r["repo_id"] in wanted),
        "labels": sum(len(i.get("labels") or ()) for i in world["issues"] if i["repo_id"] in wanted),
        "assignees": sum(len(i.get("assignee_ids") or ()) for i in world["issues"] if i["repo_id"] in wanted),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--repos-per-org", type=int, default=30)
    parser.add_argument("--makers", type=int, default=1500)
    parser.add_argument("--years", type=int, default=4)
    args = parser.parse_args()
    folder = workdir("bench-graphql-")
    generate(folder / "world", seed=args.seed, orgs=args.orgs, repos_per_org=args.repos_per_org,
             makers=args.makers, years=args.years)
    world = load(folder / "world" / "world.json.gz")
    orgs = [org["login"] for org in world["orgs"] if not org.get("outside")]
    with serve(folder / "world" / "world.json.gz", rate_limit=1_000_000, graphql_rate_limit=1_000_000,
               graphql_secondary_limit=1_000_000) as hub:
        started = time.perf_counter()
        reader = Reader(hub.url)
        reader.read_all(orgs)
        graphql_seconds = time.perf_counter() - started
        lines = log_since(hub, 0)
    points = sum(line["graphql"]["cost"] for line in lines if "graphql" in line)
    rest_side = sum(1 for line in lines if "graphql" not in line)
    expected = expected_counts(world)
    missing = {key: (reader.read[key], value) for key, value in expected.items() if reader.read[key] != value}
    with serve(folder / "world" / "world.json.gz", rate_limit=1_000_000) as hub:
        _, rest_seconds = harvest_once(world, hub.url, folder / "rest")
        rest_only = len(log_since(hub, 0))
    floor = request_floor(world)
    records = sum(len(world[c]) for c in ("issues", "issue_comments", "issue_events", "reviews", "review_comments",
                                          "commits", "releases"))
    print(f"world: {len(orgs)} orgs, {len(world['repos'])} repos, {records} records (seed {args.seed})")
    print(f"REST-only first harvest (harvester, fakehub's log): {rest_only} requests "
          f"(floor {floor}), {rest_seconds:.1f} s")
    print(f"GraphQL read (this bench's reader):  {points} points in {reader.queries} queries "
          f"+ {rest_side} REST requests, {graphql_seconds:.1f} s")
    print(f"ratio (points + REST) / REST-only:   {(points + rest_side) / rest_only:.3f}  (goal <= 0.3)")
    print(f"read every record of the world:      {'yes' if not missing else f'NO {missing}'}")
    print(projection(world, points, rest_side))


def projection(world: dict, points: int, rest_side: int) -> str:
    """This world's rates scaled to the Code for All network of the issue (10,000 repos,
    300,000 issues and pull requests) on one token: 5,000 REST requests and 5,000 GraphQL
    points an hour, two budgets spent side by side."""
    repos = sum(1 for r in world["repos"] if not r.get("fork"))
    graphql_points = points / len(world["issues"]) * 300_000
    rest_requests = rest_side / repos * 10_000
    hours = max(graphql_points, rest_requests) / 5000
    return (f"projection, 10,000 repos and 300,000 issues and PRs on one token (estimate): "
            f"{graphql_points:,.0f} points + {rest_requests:,.0f} REST requests side by side, "
            f"about {hours:.1f} h (REST only, by the issue's arithmetic: 228,000 requests, 46 h)")

if __name__ == "__main__":
    main()
