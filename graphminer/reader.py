"""Reading a store for analysis: one as_of, the events up to it, labels, milestones and stages.

Every reader of a store (the ``trajectory``, ``makers`` and ``stats`` commands, the
exports, the report and the notebooks' ``graphminer.api``) goes through this module, so
they agree on what they answer:

- **as_of** (docs/rules.md "Dating"): ``--as-of`` when given, otherwise the end of the last
  finished harvest in ``_runs`` (a GitHub harvest records the API server's ``Date``, a
  git-only harvest the local clock), otherwise the newest event, otherwise now.
- **events**: ``graphminer.events.load_events``; everything after as_of is ignored.
- **labels**: maker key -> login, else name (identity's ``makers`` table).
- **milestones and stages**: read from the tables ``graphminer.precompute`` refreshes after
  each harvest when they are fresh for this as_of and config, else computed by
  ``graphminer.trajectory`` (the two give the same frames; tests hold them to it).

The functions that need no pandas (``last_run``, ``harvest_end``, ``maker_labels``) import
none, so the fast path of ``graphminer trajectory`` can use them.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphminer.timeutil import format_instant, parse_stored, utc_timestamp

if TYPE_CHECKING:
    import pandas as pd

    from graphminer.columnar import Columnar
    from graphminer.config import Config

SCOPES = ("network", "org", "repo")


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the store has table ``name`` (a store opened read-only may predate it)."""
    return conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def last_run(conn: sqlite3.Connection) -> sqlite3.Row | tuple | None:
    """The last finished harvest (id, ended_at, source), None before any."""
    if not table_exists(conn, "_runs"):
        return None
    return conn.execute(
        "SELECT id, ended_at, source FROM _runs WHERE ended_at IS NOT NULL "
        "ORDER BY ended_at DESC, id DESC LIMIT 1"
    ).fetchone()


def harvest_end(conn: sqlite3.Connection) -> str | None:
    """When the last finished harvest ended (``YYYY-MM-DDTHH:MM:SSZ``), None before any.

    >>> conn = sqlite3.connect(":memory:")
    >>> harvest_end(conn) is None
    True
    >>> _ = conn.execute("CREATE TABLE _runs(id INTEGER PRIMARY KEY, ended_at TEXT, source TEXT)")
    >>> _ = conn.executemany("INSERT INTO _runs(ended_at) VALUES (?)",
    ...                      [("2024-06-30T12:00:00Z",), (None,), ("2024-05-01T08:00:00Z",)])
    >>> harvest_end(conn)
    '2024-06-30T12:00:00Z'
    """
    run = last_run(conn)
    return format_instant(parse_stored(run[1])) if run else None


def maker_labels(conn: sqlite3.Connection) -> dict[str, str]:
    """Maker key -> login, else name (identity's ``makers`` table; empty before it exists)."""
    if not table_exists(conn, "makers"):
        return {}
    rows = conn.execute("SELECT key, COALESCE(NULLIF(login, ''), name) FROM makers").fetchall()
    return {str(key): str(label) for key, label in rows if label}


def default_as_of(conn: sqlite3.Connection, events: pd.DataFrame | None = None) -> pd.Timestamp:
    """The as_of used when none is given: the last harvest's end, else the newest event
    (to the second), else now (to the second)."""
    import pandas as pd

    ended = harvest_end(conn)
    if ended is not None:
        return utc_timestamp(ended)
    if events is not None and len(events):
        return utc_timestamp(events["ts"].max()).floor("s")
    return utc_timestamp(pd.Timestamp.now(tz="UTC")).floor("s")


class StoreReader:
    """A store read for analysis at one default as_of; each answer is computed once."""

    def __init__(self, conn: sqlite3.Connection, config: Config | None,
                 use_precomputed: bool = True) -> None:
        self.conn = conn
        self.config = config
        self.use_precomputed = use_precomputed
        self._milestones: dict[tuple[str, Any], pd.DataFrame] = {}
        self._stages: dict[Any, pd.DataFrame] = {}
        self._acts: dict[tuple[str, Any], tuple[pd.DataFrame, pd.DataFrame]] = {}

    @cached_property
    def columnar(self) -> Columnar | None:
        """The columnar engine over the store's copy (``graphminer.columnar``) when the copy
        is fresh, else None: the pandas implementation (``graphminer.events``,
        ``graphminer.trajectory``) answers, as it does with ``use_precomputed`` off."""
        if not self.use_precomputed:
            return None
        from graphminer.columnar import Columnar
        from graphminer.columnar.copy import open_copy

        con = open_copy(self.conn, self.config)
        return Columnar(con, self.config, self.outside) if con is not None else None

    @cached_property
    def events(self) -> pd.DataFrame:
        """The events table (docs/events.md), bots flagged, all times."""
        if self.columnar is not None:
            return self.columnar.events_frame()
        from graphminer.events import load_events

        return load_events(self.conn, self.config)

    @cached_property
    def as_of(self) -> pd.Timestamp:
        """The default as_of (``default_as_of``)."""
        if harvest_end(self.conn) is not None:
            return default_as_of(self.conn)
        return default_as_of(self.conn, self.events)

    @cached_property
    def outside(self) -> pd.DataFrame:
        """What following stored, as outside acts (``graphminer.careers``; empty without)."""
        from graphminer.careers import outside_acts

        return outside_acts(self.conn, self.config)

    @cached_property
    def labels(self) -> dict[str, str]:
        """Maker key -> login (or name for makers without an account)."""
        return maker_labels(self.conn)

    def moment(self, as_of: datetime | pd.Timestamp | str | None = None) -> pd.Timestamp:
        """``as_of`` as a UTC Timestamp, the default as_of when None."""
        return self.as_of if as_of is None else utc_timestamp(as_of)

    def events_until(self, as_of: datetime | pd.Timestamp | str | None = None) -> pd.DataFrame:
        """The events up to ``as_of`` (inclusive): later ones are ignored everywhere."""
        return self.events[self.events["ts"] <= self.moment(as_of)]

    @property
    def orgs(self) -> list[str]:
        """The orgs with events, lower-cased as the events table writes them."""
        return sorted(self.events["org"].dropna().unique().tolist())

    @cached_property
    def precomputed_as_of(self) -> pd.Timestamp | None:
        """as_of of the precomputed tables when they are fresh for this config, else None."""
        from graphminer import precompute

        if not self.use_precomputed:
            return None
        fresh = precompute.fresh_as_of(self.conn, self.config)
        return utc_timestamp(fresh) if fresh else None

    def milestones(self, scope: str = "network",
                   as_of: datetime | pd.Timestamp | str | None = None) -> pd.DataFrame:
        """``graphminer.trajectory.milestones`` at ``scope`` (network, org or repo)."""
        from graphminer import trajectory
        from graphminer.errors import BadInput

        if scope not in SCOPES:
            raise BadInput(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")
        moment = self.moment(as_of)
        if (scope, moment) not in self._milestones:
            if moment == self.precomputed_as_of:
                found = precomputed_milestones(self.conn, scope)
            elif self.columnar is not None:
                found = self.columnar.milestones(moment, scope)
            else:
                ev, long = self.acts(scope, moment)
                found = trajectory.wide_milestones(ev, long, trajectory.SCOPE_KEYS[scope])
            self._milestones[(scope, moment)] = found
        return self._milestones[(scope, moment)]

    def acts(self, scope: str, moment: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(the events as the rules see them, the long-form milestone acts) of ``scope``
        at ``moment``, computed once (``milestones`` and ``triggers`` share them)."""
        from graphminer import trajectory

        if (scope, moment) not in self._acts:
            ev = trajectory.rule_events(self.events, moment)
            long = trajectory.acts_of_prepared(ev, moment, trajectory.thresholds(self.config),
                                               trajectory.SCOPE_KEYS[scope], self.outside)
            self._acts[(scope, moment)] = (ev, long)
        return self._acts[(scope, moment)]

    def stages(self, as_of: datetime | pd.Timestamp | str | None = None) -> pd.DataFrame:
        """``graphminer.trajectory.stages``: one stage per maker per quarter."""
        from graphminer import trajectory

        moment = self.moment(as_of)
        if moment not in self._stages:
            if moment == self.precomputed_as_of:
                found = precomputed_stages(self.conn)
            elif self.columnar is not None:
                found = self.columnar.stages(moment)
            else:
                found = trajectory.stages(self.events_until(moment), moment, self.config,
                                          network=self.milestones("network", moment))
            self._stages[moment] = found
        return self._stages[moment]

    def triggers(self, as_of: datetime | pd.Timestamp | str | None = None) -> pd.DataFrame:
        """The act behind each network-scope milestone: one row per (maker, milestone) with
        ``at``, the triggering ``kind``, ``target``, ``ts``, ``trigger_repo`` and, when the
        rules name it, ``by`` (whose act it was)."""
        moment = self.moment(as_of)
        wanted = ["maker", "milestone", "at", "kind", "target", "ts", "trigger_repo"]
        if moment == self.precomputed_as_of:
            found = precomputed_triggers(self.conn)
        elif self.columnar is not None:
            found = self.columnar.acts(moment, "network")[[*wanted, "by"]]
        else:
            acts = self.acts("network", moment)[1]
            found = acts[wanted + (["by"] if "by" in acts else [])]
        return found if "by" in found else whose_acts(found, self.events_until(moment))


def whose_acts(triggers: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """``triggers`` with ``by``, whose act each trigger was, read from the events when the
    rules do not say: the maker of the event the trigger names (the milestone's own maker
    when they are among several acting in that same second), None when no event matches."""
    keys = ["trigger_repo", "kind", "target", "ts"]
    acted = events[["repo", "kind", "target", "ts", "maker"]].rename(
        columns={"repo": "trigger_repo", "maker": "by"})
    acted = acted.astype({"trigger_repo": object, "kind": object, "target": object, "by": object})
    found = triggers.reset_index(drop=True)
    named = found[["maker", *keys]].astype(
        {"trigger_repo": object, "kind": object, "target": object, "maker": object})
    matched = named.reset_index(names="row").merge(acted, on=keys, how="inner")
    matched = matched.assign(own=matched["by"].eq(matched["maker"]))
    matched = matched.sort_values(["row", "own"], ascending=[True, False]).drop_duplicates("row")
    return found.assign(by=matched.set_index("row")["by"].reindex(found.index).to_numpy())


def precomputed_triggers(conn: sqlite3.Connection) -> pd.DataFrame:
    """The network-scope milestone acts stored after the last harvest, in
    ``triggers``' shape (a ``by`` column only when the table holds one)."""
    import pandas as pd

    columns = {row[1] for row in conn.execute("PRAGMA table_info(traj_milestones)")}
    by = next((name for name in ("trigger_by", "by") if name in columns), None)
    frame = pd.read_sql_query(
        "SELECT maker_key AS maker, milestone, at, trigger_kind AS kind, trigger_repo, "
        f"trigger_target AS target, trigger_at AS ts{f', {by} AS by' if by else ''} "
        "FROM traj_milestones WHERE scope = 'network'", conn)
    for column in ("at", "ts"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.as_unit("ns")
    return frame


def precomputed_milestones(conn: sqlite3.Connection, scope: str) -> pd.DataFrame:
    """Milestones of ``scope`` from the tables graphminer.precompute keeps, in
    trajectory.milestones' shape (one column per milestone, NaT if not reached)."""
    import pandas as pd

    from graphminer.milestones import KEYS, RULES_VERSION
    from graphminer.trajectory import SCOPE_KEYS

    keys = SCOPE_KEYS[scope]
    rows = pd.read_sql_query(
        f"SELECT maker_key AS maker, scope_name AS {keys[-1] if len(keys) > 1 else 'scope_name'}, "
        "milestone, at FROM traj_milestones WHERE scope = ?", conn, params=(scope,))
    rows["at"] = pd.to_datetime(rows["at"], utc=True).dt.as_unit("ns")
    rows[keys] = rows[keys].astype(object)  # as trajectory.milestones indexes them
    wide = rows.set_index([*keys, "milestone"])["at"].unstack("milestone")
    frame = pd.DataFrame({
        key: wide[key] if key in wide else pd.Series(pd.NaT, index=wide.index, dtype="datetime64[ns, UTC]")
        for key in KEYS
    })
    frame.attrs["rules_version"] = RULES_VERSION
    return frame


def precomputed_stages(conn: sqlite3.Connection) -> pd.DataFrame:
    """The network stages stored after the last harvest (reading them takes a second where
    computing them takes ten on a 1,000,000-event store)."""
    import pandas as pd

    frame = pd.read_sql_query(
        "SELECT maker_key AS maker, quarter, stage, organiser, bridge, state FROM traj_stages "
        "ORDER BY maker_key, quarter", conn)
    frame["quarter"] = pd.to_datetime(frame["quarter"], utc=True).dt.as_unit("ns")
    frame["organiser"] = frame["organiser"].astype(bool)
    frame["bridge"] = frame["bridge"].astype(bool)
    return frame
