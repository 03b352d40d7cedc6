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

import json
from typing import TYPE_CHECKING, Any

from graphminer import milestones as catalogue
from graphminer.columnar import rules
from graphminer.columnar.frames import stamps

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


ORDER = "CASE milestone " + " ".join(
    f"WHEN '{name}' THEN {index}" for index, name in enumerate(catalogue.KEYS)) + " END"
TARGET = ("CASE WHEN a.ext_repo IS NOT NULL THEN a.ext_repo WHEN a.target_type IS NULL THEN NULL "
          "ELSE CAST(a.target_type AS VARCHAR) || ':' || coalesce(a.sha, CAST(a.target_num AS VARCHAR)) END")
QUARTER_OF = "(year(to_timestamp({x})) * 4 + (month(to_timestamp({x})) - 1) // 3)"


def quarter_of(column: str) -> str:
    """SQL: the calendar quarter number (year * 4 + quarter - 1, UTC) of epoch seconds."""
    return QUARTER_OF.format(x=column)


class Engine:
    """The trajectory rules over one DuckDB database's columnar tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._moment: int | None = None
        self._roles: tuple[int, str] | None = None
        self._outside: Any = None
        self._tables: dict[str, Any] = {}

    # --- inputs ---------------------------------------------------------------------------

    def prepare(self, moment: int) -> None:
        """``ev``: the events up to ``moment`` (epoch seconds) as the rules see them."""
        if self._moment == moment:
            return
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE ev AS {rules.PREPARE.format(moment=moment)}")
        self._moment, self._roles, self._tables = moment, None, {}

    def set_outside(self, outside: pd.DataFrame | None) -> bool:
        """``outside``: the followed makers' outside acts (``graphminer.careers.outside_acts``)
        coded against the makers; whether there are any."""
        import pandas as pd

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
        self.con.execute("""CREATE OR REPLACE TEMP TABLE outside AS
            SELECT m.code AS maker, o.act, o.owner, o.owner_kind, o.repo, o.dated, o.others, o.fork,
                   o.position
            FROM _outside o JOIN makers m ON m.key = o.key""")
        self.con.unregister("_outside")
        self._outside = outside
        return True

    def candidates(self, moment: int, limits: dict[str, Any], keys: tuple[str, ...],
                   outside: bool) -> dict[str, str]:
        """The temporary table of each milestone's candidate acts (``cand_<name>``): the
        repo-scope rules' once per as_of and thresholds (every scope takes its earliest of
        the same candidates, and the stages read the role rules'), the whole-scope rules'
        (and the followed makers', network only) per scope."""
        fingerprint = json.dumps(limits, sort_keys=True, default=str)
        if self._roles != (moment, fingerprint):
            self._roles, self._tables = (moment, fingerprint), {}
        query = rules.Query(moment, limits, keys, outside=outside)
        found = {}
        for name in catalogue.KEYS:
            shared = catalogue.milestone(name).scope == catalogue.EARLIEST and \
                name not in catalogue.CAREER_KEYS
            table = f"cand_{name}" if shared else f"cand_{name}_{'_'.join(keys)}"
            wanted = (outside, None) if shared else (outside, keys)
            if self._tables.get(table) != wanted:
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {rules.RULES[name](query)}")
                self._tables[table] = wanted
            found[name] = table
        return found

    def role_candidates(self, moment: int, limits: dict[str, Any]) -> None:
        """``cand_<name>`` of the role rules (the stages read every candidate act)."""
        self.prepare(moment)
        self.candidates(moment, limits, ("maker",), self._outside is not None)

    # --- milestones -----------------------------------------------------------------------

    def act_table(self, moment: int, limits: dict[str, Any], scope: str,
                  outside: pd.DataFrame | None = None, table: str = "acts") -> str:
        """The temporary table ``table``: one row per (scope key, milestone reached) with its
        date and trigger, coded (``rules.CANDIDATE_COLUMNS`` plus ``milestone``)."""
        keys = rules.scope_keys(scope)
        self.prepare(moment)
        followed = self.set_outside(outside)
        sources = self.candidates(moment, limits, keys, followed)
        parts = [rules.earliest(sources[name], keys, moment, name) for name in catalogue.KEYS]
        union = "\nUNION ALL\n".join(parts)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {union}")
        return table

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
        import pandas as pd

        table = self.act_table(moment, limits, scope, outside)
        keys = rules.scope_keys(scope)
        names = {"maker": "mk.key AS maker", "org": "o.org AS org", "repo_id": "r.full_name AS repo"}
        joins = {"maker": "JOIN makers mk ON mk.code = p.maker",
                 "org": "JOIN (SELECT DISTINCT org_code, org FROM repos) o ON o.org_code = p.org",
                 "repo_id": "JOIN repos r ON r.repo_id = p.repo_id"}
        pivot = ", ".join(f"max(CASE WHEN a.milestone = '{name}' THEN a.dated END) AS {name}"
                          for name in catalogue.KEYS)
        on = " AND ".join(f"a.{key} = p.{key}" for key in keys)
        wide = self.con.execute(f"""
            SELECT {', '.join(names[key] for key in keys)}, w.* EXCLUDE ({', '.join(keys)})
            FROM (SELECT {', '.join('p.' + key for key in keys)}, {pivot}
                  FROM (SELECT DISTINCT {', '.join(keys)} FROM ev WHERE action
                        UNION SELECT DISTINCT {', '.join(keys)} FROM {table}) p
                  LEFT JOIN {table} a ON {on}
                  GROUP BY {', '.join('p.' + key for key in keys)}) w
            {' '.join(joins[key].replace('p.', 'w.') for key in keys)}
            """).df()
        index_names = [{"maker": "maker", "org": "org", "repo_id": "repo"}[key] for key in keys]
        for name in index_names:
            wide[name] = wide[name].astype(object)
        wide = wide.sort_values(index_names).set_index(index_names if len(keys) > 1 else index_names[0])
        frame = pd.DataFrame(index=wide.index)
        for name in catalogue.KEYS:
            values = wide[name]
            frame[name] = (stamps(values.fillna(0)).where(values.notna()) if len(values)
                           else pd.Series(pd.NaT, index=wide.index, dtype="datetime64[ns, UTC]"))
        frame.attrs["rules_version"] = catalogue.RULES_VERSION
        return frame

    # --- stages ---------------------------------------------------------------------------

    def stages(self, moment: int, limits: dict[str, Any], outside: pd.DataFrame | None = None,
               acts: str | None = None) -> pd.DataFrame:
        """``graphminer.trajectory.stages``: one row per maker per quarter from their first
        contact to as_of's quarter, the role held, the organiser and bridge tracks, the state."""
        import pandas as pd

        table = acts or self.act_table(moment, limits, "network", outside, table="acts_network")
        self.role_candidates(moment, limits)
        gone, inactive = int(limits["gone_days"]) * rules.DAY, int(limits["inactive_days"]) * rules.DAY
        last = self.con.execute(f"SELECT {quarter_of(str(moment))}").fetchall()[0][0]

        def held(source: str, rolling: int) -> str:
            return f"""SELECT DISTINCT maker, quarter + lag AS q FROM (
                SELECT DISTINCT maker, {quarter_of('dated')} AS quarter FROM ({source}) AS s
                WHERE maker IS NOT NULL) AS a,
                (SELECT unnest(range({rolling})) AS lag) AS lags"""

        frame = self.con.execute(f"""
            WITH reached AS (
                SELECT maker, max(CASE WHEN milestone = 'first_contact' THEN dated END) AS fc,
                       max(CASE WHEN milestone = 'returning' THEN dated END) AS ret
                FROM {table} GROUP BY maker),
            grid AS (
                SELECT maker, ret, unnest(range({quarter_of('fc')}, {last} + 1)) AS q
                FROM reached WHERE fc IS NOT NULL),
            quarters AS (
                SELECT q, epoch(make_timestamp(CAST(q // 4 AS BIGINT), CAST(q % 4 * 3 + 1 AS BIGINT),
                                               1, 0, 0, 0)) AS qs
                FROM (SELECT DISTINCT q FROM grid UNION SELECT DISTINCT q + 1 FROM grid)),
            placed AS (
                SELECT g.*, s.qs, least(e.qs - 1, {moment}) AS ref
                FROM grid g JOIN quarters s ON s.q = g.q JOIN quarters e ON e.q = g.q + 1),
            core_q AS ({held('SELECT * FROM cand_core', 1)}),
            maintainer_q AS ({held('SELECT * FROM cand_maintainer', 4)}),
            landed_q AS ({held('SELECT maker, t AS dated FROM ev WHERE landed', 4)}),
            acted_q AS ({held('SELECT maker, t AS dated FROM ev WHERE action', 4)}),
            organiser_q AS ({held('SELECT * FROM cand_organiser', 4)}),
            bridge_q AS ({held('SELECT * FROM cand_repo_bridge UNION ALL SELECT * FROM cand_org_bridge', 4)}),
            acted AS (
                SELECT maker, t, quarter_no,
                       t - lag(t) OVER (PARTITION BY maker ORDER BY t) >= {gone} AS back
                FROM ev WHERE action),
            per_quarter AS (
                SELECT maker, quarter_no AS q, max(t) AS last_t,
                       max(CASE WHEN back THEN t END) AS last_back
                FROM acted GROUP BY maker, quarter_no),
            states AS (
                SELECT p.*,
                       max(pq.last_t) OVER w AS last_t, max(pq.last_back) OVER w AS last_back
                FROM placed p LEFT JOIN per_quarter pq ON pq.maker = p.maker AND pq.q = p.q
                WINDOW w AS (PARTITION BY p.maker ORDER BY p.q
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
            flagged AS (
                SELECT s.*,
                       CASE WHEN s.ref - s.last_t >= {gone} THEN 'gone'
                            WHEN s.ref - s.last_t >= {inactive} THEN 'inactive'
                            WHEN s.last_back >= s.qs THEN 'returned'
                            ELSE 'active' END AS state,
                       c.maker IS NOT NULL AS is_core, mt.maker IS NOT NULL AS is_maintainer,
                       l.maker IS NOT NULL AS is_landed, a.maker IS NOT NULL AS is_acted,
                       o.maker IS NOT NULL AS organiser, b.maker IS NOT NULL AS bridge
                FROM states s
                LEFT JOIN core_q c ON c.maker = s.maker AND c.q = s.q
                LEFT JOIN maintainer_q mt ON mt.maker = s.maker AND mt.q = s.q
                LEFT JOIN landed_q l ON l.maker = s.maker AND l.q = s.q
                LEFT JOIN acted_q a ON a.maker = s.maker AND a.q = s.q
                LEFT JOIN organiser_q o ON o.maker = s.maker AND o.q = s.q
                LEFT JOIN bridge_q b ON b.maker = s.maker AND b.q = s.q)
            SELECT mk.key AS maker, f.qs AS quarter,
                   CASE WHEN is_core THEN 'core' WHEN is_maintainer THEN 'maintainer'
                        WHEN is_landed AND ret <= ref THEN 'returning'
                        WHEN is_landed THEN 'contributor' WHEN is_acted THEN 'participant'
                        ELSE state END AS stage,
                   organiser, bridge, state
            FROM flagged f JOIN makers mk ON mk.code = f.maker
            ORDER BY mk.key, f.q""").df()
        if frame.empty:
            return pd.DataFrame(columns=["maker", "quarter", "stage", "organiser", "bridge", "state"])
        frame["quarter"] = stamps(frame["quarter"])
        for column in ("maker", "stage", "state"):
            frame[column] = frame[column].astype(object)
        frame["organiser"] = frame["organiser"].astype(bool)
        frame["bridge"] = frame["bridge"].astype(bool)
        return frame
