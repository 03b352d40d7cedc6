"""The JSON-to-row stage of the GitHub harvest: one typed row per record kind, built from
GitHub's JSON as listed, and what of that JSON is kept (``slim_*``). Pure functions: the
listings (``graphminer.harvest.listings``) name them, the saver stores what they return.
"""

from __future__ import annotations

import json
from typing import Any

# Fields of a record that embed a GitHub user object.
USER_FIELDS = ("user", "actor", "assignee", "assigner", "author", "committer", "merged_by",
               "closed_by", "requested_reviewer", "review_requester", "owner")


def dumps(record: Any) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


# GitHub's stand-in for deleted accounts: every record of one names the same user.
GHOST_ID = 10137


def is_ghost(user: Any) -> bool:
    """A deleted account (GitHub's ``ghost``): an unknown author, never a person."""
    return isinstance(user, dict) and (user.get("id") == GHOST_ID
                                       or (user.get("login") == "ghost" and "id" not in user))


def user_id(user: Any) -> int | None:
    """The GitHub id of an embedded user; None when unknown (absent or a deleted account)."""
    if not isinstance(user, dict) or is_ghost(user):
        return None
    return user.get("id")


def users_in(record: dict) -> list[dict]:
    """The GitHub user objects embedded in a record (author, actor, assignees...)."""
    found = [record[name] for name in USER_FIELDS if isinstance(record.get(name), dict)]
    found += [user for user in record.get("assignees") or [] if isinstance(user, dict)]
    return [user for user in found if "login" in user and "id" in user and not is_ghost(user)]


def number_from_url(url: str | None) -> int | None:
    """The trailing number of an API URL (``.../issues/12`` -> 12)."""
    if not url:
        return None
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


# --- typed rows, one function per record kind ------------------------------------------


def org_row(raw: dict) -> dict:
    return {"id": raw["id"], "login": raw["login"], "name": raw.get("name"),
            "created_at": raw.get("created_at")}


def repo_row(org_id: int | None, raw: dict) -> dict:
    return {
        "id": raw["id"], "org_id": org_id, "owner": raw["owner"]["login"], "name": raw["name"],
        "full_name": raw["full_name"], "fork": int(bool(raw.get("fork"))),
        "archived": int(bool(raw.get("archived"))), "default_branch": raw.get("default_branch"),
        "created_at": raw.get("created_at"), "updated_at": raw.get("updated_at"),
        "pushed_at": raw.get("pushed_at"), "source": "github",
    }


def issue_row(repo_id: int, raw: dict) -> dict:
    pull = raw.get("pull_request")
    return {
        "repo_id": repo_id, "number": raw["number"], "id": raw.get("id"),
        "user_id": user_id(raw.get("user")), "title": raw.get("title"), "state": raw.get("state"),
        "state_reason": raw.get("state_reason"), "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"), "closed_at": raw.get("closed_at"),
        "is_pr": int(pull is not None),
        "draft": None if raw.get("draft") is None else int(bool(raw["draft"])),
        "merged_at": pull.get("merged_at") if isinstance(pull, dict) else None,
        "author_association": raw.get("author_association"),
        "labels": dumps([label.get("name") for label in raw.get("labels") or []
                         if isinstance(label, dict)]),
        "assignee_ids": dumps([user["id"] for user in raw.get("assignees") or []
                               if isinstance(user, dict)]),
    }


def comment_row(repo_id: int, raw: dict) -> dict:
    return {
        "id": raw["id"], "repo_id": repo_id, "issue_number": number_from_url(raw.get("issue_url")),
        "user_id": user_id(raw.get("user")), "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"), "author_association": raw.get("author_association"),
    }


def event_row(repo_id: int, raw: dict, number: int | None = None) -> dict:
    """``number``: the issue, for a per-issue listing (whose events do not embed it)."""
    label = raw.get("label")
    return {
        "id": raw["id"], "repo_id": repo_id,
        "issue_number": (raw.get("issue") or {}).get("number", number),
        "actor_id": user_id(raw.get("actor")), "event": raw.get("event"),
        "created_at": raw.get("created_at"),
        "label": label.get("name") if isinstance(label, dict) else None,
        "assignee_id": user_id(raw.get("assignee")), "commit_id": raw.get("commit_id"),
        "node_id": raw.get("node_id"),
    }


def review_row(repo_id: int, raw: dict, number: int | None = None) -> dict:
    """``number``: the pull request whose reviews were listed."""
    return {
        "id": raw["id"], "repo_id": repo_id,
        "pr_number": number if number is not None else number_from_url(raw.get("pull_request_url")),
        "user_id": user_id(raw.get("user")), "state": raw.get("state"),
        "submitted_at": raw.get("submitted_at"), "commit_id": raw.get("commit_id"),
    }


def review_comment_row(repo_id: int, raw: dict) -> dict:
    return {
        "id": raw["id"], "repo_id": repo_id,
        "pr_number": number_from_url(raw.get("pull_request_url")),
        "user_id": user_id(raw.get("user")), "review_id": raw.get("pull_request_review_id"),
        "in_reply_to_id": raw.get("in_reply_to_id"), "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"),
    }


def pull_row(repo_id: int, raw: dict) -> dict:
    head, base = raw.get("head") or {}, raw.get("base") or {}
    return {
        "repo_id": repo_id, "number": raw["number"], "id": raw.get("id"),
        "updated_at": raw.get("updated_at"), "merged_at": raw.get("merged_at"),
        "merge_commit_sha": raw.get("merge_commit_sha"), "head_sha": head.get("sha"),
        "head_ref": head.get("ref"), "base_ref": base.get("ref"),
    }


def commit_row(repo_id: int, raw: dict) -> dict:
    commit = raw.get("commit") or {}
    author, committer = commit.get("author") or {}, commit.get("committer") or {}
    return {
        "repo_id": repo_id, "sha": raw["sha"], "author_name": author.get("name"),
        "author_email": author.get("email"), "author_date": author.get("date"),
        "committer_name": committer.get("name"), "committer_email": committer.get("email"),
        "committer_date": committer.get("date"), "author_id": user_id(raw.get("author")),
        "committer_id": user_id(raw.get("committer")),
        "parents": dumps([parent.get("sha") for parent in raw.get("parents") or []]),
        "message": commit.get("message"), "source": "github",
    }


def release_row(repo_id: int, raw: dict) -> dict:
    return {
        "id": raw["id"], "repo_id": repo_id, "tag_name": raw.get("tag_name"),
        "name": raw.get("name"), "author_id": user_id(raw.get("author")),
        "draft": int(bool(raw.get("draft"))), "prerelease": int(bool(raw.get("prerelease"))),
        "created_at": raw.get("created_at"), "published_at": raw.get("published_at"),
    }


def committer_date(raw: dict) -> str | None:
    return ((raw.get("commit") or {}).get("committer") or {}).get("date")


def slim_event(raw: dict) -> dict:
    """An issue event without its embedded copy of the issue: the issue is stored on its
    own, and the copy would go stale (and mark the event changed) at every issue edit."""
    issue = raw.get("issue")
    if not isinstance(issue, dict):
        return raw
    return {**raw, "issue": {"id": issue.get("id"), "number": issue.get("number")}}


def slim_pull(raw: dict) -> dict:
    """A /pulls listing item without the two full repository objects it embeds."""
    slim = dict(raw)
    for side in ("head", "base"):
        part = slim.get(side)
        if isinstance(part, dict) and isinstance(part.get("repo"), dict):
            slim[side] = {**part, "repo": {"id": part["repo"].get("id"),
                                           "full_name": part["repo"].get("full_name")}}
    return slim
