"""World generator: owns writing a generated fakehub world, its deltas and its ground truth.

``generate_world`` plans the cast (``generator_cast``), simulates each repository lazily
and independently (``generator_repo``), streams every record to per-collection spool files
and then into one gzipped JSON object (``docs/world-format.md``) so memory stays bounded
whatever the size, writes the day-by-day deltas (``generator_delta``), and finally the
ground truth computed from the written records by ``graphminer.fakehub.truth`` (an
independent implementation of docs/rules.md): ``truth.json`` for the base world and
``truth-after-K.json`` for the world with deltas 1..K applied. Same seed, same bytes.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from graphminer.errors import BadInput
from graphminer.fakehub.generator_cast import DAY, Plan, build_plan, iso, parse_time
from graphminer.fakehub.generator_delta import apply_delta, build_deltas
from graphminer.fakehub.generator_ghost import deleted_makers, ghost_delta, ghostly, without_deleted
from graphminer.fakehub.generator_repo import IdCounters, RepoSim, RepoSummary

DEFAULT_NOW = "2025-06-30T23:59:59Z"
BIG_COLLECTIONS = ("issues", "issue_comments", "issue_events", "reviews", "review_comments", "commits", "releases")
EVENT_COLLECTIONS = BIG_COLLECTIONS  # what "events" counts in the scale figure
LANGUAGES = ("Python", "JavaScript", "Ruby", "TypeScript", "HTML", None)

__all__ = ["generate_world", "apply_delta", "load_json", "DEFAULT_NOW"]


class SpoolWriter:
    """Appends records of each collection to its own temporary file as compact JSON."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, IO[str]] = {}
        self.counts: dict[str, int] = dict.fromkeys(BIG_COLLECTIONS, 0)
        self.encode = json.JSONEncoder(separators=(",", ":")).encode

        self.pending: dict[str, list[dict]] = {name: [] for name in BIG_COLLECTIONS}

    def emit(self, collection: str, record: dict) -> None:
        self.pending[collection].append(record)

    def flush(self) -> None:
        """Write what was emitted since the last flush (one repository's records)."""
        for collection, records in self.pending.items():
            if not records:
                continue
            handle = self.files.get(collection)
            if handle is None:
                handle = open(self.folder / f"{collection}.part", "w", encoding="utf-8", buffering=1 << 20)
                self.files[collection] = handle
            if self.counts[collection]:
                handle.write(",")
            # one encode call per repository and collection: the list's brackets are dropped
            handle.write(self.encode(records)[1:-1])
            self.counts[collection] += len(records)
            records.clear()

    def close(self) -> None:
        self.flush()
        for handle in self.files.values():
            handle.close()

    def copy_into(self, collection: str, out: IO[bytes]) -> None:
        path = self.folder / f"{collection}.part"
        if path.exists():
            with open(path, "rb") as part:
                shutil.copyfileobj(part, out, 1 << 20)


def _check_sizes(seed: int, orgs: int, repos_per_org: int, makers: int, years: int,
                 delta_days: int, blocked_repos: int) -> None:
    checks = [
        (orgs >= 1, "--orgs must be at least 1"),
        (repos_per_org >= 1, "--repos-per-org must be at least 1"),
        (makers >= 20, "--makers must be at least 20 (every planted kind needs someone)"),
        (1 <= years <= 30, "--years must be between 1 and 30"),
        (delta_days >= 0, "--delta-days must be 0 or more"),
        (blocked_repos >= 0, "--blocked-repos must be 0 or more"),
        (blocked_repos < orgs * repos_per_org, "--blocked-repos must be fewer than all repositories"),
        (seed >= 0, "--seed must be 0 or more"),
    ]
    for ok, message in checks:
        if not ok:
            raise BadInput(message)


def _check_moves(renamed: int, transferred: int, delta_days: int) -> None:
    for flag, count in (("--renamed-repos", renamed), ("--transferred-repos", transferred)):
        if count < 0:
            raise BadInput(f"{flag} must be 0 or more")
        if count and delta_days < 1:
            raise BadInput(f"{flag} happens in the first delta: give --delta-days 1 or more")


def output_dir(out: str | Path) -> Path:
    """The output folder, created; its parent must exist already."""
    path = Path(out)
    if not path.parent.is_dir():
        raise BadInput(f"{path}: its parent folder {path.parent} does not exist; create it first")
    if path.exists() and not path.is_dir():
        raise BadInput(f"{path} exists and is not a folder; choose another --out")
    path.mkdir(exist_ok=True)
    return path


def _user_records(plan: Plan) -> list[dict]:
    return [
        {"id": m.user_id, "login": m.login, "type": m.user_type, "name": m.name,
         "email": m.public_email, "created_at": iso(m.created_at)}
        for m in plan.makers if m.login is not None
    ]


def _org_records(plan: Plan) -> list[dict]:
    records = []
    for index, org in enumerate(plan.orgs):
        members = sorted(plan.makers[i].user_id for i in plan.members[index])
        record = dict(org, created_at=iso(org["created_at"]), members=members,
                      public_members=members[::2])
        records.append(record)
    return records


def _repo_record(plan: Plan, sim: RepoSim | None, repo, summary: RepoSummary | None) -> dict:
    pushed = summary.head_ts if summary and summary.head_sha else repo.created
    return {
        "id": repo.repo_id, "owner": plan.orgs[repo.org]["login"], "name": repo.name,
        "description": f"{repo.name.replace('-', ' ').capitalize()} for {plan.orgs[repo.org]['name']}",
        "fork": repo.fork, "archived": repo.archived, "blocked": repo.blocked,
        "default_branch": sim.default_branch if sim else "main",
        "created_at": iso(repo.created), "updated_at": iso(max(pushed, repo.created)),
        "pushed_at": iso(pushed), "language": LANGUAGES[repo.idx % len(LANGUAGES)],
    }


def _first_ordinary_repo(plan: Plan) -> int:
    for repo in plan.repos:
        if not (repo.empty or repo.fork or repo.blocked or repo.archived):
            return repo.idx
    return 0


def _private_repos(plan: Plan, forced: int, count: int) -> set[int]:
    """Indexes of ``count`` ordinary repos to mark private (their own random stream)."""
    if count == 0:
        return set()
    candidates = [repo.idx for repo in plan.repos if repo.idx != forced
                  and not (repo.empty or repo.fork or repo.blocked or repo.archived)]
    if count < 0 or count > len(candidates):
        raise BadInput(f"--private-repos must be from 0 to {len(candidates)} (the ordinary repos "
                       "but one); raise --repos-per-org for more")
    return set(random.Random(plan.seed * 7919 + 6).sample(candidates, count))


def _write_world(path: Path, now: str, small: dict[str, list], spool: SpoolWriter) -> None:
    encode = json.JSONEncoder(separators=(",", ":")).encode
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                   compresslevel=3) as out:
        out.write(f'{{"format":1,"now":{encode(now)}'.encode())
        for name, records in small.items():
            out.write(f',"{name}":['.encode())
            out.write(",".join(encode(r) for r in records).encode())
            out.write(b"]")
        for name in BIG_COLLECTIONS:
            out.write(f',"{name}":['.encode())
            spool.copy_into(name, out)
            out.write(b"]")
        out.write(b"}")
    partial.replace(path)


def _write_gzip_json(path: Path, data: dict) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(json.dumps(data, separators=(",", ":")).encode())


def _remove_stale(folder: Path, delta_count: int) -> None:
    """Drop deltas and truths a previous, longer run left in the folder: they would not fit."""
    for pattern in ("delta-*.json.gz", "truth-after-*.json", "truth.json"):
        for path in folder.glob(pattern):
            number = path.name.split("-")[-1].split(".")[0]
            if pattern == "truth.json" or (number.isdigit() and int(number) > delta_count):
                path.unlink()


def load_json(path: str | Path) -> dict:
    """A world or delta file (gzip or plain JSON) as a dict."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _write_truths(out: Path, world_path: Path, deltas: list[dict]) -> list[Path]:
    try:
        from graphminer.fakehub.truth import compute_truth
    except ModuleNotFoundError as error:
        if error.name != "graphminer.fakehub.truth":
            raise
        return []
    written = []
    world = load_json(world_path)
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(compute_truth(world), indent=1, sort_keys=True))
    written.append(truth_path)
    for number, delta in enumerate(deltas, start=1):
        world = apply_delta(world, delta)
        after = out / f"truth-after-{number}.json"
        after.write_text(json.dumps(compute_truth(world), indent=1, sort_keys=True))
        written.append(after)
    return written


def generate_world(out: str | Path, *, seed: int, orgs: int, repos_per_org: int, makers: int,
                   years: int, delta_days: int = 0, blocked_repos: int = 0, truth: bool = True,
                   now: str = DEFAULT_NOW, renamed_repos: int = 0, transferred_repos: int = 0,
                   private_repos: int = 0, deleted_accounts: int = 0, outside_share: float = 0.0,
                   identity_cases: bool = False,
                   progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write ``OUT/world.json.gz`` (+ deltas, + truth); return counts, paths and timings.

    FAKEHUB.md's hard edges that are world content, each 0 by default (then the world and
    its deltas are byte for byte as without them): ``renamed_repos``/``transferred_repos``,
    repos the first delta renames (transfers); ``private_repos``, repos marked private;
    ``deleted_accounts``, makers whose records show ``ghost`` (``generator_ghost``);
    ``outside_share``, the share of landed makers given activity outside the harvested orgs
    (``generator_outside``); ``identity_cases``, makers whose commits name them as the hard
    cases of identity resolution do (``generator_cast.CASE_MODES``).
    """
    _check_sizes(seed, orgs, repos_per_org, makers, years, delta_days, blocked_repos)
    _check_moves(renamed_repos, transferred_repos, delta_days)
    folder = output_dir(out)
    started = time.perf_counter()
    now_ts = parse_time(now)
    plan = build_plan(seed, orgs, repos_per_org, makers, years, now_ts, blocked_repos, identity_cases)
    ids = IdCounters()
    forced = _first_ordinary_repo(plan)
    private = _private_repos(plan, forced, private_repos)
    deleted = deleted_makers(plan, deleted_accounts)
    summaries: list[RepoSummary] = []
    repo_records = []
    with tempfile.TemporaryDirectory(dir=folder, prefix=".spool-") as tmp:
        spool = SpoolWriter(Path(tmp))
        emit = ghostly(spool.emit, deleted)
        for repo in plan.repos:
            sim = summary = None
            if not repo.empty:
                sim = RepoSim(plan, repo, ids, force_bots=repo.idx == forced)
                summary = sim.run(emit)
                spool.flush()
            record = _repo_record(plan, sim, repo, summary)
            if repo.idx in private:
                record["private"] = True
            repo_records.append(record)
            if summary is not None:
                summary.repo = record
                summary.default_branch = record["default_branch"]
                if not (repo.fork or repo.archived or repo.blocked) and summary.head_sha:
                    summaries.append(summary)
            if progress and repo.idx % 200 == 199:
                progress(f"generated {repo.idx + 1}/{len(plan.repos)} repositories")
        spool.close()
        users, org_records = without_deleted(_user_records(plan), _org_records(plan), deleted)
        small = {"users": users, "orgs": org_records, "repos": repo_records}
        world_path = folder / "world.json.gz"
        _write_world(world_path, now, small, spool)
    if outside_share:
        from graphminer.fakehub.generator_outside import plant_outside

        plant_outside(world_path, seed, outside_share)
    world_seconds = time.perf_counter() - started
    deltas = [ghost_delta(delta, deleted) for delta in build_deltas(
        plan, summaries, users, ids, delta_days, seed, renamed_repos, transferred_repos)]
    delta_paths = []
    for number, delta in enumerate(deltas, start=1):
        path = folder / f"delta-{number}.json.gz"
        _write_gzip_json(path, delta)
        delta_paths.append(path)
    _remove_stale(folder, len(deltas))
    truth_paths = _write_truths(folder, world_path, deltas) if truth else []
    counts = dict(spool.counts, users=len(users), orgs=len(plan.orgs), repos=len(repo_records))
    return {
        "world": world_path, "deltas": delta_paths, "truths": truth_paths, "counts": counts,
        "events": sum(spool.counts[name] for name in EVENT_COLLECTIONS),
        "world_seconds": world_seconds, "seconds": time.perf_counter() - started,
        "now": now, "final_now": iso(now_ts + delta_days * DAY),
    }
