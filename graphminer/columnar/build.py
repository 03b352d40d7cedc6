"""The events table built by SQL: the store's records read into DuckDB, one typed row per
contribution (docs/events.md), for a set of repositories at a time.

``stage(con, conn, config, repo_ids)`` reads the records of ``repo_ids`` (all when None)
from the SQLite store into DuckDB temporary tables (``s_*``), the ``STAGED`` records read
with the standard library's sqlite3 (``graphminer.columnar.rows``): through the caller's
own connection, the commits of a large store in a file by a child process meanwhile, on a
connection of its own (``APART``: a second core), or, where ADBC's SQLite driver is
installed, every table by two children reading Arrow batches. Never through a second SQLite
library in this process (ADBC's SQLite driver, DuckDB's sqlite extension): each links its
own copy of SQLite, and two copies in one process break SQLite's locking
(sqlite.org/howtocorrupt.html, 2.2.1): POSIX locks are the process's, so the second copy
takes itself for the file's only user and rebuilds the ``-shm`` file smaller under the
first copy's mapping of it, whose next large write then dies of SIGBUS, and closing its
descriptor drops the first copy's locks (``tests/test_columnar.py`` holds the first).
Past the reading, the only Python on the way is, for commits, when each landed
(``commit_landing``: ``graphminer.landing``'s reading of rules v4 dating, a graph traversal
once per repository, not per maker, the one both implementations share).
``event_rows(con, config)`` is then SQL over those tables giving the rows of
``graphminer.events.load_events`` with maker keys still as strings;
``graphminer.columnar.tables`` codes them and keeps them. Which copy of a commit (or pull
ref) stored under several repositories counts is decided across repositories, the others'
copies read from the tables the copy keeps (``commit_copies``, ``ref_copies``).

Typed columns: ``t`` (epoch seconds, UTC; ``month_no`` and ``quarter_no`` its calendar
month and quarter numbers, so the rules need no date function), ``repo_id`` (the store's
id), ``kind`` (an ENUM of ``KINDS``), the target as ``target_type`` (ENUM of
``TARGET_TYPES``) with ``target_num`` (issue or PR number, release id) or ``sha``; the
booleans of the pandas table; ``part``/``k1``/``k2`` give every event its place in the one
order both implementations share (time, then the part of the store it comes from, then
that part's own key: ``ORDER_KEY``).

The reading of docs/rules.md (which record is an action, which commit came in through a
PR, when it reached the branch, which lands) is ``graphminer.events``'s, restated here in
SQL; ``tests/test_columnar.py`` holds the two tables equal on every generated world and
every shared log.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from graphminer import events, landing
from graphminer.columnar.rows import Apart, has_arrow_reader, rows_table
from graphminer.events import (
    GITHUB_COMMITTER_EMAIL,
    NOT_PERFORMED_EVENTS,
    bot_makers,
    long_lived_branches,
    opted_out_makers,
    people_frame,
    role_account_makers,
)
from graphminer.landing import History, land
from graphminer.store import store_path, table_exists

if TYPE_CHECKING:
    from collections.abc import Iterable

    import duckdb

    from graphminer.config import Config

KINDS = ("issue_opened", "pr_opened", "pr_merged", "merge_performed", "comment", "review_comment",
         "review", "issue_event", "release", "commit", "committed")
TARGET_TYPES = ("issue", "pr", "commit", "release")
# The order of events where their times tie: the part of the store a row comes from (as
# graphminer.events concatenates them), then that part's own key.
ORDER_KEY = "t, part, k1, k2, sha"
PR_MERGE_KIND, LONG_LIVED_KIND = landing.PR, landing.INTO_LONG_LIVED
PR_SUBJECT = r"\(#(\d+)\)|^Merge pull request #(\d+)\b"
# graphminer.events' own pattern (case-insensitive there by its flag)
COMMUNITY_FILE = "(?i)" + events.COMMUNITY_FILE.pattern

# DuckDB's memory cap (``connect``): the 4 GB at ten million events, less what
# Python holds beside it (the graph's dicts, about 1 GB there); the refresh spills past it
MEMORY = "3GB"
# The staged tables a child process reads while this one reads the rest (``stage``): the
# commits, the largest by far (the bench world: 1.25 s of the 2.6 s, the rest and the
# people 1.35 s beside them, which the child's start, 0.3 s, and its writing evens out).
# Through ADBC's SQLite driver (``rows.arrow_parts``) every staged table is read apart, by
# two children: the commits (0.7 s), and the others (0.8 s)
APART = ("s_commits",)
# Commits staged from which a child reads them (below, its start costs more than it saves)
APART_COMMITS = 100_000
# (table, SQL over the store, DuckDB column types); ``{where}`` restricts to the repos asked.
STAGED: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("s_items",
     "SELECT repo_id, number, user_id, created_at, is_pr, merged_at, merged_by_id, "
     "merge_commit_sha, state_reason FROM issues {where} ORDER BY repo_id, number",
     {"repo_id": "BIGINT", "number": "BIGINT", "user_id": "BIGINT", "created_at": "VARCHAR",
      "is_pr": "BIGINT", "merged_at": "VARCHAR", "merged_by_id": "BIGINT",
      "merge_commit_sha": "VARCHAR", "state_reason": "VARCHAR"}),
    ("s_merge_events",
     "SELECT id, repo_id, issue_number, actor_id FROM issue_events "
     "WHERE event='merged' AND actor_id IS NOT NULL {and_where}",
     {"id": "BIGINT", "repo_id": "BIGINT", "issue_number": "BIGINT", "actor_id": "BIGINT"}),
    ("s_comments",
     "SELECT id, repo_id, issue_number, user_id, created_at FROM issue_comments {where}",
     {"id": "BIGINT", "repo_id": "BIGINT", "issue_number": "BIGINT", "user_id": "BIGINT",
      "created_at": "VARCHAR"}),
    ("s_review_comments",
     "SELECT id, repo_id, pr_number, user_id, created_at FROM review_comments {where}",
     {"id": "BIGINT", "repo_id": "BIGINT", "pr_number": "BIGINT", "user_id": "BIGINT",
      "created_at": "VARCHAR"}),
    ("s_reviews",
     "SELECT id, repo_id, pr_number, user_id, state, submitted_at FROM reviews "
     "WHERE submitted_at IS NOT NULL {and_where}",
     {"id": "BIGINT", "repo_id": "BIGINT", "pr_number": "BIGINT", "user_id": "BIGINT",
      "state": "VARCHAR", "submitted_at": "VARCHAR"}),
    ("s_issue_events",
     "SELECT id, repo_id, issue_number, actor_id, event, created_at, label, commit_id "
     "FROM issue_events WHERE actor_id IS NOT NULL AND event != 'merged' {and_where}",
     {"id": "BIGINT", "repo_id": "BIGINT", "issue_number": "BIGINT", "actor_id": "BIGINT",
      "event": "VARCHAR", "created_at": "VARCHAR", "label": "VARCHAR", "commit_id": "VARCHAR"}),
    # an annotated tag (harvest-git) is its tagger's, by identity's exact 'Name <email>'
    ("s_releases",
     "SELECT r.id, r.repo_id, r.author_id, r.published_at, "
     "r.source = 'git' AND r.tagger_email IS NOT NULL, mi.maker_key FROM releases r "
     "LEFT JOIN maker_identities mi ON mi.kind = 'git' AND r.source = 'git' "
     "AND mi.identity = coalesce(r.tagger_name, '') || ' <' || r.tagger_email || '>' "
     "WHERE r.published_at IS NOT NULL AND COALESCE(r.draft, 0) = 0 {r_and_where}",
     {"id": "BIGINT", "repo_id": "BIGINT", "author_id": "BIGINT", "published_at": "VARCHAR",
      "is_tag": "BOOLEAN", "tagger_key": "VARCHAR"}),
    ("s_commits",
     # a commit GH Archive saw pushed shows no dates: it reached the branch when pushed
     "SELECT c.repo_id, c.sha, c.author_email, c.committer_email, {commit_date}, "
     "c.author_id, c.committer_id, c.parents, "
     "substr(c.message, 1, instr(c.message || char(10), char(10)) - 1), c.files, "
     "cm.author_key, cm.committer_key, cm.repo_id IS NULL FROM commits c "
     "LEFT JOIN commit_makers cm ON cm.repo_id = c.repo_id AND cm.sha = c.sha {c_where}",
     {"repo_id": "BIGINT", "sha": "VARCHAR", "author_email": "VARCHAR",
      "committer_email": "VARCHAR", "committer_date": "VARCHAR", "author_id": "BIGINT",
      "committer_id": "BIGINT", "parents": "VARCHAR", "subject": "VARCHAR", "files": "VARCHAR",
      "author_key": "VARCHAR", "committer_key": "VARCHAR", "unresolved": "BIGINT"}),
    ("s_pull_refs",
     "SELECT p.repo_id, p.number, p.sha, p.author_email, {ref_committer_date}, p.author_date, "
     "m.author_key, m.repo_id IS NULL FROM pull_refs p "
     "LEFT JOIN pull_ref_makers m ON m.repo_id = p.repo_id AND m.number = p.number "
     "WHERE p.sha IS NOT NULL {p_and_where}",
     {"repo_id": "BIGINT", "number": "BIGINT", "sha": "VARCHAR", "author_email": "VARCHAR",
      "committer_date": "VARCHAR", "author_date": "VARCHAR", "author_key": "VARCHAR",
      "unresolved": "BIGINT"}),
)


def thread_count() -> int:
    """DuckDB's threads for one database: ``GRAPHMINER_DUCKDB_THREADS``, two by default."""
    return int(os.environ.get("GRAPHMINER_DUCKDB_THREADS", "2"))


def connect(path: str | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory, or the file at ``path``), times read as UTC, at most
    two threads (the machines this runs on are shared) and at most ``MEMORY`` of memory
    (``GRAPHMINER_DUCKDB_MEMORY`` to change it): past it DuckDB spills to disk instead of
    keeping up to 80% of the machine's memory, its own default (measured on the 10M-event
    bench world: the first refresh's ``derive`` passed 14 GB without a cap and was stopped;
    with it the refresh peaks at 5.3 GB, 5.6 GB before the store was staged as Arrow
    batches, so not the staging's, and the analysis, 3.3 GB either way, takes as long)."""
    import duckdb  # start-up: only the analysis pays for importing DuckDB

    con = duckdb.connect(path or ":memory:", read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {thread_count()}")
    con.execute("SET memory_limit = ?", [os.environ.get("GRAPHMINER_DUCKDB_MEMORY") or MEMORY])
    con.execute("SET preserve_insertion_order = false")
    return con


def staged_queries(conn: sqlite3.Connection,
                   repo_ids: list[int] | None) -> list[tuple[str, str, dict[str, str]]]:
    """``STAGED`` with each query's SQL written out for this store, restricted to
    ``repo_ids`` (all when None)."""
    if repo_ids is None:
        where, and_where, c_where, p_and_where, r_and_where = "", "", "", "", ""
    else:
        ids = listed(repo_ids)
        where, and_where = f"WHERE repo_id IN ({ids})", f"AND repo_id IN ({ids})"
        c_where, p_and_where = f"WHERE c.repo_id IN ({ids})", f"AND p.repo_id IN ({ids})"
        r_and_where = f"AND r.repo_id IN ({ids})"
    # a store opened read-only may predate migration 0009's column
    has_date = any(row[1] == "committer_date" for row in conn.execute("PRAGMA table_info(pull_refs)"))
    pushed = any(row[1] == "pushed_at" for row in conn.execute("PRAGMA table_info(commits)"))
    commit_date = "COALESCE(c.committer_date, c.pushed_at)" if pushed else "c.committer_date"
    return [(name, sql.format(where=where, and_where=and_where, c_where=c_where,
                              p_and_where=p_and_where, r_and_where=r_and_where,
                              commit_date=commit_date,
                              ref_committer_date="p.committer_date" if has_date else "NULL"),
             types) for name, sql, types in STAGED]


def listed(repo_ids: list[int]) -> str:
    """``repo_ids`` as an SQL list (``NULL`` for none: ``IN (NULL)`` holds nothing).

    >>> listed([3, 1]), listed([])
    ('3,1', 'NULL')
    """
    return ",".join(str(int(repo_id)) for repo_id in repo_ids) or "NULL"


def apart_store(conn: sqlite3.Connection, repo_ids: list[int] | None,
                apart: bool | None) -> Path | None:
    """The store's file when a child process should read ``APART`` (``stage``): asked
    (``apart``), or, when None, where there are at least ``APART_COMMITS`` commits to
    stage. Never for a store in memory (nothing another connection can open), nor while
    ``conn`` has a transaction open (a second connection would not see its writes)."""
    path = store_path(conn)
    if apart is False or path is None or conn.in_transaction or not sys.executable:
        return None
    if apart is None:
        where = "" if repo_ids is None else f" WHERE repo_id IN ({listed(repo_ids)})"
        if conn.execute(f"SELECT count(*) FROM commits{where}").fetchone()[0] < APART_COMMITS:
            return None
    return path


def apart_groups(arrow: bool) -> list[tuple[str, ...]]:
    """The staged tables read apart (``APART``), one tuple per child process: through
    ADBC's SQLite driver (``arrow``) every one, the commits by a child of their own.

    >>> apart_groups(False)
    [('s_commits',)]
    >>> [len(group) for group in apart_groups(True)]
    [1, 8]
    """
    if not arrow:
        return [APART]
    return [APART, tuple(name for name, _, _ in STAGED if name not in APART)]


def stage(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection, config: Config | None,
          repo_ids: list[int] | None = None, apart: bool | None = None,
          arrow: bool | None = None) -> list[str]:
    """Read the store's records of ``repo_ids`` (all when None) into the ``s_*`` tables,
    and the repositories, people and bots into ``s_repos``, ``s_bots``, ``s_opted_out``.
    The ``APART`` tables are read by a child process meanwhile where it pays
    (``apart_store``; ``apart`` True or False to have it or not): reading rows through
    sqlite3 holds the GIL, so the second core helps only from another process
    (``graphminer.columnar.rows``; the bench world: 2.6 s -> 1.6 s); where ADBC's SQLite
    driver is installed (``rows.has_arrow_reader``; ``arrow`` True or False to use it or
    not), children read every staged table through it (``apart_groups``). Returns the
    tables the children read (none when they were not used; a child's tables are read here
    when it failed)."""
    queries = staged_queries(conn, repo_ids)
    path = apart_store(conn, repo_ids, apart)
    children: list[tuple[Apart, list[tuple[str, str, dict[str, str]]]]] = []
    try:
        if path is not None:
            arrow = has_arrow_reader() if arrow is None else arrow
            for group in apart_groups(arrow):
                far = [query for query in queries if query[0] in group]
                try:
                    children.append((Apart(path, far, arrow=arrow), far))
                except OSError:  # no interpreter to start: the tables read here
                    break
        taken = [query for _, far in children for query in far]
        stage_repos(con, conn, config, repo_ids)
        read_here(con, conn, [query for query in queries if query not in taken])
        stage_people(con, conn, config)
        read = []
        for child, far in children:
            if child.into(con):
                read += [name for name, _, _ in far]
            else:
                read_here(con, conn, far)
    finally:
        for child, _ in children:
            child.close()
    return [name for name, _, _ in queries if name in read]


def read_here(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection,
              queries: list[tuple[str, str, dict[str, str]]]) -> None:
    """Each query's temporary table, its rows read through ``conn``."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples
    for name, text, types in queries:
        rows_table(con, name, cursor.execute(text).fetchall(), types)


def stage_repos(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection, config: Config | None,
                repo_ids: list[int] | None) -> None:
    """``s_repos`` (every repository), ``s_scope`` (those in scope: forks only when the
    config includes them) and ``s_staged`` (``repo_ids``, all when None)."""
    include_forks = bool(config and config["harvest"].get("include_forks"))
    repos = [tuple(row) for row in conn.execute(
        "SELECT id, full_name, lower(owner), fork, deleted_at, default_branch FROM repos")]
    rows_table(con, "s_repos", repos,
               {"repo_id": "BIGINT", "full_name": "VARCHAR", "org": "VARCHAR", "fork": "BIGINT",
                "deleted_at": "VARCHAR", "default_branch": "VARCHAR"})
    con.execute(f"""CREATE OR REPLACE TEMP TABLE s_scope AS
        SELECT repo_id, full_name, org FROM s_repos
        WHERE {'TRUE' if include_forks else 'coalesce(fork, 0) = 0'}""")
    staged = [row[0] for row in repos] if repo_ids is None else list(repo_ids)
    rows_table(con, "s_staged", [(int(repo_id),) for repo_id in staged], {"repo_id": "BIGINT"})


def stage_people(con: duckdb.DuckDBPyConnection, conn: sqlite3.Connection,
                 config: Config | None) -> None:
    """``s_bots`` (the makers who are not people, role accounts marked) and
    ``s_opted_out``."""
    people = people_frame(conn)
    bots, roles = not_people(conn, config, people)
    excluded = sorted(opted_out_makers(conn, config, people))
    rows_table(con, "s_bots", [(key, key in roles) for key in sorted(bots)],
               {"key": "VARCHAR", "role_account": "BOOLEAN"})
    rows_table(con, "s_opted_out", [(key,) for key in excluded], {"key": "VARCHAR"})


def prints_sql() -> str:
    """SQL: each staged repository's print (``s_staged``): per part of the store staged for
    it (its ``s_repos`` row and its rows of every ``STAGED`` table), the number of rows and
    the sum of their hashes (each row hashed whole, in the staged types). A repository whose
    print is the one kept at the last refresh has the same records in every column its
    events are built from, so the same events (given the same bots, identities and
    settings, which ``graphminer.columnar.copy`` checks apart): a harvest that wrote its
    records again unchanged (``harvest --full``) reads it but does not rebuild it."""
    parts = [f"SELECT repo_id, '{name}' AS part, count(*) AS n, sum(hash(x)::HUGEINT) AS h "
             f"FROM {name} x GROUP BY repo_id"
             for name in ["s_repos", *(table for table, _, _ in STAGED)]]
    return f"""
        SELECT s.repo_id, coalesce(string_agg(p.part || ':' || p.n || ':' || p.h, ','
                                              ORDER BY p.part), '') AS print
        FROM s_staged s LEFT JOIN ({' UNION ALL '.join(parts)}) p ON p.repo_id = s.repo_id
        GROUP BY s.repo_id"""


def ids_frame(repo_ids: Iterable[int]) -> pd.DataFrame:
    """Repository ids as a frame of one BIGINT column, ``repo_id``, for DuckDB to join.

    >>> ids_frame([3, 1]).dtypes["repo_id"]
    dtype('int64')
    """
    return pd.DataFrame({"repo_id": pd.Series([int(r) for r in repo_ids], dtype="int64")})


def narrow(con: duckdb.DuckDBPyConnection, repo_ids: list[int]) -> None:
    """Keep of the staged records only those of ``repo_ids`` (a subset of the staged
    repositories; ``s_repos`` stays whole)."""
    con.register("_kept", ids_frame(repo_ids))
    for name in ["s_staged", *(table for table, _, _ in STAGED)]:
        con.execute(f"DELETE FROM {name} WHERE repo_id NOT IN (SELECT repo_id FROM _kept)")
    con.unregister("_kept")


def bot_keys(conn: sqlite3.Connection) -> set[str]:
    """``graphminer.events.bot_makers`` read by SQL alone (no frame of every account): the
    makers identity calls bots, and the accounts of type Bot or whose login ends in
    ``[bot]`` (whatever its case: the five last characters are ASCII either way)."""
    found = set()
    if table_exists(conn, "makers"):
        found = {str(row[0]) for row in conn.execute("SELECT key FROM makers WHERE is_bot")}
    return found | {row[0] for row in conn.execute(
        "SELECT CAST(id AS TEXT) FROM people WHERE type = 'Bot' "
        "OR lower(substr(login, -5)) = '[bot]'")}


def not_people(conn: sqlite3.Connection, config: Config | None,
               people: pd.DataFrame | None = None) -> tuple[set[str], set[str]]:
    """(the makers who are not people: bots and role accounts, the role accounts among
    them), as ``graphminer.events.load_events`` reads them."""
    roles = role_account_makers(conn, config)
    return bot_makers(conn, people_frame(conn) if people is None else people) | roles, roles


def commit_landing(con: duckdb.DuckDBPyConnection, config: Config | None) -> None:
    """``c_walk``: per staged commit (``c_nodes.i``), when and how it landed, read by
    ``graphminer.landing.land`` once per repository (rules v4 dating: the graph walk is
    landing.py's, the one reading of git history both implementations share): ``mainline``,
    ``pushed`` (on the mainline or the puller's own side of a foxtrot merge), ``imported``,
    ``reached_at`` (its earliest landing event), ``merged_by`` (``c_nodes.i`` of the merge
    whose event dated it) and ``merge_kind``, as ``graphminer.events.with_landing`` asks.
    Where the database keeps the walks (``landing_kept``: a copy beside the store), a
    repository whose walk's inputs are those of its kept walk (``landing_print``) takes it
    as it is, and the walks done are kept.
    """
    con.execute("""CREATE OR REPLACE TEMP TABLE c_nodes AS
        SELECT row_number() OVER (ORDER BY repo_id, sha) - 1 AS i, *,
               CASE WHEN parents IS NULL OR parents = '' THEN []::VARCHAR[]
                    ELSE from_json(parents, '["VARCHAR"]') END AS plist
        FROM s_commits""")
    long_lived = long_lived_branches(config)
    kept = keeps_landing(con)
    if kept:
        con.execute(f"CREATE OR REPLACE TEMP TABLE c_prints AS {landing_print(long_lived)}")
        con.execute("""CREATE OR REPLACE TEMP TABLE c_same AS
            SELECT p.repo_id FROM c_prints p
            JOIN (SELECT repo_id, min(print) AS print FROM landing_kept GROUP BY repo_id) k
              ON k.repo_id = p.repo_id AND k.print = p.print""")
    walked = "n.repo_id NOT IN (SELECT repo_id FROM c_same)" if kept else "TRUE"
    rows = con.execute(f"""SELECT n.repo_id, n.sha, n.plist, coalesce(n.committer_date, ''),
                                  coalesce(n.subject, ''), coalesce(n.committer_email, ''),
                                  r.default_branch, r.full_name, n.i
                           FROM c_nodes n LEFT JOIN s_repos r USING (repo_id)
                           WHERE {walked} ORDER BY n.i""").fetchall()
    total = len(rows)
    mainline, pushed, imported = [False] * total, [False] * total, [False] * total
    reached: list[str | None] = [None] * total
    merged_by: list[int] = [-1] * total
    kinds = [""] * total
    start = 0
    while start < total:  # rows come by repository: one walk per repository
        end = start
        while end < total and rows[end][0] == rows[start][0]:
            end += 1
        part = rows[start:end]
        history = History(shas=[row[1] for row in part], parents=[list(row[2]) for row in part],
                          dates=[row[3] for row in part], subjects=[row[4] for row in part],
                          committers=[row[5].strip().lower() for row in part])
        found = land(history, part[0][6], long_lived, part[0][7])
        for index in range(end - start):
            position = start + index
            mainline[position] = found.mainline[index]
            pushed[position] = found.mainline[index] or found.pushed_through_foxtrot[index]
            imported[position] = found.imported[index]
            reached[position] = found.landed_at[index] or None
            brought = found.brought_by[index]
            merged_by[position] = rows[start + brought][8] if brought is not None else -1
            kinds[position] = found.kinds[index] or ""
        start = end
    walks = pd.DataFrame({"i": pd.Series([row[8] for row in rows], dtype="int64"),
                          "mainline": mainline, "pushed": pushed,
                          "imported": imported, "reached_at": pd.Series(reached, dtype=object),
                          "merged_by": merged_by, "merge_kind": kinds})
    con.register("_walked", walks)
    con.execute("""CREATE OR REPLACE TEMP TABLE c_walk AS
        SELECT CAST(i AS BIGINT) AS i, CAST(mainline AS BOOLEAN) AS mainline,
               CAST(pushed AS BOOLEAN) AS pushed, CAST(imported AS BOOLEAN) AS imported,
               CAST(reached_at AS VARCHAR) AS reached_at,
               CASE WHEN merged_by >= 0 THEN CAST(merged_by AS BIGINT) END AS merged_by,
               CAST(merge_kind AS VARCHAR) AS merge_kind
        FROM _walked""")
    con.unregister("_walked")
    if kept:
        keep_landing(con)


def keeps_landing(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database keeps the repositories' walks (``landing_kept``)."""
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND "
                            "table_name = 'landing_kept'").fetchall()[0][0])


def landing_print(long_lived: Any) -> str:
    """SQL: per staged repository with commits, a print of what its walk reads: its commits
    (sha, parents, date, subject, committer's email: each hashed whole, summed, and
    counted), its default branch and name, and the long-lived branches of the settings."""
    branches = json.dumps(sorted(long_lived)).replace("'", "''")
    return f"""
        SELECT n.repo_id, count(*) || ':' || sum(hash(n.sha, n.parents, n.committer_date,
                   n.subject, n.committer_email)::HUGEINT) || ':'
               || hash(min(r.default_branch), min(r.full_name), '{branches}') AS print
        FROM c_nodes n LEFT JOIN s_repos r USING (repo_id) GROUP BY n.repo_id"""


def keep_landing(con: duckdb.DuckDBPyConnection) -> None:
    """``c_walk`` of the repositories walked again kept in ``landing_kept`` (with their
    print), the kept walks of the others added to it: every staged commit's walk."""
    con.execute("""DELETE FROM landing_kept WHERE repo_id IN (SELECT repo_id FROM s_staged)
                   AND repo_id NOT IN (SELECT repo_id FROM c_same)""")
    con.execute("""INSERT INTO landing_kept
        SELECT n.repo_id, p.print, n.sha, w.mainline, w.pushed, w.imported, w.reached_at,
               m.sha, w.merge_kind
        FROM c_walk w JOIN c_nodes n ON n.i = w.i JOIN c_prints p ON p.repo_id = n.repo_id
        LEFT JOIN c_nodes m ON m.i = w.merged_by""")
    con.execute("""INSERT INTO c_walk
        SELECT n.i, k.mainline, k.pushed, k.imported, k.reached_at, m.i, k.merge_kind
        FROM c_nodes n JOIN landing_kept k ON k.repo_id = n.repo_id AND k.sha = n.sha
        LEFT JOIN c_nodes m ON m.repo_id = k.repo_id AND m.sha = k.merged_by_sha
        WHERE n.repo_id IN (SELECT repo_id FROM c_same)""")


def create_landing(con: duckdb.DuckDBPyConnection) -> None:
    """The table of the repositories' walks as of the last refresh (``commit_landing``)."""
    con.execute("""CREATE TABLE IF NOT EXISTS landing_kept (
        repo_id BIGINT NOT NULL, print VARCHAR NOT NULL, sha VARCHAR NOT NULL,
        mainline BOOLEAN, pushed BOOLEAN, imported BOOLEAN, reached_at VARCHAR,
        merged_by_sha VARCHAR, merge_kind VARCHAR)""")


def user_key(column: str) -> str:
    """SQL: a GitHub user id as a maker key (its decimal string), NULL stays NULL."""
    return f"CAST({column} AS VARCHAR)"


def git_key(column: str) -> str:
    """SQL: ``git:<email lower-cased>`` for a commit identity without an account."""
    return (f"CASE WHEN {column} IS NULL OR {column} = '' THEN NULL "
            f"ELSE 'git:' || lower(trim({column}, ' \t\n\r\x0b\x0c')) END")


def stamp(column: str) -> str:
    """SQL: a stored ISO 8601 time as epoch seconds (NULL when unreadable)."""
    return f"CAST(floor(epoch(try_cast({column} AS TIMESTAMPTZ))) AS BIGINT)"


def commit_facts_sql() -> str:
    """``c_facts``: the staged commits in scope with their keys, how they landed
    (``c_walk``) and their PR number (``graphminer.events.pr_numbers``), before one copy of
    each sha is chosen."""
    noreply = GITHUB_COMMITTER_EMAIL
    return f"""
    WITH c_keys AS (
        SELECT n.*, w.mainline, w.pushed, w.imported, w.reached_at, w.merged_by, w.merge_kind,
               len(n.plist) AS n_parents,
               lower(coalesce(n.committer_email, '')) = '{noreply}' AS by_github,
               CASE WHEN coalesce(n.unresolved, 0) <> 0
                    THEN coalesce({user_key('n.author_id')}, {git_key('n.author_email')})
                    ELSE n.author_key END AS a_key,
               CASE WHEN coalesce(n.unresolved, 0) <> 0
                    THEN coalesce({user_key('n.committer_id')}, {git_key('n.committer_email')})
                    ELSE n.committer_key END AS c_key0
        FROM c_nodes n JOIN c_walk w USING (i)
        JOIN s_scope s ON s.repo_id = n.repo_id),
    merge_prs AS (
        SELECT repo_id, merge_commit_sha AS sha, max(number) AS number FROM s_items
        WHERE coalesce(is_pr, 0) <> 0 AND merged_at IS NOT NULL AND merge_commit_sha IS NOT NULL
        GROUP BY ALL),
    head_prs AS (SELECT repo_id, sha, max(number) AS number FROM s_pull_refs GROUP BY ALL),
    c_pr0 AS (
        SELECT k.*,
               coalesce(nullif(mp.number, 0),
                        -- an imported history's subjects name another repository's PRs
                        CASE WHEN NOT k.imported THEN nullif(try_cast(coalesce(
                            nullif(regexp_extract(coalesce(k.subject, ''), '{PR_SUBJECT}', 1), ''),
                            nullif(regexp_extract(coalesce(k.subject, ''), '{PR_SUBJECT}', 2), ''))
                            AS BIGINT), 0) END,
                        nullif(hp.number, 0), 0) AS pr0,
               CASE WHEN k.by_github THEN NULL ELSE k.c_key0 END AS c_key
        FROM c_keys k
        LEFT JOIN merge_prs mp ON mp.repo_id = k.repo_id AND mp.sha = k.sha
        LEFT JOIN head_prs hp ON hp.repo_id = k.repo_id AND hp.sha = k.sha)
    SELECT c.*,
           CASE WHEN c.pr0 = 0 AND c.merged_by IS NOT NULL THEN m.pr0 ELSE c.pr0 END AS pr,
           c.n_parents >= 2 AS is_merge,
           m.sha AS merged_by_sha
    FROM c_pr0 c LEFT JOIN c_pr0 m ON m.i = c.merged_by"""


def commit_rows_sql() -> str:
    """The ``commit`` and ``committed`` rows (``graphminer.events.commit_rows``): of a sha
    stored under several repositories in scope only the copy that landed first (ties: not a
    fork, then the full name; ``graphminer.events.first_copies``), the other repositories'
    copies read from ``commit_copies``."""
    return f"""
    c_copies AS (
        SELECT sha, repo_id, reached_at FROM commit_copies
        WHERE repo_id NOT IN (SELECT repo_id FROM s_staged) AND sha IN (SELECT sha FROM c_facts)
        UNION ALL
        SELECT sha, repo_id, reached_at FROM c_facts),
    c_first AS (
        SELECT c.sha, c.repo_id FROM c_copies c JOIN s_repos r ON r.repo_id = c.repo_id
        QUALIFY row_number() OVER (
            PARTITION BY c.sha ORDER BY coalesce(c.reached_at, '9999'),
            coalesce(r.fork, 0) <> 0, r.full_name) = 1),
    c_kept AS (
        SELECT f.* FROM c_facts f SEMI JOIN c_first k ON k.repo_id = f.repo_id AND k.sha = f.sha),
    held AS (
        SELECT DISTINCT repo_id, number FROM s_items
        WHERE coalesce(is_pr, 0) <> 0 AND merged_at IS NOT NULL),
    -- rules version 5: the commit that created a community path, the first of its repo to
    -- touch it (graphminer.events.community_created): by landing, committer date, sha
    c_touched AS (
        SELECT t.repo_id, t.sha, t.reached_at, t.committer_date, t.path FROM (
            SELECT f.repo_id, f.sha, f.reached_at, f.committer_date,
                   unnest(from_json(f.files, '["VARCHAR"]')) AS path
            FROM c_kept f WHERE f.files IS NOT NULL AND f.files <> '') AS t
        WHERE regexp_matches(t.path, '{COMMUNITY_FILE}')),
    c_created AS (
        SELECT DISTINCT repo_id, sha FROM (
            SELECT repo_id, sha FROM c_touched
            QUALIFY row_number() OVER (
                PARTITION BY repo_id, path
                ORDER BY coalesce(nullif(reached_at, ''), '9999'),
                         coalesce(nullif(committer_date, ''), '9999'), sha) = 1)),
    c_landing AS (
        SELECT f.*,
               f.pr > 0 OR f.merged_by IS NOT NULL AS via_pr,
               NOT f.is_merge AND NOT (f.pr > 0 OR f.merged_by IS NOT NULL)
                   OR NOT f.is_merge AND h.number IS NULL AS landed0,
               cc.sha IS NOT NULL AS community
        FROM c_kept f LEFT JOIN held h ON h.repo_id = f.repo_id AND h.number = f.pr
        LEFT JOIN c_created cc ON cc.repo_id = f.repo_id AND cc.sha = f.sha),
    c_rows AS (
        SELECT l.*,
               l.pushed AND NOT l.is_merge AND NOT l.via_pr AND l.c_key IS NOT NULL AS direct_push,
               l.landed0 AND (l.merged_by IS NULL OR row_number() OVER (
                   PARTITION BY l.repo_id, l.merged_by, l.a_key, l.landed0 AND l.merged_by IS NOT NULL
                   ORDER BY l.sha) = 1) AS landed
        FROM c_landing l),
    -- landing acts (graphminer.events.landing_acts): who put work on the branch, whose it was
    c_who AS (
        SELECT r.*,
               CASE WHEN r.is_merge THEN (CASE WHEN r.by_github THEN r.a_key ELSE r.c_key END)
                    ELSE r.c_key END AS who,
               CASE WHEN r.direct_push THEN 'direct_push'
                    WHEN r.pushed AND NOT r.is_merge AND r.via_pr AND r.merged_by_sha IS NULL
                        THEN 'pr_commit'
                    -- merges on the mainline, landing merges wherever they sit; not an import's
                    WHEN r.is_merge AND NOT r.imported AND (
                        r.mainline OR r.merge_kind IN ('{PR_MERGE_KIND}', '{LONG_LIVED_KIND}'))
                        THEN 'merge'
                    ELSE '' END AS how
        FROM c_rows r),
    c_acts AS (SELECT * FROM c_who WHERE who IS NOT NULL AND how <> ''),
    -- each merge act's brought-in commits: some its doer's own, the first someone else's
    c_merge_whose AS (
        SELECT m.repo_id, m.sha,
               bool_or(coalesce(s.a_key = m.who, FALSE)) AS own,
               arg_min(s.a_key, s.sha) FILTER (
                   WHERE s.a_key IS NOT NULL AND s.a_key <> m.who
                     AND s.a_key NOT IN (SELECT key FROM s_bots)) AS other
        FROM c_acts m JOIN c_rows s ON s.repo_id = m.repo_id AND s.merged_by_sha = m.sha
        WHERE m.how = 'merge' AND NOT s.is_merge
        GROUP BY m.repo_id, m.sha),
    c_landing_acts AS (
        SELECT a.*,
               CASE WHEN a.how = 'merge' THEN coalesce(w.own, FALSE)
                    ELSE coalesce(a.a_key = a.who, FALSE) END AS own_work,
               CASE WHEN a.how = 'merge' THEN (CASE WHEN a.merge_kind = 'foxtrot' THEN NULL
                                                    ELSE w.other END)
                    WHEN a.a_key IS NOT NULL AND a.a_key <> a.who
                         AND a.a_key NOT IN (SELECT key FROM s_bots) THEN a.a_key END AS other
        FROM c_acts a LEFT JOIN c_merge_whose w ON w.repo_id = a.repo_id AND w.sha = a.sha),
    commit_events AS (
        SELECT reached_at AS ts_text, a_key AS maker, repo_id, 'commit' AS kind, 9 AS part,
               repo_id AS k1, 0 AS k2, sha, 'commit' AS target_type, NULL::BIGINT AS target_num,
               a_key AS target_author, '' AS subkind, NULL::VARCHAR AS label, FALSE AS by_commit,
               via_pr, pr, is_merge, direct_push, c_key AS committer, community, landed,
               landed AS action, merged_by_sha AS landed_by, imported, merge_kind,
               FALSE AS own_work
        FROM c_rows
        UNION ALL
        SELECT reached_at, who, repo_id, 'committed', 10, repo_id, 0, sha, 'commit', NULL,
               coalesce(other, CASE WHEN own_work THEN who END), how, NULL, FALSE,
               via_pr, pr, is_merge, direct_push, who, FALSE, FALSE, TRUE, NULL, FALSE, merge_kind,
               own_work
        FROM c_landing_acts),
    {pull_ref_rows_sql()}"""


def pull_ref_rows_sql() -> str:
    """``pull_ref_events``: ``pr_opened`` for each ``refs/pull/N/head`` whose PR the store
    does not hold (``graphminer.events.pull_ref_rows``): one per head commit across the
    repositories in scope (the first by full name, then number; the other repositories'
    refs read from ``ref_copies``), dated at the head commit's committer date."""
    return f"""
    r_staged AS (SELECT p.* FROM s_pull_refs p JOIN s_scope s ON s.repo_id = p.repo_id),
    r_copies AS (
        SELECT sha, repo_id, number FROM ref_copies
        WHERE repo_id NOT IN (SELECT repo_id FROM s_staged) AND sha IN (SELECT sha FROM r_staged)
        UNION ALL
        SELECT sha, repo_id, number FROM r_staged),
    r_first AS (
        SELECT c.repo_id, c.number FROM r_copies c JOIN s_repos r ON r.repo_id = c.repo_id
        QUALIFY row_number() OVER (PARTITION BY c.sha ORDER BY r.full_name, c.number) = 1),
    pull_ref_events AS (
        SELECT coalesce(n.committer_date, p.committer_date, p.author_date) AS ts_text,
               CASE WHEN coalesce(p.unresolved, 0) <> 0 THEN {git_key('p.author_email')}
                    ELSE p.author_key END AS maker,
               p.repo_id, 'pr_opened' AS kind, 11 AS part, p.repo_id AS k1, p.number AS k2,
               NULL::VARCHAR AS sha, 'pr' AS target_type, p.number AS target_num,
               CASE WHEN coalesce(p.unresolved, 0) <> 0 THEN {git_key('p.author_email')}
                    ELSE p.author_key END AS target_author,
               'pull_ref' AS subkind, NULL::VARCHAR AS label, FALSE AS by_commit,
               FALSE AS via_pr, p.number AS pr, FALSE AS is_merge, FALSE AS direct_push,
               NULL::VARCHAR AS committer, FALSE AS community, FALSE AS landed, TRUE AS action,
               NULL::VARCHAR AS landed_by, FALSE AS imported, '' AS merge_kind,
               FALSE AS own_work
        FROM r_staged p
        SEMI JOIN r_first f ON f.repo_id = p.repo_id AND f.number = p.number
        LEFT JOIN c_nodes n ON n.repo_id = p.repo_id AND n.sha = p.sha
        WHERE NOT EXISTS (SELECT 1 FROM s_items i WHERE i.repo_id = p.repo_id AND i.number = p.number))"""


def event_rows_sql() -> str:
    """Every event of the staged repos, maker keys as strings (``graphminer.events``'s rows)."""
    skipped = ", ".join(f"'{name}'" for name in sorted(NOT_PERFORMED_EVENTS))
    return f"""
    WITH items AS (
        SELECT i.*, coalesce(i.is_pr, 0) <> 0 AS pr_flag, {user_key('i.user_id')} AS author,
               CASE WHEN coalesce(i.is_pr, 0) <> 0 THEN 'pr' ELSE 'issue' END AS t_type
        FROM s_items i JOIN s_scope s ON s.repo_id = i.repo_id),
    last_merge AS (
        SELECT repo_id, issue_number AS number, arg_max(actor_id, id) AS actor_id
        FROM s_merge_events GROUP BY ALL),
    item_events AS (
        SELECT created_at AS ts_text, author AS maker, repo_id,
               CASE WHEN pr_flag THEN 'pr_opened' ELSE 'issue_opened' END AS kind, 1 AS part,
               repo_id AS k1, number AS k2, NULL::VARCHAR AS sha, t_type AS target_type,
               number AS target_num, author AS target_author,
               CASE WHEN pr_flag THEN '' ELSE coalesce(state_reason, '') END AS subkind,
               NULL::VARCHAR AS label, FALSE AS by_commit, FALSE AS via_pr, 0::BIGINT AS pr,
               FALSE AS is_merge, FALSE AS direct_push, NULL::VARCHAR AS committer,
               FALSE AS community, FALSE AS landed, TRUE AS action
        FROM items
        UNION ALL
        SELECT merged_at, author, repo_id, 'pr_merged', 2, repo_id, number, NULL, t_type, number,
               author, '', NULL, FALSE, FALSE, number, FALSE, FALSE, NULL, FALSE, TRUE, TRUE
        FROM items WHERE pr_flag AND merged_at IS NOT NULL
        UNION ALL
        SELECT i.merged_at, coalesce({user_key('i.merged_by_id')}, {user_key('m.actor_id')}),
               i.repo_id, 'merge_performed', 3, i.repo_id, i.number, NULL, i.t_type, i.number,
               i.author, '', NULL, FALSE, FALSE, i.number, FALSE, FALSE, NULL, FALSE, FALSE, TRUE
        FROM items i LEFT JOIN last_merge m ON m.repo_id = i.repo_id AND m.number = i.number
        WHERE i.pr_flag AND i.merged_at IS NOT NULL),
    on_items AS (
        SELECT r.*, s.full_name, coalesce(i.t_type, r.fallback) AS target_type,
               i.author AS target_author
        FROM (
            SELECT 'comment' AS kind, 4 AS part, id, repo_id, issue_number AS number, user_id,
                   created_at AS ts_text, '' AS subkind, NULL::VARCHAR AS label,
                   FALSE AS by_commit, 'issue' AS fallback FROM s_comments
            UNION ALL
            SELECT 'review_comment', 5, id, repo_id, pr_number, user_id, created_at, '', NULL,
                   FALSE, 'pr' FROM s_review_comments
            UNION ALL
            SELECT 'review', 6, id, repo_id, pr_number, user_id, submitted_at,
                   upper(coalesce(state, '')), NULL, FALSE, 'pr' FROM s_reviews
            UNION ALL
            SELECT 'issue_event', 7, id, repo_id, issue_number, actor_id, created_at, event,
                   label, commit_id IS NOT NULL AND commit_id <> '', 'issue'
            FROM s_issue_events WHERE event NOT IN ({skipped})
        ) r
        JOIN s_scope s ON s.repo_id = r.repo_id
        LEFT JOIN items i ON i.repo_id = r.repo_id AND i.number = r.number),
    record_events AS (
        SELECT ts_text, {user_key('user_id')} AS maker, repo_id, kind, part, id AS k1, 0 AS k2,
               NULL::VARCHAR AS sha, target_type, number AS target_num, target_author, subkind,
               label, by_commit, FALSE AS via_pr, 0::BIGINT AS pr, FALSE AS is_merge,
               FALSE AS direct_push, NULL::VARCHAR AS committer, FALSE AS community,
               FALSE AS landed, TRUE AS action
        FROM on_items
        UNION ALL
        SELECT r.published_at,
               CASE WHEN r.is_tag THEN r.tagger_key ELSE {user_key('r.author_id')} END,
               r.repo_id, 'release', 8, r.id, 0, NULL,
               'release', r.id, NULL, CASE WHEN r.is_tag THEN 'tag' ELSE '' END, NULL, FALSE,
               FALSE, 0, FALSE, FALSE, NULL, FALSE, FALSE, TRUE
        FROM s_releases r JOIN s_scope s ON s.repo_id = r.repo_id),
    {commit_rows_sql()},
    rows AS (
        SELECT *, NULL::VARCHAR AS landed_by, FALSE AS imported, '' AS merge_kind,
               FALSE AS own_work FROM item_events
        UNION ALL
        SELECT *, NULL::VARCHAR AS landed_by, FALSE AS imported, '' AS merge_kind,
               FALSE AS own_work FROM record_events
        UNION ALL SELECT * FROM commit_events UNION ALL SELECT * FROM pull_ref_events)
    SELECT {stamp('ts_text')} AS t, maker, repo_id, kind, part, k1, k2, sha, target_type,
           target_num,
           CASE WHEN target_author IN (SELECT key FROM s_opted_out) THEN NULL
                ELSE target_author END AS target_author,
           subkind, label, by_commit, via_pr, pr, is_merge, direct_push,
           CASE WHEN committer IN (SELECT key FROM s_opted_out) THEN NULL
                ELSE committer END AS committer,
           community, landed, action, landed_by, imported, merge_kind, own_work
    FROM rows
    WHERE maker IS NOT NULL AND maker NOT IN (SELECT key FROM s_opted_out)
      AND {stamp('ts_text')} IS NOT NULL"""


def event_rows(con: duckdb.DuckDBPyConnection, config: Config | None) -> None:
    """``s_events``: the staged repos' events, maker keys as strings (after ``stage``);
    ``c_facts`` (every staged copy of a commit, counted or not) stays for
    ``graphminer.columnar.tables`` to keep in ``commit_copies``."""
    commit_landing(con, config)
    con.execute(f"CREATE OR REPLACE TEMP TABLE c_facts AS {commit_facts_sql()}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE s_events AS {event_rows_sql()}")


def shared_with(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Repositories not staged holding a commit or a pull ref the staged ones hold now (the
    store) or held at the last refresh (the copy): which copy counts may have moved to or
    from them, so they are read again too (one step is enough: a repository's own copies
    are dated by its own history alone)."""
    rows = con.execute("""
        WITH staged AS (SELECT repo_id FROM s_staged),
        shas AS (SELECT sha FROM s_commits UNION SELECT sha FROM commit_copies
                 WHERE repo_id IN (SELECT repo_id FROM staged)),
        heads AS (SELECT sha FROM s_pull_refs UNION SELECT sha FROM ref_copies
                  WHERE repo_id IN (SELECT repo_id FROM staged))
        SELECT repo_id FROM commit_copies
        WHERE sha IN (SELECT sha FROM shas) AND repo_id NOT IN (SELECT repo_id FROM staged)
        UNION
        SELECT repo_id FROM ref_copies
        WHERE sha IN (SELECT sha FROM heads) AND repo_id NOT IN (SELECT repo_id FROM staged)
        """).fetchall()
    return sorted(row[0] for row in rows)


def opt_value(config: Config | None, key: str, default: Any = None) -> Any:
    """A ``[harvest]`` value of the config (``default`` without a config)."""
    return config["harvest"].get(key, default) if config is not None else default
