"""fakehub's world model: loads and checks world and delta files, indexes them, applies deltas.

The world file format is ``docs/world-format.md``. This module knows facts (records and
the indexes the server looks them up by) and nothing of GitHub's JSON shapes, which are
``render.py``'s. Every malformed file is a ``BadInput`` naming the file, the place
(``issues[12].repo_id``) and the problem.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphminer.errors import BadInput

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

COLLECTIONS = (
    "users", "orgs", "repos", "issues", "issue_comments", "issue_events", "reviews",
    "review_comments", "commits", "releases",
)
# The names world files written before the collections took the harvester's and the
# store's names (``graphminer.harvest.listings``); still read, as the names above.
FORMER_NAMES = {"comments": "issue_comments", "events": "issue_events"}

# Field checks per collection: name -> kind. Kinds ending in "?" also accept null.
# Only what the server relies on is required; cosmetic fields (titles, bodies,
# descriptions) default when absent so generators may stay lean.
REQUIRED: dict[str, dict[str, str]] = {
    "users": {"id": "id", "login": "str", "type": "usertype"},
    "orgs": {"id": "id", "login": "str", "created_at": "time"},
    "repos": {"id": "id", "owner": "str", "name": "str", "created_at": "time"},
    "issues": {"repo_id": "repo", "number": "id", "id": "id", "user_id": "user?",
               "state": "state", "created_at": "time", "updated_at": "time",
               "closed_at": "time?"},
    "issue_comments": {"id": "id", "repo_id": "repo", "issue_number": "id", "user_id": "user?",
                       "created_at": "time", "updated_at": "time"},
    "issue_events": {"id": "id", "repo_id": "repo", "issue_number": "id", "actor_id": "user?",
                     "event": "str", "created_at": "time"},
    "reviews": {"id": "id", "repo_id": "repo", "pr_number": "id", "user_id": "user?",
                "state": "str", "submitted_at": "time"},
    "review_comments": {"id": "id", "repo_id": "repo", "pr_number": "id", "user_id": "user?",
                        "created_at": "time", "updated_at": "time"},
    "commits": {"repo_id": "repo", "sha": "sha", "author": "person", "committer": "person",
                "author_id": "user?", "committer_id": "user?"},
    "releases": {"id": "id", "repo_id": "repo", "tag_name": "str", "author_id": "user?",
                 "created_at": "time", "published_at": "time?"},
}

# repo-scoped records that belong to an issue or PR, and the field naming it
PARENT = {"issue_comments": "issue_number", "issue_events": "issue_number", "reviews": "pr_number",
          "review_comments": "pr_number"}

SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")


def _kind_problem(value: Any, kind: str, world: World | None) -> str | None:
    """Why ``value`` is not of ``kind`` (None when it is)."""
    if kind.endswith("?"):
        if value is None:
            return None
        kind = kind[:-1]
    if kind in ("id", "user", "repo"):
        if type(value) is not int or value <= 0:
            return f"must be a positive integer, got {value!r}"
        if world is not None and kind == "user" and value not in world.users:
            return f"names user id {value}, which is not in users"
        if world is not None and kind == "repo" and value not in world.repos:
            return f"names repo id {value}, which is not in repos"
        return None
    if kind == "str":
        return None if isinstance(value, str) and value else f"must be a non-empty string, got {value!r}"
    if kind == "time":
        return None if isinstance(value, str) and TIME_RE.match(value) else (
            f"must be a UTC time YYYY-MM-DDTHH:MM:SSZ, got {value!r}")
    if kind == "usertype":
        return None if value in ("User", "Bot") else f"must be \"User\" or \"Bot\", got {value!r}"
    if kind == "state":
        return None if value in ("open", "closed") else f"must be \"open\" or \"closed\", got {value!r}"
    if kind == "sha":
        return None if isinstance(value, str) and SHA_RE.match(value) else (
            f"must be a lowercase hex sha, got {value!r}")
    if kind == "person":
        if not isinstance(value, dict):
            return f"must be an object with name, email and date, got {value!r}"
        if not isinstance(value.get("date"), str) or not TIME_RE.match(value["date"]):
            return f"date must be a UTC time YYYY-MM-DDTHH:MM:SSZ, got {value.get('date')!r}"
        return None
    raise AssertionError(kind)


_time_ok = TIME_RE.match


def _fast_check(kind: str, world: Any) -> Any:
    """A cheap yes/no test for ``kind`` (big worlds have millions of fields to check);
    ``_kind_problem`` explains a failure."""
    nullable = kind.endswith("?")
    base = kind.rstrip("?")
    if base == "id":
        test = lambda v: type(v) is int and v > 0  # noqa: E731
    elif base == "user":
        test = lambda v: type(v) is int and v in world.users  # noqa: E731
    elif base == "repo":
        test = lambda v: type(v) is int and v in world.repos  # noqa: E731
    elif base == "time":
        test = lambda v: type(v) is str and _time_ok(v) is not None  # noqa: E731
    else:
        return lambda v: _kind_problem(v, kind, world) is None
    if world is None and base in ("user", "repo"):
        test = lambda v: type(v) is int and v > 0  # noqa: E731
    if nullable:
        return lambda v: v is None or test(v)
    return test


def record_problem(kind: str, record: Any, world: World | None) -> tuple[str, str] | None:
    """(field, problem) for the first thing wrong with ``record``, or None."""
    if not isinstance(record, dict):
        return "", f"must be a JSON object, got {type(record).__name__}"
    checks = _checks(kind, world)
    for name, test in checks:
        if name not in record:
            return f".{name}", "is missing"
        if not test(record[name]):
            return f".{name}", _kind_problem(record[name], REQUIRED[kind][name], world)
    parent = PARENT.get(kind)
    if parent and world is not None:
        number = record[parent]
        if (record["repo_id"], number) not in world.location["issues"]:
            return f".{parent}", f"names issue {number} of repo {record['repo_id']}, which is not in issues"
    if kind == "issues" and record.get("pull_request") is not None:
        if not isinstance(record["pull_request"], dict):
            return ".pull_request", "must be null or an object"
        merged_at = record["pull_request"].get("merged_at")
        if merged_at is not None and _kind_problem(merged_at, "time", None):
            return ".pull_request.merged_at", _kind_problem(merged_at, "time", None)
    if kind == "repos" and isinstance(world, World):
        if world.org_by(record["owner"]) is None and world.user_by(record["owner"]) is None:
            return ".owner", f"names {record['owner']!r}, which is neither an org nor a user login"
    if kind == "orgs":
        for key in ("members", "public_members"):
            ids = record.get(key, [])
            if not isinstance(ids, list) or not all(type(i) is int for i in ids):
                return f".{key}", "must be a list of user ids"
            if world is not None:
                for i, user_id in enumerate(ids):
                    if user_id not in world.users:
                        return f".{key}[{i}]", f"names user id {user_id}, which is not in users"
    return None


_CHECKS: dict[tuple[str, int], tuple[Any, list]] = {}


def _checks(kind: str, world: Any) -> list:
    """The (field, fast test) pairs of a collection, built once per world."""
    cached = _CHECKS.get((kind, id(world)))
    if cached is None or cached[0] is not world:
        cached = (world, [(name, _fast_check(field_kind, world))
                          for name, field_kind in REQUIRED[kind].items()])
        _CHECKS[(kind, id(world))] = cached
        if len(_CHECKS) > 200:
            _CHECKS.clear()
            _CHECKS[(kind, id(world))] = cached
    return cached[1]


def key_of(kind: str, record: dict) -> Any:
    """The key a delta upsert replaces by (docs/world-format.md, "Deltas")."""
    if kind == "issues":
        return (record["repo_id"], record["number"])
    if kind == "commits":
        return (record["repo_id"], record["sha"])
    return record["id"]


@dataclass
class RepoIndex:
    """One repo's records and the orderings its listings are served in."""

    issues: dict[int, dict] = field(default_factory=dict)
    issue_comments: dict[int, dict] = field(default_factory=dict)
    issue_events: dict[int, dict] = field(default_factory=dict)
    reviews: dict[int, dict] = field(default_factory=dict)
    review_comments: dict[int, dict] = field(default_factory=dict)
    commits: dict[str, dict] = field(default_factory=dict)
    releases: dict[int, dict] = field(default_factory=dict)
    # derived, rebuilt by ``refresh`` after any change
    issue_updated: dict[int, str] = field(default_factory=dict)  # as /issues serves it
    pull_updated: dict[int, str] = field(default_factory=dict)  # as /pulls serves it
    comment_count: dict[int, int] = field(default_factory=dict)
    review_comment_count: dict[int, int] = field(default_factory=dict)
    comments_by_issue: dict[int, list[int]] = field(default_factory=dict)
    reviews_by_pr: dict[int, list[int]] = field(default_factory=dict)
    review_comments_by_pr: dict[int, list[int]] = field(default_factory=dict)
    commits_by_pr: dict[int, list[str]] = field(default_factory=dict)
    commit_order: list[str] = field(default_factory=list)
    milestones: dict[str, dict] = field(default_factory=dict)
    commit_seq: dict[str, int] = field(default_factory=dict)
    open_issues: int = 0
    generation: int = 0

    def refresh(self, reviews_move_issues: bool = False) -> None:
        """Recompute what is derived from the records (counts, served dates, orders).

        An issue's served ``updated_at`` moves for its comments and events; a PR's in
        ``/pulls`` also for its reviews and review comments, which move the issue's only
        with ``reviews_move_issues`` (GitHub: they do not).
        """
        updated = {n: issue["updated_at"] for n, issue in self.issues.items()}
        pulled: dict[int, str] = {}

        def bump(number: int, when: str | None) -> None:
            if when and number in updated and when > updated[number]:
                updated[number] = when

        def bump_pull(number: int, when: str | None) -> None:
            if when and number in updated and when > pulled.get(number, updated[number]):
                pulled[number] = when

        self.comments_by_issue = {}
        for cid in sorted(self.issue_comments):
            comment = self.issue_comments[cid]
            self.comments_by_issue.setdefault(comment["issue_number"], []).append(cid)
            bump(comment["issue_number"], comment["updated_at"])
        for event in self.issue_events.values():
            bump(event["issue_number"], event["created_at"])
        self.reviews_by_pr = {}
        for rid in sorted(self.reviews):
            review = self.reviews[rid]
            self.reviews_by_pr.setdefault(review["pr_number"], []).append(rid)
            bump_pull(review["pr_number"], review["submitted_at"])
        self.review_comments_by_pr = {}
        for rcid in sorted(self.review_comments):
            review_comment = self.review_comments[rcid]
            self.review_comments_by_pr.setdefault(review_comment["pr_number"], []).append(rcid)
            bump_pull(review_comment["pr_number"], review_comment["updated_at"])
        self.pull_updated = {n: max(when, pulled.get(n, when)) for n, when in updated.items()}
        self.issue_updated = self.pull_updated if reviews_move_issues else updated
        updated = self.pull_updated  # milestones below: their latest update, reviews included
        self.comment_count = {n: len(ids) for n, ids in self.comments_by_issue.items()}
        self.review_comment_count = {n: len(ids) for n, ids in self.review_comments_by_pr.items()}
        self.open_issues = sum(1 for issue in self.issues.values() if issue["state"] == "open")
        # newest first by committer date; ties: later in the file first
        self.commit_order = sorted(
            self.commits,
            key=lambda sha: (self.commits[sha]["committer"]["date"], self.commit_seq[sha]),
            reverse=True,
        )
        self.commits_by_pr = {}
        for sha in reversed(self.commit_order):
            number = self.commits[sha].get("pr_number")
            if type(number) is int:
                self.commits_by_pr.setdefault(number, []).append(sha)
        self.milestones = {}
        for number in sorted(self.issues):
            issue = self.issues[number]
            title = issue.get("milestone")
            if not title:
                continue
            stats = self.milestones.setdefault(title, {
                "number": len(self.milestones) + 1, "open": 0, "closed": 0,
                "created_at": issue["created_at"], "updated_at": updated[number]})
            stats["open" if issue["state"] == "open" else "closed"] += 1
            stats["created_at"] = min(stats["created_at"], issue["created_at"])
            stats["updated_at"] = max(stats["updated_at"], updated[number])
        self.generation += 1


class World:
    """Every record of a world, indexed for the server; ``apply`` moves it forward."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.now = ""
        self.users: dict[int, dict] = {}
        self.orgs: dict[int, dict] = {}
        self.repos: dict[int, dict] = {}
        self.repo_data: dict[int, RepoIndex] = {}
        self.deleted_repos: set[int] = set()
        self.user_by_login: dict[str, int] = {}
        self.org_by_login: dict[str, int] = {}
        self.repo_by_name: dict[tuple[str, str], int] = {}
        # old names of renamed and transferred repos (they answer 301 to /repositories/{id})
        self.moved_from: dict[tuple[str, str], int] = {}
        # where each repo-scoped record lives, so an upsert can move or replace it
        self.location: dict[str, dict[Any, int]] = {kind: {} for kind in COLLECTIONS[3:]}
        self.generation = 0  # bumped when users or orgs change (they are embedded everywhere)
        # the world time of the last delta that changed something embedded in other records
        # (a user, an org, a repo): no Last-Modified may be older, or a rename would hide
        # behind an If-Modified-Since 304
        self.embedded_changed_at = ""
        self.lock = threading.RLock()
        self._commit_seq = 0
        self.reviews_move_issues = False  # the polite model (``serve --reviews-move-issues``)

    # -- look-ups -----------------------------------------------------------------

    def user_by(self, login: str) -> dict | None:
        """The user with this login (case-insensitive), or None."""
        user_id = self.user_by_login.get(login.lower())
        return self.users.get(user_id) if user_id else None

    def org_by(self, login: str) -> dict | None:
        """The org with this login (case-insensitive), or None."""
        org_id = self.org_by_login.get(login.lower())
        return self.orgs.get(org_id) if org_id else None

    def repo_by(self, owner: str, name: str) -> dict | None:
        """The repo OWNER/NAME (case-insensitive), None when unknown or deleted."""
        repo_id = self.repo_by_name.get((owner.lower(), name.lower()))
        return self.repos.get(repo_id) if repo_id else None

    def moved_repo(self, owner: str, name: str) -> dict | None:
        """The live repo once called OWNER/NAME (renamed or transferred since), or None."""
        if self.repo_by(owner, name) is not None:
            return None
        repo_id = self.moved_from.get((owner.lower(), name.lower()))
        return self.repos.get(repo_id) if repo_id else None

    def org_repos(self, org_login: str) -> list[dict]:
        """The org's repos (not deleted), oldest first."""
        lower = org_login.lower()
        return sorted(
            (repo for repo in self.repos.values() if repo["owner"].lower() == lower),
            key=lambda repo: (repo["created_at"], repo["id"]),
        )

    def user_orgs(self, user_id: int) -> list[dict]:
        """Orgs where the user is a public member, by id (as GitHub's /users/{u}/orgs)."""
        return [org for org_id, org in sorted(self.orgs.items())
                if user_id in org.get("public_members", ())]

    # -- building -----------------------------------------------------------------

    def _put(self, kind: str, record: dict) -> None:
        """Store one checked record (new or replacing the one with the same key)."""
        if kind == "users":
            old = self.users.get(record["id"])
            if old is not None:
                self.user_by_login.pop(old["login"].lower(), None)
            self.users[record["id"]] = record
            self.user_by_login[record["login"].lower()] = record["id"]
            self.generation += 1
        elif kind == "orgs":
            old = self.orgs.get(record["id"])
            if old is not None:
                self.org_by_login.pop(old["login"].lower(), None)
            self.orgs[record["id"]] = record
            self.org_by_login[record["login"].lower()] = record["id"]
            self.generation += 1
        elif kind == "repos":
            old = self.repos.get(record["id"])
            if old is not None:
                old_key = (old["owner"].lower(), old["name"].lower())
                self.repo_by_name.pop(old_key, None)
                if old_key != (record["owner"].lower(), record["name"].lower()):
                    self.moved_from[old_key] = record["id"]
            for former in record.get("former_names") or ():
                owner, _, name = str(former).partition("/")
                self.moved_from[(owner.lower(), name.lower())] = record["id"]
            self.repos[record["id"]] = record
            self.deleted_repos.discard(record["id"])
            self.repo_by_name[(record["owner"].lower(), record["name"].lower())] = record["id"]
            self.repo_data.setdefault(record["id"], RepoIndex())
            self.generation += 1  # repos are embedded in PR heads and bases
            if record.get("deleted"):
                # a world written after a deletion (generator_delta.apply_delta) keeps it marked
                self.delete_repo(record["id"])
        else:
            key = key_of(kind, record)
            previous_repo = self.location[kind].get(key)
            if previous_repo is not None and previous_repo != record["repo_id"]:
                getattr(self.repo_data[previous_repo], kind).pop(_inner_key(kind, key), None)
            self.location[kind][key] = record["repo_id"]
            data = self.repo_data[record["repo_id"]]
            inner = _inner_key(kind, key)
            if kind == "commits" and inner not in data.commit_seq:
                self._commit_seq += 1
                data.commit_seq[inner] = self._commit_seq
            getattr(data, kind)[inner] = record

    def delete_repo(self, repo_id: int) -> None:
        """Make a repo answer 404 and vanish from its org's listing."""
        repo = self.repos.pop(repo_id)
        self.repo_by_name.pop((repo["owner"].lower(), repo["name"].lower()), None)
        self.moved_from = {key: rid for key, rid in self.moved_from.items() if rid != repo_id}
        self.deleted_repos.add(repo_id)
        self.generation += 1

    def refresh(self, repo_ids: set[int] | None = None) -> None:
        """Recompute derived data of the given repos (all when None)."""
        for repo_id in self.repo_data if repo_ids is None else repo_ids:
            if repo_id in self.repo_data:
                self.repo_data[repo_id].refresh(self.reviews_move_issues)

    def apply(self, delta: dict) -> int:
        """Apply a checked delta (see ``parse_delta``); returns the number of ops."""
        with self.lock:
            touched: set[int] = set()
            for op in delta["ops"]:
                if op["op"] == "delete" or op["kind"] in ("users", "orgs", "repos"):
                    self.embedded_changed_at = max(self.embedded_changed_at, delta["now"])
                if op["op"] == "delete":
                    self.delete_repo(op["id"])
                    continue
                kind, record = op["kind"], op["record"]
                if kind in ("users", "orgs") and "updated_at" not in record:
                    # so Last-Modified (and If-Modified-Since) see the change
                    record = {**record, "updated_at": delta["now"]}
                if kind not in ("users", "orgs", "repos"):
                    previous = self.location[kind].get(key_of(kind, record))
                    if previous is not None:
                        touched.add(previous)
                    touched.add(record["repo_id"])
                self._put(kind, record)
            self.refresh(touched)
            if delta["now"] > self.now:
                self.now = delta["now"]
            return len(delta["ops"])


def _inner_key(kind: str, key: Any) -> Any:
    """A record's key inside its repo's index."""
    return key[1] if kind in ("issues", "commits") else key


def read_json(path: Path | str, data: bytes | None = None) -> Any:
    """The JSON document in a file or in bytes (gzipped or plain); BadInput when unreadable."""
    name = str(path)
    try:
        raw = Path(path).read_bytes() if data is None else data
    except OSError as error:
        raise BadInput(f"{name}: cannot read it ({error.strerror}); give an existing world file") from None
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return json.loads(raw)
    except (OSError, EOFError) as error:
        raise BadInput(f"{name}: not a readable gzip file ({error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadInput(f"{name}: not valid JSON ({error})") from None


def _fail(source: str, place: str, problem: str) -> BadInput:
    return BadInput(f"{source}: {place} {problem}")


def load_world(path: Path | str) -> World:
    """Read, check and index a world file (JSON, optionally gzipped), or DIR/world.json.gz."""
    if Path(path).is_dir():
        if not (Path(path) / "world.json.gz").is_file():
            raise BadInput(f"{path}: a folder without world.json.gz; give a world file or a "
                           "folder written by `graphminer fakehub generate`")
        path = Path(path) / "world.json.gz"
    return build_world(read_json(path), str(path))


def build_world(document: Any, source: str) -> World:
    """Check and index a world document; BadInput naming ``source`` and the place on error."""
    if not isinstance(document, dict):
        raise _fail(source, "the top level", "must be a JSON object (see docs/world-format.md)")
    if document.get("format") != 1:
        raise _fail(source, "format", f"must be 1, got {document.get('format')!r}")
    world = World(source)
    document = current_names(document, source)
    for kind in COLLECTIONS:
        records = document.get(kind, [])
        if not isinstance(records, list):
            raise _fail(source, kind, "must be a list")
        if kind not in ("users", "orgs", "repos"):
            _load_scoped(world, kind, records, source)
            continue
        keys: set = set()
        for i, record in enumerate(records):
            problem = record_problem(kind, record, world)
            if problem:
                raise _fail(source, f"{kind}[{i}]{problem[0]}", problem[1])
            key = key_of(kind, record)
            if key in keys:
                raise _fail(source, f"{kind}[{i}]", f"repeats the key {key!r} of an earlier record")
            keys.add(key)
            if kind == "orgs" and record["id"] in world.users:
                raise _fail(source, f"orgs[{i}].id", f"{record['id']} is also a user id (they share one id space)")
            world._put(kind, record)
    now = document.get("now")
    if now is None:
        now = _latest_time(document)
    elif _kind_problem(now, "time", None):
        raise _fail(source, "now", _kind_problem(now, "time", None))
    world.now = now
    world.refresh()
    return world


def current_names(document: dict, source: str) -> dict:
    """The document with its collections under today's names (``FORMER_NAMES`` read as
    them); BadInput when a file holds one collection under both names."""
    renamed = dict(document)
    for former, name in FORMER_NAMES.items():
        if former in renamed:
            if name in renamed:
                raise _fail(source, former, f"and {name} are the same collection: keep {name} only")
            renamed[name] = renamed.pop(former)
    return renamed


_MISSING = object()


def _load_scoped(world: World, kind: str, records: list, source: str) -> None:
    """Check and store a repo-scoped collection in one tight loop (a big world holds a
    million of these); any failure is explained by ``record_problem``."""
    checks = _checks(kind, world)
    parent = PARENT.get(kind)
    issue_keys = world.location["issues"]
    location = world.location[kind]
    inner_field = {"issues": "number", "commits": "sha"}.get(kind, "id")
    paired = kind in ("issues", "commits")
    is_issues, is_commits = kind == "issues", kind == "commits"
    stores = {repo_id: getattr(data, kind) for repo_id, data in world.repo_data.items()}
    for i, record in enumerate(records):
        ok = type(record) is dict
        if ok:
            for name, test in checks:
                if not test(record.get(name, _MISSING)):
                    ok = False
                    break
        if ok and parent is not None:
            ok = (record["repo_id"], record[parent]) in issue_keys
        if ok and is_issues:
            pr = record.get("pull_request")
            ok = pr is None or (type(pr) is dict and (pr.get("merged_at") is None or
                                                      _time_ok(pr["merged_at"]) is not None))
        if not ok:
            problem = record_problem(kind, record, world) or ("", "is not a valid record")
            raise _fail(source, f"{kind}[{i}]{problem[0]}", problem[1])
        repo_id = record["repo_id"]
        inner = record[inner_field]
        key = (repo_id, inner) if paired else inner
        if key in location:
            raise _fail(source, f"{kind}[{i}]", f"repeats the key {key!r} of an earlier record")
        location[key] = repo_id
        if is_commits:
            world._commit_seq += 1
            world.repo_data[repo_id].commit_seq[inner] = world._commit_seq
        stores[repo_id][inner] = record


def _latest_time(document: dict) -> str:
    """The latest time any record holds (the world's "now" when the file names none)."""
    latest = "1970-01-01T00:00:00Z"
    for kind in COLLECTIONS:
        for record in document.get(kind, []):
            for name in ("created_at", "updated_at", "closed_at", "submitted_at", "published_at"):
                value = record.get(name)
                if isinstance(value, str) and value > latest:
                    latest = value
    return latest


def parse_delta(document: Any, source: str, world: World) -> dict:
    """Check a delta document against the running world; BadInput naming the place on error."""
    if not isinstance(document, dict):
        raise _fail(source, "the top level", "must be a JSON object with format, now and ops")
    if document.get("format") != 1:
        raise _fail(source, "format", f"must be 1, got {document.get('format')!r}")
    now = document.get("now")
    if _kind_problem(now, "time", None):
        raise _fail(source, "now", _kind_problem(now, "time", None))
    ops = document.get("ops")
    if not isinstance(ops, list):
        raise _fail(source, "ops", "must be a list")
    # A shadow of the ids the delta itself adds, so later ops may name earlier ones.
    shadow = _Shadow(world)
    for i, op in enumerate(ops):
        place = f"ops[{i}]"
        if not isinstance(op, dict):
            raise _fail(source, place, "must be an object")
        if op.get("op") == "delete":
            if op.get("kind") != "repos":
                raise _fail(source, f"{place}.kind", f"only repos can be deleted, got {op.get('kind')!r}")
            if op.get("id") not in shadow.repos:
                raise _fail(source, f"{place}.id", f"names repo id {op.get('id')!r}, which is not in the world")
            shadow.repos.discard(op["id"])
            continue
        if op.get("op") != "upsert":
            raise _fail(source, f"{place}.op", f"must be \"upsert\" or \"delete\", got {op.get('op')!r}")
        kind = FORMER_NAMES.get(op.get("kind"), op.get("kind"))
        if kind not in COLLECTIONS:
            raise _fail(source, f"{place}.kind", f"must be one of {', '.join(COLLECTIONS)}, got {kind!r}")
        op["kind"] = kind
        problem = record_problem(kind, op.get("record"), shadow)
        if problem:
            raise _fail(source, f"{place}.record{problem[0]}", problem[1])
        if kind == "users":
            shadow.users.add(op["record"]["id"])
        elif kind == "repos":
            shadow.repos.add(op["record"]["id"])
        elif kind == "issues":
            shadow.location["issues"].add(key_of(kind, op["record"]))
    return {"now": now, "ops": ops}


class _Shadow:
    """Stands in for a World in ``record_problem`` while a delta is checked."""

    def __init__(self, world: World) -> None:
        self.users = set(world.users)
        self.repos = set(world.repos)
        self.location = {"issues": set(world.location["issues"])}


def load_delta(path: Path | str, world: World, data: bytes | None = None) -> dict:
    """Read and check a delta file (or its bytes) against ``world``."""
    return parse_delta(read_json(path, data), str(path), world)
