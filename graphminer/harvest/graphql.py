"""The GraphQL read of a repo's issues and pull requests (issue 14): each with its labels,
assignees and timeline (its events, every kind REST lists as an issue event that the
timeline has: ``EVENTS``; its comments; a pull request's reviews) and, for pull requests,
the count of review threads, in nested cursor-paged queries; on a complete read the repo's releases come in the same
queries. A repo's first query is sized by its counts (one query per organisation: GitHub
prices a connection by its ``first``), its nested lists ask a full page whatever the
items' page (GitHub prices them by their parents' ``first`` only); only the nested lists
longer than a page are followed up, item by item. What it reads is turned into the JSON
shape REST lists (``as_*``) and stored through the same listings and row builders
(``graphminer.harvest.listings``), so the store receives the same typed rows. The README's
"GraphQL first harvest" says which records differ and how.

Pacing: queries go through a ``HarvestSession`` with its own token pool (the ``graphql``
resource's points), so the secondary limit's 403 with Retry-After is waited out and a
query GitHub answers with 502 twice is ``HeavyPage``: it is asked again with a smaller
``first``. A ``RATE_LIMITED`` answer waits for the points' reset. Every query this module
can send is built by ``org_counts_query``, ``count_query``, ``issues_query`` and
``more_query`` (tests validate them against GitHub's published schema).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from graphminer.harvest.listings import LISTINGS, REVIEWS
from graphminer.harvest.save import Saver
from graphminer.harvest.session import HarvestSession, HeavyPage

# `first` of every connection, tried in turn while GitHub answers 502 (too heavy).
SIZES = (100, 50, 25, 10, 5, 2, 1)
# The timeline items read, as REST's issue events name them: GraphQL type -> REST event,
# and what each adds to its actor and date. The last four are a pull request's only.
EVENTS = {
    "LabeledEvent": ("labeled", "label { name }"), "UnlabeledEvent": ("unlabeled", "label { name }"),
    "AssignedEvent": ("assigned", "assignee { ... on Actor { {actor} } }"),
    "UnassignedEvent": ("unassigned", "assignee { ... on Actor { {actor} } }"),
    "MilestonedEvent": ("milestoned", ""), "DemilestonedEvent": ("demilestoned", ""),
    "ClosedEvent": ("closed", "closer { ... on Commit { oid } }"), "ReopenedEvent": ("reopened", ""),
    "ReferencedEvent": ("referenced", "commit { oid }"), "RenamedTitleEvent": ("renamed", ""),
    "LockedEvent": ("locked", ""), "UnlockedEvent": ("unlocked", ""),
    "MentionedEvent": ("mentioned", ""), "SubscribedEvent": ("subscribed", ""),
    "UnsubscribedEvent": ("unsubscribed", ""),
    "MergedEvent": ("merged", "commit { oid }"),
    "ReviewRequestedEvent": ("review_requested", ""), "ReadyForReviewEvent": ("ready_for_review", ""),
    "ConvertToDraftEvent": ("convert_to_draft", ""),
}
PULL_ONLY = ("MergedEvent", "ReviewRequestedEvent", "ReadyForReviewEvent", "ConvertToDraftEvent")
EVENT_NAMES = {kind: name for kind, (name, _) in EVENTS.items()}


def _item_type(kind: str) -> str:
    """``LabeledEvent`` -> ``LABELED_EVENT`` (the itemTypes enum)."""
    return "".join("_" + c if c.isupper() and i else c for i, c in enumerate(kind)).upper()


ACTOR = ("__typename login ... on User { databaseId } ... on Bot { databaseId } "
         "... on Organization { databaseId } ... on Mannequin { databaseId }")
PAGE = "pageInfo { hasNextPage endCursor }"
# The items of a timeline that are not events: an issue's (or PR's) comments and a PR's
# reviews come in the same connection as its events, one request per item of the page
# for all three rather than one each.
COMMENT = f"databaseId createdAt updatedAt authorAssociation author {{ {ACTOR} }}"
REVIEW = f"databaseId state submittedAt commit {{ oid }} author {{ {ACTOR} }}"
NESTED = {  # nested connection of an issue or PR -> its selection ({first}, {after}, {types}, {events})
    "labels": f"labels(first: {{first}}{{after}}) {{ {PAGE} nodes {{ name }} }}",
    "assignees": f"assignees(first: {{first}}{{after}}) {{ {PAGE} nodes {{ __typename login databaseId }} }}",
    "timelineItems": (
        f"timelineItems(first: {{first}}{{after}}, itemTypes: [{{types}}]) {{ {PAGE} "
        f"nodes {{ __typename ... on Node {{ id }} {{events}} }} }}"),
}


def timeline(pulls: bool) -> tuple[str, str]:
    """(itemTypes, the selection of each type) of an issue's or a pull request's timeline:
    its events, its comments and (a PR's) its reviews."""
    kinds = [kind for kind in EVENTS if pulls or kind not in PULL_ONLY]
    selection = " ".join(f"... on {kind} {{ createdAt actor {{ {ACTOR} }} "
                         + EVENTS[kind][1].replace("{actor}", ACTOR) + " }" for kind in kinds)
    selection += f" ... on IssueComment {{ {COMMENT} }}"
    kinds.append("IssueComment")
    if pulls:
        selection += f" ... on PullRequestReview {{ {REVIEW} }}"
        kinds.append("PullRequestReview")
    return ", ".join(map(_item_type, kinds)), selection


# an issue's and a pull request's nested lists (a PR's reviews are in its timeline)
NESTED_LISTS = ("labels", "assignees", "timelineItems")
ITEM = f"number databaseId title state createdAt updatedAt closedAt authorAssociation author {{ {ACTOR} }}"
# reviewThreads' count: whether the PR has review comments (each is in a thread), one
# request per PR of the page, where the comments themselves would cost 100
PULL_ITEM = (" isDraft mergedAt mergeCommit { oid } headRefName headRefOid baseRefName "
             "reviewThreads { totalCount }")
# A release (its author is a User: a release made by a bot or an app has none over GraphQL)
RELEASE = "databaseId tagName name createdAt publishedAt isDraft isPrerelease author { login databaseId }"


@dataclass
class RepoRead:
    """What ``read_repo`` read of one repo."""

    newest: dict[str, str | None]  # listing -> newest updated_at read (releases: created_at)
    pulls: int = 0  # pull requests the repo holds
    review_threads: int = 0  # review threads of its pull requests (every review comment is in one)

    @property
    def empty(self) -> set[str]:
        """The listings this read counted none of: no pull request, or no review thread
        (every review comment is in one)."""
        counted = {LISTINGS["pulls"].name: self.pulls, LISTINGS["review_comments"].name: self.review_threads}
        return {name for name, count in counted.items() if count == 0}


class GraphQLError(Exception):
    """GraphQL answered with errors that waiting or smaller pages do not cure."""


class NotOverGraphQL(GraphQLError):
    """GraphQL cannot resolve the repo (gone, blocked, renamed under us): REST reads it
    and says what became of it."""


def nested(names: tuple[str, ...], pulls: bool, size: int, after: dict[str, str] | None = None) -> str:
    after = after or {}
    return " ".join(
        NESTED[name].replace("{first}", str(size))
        .replace("{after}", f", after: {json.dumps(after[name])}" if name in after else "")
        .replace("{types}", timeline(pulls)[0]).replace("{events}", timeline(pulls)[1])
        for name in names)


def issues_query(owner: str, name: str, pages: dict[bool, tuple[int, str | None]],
                 nested_size: int | None = None,
                 releases: tuple[int, str | None] | None = None) -> str:
    """One query for the next page of a repo's issues and of its pull requests (``pages``:
    pull requests or not -> (first, after)), most recently updated first, each with the
    first ``nested_size`` of its nested lists (default: its page's ``first``; GitHub prices a
    nested list by its parents' ``first`` only, so a full page of it costs the same as a
    short one), and (``releases``: (first, after)) the next page of its releases."""
    parts = []
    for pulls, (size, after) in pages.items():
        kind = "pullRequests" if pulls else "issues"
        cursor = f", after: {json.dumps(after)}" if after else ""
        extra = PULL_ITEM if pulls else " stateReason"
        parts.append(f"{kind}(first: {size}{cursor}, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{ "
                     f"{PAGE} nodes {{ {ITEM}{extra} "
                     f"{nested(NESTED_LISTS, pulls, nested_size or size)} }} }}")
    if releases is not None:
        size, after = releases
        cursor = f", after: {json.dumps(after)}" if after else ""
        parts.append(f"releases(first: {size}{cursor}, orderBy: {{field: CREATED_AT, direction: DESC}}) "
                     f"{{ {PAGE} nodes {{ {RELEASE} }} }}")
    return (f"query {{ repository(owner: {json.dumps(owner)}, name: {json.dumps(name)}) {{ "
            + " ".join(parts) + " } }")


COUNTS = "issues { totalCount } pullRequests { totalCount } releases { totalCount }"


def org_counts_query(login: str, after: str | None, first: int = 100) -> str:
    """How many issues, pull requests and releases each repo of an organisation has, up to
    100 repos a query (``first``: as many as REST listed, since each counted connection
    costs one request per repo asked: 3 points for 100, 1 for 30): the ``first`` of the pages
    that read them, since GitHub prices a connection by its ``first``, not by what it holds."""
    cursor = f", after: {json.dumps(after)}" if after else ""
    return (f"query {{ organization(login: {json.dumps(login)}) {{ repositories(first: {first}{cursor}) {{ "
            f"{PAGE} nodes {{ nameWithOwner {COUNTS} }} }} }} }}")


def count_query(owner: str, name: str) -> str:
    """How many issues, pull requests and releases one repo has (one not in its org's listing)."""
    return (f"query {{ repository(owner: {json.dumps(owner)}, name: {json.dumps(name)}) {{ "
            f"{COUNTS} }} }}")


def more_query(owner: str, name: str, number: int, pulls: bool, size: int,
               after: dict[str, str]) -> str:
    """The next pages of one item's nested lists that were longer than a page."""
    kind = "PullRequest" if pulls else "Issue"
    return (f"query {{ repository(owner: {json.dumps(owner)}, name: {json.dumps(name)}) {{ "
            f"issueOrPullRequest(number: {number}) {{ ... on {kind} {{ "
            f"{nested(tuple(after), pulls, size, after)} }} }} }} }}")


# --- GraphQL records in REST's shape ----------------------------------------------------

def as_user(actor: dict | None) -> dict | None:
    """An actor as REST embeds a user (login, id, type); None for a deleted account."""
    if not actor or actor.get("databaseId") is None:
        return None
    kind = actor.get("__typename")
    return {"login": actor["login"], "id": actor["databaseId"],
            "type": kind if kind in ("Bot", "Organization") else "User"}


def provisional_id(node_id: str) -> int:
    """A negative id for an event known only by its node id (REST's id replaces it)."""
    return -(int.from_bytes(hashlib.sha256(node_id.encode()).digest()[:7], "big") + 1)


def as_issue(node: dict, pulls: bool) -> dict:
    state = node["state"].lower()
    raw = {"number": node["number"], "id": None if pulls else node["databaseId"],
           "user": as_user(node.get("author")), "title": node.get("title"),
           "state": "open" if state == "open" else "closed",
           "state_reason": None if pulls or not node.get("stateReason") else node["stateReason"].lower(),
           "created_at": node["createdAt"], "updated_at": node["updatedAt"],
           "closed_at": node.get("closedAt"), "author_association": node.get("authorAssociation"),
           "labels": [{"name": label["name"]} for label in node["labels"]["nodes"]],
           "assignees": [user for user in map(as_user, node["assignees"]["nodes"]) if user]}
    if pulls:
        raw["pull_request"] = {"merged_at": node.get("mergedAt")}
        raw["draft"] = bool(node.get("isDraft"))
    return raw


def as_pull(node: dict) -> dict:
    # "user" as REST gives it: an opt-out drops the record by it (listings.Listing.author)
    return {"number": node["number"], "id": node["databaseId"], "user": as_user(node.get("author")),
            "updated_at": node["updatedAt"],
            "merged_at": node.get("mergedAt"),
            "merge_commit_sha": (node.get("mergeCommit") or {}).get("oid"),
            "head": {"sha": node.get("headRefOid"), "ref": node.get("headRefName")},
            "base": {"ref": node.get("baseRefName")}}


def as_comment(node: dict, issue_url: str) -> dict:
    return {"id": node["databaseId"], "issue_url": issue_url, "user": as_user(node.get("author")),
            "created_at": node["createdAt"], "updated_at": node["updatedAt"],
            "author_association": node.get("authorAssociation")}


def as_review(node: dict) -> dict:
    return {"id": node["databaseId"], "user": as_user(node.get("author")), "state": node["state"],
            "submitted_at": node.get("submittedAt"), "commit_id": (node.get("commit") or {}).get("oid")}


def as_release(node: dict) -> dict:
    return {"id": node["databaseId"], "tag_name": node["tagName"], "name": node.get("name"),
            "author": as_user(node.get("author")), "draft": bool(node.get("isDraft")),
            "prerelease": bool(node.get("isPrerelease")), "created_at": node["createdAt"],
            "published_at": node.get("publishedAt")}


def as_event(node: dict, number: int) -> dict:
    commit = node.get("commit") or node.get("closer") or {}
    label = node.get("label")
    return {"id": provisional_id(node["id"]), "node_id": node["id"],
            "event": EVENT_NAMES[node["__typename"]], "actor": as_user(node.get("actor")),
            "created_at": node["createdAt"], "issue": {"number": number},
            "label": {"name": label["name"]} if label else None,
            "assignee": as_user(node.get("assignee")), "commit_id": commit.get("oid")}


# --- the reader -------------------------------------------------------------------------

class GraphQLReader:
    """Reads one repo's issues and pull requests over GraphQL into the store."""

    def __init__(self, session: HarvestSession, url: str, saver: Saver, api_url: str,
                 say: Callable[[str], None] = lambda message: None,
                 org_sizes: dict[str, int] | None = None) -> None:
        self.session = session
        self.url = url
        self.saver = saver
        self.api_url = api_url
        self.say = say
        self.queries = 0  # queries answered
        self.counts: dict[str, dict[bool | str, int]] = {}  # full name -> what it holds
        self.orgs_counted: set[str] = set()
        self.org_sizes = org_sizes or {}  # org login (lower case) -> repos REST listed

    def post(self, query: str) -> dict:
        for _ in range(50):
            response = self.session.post(self.url, json={"query": query}, timeout=120)
            try:
                body = response.json()
            except ValueError:  # a gateway's HTML page
                body = {}
            errors = body.get("errors") or []
            if response.status_code == 200 and not errors and body.get("data") is not None:
                self.queries += 1
                return body["data"]
            kinds = {error.get("type") for error in errors}
            if "RATE_LIMITED" in kinds:
                reset = float(response.headers.get("X-RateLimit-Reset") or time.time() + 60)
                seconds = min(max(reset - time.time(), 1.0), 3600.0)
                self.say(f"GraphQL points spent: waiting {seconds:.0f}s for their reset")
                self.session.pause(seconds)
                continue
            if "NOT_FOUND" in kinds:
                raise NotOverGraphQL(json.dumps(errors)[:300])
            if "MAX_NODE_LIMIT_EXCEEDED" in kinds or response.status_code in (502, 504):
                raise HeavyPage(self.url)
            raise GraphQLError(json.dumps(errors)[:300] or f"HTTP {response.status_code}")
        raise GraphQLError("GraphQL rate limit never reset")

    def sized(self, ask: Callable[[int], dict], size: int) -> tuple[dict, int]:
        """``ask(first)`` from ``size`` down while the query is too heavy for GitHub
        (``HeavyPage``: 502 twice, or over the node limit)."""
        sizes = [max(size, 1)] + [s for s in SIZES if s < size]
        for index, first in enumerate(sizes):
            try:
                return ask(first), first
            except HeavyPage:
                if index == len(sizes) - 1:
                    raise
                self.say(f"GraphQL: a query with first: {first} was too heavy, asking for fewer")
        raise AssertionError("unreachable")

    def read_repo(self, repo: dict, since: str | None) -> RepoRead:
        """Store the repo's issues and PRs updated since ``since`` (all: None) with their
        nested lists, and on a complete read (``since`` None) its releases too."""
        read = RepoRead({"issues": None, "pulls": None, "issue_comments": None,
                         "issue_events": None})
        owner, name = repo["owner"]["login"], repo["name"]
        counts = self.counts_of(repo)
        read.pulls = counts[True]
        left = {pulls: counts[pulls] for pulls in (False, True)}
        after: dict[bool, str | None] = {False: None, True: None}
        # Releases have no order by update: read them only when reading everything.
        releases_left, releases_after = (counts["releases"], None) if since is None else (0, None)
        if since is None:
            read.newest["releases"] = None
        size = SIZES[0]
        while any(value > 0 for value in left.values()) or releases_left > 0:
            open_ = [pulls for pulls in (False, True) if left[pulls] > 0]
            wanted = releases_left > 0
            page = (releases_left, releases_after)

            def ask(first: int, open_: list[bool] = open_, page: tuple = page) -> dict:
                return self.post(issues_query(
                    owner, name, {pulls: (min(first, left[pulls]), after[pulls]) for pulls in open_},
                    first, (min(first, page[0]), page[1]) if page[0] > 0 else None))

            data, size = self.sized(ask, size)
            for pulls in open_:
                connection = data["repository"]["pullRequests" if pulls else "issues"]
                nodes = connection["nodes"]
                for node in nodes:
                    self.more(repo, node, pulls, size)
                    if pulls:
                        read.review_threads += node["reviewThreads"]["totalCount"]
                self.store(repo, nodes, pulls, read.newest)
                done = since is not None and any(node["updatedAt"] < since for node in nodes)
                if done or not connection["pageInfo"]["hasNextPage"] or not nodes:
                    left[pulls] = 0
                else:  # more may have come since the count: read on
                    left[pulls] = max(left[pulls] - len(nodes), 1)
                    after[pulls] = connection["pageInfo"]["endCursor"]
            if wanted:
                connection = data["repository"]["releases"]
                nodes = connection["nodes"]
                self.saver.save(LISTINGS["releases"], repo["id"], [as_release(node) for node in nodes])
                read.newest["releases"] = _newest(read.newest["releases"],
                                                  [node["createdAt"] for node in nodes])
                if not connection["pageInfo"]["hasNextPage"] or not nodes:
                    releases_left = 0
                else:
                    releases_left = max(releases_left - len(nodes), 1)
                    releases_after = connection["pageInfo"]["endCursor"]
        return read

    def counts_of(self, repo: dict) -> dict[bool | str, int]:
        """Issues (False), pull requests (True) and releases of the repo: from its organisation's listing, read once."""
        key = repo["full_name"].lower()
        if key not in self.counts and repo["owner"]["login"].lower() not in self.orgs_counted:
            login, after = repo["owner"]["login"], None
            self.orgs_counted.add(login.lower())
            while True:
                first = min(100, max(1, self.org_sizes.get(login.lower(), 100)))
                data = self.post(org_counts_query(login, after, first))
                listing = (data.get("organization") or {}).get("repositories")
                if not listing:
                    break
                for node in listing["nodes"]:
                    self.counts[node["nameWithOwner"].lower()] = _counts(node)
                if not listing["pageInfo"]["hasNextPage"]:
                    break
                after = listing["pageInfo"]["endCursor"]
        if key not in self.counts:
            found = self.post(count_query(repo["owner"]["login"], repo["name"]))["repository"]
            self.counts[key] = _counts(found)
        return self.counts.pop(key)

    def more(self, repo: dict, node: dict, pulls: bool, size: int) -> None:
        """Follow up the item's nested lists longer than a page, into ``node``."""
        names = NESTED_LISTS
        after = {name: node[name]["pageInfo"]["endCursor"] for name in names
                 if node[name]["pageInfo"]["hasNextPage"]}
        while after:
            data, size = self.sized(lambda first: self.post(more_query(
                repo["owner"]["login"], repo["name"], node["number"], pulls, first, after)), size)
            item = data["repository"]["issueOrPullRequest"]
            for name in list(after):
                node[name]["nodes"] += item[name]["nodes"]
                if item[name]["pageInfo"]["hasNextPage"]:
                    after[name] = item[name]["pageInfo"]["endCursor"]
                else:
                    del after[name]

    def store(self, repo: dict, nodes: list[dict], pulls: bool, newest: dict) -> None:
        repo_id = repo["id"]
        issue_url = f"{self.api_url}/repos/{repo['full_name']}/issues/"
        comments, events = [], []
        for node in nodes:
            number = node["number"]
            items = node["timelineItems"]["nodes"]
            comments += [as_comment(c, f"{issue_url}{number}") for c in items
                         if c["__typename"] == "IssueComment"]
            events += [as_event(e, number) for e in items if e["__typename"] in EVENT_NAMES]
            if pulls:
                self.saver.save(REVIEWS, repo_id, [as_review(r) for r in items
                                                   if r["__typename"] == "PullRequestReview"
                                                   and r.get("databaseId")], number)
        self.saver.save(LISTINGS["issues"], repo_id, [as_issue(node, pulls) for node in nodes])
        if pulls:
            self.saver.save(LISTINGS["pulls"], repo_id, [as_pull(node) for node in nodes])
        self.saver.save(LISTINGS["issue_comments"], repo_id, comments)
        self.saver.save(LISTINGS["issue_events"], repo_id, events)
        stamps = [node["updatedAt"] for node in nodes]
        for name, values in (("issues", stamps), ("pulls", stamps if pulls else []),
                             ("issue_comments", [c["updated_at"] for c in comments]),
                             ("issue_events", [e["created_at"] for e in events])):
            newest[name] = _newest(newest[name], values)


def _newest(value: str | None, values: list[str | None]) -> str | None:
    present = [v for v in (value, *values) if v]
    return max(present) if present else None


def _counts(node: dict) -> dict[bool | str, int]:
    """A repo's counts as ``COUNTS`` asks them: issues (False), pull requests (True), releases."""
    return {False: node["issues"]["totalCount"], True: node["pullRequests"]["totalCount"],
            "releases": node["releases"]["totalCount"]}
