"""Milestones and stages computed by the columnar engine, answered as pandas frames.

``Engine(con)`` runs over the columnar tables of ``con`` (``graphminer.columnar.tables``):
``acts(moment, limits, scope)`` is ``graphminer.trajectory.milestone_acts``'s long form,
``milestones(...)`` its wide form, ``stages(...)`` ``graphminer.trajectory.stages``; each is
a handful of SQL statements (``graphminer.columnar.rules``) and one conversion to pandas
at the end. The events as the rules see them (``ev``) are prepared once per as_of; the
candidates of the role rules (maintainer, core, organiser, the bridges) once per as_of and
thresholds, since the stages read them too.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from graphminer import milestones as catalogue
from graphminer.columnar import rules
from graphminer.columnar.frames import stamps
from graphminer.columnar.lanes import Lanes, Step

# The rules whose every candidate the stages read (graphminer.trajectory.ROLE_RULES).
ROLE_RULES = ("maintainer", "core", "organiser", "repo_bridge", "org_bridge")
# The rules evaluated together in one pass over the events (``Engine.fused``).
FUSABLE = frozenset({name for name, rule in rules.RULES.items()
                     if isinstance(rule, (rules.EventRule, rules.EventParts))}
                    | {"returning", "long_term"})
# The rules whose candidates are kept without their triggers' columns (``places``), read
# from the events only when the acts are read whole (``triggered``).
PLACED = frozenset(name for name, rule in rules.RULES.items() if isinstance(rule, rules.Bridge))
# Whole-scope rules whose candidates (a join over the events) ``rules.earliest`` would
# compute twice (for the first date, then for its rows): kept in a table per scope.
KEPT_PER_SCOPE = frozenset({"coder_to_organiser"})
# The rules that read the parts several rules share (rules.SHARED).
SHARED_READERS = frozenset({"creator", "organiser", "coder_to_organiser"})
# On several lanes, the statements that head the longest chains, in the order the lanes
# take them when ready (measured on the bench's world: the role candidates and the fused
# pass are 0.1-0.3 s each, a milestone's earliest over its candidates 0.01-0.07 s; the
# fused pass's join back, 0.16 s, last would leave one lane idle); then the others.
# ``{acts}``: the act table's name.
FIRST = ("shared_responders", "cand_maintainer", "fused_a", "fused_b", "{acts}_fused",
         "shared_creators", "shared_roles", "cand_organiser", "cand_core")

if TYPE_CHECKING:
    import duckdb

# Each milestone's code: its place in the catalogue (``ORDER``: SQL of a ``milestone``'s;
# ``NAMED``: SQL of the name of a code ``m``).
CODES = {name: index for index, name in enumerate(catalogue.KEYS)}
ORDER = "CASE milestone " + " ".join(f"WHEN '{name}' THEN {code}" for name, code in CODES.items()) + " END"
NAMED = "CASE f.m " + " ".join(f"WHEN {code} THEN '{name}'" for name, code in CODES.items()) + " END"
TARGET = ("CASE WHEN a.ext_repo IS NOT NULL THEN a.ext_repo WHEN a.target_type IS NULL THEN NULL "
          "ELSE CAST(a.target_type AS VARCHAR) || ':' || coalesce(a.sha, CAST(a.target_num AS VARCHAR)) END")
# Every stage and state name (``graphminer.trajectory.stages``), as an array indexed by
# the codes the stages' query gives them (``STAGE_CODES``).
STAGE_ARRAY = np.asarray([*catalogue.STAGES, "active", "returned", "inactive", "gone"], dtype=object)
STAGE_CODES = {name: code for code, name in enumerate(STAGE_ARRAY)}
# The roles and tracks a stage mark may carry, each a bit of the mark's ``flags``.
FLAG_BITS = {"maintainer": 1, "landed": 2, "acted": 4, "organiser": 8, "bridge": 16}
FLAGS = " + ".join(f"CASE WHEN {flag} THEN {bit} ELSE 0 END" for flag, bit in FLAG_BITS.items())
QUARTER_OF = "(year(to_timestamp({x})) * 4 + (month(to_timestamp({x})) - 1) // 3)"


def stamp_array(seconds: np.ndarray) -> pd.DatetimeIndex:
    """Epoch seconds (a masked array where NULL) as ``datetime64[ns, UTC]``, NaT where masked."""
    ns = np.ma.getdata(seconds).astype(np.int64) * 10**9
    ns[np.ma.getmaskarray(seconds)] = np.iinfo(np.int64).min  # NaT
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def quarter_of(column: str) -> str:
    """SQL: the calendar quarter number (year * 4 + quarter - 1, UTC) of epoch seconds."""
    return QUARTER_OF.format(x=column)


def latest_held(bit: int) -> str:
    """SQL over a stage mark (``q``, ``flags``) beside the maker's three marks before it
    (``q1``, ``f1`` ...: the marks' quarters differ, so every mark of the three quarters
    before is one of them): the latest quarter, at most three before the mark's, of a mark
    carrying ``bit`` (NULL when none: the role is not held from this mark on)."""
    return (f"CASE WHEN flags & {bit} > 0 THEN q "
            + " ".join(f"WHEN q{lag} >= q - 3 AND f{lag} & {bit} > 0 THEN q{lag}" for lag in (1, 2, 3))
            + " END")


def at_codes(codes: np.ndarray, values: np.ndarray, dtype: Any) -> np.ndarray:
    """``values`` each at the index of its code (``codes``, integers from 0) in an array as
    long as the largest code + 1 (None or 0 where no value has the code)."""
    codes = np.asarray(codes, dtype=np.int64)
    found = (np.empty if dtype is object else np.zeros)(int(codes.max()) + 1 if len(codes) else 0, dtype=dtype)
    found[codes] = np.asarray(values, dtype=dtype)
    return found


def maker_places(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray]:
    """Each maker's key (an object array, None where no maker has the code) and place in
    the keys' order (from 0), both at the index of its code."""
    found = con.execute(
        "SELECT code, key, row_number() OVER (ORDER BY key) - 1 AS place FROM makers").fetchnumpy()
    return at_codes(found["code"], found["key"], object), at_codes(found["code"], found["place"], np.int64)


def parts_firsts(name: str, parts: list[str]) -> list[str]:
    """SQL: the aggregates placing a ``rules.EventParts`` rule ``name`` (its ``parts``' SQL)
    per scope key: ``k_<name>``, the earliest time of a matching event times the number of
    parts plus the index of the first part it matches (the earliest time's first part:
    ``k % parts``), and each part's lowest place ``s_<name>_<1...>`` (the place follows the
    time: a part's lowest place is at its earliest time)."""
    count = len(parts)
    key = " ".join(f"WHEN {where} THEN t * {count} + {index}" for index, where in enumerate(parts))
    return [f"min(CASE {key} END) AS k_{name}"] + [
        f"min(seq) FILTER (WHERE {where}) AS s_{name}_{index}"
        for index, where in enumerate(parts, start=1)]


class Engine:
    """The trajectory rules over one DuckDB database's columnar tables, their independent
    statements run side by side on ``lanes`` lanes (``graphminer.columnar.lanes``; one:
    one after the other, into temporary tables of ``con``). ``con`` is then the connection
    the engine's tables are read from (with several lanes, one of the lanes')."""

    def __init__(self, con: duckdb.DuckDBPyConnection, lanes: int = 1) -> None:
        self.lanes = Lanes(con, lanes)
        self.con = self.lanes.home
        self.temp = self.lanes.temp  # "TEMP " when the tables are the connection's own
        self._moment: tuple[int, str | None] | None = None
        # a table of maker codes (``code``): the events of only these makers are read
        # (a quiet night's refresh computes again only the makers it may move)
        self.only: str | None = None
        self._roles: tuple[int, str] | None = None
        self._outside: Any = None
        self._tables: dict[str, Any] = {}
        self.share = False  # keep every repo-scope rule's candidates (several scopes asked)

    # --- inputs ---------------------------------------------------------------------------

    def prepare(self, moment: int) -> None:
        """``ev``: the events up to ``moment`` (epoch seconds) as the rules see them (of the
        makers of ``only`` alone when set: right for the rules that read a maker's own
        events only)."""
        if self._moment == (moment, self.only):
            return
        sql = rules.PREPARE.format(moment=moment)
        if self.only is not None:
            sql = f"SELECT * FROM ({sql}) WHERE maker IN (SELECT code FROM {self.only})"
            few, every = self.con.execute(f"SELECT (SELECT count(*) FROM {self.only}), "
                                          "(SELECT count(*) FROM makers)").fetchall()[0]
            if few * 20 < every:
                # a few makers' events, read by every rule: kept in a table, read once (a
                # larger part is read faster filtered each time)
                self.con.execute(f"CREATE OR REPLACE {self.temp}TABLE ev_only AS {sql}")
                sql = "SELECT * FROM ev_only"
        self.con.execute(f"CREATE OR REPLACE {self.temp}VIEW ev AS {sql}")
        self._moment, self._roles, self._tables = (moment, self.only), None, {}

    def set_outside(self, outside: pd.DataFrame | None) -> bool:
        """``outside``: the followed makers' outside acts (``graphminer.careers.outside_acts``)
        coded against the makers; whether there are any."""
        if outside is None or outside.empty:
            self._outside = None
            return False
        if self._outside is outside:
            return True
        frame = pd.DataFrame({
            "key": outside["maker"].astype(str).to_numpy(), "act": outside["act"].to_numpy(),
            "owner": outside["owner"].astype(object).to_numpy(),
            "owner_kind": outside["owner_kind"].astype(object).to_numpy(),
            "repo": outside["repo"].astype(object).to_numpy(),
            "dated": (outside["at"].astype("int64") // 10**9).to_numpy()
            if str(outside["at"].dtype).endswith("ns, UTC]") else
            pd.to_datetime(outside["at"], utc=True).dt.as_unit("s").astype("int64").to_numpy(),
            "others": pd.to_numeric(outside["others"]).fillna(0).astype("int64").to_numpy(),
            "fork": pd.to_numeric(outside["fork"]).fillna(0).astype("int64").to_numpy(),
            "position": range(len(outside))})
        self.con.register("_outside", frame)
        self.con.execute(f"""CREATE OR REPLACE {self.temp}TABLE outside AS
            SELECT m.code AS maker, o.act, o.owner, o.owner_kind, o.repo, o.dated, o.others, o.fork,
                   o.position
            FROM _outside o JOIN makers m ON m.key = o.key""")
        self.con.unregister("_outside")
        self._outside = outside
        return True

    def candidates(self, moment: int, limits: dict[str, Any], keys: tuple[str, ...],
                   outside: bool, names: tuple[str, ...] = catalogue.KEYS,
                   steps: list[Step] | None = None,
                   after: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
        """Where each of ``names``' candidate acts are read from: a table
        ``cand_<name>`` for the role rules (the stages read every candidate), one per scope
        for ``KEPT_PER_SCOPE`` (``cand_<name>_<keys>``) and, when
        ``share`` is set (several scopes will be asked), for every repo-scope rule (each scope
        takes its earliest of the same candidates); else the rule's query itself. The parts
        several rules read (``rules.SHARED``) are kept in tables once per as_of and thresholds,
        when a rule asked for reads them. The tables to make are added to ``steps`` (each
        after the parts it reads), or made now when not given; ``after`` is given, per name,
        the tables its candidates are read from (its table, or the shared parts its query
        reads)."""
        now = steps is None
        steps = [] if steps is None else steps
        fingerprint = json.dumps(limits, sort_keys=True, default=str)
        if self._roles != (moment, fingerprint):
            self._roles, self._tables = (moment, fingerprint), {}
        shared = {part: f"shared_{part}" for part in rules.SHARED}
        if set(names) & SHARED_READERS and "shared" not in self._tables:
            made: dict[str, str] = {}  # a part reads the ones before it from their tables
            for part, sql in rules.SHARED.items():
                base = rules.Query(moment, limits, ("maker",), shared=dict(made))
                steps.append(self.step(shared[part], sql(base), base))
                made[part] = shared[part]
            self._tables["shared"] = True
        query = rules.Query(moment, limits, keys, outside=outside, shared=shared)
        found = {}
        after = {} if after is None else after
        for name in names:
            repo_scope = catalogue.milestone(name).scope == catalogue.EARLIEST and \
                name not in catalogue.CAREER_KEYS
            if not (name in ROLE_RULES or name in KEPT_PER_SCOPE or (repo_scope and self.share)):
                query.read.clear()
                found[name] = f"({rules.RULES[name](query)})"
                after[name] = tuple(shared[part] for part in sorted(query.read))
                continue
            table = f"cand_{name}" + ("_" + "_".join(keys) if name in KEPT_PER_SCOPE else "")
            if self._tables.get(table) != outside:
                query.read.clear()
                rule = rules.RULES[name]
                steps.append(self.step(table, rule.places(query) if name in PLACED else rule(query), query))
                self._tables[table] = outside
            found[name] = table
            after[name] = (table,)
        if now:
            self.run(steps)
        return found

    def step(self, table: str, sql: str, query: rules.Query | None = None,
             after: tuple[str, ...] = ()) -> Step:
        """The statement making ``table`` of ``sql``, after the shared parts ``query`` read
        from their tables (and the tables ``after``)."""
        reads = tuple(query.shared[part] for part in sorted(query.read) if part in query.shared) \
            if query is not None else ()
        return Step(table, f"CREATE OR REPLACE {self.temp}TABLE {table} AS {sql}", reads + after)

    def run(self, steps: list[Step]) -> None:
        """Make the tables of ``steps`` (on the lanes; one after the other when the rules
        read a few makers' events: ``only``); on a failure, none of this as_of's tables is
        taken as made."""
        try:
            self.lanes.run(steps, alone=self.only is not None)
        except BaseException:
            self._roles, self._tables = None, {}
            raise

    # --- milestones -----------------------------------------------------------------------

    def act_table(self, moment: int, limits: dict[str, Any], scope: str,
                  outside: pd.DataFrame | None = None,
                  names: tuple[str, ...] = catalogue.KEYS) -> str:
        """The temporary table ``acts_<scope>``: one row per (scope key, milestone reached)
        with its date and trigger, coded (``rules.CANDIDATE_COLUMNS`` plus ``milestone``);
        only the milestones ``names`` when given (``acts_<scope>_some``). Beside it
        ``<table>_dates``: its milestones' codes (``m``: ``CODES``), scope keys and ``dated``
        alone (with several lanes read without joining the triggers of the fused milestones
        and of the ``PLACED`` rules to their events)."""
        keys = rules.scope_keys(scope)
        self.prepare(moment)
        followed = self.set_outside(outside)
        steps: list[Step] = []
        after: dict[str, tuple[str, ...]] = {}
        sources = self.candidates(moment, limits, keys, followed, names, steps, after)
        table = f"acts_{scope}" if names == catalogue.KEYS else f"acts_{scope}_some"
        if self._tables.get(table) != (followed, names):
            fused = [name for name in names if name in FUSABLE]
            parts = {name: rules.earliest(sources[name], keys, moment, name)
                     for name in names if name not in fused}
            if fused:
                parts["fused"] = self.fused(moment, limits, keys, fused, steps)
                after["fused"] = ("fused_a", "fused_b")
            dated = ", ".join((*keys, "dated"))
            if self.lanes.count == 1:  # one statement
                if fused:
                    parts["fused"] = self.fused_rows(f"({parts['fused']})")
                union = "\nUNION ALL\n".join(self.triggered(f"({sql})") if name in PLACED else sql
                                             for name, sql in parts.items())
                steps.append(self.step(table, union, after=tuple(step.name for step in steps)))
                steps.append(Step(f"{table}_dates",
                                  f"CREATE OR REPLACE {self.temp}VIEW {table}_dates AS "
                                  f"SELECT {ORDER} AS m, {dated} FROM {table}",
                                  (table,)))
            else:  # each milestone's part on the first free lane, once its candidates are made
                steps += [self.step(f"{table}_{name}", sql, after=after[name])
                          for name, sql in parts.items()]
                # (the fused part kept without its trigger's columns: the dates are read
                # from it alone, the triggers joined to it when asked)
                union = "\nUNION ALL\n".join(
                    self.fused_rows(f"{table}_{name}") if name == "fused" else
                    self.triggered(f"{table}_{name}") if name in PLACED else f"SELECT * FROM {table}_{name}"
                    for name in parts)
                made = tuple(f"{table}_{name}" for name in parts)
                steps.append(Step(table, f"CREATE OR REPLACE VIEW {table} AS {union}", made))
                union = "\nUNION ALL\n".join(
                    f"SELECT {'m' if name == 'fused' else CODES[name]} AS m, {dated} FROM {table}_{name}"
                    for name in parts)
                steps.append(Step(f"{table}_dates", f"CREATE OR REPLACE VIEW {table}_dates AS {union}",
                                  made))
                first = [name.format(acts=table) for name in FIRST]
                steps.sort(key=lambda step: first.index(step.name) if step.name in first else len(first))
            self._tables[table] = (followed, names)
        self.run(steps)
        return table

    def fused(self, moment: int, limits: dict[str, Any], keys: tuple[str, ...],
              names: list[str], steps: list[Step]) -> str:
        """SQL: the milestones ``names`` (rules over the events' own order: the
        ``rules.EventRule`` and ``rules.EventParts`` ones, returning and long_term) for every
        scope key in one pass over the events: the lowest place matching each rule's
        condition (of a rule in parts, the lowest place of the part of the earliest time,
        the first on a tie: ``parts_firsts``; then returning's and long_term's, after the
        first landed contribution, in a second pass), each joined back to its event. The
        same answer as each rule's own query (``earliest``). The tables of the places
        (``fused_a``, ``fused_b``) are added to ``steps``."""
        query = rules.Query(moment, limits, keys)
        partition = ", ".join(keys)
        simple = [name for name in names if isinstance(rules.RULES[name], rules.EventRule)]
        parted = {name: [part(query) for part in rules.RULES[name].parts]
                  for name in names if isinstance(rules.RULES[name], rules.EventParts)}
        firsts = ", ".join(
            [f"min(seq) FILTER (WHERE {rules.RULES[name].where(query)}) AS s_{name}"
             for name in simple]
            + [aggregate for name, parts in parted.items() for aggregate in parts_firsts(name, parts)]
            + ["min(month_no) FILTER (WHERE landed) AS first_month",
               "min(t) FILTER (WHERE landed) AS first_t"])
        steps.append(self.step("fused_a", f"SELECT {partition}, {firsts} FROM ev GROUP BY {partition}"))
        # (a maker without the milestone has no place: left out before the join, not by it)
        places = [f"SELECT {CODES[name]} AS m, s_{name} AS seq, 0 AS o1 FROM fused_a "
                  f"WHERE s_{name} IS NOT NULL" for name in simple]
        for name, parts in parted.items():
            # the part of the earliest time (the first on a tie), its lowest place
            which = " ".join(f"WHEN {index} THEN s_{name}_{index + 1}" for index in range(len(parts)))
            places.append(f"SELECT {CODES[name]} AS m, CASE k_{name} % {len(parts)} {which} END "
                          f"AS seq, CAST(k_{name} % {len(parts)} + 1 AS INTEGER) AS o1 FROM fused_a "
                          f"WHERE k_{name} IS NOT NULL")
        later = [name for name in names if name in ("returning", "long_term")]
        if later:
            on = " AND ".join(f"f.{key} = ev.{key}" for key in keys)
            span = int(limits["long_term_days"]) * rules.DAY
            steps.append(self.step("fused_b", f"""
                SELECT min(ev.seq) FILTER (WHERE ev.month_no > f.first_month) AS s_returning,
                       min(ev.seq) FILTER (WHERE ev.t - f.first_t >= {span}) AS s_long_term
                FROM ev JOIN fused_a f ON {on} WHERE ev.landed
                GROUP BY {', '.join('ev.' + key for key in keys)}""", after=("fused_a",)))
            places += [f"SELECT {CODES[name]} AS m, s_{name} AS seq, 0 AS o1 FROM fused_b "
                       f"WHERE s_{name} IS NOT NULL" for name in later]
        spans = " ".join(f"WHEN {CODES[name]} THEN {rules.RULES[name].days(query)}"
                         for name in simple if rules.RULES[name].span)
        span = f"CASE u.m {spans} ELSE 0 END" if spans else "0"
        return f"""SELECT * FROM (
            SELECT u.m, {', '.join('ev.' + key for key in keys)}, ev.t + {span} AS dated,
                   u.seq, u.o1
            FROM ({' UNION ALL '.join(places)}) u JOIN {self.events()} ON ev.seq = u.seq) AS f
            WHERE dated <= {moment}"""

    def events(self) -> str:
        """SQL: the events a place (``seq``, unique) is read from: the events table itself,
        without the view's filters, unless ``ev`` is a few makers' table."""
        return "ev" if self.only is not None else "events AS ev"

    def fused_rows(self, places: str) -> str:
        """SQL: the fused milestones' rows (``rules.CANDIDATE_COLUMNS`` after ``milestone``)
        of ``places`` (``fused``'s, a table or a query in parentheses): each joined back to
        its event (a gap's trigger is the gap: dated after its event's time)."""
        return f"""SELECT {NAMED} AS milestone, ev.maker, ev.repo_id, ev.org, f.dated,
                   CASE WHEN f.dated <> ev.t THEN 'gap' ELSE CAST(ev.kind AS VARCHAR) END AS kind,
                   ev.target_type, ev.target_num, ev.sha, f.dated AS t, ev.maker AS by_maker,
                   f.o1, '' AS o2, ev.seq AS o3, NULL AS ext_repo, NULL AS ext_org
            FROM {places} AS f JOIN {self.events()} ON ev.seq = f.seq"""

    def triggered(self, acts: str) -> str:
        """SQL: the rows of ``acts`` (a table, or a query in parentheses, of ``PLACED``
        rules' acts: the milestone and ``rules.CANDIDATE_COLUMNS`` without the triggers'),
        each with its trigger's columns read from its event (place ``o3``)."""
        return f"""SELECT a.milestone, a.maker, a.repo_id, a.org, a.dated, ev.kind, ev.target_type,
                   ev.target_num, ev.sha, a.t, a.by_maker, a.o1, a.o2, a.o3, a.ext_repo, a.ext_org
            FROM {acts} AS a JOIN {self.events()} ON ev.seq = a.o3"""

    def acts(self, moment: int, limits: dict[str, Any], scope: str = "network",
             outside: pd.DataFrame | None = None) -> pd.DataFrame:
        """``graphminer.trajectory.acts_of_prepared``'s long form: the scope's keys,
        ``milestone``, ``at``, the trigger's ``kind``, ``target``, ``ts``, ``by``,
        ``trigger_repo`` and ``trigger_org``."""
        table = self.act_table(moment, limits, scope, outside)
        extra = {"network": "", "org": ", trigger_org AS org", "repo": ", trigger_repo AS repo"}[scope]
        frame = self.con.execute(f"""
            SELECT *{extra} FROM (
                SELECT mk.key AS maker, coalesce(a.ext_org, r.org) AS trigger_org,
                       coalesce(a.ext_repo, r.full_name) AS trigger_repo, a.dated AS "at", CAST(a.kind AS VARCHAR) AS kind,
                       {TARGET} AS target, a.t AS ts, bm.key AS by, a.milestone,
                       {ORDER} AS _order, a.o1, a.o2, a.o3
                FROM {table} a
                JOIN makers mk ON mk.code = a.maker
                LEFT JOIN repos r ON r.repo_id = a.repo_id
                LEFT JOIN makers bm ON bm.code = a.by_maker)
            ORDER BY _order, "at", ts, o1, o2, o3""").df()
        frame = frame.drop(columns=["_order", "o1", "o2", "o3"])
        frame["at"], frame["ts"] = stamps(frame["at"]), stamps(frame["ts"])
        for column in frame.columns:
            if column not in ("at", "ts"):
                frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        return frame

    def milestones(self, moment: int, limits: dict[str, Any], scope: str = "network",
                   outside: pd.DataFrame | None = None) -> pd.DataFrame:
        """``graphminer.trajectory.milestones``: one row per scope key with an action (or a
        milestone), one column per milestone of the catalogue (NaT when not reached)."""
        table = self.act_table(moment, limits, scope, outside)
        keys = rules.scope_keys(scope)
        names = {"maker": "mk.key AS maker", "org": "o.org AS org", "repo_id": "r.full_name AS repo"}
        joins = {"maker": "JOIN makers mk ON mk.code = p.maker",
                 "org": "JOIN (SELECT DISTINCT org_code, org FROM repos) o ON o.org_code = p.org",
                 "repo_id": "JOIN repos r ON r.repo_id = p.repo_id"}
        # Every scope key with an action has reached first_contact (each action is one of its
        # candidates, dated at or before as_of), so the keys of the act table are the keys
        # with an action or a milestone: one pass over it, no second reading of the events.
        index_names = [{"maker": "maker", "org": "org", "repo_id": "repo"}[key] for key in keys]
        listed = ", ".join(keys)
        # The keys numbered in the index's order (sorted by DuckDB), then each act placed
        # at its key's row and its milestone's column by numpy: no pivot of every act
        # through an aggregate per milestone, no pandas sort, no frame of objects.
        self.con.execute(f"""CREATE OR REPLACE {self.temp}TABLE {table}_rows AS
            SELECT *, row_number() OVER (ORDER BY {', '.join(index_names)}) - 1 AS row FROM (
                SELECT {', '.join(f'p.{key} AS code_{key}' for key in keys)},
                       {', '.join(names[key] for key in keys)}
                FROM (SELECT DISTINCT {listed} FROM {table}_dates) p
                {' '.join(joins[key] for key in keys)})""")
        found = self.con.execute(
            f"SELECT {', '.join(index_names)} FROM {table}_rows ORDER BY row").fetchnumpy()
        acts = self.con.execute(f"""SELECT k.row, a.m, a.dated FROM {table}_dates a
            JOIN {table}_rows k ON {' AND '.join(f'k.code_{key} = a.{key}' for key in keys)}""").fetchnumpy()
        arrays = [pd.Index(np.asarray(found[name], dtype=object), dtype=object, name=name)
                  for name in index_names]
        index = arrays[0] if len(arrays) == 1 else pd.MultiIndex.from_arrays(arrays)
        # (a milestone's dates a row of ``dates``: each column made of it without a copy)
        dates = np.full((len(catalogue.KEYS), len(index)), np.iinfo(np.int64).min, dtype=np.int64)
        dates[np.asarray(acts["m"], dtype=np.int64), np.asarray(acts["row"], dtype=np.int64)] = \
            np.asarray(acts["dated"], dtype=np.int64) * 10**9
        frame = pd.DataFrame({name: pd.DatetimeIndex(dates[code].view("datetime64[ns]"), copy=False).tz_localize("UTC")
                              for name, code in CODES.items()}, index=index, copy=False)
        frame.attrs["rules_version"] = catalogue.RULES_VERSION
        return frame

    # --- stages ---------------------------------------------------------------------------

    def stage_marks(self, moment: int, limits: dict[str, Any],
                    outside: pd.DataFrame | None = None) -> tuple[str, str]:
        """The temporary tables the stages are read from: ``stage_marks`` (per maker and
        quarter: an act of each role, an action, a landed contribution, the last action and
        the last return in it) and ``stage_reached`` (per maker: first contact, returning).
        With no new event, a later as_of reads the same marks (a quiet night keeps them)."""
        table = self.act_table(moment, limits, "network", outside)
        gone = int(limits["gone_days"]) * rules.DAY
        roles = "\nUNION ALL\n".join(
            f"SELECT DISTINCT maker, {quarter_of('dated')} AS q, "
            + ", ".join(f"{'TRUE' if name in names else 'FALSE'} AS {flag}"
                        for flag, names in (("core", ("core",)), ("maintainer", ("maintainer",)),
                                            ("organiser", ("organiser",)),
                                            ("bridge", ("repo_bridge", "org_bridge"))))
            + ", FALSE AS acted, FALSE AS landed, NULL::BIGINT AS last_t, NULL::BIGINT AS last_back "
              f"FROM cand_{name} WHERE maker IS NOT NULL"
            for name in ROLE_RULES)
        reached = self.step("stage_reached", f"""
            SELECT maker, max(CASE WHEN m = {CODES['first_contact']} THEN dated END) AS fc,
                   max(CASE WHEN m = {CODES['returning']} THEN dated END) AS ret
            FROM {table}_dates GROUP BY maker""")
        marks = self.step("stage_marks", f"""
            SELECT maker, q, bool_or(core) AS core, bool_or(maintainer) AS maintainer,
                   bool_or(organiser) AS organiser, bool_or(bridge) AS bridge,
                   bool_or(acted) AS acted, bool_or(landed) AS landed,
                   max(last_t) AS last_t, max(last_back) AS last_back
            FROM (
                SELECT maker, quarter_no AS q, FALSE AS core, FALSE AS maintainer,
                       FALSE AS organiser, FALSE AS bridge, bool_or(action) AS acted,
                       bool_or(landed) AS landed, max(CASE WHEN action THEN t END) AS last_t,
                       max(CASE WHEN action AND t - prev_n >= {gone} THEN t END) AS last_back
                FROM ev WHERE action OR landed GROUP BY maker, quarter_no
                UNION ALL
                {roles}) AS every
            GROUP BY maker, q""")
        # (one after the other on DuckDB's threads: stage_reached is a few hundredths of a
        # second, a second lane would idle while stage_marks runs on one thread)
        self.lanes.run([reached, marks], alone=True)
        return "stage_marks", "stage_reached"

    def quarter_number(self, moment: int) -> int:
        """The calendar quarter number (year * 4 + quarter - 1, UTC) of epoch seconds."""
        return int(self.con.execute(f"SELECT {quarter_of(str(moment))}").fetchall()[0][0])

    def stage_query(self, moment: int, limits: dict[str, Any], marked: str, reached: str,
                    since: int | None, only: str | None, named: Callable[[str], str]) -> str:
        """SQL: ``stages``' rows (maker ``code``, ``q``, ``quarter``, ``stage``,
        ``organiser``, ``bridge``, ``state``) from the marks, each stage or state name
        written by ``named``."""
        gone, inactive = int(limits["gone_days"]) * rules.DAY, int(limits["inactive_days"]) * rules.DAY
        last = self.quarter_number(moment)
        first = quarter_of("fc") if since is None else f"greatest({quarter_of('fc')}, {int(since)})"
        only_sql = "" if only is None else f" AND maker IN (SELECT code FROM {only})"
        starts = f"""SELECT maker, ret, {first} AS first_q FROM {reached}
                     WHERE fc IS NOT NULL{only_sql}"""
        if since is None:
            # each maker's first quarter is marked already (first contact is an action)
            marks = f"SELECT *, {FLAGS} AS flags FROM {marked}"
        else:  # the marks from it on and each maker's first quarter, which may be unmarked
            marks = f"""
                SELECT *, {FLAGS} AS flags FROM (
                    SELECT maker, q, bool_or(core) AS core,
                           coalesce(bool_or(maintainer), FALSE) AS maintainer,
                           coalesce(bool_or(organiser), FALSE) AS organiser,
                           coalesce(bool_or(bridge), FALSE) AS bridge,
                           coalesce(bool_or(acted), FALSE) AS acted,
                           coalesce(bool_or(landed), FALSE) AS landed,
                           max(last_t) AS last_t, max(last_back) AS last_back
                    FROM (SELECT * FROM {marked} WHERE q >= {int(since) - 3}
                          UNION ALL
                          SELECT maker, {int(since) - 4} AS q, FALSE, FALSE, FALSE, FALSE, FALSE,
                                 FALSE, max(last_t), max(last_back)
                          FROM {marked} WHERE q < {int(since) - 3} GROUP BY maker
                          UNION ALL
                          SELECT maker, first_q AS q, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
                          FROM starts) AS every
                    GROUP BY maker, q)"""
        # A role is held in a quarter when the maker's latest mark of it is at most three
        # quarters before (``latest_held``). The last action and return: the latest up to
        # the mark.
        return f"""
            WITH starts AS ({starts}),
            marked AS ({marks}),
            cum AS (
                SELECT maker, q, core, flags, lead(q) OVER w AS next_q,
                       {', '.join(f'lag(q, {lag}) OVER w AS q{lag}, lag(flags, {lag}) OVER w AS f{lag}'
                                  for lag in (1, 2, 3))},
                       max(last_t) OVER upto AS last_t, max(last_back) OVER upto AS last_back
                FROM marked
                WINDOW w AS (PARTITION BY maker ORDER BY q),
                       upto AS (PARTITION BY maker ORDER BY q ROWS BETWEEN UNBOUNDED PRECEDING
                                AND CURRENT ROW)),
            held AS (
                SELECT maker, q, core, next_q, last_t, last_back,
                       {', '.join(f"{latest_held(bit)} AS q_{flag}" for flag, bit in FLAG_BITS.items())}
                FROM cum),
            spread AS (
                SELECT c.*, s.ret,
                       unnest(range(greatest(c.q, s.first_q),
                                    least(coalesce(c.next_q, {last} + 1), {last} + 1))) AS g
                FROM held c JOIN starts s ON s.maker = c.maker),
            rolled AS (
                SELECT maker, g AS q, ret, coalesce(g = q AND core, FALSE) AS is_core,
                       q_maintainer >= g - 3 AS is_maintainer,
                       q_landed >= g - 3 AS is_landed, q_acted >= g - 3 AS is_acted,
                       coalesce(q_organiser >= g - 3, FALSE) AS organiser,
                       coalesce(q_bridge >= g - 3, FALSE) AS bridge,
                       last_t, last_back
                FROM spread),
            -- each quarter's start and the moment its state is read at (its end, or as_of),
            -- made once per quarter
            quarters AS (
                SELECT q,
                       epoch(make_timestamp(CAST(q // 4 AS BIGINT), CAST(q % 4 * 3 + 1 AS BIGINT),
                                            1, 0, 0, 0)) AS qs,
                       least(epoch(make_timestamp(CAST((q + 1) // 4 AS BIGINT),
                                                  CAST((q + 1) % 4 * 3 + 1 AS BIGINT), 1, 0, 0, 0)) - 1,
                             {moment}) AS ref
                FROM (SELECT unnest(range((SELECT min(first_q) FROM starts), {last} + 1)) AS q)),
            placed AS (SELECT r.*, t.qs, t.ref FROM rolled r JOIN quarters t ON t.q = r.q),
            flagged AS (
                SELECT *, CASE WHEN ref - last_t >= {gone} THEN {named('gone')}
                               WHEN ref - last_t >= {inactive} THEN {named('inactive')}
                               WHEN last_back >= qs THEN {named('returned')}
                               ELSE {named('active')} END AS state
                FROM placed)
            SELECT f.maker AS code, f.q, f.qs AS quarter,
                   CASE WHEN is_core THEN {named('core')} WHEN is_maintainer THEN {named('maintainer')}
                        WHEN is_landed AND ret <= ref THEN {named('returning')}
                        WHEN is_landed THEN {named('contributor')} WHEN is_acted THEN {named('participant')}
                        ELSE state END AS stage,
                   organiser, bridge, state
            FROM flagged f"""

    def stages(self, moment: int, limits: dict[str, Any],
               outside: pd.DataFrame | None = None,
               marks: tuple[str, str] | None = None, since: int | None = None,
               only: str | None = None, frame: bool = True) -> pd.DataFrame | None:
        """``graphminer.trajectory.stages``: one row per maker per quarter from their first
        contact to as_of's quarter, the role held, the organiser and bridge tracks, the state.

        From the marks (``stage_marks``; or ``marks``, tables kept from an earlier as_of
        with the same events): a role is held in a quarter when one of its acts falls in
        it or the three before it (core: in it), the state reads the gap since the last
        action at the quarter's end (or as_of). Only the marked quarters (and each maker's
        first) are walked, each carrying the latest quarter of every role up to it; it
        then stands for every quarter until the maker's next mark (``range`` unnested), so
        no window runs over the whole grid of makers and quarters. With
        ``since`` (a quarter number), only the quarters from it on: the marks before it
        reduced to what those read (the three quarters before, each maker's last action
        and return). With ``only`` (a table with a ``code`` column of makers), only their
        rows. With ``frame`` False, no frame: the table ``stage_out`` alone (its rows)."""
        marked, reached = marks or self.stage_marks(moment, limits, outside)
        body = functools.partial(self.stage_query, moment, limits, marked, reached, since, only)
        if not frame:  # the caller reads the table ``stage_out`` (the names as text)
            self.con.execute(f"""CREATE OR REPLACE {self.temp}TABLE stage_out AS
                SELECT b.code, mk.key AS maker, b.q, b.quarter, b.stage, b.organiser, b.bridge,
                       b.state
                FROM ({body(lambda name: f"'{name}'")}) AS b
                JOIN makers mk ON mk.code = b.code""")
            return None
        # Codes, not strings, cross over (hundreds of thousands of rows) as numpy arrays:
        # each maker's key and each stage name is one Python string shared by its rows; the
        # rows sorted by numpy by each maker's place in the keys' order (the makers' keys
        # sorted once, not the rows' keys), then the quarter.
        found = self.con.execute(f"""
            SELECT b.code, b.q, b.quarter, b.stage, b.organiser, b.bridge, b.state
            FROM ({body(lambda name: str(STAGE_CODES[name]))}) AS b""").fetchnumpy()
        if not len(found["code"]):
            return pd.DataFrame(columns=["maker", "quarter", "stage", "organiser", "bridge", "state"])
        keys, places = maker_places(self.con)
        codes = np.asarray(found["code"], dtype=np.int64)
        quarters = np.asarray(found["q"], dtype=np.int64)
        # (one key, the place then the quarter: a stable argsort of nearly sorted rows, a
        # sixth of lexsort's time)
        low = int(quarters.min())
        order = np.argsort(places[codes] * (int(quarters.max()) - low + 1) + (quarters - low), kind="stable")
        codes = codes[order]
        frame = pd.DataFrame({
            "maker": pd.Series(keys[codes], dtype=object),
            "quarter": stamp_array(found["quarter"][order]),
            "stage": pd.Series(STAGE_ARRAY[found["stage"][order]], dtype=object),
            "organiser": np.asarray(found["organiser"][order], dtype=bool),
            "bridge": np.asarray(found["bridge"][order], dtype=bool),
            "state": pd.Series(STAGE_ARRAY[found["state"][order]], dtype=object)})
        return frame
