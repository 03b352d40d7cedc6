"""World generator: deleted accounts, whose old records GitHub shows as the user ``ghost``.

Owns choosing which makers deleted their account (``generate --deleted-accounts N``) and
rewriting their records as GitHub serves them afterwards: every user reference (author,
actor, assignee, closer, merger, requested reviewer, release author) becomes ``ghost``
(id 10137), a commit's author/committer link becomes null (git keeps the name and email,
the account is gone), and the user leaves ``users`` and every org's member lists.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from graphminer.errors import BadInput
from graphminer.fakehub.generator_cast import Plan

GHOST_ID = 10137
GHOST = {"id": GHOST_ID, "login": "ghost", "type": "User", "name": None, "email": None,
         "created_at": "2008-05-13T00:00:00Z"}

Emit = Callable[[str, dict], None]


def deleted_makers(plan: Plan, count: int) -> set[int]:
    """User ids of ``count`` makers with an account and planned activity (their own random
    stream, so other choices are unchanged); a maker holding id 10137 is always one of them."""
    if count == 0:
        return set()
    active = {stint.maker for repo in plan.repos if not repo.empty
              for stint in repo.stints if stint.role != "git_only"}
    candidates = [maker.user_id for maker in plan.makers
                  if maker.login is not None and maker.user_type == "User" and maker.idx in active]
    if count < 0 or count > len(candidates):
        raise BadInput(f"--deleted-accounts must be from 0 to {len(candidates)} (makers with an "
                       "account and activity); raise --makers for more")
    chosen = set(random.Random(plan.seed * 7919 + GHOST_ID).sample(sorted(candidates), count))
    holder = next((m for m in plan.makers if m.user_id == GHOST_ID), None)
    if holder is not None and GHOST_ID not in chosen:
        if holder.user_type != "User":
            raise BadInput(f"--deleted-accounts: the bot {holder.login} holds id {GHOST_ID}, "
                           "ghost's; choose another --seed or --makers")
        chosen.add(GHOST_ID)  # its records show ghost under the same id
    return chosen


def _user(value: int | None, deleted: set[int]) -> int | None:
    return GHOST_ID if value in deleted else value


def as_ghost(kind: str, record: dict, deleted: set[int]) -> dict:
    """The record as GitHub serves it once the ``deleted`` accounts are gone (a copy when
    anything changes)."""
    if kind == "commits":
        if record.get("author_id") in deleted or record.get("committer_id") in deleted:
            record = dict(record)
            for field in ("author_id", "committer_id"):
                if record.get(field) in deleted:
                    record[field] = None
        return record
    fields = {"issues": ("user_id", "closed_by_id"), "issue_comments": ("user_id",),
              "reviews": ("user_id",), "review_comments": ("user_id",),
              "issue_events": ("actor_id", "assignee_id"), "releases": ("author_id",)}.get(kind, ())
    record = dict(record)
    for field in fields:
        if field in record:
            record[field] = _user(record[field], deleted)
    if kind == "issues":
        record["assignee_ids"] = [_user(uid, deleted) for uid in record.get("assignee_ids") or []]
        if record.get("pull_request"):
            pull = record["pull_request"] = dict(record["pull_request"])
            pull["merged_by_id"] = _user(pull.get("merged_by_id"), deleted)
            if "requested_reviewer_ids" in pull:
                pull["requested_reviewer_ids"] = [_user(uid, deleted) for uid in pull["requested_reviewer_ids"]]
    return record


def ghostly(emit: Emit, deleted: set[int]) -> Emit:
    """``emit`` with every record rewritten by ``as_ghost`` (``emit`` itself when none)."""
    if not deleted:
        return emit
    return lambda kind, record: emit(kind, as_ghost(kind, record, deleted))


def without_deleted(users: list[dict], orgs: list[dict], deleted: set[int]) -> tuple[list, list]:
    """Users without the deleted accounts (plus ``ghost``), orgs without them as members."""
    if not deleted:
        return users, orgs
    kept = [user for user in users if user["id"] not in deleted] + [dict(GHOST)]
    members = [dict(org, members=[u for u in org["members"] if u not in deleted],
                    public_members=[u for u in org["public_members"] if u not in deleted])
               for org in orgs]
    return kept, members


def ghost_delta(delta: dict, deleted: set[int]) -> dict:
    """A delta with its records rewritten by ``as_ghost`` (users and orgs untouched)."""
    if not deleted:
        return delta
    ops = []
    for op in delta["ops"]:
        if op["op"] == "upsert" and op["kind"] not in ("users", "orgs", "repos"):
            op = dict(op, record=as_ghost(op["kind"], op["record"], deleted))
        ops.append(op)
    return dict(delta, ops=ops)
