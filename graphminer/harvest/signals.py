"""Which listings of a repo can have changed since the last night, from cheap signals.

A quiet night must not ask for every listing of every repo: each conditional request is
free in rate limit but costs a round trip (about 250 ms at GitHub). The signals, and the
GitHub behaviour each relies on (the README's "Quiet nights" says the same):

- the first page of ``/issues?sort=updated`` (read every night anyway): an issue's or a
  PR's ``updated_at`` moves when it is edited, commented on, closed, merged, labelled...,
  so when that page is unchanged (same ETag: a 304) no issue comment or issue event is
  new either;
- the first page of ``/pulls?sort=updated``: reviews and review comments move a PR's
  ``updated_at`` in ``/pulls`` but not in ``/issues``, so review comments follow this one;
  a repo with no stored PR whose ``/issues`` did not change has no PR to review, and its
  ``/pulls`` is not asked;
- ``pushed_at`` of the org's repo listing (read every night anyway): it moves on every
  push, so commits (and releases, whose tags are pushed) follow it.

What a signal can miss (an event that does not move ``updated_at``, a release made on an
old tag) is caught by the sweep: every listing of a repo is read again, conditionally,
every ``[harvest] full_every_days``, spread over the days by repo id so that not every repo
sweeps on the same night. A signal is stored (``_watermarks``, endpoint ``signal:...``)
only once the listings that depend on it are stored, so a killed run reads them again.
Nothing here does HTTP.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from graphminer.harvest.runs import set_watermark, watermark
from graphminer.timeutil import format_instant, parse_stored

SWEEP = "sweep"  # its `since` is when the repo was last swept
ISSUES = "signal:issues"
PULLS = "signal:pulls"
PUSHED = "signal:pushed"
EMPTY = "empty"  # the signal of a listing with no item (no ETag to compare)
ALWAYS = "always"  # no signal: read every night (/issues, whose first page is one)
ISSUES_OR_HELD = "signal:issues, or one stored"  # /pulls: a new PR shows in /issues first


@dataclass
class Plan:
    """What to read of one repo tonight."""

    sweep: bool  # every listing, whatever the signals
    pushed: bool  # commits and releases
    seen: dict[str, str] = field(default_factory=dict)  # signal -> tonight's first page ETag

    def saw(self, signal: str, etag: str | None) -> None:
        """Tonight's first page of a signal listing (its ETag; ``EMPTY`` for none)."""
        self.seen[signal] = etag or EMPTY

    def due(self, conn: sqlite3.Connection, repo_id: int, signal: str, held: Callable[[], bool]) -> bool:
        """Whether a listing gated by ``signal`` can have changed (``held()``: whether the
        store holds some of its records, asked only when the signal needs it)."""
        if signal == ALWAYS:
            return True
        if signal == PUSHED:
            return self.pushed
        if signal == ISSUES_OR_HELD:
            return self.due(conn, repo_id, ISSUES, held) or held()
        return signal in self.seen and (self.sweep or changed(conn, repo_id, signal, self.seen[signal]))


def _stored(conn: sqlite3.Connection, repo_id: int, name: str) -> str | None:
    row = watermark(conn, f"repo:{repo_id}", name)
    return row["cursor"] if row else None


def plan(conn: sqlite3.Connection, repo: dict, full: bool, every_days: int) -> Plan:
    """Tonight's plan for ``repo`` (its record from the org's listing)."""
    due = full or sweep_due(conn, repo["id"], every_days)
    pushed = _stored(conn, repo["id"], PUSHED)
    return Plan(sweep=due, pushed=due or pushed != str(repo.get("pushed_at")))


def sweep_due(conn: sqlite3.Connection, repo_id: int, every_days: int) -> bool:
    """Whether the repo's last sweep is ``every_days`` old (an hour early: a nightly job
    does not start at the same second each night)."""
    row = watermark(conn, f"repo:{repo_id}", SWEEP)
    last = parse_stored(row["since"]) if row else None
    return last is None or last + timedelta(days=every_days, hours=-1) <= datetime.now(UTC)


def changed(conn: sqlite3.Connection, repo_id: int, name: str, seen: str | None) -> bool:
    """Whether the first page of a signal listing differs from the one last acted on."""
    return _stored(conn, repo_id, name) != (seen or EMPTY)


def remember(conn: sqlite3.Connection, repo: dict, plan_: Plan, every_days: int) -> None:
    """Store tonight's signals once every listing they gate is stored, and when the repo
    was last swept (``SWEEP``'s ``since``)."""
    scope = f"repo:{repo['id']}"
    for signal in (ISSUES, PULLS):
        if signal in plan_.seen:
            set_watermark(conn, scope, signal, None, plan_.seen[signal])
    set_watermark(conn, scope, PUSHED, None, str(repo.get("pushed_at")))
    if plan_.sweep:
        # After the first harvest, the next sweeps are spread over the days by repo id:
        # the first harvest counts as a sweep made up to every_days - 1 days earlier.
        first = watermark(conn, scope, SWEEP) is None
        back = repo["id"] % every_days if first and every_days > 0 else 0
        set_watermark(conn, scope, SWEEP, format_instant(datetime.now(UTC) - timedelta(days=back)))
