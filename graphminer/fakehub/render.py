"""fakehub's JSON shapes: turns world records into the objects GitHub's REST API returns.

Every function takes the world, the API base the request came in on (``http://HOST:PORT``
or ``http://HOST:PORT/api/v3``, so clients that follow ``url`` fields come back to fakehub)
and a record, and returns a plain dict shaped as GitHub's OpenAPI description says. Logins
are looked up by id at render time, so a renamed user shows the new login everywhere.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from graphminer.fakehub.world import RepoIndex, World

HTML = "https://github.com"
REACTION_KEYS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")
LICENSE = None  # worlds hold no licence facts; GitHub sends null when it detects none


def node_id(type_name: str, ident: Any) -> str:
    """GitHub's legacy global node id: base64 of ``0<len>:<Type><id>``."""
    raw = f"0{len(type_name)}:{type_name}{ident}"
    return base64.b64encode(raw.encode()).decode()


def small_id(*parts: Any) -> int:
    """A stable positive id for things the world names but does not number (labels)."""
    digest = hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=6).digest()
    return int.from_bytes(digest, "big") or 1


# Embedded objects (users, repos) repeat across thousands of records; they are built once
# per world generation. Keys carry the generation, so a rename or a delta never reuses a
# stale object. Callers must not mutate what these return (copy first).
_SHARED: dict[tuple, dict] = {}


def _shared(key: tuple, make) -> dict:
    hit = _SHARED.get(key)
    if hit is None:
        if len(_SHARED) > 200_000:
            _SHARED.clear()
        hit = _SHARED[key] = make()
    return hit


def user(world: World, api: str, user_id: int | None) -> dict | None:
    """The simple-user object embedded in records (None for a null id); shared, do not mutate."""
    if user_id is None:
        return None
    return _shared(("user", id(world), world.generation, api, user_id), lambda: _user(world, api, user_id))


def _user(world: World, api: str, user_id: int) -> dict | None:
    record = world.users.get(user_id) or world.orgs.get(user_id)
    if record is None:
        return None
    login = record["login"]
    kind = record.get("type", "Organization") if user_id in world.users else "Organization"
    url = f"{api}/users/{login}"
    return {
        "login": login, "id": user_id,
        "node_id": node_id("Bot" if kind == "Bot" else ("Organization" if kind == "Organization" else "User"), user_id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "", "url": url, "html_url": f"{HTML}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs", "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": kind, "user_view_type": "public", "site_admin": False,
    }


def public_user(world: World, api: str, record: dict) -> dict:
    """``GET /users/{login}``: the public profile."""
    body = dict(user(world, api, record["id"]))
    created = record.get("created_at") or world.now
    body.update({
        "name": record.get("name"), "company": None, "blog": "", "location": None,
        "email": record.get("email"), "hireable": None, "bio": None,
        "twitter_username": None,
        "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
        "created_at": created, "updated_at": record.get("updated_at") or created,
    })
    return body


def org_simple(world: World, api: str, org: dict) -> dict:
    """The organization-simple object (``/organizations``, ``/users/{u}/orgs``)."""
    url = f"{api}/orgs/{org['login']}"
    return {
        "login": org["login"], "id": org["id"], "node_id": node_id("Organization", org["id"]),
        "url": url, "repos_url": f"{url}/repos", "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks", "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{org['id']}?v=4",
        "description": org.get("description"),
    }


def org_full(world: World, api: str, org: dict) -> dict:
    """``GET /orgs/{org}``."""
    body = org_simple(world, api, org)
    repos = world.org_repos(org["login"])
    body.update({
        "name": org.get("name"), "twitter_username": None, "is_verified": False,
        "has_organization_projects": True, "has_repository_projects": True,
        "public_repos": sum(1 for repo in repos if not repo.get("private")), "public_gists": 0, "followers": 0, "following": 0,
        "html_url": f"{HTML}/{org['login']}",
        "created_at": org["created_at"], "updated_at": org.get("updated_at") or org["created_at"],
        "archived_at": None, "type": "Organization",
    })
    return body


def _owner_id(world: World, repo: dict) -> int | None:
    owner = world.org_by(repo["owner"]) or world.user_by(repo["owner"])
    return owner["id"] if owner else None


def repo_minimal(world: World, api: str, repo: dict) -> dict:
    """The repository object of listings (``/orgs/{org}/repos``); shared, do not mutate."""
    data = world.repo_data[repo["id"]]
    return _shared(("repo", id(world), world.generation, data.generation, api, repo["id"]),
                   lambda: _repo_minimal(world, api, repo))


def _repo_minimal(world: World, api: str, repo: dict) -> dict:
    full_name = f"{repo['owner']}/{repo['name']}"
    url = f"{api}/repos/{full_name}"
    owner = user(world, api, _owner_id(world, repo))
    data = world.repo_data[repo["id"]]
    return {
        "id": repo["id"], "node_id": node_id("Repository", repo["id"]), "name": repo["name"],
        "full_name": full_name, "private": bool(repo.get("private")), "owner": owner,
        "html_url": f"{HTML}/{full_name}", "description": repo.get("description"),
        "fork": bool(repo.get("fork")), "url": url,
        "archive_url": f"{url}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{url}/assignees{{/user}}",
        "blobs_url": f"{url}/git/blobs{{/sha}}", "branches_url": f"{url}/branches{{/branch}}",
        "collaborators_url": f"{url}/collaborators{{/collaborator}}",
        "comments_url": f"{url}/comments{{/number}}", "commits_url": f"{url}/commits{{/sha}}",
        "compare_url": f"{url}/compare/{{base}}...{{head}}",
        "contents_url": f"{url}/contents/{{+path}}",
        "contributors_url": f"{url}/contributors", "deployments_url": f"{url}/deployments",
        "downloads_url": f"{url}/downloads", "events_url": f"{url}/events",
        "forks_url": f"{url}/forks", "git_commits_url": f"{url}/git/commits{{/sha}}",
        "git_refs_url": f"{url}/git/refs{{/sha}}", "git_tags_url": f"{url}/git/tags{{/sha}}",
        "git_url": f"git://github.com/{full_name}.git",
        "issue_comment_url": f"{url}/issues/comments{{/number}}",
        "issue_events_url": f"{url}/issues/events{{/number}}",
        "issues_url": f"{url}/issues{{/number}}", "keys_url": f"{url}/keys{{/key_id}}",
        "labels_url": f"{url}/labels{{/name}}", "languages_url": f"{url}/languages",
        "merges_url": f"{url}/merges", "milestones_url": f"{url}/milestones{{/number}}",
        "notifications_url": f"{url}/notifications{{?since,all,participating}}",
        "pulls_url": f"{url}/pulls{{/number}}", "releases_url": f"{url}/releases{{/id}}",
        "ssh_url": f"git@github.com:{full_name}.git",
        "stargazers_url": f"{url}/stargazers", "statuses_url": f"{url}/statuses/{{sha}}",
        "subscribers_url": f"{url}/subscribers", "subscription_url": f"{url}/subscription",
        "tags_url": f"{url}/tags", "teams_url": f"{url}/teams",
        "trees_url": f"{url}/git/trees{{/sha}}",
        "clone_url": f"{HTML}/{full_name}.git", "mirror_url": None,
        "hooks_url": f"{url}/hooks", "svn_url": f"{HTML}/{full_name}",
        "homepage": repo.get("homepage"), "language": repo.get("language"),
        "forks_count": 0, "forks": 0, "stargazers_count": 0, "watchers_count": 0,
        "watchers": 0, "size": 0 if not data.commits else max(1, len(data.commits) // 10),
        "default_branch": repo.get("default_branch") or "main",
        "open_issues_count": data.open_issues, "open_issues": data.open_issues,
        "is_template": False, "topics": [], "has_issues": True, "has_projects": True,
        "has_wiki": True, "has_pages": False, "has_downloads": True,
        "has_discussions": False, "archived": bool(repo.get("archived")),
        "disabled": False, "visibility": "private" if repo.get("private") else "public",
        "pushed_at": repo.get("pushed_at") or repo["created_at"],
        "created_at": repo["created_at"],
        "updated_at": repo.get("updated_at") or repo["created_at"],
        "permissions": {"admin": False, "maintain": False, "push": False, "triage": False,
                        "pull": True},
        "allow_forking": True, "web_commit_signoff_required": False,
        "license": LICENSE,
    }


def repo_full(world: World, api: str, repo: dict) -> dict:
    """``GET /repos/{o}/{r}``: the full repository."""
    body = dict(repo_minimal(world, api, repo))
    owner = world.org_by(repo["owner"])
    if owner is not None:
        body["organization"] = user(world, api, owner["id"])
    body.update({"network_count": 0, "subscribers_count": 0, "temp_clone_token": None})
    return body


def label(api: str, repo: dict, name: str) -> dict:
    """A label object (labels are names in the world; ids are derived from them)."""
    full_name = f"{repo['owner']}/{repo['name']}"
    return {
        "id": small_id("label", repo["id"], name), "node_id": node_id("Label", small_id("label", repo["id"], name)),
        "url": f"{api}/repos/{full_name}/labels/{name}", "name": name,
        "color": hashlib.md5(name.encode()).hexdigest()[:6], "default": False,
        "description": "",
    }


def milestone(world: World, api: str, repo: dict, data: RepoIndex, title: str | None) -> dict | None:
    """A milestone object (milestones are titles in the world, numbered in order of use)."""
    if not title:
        return None
    full_name = f"{repo['owner']}/{repo['name']}"
    stats = data.milestones[title]
    number = stats["number"]
    ident = small_id("milestone", repo["id"], title)
    opened, created, updated = stats["open"], stats["created_at"], stats["updated_at"]
    return {
        "url": f"{api}/repos/{full_name}/milestones/{number}",
        "html_url": f"{HTML}/{full_name}/milestone/{number}",
        "labels_url": f"{api}/repos/{full_name}/milestones/{number}/labels",
        "id": ident, "node_id": node_id("Milestone", ident), "number": number,
        "state": "open", "title": title, "description": None, "creator": None,
        "open_issues": opened, "closed_issues": stats["closed"],
        "created_at": created, "updated_at": updated, "closed_at": None, "due_on": None,
    }


def _reactions(url: str) -> dict:
    body: dict[str, Any] = {"url": url, "total_count": 0}
    body.update({key: 0 for key in REACTION_KEYS})
    return body


def issue(world: World, api: str, repo: dict, record: dict, full: bool = False) -> dict:
    """An issue (or a PR seen as an issue, with its ``pull_request`` key)."""
    data = world.repo_data[repo["id"]]
    full_name = f"{repo['owner']}/{repo['name']}"
    repo_url = f"{api}/repos/{full_name}"
    number = record["number"]
    url = f"{repo_url}/issues/{number}"
    pr = record.get("pull_request")
    assignees = [user(world, api, uid) for uid in record.get("assignee_ids") or []]
    assignees = [a for a in assignees if a is not None]
    body: dict[str, Any] = {
        "url": url, "repository_url": repo_url,
        "labels_url": f"{url}/labels{{/name}}", "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{HTML}/{full_name}/{'pull' if pr else 'issues'}/{number}",
        "id": record["id"], "node_id": node_id("Issue", record["id"]), "number": number,
        "title": record.get("title") or f"Issue {number}",
        "user": user(world, api, record["user_id"]),
        "labels": [label(api, repo, name) for name in record.get("labels") or []],
        "state": record["state"], "locked": False,
        "assignee": assignees[0] if assignees else None, "assignees": assignees,
        "milestone": milestone(world, api, repo, data, record.get("milestone")),
        "comments": data.comment_count.get(number, 0),
        "created_at": record["created_at"], "updated_at": data.issue_updated[number],
        "closed_at": record.get("closed_at"),
        "author_association": record.get("author_association") or "NONE",
        "type": None, "active_lock_reason": None, "draft": bool(pr and pr.get("draft")),
        "body": record.get("body"),
        "reactions": _reactions(f"{url}/reactions"),
        "timeline_url": f"{url}/timeline", "performed_via_github_app": None,
        "state_reason": record.get("state_reason"),
    }
    if not pr:
        del body["draft"]
    else:
        pulls = f"{repo_url}/pulls/{number}"
        body["pull_request"] = {
            "url": pulls, "html_url": f"{HTML}/{full_name}/pull/{number}",
            "diff_url": f"{HTML}/{full_name}/pull/{number}.diff",
            "patch_url": f"{HTML}/{full_name}/pull/{number}.patch",
            "merged_at": pr.get("merged_at"),
        }
    if full:
        body["closed_by"] = user(world, api, record.get("closed_by_id"))
    return body


def _branch(world: World, api: str, repo: dict, ref: str, sha: str | None) -> dict:
    owner = user(world, api, _owner_id(world, repo))
    return {
        "label": f"{repo['owner']}:{ref}", "ref": ref, "sha": sha or "0" * 40,
        "user": owner, "repo": repo_minimal(world, api, repo),
    }


def pull(world: World, api: str, repo: dict, record: dict, full: bool = False) -> dict:
    """A pull request: the list shape, or with ``full`` the single-PR shape."""
    data = world.repo_data[repo["id"]]
    as_issue = issue(world, api, repo, record)
    pr = record["pull_request"]
    full_name = f"{repo['owner']}/{repo['name']}"
    repo_url = f"{api}/repos/{full_name}"
    number = record["number"]
    url = f"{repo_url}/pulls/{number}"
    issue_url = f"{repo_url}/issues/{number}"
    head_sha = pr.get("head_sha")
    pr_id = pr.get("id") or record["id"]
    body: dict[str, Any] = {
        "url": url, "id": pr_id, "node_id": node_id("PullRequest", pr_id),
        "html_url": f"{HTML}/{full_name}/pull/{number}",
        "diff_url": f"{HTML}/{full_name}/pull/{number}.diff",
        "patch_url": f"{HTML}/{full_name}/pull/{number}.patch",
        "issue_url": issue_url, "number": number, "state": record["state"], "locked": False,
        "title": as_issue["title"], "user": as_issue["user"], "body": as_issue["body"],
        "labels": as_issue["labels"], "milestone": as_issue["milestone"],
        "active_lock_reason": None,
        "created_at": record["created_at"], "updated_at": data.pull_updated[number],
        "closed_at": record.get("closed_at"), "merged_at": pr.get("merged_at"),
        "merge_commit_sha": pr.get("merge_commit_sha"),
        "assignee": as_issue["assignee"], "assignees": as_issue["assignees"],
        "requested_reviewers": [u for u in (user(world, api, uid) for uid in pr.get("requested_reviewer_ids") or []) if u],
        "requested_teams": [],
        "commits_url": f"{url}/commits", "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{repo_url}/pulls/comments{{/number}}",
        "comments_url": f"{issue_url}/comments",
        "statuses_url": f"{repo_url}/statuses/{head_sha or '0' * 40}",
        "head": _branch(world, api, repo, pr.get("head_ref") or f"pr-{number}", head_sha),
        "base": _branch(world, api, repo, pr.get("base_ref") or repo.get("default_branch") or "main",
                        pr.get("base_sha")),
        "_links": {
            "self": {"href": url}, "html": {"href": f"{HTML}/{full_name}/pull/{number}"},
            "issue": {"href": issue_url}, "comments": {"href": f"{issue_url}/comments"},
            "review_comments": {"href": f"{url}/comments"},
            "review_comment": {"href": f"{repo_url}/pulls/comments{{/number}}"},
            "commits": {"href": f"{url}/commits"},
            "statuses": {"href": f"{repo_url}/statuses/{head_sha or '0' * 40}"},
        },
        "author_association": as_issue["author_association"], "auto_merge": None,
        "draft": bool(pr.get("draft")),
    }
    if full:
        merged = pr.get("merged_at") is not None
        body.update({
            "merged": merged, "mergeable": None if record["state"] == "open" else (not merged and None),
            "rebaseable": None, "mergeable_state": "unknown",
            "merged_by": user(world, api, pr.get("merged_by_id")) if merged else None,
            "comments": data.comment_count.get(number, 0),
            "review_comments": data.review_comment_count.get(number, 0),
            "maintainer_can_modify": False,
            "commits": len(data.commits_by_pr.get(number, ())) or (1 if head_sha else 0),
            "additions": 0, "deletions": 0, "changed_files": 0,
        })
    return body


def comment(world: World, api: str, repo: dict, record: dict) -> dict:
    """An issue comment."""
    full_name = f"{repo['owner']}/{repo['name']}"
    repo_url = f"{api}/repos/{full_name}"
    issue_record = world.repo_data[repo["id"]].issues.get(record["issue_number"]) or {}
    kind = "pull" if issue_record.get("pull_request") else "issues"
    url = f"{repo_url}/issues/comments/{record['id']}"
    return {
        "url": url,
        "html_url": f"{HTML}/{full_name}/{kind}/{record['issue_number']}#issuecomment-{record['id']}",
        "issue_url": f"{repo_url}/issues/{record['issue_number']}",
        "id": record["id"], "node_id": node_id("IssueComment", record["id"]),
        "user": user(world, api, record["user_id"]),
        "created_at": record["created_at"], "updated_at": record["updated_at"],
        "author_association": record.get("author_association") or "NONE",
        "body": record.get("body") or "", "reactions": _reactions(f"{url}/reactions"),
        "performed_via_github_app": None,
    }


def event(world: World, api: str, repo: dict, record: dict, with_issue: bool = True) -> dict:
    """An issue event, with the ``issue`` it belongs to (as the repo-wide listing has it).

    The server asks ``with_issue=False`` and appends the issue's cached bytes itself.
    """
    full_name = f"{repo['owner']}/{repo['name']}"
    repo_url = f"{api}/repos/{full_name}"
    commit_id = record.get("commit_id")
    body: dict[str, Any] = {
        "id": record["id"], "node_id": node_id("IssueEvent", record["id"]),
        "url": f"{repo_url}/issues/events/{record['id']}",
        "actor": user(world, api, record["actor_id"]), "event": record["event"],
        "commit_id": commit_id,
        "commit_url": f"{repo_url}/commits/{commit_id}" if commit_id else None,
        "created_at": record["created_at"], "performed_via_github_app": None,
    }
    if record.get("label"):
        body["label"] = {"name": record["label"], "color": label(api, repo, record["label"])["color"]}
    if record.get("assignee_id"):
        assignee = user(world, api, record["assignee_id"])
        body["assignee"] = assignee
        body["assigner"] = body["actor"]
    if record.get("milestone"):
        body["milestone"] = {"title": record["milestone"]}
    if record["event"] in ("closed", "reopened") or record.get("state_reason"):
        body["state_reason"] = record.get("state_reason")
    issue_record = world.repo_data[repo["id"]].issues.get(record["issue_number"])
    if issue_record is not None and with_issue:
        body["issue"] = issue(world, api, repo, issue_record)
    return body


def review(world: World, api: str, repo: dict, record: dict) -> dict:
    """A pull request review."""
    full_name = f"{repo['owner']}/{repo['name']}"
    pr_url = f"{api}/repos/{full_name}/pulls/{record['pr_number']}"
    html = f"{HTML}/{full_name}/pull/{record['pr_number']}#pullrequestreview-{record['id']}"
    return {
        "id": record["id"], "node_id": node_id("PullRequestReview", record["id"]),
        "user": user(world, api, record["user_id"]), "body": record.get("body") or "",
        "state": record["state"], "html_url": html, "pull_request_url": pr_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "submitted_at": record["submitted_at"],
        "commit_id": record.get("commit_id") or "0" * 40,
        "author_association": record.get("author_association") or "NONE",
    }


def timeline_comment(world: World, api: str, repo: dict, record: dict) -> dict:
    """An issue comment as a timeline item (``event: commented``, the author as ``actor``)."""
    body = comment(world, api, repo, record)
    return {"event": "commented", "actor": body["user"], **body}


def timeline_review(world: World, api: str, repo: dict, record: dict) -> dict:
    """A review as a timeline item (``event: reviewed``; the state in lower case, as GitHub's
    timeline writes it)."""
    body = review(world, api, repo, record)
    return {"event": "reviewed", **body, "state": body["state"].lower()}


def review_comment(world: World, api: str, repo: dict, record: dict) -> dict:
    """A pull request review comment."""
    full_name = f"{repo['owner']}/{repo['name']}"
    repo_url = f"{api}/repos/{full_name}"
    url = f"{repo_url}/pulls/comments/{record['id']}"
    pr_url = f"{repo_url}/pulls/{record['pr_number']}"
    html = f"{HTML}/{full_name}/pull/{record['pr_number']}#discussion_r{record['id']}"
    commit_id = record.get("commit_id") or "0" * 40
    body = {
        "url": url, "pull_request_review_id": record.get("review_id"),
        "id": record["id"], "node_id": node_id("PullRequestReviewComment", record["id"]),
        "diff_hunk": "@@ -1 +1 @@", "path": record.get("path") or "README.md",
        "position": 1, "original_position": 1, "commit_id": commit_id,
        "original_commit_id": commit_id, "in_reply_to_id": record.get("in_reply_to_id"),
        "user": user(world, api, record["user_id"]), "body": record.get("body") or "",
        "created_at": record["created_at"], "updated_at": record["updated_at"],
        "html_url": html, "pull_request_url": pr_url,
        "author_association": record.get("author_association") or "NONE",
        "_links": {"self": {"href": url}, "html": {"href": html},
                   "pull_request": {"href": pr_url}},
        "reactions": _reactions(f"{url}/reactions"),
        "start_line": None, "original_start_line": None, "start_side": None,
        "line": 1, "original_line": 1, "side": "RIGHT", "subject_type": "line",
    }
    if body["in_reply_to_id"] is None:
        del body["in_reply_to_id"]  # GitHub leaves it out of comments that start a thread
    return body


def commit(world: World, api: str, repo: dict, record: dict) -> dict:
    """A commit as the commits listings return it."""
    full_name = f"{repo['owner']}/{repo['name']}"
    repo_url = f"{api}/repos/{full_name}"
    sha = record["sha"]
    url = f"{repo_url}/commits/{sha}"
    tree = hashlib.sha1(f"tree{sha}".encode()).hexdigest()

    def person(value: dict) -> dict:
        return {"name": value.get("name") or "", "email": value.get("email") or "",
                "date": value["date"]}

    return {
        "sha": sha, "node_id": node_id("Commit", f"{repo['id']}:{sha}"),
        "commit": {
            "author": person(record["author"]), "committer": person(record["committer"]),
            "message": record.get("message") or "", "tree": {"sha": tree, "url": f"{repo_url}/git/trees/{tree}"},
            "url": f"{repo_url}/git/commits/{sha}", "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned", "signature": None,
                             "payload": None, "verified_at": None},
        },
        "url": url, "html_url": f"{HTML}/{full_name}/commit/{sha}",
        "comments_url": f"{url}/comments",
        "author": user(world, api, record.get("author_id")),
        "committer": user(world, api, record.get("committer_id")),
        "parents": [{"sha": p, "url": f"{repo_url}/commits/{p}",
                     "html_url": f"{HTML}/{full_name}/commit/{p}"} for p in record.get("parents") or []],
    }


def release(world: World, api: str, repo: dict, record: dict) -> dict:
    """A release."""
    full_name = f"{repo['owner']}/{repo['name']}"
    url = f"{api}/repos/{full_name}/releases/{record['id']}"
    tag = record["tag_name"]
    return {
        "url": url, "assets_url": f"{url}/assets",
        "upload_url": f"https://uploads.github.com/repos/{full_name}/releases/{record['id']}/assets{{?name,label}}",
        "html_url": f"{HTML}/{full_name}/releases/tag/{tag}",
        "id": record["id"], "node_id": node_id("Release", record["id"]),
        "author": user(world, api, record["author_id"]), "tag_name": tag,
        "target_commitish": record.get("target_commitish") or repo.get("default_branch") or "main",
        "name": record.get("name"), "draft": bool(record.get("draft")),
        "prerelease": bool(record.get("prerelease")), "immutable": False,
        "created_at": record["created_at"], "published_at": record.get("published_at"),
        "updated_at": record.get("published_at") or record["created_at"],
        "assets": [],
        "tarball_url": f"{api}/repos/{full_name}/tarball/{tag}",
        "zipball_url": f"{api}/repos/{full_name}/zipball/{tag}",
        "body": record.get("body"),
    }


def contributor(world: World, api: str, user_id: int | None, person: dict, count: int) -> dict:
    """A contributor: a user with a count, or (``anon=1``) an email-only author."""
    if user_id is not None:
        body = dict(user(world, api, user_id))
        body["contributions"] = count
        return body
    return {"email": person.get("email"), "name": person.get("name"), "type": "Anonymous",
            "contributions": count}


def root(api: str) -> dict:
    """``GET /``: the map of URL templates."""
    return {
        "current_user_url": f"{api}/user",
        "current_user_authorizations_html_url": f"{HTML}/settings/connections/applications{{/client_id}}",
        "authorizations_url": f"{api}/authorizations",
        "code_search_url": f"{api}/search/code?q={{query}}{{&page,per_page,sort,order}}",
        "commit_search_url": f"{api}/search/commits?q={{query}}{{&page,per_page,sort,order}}",
        "emails_url": f"{api}/user/emails", "emojis_url": f"{api}/emojis",
        "events_url": f"{api}/events", "feeds_url": f"{api}/feeds",
        "followers_url": f"{api}/user/followers",
        "following_url": f"{api}/user/following{{/target}}",
        "gists_url": f"{api}/gists{{/gist_id}}", "hub_url": f"{api}/hub",
        "issue_search_url": f"{api}/search/issues?q={{query}}{{&page,per_page,sort,order}}",
        "issues_url": f"{api}/issues", "keys_url": f"{api}/user/keys",
        "label_search_url": f"{api}/search/labels?q={{query}}&repository_id={{repository_id}}{{&page,per_page}}",
        "notifications_url": f"{api}/notifications",
        "organization_url": f"{api}/orgs/{{org}}",
        "organization_repositories_url": f"{api}/orgs/{{org}}/repos{{?type,page,per_page,sort}}",
        "organization_teams_url": f"{api}/orgs/{{org}}/teams",
        "public_gists_url": f"{api}/gists/public", "rate_limit_url": f"{api}/rate_limit",
        "repository_url": f"{api}/repos/{{owner}}/{{repo}}",
        "repository_search_url": f"{api}/search/repositories?q={{query}}{{&page,per_page,sort,order}}",
        "current_user_repositories_url": f"{api}/user/repos{{?type,page,per_page,sort}}",
        "starred_url": f"{api}/user/starred{{/owner}}{{/repo}}",
        "starred_gists_url": f"{api}/gists/starred", "topic_search_url": f"{api}/search/topics?q={{query}}{{&page,per_page}}",
        "user_url": f"{api}/users/{{user}}",
        "user_organizations_url": f"{api}/user/orgs",
        "user_repositories_url": f"{api}/users/{{user}}/repos{{?type,page,per_page,sort}}",
        "user_search_url": f"{api}/search/users?q={{query}}{{&page,per_page,sort,order}}",
    }


def rate_limit(limit: int, remaining: int, reset: int, used: int, search: Any = None) -> dict:
    """``GET /rate_limit``: the token's core and search budgets (the others are nominal);
    ``search`` is the server's search window (limit, used, reset)."""
    core = {"limit": limit, "used": used, "remaining": remaining, "reset": reset}
    other = {"limit": 30, "used": 0, "remaining": 30, "reset": reset}
    searching = dict(other) if search is None else {
        "limit": search.limit, "used": search.used,
        "remaining": max(0, search.limit - search.used), "reset": search.reset}
    return {
        "resources": {"core": core, "search": searching, "graphql": dict(core), "code_search": dict(other),
                      "integration_manifest": dict(other)},
        "rate": core,
    }
