"""World generator from real history: owns turning saved ``git log`` files into a fakehub world.

Input: files named ``OWNER+REPO.log[.gz]`` in the format of ``../shared/data/git-logs``
(``git log --reverse --topo-order --raw --pretty=fuller --decorate=short --parents
--no-renames HEAD``), each with an optional ``OWNER+REPO.pull-refs.tsv[.gz]`` beside it
(ref, sha, author name, author email, author date). Real: every commit (sha, parents,
author and committer names, emails and dates, message), the org and repo names, the default
branch, PR numbers and what git proves about them (``Merge pull request #N from X/branch``
merge commits, ``Title (#N)`` squash subjects, ``refs/pull/N/head``). Generated, and
marked ``"generated": true``: users and ids behind emails, PR states that git cannot show,
issues for the numbers no PR took, the ``merged``/``closed`` events. The parser is this
module's own (not the git harvester's), so a harvest of the served world checks both.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import time
import zlib
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphminer.errors import BadInput

LOG_NAME = re.compile(r"^(?P<owner>[A-Za-z0-9_.-]+)\+(?P<repo>[A-Za-z0-9_.-]+)\.log(\.gz)?$")
COMMIT_LINE = re.compile(r"^commit ([0-9a-f]{40})((?: [0-9a-f]{40})*)(?: \((.*)\))?$")
PERSON = re.compile(r"^(.*?) <(.*)>$")
MERGE_PR = re.compile(r"^Merge pull request #(\d+) from ([^/\s]+)/(\S+)")
SQUASH_PR = re.compile(r"\(#(\d+)\)\s*$")
NOREPLY_ID = re.compile(r"^(\d+)\+([^@]+)@users\.noreply\.github\.com$", re.I)
NOREPLY_OLD = re.compile(r"^([^@+]+)@users\.noreply\.github\.com$", re.I)
GITHUB_WEB = ("GitHub", "noreply@github.com")
GENERATED_ID_BASE = 800_000_000


def _open_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise BadInput(f"{path}: cannot read it ({error.strerror}); check the path") from None
    try:
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        return data.decode("utf-8", errors="replace")
    except (OSError, EOFError, zlib.error) as error:
        raise BadInput(f"{path}: not a readable gzip file ({error}); re-copy it") from None


def _git_date(text: str, path: Path, line_no: int) -> str:
    try:
        moment = datetime.strptime(text.strip(), "%a %b %d %H:%M:%S %Y %z")
    except ValueError:
        raise BadInput(f"{path}: line {line_no}: {text.strip()!r} is not a git date like "
                       "'Sat Jan 19 22:49:58 2013 +0800'") from None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _person(text: str, path: Path, line_no: int) -> tuple[str, str]:
    match = PERSON.match(text.strip())
    if not match:
        raise BadInput(f"{path}: line {line_no}: {text.strip()!r} is not 'Name <email>'")
    return match[1], match[2]


def parse_git_log(path: Path) -> tuple[list[dict], str | None]:
    """The commits of a saved log (oldest first) and the default branch its HEAD names."""
    text = _open_text(path)
    commits: list[dict] = []
    branch = None
    current: dict | None = None
    message: list[str] = []
    fields = {"Author:", "AuthorDate:", "Commit:", "CommitDate:"}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.startswith("commit "):
            match = COMMIT_LINE.match(line)
            if not match:
                raise BadInput(f"{path}: line {line_no}: {line[:60]!r} is not 'commit SHA [PARENTS] [(refs)]'")
            if current is not None:
                commits.append(_finish(current, message, path))
            current = {"sha": match[1], "parents": match[2].split(), "line": line_no}
            message = []
            refs = match[3] or ""
            current["tags"] = [ref.strip()[5:] for ref in refs.split(",") if ref.strip().startswith("tag: ")]
            if "HEAD -> " in refs:
                branch = refs.split("HEAD -> ", 1)[1].split(",")[0].strip()
            continue
        if current is None:
            if line.strip():
                raise BadInput(f"{path}: line {line_no}: expected 'commit SHA ...' first; is this a git log "
                               "in --pretty=fuller format?")
            continue
        head, _, rest = line.partition(" ")
        if head in fields:
            if head == "Author:":
                current["author"] = _person(rest, path, line_no)
            elif head == "Commit:":
                current["committer"] = _person(rest, path, line_no)
            elif head == "AuthorDate:":
                current["author_date"] = _git_date(rest, path, line_no)
            else:
                current["committer_date"] = _git_date(rest, path, line_no)
        elif line.startswith("    "):
            message.append(line[4:])
        elif line == "" and message:
            message.append("")
    if current is not None:
        commits.append(_finish(current, message, path))
    if not commits:
        raise BadInput(f"{path}: holds no commits; is it a git log file?")
    return commits, branch


def _finish(current: dict, message: list[str], path: Path) -> dict:
    missing = [key for key in ("author", "author_date", "committer", "committer_date") if key not in current]
    if missing:
        raise BadInput(f"{path}: line {current['line']}: commit {current['sha'][:10]} lacks "
                       f"{', '.join(missing)}; the log must be --pretty=fuller")
    current["message"] = "\n".join(message).strip("\n")
    return current


def parse_pull_refs(path: Path) -> list[tuple[int, str, str, str, str, str]]:
    """(number, head|merge, sha, author name, author email, author date UTC) per ref."""
    rows = []
    for line_no, line in enumerate(_open_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        match = re.match(r"^refs/pull/(\d+)/(head|merge)$", parts[0])
        if len(parts) != 5 or not match:
            raise BadInput(f"{path}: line {line_no}: expected 'refs/pull/N/head<TAB>sha<TAB>name<TAB><email><TAB>date'")
        try:
            date = datetime.fromisoformat(parts[4]).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise BadInput(f"{path}: line {line_no}: {parts[4]!r} is not an ISO date") from None
        rows.append((int(match[1]), match[2], parts[1], parts[2], parts[3].strip("<>"), date))
    return rows


class Accounts:
    """Generated GitHub accounts behind commit identities (one per person, by email and name)."""

    def __init__(self) -> None:
        self.users: dict[int, dict] = {}
        self.by_email: dict[str, int | None] = {}
        self.by_name: dict[str, int] = {}
        self.by_login: dict[str, int] = {}
        self.next_id = GENERATED_ID_BASE

    def _new(self, login: str, name: str, created: str, user_id: int | None = None,
             bot: bool = False) -> int:
        base, n = login, 1
        while login.lower() in self.by_login:
            n += 1
            login = f"{base}{n}"
        if user_id is None or user_id in self.users:
            self.next_id += 7
            user_id = self.next_id
        self.users[user_id] = {"id": user_id, "login": login, "type": "Bot" if bot else "User",
                               "name": name, "email": None, "created_at": created, "generated": True}
        self.by_login[login.lower()] = user_id
        return user_id

    def link(self, name: str, email: str, date: str) -> int | None:
        """The account a commit identity belongs to, or None (an address GitHub cannot link)."""
        key = email.lower()
        if key in self.by_email:
            return self.by_email[key]
        user_id: int | None
        bot = "[bot]" in email or name.endswith("[bot]")
        noreply = NOREPLY_ID.match(email) or NOREPLY_OLD.match(email)
        if (name, email) == GITHUB_WEB or "@" not in email or email.endswith((".local", ".(none)", "localhost")):
            user_id = None
        elif re.search(r"\bbot\b", name, re.I) and not bot:
            user_id = None  # e.g. "GitHub Actions Bot <x-bot@org.org>": no account behind it
        elif noreply:
            login = noreply.group(2) if noreply.re is NOREPLY_ID else noreply.group(1)
            user_id = self.by_login.get(login.lower())
            if user_id is None:
                real_id = int(noreply.group(1)) if noreply.re is NOREPLY_ID else None
                user_id = self._new(login, name, date, real_id, bot=bot)
        elif len(name.split()) >= 2 and name in self.by_name:
            user_id = self.by_name[name]  # a second address of the same full name
        else:
            local = re.sub(r"[^a-z0-9-]+", "-", email.split("@")[0].lower()).strip("-") or "user"
            user_id = self._new(local[:39], name, date, bot=bot)
        if user_id is not None and len(name.split()) >= 2:
            self.by_name.setdefault(name, user_id)
        self.by_email[key] = user_id
        return user_id


def _repo_world(path: Path, owner: str, name: str, accounts: Accounts, ids: Counter,
                repo_id: int) -> dict[str, Any]:
    commits, branch = parse_git_log(path)
    refs_path = None
    for suffix in (".pull-refs.tsv.gz", ".pull-refs.tsv"):
        candidate = path.with_name(f"{owner}+{name}{suffix}")
        if candidate.exists():
            refs_path = candidate
            break
    refs = parse_pull_refs(refs_path) if refs_path else []
    rnd = random.Random(f"{owner}/{name}")
    records: dict[str, list] = defaultdict(list)
    by_sha = {}
    for commit in commits:
        author_id = accounts.link(*commit["author"], commit["author_date"])
        committer_id = accounts.link(*commit["committer"], commit["committer_date"])
        record = {"repo_id": repo_id, "sha": commit["sha"], "message": commit["message"],
                  "author": {"name": commit["author"][0], "email": commit["author"][1], "date": commit["author_date"]},
                  "committer": {"name": commit["committer"][0], "email": commit["committer"][1], "date": commit["committer_date"]},
                  "author_id": author_id, "committer_id": committer_id, "parents": commit["parents"]}
        records["commits"].append(record)
        by_sha[commit["sha"]] = record
    _releases_from_tags(records, commits, repo_id, branch or "main", ids)
    head_refs = {n: (sha, who, email, date) for n, kind, sha, who, email, date in refs if kind == "head"}
    open_hint = {n for n, kind, *_ in refs if kind == "merge"}
    pulls: dict[int, dict] = {}
    mergers: Counter = Counter()
    for record in records["commits"]:
        subject = record["message"].split("\n", 1)[0]
        merge = MERGE_PR.match(subject)
        if merge and len(record["parents"]) == 2:
            number = int(merge[1])
            head = by_sha.get(record["parents"][1])
            author_id = accounts.by_login.get(merge[2].lower()) or (head or record)["author_id"]
            body = record["message"].split("\n\n", 1)
            pulls.setdefault(number, {
                "user_id": author_id, "merged_at": record["committer"]["date"],
                "merged_by_id": record["author_id"], "merge_commit_sha": record["sha"],
                "head_sha": record["parents"][1], "head_ref": merge[3],
                "title": body[1].strip().split("\n")[0] if len(body) > 1 and body[1].strip() else merge[3],
                "created_at": (head or record)["author"]["date"]})
            if record["author_id"]:
                mergers[record["author_id"]] += 1
            continue
        squash = SQUASH_PR.search(subject)
        if squash:
            number = int(squash[1])
            committer = record["committer_id"]
            pulls.setdefault(number, {
                "user_id": record["author_id"], "merged_at": record["committer"]["date"],
                "merged_by_id": committer, "merge_commit_sha": record["sha"],
                "head_sha": head_refs.get(number, ("",))[0], "head_ref": f"pr-{number}",
                "title": SQUASH_PR.sub("", subject).strip() or subject,
                "created_at": record["author"]["date"]})
    _mark_branch_commits(records["commits"], by_sha, pulls)
    top_merger = mergers.most_common(1)[0][0] if mergers else None
    if top_merger is None:
        linked = Counter(r["committer_id"] for r in records["commits"] if r["committer_id"])
        top_merger = linked.most_common(1)[0][0] if linked else None
    for number, (sha, who, email, date) in head_refs.items():
        pull = pulls.get(number)
        if pull is not None:
            pull["head_sha"] = pull["head_sha"] or sha
            pull["created_at"] = min(pull["created_at"], date)
            continue
        landed = by_sha.get(sha)
        pulls[number] = {
            "user_id": accounts.link(who, email, date),
            "merged_at": landed["committer"]["date"] if landed else None,
            "merged_by_id": (landed["committer_id"] or top_merger) if landed else None,
            "merge_commit_sha": sha if landed else None, "head_sha": sha,
            "head_ref": f"pr-{number}", "title": f"Pull request #{number}", "created_at": date,
            "open": number in open_hint and not landed}
    if not records["commits"]:
        raise BadInput(f"{path}: holds no commits")
    first = min(r["committer"]["date"] for r in records["commits"])
    for pull in pulls.values():
        if pull["merged_by_id"] is None and pull["merged_at"]:
            pull["merged_by_id"] = top_merger
        if pull["user_id"] is None:
            pull["user_id"] = top_merger
        if pull["merged_at"] and pull["created_at"] > pull["merged_at"]:
            pull["created_at"] = pull["merged_at"]
    _threads(records, pulls, repo_id, top_merger, first, rnd, ids, list(accounts.users), branch or "main")
    last = max(r["committer"]["date"] for r in records["commits"])
    records["repos"].append({
        "id": repo_id, "owner": owner, "name": name, "description": f"{owner}/{name} (from its git log)",
        "fork": False, "archived": False, "blocked": False,
        "default_branch": branch or "main", "created_at": first, "updated_at": last,
        "pushed_at": last, "language": None, "generated": True})
    return records


def _releases_from_tags(records: dict, commits: list[dict], repo_id: int, branch: str,
                        ids: Counter) -> None:
    """A release per real tag, published by whoever committed (else authored) the tagged
    commit, when it was committed (git holds the tag; GitHub's release record is generated)."""
    linked = {r["sha"]: r for r in records["commits"]}
    for commit in commits:
        record = linked[commit["sha"]]
        publisher = record["committer_id"] or record["author_id"]
        for tag in commit.get("tags", ()):
            if publisher is None:
                continue
            ids["release"] += 1
            records["releases"].append({
                "id": 9_000_000 + ids["release"], "repo_id": repo_id, "tag_name": tag, "name": tag,
                "body": "(generated from the git tag)", "author_id": publisher,
                "target_commitish": branch, "draft": False, "prerelease": False,
                "created_at": record["committer"]["date"], "published_at": record["committer"]["date"],
                "generated": True})


def _mark_branch_commits(commits: list[dict], by_sha: dict[str, dict], pulls: dict[int, dict]) -> None:
    """Set ``pr_number`` on the commits a merge brought in: reachable from its second parent
    but not from its first (docs/rules.md's "came in through a PR")."""
    owner = {pull["merge_commit_sha"]: number for number, pull in pulls.items() if pull.get("merge_commit_sha")}
    for commit in commits:  # oldest first, so an earlier merge claims its commits first
        number = owner.get(commit["sha"])
        if number is None or len(commit["parents"]) != 2 or not MERGE_PR.match(commit["message"]):
            continue
        side = _ancestors(by_sha, commit["parents"][1]) - _ancestors(by_sha, commit["parents"][0])
        for sha in side:
            by_sha[sha].setdefault("pr_number", number)


def _ancestors(by_sha: dict[str, dict], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        sha = todo.pop()
        if sha in seen or sha not in by_sha:
            continue
        seen.add(sha)
        todo.extend(by_sha[sha]["parents"])
    return seen


def _threads(records: dict, pulls: dict[int, dict], repo_id: int, closer: int | None, first: str,
             rnd: random.Random, ids: Counter, user_ids: list[int], branch: str) -> None:
    """PR records from what git proved, and generated issues for the numbers in between."""
    numbers = sorted(pulls)
    top = numbers[-1] if numbers else 0
    known_dates = [(n, pulls[n]["created_at"]) for n in numbers]
    for number in range(1, top + 1):
        pull = pulls.get(number)
        if pull is None:
            created = _date_between(number, known_dates, first)
            author = rnd.choice(user_ids) if user_ids else closer
            if author is None:
                continue
            closed = rnd.random() < 0.7 and closer is not None
            _emit_issue(records, ids, repo_id, number, author, f"Issue #{number}", created,
                        closed_at=created if not closed else _later(created, rnd),
                        closer=closer if closed else None, reason="completed" if closed else None, pull=None)
            continue
        if pull["user_id"] is None:
            continue
        merged = pull["merged_at"]
        closed_at = merged or (None if pull.get("open") else _later(pull["created_at"], rnd))
        pr = {"merged_at": merged, "merged_by_id": pull["merged_by_id"] if merged else None,
              "merge_commit_sha": pull["merge_commit_sha"] if merged else None,
              "head_ref": pull["head_ref"], "head_sha": pull["head_sha"] or "0" * 40,
              "base_ref": branch, "draft": False}
        who_closed = pull["merged_by_id"] if merged else (closer if closed_at else None)
        _emit_issue(records, ids, repo_id, number, pull["user_id"], pull["title"], pull["created_at"],
                    closed_at=closed_at, closer=who_closed, reason=None, pull=pr)


def _later(date: str, rnd: random.Random) -> str:
    ts = int(datetime.strptime(date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts + rnd.randint(3600, 20 * 86400)))


def _date_between(number: int, known: list[tuple[int, str]], first: str) -> str:
    """A generated issue's creation date: that of the nearest lower-numbered PR (numbers grow with time)."""
    earlier = [date for n, date in known if n < number]
    return max(earlier) if earlier else first


def _emit_issue(records: dict, ids: Counter, repo_id: int, number: int, author: int, title: str,
                created: str, *, closed_at: str | None, closer: int | None, reason: str | None,
                pull: dict | None) -> None:
    if closer is None:
        closed_at = None
    ids["issue"] += 1
    records["issues"].append({
        "repo_id": repo_id, "number": number, "id": 7_000_000 + ids["issue"], "user_id": author,
        "title": title, "body": "(generated: git does not hold issue bodies)",
        "state": "closed" if closed_at else "open", "state_reason": reason if closed_at else None,
        "created_at": created, "updated_at": closed_at or created, "closed_at": closed_at,
        "closed_by_id": closer if closed_at else None, "labels": [], "assignee_ids": [],
        "milestone": None, "author_association": "CONTRIBUTOR" if pull else "NONE",
        "pull_request": pull, "generated": True})
    if not closed_at:
        return
    names = (["merged"] if pull and pull["merged_at"] else []) + ["closed"]
    for event in names:
        ids["event"] += 1
        records["issue_events"].append({
            "id": 8_000_000 + ids["event"], "repo_id": repo_id, "issue_number": number,
            "actor_id": closer, "event": event, "created_at": closed_at, "label": None,
            "assignee_id": None, "milestone": None,
            "commit_id": pull["merge_commit_sha"] if event == "merged" else None,
            "state_reason": reason if event == "closed" else None, "generated": True})


def build_git_log_world(paths: list[str | Path]) -> dict:
    """A world dict built from saved git logs (see the module docstring)."""
    accounts = Accounts()
    ids: Counter = Counter()
    world: dict[str, Any] = {"format": 1, "now": None, "users": [], "orgs": [], "repos": [],
                             "issues": [], "issue_comments": [], "issue_events": [], "reviews": [],
                             "review_comments": [], "commits": [], "releases": []}
    orgs: dict[str, dict] = {}
    seen = set()
    for index, raw_path in enumerate(paths):
        path = Path(raw_path)
        match = LOG_NAME.match(path.name)
        if not match:
            raise BadInput(f"{path}: the name must be OWNER+REPO.log or OWNER+REPO.log.gz "
                           "(the org and repository come from it)")
        owner, name = match["owner"], match["repo"]
        if (owner.lower(), name.lower()) in seen:
            raise BadInput(f"{path}: {owner}/{name} is given twice")
        seen.add((owner.lower(), name.lower()))
        records = _repo_world(path, owner, name, accounts, ids, 700_000 + index * 11)
        for kind, items in records.items():
            world[kind].extend(items)
        org = orgs.setdefault(owner.lower(), {
            "id": 100 + len(orgs) * 3, "login": owner, "name": owner, "description": None,
            "created_at": records["repos"][0]["created_at"], "members": set(), "public_members": [],
            "generated": True})
        org["created_at"] = min(org["created_at"], records["repos"][0]["created_at"])
        org["members"] |= {e["actor_id"] for e in records["issue_events"] if e["event"] == "merged" and e["actor_id"]}
    for org in orgs.values():
        org["members"] = sorted(org["members"])
    world["orgs"] = list(orgs.values())
    world["users"] = sorted(accounts.users.values(), key=lambda u: u["id"])
    first_seen: dict[int, str] = {}
    for commit in world["commits"]:
        for user_id, date in ((commit["author_id"], commit["author"]["date"]),
                              (commit["committer_id"], commit["committer"]["date"])):
            if user_id is not None and date < first_seen.get(user_id, "9999"):
                first_seen[user_id] = date
    for user in world["users"]:
        user["created_at"] = min(user["created_at"], first_seen.get(user["id"], "9999"))
    world["now"] = max([c["committer"]["date"] for c in world["commits"]]
                       + [i["updated_at"] for i in world["issues"]])
    return world


def world_from_git_logs(paths: list[str], out: str | Path, truth: bool = True) -> dict[str, Any]:
    """Write ``OUT/world.json.gz`` (and ``truth.json``) built from git logs; return counts."""
    from graphminer.fakehub.generator import output_dir

    started = time.perf_counter()
    if not paths:
        raise BadInput("--from-git-log needs at least one OWNER+REPO.log.gz file")
    world = build_git_log_world(paths)
    folder = output_dir(out)
    world_path = folder / "world.json.gz"
    with open(world_path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
        handle.write(json.dumps(world, separators=(",", ":")).encode())
    truths = []
    if truth:
        try:
            from graphminer.fakehub.truth import compute_truth
        except ModuleNotFoundError as error:
            if error.name != "graphminer.fakehub.truth":
                raise
        else:
            truth_path = folder / "truth.json"
            truth_path.write_text(json.dumps(compute_truth(world), indent=1, sort_keys=True))
            truths.append(truth_path)
    counts = {kind: len(world[kind]) for kind in world if isinstance(world[kind], list)}
    events = sum(counts[k] for k in ("issues", "issue_comments", "issue_events", "reviews", "review_comments", "commits", "releases"))
    return {"world": world_path, "deltas": [], "truths": truths, "counts": counts,
            "events": events, "seconds": time.perf_counter() - started}
