"""The GH Archive harvest: public events read where they live, into the store.

Sources: hourly files on disk (``files_in``: only ``YYYY-MM-DD-H.json.gz`` names are read),
hours downloaded into ``cache/gharchive/`` (``download_hours``: resumable, a partial file
is a ``.part`` never read as whole, a 404 hour is recorded missing), or a ClickHouse server
holding ``github_events`` (``read_clickhouse``, over clickhouse-connect). Files are read
by DuckDB ``read_json`` with explicit column types (``graphminer.harvest.archive_sql``),
up to 64 MB of files a batch, oldest first, a batch's files dealt to one lane a core (a
connection of one thread each; the next batch is read while this one's rows are stored):
one pass counts the summary on every event and
keeps the raw event of the selected ones (and, with following, of what may be an outside
act), whose columns are then taken; then the selection is stored:

- **the network's own repos** (by repo id, name, owner or org): issues and PRs opened,
  closed, merged and by whom, comments, review comments, reviews, releases, pushes with
  their commit authors (hashed emails; the pusher is the event's actor), repos created,
  member events. Records go into the API's tables by GitHub id (an issue by repo and
  number) with ``source`` 'archive'; a record the API stored keeps the API's fields and
  becomes 'both'. Issue events the archive shows (closed, reopened, merged) have no GitHub
  id there: they take a negative one, and the API's own event replaces them.
- **known makers elsewhere** (``follow``): merged PRs they authored outside the network,
  repos they created under their own account and whether another account pushed or had a
  PR merged there, their public events in government, research and civic owners (makers
  without an account: by commit email, hashed as GH Archive hashes it), staged in
  ``archive_*`` tables; ``follow_from_archive`` copies those of the makers following would
  follow into following's tables, where ``graphminer.careers`` reads them.
- **author_association at the time** (MEMBER, COLLABORATOR, OWNER) as dated evidence.

Eras: Timeline files before 2015 (no event id, logins only: ids come from the store or the
same read, so Timeline rows are stored once the run has read everything); from 2025-05-24
an event may sit in a later hour and appear twice (deduped by id); from 2025-10-07
payloads are trimmed (no commits, no PR author or merge, no association): counted as not
observable, never invented. Every event is also keyed by its content (``timeline_id``), so
one read from the files and from ClickHouse is one record. Coverage per day is stored; a
run ends on the archive's clock (the end of the newest hour asked for).
Imports store and config only (and ``archive_sql``, which imports nothing of graphminer).
"""

from __future__ import annotations

import glob
import hashlib
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3

from graphminer.config import Config
from graphminer.errors import BadInput
from graphminer.harvest import archive_sql as sql
from graphminer.store import utc_now

HOUR_FILE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(\d{1,2})\.json\.gz$")
BATCH_BYTES = 64 << 20  # compressed bytes a DuckDB query reads at once (a busy hour of 2024 alone)
BATCH_FILES = 512  # and at most this many hours (quiet hours of a small network are a few KB each)
DEDUPE_HOURS = 24  # crawl era: an event id seen this many hours back is a duplicate
ASSOCIATIONS = ("MEMBER", "COLLABORATOR", "OWNER")
BOT = re.compile(r"\[bot\]$", re.IGNORECASE)


def hour_of(name: str) -> datetime | None:
    """The hour a GH Archive file name holds, or None for any other name.

    >>> hour_of("2015-01-01-5.json.gz"), hour_of("notes.txt")
    (datetime.datetime(2015, 1, 1, 5, 0, tzinfo=datetime.timezone.utc), None)
    """
    match = HOUR_FILE.match(name)
    if not match:
        return None
    year, month, day, hour = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


def hour_file(moment: datetime) -> str:
    """GH Archive's file name of the hour starting at ``moment`` (the hour not zero-padded).

    >>> hour_file(datetime(2016, 3, 1, 7, tzinfo=UTC))
    '2016-03-01-7.json.gz'
    """
    return f"{moment:%Y-%m-%d}-{moment.hour}.json.gz"


def hour_key(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H")


def email_hash(email: str) -> str:
    """A commit email as GH Archive publishes it (SHA1 hex of the local part, domain kept).

    >>> email_hash("ana@example.org")
    '72019bbac0b3dac88beac9ddfef0ca808919104f@example.org'
    """
    local, at, domain = email.partition("@")
    return hashlib.sha1(local.encode("utf-8")).hexdigest() + (at + domain if at else "")


def files_in(where: str) -> list[Path]:
    """The hourly files of a folder or glob, oldest hour first; other names are ignored."""
    path = Path(where)
    if path.is_dir():
        candidates = list(path.iterdir())
    elif path.is_file():
        candidates = [path]
    else:
        candidates = [Path(name) for name in glob.glob(where)]
        if not candidates and not any(char in where for char in "*?["):
            raise BadInput(f"--files {where}: no such file or folder; give a folder of GH Archive "
                           "hours or a glob such as 'data/2015-01-*.json.gz'")
    found = [item for item in candidates if item.is_file() and hour_of(item.name) is not None]
    return sorted(found, key=lambda item: hour_of(item.name))


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """Every hour from ``start`` to ``end`` (a day's end included)."""
    hours, moment = [], start.replace(minute=0, second=0, microsecond=0)
    while moment <= end:
        hours.append(moment)
        moment += timedelta(hours=1)
    return hours


# --- downloading ---------------------------------------------------------------------------------


def download_hours(base_url: str, hours: list[datetime], cache: Path,
                   say: Callable[[str], None] = lambda text: None,
                   session: Any = None) -> tuple[list[Path], list[datetime]]:
    """Download each hour into ``cache`` (files already complete are kept); returns the
    complete files and the hours the server does not have (404). A download is written to
    ``NAME.part`` and resumed with a Range request; only a whole file (its length as the
    server gave it) is renamed to NAME, so a partial file is never read."""
    cache.mkdir(parents=True, exist_ok=True)
    http = session or requests.Session()
    done, missing = [], []
    for moment in hours:
        name = hour_file(moment)
        target = cache / name
        if target.is_file():
            done.append(target)
            continue
        part = cache / (name + ".part")
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            response = http.get(f"{base_url.rstrip('/')}/{name}", headers=headers, stream=True, timeout=60)
        except requests.RequestException as error:
            say(f"{name}: {type(error).__name__}; the partial file is kept for the next run")
            continue
        if response.status_code == 404:
            missing.append(moment)
            continue
        if response.status_code == 416 and have:  # the part is already whole
            part.rename(target)
            done.append(target)
            continue
        if response.status_code not in (200, 206):
            say(f"{name}: the server answered {response.status_code}; try again later")
            continue
        total = _expected_size(response, have)
        mode = "ab" if response.status_code == 206 else "wb"
        try:
            with open(part, mode) as out:
                # read1: every byte that arrived is kept, even when the connection breaks mid-chunk
                while chunk := response.raw.read1(1 << 16, decode_content=False):
                    out.write(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            say(f"{name}: the download broke off ({type(error).__name__}); the partial file is kept "
                "and resumed by the next run")
            continue
        size = part.stat().st_size
        if total is not None and size != total:
            say(f"{name}: {size} of {total} bytes; the partial file is resumed by the next run")
            continue
        part.rename(target)
        done.append(target)
    return done, missing


def _expected_size(response: Any, have: int) -> int | None:
    """The whole file's size as the server tells it (Content-Range total, or the length)."""
    whole = response.headers.get("Content-Range", "").rpartition("/")[2]
    if whole.isdigit():
        return int(whole)
    length = response.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (have if response.status_code == 206 else 0)
    return None


# --- the summary -----------------------------------------------------------------------------------


@dataclass
class ArchiveSummary:
    """What one harvest-archive read (counted before any filter but --from/--to) and stored."""

    hours_read: int = 0
    hours_missing: int = 0
    events: int = 0
    by_type: Counter = field(default_factory=Counter)
    stored: int = 0
    merged_prs: int = 0
    pushes_commits_not_listed: int = 0
    hashed_emails: int = 0
    not_observable: Counter = field(default_factory=Counter)
    coverage: list[dict] = field(default_factory=list)
    duplicates: int = 0
    days: list[dict] = field(default_factory=list)  # coverage with the missing hours

    def as_json(self) -> dict:
        return {"hours_read": self.hours_read, "hours_missing": self.hours_missing, "events": self.events,
                "by_type": dict(sorted(self.by_type.items())), "stored": self.stored,
                "merged_prs": self.merged_prs, "pushes_commits_not_listed": self.pushes_commits_not_listed,
                "hashed_emails": self.hashed_emails, "not_observable": dict(sorted(self.not_observable.items())),
                "coverage": self.coverage}

    def lines(self) -> list[str]:
        types = ", ".join(f"{name} {count:,}" for name, count in self.by_type.most_common())
        text = [f"read {self.hours_read} hours ({self.hours_missing} missing), {self.events:,} events"
                + (f" ({self.duplicates:,} filed twice, counted once)" if self.duplicates else ""),
                f"  by type: {types or 'none'}",
                f"  {self.merged_prs:,} merged PRs; {self.pushes_commits_not_listed:,} pushes with more commits "
                f"than listed; {self.hashed_emails:,} commit emails hashed",
                f"stored {self.stored:,} records"]
        if self.not_observable:
            text.append("not observable in the archive: " + ", ".join(
                f"{name.replace('_', ' ')} {count:,}" for name, count in sorted(self.not_observable.items())))
        for day in self.days:
            text.append(f"  {day['day']}: {day['hours']}/24 hours read, {day['missing']} missing ({day['era']})")
        return text


# --- reading with DuckDB ------------------------------------------------------------------------------


class Reader:
    """A DuckDB connection holding the selection's tables; reads batches of hourly files."""

    def __init__(self, selection: sql.Selection, named_owners: dict[str, str] | None = None,
                 lanes: int | None = None) -> None:
        import duckdb  # start-up: a heavy optional engine, only for this command

        self.con = duckdb.connect()
        self.invalid_input = duckdb.InvalidInputException  # read_batch's long-line fallback
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute("SET preserve_insertion_order = false")  # rows are ordered where it matters
        # one lane a core (DuckDB's threads), each a connection of one thread reading its share
        # of a batch's files: one query's threads share a gzipped file's reads (1.2 cores of 2)
        self.lanes = lanes or int(self.con.execute("SELECT current_setting('threads')").fetchone()[0])
        self.con.execute("SET threads = 1")
        self.cursors = [self.con.cursor() for _ in range(self.lanes)]
        self.pool = ThreadPoolExecutor(self.lanes, thread_name_prefix="archive-lane") if self.lanes > 1 else None
        self.generation = 1  # the view ``batch`` shows the lane tables of one generation (0 or 1)
        self.tables: list[list[str]] = [[], []]  # and the next batch is read into the other's
        self.pending: tuple[list[Path], int, list[str], list[Any]] | None = None
        self.selection = selection
        tables = {"sel_repo_ids": ("id BIGINT", [(value,) for value in selection.repo_ids]),
                  "sel_names": ("name VARCHAR", [(value.lower(),) for value in selection.repo_names]),
                  "sel_owners": ("login VARCHAR", [(value.lower(),) for value in selection.owners]),
                  "sel_maker_ids": ("id BIGINT", [(value,) for value in selection.maker_ids]),
                  "sel_maker_logins": ("login VARCHAR", [(value.lower(),) for value in selection.maker_logins]),
                  "sel_hashes": ("hash VARCHAR", [(value,) for value in selection.email_hashes]),
                  "sel_kinds": ("login VARCHAR, kind VARCHAR",
                                [(login.lower(), kind) for login, kind in (named_owners or {}).items()]),
                  "seen": ("id BIGINT, hour TIMESTAMPTZ", [])}
        for name, (columns, rows) in tables.items():
            self.fill(name, columns, rows)

    def fill(self, name: str, columns: str, rows: list[tuple]) -> None:
        """(Re)create the table ``name`` (``columns``: "a BIGINT, b VARCHAR") holding
        ``rows``, in one statement of lists (executemany is one statement a row: minutes for
        10,000 repos); not a temp table, so that every lane's connection sees it (the
        database is this reader's own, in memory)."""
        self.con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
        if rows:
            kinds = [part.split()[1] for part in columns.split(", ")]
            self.con.execute(f"INSERT INTO {name} SELECT " + ", ".join(f"unnest(?::{kind}[])" for kind in kinds),
                             [list(values) for values in zip(*rows, strict=True)])

    def read_all(self, batches: Iterable[list[Path]]) -> Iterator[tuple[list[Path], dict[str, Any], list[dict]]]:
        """Each batch with its counts and selected rows (``read``); the lanes read the next
        batch's files while this one's rows are taken and used."""
        listed = list(batches)
        for index, files in enumerate(listed):
            counts, rows = self.read(files, listed[index + 1] if index + 1 < len(listed) else None)
            yield files, counts, rows

    def read(self, files: list[Path], following: list[Path] | None = None) -> tuple[dict[str, Any], list[dict]]:
        """Read one batch (one format): the counts of every event, and the selected rows
        (in the crawl era, events already seen in an earlier hour dropped); the lanes start
        on the ``following`` batch before this one's rows are taken."""
        hours = [hour_of(path.name) for path in files]
        _, dedupe = batch_era(hours)
        self.take_batch(files)
        if following:
            self.start_batch(following)
        if not dedupe:
            self.con.execute("CREATE OR REPLACE TEMP VIEW fresh AS SELECT * FROM batch")
            duplicates = 0
        else:
            self.con.execute("DELETE FROM seen WHERE hour < ?", [min(hours) - timedelta(hours=DEDUPE_HOURS)])
            # an event filed in two hours is one event: keep its first filing
            self.con.execute("""CREATE OR REPLACE TEMP TABLE deduped AS
                SELECT * FROM batch WHERE event_id IS NULL OR event_id NOT IN (SELECT id FROM seen)
                QUALIFY event_id IS NULL OR row_number() OVER (PARTITION BY event_id ORDER BY filename) = 1""")
            self.con.execute("CREATE OR REPLACE TEMP VIEW fresh AS SELECT * FROM deduped")
            duplicates = self.con.execute("SELECT (SELECT count(*) FROM batch) - (SELECT count(*) FROM fresh)"
                                          ).fetchone()[0]
            self.con.execute("INSERT INTO seen SELECT event_id, created_at::TIMESTAMPTZ FROM fresh "
                             "WHERE event_id IS NOT NULL AND created_at::TIMESTAMPTZ >= ?", [sql.CRAWL_HOUR_FROM])
        counts = self.counts()
        counts["duplicates"] = duplicates
        counts["per_file"] = dict(self.con.execute("SELECT filename, count(*) FROM batch GROUP BY ALL").fetchall())
        self.con.execute(sql.duck_picked_sql())
        # oldest first: an issue is stored before the comments that name it by id (Timeline)
        rows = self.rows(f"SELECT * EXCLUDE (selected), {self.network_predicate()} AS in_network FROM picked "
                         "WHERE selected ORDER BY created_at, event_id NULLS LAST, filename")
        return counts, rows

    def start_batch(self, files: list[Path]) -> None:
        """Set the lanes reading these files (each its share, by size, into its own table of
        the generation the view ``batch`` does not show), in the background where there is
        more than one lane."""
        timeline, dedupe = batch_era([hour_of(path.name) for path in files])
        generation = 1 - self.generation
        shares = lane_shares([str(path) for path in files], min(self.lanes, len(files)))
        tables = [f"batch_{generation}_{lane}" for lane in range(len(shares))]
        if self.pool is None or len(shares) == 1:
            self.read_lane(0, tables[0], shares[0], timeline, dedupe)
            jobs = []
        else:
            jobs = [self.pool.submit(self.read_lane, lane, table, share, timeline, dedupe)
                    for lane, (table, share) in enumerate(zip(tables, shares, strict=True))]
        self.pending = (list(files), generation, tables, jobs)

    def take_batch(self, files: list[Path]) -> None:
        """The view ``batch`` of these files: the lanes' tables once they are read (read now
        if no lane was set on them); the previous batch's tables dropped."""
        if self.pending is not None and self.pending[0] != list(files):
            for job in self.pending[3]:  # set on other files: let it end before its tables are reused
                job.result()
            self.pending = None
        if self.pending is None:
            self.start_batch(files)
        _, generation, tables, jobs = self.pending
        self.pending = None
        for job in jobs:
            job.result()
        for table in self.tables[1 - generation]:
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        self.generation, self.tables[1 - generation], self.tables[generation] = generation, [], tables
        self.con.execute("CREATE OR REPLACE TEMP VIEW batch AS "
                         + " UNION ALL ".join(f"SELECT * FROM {table}" for table in tables))

    def read_lane(self, lane: int, table: str, names: list[str], timeline: bool, dedupe: bool) -> None:
        """The table ``table`` of these files, read on lane ``lane`` with DuckDB's default
        line buffer; again with a large one when a line is longer than the default takes."""
        cursor, into = self.cursors[lane], f"TABLE {table}"
        try:
            cursor.execute(sql.duck_batch_sql(names, timeline, self.selection, dedupe=dedupe, table=into))
        except self.invalid_input as error:
            if "maximum_object_size" not in str(error):
                raise
            cursor.execute(sql.duck_batch_sql(names, timeline, self.selection, large_objects=True,
                                              dedupe=dedupe, table=into))

    def counts(self) -> dict[str, Any]:
        """The summary's counts over every event of the batch (``fresh``), one scan."""
        found = self.con.execute("""
            SELECT type, count(*), count_if(merged_pr), count(push_beyond), coalesce(sum(hashed), 0),
                   coalesce(sum(push_beyond), 0), count_if(trimmed_push), count_if(trimmed_pull),
                   count_if(unassociated)
            FROM fresh GROUP BY type""").fetchall()
        total = [sum(int(row[index]) for row in found) for index in range(2, 9)]
        return {"by_type": {row[0]: row[1] for row in found}, "merged_prs": total[0],
                "pushes_commits_not_listed": total[1], "hashed_emails": total[2],
                "not_observable": {"push_commits_beyond_20": total[3], "pushes_without_commits": total[4],
                                   "pull_requests_without_author_or_merge": total[5],
                                   "items_without_author_association": total[6]}}

    def rows(self, query: str, params: list | None = None) -> list[dict]:
        cursor = self.con.execute(query, params or [])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def outside(self, candidate_ids: set[int], candidate_logins: set[str]) -> dict[str, list[dict]]:
        """Known makers' acts outside the network in the last batch (``picked``)."""
        self.fill("cand_ids", "id BIGINT", [(value,) for value in candidate_ids])
        self.fill("cand_logins", "login VARCHAR", [(value,) for value in candidate_logins])
        outside = "NOT (" + self.network_predicate() + ")"
        owner = "lower(split_part(repo_name, '/', 1))"
        return {
            "prs": self.rows(f"""SELECT creator_user_id AS user_id, repo_name, split_part(repo_name, '/', 1) AS owner,
                    item_created_at, merged_at FROM picked WHERE event_type = 'PullRequestEvent'
                    AND action = 'closed' AND merged = 1 AND creator_user_id IN (SELECT id FROM cand_ids)
                    AND {outside}"""),
            "repos": self.rows(f"""SELECT actor_id AS user_id, repo_name, split_part(repo_name, '/', 1) AS owner,
                    created_at FROM picked WHERE event_type = 'CreateEvent' AND ref_type = 'repository'
                    AND actor_id IN (SELECT id FROM cand_ids) AND {owner} = lower(actor_login) AND {outside}"""),
            "helpers": self.rows(f"""SELECT repo_name, coalesce(creator_user_id, actor_id) AS user_id,
                    coalesce(creator_user_login, actor_login) AS login, created_at FROM picked
                    WHERE {owner} IN (SELECT login FROM cand_logins) AND {outside}
                    AND ((event_type = 'PushEvent' AND lower(actor_login) != {owner})
                      OR (event_type = 'PullRequestEvent' AND merged = 1
                          AND lower(creator_user_login) != {owner}))"""),
            "elsewhere": self.rows(f"""SELECT event_id, actor_id AS user_id, NULL AS email_hash, repo_name,
                    split_part(repo_name, '/', 1) AS owner, event_type, created_at FROM picked
                    WHERE actor_id IN (SELECT id FROM cand_ids) AND {owner} IN (SELECT login FROM sel_kinds)
                    AND {outside}
                UNION ALL
                SELECT event_id, NULL, c.author.email, repo_name, split_part(repo_name, '/', 1), event_type,
                    created_at FROM (SELECT *, unnest(commits) AS c FROM picked WHERE commits IS NOT NULL)
                    WHERE c.author.email IN (SELECT hash FROM sel_hashes) AND {owner} IN (SELECT login FROM sel_kinds)
                    AND {outside}"""),
        }

    def network_predicate(self) -> str:
        if self.selection.everything:
            return "TRUE"
        return """coalesce(repo_id IN (SELECT id FROM sel_repo_ids) OR lower(repo_name) IN (SELECT name FROM sel_names)
            OR lower(split_part(repo_name, '/', 1)) IN (SELECT login FROM sel_owners)
            OR lower(org_login) IN (SELECT login FROM sel_owners), FALSE)"""

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        for cursor in self.cursors:
            cursor.close()
        self.con.close()


# --- storing --------------------------------------------------------------------------------------


def item_association(row: dict) -> str | None:
    """The author_association of an event's issue or PR author (None, NONE, CONTRIBUTOR...):
    the raw JSON's (DuckDB) or, from github_events (ClickHouse, one column for all), that
    column except on a review, where it is the reviewer's."""
    if "item_association" in row:
        return row["item_association"]
    return None if row["event_type"] == "PullRequestReviewEvent" else row.get("author_association")


def timeline_id(row: dict) -> int:
    """A stable negative id for an event without one (the Timeline era, ClickHouse's rows),
    from the content every source gives (``archive_sql.SELECTION``'s columns)."""
    text = "|".join(str(row.get(name)) for name in ("event_type", "created_at", "actor_login", "repo_name",
                                                       "action", "number", "comment_id", "ref", "push_size"))
    return -(int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:7], "big") + 1)


class ArchiveStore:
    """Writes the selected rows into the store (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection, opt_out: set[str]) -> None:
        self.conn = conn
        self.opt_out = {name.lower() for name in opt_out}
        self.opt_hashes = {email_hash(name) for name in self.opt_out if "@" in name}
        self.ids = {login.lower(): user_id for user_id, login in conn.execute("SELECT id, login FROM people")}
        self.stored = 0

    # people -----------------------------------------------------------------------------------

    def learn(self, rows: list[dict]) -> None:
        """Logins and ids the rows show (actors, authors, mergers): Timeline rows name people
        by login only, and are resolved through these and the store."""
        for row in rows:
            for id_name, login_name in (("actor_id", "actor_login"), ("creator_user_id", "creator_user_login"),
                                        ("item_user_id", "item_user_login"), ("merged_by_id", "merged_by")):
                if row.get(id_name) and row.get(login_name):
                    self.ids[row[login_name].lower()] = row[id_name]

    def person(self, user_id: int | None, login: str | None, kind: str | None = None) -> int | None:
        """The id of a person the archive names (stored in people), None when unknown, a
        deleted account or opted out."""
        if login and login.lower() in self.opt_out:
            return None
        if user_id is None and login:
            user_id = self.ids.get(login.lower())
        if user_id is None or user_id == 10137 or not login:
            return user_id if user_id not in (None, 10137) else None
        kind = kind or ("Bot" if BOT.search(login) else "User")
        self.conn.execute("INSERT INTO people(id, login, type) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                          "login=excluded.login WHERE people.raw IS NULL AND people.login != excluded.login",
                          (user_id, login, kind))
        return user_id

    def out(self, login: str | None) -> bool:
        return bool(login) and login.lower() in self.opt_out

    # repos ------------------------------------------------------------------------------------

    def repo(self, row: dict) -> int | None:
        """The stored repo of a row (by id, else by name), created from the archive if new."""
        name = row.get("repo_name")
        repo_id = row.get("repo_id")
        if repo_id is None and name:
            found = self.conn.execute("SELECT id FROM repos WHERE lower(full_name) = lower(?) UNION ALL "
                                      "SELECT repo_id FROM repo_aliases WHERE lower(full_name) = lower(?)",
                                      (name, name)).fetchone()
            repo_id = found[0] if found else None
        if repo_id is None or not name or "/" not in name:
            return repo_id
        owner, short = name.split("/", 1)
        org = self.conn.execute("SELECT id FROM orgs WHERE lower(login) = lower(?)", (owner,)).fetchone()
        cursor = self.conn.execute(
            "INSERT INTO repos(id, org_id, owner, name, full_name, created_at, default_branch, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'archive') ON CONFLICT DO UPDATE SET source = 'both' "
            "WHERE repos.source = 'github'",
            (repo_id, org[0] if org else None, owner, short, name,
             row["created_at"] if row.get("ref_type") == "repository" else None, row.get("default_branch")))
        self.stored += cursor.rowcount
        if row.get("default_branch"):
            self.conn.execute("UPDATE repos SET default_branch = ? WHERE id = ? AND source = 'archive' "
                              "AND default_branch IS NULL", (row["default_branch"], repo_id))
        if row.get("ref_type") == "repository" and row.get("event_type") == "CreateEvent":
            self.conn.execute("UPDATE repos SET created_at = ? WHERE id = ? AND source = 'archive'",
                              (row["created_at"], repo_id))
        return repo_id

    # records ---------------------------------------------------------------------------------

    def upsert(self, table: str, keys: tuple[str, ...], values: dict) -> None:
        """Insert an archive record, or fill an archive record's empty fields; a record
        the API stored keeps its fields and is marked 'both'."""
        columns = list(values)
        updates = ", ".join(f"{name} = CASE WHEN {table}.source = 'archive' THEN "
                            f"coalesce(excluded.{name}, {table}.{name}) ELSE {table}.{name} END"
                            for name in columns if name not in keys)
        cursor = self.conn.execute(
            f"INSERT INTO {table}({', '.join(columns)}, source) VALUES ({', '.join('?' * len(columns))}, 'archive') "
            f"ON CONFLICT({', '.join(keys)}) DO UPDATE SET {updates}, "
            f"source = CASE WHEN {table}.source = 'github' OR {table}.source IS NULL THEN 'both' "
            f"ELSE {table}.source END",  # releases: the API's source is null (0010_roles)
            [values[name] for name in columns])
        self.stored += cursor.rowcount

    def store(self, row: dict, hour: str, network: bool) -> None:
        key = timeline_id(row)  # the same for an event read from the files and from ClickHouse
        event_id = row["event_id"] if row.get("event_id") is not None else key
        row["event_id"] = event_id
        actor = self.person(row.get("actor_id"), row.get("actor_login"))
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO archive_events(id, content_key, type, action, repo_id, repo_name, actor_id, "
            "actor_login, created_at, hour, network) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, key, row["event_type"], row.get("action"), row.get("repo_id"), row.get("repo_name"), actor,
             None if self.out(row.get("actor_login")) else row.get("actor_login"), row["created_at"], hour,
             int(network)))
        if not cursor.rowcount:
            return  # stored from another hour, or from the other source, already
        self.stored += 1
        if not network or self.out(row.get("actor_login")):
            return
        repo_id = self.repo(row)
        if repo_id is None:
            return
        kind = row["event_type"]
        if kind in ("IssuesEvent", "PullRequestEvent"):
            self.item(row, repo_id, actor)
        elif kind in ("IssueCommentEvent", "PullRequestReviewCommentEvent", "PullRequestReviewEvent"):
            self.item(row, repo_id, None)
            self.response(row, repo_id)
        elif kind == "ReleaseEvent":
            self.release(row, repo_id)
        elif kind == "PushEvent":
            self.push(row, repo_id, actor)

    def item(self, row: dict, repo_id: int, actor: int | None) -> None:
        """The issue or PR an event carries (its author and creation, its closing)."""
        number = row.get("number")
        if number is None:
            return
        trimmed = row["event_type"] == "PullRequestEvent" and not row.get("pr_user_present")
        if trimmed and row.get("action") != "opened":
            author = None  # a trimmed payload names no author: not observable
        elif trimmed:
            author = actor  # opened by its actor
        else:
            login = row.get("item_user_login", row.get("creator_user_login"))
            author = self.person(row.get("item_user_id", row.get("creator_user_id")), login,
                                 row.get("item_user_type", row.get("creator_type")))
            if self.out(login):
                return
        association = item_association(row)
        if association in ASSOCIATIONS and author is not None:
            self.association(author, repo_id, association, row["created_at"])
        existing = self.conn.execute("SELECT 1 FROM issues WHERE repo_id = ? AND number = ?",
                                     (repo_id, number)).fetchone()
        if author is None and existing is None:
            return
        values = {"repo_id": repo_id, "number": number, "id": row.get("item_id"), "user_id": author,
                  "created_at": row.get("item_created_at") or (row["created_at"] if row.get("action") == "opened"
                                                             else None),
                  "is_pr": int(bool(row.get("is_pr"))), "author_association": association}
        merged = row["event_type"] == "PullRequestEvent" and row.get("action") == "closed" and row.get("merged")
        if row["event_type"] in ("IssuesEvent", "PullRequestEvent"):
            closing = row.get("action") == "closed"
            values.update({"state": "closed" if closing else "open" if row.get("action") != "closed" else None,
                           "closed_at": row["created_at"] if closing else None})
            if merged:
                merger = self.person(row.get("merged_by_id"), row.get("merged_by")) or actor
                values.update({"merged_at": row.get("merged_at") or row["created_at"], "merged_by_id": merger,
                               "merge_commit_sha": row.get("merge_commit_sha")})
        self.upsert("issues", ("repo_id", "number"), values)
        if row.get("action") in ("closed", "reopened") and row["event_type"] in ("IssuesEvent", "PullRequestEvent"):
            names = ["closed", "merged"] if merged else [row["action"]]
            for offset, name in enumerate(names):
                self.issue_event(row, repo_id, number, name, actor, offset)

    def issue_event(self, row: dict, repo_id: int, number: int, name: str, actor: int | None,
                    offset: int) -> None:
        known = self.conn.execute(
            "SELECT 1 FROM issue_events WHERE repo_id = ? AND issue_number = ? AND event = ? AND created_at = ? "
            "AND source != 'archive'", (repo_id, number, name, row["created_at"])).fetchone()
        if known:
            return  # the API's event: one record
        provisional = -(abs(row["event_id"]) * 4 + offset + 1)
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO issue_events(id, repo_id, issue_number, actor_id, event, created_at, source) "
            "VALUES (?, ?, ?, ?, ?, ?, 'archive')", (provisional, repo_id, number, actor, name, row["created_at"]))
        self.stored += cursor.rowcount

    def response(self, row: dict, repo_id: int) -> None:
        kind, number = row["event_type"], row.get("number")
        if kind == "PullRequestReviewEvent":
            user = self.person(row.get("review_user_id") or row.get("actor_id"), row.get("actor_login"))
            association = row.get("review_association", row.get("author_association"))
            if association in ASSOCIATIONS and user is not None:
                self.association(user, repo_id, association, row["created_at"])
            if row.get("review_id") is None or user is None or number is None:
                return
            self.upsert("reviews", ("id",), {"id": row["review_id"], "repo_id": repo_id, "pr_number": number,
                                              "user_id": user, "state": (row.get("review_state") or "").upper(),
                                              "submitted_at": row.get("review_submitted_at") or row["created_at"]})
            return
        if row.get("comment_id") is None:
            return
        user = self.person(None, row.get("actor_login")) if row.get("creator_user_id") is None else \
            self.person(row.get("creator_user_id"), row.get("creator_user_login"), row.get("creator_type"))
        if user is None:
            return
        association = row.get("comment_association")
        if association in ASSOCIATIONS:
            self.association(user, repo_id, association, row["created_at"])
        created = row.get("comment_created_at") or row["created_at"]
        if kind == "IssueCommentEvent":
            if number is None and row.get("item_id") is not None:  # a Timeline comment names the issue by id
                found = self.conn.execute("SELECT number FROM issues WHERE repo_id = ? AND id = ?",
                                          (repo_id, row["item_id"])).fetchone()
                number = found[0] if found else None
            if number is None:
                return
            self.upsert("issue_comments", ("id",), {"id": row["comment_id"], "repo_id": repo_id,
                                                     "issue_number": number, "user_id": user, "created_at": created,
                                                     "author_association": association})
        elif number is not None:
            self.upsert("review_comments", ("id",), {"id": row["comment_id"], "repo_id": repo_id,
                                                      "pr_number": number, "user_id": user,
                                                      "review_id": row.get("review_comment_review_id"),
                                                      "in_reply_to_id": row.get("in_reply_to_id"),
                                                      "created_at": created})

    def release(self, row: dict, repo_id: int) -> None:
        if row.get("release_id") is None:
            return
        author = self.person(row.get("release_author_id"), row.get("actor_login"))
        self.upsert("releases", ("id",), {"id": row["release_id"], "repo_id": repo_id,
                                           "tag_name": row.get("release_tag_name"), "name": row.get("release_name"),
                                           "author_id": author, "draft": int(bool(row.get("release_draft"))),
                                           "prerelease": int(bool(row.get("release_prerelease"))),
                                           "created_at": row.get("release_created_at"),
                                           "published_at": row.get("release_published_at") or row["created_at"]})

    def push(self, row: dict, repo_id: int, pusher: int | None) -> None:
        commits = row.get("commits")
        listed = None if commits is None and row.get("push_size") is None else len(commits or [])
        self.conn.execute("INSERT OR IGNORE INTO archive_pushes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (row["event_id"], repo_id, pusher, row.get("ref"), row.get("head_sha"),
                           row.get("push_before"), row.get("push_size"), listed, row["created_at"]))
        branch = self.conn.execute("SELECT default_branch FROM repos WHERE id = ?", (repo_id,)).fetchone()
        default = branch[0] if branch and branch[0] else None
        to_default = row.get("ref") == f"refs/heads/{default}" if default else \
            row.get("ref") in ("refs/heads/main", "refs/heads/master")
        for position, commit in enumerate(commits or []):
            author = commit.get("author") or {}
            email = author.get("email")
            if email in self.opt_hashes or self.out(author.get("name")):
                continue
            self.conn.execute("INSERT OR IGNORE INTO archive_push_commits VALUES (?, ?, ?, ?, ?, ?)",
                              (row["event_id"], position, repo_id, commit["sha"], author.get("name"), email))
            if to_default:
                cursor = self.conn.execute(
                    "INSERT INTO commits(repo_id, sha, author_name, author_email, message, pushed_at, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'archive') ON CONFLICT(repo_id, sha) DO UPDATE SET "
                    "pushed_at = coalesce(commits.pushed_at, excluded.pushed_at)",
                    (repo_id, commit["sha"], author.get("name"), email, commit.get("message"), row["created_at"]))
                self.stored += cursor.rowcount

    def association(self, user_id: int, repo_id: int, association: str, at: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO archive_associations VALUES (?, ?, ?, ?)",
                          (user_id, repo_id, association, at))

    # outside acts ----------------------------------------------------------------------------

    def outside(self, found: dict[str, list[dict]]) -> None:
        for row in found["prs"]:
            if row["user_id"] is None or not row.get("item_created_at"):
                continue
            self.conn.execute("INSERT OR IGNORE INTO archive_prs VALUES (?, ?, ?, ?, ?)",
                              (row["user_id"], row["repo_name"], row["owner"], row["item_created_at"],
                               row["merged_at"] or row["item_created_at"]))
        for row in found["repos"]:
            self.conn.execute("INSERT OR IGNORE INTO archive_repos(user_id, repo_full_name, owner_login, created_at) "
                              "VALUES (?, ?, ?, ?)", (row["user_id"], row["repo_name"], row["owner"], row["created_at"]))
        for row in found["helpers"]:
            if row.get("login") and not BOT.search(row["login"]) and row.get("user_id") is not None:
                self.conn.execute("UPDATE archive_repos SET others = 1 WHERE lower(repo_full_name) = lower(?) "
                                  "AND user_id != ?", (row["repo_name"], row["user_id"]))
        for row in found["elsewhere"]:
            self.conn.execute("INSERT OR IGNORE INTO archive_elsewhere VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (row["event_id"] or 0, row["user_id"], row["email_hash"], row["repo_name"],
                               row["owner"], row["event_type"], row["created_at"]))


# --- coverage ----------------------------------------------------------------------------------------


def record_hours(conn: sqlite3.Connection, read: dict[datetime, tuple[int, str]], missing: Iterable[datetime]) -> None:
    now = utc_now()
    conn.executemany("INSERT OR REPLACE INTO _archive_hours VALUES (?, 'read', ?, ?, ?)",
                     [(hour_key(hour), events, name, now) for hour, (events, name) in read.items()])
    conn.executemany("INSERT INTO _archive_hours(hour, status) VALUES (?, 'missing') ON CONFLICT(hour) DO NOTHING",
                     [(hour_key(hour),) for hour in missing])


def refresh_coverage(conn: sqlite3.Connection, days: set[str]) -> list[dict]:
    """Recount the coverage of ``days`` from ``_archive_hours``; returns them, oldest first."""
    out = []
    for day in sorted(days):
        read, missing = conn.execute(
            "SELECT count_if, missing FROM (SELECT sum(status = 'read') AS count_if, sum(status = 'missing') AS missing "
            "FROM _archive_hours WHERE substr(hour, 1, 10) = ?)", (day,)).fetchone()
        era = sql.era_of(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC))
        conn.execute("INSERT OR REPLACE INTO archive_coverage VALUES (?, ?, ?, ?)", (day, read or 0, missing or 0, era))
        out.append({"day": day, "hours": read or 0, "missing": missing or 0, "era": era})
    return out


# --- the run -----------------------------------------------------------------------------------------


def network_selection(conn: sqlite3.Connection, config: Config, everything: bool, follow: bool) -> sql.Selection:
    """The selection for this store and config: the config's orgs and the store's network
    repos; with ``follow``, the makers the store knows (by id, login, hashed commit email)."""
    owners = {org.lower() for org in config["harvest"]["orgs"]}
    owners |= {row[0].lower() for row in conn.execute("SELECT login FROM orgs")}
    repo_ids, names = set(), set()
    for repo_id, name, owner in conn.execute("SELECT id, full_name, owner FROM repos WHERE deleted_at IS NULL "
                                             "OR source = 'archive'"):
        if owner.lower() in owners:
            repo_ids.add(repo_id)
            names.add(name.lower())
    selection = sql.Selection(repo_ids=repo_ids, repo_names=names, owners=owners, everything=everything,
                              follow=follow)
    if follow:
        opt_out = config.opt_out
        for user_id, login, kind in conn.execute("SELECT id, login, type FROM people"):
            if login and login.lower() not in opt_out and kind != "Bot" and not BOT.search(login):
                selection.maker_ids.add(user_id)
                selection.maker_logins.add(login.lower())
        emails = {row[0] for row in conn.execute("SELECT DISTINCT lower(author_email) FROM commits "
                                                 "WHERE author_email IS NOT NULL AND source != 'archive'")}
        selection.email_hashes = {email_hash(email) for email in emails if email not in opt_out}
    return selection


def harvest_archive(conn: sqlite3.Connection, config: Config, *, files: list[Path] | None = None,
                    missing: list[datetime] | None = None, everything: bool = False, follow: bool = False,
                    named_owners: dict[str, str] | None = None, say: Callable[[str], None] = lambda text: None,
                    batch_files: int = BATCH_FILES, batch_bytes: int = BATCH_BYTES) -> ArchiveSummary:
    """Read the hourly ``files`` (and record ``missing`` hours) into a store whose harvest
    lock the caller holds (``graphminer.pipeline.harvest_archive``)."""
    summary = ArchiveSummary()
    started_at = utc_now()
    days: set[str] = set()
    selection = network_selection(conn, config, everything, follow)
    saver = ArchiveStore(conn, config.opt_out)
    with conn:
        record_hours(conn, {}, missing or [])
        purge_opted_out(conn, config.opt_out)
    summary.hours_missing = len(missing or [])
    days |= {hour.strftime("%Y-%m-%d") for hour in missing or []}
    reader = Reader(selection, named_owners)
    known_ids, known_logins = set(selection.maker_ids), set(selection.maker_logins)
    held: list[tuple[list[dict], dict]] = []  # Timeline batches, stored once every id is learnt
    started = time.monotonic()

    def store(rows: list[dict], read: dict) -> None:
        with conn:
            for row in rows:
                hour = hour_key(datetime.strptime(row["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))
                saver.store(row, hour, bool(row["in_network"]) or everything)
            record_hours(conn, read, [])

    try:
        for batch, counts, rows in reader.read_all(batches(files or [], batch_files, batch_bytes)):
            add_counts(summary, counts)
            saver.learn(rows)
            if follow:  # the makers known so far: the store's and this run's network actors
                known_ids |= {row["actor_id"] for row in rows if row.get("actor_id") and row["in_network"]}
                known_logins |= {row["actor_login"].lower() for row in rows
                                 if row.get("actor_login") and row["in_network"]}
                with conn:
                    saver.outside(reader.outside(known_ids - {10137}, known_logins - set(config.opt_out)))
            read = {hour_of(path.name): (counts["per_file"].get(str(path), 0), path.name) for path in batch}
            if hour_of(batch[0].name) < sql.EVENTS_API_FROM:
                held.append((rows, read))  # its people are logins: their ids come from later hours
            else:
                store(rows, read)
            summary.hours_read += len(batch)
            days |= {hour.strftime("%Y-%m-%d") for hour in read}
            say(f"read {summary.hours_read} of {len(files or [])} hours, {summary.events:,} events "
                f"({time.monotonic() - started:.0f} s)")
        for rows, read in held:
            store(rows, read)
    finally:
        reader.close()
    with conn:
        summary.days = refresh_coverage(conn, days)
        summary.coverage = [{"day": day["day"], "hours": day["hours"], "era": day["era"]} for day in summary.days]
        asked = [hour_of(path.name) for path in files or []] + list(missing or [])
        record_run(conn, started_at, max(asked) + timedelta(hours=1) if asked else None, "gharchive", saver.stored)
    summary.stored = saver.stored
    return summary


def record_run(conn: sqlite3.Connection, started_at: str, archive_end: datetime | None, source: str,
               stored: int) -> None:
    """The run in ``_runs``, ended on the source's clock (README "How as_of is chosen"): the
    end of the newest hour asked for, as a GitHub harvest ends at GitHub's Date header."""
    ended = archive_end.strftime("%Y-%m-%dT%H:%M:%SZ") if archive_end else utc_now()
    conn.execute("INSERT INTO _runs(kind, started_at, ended_at, status, source, records_new) "
                 "VALUES ('archive', ?, ?, 'ok', ?, ?)", (started_at, ended, source, stored))


def batches(files: list[Path], most: int = BATCH_FILES, budget: int = BATCH_BYTES) -> Iterable[list[Path]]:
    """Consecutive files of one format (Timeline or Events API), at most ``most`` files and
    ``budget`` compressed bytes a batch (a larger file is a batch of its own).

    >>> names = [Path(f"2014-12-31-{hour}.json.gz") for hour in (22, 23)] + [Path("2015-01-01-0.json.gz")]
    >>> [[path.name for path in batch] for batch in batches(names, most=1)]
    [['2014-12-31-22.json.gz'], ['2014-12-31-23.json.gz'], ['2015-01-01-0.json.gz']]
    >>> [len(batch) for batch in batches(names)]
    [2, 1]
    """
    current: list[Path] = []
    size = 0
    for path in files:
        timeline = hour_of(path.name) < sql.EVENTS_API_FROM
        weight = path.stat().st_size if path.exists() else 0
        if current and (len(current) >= most or size + weight > budget
                        or (hour_of(current[0].name) < sql.EVENTS_API_FROM) != timeline):
            yield current
            current, size = [], 0
        current.append(path)
        size += weight
    if current:
        yield current


def lane_shares(names: list[str], lanes: int) -> list[list[str]]:
    """``names`` dealt into ``lanes`` shares of about equal bytes, largest first (a name
    that is not a file weighs one byte).

    >>> lane_shares(["a", "b", "c"], 2)
    [['a', 'c'], ['b']]
    """
    shares: list[list[str]] = [[] for _ in range(max(lanes, 1))]
    weights = [0] * len(shares)
    for size, name in sorted(((file_bytes(name) + 1, name) for name in names), key=lambda pair: -pair[0]):
        lightest = weights.index(min(weights))
        shares[lightest].append(name)
        weights[lightest] += size
    return [share for share in shares if share]


def batch_era(hours: list[datetime]) -> tuple[bool, bool]:
    """(Timeline format, crawl era) of a batch's hours: before 2015 one format, the
    Timeline's; from 2025-05-24 an event may be filed in two hours, so it is deduped
    (before, one file an hour of created_at: nothing is filed twice)."""
    return hours[0] < sql.EVENTS_API_FROM, max(hours) >= sql.CRAWL_HOUR_FROM


def file_bytes(name: str) -> int:
    try:
        return Path(name).stat().st_size
    except OSError:
        return 0


def add_counts(summary: ArchiveSummary, counts: dict[str, Any]) -> None:
    summary.by_type.update(counts["by_type"])
    summary.events += sum(counts["by_type"].values())
    summary.merged_prs += counts["merged_prs"]
    summary.pushes_commits_not_listed += counts["pushes_commits_not_listed"]
    summary.hashed_emails += counts["hashed_emails"]
    summary.duplicates += counts["duplicates"]
    summary.not_observable.update({name: value for name, value in counts["not_observable"].items() if value})


def purge_opted_out(conn: sqlite3.Connection, opt_out: set[str]) -> None:
    """Drop what the archive staged of people who opted out since."""
    if not opt_out:
        return
    ids = [user_id for user_id, login in conn.execute("SELECT id, login FROM people")
           if login and login.lower() in opt_out]
    hashes = [email_hash(name) for name in opt_out if "@" in name]
    for table in ("archive_prs", "archive_repos", "archive_elsewhere", "archive_associations", "archive_followed"):
        conn.executemany(f"DELETE FROM {table} WHERE user_id = ?", [(user_id,) for user_id in ids])  # noqa: S608
    conn.executemany("DELETE FROM archive_elsewhere WHERE email_hash = ?", [(value,) for value in hashes])
    conn.executemany("DELETE FROM archive_push_commits WHERE author_email = ?", [(value,) for value in hashes])
    conn.executemany("UPDATE archive_events SET actor_login = NULL WHERE actor_id = ?", [(user_id,) for user_id in ids])


def follow_from_archive(conn: sqlite3.Connection, user_ids: set[int], kind_of: Callable[[str], str]) -> int:
    """Copy the staged outside acts of the makers following would follow (``user_ids``:
    landed, with an account, not opted out) into following's tables, source 'archive'
    (a PR or repo following already stored stays one record); returns how many makers."""
    now = utc_now()
    with conn:
        conn.execute("DELETE FROM follow_prs WHERE source = 'archive'")
        conn.execute("DELETE FROM follow_repos WHERE source = 'archive'")
        conn.execute("DELETE FROM archive_followed")
        for user_id in sorted(user_ids):
            prs = conn.execute("SELECT repo_full_name, owner_login, created_at, merged_at FROM archive_prs "
                               "WHERE user_id = ?", (user_id,)).fetchall()
            repos = conn.execute("SELECT repo_full_name, owner_login, created_at, others FROM archive_repos "
                                 "WHERE user_id = ?", (user_id,)).fetchall()
            for name, owner, created, merged in prs:
                conn.execute("INSERT OR IGNORE INTO follow_prs(user_id, repo_full_name, owner_login, owner_kind, "
                             "created_at, merged_at, merged, source) VALUES (?, ?, ?, ?, ?, ?, 1, 'archive')",
                             (user_id, name, owner, kind_of(owner), created, merged))
            for name, owner, created, others in repos:
                conn.execute("INSERT OR IGNORE INTO follow_repos(user_id, repo_full_name, owner_login, created_at, "
                             "fork, others, source) VALUES (?, ?, ?, ?, 0, ?, 'archive')",
                             (user_id, name, owner, created, others))
            conn.execute("INSERT OR REPLACE INTO archive_followed VALUES (?, ?)", (user_id, now))
    return len(user_ids)



# --- ClickHouse -------------------------------------------------------------------------------------


def read_clickhouse(conn: sqlite3.Connection, config: Config, url: str, table: str, start: datetime,
                    end: datetime, *, everything: bool = False, follow: bool = False,
                    client: Any = None) -> ArchiveSummary:
    """Run the selection on a ClickHouse server holding ``github_events`` (over HTTP with
    clickhouse-connect) and store its rows, into a store whose harvest lock the caller
    holds. That table names people and repos by login and name only: they are matched to
    the store's ids; rows naming neither a stored repo nor a known person are counted as
    not observable, never stored under an invented id."""
    summary = ArchiveSummary()
    started_at = utc_now()
    selection = network_selection(conn, config, everything, follow)
    own = client is None
    client = client or clickhouse_client(url)
    end = end + timedelta(hours=1)
    try:
        counted, result = clickhouse_rows(client, url, table, selection, start, end)
    finally:
        if own:
            client.close()
    for kind, count, merged in counted:
        summary.by_type[kind] += int(count)
        summary.events += int(count)
        summary.merged_prs += int(merged)
    names = list(result.column_names)
    saver = ArchiveStore(conn, config.opt_out)
    with conn:
        for values in result.result_rows:
            row = dict(zip(names, values, strict=True))
            network = everything or _in_network(row, selection)
            if network and saver.repo(row) is None:
                summary.not_observable["rows_of_repos_not_in_the_store"] += 1
                continue
            saver.store(row, row["created_at"][:13], network)
        record_run(conn, started_at, end, without_credentials(url), saver.stored)
    summary.stored = saver.stored
    return summary


def clickhouse_connect() -> Any:
    """The clickhouse-connect package (its ``driver.exceptions`` beside it)."""
    import clickhouse_connect as module  # start-up: only the --clickhouse source needs it

    return module


def clickhouse_client(url: str) -> Any:
    """A clickhouse-connect client for ``url`` (``https://user@host:port/db``, a host name,
    or ``chdb:///path`` for chDB's engine in-process); BadInput when it cannot connect."""
    clickhouse = clickhouse_connect()
    errors = clickhouse.driver.exceptions
    try:
        return clickhouse.get_client(dsn=url) if "://" in url else clickhouse.get_client(host=url)
    except (errors.OperationalError, OSError) as error:  # not reached: told as a network failure (exit 1)
        raise ConnectionError(f"the connection to ClickHouse at {without_credentials(url)} failed "
                              f"({str(error).splitlines()[0][:200]})") from None
    except (errors.ClickHouseError, ValueError) as error:
        raise BadInput(f"--clickhouse {without_credentials(url)}: {str(error).splitlines()[0][:200]}; "
                       "give an http(s)://[user[:password]@]host:port URL of a ClickHouse server") from None


def clickhouse_rows(client: Any, url: str, table: str, selection: sql.Selection, start: datetime,
                    end: datetime) -> tuple[list, Any]:
    """The counts per type of every event between ``start`` and ``end`` (end excluded),
    and the selection's rows."""
    try:
        counted = client.query(
            f"SELECT toString(event_type), count(), countIf(event_type = 'PullRequestEvent' AND action = 'closed' "
            f"AND merged = 1) FROM {table} WHERE created_at >= toDateTime('{sql._hour_text(start)}', 'UTC') "
            f"AND created_at < toDateTime('{sql._hour_text(end)}', 'UTC') GROUP BY 1").result_rows
        return counted, client.query(sql.clickhouse_sql(selection, start, end, table))
    except (clickhouse_connect().driver.exceptions.ClickHouseError, OSError) as error:
        raise BadInput(f"--clickhouse {without_credentials(url)} --table {table}: the query failed "
                       f"({str(error).splitlines()[0][:200]}); check the table holds GH Archive in ClickHouse's "
                       "github_events schema") from None


def without_credentials(url: str) -> str:
    """A server URL as it may be stored or shown: no user, no password.

    >>> without_credentials("https://explorer:secret@play.clickhouse.com:443/?database=default")
    'https://play.clickhouse.com:443/?database=default'
    """
    parts = urlsplit(url if "://" in url else "http://" + url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _in_network(row: dict, selection: sql.Selection) -> bool:
    name = (row.get("repo_name") or "").lower()
    return name in selection.repo_names or name.split("/", 1)[0] in selection.owners
