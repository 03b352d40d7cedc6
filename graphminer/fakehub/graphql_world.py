"""The world seen through GitHub's GraphQL schema: root fields, objects and paged connections.

Objects are dicts whose keys are GraphQL field names; a value that is a function is called
with the field's arguments when the query selects it (``resolve_field``), so a connection
is only paged when asked for. Identities are the REST API's: ``databaseId`` is the REST
``id``, ``id`` is the REST ``node_id`` (timeline events included: their ``id`` is the REST
issue event's ``node_id``, the key both APIs share, since GraphQL gives events no
``databaseId``). Dates are served exactly as REST serves them (an issue's ``updatedAt`` is its
REST ``updated_at``). Facts are ``world.py``'s; what the query may ask is the schema's.

Cursors are opaque base64 strings naming the sort key of the item they stand for, so a
page asked after a delta goes on from the same place, as GitHub's keyset cursors do.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from graphminer.fakehub.render import HTML, node_id, small_id
from graphminer.fakehub.world import RepoIndex, World

# REST issue event names and the GraphQL timeline item type each one is
EVENT_TYPES = {
    "labeled": "LabeledEvent", "unlabeled": "UnlabeledEvent",
    "assigned": "AssignedEvent", "unassigned": "UnassignedEvent",
    "milestoned": "MilestonedEvent", "demilestoned": "DemilestonedEvent",
    "closed": "ClosedEvent", "reopened": "ReopenedEvent", "merged": "MergedEvent",
    "referenced": "ReferencedEvent", "renamed": "RenamedTitleEvent",
    "locked": "LockedEvent", "unlocked": "UnlockedEvent",
    "mentioned": "MentionedEvent", "subscribed": "SubscribedEvent",
    "unsubscribed": "UnsubscribedEvent", "review_requested": "ReviewRequestedEvent",
    "ready_for_review": "ReadyForReviewEvent", "convert_to_draft": "ConvertToDraftEvent",
}


@dataclass
class RateLimitView:
    """What ``rateLimit`` answers for the request being executed."""

    cost: int
    limit: int
    remaining: int
    used: int
    reset_at: str
    node_count: int


class GraphQLWorld:
    """The root value of every query: the world and the request's rate-limit view."""

    def __init__(self, world: World, rate: RateLimitView,
                 events_cache: dict[int, tuple[int, dict[int, list[int]]]] | None = None) -> None:
        self.world = world
        self.rate = rate
        # repo id -> (repo generation, issue number -> event ids): shared across requests
        self._events_by_issue = {} if events_cache is None else events_cache

    # -- root fields -------------------------------------------------------------------

    def root(self) -> dict:
        """The Query object."""
        return {"repository": self.repository_field, "organization": self.organization_field,
                "user": self.user_field, "rateLimit": lambda info, **_: self.rate_limit()}

    def rate_limit(self) -> dict:
        rate = self.rate
        return {"cost": rate.cost, "limit": rate.limit, "remaining": rate.remaining,
                "used": rate.used, "resetAt": rate.reset_at, "nodeCount": rate.node_count}

    def repository_field(self, info: GraphQLResolveInfo, owner: str, name: str, **_: Any) -> dict:
        repo = self.world.repo_by(owner, name)
        if repo is None or repo.get("blocked"):
            raise GraphQLError(f"Could not resolve to a Repository with the name '{owner}/{name}'.",
                               extensions={"type": "NOT_FOUND"})
        return self.repository(repo)

    def organization_field(self, info: GraphQLResolveInfo, login: str) -> dict:
        org = self.world.org_by(login)
        if org is None or self.world.user_by(login) is not None:
            raise GraphQLError(f"Could not resolve to an Organization with the login of '{login}'.",
                               extensions={"type": "NOT_FOUND"})
        return self.organization(org)

    def user_field(self, info: GraphQLResolveInfo, login: str) -> dict:
        record = self.world.user_by(login)
        if record is None or record.get("type") == "Bot":
            raise GraphQLError(f"Could not resolve to a User with the login of '{login}'.",
                               extensions={"type": "NOT_FOUND"})
        return self.actor(record["id"])

    # -- actors ------------------------------------------------------------------------

    def actor(self, user_id: int | None) -> dict | None:
        """A User, Bot or Organization (GitHub's GraphQL gives a bot's login without ``[bot]``)."""
        if user_id is None:
            return None
        record = self.world.users.get(user_id)
        if record is None:
            org = self.world.orgs.get(user_id)
            return self.organization(org) if org else None
        kind = "Bot" if record.get("type") == "Bot" else "User"
        login = record["login"].removesuffix("[bot]") if kind == "Bot" else record["login"]
        return {"__typename": kind, "id": node_id(kind, user_id), "databaseId": user_id,
                "login": login, "name": record.get("name"), "email": record.get("email") or "",
                "url": f"{HTML}/{record['login']}", "resourcePath": f"/{record['login']}",
                "avatarUrl": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
                "createdAt": record.get("created_at") or self.world.now,
                "updatedAt": record.get("updated_at") or record.get("created_at") or self.world.now}

    def organization(self, org: dict) -> dict:
        login = org["login"]
        return {"__typename": "Organization", "id": node_id("Organization", org["id"]),
                "databaseId": org["id"], "login": login, "name": org.get("name"),
                "description": org.get("description"), "url": f"{HTML}/{login}",
                "resourcePath": f"/{login}", "createdAt": org["created_at"],
                "updatedAt": org.get("updated_at") or org["created_at"],
                "avatarUrl": f"https://avatars.githubusercontent.com/u/{org['id']}?v=4",
                "repositories": lambda info, **args: self.org_repositories(org, args)}

    # -- repositories ------------------------------------------------------------------

    def org_repositories(self, org: dict, args: dict) -> dict:
        repos = self.world.org_repos(org["login"])
        if args.get("isFork") is not None:
            repos = [r for r in repos if bool(r.get("fork")) == args["isFork"]]
        if args.get("isArchived") is not None:
            repos = [r for r in repos if bool(r.get("archived")) == args["isArchived"]]
        if args.get("privacy") == "PRIVATE" or args.get("visibility") in ("PRIVATE", "INTERNAL"):
            repos = []
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        field_name = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at",
                      "PUSHED_AT": "pushed_at", "NAME": "name"}.get(order["field"], "created_at")
        keyed = [((str(r.get(field_name) or r["created_at"]).lower() if field_name == "name"
                   else r.get(field_name) or r["created_at"], r["id"]), r) for r in repos]
        return paginate(keyed, args, order.get("direction") == "DESC", self.repository)

    def repository(self, repo: dict) -> dict:
        data = self.world.repo_data[repo["id"]]
        owner = self.world.org_by(repo["owner"]) or self.world.user_by(repo["owner"])
        full_name = f"{repo['owner']}/{repo['name']}"
        branch = repo.get("default_branch") or "main"
        return {
            "__typename": "Repository", "id": node_id("Repository", repo["id"]),
            "databaseId": repo["id"], "name": repo["name"], "nameWithOwner": full_name,
            "owner": lambda info, **_: self.actor(owner["id"]) if owner else None,
            "description": repo.get("description"), "url": f"{HTML}/{full_name}",
            "resourcePath": f"/{full_name}", "isFork": bool(repo.get("fork")),
            "isArchived": bool(repo.get("archived")), "isPrivate": False, "visibility": "PUBLIC",
            "isEmpty": not data.commits, "createdAt": repo["created_at"],
            "updatedAt": repo.get("updated_at") or repo["created_at"],
            "pushedAt": repo.get("pushed_at") or repo["created_at"],
            "defaultBranchRef": {"name": branch, "prefix": "refs/heads/", "id": node_id("Ref", f"{repo['id']}:{branch}")},
            "issues": lambda info, **args: self.issues(repo, data, args),
            "pullRequests": lambda info, **args: self.pull_requests(repo, data, args),
            "issue": lambda info, number: self._numbered(repo, data, number, pulls=False),
            "pullRequest": lambda info, number: self._numbered(repo, data, number, pulls=True),
            "issueOrPullRequest": lambda info, number: self._numbered(repo, data, number, pulls=None),
            "releases": lambda info, **args: self.releases(repo, data, args),
        }

    def _numbered(self, repo: dict, data: RepoIndex, number: int, pulls: bool | None) -> dict | None:
        """``issue``, ``pullRequest`` (pulls True) or ``issueOrPullRequest`` (None) by number."""
        record = data.issues.get(number)
        if record is None or (pulls is not None and bool(record.get("pull_request")) != pulls):
            kind = {True: "a PullRequest", False: "an Issue", None: "an issue or pull request"}[pulls]
            raise GraphQLError(f"Could not resolve to {kind} with the number of {number}.",
                               extensions={"type": "NOT_FOUND"})
        return self.item(repo, data, record)

    # -- releases ----------------------------------------------------------------------

    def releases(self, repo: dict, data: RepoIndex, args: dict) -> dict:
        """``Repository.releases``: by creation time (the default, newest first) or by name,
        over the records REST's ``/releases`` lists."""
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "DESC"}
        if order["field"] == "NAME":
            keyed = [(((record.get("name") or record["tag_name"]).lower(), rid), rid)
                     for rid, record in data.releases.items()]
        else:
            keyed = [((record["created_at"], rid), rid) for rid, record in data.releases.items()]
        return paginate(keyed, args, order.get("direction") == "DESC",
                        lambda rid: self._release(repo, data, data.releases[rid]))

    def _release(self, repo: dict, data: RepoIndex, record: dict) -> dict:
        full_name = f"{repo['owner']}/{repo['name']}"
        tag = record["tag_name"]
        author = self.actor(record.get("author_id"))
        # Release.author is a User: a release made by a bot or an app has none here
        if author is not None and author["__typename"] != "User":
            author = None
        head = data.commits.get(record.get("target_commitish") or "")
        return {"__typename": "Release", "id": node_id("Release", record["id"]),
                "databaseId": record["id"], "tagName": tag, "name": record.get("name"),
                "description": record.get("body"), "isDraft": bool(record.get("draft")),
                "isPrerelease": bool(record.get("prerelease")), "isLatest": False,
                "createdAt": record["created_at"], "publishedAt": record.get("published_at"),
                "updatedAt": record.get("published_at") or record["created_at"],
                "author": author, "url": f"{HTML}/{full_name}/releases/tag/{tag}",
                "resourcePath": f"/{full_name}/releases/tag/{tag}",
                "tagCommit": self._commit(repo, data, head["sha"]) if head else None,
                "repository": lambda info, **_: self.repository(repo)}

    # -- issues and pull requests ------------------------------------------------------

    def issues(self, repo: dict, data: RepoIndex, args: dict) -> dict:
        filters = args.get("filterBy") or {}
        states = set(args.get("states") or filters.get("states") or ())
        labels = set(args.get("labels") or filters.get("labels") or ())
        since = filters.get("since")
        chosen = [record for record in data.issues.values()
                  if not record.get("pull_request")
                  and (not states or record["state"].upper() in states)
                  and (not labels or labels & set(record.get("labels") or ()))
                  and (not since or data.issue_updated[record["number"]] >= _iso(since))
                  and self._issue_filters_match(record, filters)]
        return self._ordered_items(repo, data, chosen, args)

    def _issue_filters_match(self, record: dict, filters: dict) -> bool:
        creator = filters.get("createdBy")
        if creator is not None:
            user = self.world.user_by(creator)
            if user is None or record["user_id"] != user["id"]:
                return False
        assignee = filters.get("assignee")
        if assignee is not None:
            user = self.world.user_by(assignee)
            if user is None or user["id"] not in (record.get("assignee_ids") or ()):
                return False
        milestone = filters.get("milestone")
        return milestone is None or record.get("milestone") == milestone

    def pull_requests(self, repo: dict, data: RepoIndex, args: dict) -> dict:
        states = set(args.get("states") or ())
        labels = set(args.get("labels") or ())
        chosen = []
        for record in data.issues.values():
            pr = record.get("pull_request")
            if not pr:
                continue
            if states and _pull_state(record) not in states:
                continue
            if labels and not labels & set(record.get("labels") or ()):
                continue
            if args.get("baseRefName") and (pr.get("base_ref") or repo.get("default_branch") or "main") != args["baseRefName"]:
                continue
            if args.get("headRefName") and (pr.get("head_ref") or f"pr-{record['number']}") != args["headRefName"]:
                continue
            chosen.append(record)
        return self._ordered_items(repo, data, chosen, args)

    def _ordered_items(self, repo: dict, data: RepoIndex, chosen: list[dict], args: dict) -> dict:
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        sort_value: Callable[[dict], Any] = {
            "CREATED_AT": lambda r: r["created_at"],
            "UPDATED_AT": lambda r: data.issue_updated[r["number"]],
            "COMMENTS": lambda r: data.comment_count.get(r["number"], 0),
        }[order["field"]]
        keyed = [((sort_value(r), r["number"]), r) for r in chosen]
        return paginate(keyed, args, order.get("direction") == "DESC",
                        lambda record: self.item(repo, data, record))

    def item(self, repo: dict, data: RepoIndex, record: dict) -> dict:
        """An Issue or a PullRequest."""
        number = record["number"]
        pr = record.get("pull_request")
        full_name = f"{repo['owner']}/{repo['name']}"
        ident = (pr.get("id") or record["id"]) if pr else record["id"]
        kind = "PullRequest" if pr else "Issue"
        reason = record.get("state_reason")
        body: dict[str, Any] = {
            "__typename": kind, "id": node_id(kind, ident), "databaseId": ident,
            "fullDatabaseId": str(ident), "number": number,
            "title": record.get("title") or f"Issue {number}", "body": record.get("body") or "",
            "state": _pull_state(record) if pr else record["state"].upper(),
            "stateReason": reason.upper() if reason and not pr else None,
            "closed": record["state"] == "closed",
            "createdAt": record["created_at"], "updatedAt": data.issue_updated[number],
            "closedAt": record.get("closed_at"),
            "url": f"{HTML}/{full_name}/{'pull' if pr else 'issues'}/{number}",
            "resourcePath": f"/{full_name}/{'pull' if pr else 'issues'}/{number}",
            "authorAssociation": record.get("author_association") or "NONE",
            "author": lambda info, **_: self.actor(record["user_id"]),
            "repository": lambda info, **_: self.repository(repo),
            "milestone": lambda info, **_: self._milestone(repo, data, record.get("milestone")),
            # labels and assignees keep the world's order, as REST lists them
            "labels": lambda info, **args: paginate(
                [((index,), name) for index, name in enumerate(record.get("labels") or ())], args, False,
                lambda name: self._label(repo, name)),
            "assignees": lambda info, **args: paginate(
                [((index,), uid) for index, uid in enumerate(record.get("assignee_ids") or ())
                 if uid in self.world.users], args, False, self.actor),
            "comments": lambda info, **args: self._comments(repo, data, number, args),
            "timelineItems": lambda info, **args: self._timeline(info, repo, data, record, args),
        }
        if pr:
            merged = pr.get("merged_at") is not None
            sha = pr.get("merge_commit_sha")
            body.update({
                "merged": merged, "mergedAt": pr.get("merged_at"),
                "mergedBy": lambda info, **_: self.actor(pr.get("merged_by_id")) if merged else None,
                "mergeCommit": self._commit(repo, data, sha) if merged and sha else None,
                "isDraft": bool(pr.get("draft")),
                "headRefName": pr.get("head_ref") or f"pr-{number}",
                "baseRefName": pr.get("base_ref") or repo.get("default_branch") or "main",
                "headRefOid": pr.get("head_sha") or "0" * 40,
                "reviews": lambda info, **args: self._reviews(repo, data, number, args),
                "reviewThreads": lambda info, **args: self._review_threads(repo, data, number, args),
            })
        return body

    def _milestone(self, repo: dict, data: RepoIndex, title: str | None) -> dict | None:
        if not title or title not in data.milestones:
            return None
        ident = small_id("milestone", repo["id"], title)
        return {"id": node_id("Milestone", ident), "title": title,
                "number": data.milestones[title]["number"], "state": "OPEN"}

    def _label(self, repo: dict, name: str) -> dict:
        ident = small_id("label", repo["id"], name)
        return {"id": node_id("Label", ident), "name": name, "description": "",
                "color": hashlib.md5(name.encode()).hexdigest()[:6], "isDefault": False}

    def _commit(self, repo: dict, data: RepoIndex, sha: str | None) -> dict | None:
        if not sha:
            return None
        record = data.commits.get(sha) or {}
        return {"__typename": "Commit", "id": node_id("Commit", f"{repo['id']}:{sha}"),
                "oid": sha, "abbreviatedOid": sha[:7], "message": record.get("message") or "",
                "committedDate": (record.get("committer") or {}).get("date"),
                "authoredDate": (record.get("author") or {}).get("date")}

    # -- comments, reviews, review comments --------------------------------------------

    def _comments(self, repo: dict, data: RepoIndex, number: int, args: dict) -> dict:
        order = args.get("orderBy") or {"field": "UPDATED_AT", "direction": "ASC"}
        ids = data.comments_by_issue.get(number, [])
        if args.get("orderBy"):
            keyed = [((data.issue_comments[cid]["updated_at"], cid), cid) for cid in ids]
        else:  # GitHub's default: oldest first
            keyed = [((data.issue_comments[cid]["created_at"], cid), cid) for cid in ids]
        return paginate(keyed, args, order.get("direction") == "DESC",
                        lambda cid: self._comment(repo, data, data.issue_comments[cid]))

    def _comment(self, repo: dict, data: RepoIndex, record: dict) -> dict:
        full_name = f"{repo['owner']}/{repo['name']}"
        parent = data.issues.get(record["issue_number"]) or {}
        kind = "pull" if parent.get("pull_request") else "issues"
        return {"__typename": "IssueComment", "id": node_id("IssueComment", record["id"]),
                "databaseId": record["id"], "fullDatabaseId": str(record["id"]),
                "author": lambda info, **_: self.actor(record["user_id"]),
                "body": record.get("body") or "", "createdAt": record["created_at"],
                "updatedAt": record["updated_at"], "publishedAt": record["created_at"],
                "authorAssociation": record.get("author_association") or "NONE",
                "url": f"{HTML}/{full_name}/{kind}/{record['issue_number']}#issuecomment-{record['id']}"}

    def _reviews(self, repo: dict, data: RepoIndex, number: int, args: dict) -> dict:
        states = set(args.get("states") or ())
        author = self.world.user_by(args["author"]) if args.get("author") else None
        keyed = []
        for rid in data.reviews_by_pr.get(number, []):
            review = data.reviews[rid]
            if states and review["state"] not in states:
                continue
            if args.get("author") and (author is None or review["user_id"] != author["id"]):
                continue
            keyed.append(((review["submitted_at"], rid), rid))
        return paginate(keyed, args, False, lambda rid: self._review(repo, data, data.reviews[rid]))

    def _review(self, repo: dict, data: RepoIndex, record: dict) -> dict:
        rid = record["id"]
        return {"__typename": "PullRequestReview", "id": node_id("PullRequestReview", rid),
                "databaseId": rid, "fullDatabaseId": str(rid), "state": record["state"],
                "body": record.get("body") or "", "submittedAt": record["submitted_at"],
                "createdAt": record["submitted_at"], "publishedAt": record["submitted_at"],
                "updatedAt": record["submitted_at"],
                "authorAssociation": record.get("author_association") or "NONE",
                "author": lambda info, **_: self.actor(record["user_id"]),
                "commit": self._commit(repo, data, record.get("commit_id")),
                "comments": lambda info, **args: paginate(
                    [((rc["created_at"], rcid), rcid) for rcid in data.review_comments_by_pr.get(record["pr_number"], [])
                     if (rc := data.review_comments[rcid]).get("review_id") == rid],
                    args, False, lambda rcid: self._review_comment(repo, data, data.review_comments[rcid]))}

    def _review_threads(self, repo: dict, data: RepoIndex, number: int, args: dict) -> dict:
        threads: dict[int, list[int]] = {}
        for rcid in data.review_comments_by_pr.get(number, []):
            threads.setdefault(_thread_root(data, rcid), []).append(rcid)
        keyed = [((data.review_comments[root]["created_at"], root), root) for root in threads]
        return paginate(keyed, args, False, lambda root: self._thread(repo, data, root, threads[root]))

    def _thread(self, repo: dict, data: RepoIndex, root: int, members: list[int]) -> dict:
        first = data.review_comments[root]
        return {"__typename": "PullRequestReviewThread", "id": node_id("PullRequestReviewThread", root),
                "path": first.get("path") or "README.md", "isResolved": False, "isOutdated": False,
                "isCollapsed": False, "line": 1, "originalLine": 1, "diffSide": "RIGHT",
                "comments": lambda info, **args: paginate(
                    [((data.review_comments[rcid]["created_at"], rcid), rcid) for rcid in members],
                    args, False, lambda rcid: self._review_comment(repo, data, data.review_comments[rcid]))}

    def _review_comment(self, repo: dict, data: RepoIndex, record: dict) -> dict:
        rcid = record["id"]
        review = data.reviews.get(record.get("review_id"))
        reply_to = data.review_comments.get(record.get("in_reply_to_id"))
        full_name = f"{repo['owner']}/{repo['name']}"
        return {"__typename": "PullRequestReviewComment",
                "id": node_id("PullRequestReviewComment", rcid), "databaseId": rcid,
                "fullDatabaseId": str(rcid), "body": record.get("body") or "",
                "path": record.get("path") or "README.md", "createdAt": record["created_at"],
                "updatedAt": record["updated_at"], "publishedAt": record["created_at"],
                "authorAssociation": record.get("author_association") or "NONE",
                "author": lambda info, **_: self.actor(record["user_id"]),
                "commit": self._commit(repo, data, record.get("commit_id")),
                "pullRequestReview": (lambda info, **_: self._review(repo, data, review)) if review else None,
                "replyTo": (lambda info, **_: self._review_comment(repo, data, reply_to)) if reply_to else None,
                "url": f"{HTML}/{full_name}/pull/{record['pr_number']}#discussion_r{rcid}"}

    # -- timeline ----------------------------------------------------------------------

    def _timeline(self, info: GraphQLResolveInfo, repo: dict, data: RepoIndex, record: dict,
                  args: dict) -> dict:
        # the schema says which events an issue's or a pull request's timeline may hold
        union = info.schema.get_type("PullRequestTimelineItems" if record.get("pull_request")
                                     else "IssueTimelineItems")
        possible = {member.name for member in union.types}
        wanted = set(args.get("itemTypes") or ())
        since = _iso(args["since"]) if args.get("since") else None
        # sort keys (date, kind, id): events, the issue's comments, a PR's reviews
        keyed: list[tuple[tuple, tuple[str, int]]] = []
        for eid in self._issue_events(repo["id"], data).get(record["number"], []):
            event = data.issue_events[eid]
            type_name = EVENT_TYPES.get(event["event"])
            if type_name not in possible:
                continue
            if wanted and _item_type(type_name) not in wanted:
                continue
            if since and event["created_at"] < since:
                continue
            keyed.append(((event["created_at"], 0, eid), ("event", eid)))
        if "IssueComment" in possible and (not wanted or "ISSUE_COMMENT" in wanted):
            for cid in data.comments_by_issue.get(record["number"], []):
                created = data.issue_comments[cid]["created_at"]
                if not since or created >= since:
                    keyed.append(((created, 1, cid), ("comment", cid)))
        if "PullRequestReview" in possible and (not wanted or "PULL_REQUEST_REVIEW" in wanted):
            for rid in data.reviews_by_pr.get(record["number"], []):
                submitted = data.reviews[rid]["submitted_at"] or ""
                if not since or submitted >= since:
                    keyed.append(((submitted, 2, rid), ("review", rid)))
        keyed.sort(key=lambda pair: pair[0])
        skip = args.get("skip") or 0

        def make(item: tuple[str, int]) -> dict:
            kind, ident = item
            if kind == "comment":
                return self._comment(repo, data, data.issue_comments[ident])
            if kind == "review":
                return self._review(repo, data, data.reviews[ident])
            return self._event(repo, data, record, data.issue_events[ident])

        return paginate(keyed[skip:], args, False, make)

    def _issue_events(self, repo_id: int, data: RepoIndex) -> dict[int, list[int]]:
        """Event ids of each issue in a repo, oldest first, per repo generation."""
        cached = self._events_by_issue.get(repo_id)
        if cached is None or cached[0] != data.generation:
            grouped: dict[int, list[int]] = {}
            for eid in sorted(data.issue_events, key=lambda e: (data.issue_events[e]["created_at"], e)):
                grouped.setdefault(data.issue_events[eid]["issue_number"], []).append(eid)
            cached = (data.generation, grouped)
            self._events_by_issue[repo_id] = cached
        return cached[1]

    def _event(self, repo: dict, data: RepoIndex, parent: dict, event: dict) -> dict:
        type_name = EVENT_TYPES[event["event"]]
        body: dict[str, Any] = {
            "__typename": type_name, "id": node_id("IssueEvent", event["id"]),
            "createdAt": event["created_at"],
            "actor": lambda info, **_: self.actor(event["actor_id"]),
        }
        subject = lambda info, **_: self.item(repo, data, parent)  # noqa: E731
        if event.get("label"):
            body["label"] = self._label(repo, event["label"])
        body.update({"labelable": subject, "assignable": subject, "closable": subject,
                     "subject": subject, "pullRequest": subject})
        if event.get("assignee_id"):
            body["assignee"] = body["user"] = lambda info, **_: self.actor(event["assignee_id"])
        if event.get("milestone"):
            body["milestoneTitle"] = event["milestone"]
        if type_name in ("ClosedEvent", "ReopenedEvent"):
            reason = event.get("state_reason")
            body["stateReason"] = reason.upper() if reason else None
        commit = self._commit(repo, data, event.get("commit_id"))
        body["commit"] = commit
        if type_name == "ClosedEvent":
            body["closer"] = commit
        if type_name == "MergedEvent":
            base = (parent.get("pull_request") or {}).get("base_ref") or repo.get("default_branch") or "main"
            body["mergeRefName"] = base
        return body


# -- pagination -----------------------------------------------------------------------

CURSOR_PREFIX = "cursor:v2:"


def encode_cursor(key: tuple) -> str:
    """An opaque cursor naming an item's sort key."""
    return base64.b64encode((CURSOR_PREFIX + json.dumps(list(key), separators=(",", ":"))).encode()).decode()


def decode_cursor(cursor: str) -> tuple:
    """The sort key a cursor names (GraphQLError when it is not one of ours)."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        if not text.startswith(CURSOR_PREFIX):
            raise ValueError(text)
        key = json.loads(text[len(CURSOR_PREFIX):])
        if not isinstance(key, list):
            raise ValueError(text)
        return tuple(key)
    except (ValueError, UnicodeDecodeError):
        raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.",
                           extensions={"type": "INVALID_CURSOR_ARGUMENTS"}) from None


def paginate(keyed: list[tuple[tuple, Any]], args: dict, descending: bool,
             make_node: Callable[[Any], Any]) -> dict:
    """A connection over (sort key, item) pairs: ``first``/``after``, ``last``/``before``.

    ``totalCount`` counts every item; nodes are made only for the page.
    """
    ordered = sorted(keyed, key=lambda pair: pair[0], reverse=descending)
    keys = [key for key, _ in ordered]

    def position_after(cursor: str) -> int:
        mark = decode_cursor(cursor)
        for index, key in enumerate(keys):
            if (key < mark) if descending else (key > mark):
                return index
        return len(keys)

    def position_before(cursor: str) -> int:
        mark = decode_cursor(cursor)
        for index, key in enumerate(keys):
            if (key <= mark) if descending else (key >= mark):
                return index
        return len(keys)

    start = position_after(args["after"]) if args.get("after") else 0
    end = position_before(args["before"]) if args.get("before") else len(ordered)
    end = max(start, end)
    if args.get("first") is not None:
        end = min(end, start + args["first"])
    if args.get("last") is not None:
        start = max(start, end - args["last"])
    window = ordered[start:end]
    edges = [{"cursor": encode_cursor(key), "node": make_node(item)} for key, item in window]
    return {
        "totalCount": len(ordered),
        "nodes": [edge["node"] for edge in edges],
        "edges": edges,
        "pageInfo": {"hasNextPage": end < len(ordered), "hasPreviousPage": start > 0,
                     "startCursor": edges[0]["cursor"] if edges else None,
                     "endCursor": edges[-1]["cursor"] if edges else None},
    }


def resolve_field(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """graphql-core's field resolver here: a dict key, called with the arguments if a function."""
    value = source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
    if callable(value):
        return value(info, **args)
    return value


def _pull_state(record: dict) -> str:
    if (record.get("pull_request") or {}).get("merged_at"):
        return "MERGED"
    return record["state"].upper()


def _item_type(type_name: str) -> str:
    """``LabeledEvent`` -> ``LABELED_EVENT`` (the itemTypes enum value)."""
    return "".join("_" + c if c.isupper() and i else c for i, c in enumerate(type_name)).upper()


def _iso(value: Any) -> str:
    """A DateTime argument as the world's ``YYYY-MM-DDTHH:MM:SSZ``."""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _thread_root(data: RepoIndex, rcid: int) -> int:
    """The first comment of the review thread a review comment belongs to."""
    seen = set()
    while True:
        parent = data.review_comments[rcid].get("in_reply_to_id")
        if parent is None or parent not in data.review_comments or parent in seen:
            return rcid
        seen.add(rcid)
        rcid = parent
