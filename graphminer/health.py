"""The store's health: SQLite's integrity check and the store's own invariants, as one
verdict (what ``graphminer check`` prints).

It counts rows per table and per repo. The invariants: every migration applied is one this graphminer knows; every per-repo
record (issues, comments, events, reviews, commits, pull refs, releases, pulls) belongs to
a stored repo; every watermark names a stored repo or org and a readable time; every
maker identity belongs to a stored maker. Reading only: nothing is written.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from graphminer.store import migrations

# Tables whose rows belong to a repo (column repo_id).
PER_REPO_TABLES = ("issues", "issue_comments", "issue_events", "reviews", "review_comments",
                   "commits", "pull_refs", "releases", "pulls", "commit_makers", "pull_ref_makers")
RECOVERY = ("restore the store's latest .backup copy (made beside it before each migration) "
            "or rebuild it with 'graphminer harvest --full' into a new --store")


@dataclass
class Health:
    """What the check found: ``problems`` empty means healthy; ``facts`` describe the store."""

    facts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        verdict = ("verdict: healthy" if self.healthy else
                   f"verdict: NOT healthy ({len(self.problems)} problem(s)): {RECOVERY}")
        return self.facts + [f"problem: {problem}" for problem in self.problems] + [verdict]


def check_store(conn: sqlite3.Connection) -> Health:
    """The health of the store behind ``conn`` (SQLite errors count as problems)."""
    health = Health()
    for name, step in (("integrity", integrity_problems), ("migrations", migration_problems),
                       ("records", orphan_problems), ("watermarks", watermark_problems),
                       ("identities", identity_problems)):
        try:
            health.problems += step(conn, health.facts)
        except sqlite3.DatabaseError as error:
            health.problems.append(f"{name}: SQLite said {error}")
    return health


def integrity_problems(conn: sqlite3.Connection, facts: list[str]) -> list[str]:
    rows = [row[0] for row in conn.execute("PRAGMA integrity_check(20)").fetchall()]
    if rows == ["ok"]:
        facts.append("SQLite integrity check: ok")
        return []
    return [f"SQLite integrity check: {row}" for row in rows]


def migration_problems(conn: sqlite3.Connection, facts: list[str]) -> list[str]:
    known = {version: name for version, name, _ in migrations()}
    applied = conn.execute("SELECT version, name FROM _migrations ORDER BY version").fetchall()
    facts.append(f"schema version {applied[-1][0] if applied else 0} ({len(applied)} migrations applied)")
    return [f"migration {version} ({name}) is not one this graphminer knows"
            for version, name in applied if known.get(version) != name]


def orphan_problems(conn: sqlite3.Connection, facts: list[str]) -> list[str]:
    problems = []
    repos = conn.execute("SELECT COUNT(*) FROM repos").fetchone()[0]
    counts = []
    for table in existing(conn, PER_REPO_TABLES):
        total = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        orphans = conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE repo_id NOT IN (SELECT id FROM repos)").fetchone()[0]
        counts.append(f"{table} {total}")
        if orphans:
            problems.append(f"{orphans} rows of {table} belong to no stored repo")
    facts.append(f"{repos} repos; rows: " + ", ".join(counts))
    facts.append(rows_per_repo(conn))
    if "pulls" in existing(conn, ("pulls",)):
        unmatched = conn.execute(
            "SELECT COUNT(*) FROM pulls p WHERE NOT EXISTS (SELECT 1 FROM issues i "
            "WHERE i.repo_id = p.repo_id AND i.number = p.number)").fetchone()[0]
        if unmatched:
            facts.append(f"{unmatched} pulls wait for their issue (the next harvest joins them)")
    return problems


def rows_per_repo(conn: sqlite3.Connection) -> str:
    """The fewest and most records a stored repo holds (issues, comments, commits...)."""
    tables = [table for table in existing(conn, PER_REPO_TABLES) if not table.endswith("_makers")]
    if not tables:
        return "rows per repo: no record tables"
    union = " UNION ALL ".join(f"SELECT repo_id FROM {table}" for table in tables)
    rows = conn.execute(
        f"SELECT r.full_name, COUNT(u.repo_id) AS n FROM repos r LEFT JOIN ({union}) u "
        "ON u.repo_id = r.id GROUP BY r.id ORDER BY n, r.full_name").fetchall()
    if not rows:
        return "rows per repo: no repos"
    (least, fewest), (most, largest) = tuple(rows[0]), tuple(rows[-1])
    return f"rows per repo: fewest {fewest} ({least}), most {largest} ({most})"


def watermark_problems(conn: sqlite3.Connection, facts: list[str]) -> list[str]:
    problems = []
    repo_ids = {row[0] for row in conn.execute("SELECT id FROM repos")}
    orgs = {str(row[0]).lower() for row in conn.execute("SELECT login FROM orgs")}
    marks = conn.execute("SELECT scope, endpoint, since FROM _watermarks").fetchall()
    for scope, endpoint, since in marks:
        kind, _, name = str(scope).partition(":")
        if kind == "repo" and not (name.lstrip("-").isdigit() and int(name) in repo_ids):
            problems.append(f"watermark {scope} {endpoint} names no stored repo")
        elif kind == "org" and name.lower() not in orgs:
            problems.append(f"watermark {scope} {endpoint} names no stored org")
        if since and not readable_time(since):
            problems.append(f"watermark {scope} {endpoint} has an unreadable time {since!r}")
    facts.append(f"{len(marks)} watermarks")
    return problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])


def identity_problems(conn: sqlite3.Connection, facts: list[str]) -> list[str]:
    if len(existing(conn, ("makers", "maker_identities"))) < 2:
        return []
    makers = conn.execute("SELECT COUNT(*) FROM makers").fetchone()[0]
    orphans = conn.execute("SELECT COUNT(*) FROM maker_identities WHERE maker_key NOT IN "
                           "(SELECT key FROM makers)").fetchone()[0]
    facts.append(f"{makers} makers")
    return [f"{orphans} identities belong to no stored maker"] if orphans else []


def existing(conn: sqlite3.Connection, tables: tuple[str, ...]) -> list[str]:
    """Those of ``tables`` the store has."""
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return [table for table in tables if table in present]


def readable_time(text: str) -> bool:
    try:
        datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
