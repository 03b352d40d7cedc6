"""GH Archive read by DuckDB (issue 24): time and peak memory against a plain ``json`` loop.

    python bench/bench_archive.py                 # both figures
    python bench/bench_archive.py --only real     # the real hour repeated to 1,000,000 events
    python bench/bench_archive.py --only real --runs 3   # each path 3 times, interleaved, least kept
    python bench/bench_archive.py --only day      # a day of 4,000,000 generated events

1. **The real hour repeated**: ../shared/data/gharchive/2015-01-01-12.json.gz (8,273 events)
   written again as consecutive hours until 1,000,000 events (ids made unique per copy, so
   nothing is a duplicate), into a temporary folder. Each path runs in a process of its own
   (its peak RSS is its own): DuckDB, graphminer's reader (``archive.Reader``: every event
   read with explicit types, the summary counted, a network's events selected), against a
   plain ``json`` loop over the same lines doing the same (goal: <= 0.3x its time, <= 1 GB).
   DuckDB uses its default threads (one a core: 2 here), the loop one: wall and CPU time are
   both printed, and the ratio of each. Beside them, the floor: DuckDB reading only each
   event's type and id (what no DuckDB read of these files can go under), and Python's gzip
   alone; and the load average before, between and after the runs.
2. **A generated day**: 24 hours of 4,000,000 events in the Events API format (a 2024-like
   type mix, compact payloads), a 10,000-repo network (500 orgs of 20 repos, already in the
   store, about 1% of the events): the whole ``harvest_archive`` (read, select, store into
   SQLite) against the same plain ``json`` loop (goal: <= 2 minutes on 2 cores).

The files are written under the system's temporary folder and removed afterwards (never into
the project). Every figure is printed with the baseline's in the same run and the ratio.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphminer.harvest import archive  # noqa: E402
from graphminer.harvest import archive_sql as sql  # noqa: E402

REAL_HOUR = ROOT.parent / "shared" / "data" / "gharchive" / "2015-01-01-12.json.gz"
HASHED = re.compile(r"^[0-9a-f]{40}(@|$)")
LEADING_ID = re.compile(rb'^\{"id":"(\d+)"', re.MULTILINE)


# --- the two paths, each run in a process of its own ---------------------------------------------

def duckdb_path(files: list[Path], owners: set[str]) -> dict:
    reader = archive.Reader(sql.Selection(owners=owners))
    summary = archive.ArchiveSummary()
    selected = 0
    for _, counts, rows in reader.read_all(archive.batches(files)):
        archive.add_counts(summary, counts)
        selected += len(rows)
    reader.close()
    return {"events": summary.events, "by_type": dict(summary.by_type), "merged_prs": summary.merged_prs,
            "pushes_commits_not_listed": summary.pushes_commits_not_listed,
            "hashed_emails": summary.hashed_emails, "selected": selected}


def json_path(files: list[Path], owners: set[str]) -> dict:
    """The same counts and selection with ``json.loads`` a line."""
    by_type: Counter = Counter()
    merged = unlisted = hashed = 0
    selected = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                event = json.loads(line)
                kind = event["type"]
                by_type[kind] += 1
                payload = event.get("payload") or {}
                if kind == "PullRequestEvent" and payload.get("action") == "closed" and \
                        (payload.get("pull_request") or {}).get("merged"):
                    merged += 1
                commits = payload.get("commits")
                if kind == "PushEvent" and commits is not None and (payload.get("size") or 0) > len(commits):
                    unlisted += 1
                for commit in commits or []:
                    if HASHED.match(((commit.get("author") or {}).get("email")) or ""):
                        hashed += 1
                owner = event["repo"]["name"].split("/", 1)[0].lower()
                if owner in owners or ((event.get("org") or {}).get("login") or "").lower() in owners:
                    selected.append(event)
    return {"events": sum(by_type.values()), "by_type": dict(by_type), "merged_prs": merged,
            "pushes_commits_not_listed": unlisted, "hashed_emails": hashed, "selected": len(selected)}


def duckdb_floor_path(files: list[Path], owners: set[str]) -> dict:
    """The least any DuckDB read of these files costs: ``read_json`` of each event's type and
    id only, counted by type (gzip and parsing every line, nothing materialised), on the
    same threads as the reader."""
    import duckdb

    con = duckdb.connect()
    listed = "[" + ", ".join(f"'{path}'" for path in files) + "]"
    found = con.execute(f"SELECT type, count(*) FROM read_json({listed}, columns={{'type': 'VARCHAR', 'id': 'VARCHAR'}}, "
                        "format='newline_delimited') GROUP BY type").fetchall()
    con.close()
    return {"events": sum(count for _, count in found)}


def gunzip_path(files: list[Path], owners: set[str]) -> dict:
    """Only the decompression both paths pay (Python's zlib, one thread): the floor."""
    lines = 0
    for path in files:
        with gzip.open(path, "rb") as raw:
            while chunk := raw.read(1 << 20):
                lines += chunk.count(b"\n")
    return {"events": lines}


def harvest_path(files: list[Path], store: Path, config_path: Path) -> dict:
    from graphminer.config import load_config
    from graphminer.pipeline import locked_store

    with locked_store(store, "bench") as conn:  # the harvester alone: identities are not this figure
        summary = archive.harvest_archive(conn, load_config(str(config_path)), files=files)
    return {"events": summary.events, "by_type": dict(summary.by_type), "merged_prs": summary.merged_prs,
            "stored": summary.stored}


def child(args: argparse.Namespace) -> None:
    """One path in this process: prints its seconds, peak RSS and answer as one JSON line."""
    files = archive.files_in(args.files)
    owners = set(json.loads(Path(args.owners).read_text()))
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    if args.path == "duckdb":
        answer = duckdb_path(files, owners)
    elif args.path == "duckfloor":
        answer = duckdb_floor_path(files, owners)
    elif args.path == "json":
        answer = json_path(files, owners)
    elif args.path == "gunzip":
        answer = gunzip_path(files, owners)
    else:
        answer = harvest_path(files, Path(args.store), Path(args.config))
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime - cpu_before,
                      "peak_mb": usage.ru_maxrss / 1024, **answer}))  # Linux reports KB


def run_child(path: str, folder: Path, owners: Path, **more: str) -> dict:
    command = [sys.executable, __file__, "--child", path, "--files", str(folder), "--owners", str(owners)]
    for name, value in more.items():
        command += [f"--{name}", value]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def duckdb_threads() -> int:
    import duckdb

    return int(duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0])


# --- 1. the real hour repeated ----------------------------------------------------------------------

def repeat_real_hour(folder: Path, events: int) -> int:
    """Write the real hour again as consecutive hours (ids unique per copy) until ``events``."""
    with gzip.open(REAL_HOUR, "rb") as source:
        text = source.read()
    per_hour = text.count(b"\n")
    copies = -(-events // per_hour)
    start = datetime(2015, 1, 1, 12, tzinfo=UTC)
    for copy in range(copies):
        body = LEADING_ID.sub(lambda match, copy=copy: b'{"id":"%d"' % (int(match.group(1)) + copy * 10**10), text)
        with open(folder / archive.hour_file(start + timedelta(hours=copy)), "wb") as raw, \
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as out:
            out.write(body)
    return copies * per_hour


def bench_real(events: int, runs: int = 1) -> None:
    if not REAL_HOUR.is_file():
        print(f"skipped: {REAL_HOUR} is not beside the checkout")
        return
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        folder = Path(tmp) / "hours"
        folder.mkdir()
        started = time.perf_counter()
        written = repeat_real_hour(folder, events)
        os.sync()  # the files on disk before any run: else the first run shares the cores with their writeback
        size = sum(path.stat().st_size for path in folder.iterdir())
        print(f"real hour repeated: {written:,} events in {len(list(folder.iterdir()))} files, "
              f"{size / 1e6:,.0f} MB gzipped (written in {time.perf_counter() - started:.0f} s)")
        # a network: the owners of one event in 50 of the hour (about 2% of the events)
        with gzip.open(REAL_HOUR, "rt", encoding="utf-8") as lines:
            names = sorted({json.loads(line)["repo"]["name"].split("/")[0].lower() for line in lines})
        owners = Path(tmp) / "owners.json"
        owners.write_text(json.dumps(random.Random(24).sample(names, len(names) // 50)))
        loads = [load()]
        # interleaved: each run of the reader beside a run of the loop, under the same load
        duck_runs, plain_runs = [], []
        for _ in range(runs):
            duck_runs.append(run_child("duckdb", folder, owners))
            plain_runs.append(run_child("json", folder, owners))
            loads.append(load())
        duck = min(duck_runs, key=lambda answer: answer["seconds"])
        plain = min(plain_runs, key=lambda answer: answer["seconds"])
        floor = run_child("duckfloor", folder, owners)
        gunzip = run_child("gunzip", folder, owners)
        loads.append(load())
    same = {key: duck[key] == plain[key] for key in ("events", "by_type", "merged_prs",
                                                       "pushes_commits_not_listed", "hashed_emails", "selected")}
    threads = duckdb_threads()
    print(f"  DuckDB (graphminer's reader, {threads} lanes of 1 thread): {duck['seconds']:.1f} s (CPU {duck['cpu']:.1f} s), "
          f"peak {duck['peak_mb']:,.0f} MB, {duck['events']:,} events, {duck['selected']:,} selected")
    print(f"  plain json loop (1 thread):        {plain['seconds']:.1f} s (CPU {plain['cpu']:.1f} s), "
          f"peak {plain['peak_mb']:,.0f} MB, {plain['events']:,} events, {plain['selected']:,} selected")
    if runs > 1:
        print(f"  (least wall time of {runs} interleaved runs each; every run, wall/CPU s: DuckDB "
              + ", ".join(f"{run['seconds']:.1f}/{run['cpu']:.1f}" for run in duck_runs) + "; json "
              + ", ".join(f"{run['seconds']:.1f}/{run['cpu']:.1f}" for run in plain_runs) + ")")
    print(f"  floor, DuckDB read_json of type and id only ({threads} threads): {floor['seconds']:.1f} s "
          f"(CPU {floor['cpu']:.1f} s) = {floor['seconds'] / plain['seconds']:.2f}x the loop's wall, "
          f"{floor['cpu'] / plain['cpu']:.2f}x its CPU")
    print(f"  gzip alone (Python's zlib, 1 thread; both paths pay a gzip): {gunzip['seconds']:.1f} s "
          f"(CPU {gunzip['cpu']:.1f} s)")
    print(f"  ratio {duck['seconds'] / plain['seconds']:.2f}x wall, {duck['cpu'] / plain['cpu']:.2f}x CPU "
          f"(goal <= 0.3x, <= 1 GB): time {'met' if duck['seconds'] <= 0.3 * plain['seconds'] else 'NOT met'}, "
          f"memory {'met' if duck['peak_mb'] <= 1024 else 'NOT met'}; DuckDB's parallelism "
          f"{duck['cpu'] / duck['seconds']:.2f} cores busy of {threads}; "
          f"same answers: {all(same.values())} {'' if all(same.values()) else same}")
    print(f"  load average (1, 5, 15 min) before, between runs, after: {' | '.join(loads)} on {os.cpu_count()} cores "
          "(wall times stretch on a shared machine; CPU times less so)")


# --- 2. a generated day -----------------------------------------------------------------------------

TYPE_SHARES = {"PushEvent": 0.55, "CreateEvent": 0.12, "PullRequestEvent": 0.08, "WatchEvent": 0.07,
               "IssueCommentEvent": 0.05, "DeleteEvent": 0.03, "PullRequestReviewEvent": 0.03,
               "IssuesEvent": 0.02, "ForkEvent": 0.02, "PullRequestReviewCommentEvent": 0.015,
               "ReleaseEvent": 0.005, "MemberEvent": 0.002, "GollumEvent": 0.008}
ORGS, REPOS_PER_ORG, NETWORK_SHARE = 500, 20, 0.01
OTHER_REPOS, USERS = 2_000_000, 1_500_000


def user(rng: random.Random) -> dict:
    number = rng.randrange(USERS)
    return {"id": 10_000_000 + number, "login": f"user{number}"}


def event_line(rng: random.Random, event_id: int, at: str) -> str:
    """One event of the generated day, in the Events API format (compact payloads)."""
    kind = rng.choices(list(TYPE_SHARES), weights=list(TYPE_SHARES.values()))[0]
    actor = user(rng)
    if rng.random() < NETWORK_SHARE:
        org, repo = rng.randrange(ORGS), rng.randrange(REPOS_PER_ORG)
        owner = {"id": 500_000 + org, "login": f"civic-org-{org}"}
        repo_id, name = 1_000_000 + org * REPOS_PER_ORG + repo, f"civic-org-{org}/project-{repo}"
    else:
        number = rng.randrange(OTHER_REPOS)
        owner = None
        repo_id, name = 100_000_000 + number, f"owner{number % 400_000}/repo{number}"
    number = rng.randrange(1, 3000)
    item = {"id": rng.randrange(10**9), "number": number, "user": user(rng), "state": "open",
            "created_at": at, "author_association": rng.choice(["NONE", "CONTRIBUTOR", "MEMBER"])}
    if kind == "PushEvent":
        size = rng.choice([1, 1, 1, 2, 3, 25])
        commits = [{"sha": f"{rng.getrandbits(160):040x}",
                    "author": {"email": f"{rng.getrandbits(160):040x}@users.noreply.github.com",
                               "name": actor["login"]}, "message": "Update", "distinct": True}
                   for _ in range(min(size, 20))]
        payload = {"push_id": event_id, "size": size, "distinct_size": size, "ref": "refs/heads/main",
                   "head": commits[-1]["sha"], "before": f"{rng.getrandbits(160):040x}", "commits": commits}
    elif kind in ("PullRequestEvent", "PullRequestReviewEvent", "PullRequestReviewCommentEvent"):
        merged = kind == "PullRequestEvent" and rng.random() < 0.3
        pull = {**item, "merged": merged, "merged_by": user(rng) if merged else None,
                "merged_at": at if merged else None, "head": {"ref": "patch", "sha": "0" * 40},
                "base": {"ref": "main", "sha": "0" * 40}}
        payload = {"action": "closed" if merged else "opened", "number": number, "pull_request": pull}
        if kind == "PullRequestReviewEvent":
            payload = {"action": "created", "pull_request": pull,
                       "review": {"id": rng.randrange(10**9), "user": actor, "state": "approved",
                                  "submitted_at": at, "author_association": "MEMBER"}}
        elif kind == "PullRequestReviewCommentEvent":
            payload = {"action": "created", "pull_request": pull,
                       "comment": {"id": rng.randrange(10**9), "user": actor, "created_at": at,
                                   "author_association": "CONTRIBUTOR"}}
    elif kind in ("IssuesEvent", "IssueCommentEvent"):
        payload = {"action": "opened" if kind == "IssuesEvent" else "created", "issue": item}
        if kind == "IssueCommentEvent":
            payload["comment"] = {"id": rng.randrange(10**9), "user": actor, "created_at": at,
                                  "author_association": "NONE"}
    elif kind == "CreateEvent":
        payload = {"ref": "main", "ref_type": rng.choice(["branch", "repository", "tag"]), "master_branch": "main"}
    elif kind == "ReleaseEvent":
        payload = {"action": "published", "release": {"id": rng.randrange(10**9), "tag_name": "v1.0",
                                                      "author": actor, "published_at": at}}
    elif kind == "MemberEvent":
        payload = {"action": "added", "member": user(rng)}
    else:
        payload = {"action": "started"} if kind == "WatchEvent" else {}
    line = {"id": str(event_id), "type": kind, "actor": actor, "repo": {"id": repo_id, "name": name},
            "payload": payload, "public": True, "created_at": at}
    if owner is not None:
        line["org"] = owner
    return json.dumps(line, separators=(",", ":"))


def write_hour(job: tuple[Path, int, int, int]) -> int:
    folder, hour, events, first_id = job
    rng = random.Random(hour)
    start = datetime(2024, 3, 5, hour, tzinfo=UTC)
    lines = [event_line(rng, first_id + index, (start + timedelta(seconds=index * 3600 // events))
                        .strftime("%Y-%m-%dT%H:%M:%SZ")) for index in range(events)]
    with open(folder / archive.hour_file(start), "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as out:
        out.write(("\n".join(lines) + "\n").encode("utf-8"))
    return events


def network_store(tmp: Path) -> tuple[Path, Path, list[str]]:
    """A store that already knows the network's 10,000 repos, and its config."""
    from graphminer.store import open_store

    orgs = [f"civic-org-{org}" for org in range(ORGS)]
    config = tmp / "graphminer.toml"
    config.write_text(f"[harvest]\norgs = {json.dumps(orgs)}\n[paths]\ncache = {json.dumps(str(tmp / 'cache'))}\n")
    store = tmp / "store.sqlite"
    conn = open_store(store)
    with conn:
        conn.executemany("INSERT INTO orgs(id, login) VALUES (?, ?)",
                         [(500_000 + index, login) for index, login in enumerate(orgs)])
        conn.executemany("INSERT INTO repos(id, org_id, owner, name, full_name) VALUES (?, ?, ?, ?, ?)",
                         [(1_000_000 + org * REPOS_PER_ORG + repo, 500_000 + org, f"civic-org-{org}",
                           f"project-{repo}", f"civic-org-{org}/project-{repo}")
                          for org in range(ORGS) for repo in range(REPOS_PER_ORG)])
    conn.close()
    return store, config, orgs


def bench_day(events: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-archive-day-") as tmp:
        folder = Path(tmp) / "hours"
        folder.mkdir()
        started = time.perf_counter()
        per_hour = events // 24
        with Pool(2) as pool:
            written = sum(pool.map(write_hour, [(folder, hour, per_hour, 3_000_000_000 + hour * per_hour)
                                                for hour in range(24)]))
        size = sum(path.stat().st_size for path in folder.iterdir())
        print(f"generated day: {written:,} events in 24 files, {size / 1e6:,.0f} MB gzipped "
              f"(written in {time.perf_counter() - started:.0f} s)")
        store, config, orgs = network_store(Path(tmp))
        owners = Path(tmp) / "owners.json"
        owners.write_text(json.dumps([org.lower() for org in orgs]))
        harvest = run_child("harvest", folder, owners, store=str(store), config=str(config))
        plain = run_child("json", folder, owners)
    print(f"  harvest_archive (read, select, store): {harvest['seconds']:.1f} s (CPU {harvest['cpu']:.1f} s), "
          f"peak {harvest['peak_mb']:,.0f} MB, {harvest['events']:,} events, {harvest['stored']:,} records stored")
    print(f"  plain json loop (read, count, select): {plain['seconds']:.1f} s (CPU {plain['cpu']:.1f} s), "
          f"peak {plain['peak_mb']:,.0f} MB, {plain['selected']:,} selected")
    print(f"  load average {' '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"  ratio {harvest['seconds'] / plain['seconds']:.2f}x wall, {harvest['cpu'] / plain['cpu']:.2f}x CPU; "
          "goal <= 120 s: "
          f"{'met' if harvest['seconds'] <= 120 else 'NOT met'}; same counts: "
          f"{harvest['events'] == plain['events'] and harvest['by_type'] == plain['by_type']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["real", "day"], default=None)
    parser.add_argument("--events", type=int, default=None, help="events (default 1,000,000 real, 4,000,000 day)")
    parser.add_argument("--runs", type=int, default=1,
                        help="real hour: interleaved runs of each path, the least wall time kept (default 1)")
    parser.add_argument("--child", choices=["duckdb", "duckfloor", "json", "gunzip", "harvest"], dest="path", default=None,
                        help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    parser.add_argument("--owners", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.path:
        child(args)
        return
    if args.only in (None, "real"):
        bench_real(args.events or 1_000_000, args.runs)
    if args.only in (None, "day"):
        bench_day(args.events or 4_000_000)


if __name__ == "__main__":
    main()
