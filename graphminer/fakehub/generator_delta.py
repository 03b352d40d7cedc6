"""World generator, stage 3: deltas that continue a generated world day by day.

Owns the delta files of ``docs/world-format.md`` ("Deltas") and ``apply_delta``, the pure
function that gives the world after a delta (used to compute ``truth-after-K.json``).
Each day brings new comments, closed issues (upsert + ``closed`` event), merged PRs
(upsert + ``merged`` and ``closed`` events + the PR's commits and its merge commit on the
default branch), a new issue; the first day always also holds a new repository, a deleted
repository, a renamed user and an edited comment, so a nightly harvest meets every kind.
When asked (``renamed``/``transferred``), the first day also renames repositories and
transfers others to a maintainer's own account, outside the harvested orgs; the moved
record keeps its old full names in ``former_names``.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from graphminer.errors import BadInput
from graphminer.fakehub.generator_cast import DAY, Maker, Plan, iso
from graphminer.fakehub.generator_repo import IdCounters, RepoSummary, sha_of
from graphminer.fakehub.world import FORMER_NAMES, current_names

KEYS: dict[str, tuple[str, ...]] = {"issues": ("repo_id", "number"), "commits": ("repo_id", "sha")}


def record_key(kind: str, record: dict) -> tuple:
    """The key a delta upsert replaces by (``id``, or the pair the format names)."""
    return tuple(record[name] for name in KEYS.get(kind, ("id",)))


def apply_delta(world: dict, delta: dict) -> dict:
    """The world after ``delta``: upserts replace or add by key; a deleted repo's record
    stays, marked ``"deleted": true`` (fakehub answers 404 for it, but a nightly harvest
    keeps what it stored before: the makers' history happened).

    Pure: ``world`` is not modified; untouched collections are shared with it.
    """
    result = current_names(world, "the world")
    changed: dict[str, tuple[list, dict]] = {}
    for op in delta["ops"]:
        kind = FORMER_NAMES.get(op["kind"], op["kind"])
        if kind not in changed:
            records = list(result.get(kind, []))
            changed[kind] = (records, {record_key(kind, r): i for i, r in enumerate(records)})
        records, index = changed[kind]
        if op["op"] == "upsert":
            key = record_key(kind, op["record"])
            if key in index:
                records[index[key]] = op["record"]
            else:
                index[key] = len(records)
                records.append(op["record"])
        elif op["op"] == "delete":
            key = (op["id"],)
            if key in index:
                records[index[key]] = {**records[index[key]], "deleted": True}
    for kind, (records, _) in changed.items():
        result[kind] = [r for r in records if r is not None]
    result["now"] = delta["now"]
    return result


class DeltaWriter:
    """Builds successive deltas from the base world's repository summaries."""

    def __init__(self, plan: Plan, summaries: list[RepoSummary], users: list[dict],
                 ids: IdCounters, seed: int, renamed: int = 0, transferred: int = 0) -> None:
        self.plan = plan
        self.makers: list[Maker] = plan.makers
        self.live = list(summaries)
        self.users = {u["id"]: u for u in users}
        self.by_user_id = {m.user_id: m for m in plan.makers if m.user_id is not None}
        self.ids = ids
        self.rnd = random.Random(seed * 7919 + 17)
        self.next_repo_id = 900_000
        self.renamed: set[int] = set()
        self.moves = (renamed, transferred)

    def _upsert(self, ops: list, kind: str, record: dict) -> None:
        ops.append({"op": "upsert", "kind": kind, "record": record})

    def _event(self, ops: list, summary: RepoSummary, number: int, actor: int, event: str,
               ts: int, commit: str | None = None, reason: str | None = None) -> None:
        self._upsert(ops, "issue_events", {
            "id": self.ids.take("event"), "repo_id": summary.repo["id"], "issue_number": number,
            "actor_id": actor, "event": event, "created_at": iso(ts), "label": None,
            "assignee_id": None, "milestone": None, "commit_id": commit, "state_reason": reason})

    def _maintainer(self, summary: RepoSummary, exclude: int | None = None) -> Maker:
        choices = [self.makers[i] for i in summary.maintainers if self.makers[i].user_id != exclude]
        return self.rnd.choice(choices) if choices else self.makers[summary.maintainers[0]]

    def _identity(self, maker: Maker) -> dict:
        email = maker.primary_email
        if maker.email_mode.startswith("noreply"):
            email = f"{maker.user_id}+{maker.login}@users.noreply.github.com"
        return {"name": maker.git_name, "email": email}

    def _comment(self, ops: list, summary: RepoSummary, issue: dict, ts: int) -> None:
        people = [self.makers[i] for i in summary.makers + summary.maintainers
                  if self.makers[i].login is not None]
        who = self.rnd.choice(people) if people else self._maintainer(summary)
        record = {"id": self.ids.take("comment"), "repo_id": summary.repo["id"],
                  "issue_number": issue["number"], "user_id": who.user_id,
                  "body": "Picking this up again today.", "created_at": iso(ts),
                  "updated_at": iso(ts), "author_association": "CONTRIBUTOR"}
        self._upsert(ops, "issue_comments", record)

    def _close_issue(self, ops: list, summary: RepoSummary, ts: int) -> bool:
        if not summary.open_issues:
            return False
        issue = copy.deepcopy(summary.open_issues.pop(0))
        closer = self._maintainer(summary, exclude=issue["user_id"])
        issue.update(state="closed", state_reason="completed", closed_at=iso(ts),
                     closed_by_id=closer.user_id, updated_at=iso(ts))
        self._upsert(ops, "issues", issue)
        self._event(ops, summary, issue["number"], closer.user_id, "closed", ts, reason="completed")
        return True

    def _merge_pr(self, ops: list, summary: RepoSummary, ts: int) -> bool:
        if not summary.open_prs:
            return False
        record, branch = summary.open_prs.pop(0)
        pull = copy.deepcopy(record)
        merger = self._maintainer(summary, exclude=pull["user_id"])
        author = self.by_user_id.get(pull["user_id"])
        for commit in branch:
            self._upsert(ops, "commits", commit)
        sha = sha_of(summary.repo["id"], "delta-merge", pull["number"])
        who = dict(self._identity(merger), date=iso(ts))
        owner = author.login if author else "someone"
        merge = {"repo_id": summary.repo["id"], "sha": sha,
                 "message": f"Merge pull request #{pull['number']} from {owner}/{pull['pull_request']['head_ref']}\n\n{pull['title']}",
                 "author": who, "committer": dict(who), "author_id": merger.user_id,
                 "committer_id": merger.user_id, "parents": [summary.head_sha, pull["pull_request"]["head_sha"]]}
        self._upsert(ops, "commits", merge)
        summary.head_sha, summary.head_ts = sha, ts
        pull.update(state="closed", closed_at=iso(ts), closed_by_id=merger.user_id, updated_at=iso(ts))
        pull["pull_request"].update(merged_at=iso(ts), merged_by_id=merger.user_id, merge_commit_sha=sha)
        self._upsert(ops, "issues", pull)
        self._event(ops, summary, pull["number"], merger.user_id, "merged", ts, commit=sha)
        self._event(ops, summary, pull["number"], merger.user_id, "closed", ts)
        repo = dict(summary.repo, pushed_at=iso(ts), updated_at=iso(ts))
        summary.repo = repo
        self._upsert(ops, "repos", repo)
        return True

    def _new_issue(self, ops: list, summary: RepoSummary, ts: int, author: Maker) -> dict:
        issue = {"repo_id": summary.repo["id"], "number": summary.next_number,
                 "id": self.ids.take("issue"), "user_id": author.user_id,
                 "title": "Page does not load on slow connections", "body": "Seen today.",
                 "state": "open", "state_reason": None, "created_at": iso(ts),
                 "updated_at": iso(ts), "closed_at": None, "closed_by_id": None, "labels": [],
                 "assignee_ids": [], "milestone": None, "author_association": "NONE",
                 "pull_request": None}
        summary.next_number += 1
        self._upsert(ops, "issues", issue)
        summary.open_issues.append(issue)
        return issue

    def _new_repo(self, ops: list, ts: int) -> RepoSummary:
        parent = self.rnd.choice(self.live)
        creator = self._maintainer(parent)
        self.next_repo_id += 1
        repo_id = self.next_repo_id
        record = dict(parent.repo, id=repo_id, name=f"new-project-{repo_id}",
                      description="Started this week", fork=False, archived=False,
                      blocked=False, created_at=iso(ts), updated_at=iso(ts + 600),
                      pushed_at=iso(ts + 600))
        for inherited in ("former_names", "private"):  # facts of the parent, not of the new repo
            record.pop(inherited, None)
        self._upsert(ops, "repos", record)
        who = dict(self._identity(creator), date=iso(ts + 600))
        sha = sha_of(repo_id, "initial")
        self._upsert(ops, "commits", {
            "repo_id": repo_id, "sha": sha, "message": "Initial commit", "author": who,
            "committer": dict(who), "author_id": creator.user_id, "committer_id": creator.user_id,
            "parents": []})
        summary = RepoSummary(repo=record, org=parent.org, head_sha=sha, head_ts=ts + 600,
                              next_number=1, maintainers=[creator.idx], open_issues=[],
                              open_prs=[], comments=[], makers=[creator.idx],
                              default_branch=record["default_branch"])
        self._new_issue(ops, summary, ts + 1200, creator)
        return summary

    def _rename(self, ops: list, touched: set[int]) -> None:
        for summary in self.live:
            for idx in summary.maintainers + summary.makers:
                maker = self.makers[idx]
                if maker.login is None or maker.user_type == "Bot" or maker.user_id in self.renamed:
                    continue
                if maker.user_id not in self.users:  # a deleted account
                    continue
                user = dict(self.users[maker.user_id])
                user["login"] = f"{maker.login}-{self.rnd.choice(('dev', 'civic', 'codes'))}"
                self.users[maker.user_id] = user
                maker.login = user["login"]
                self.renamed.add(maker.user_id)
                self._upsert(ops, "users", user)
                return

    def _edit_comment(self, ops: list, summary: RepoSummary, ts: int) -> bool:
        if not summary.comments:
            return False
        comment = dict(summary.comments[0], body=f"(edited {iso(ts)[:10]}) Thanks for raising this!",
                       updated_at=iso(ts))
        summary.comments[0] = comment
        self._upsert(ops, "issue_comments", comment)
        return True

    def _move_repos(self, ops: list, fresh: RepoSummary | None) -> None:
        """Rename and transfer the repos asked for (own random stream: other days unchanged),
        among those of the base world."""
        rnd = random.Random(self.plan.seed * 7919 + 301)
        renamed, transferred = self.moves
        older = [summary for summary in self.live if summary is not fresh]
        chosen = rnd.sample(older, min(len(older), renamed + transferred))
        for position, summary in enumerate(chosen):
            repo = summary.repo
            former = [*repo.get("former_names", []), f"{repo['owner']}/{repo['name']}"]
            if position < renamed:
                moved = dict(repo, name=f"{repo['name']}-next", former_names=former)
            else:
                owners = [self.makers[i] for i in summary.maintainers
                          if self.makers[i].user_id in self.users and self.makers[i].user_type == "User"]
                owner = rnd.choice(owners or [self.makers[summary.maintainers[0]]])
                self.renamed.add(owner.user_id)  # a later rename would orphan the repo's owner
                moved = dict(repo, owner=owner.login, former_names=former)
                self.live.remove(summary)  # it left the harvested orgs: no more activity here
            summary.repo = moved
            self._upsert(ops, "repos", moved)

    def day(self, number: int) -> dict:
        """The delta for day ``number`` (1-based) after the base world's now."""
        rnd = self.rnd
        first = number == 1
        day_start = self.plan.now + (number - 1) * DAY
        now = self.plan.now + number * DAY

        def at() -> int:
            return rnd.randint(day_start + 60, now - 3600)

        ops: list[dict[str, Any]] = []
        active = rnd.sample(self.live, min(len(self.live), max(3, len(self.live) // 20)))
        done = {"comment": False, "close": False, "merge": False, "edit": False}
        for summary in active:
            for issue in (summary.open_issues + [r for r, _ in summary.open_prs])[: rnd.randint(1, 2)]:
                self._comment(ops, summary, issue, at())
                done["comment"] = True
            if rnd.random() < 0.6 or (first and not done["close"]):
                done["close"] |= self._close_issue(ops, summary, at())
            if rnd.random() < 0.6 or (first and not done["merge"]):
                done["merge"] |= self._merge_pr(ops, summary, at())
            if rnd.random() < 0.3 or (first and not done["edit"]):
                done["edit"] |= self._edit_comment(ops, summary, at())
        if self.live and rnd.random() < 0.7:
            summary = rnd.choice(self.live)
            self._new_issue(ops, summary, at(), self._maintainer(summary))
        touched = {s.repo["id"] for s in active}
        if first or rnd.random() < 0.3:
            self._rename(ops, touched)
        fresh = None
        if first or rnd.random() < 0.3:
            fresh = self._new_repo(ops, at())
            self.live.append(fresh)
        older = [s for s in self.live if s is not fresh]
        if (first or rnd.random() < 0.2) and older and len(self.live) > 1:
            # an untouched repository when there is one; in a one-repository world, that one
            spare = [s for s in older if s.repo["id"] not in touched] or older
            gone = rnd.choice(spare)
            ops.append({"op": "delete", "kind": "repos", "id": gone.repo["id"]})
            self.live.remove(gone)
        if first and any(self.moves):
            self._move_repos(ops, fresh)
        return {"format": 1, "now": iso(now), "ops": ops}


def build_deltas(plan: Plan, summaries: list[RepoSummary], users: list[dict], ids: IdCounters,
                 days: int, seed: int, renamed: int = 0, transferred: int = 0) -> list[dict]:
    """``days`` deltas continuing the base world, day by day."""
    if days <= 0:
        return []
    if not summaries:
        raise BadInput("--delta-days needs at least one ordinary repository (not empty, fork, "
                       "archived or blocked); raise --repos-per-org")
    writer = DeltaWriter(plan, summaries, users, ids, seed, renamed, transferred)
    return [writer.day(number) for number in range(1, days + 1)]
