"""The trajectory rules as set-based queries: one SQL query per milestone of the catalogue.

``graphminer.milestones`` stays the catalogue; ``RULES`` below registers, for each of its
keys, a function returning the SQL of that milestone's *candidate acts* (as
``graphminer.trajectory.RULES`` registers pandas functions), over the table ``ev``: the
events up to as_of with bots removed (``PREPARE``). A milestone is the earliest candidate
per scope key (``earliest``). The whole-scope rules (returning, long_term,
coder_to_organiser, inactive, gone, returned) are given the scope's key columns.

What does not depend on as_of is read from columns the columnar copy derives once per
refresh (``graphminer.columnar.tables.derive``): each event's place ``seq`` in the order
both implementations share, ``someone_else``, and for every action of a person the time
of the same maker's previous and next action in the network (``prev_n``, ``next_n``), in
the org (``prev_o``, ``next_o``) and in the repository (``prev_r``, ``next_r``), and of
their latest action in another repository or org at or before it (``other_repo_t``,
``other_org_t``). An action up to as_of has the same previous actions whatever as_of is;
a next action after as_of stands for as_of itself.

Every candidate row has the same columns (``CANDIDATE_COLUMNS``): the maker who reaches
the milestone, the triggering event's repository and org (integer codes), ``dated`` (the
milestone's date, epoch seconds), the event's kind and target, ``t`` (its time),
``by_maker`` (whose act it was), and ``o1, o2, o3``: where two candidates have the same
``dated`` and ``t``, the one the pandas implementation sees first wins; each rule says
which order that is. Numbered interpretations are ``graphminer.trajectory``'s.

The SQL is plain (sub-queries, joins on equality, aggregates, a few window functions,
CASE), written in DuckDB's dialect and compiled for ClickHouse by sqlglot
(``graphminer.columnar.clickhouse``): the same queries can run where GH Archive's events
live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphminer import milestones as catalogue

TRIAGE = "('labeled', 'assigned', 'milestoned')"
DAY = 86_400
CANDIDATE_COLUMNS = ("maker", "repo_id", "org", "dated", "kind", "target_type", "target_num",
                     "sha", "t", "by_maker", "o1", "o2", "o3", "ext_repo", "ext_org")
SCOPE_COLUMNS = {"network": ("maker",), "org": ("maker", "org"), "repo": ("maker", "repo_id")}
# The previous / next action columns of each scope (see the module docstring).
STEPS = {("maker",): ("prev_n", "next_n"), ("maker", "org"): ("prev_o", "next_o"),
         ("maker", "repo_id"): ("prev_r", "next_r")}
EV_COLUMNS = ("t", "month_no", "quarter_no", "maker", "repo_id", "org", "kind", "target_type",
              "target_num", "sha", "subkind", "label", "by_commit", "landed", "action",
              "community", "own_work", "target_author", "seq", "someone_else", "prev_n", "next_n", "prev_o", "next_o",
              "prev_r", "next_r", "other_repo_t", "other_org_t", "repo_rank", "org_rank")

# The events as the rules see them (trajectory.rule_events): up to as_of, bots removed.
PREPARE = f"""SELECT {', '.join(EV_COLUMNS)} FROM events WHERE t <= {{moment}} AND NOT is_bot"""


@dataclass
class Query:
    """What a rule's SQL is written for: the moment, the thresholds and the scope's keys."""

    moment: int
    limits: dict[str, Any]
    keys: tuple[str, ...]
    outside: bool = False  # whether the table ``outside`` holds followed makers' acts
    shared: dict[str, str] = field(default_factory=dict)  # part name -> a table holding it
    read: set[str] = field(default_factory=set)  # the parts the SQL written so far reads

    @property
    def partition(self) -> str:
        return ", ".join(self.keys)

    def part(self, name: str) -> str:
        """A part several rules read (``SHARED``): its table when one holds it, else its SQL."""
        self.read.add(name)
        return self.shared.get(name) or f"({SHARED[name](self)})"


@dataclass(frozen=True)
class EventRule:
    """A milestone whose candidates are the events matching ``where`` (SQL over ``ev``,
    written for a query), dated at their own time, or ``span`` days later (a threshold key:
    the gaps, whose trigger is then the gap, kind ``gap``); ties by the events' order.
    Called, it is the rule's query; the engine also reads ``where`` to evaluate several
    such rules in one pass over the events."""

    where: Callable[[Query], str]
    span: str | None = None

    def days(self, q: Query) -> int:
        """The span in seconds (0 without one)."""
        return int(q.limits[self.span]) * DAY if self.span else 0

    def __call__(self, q: Query) -> str:
        if self.span is None:
            return rows(self.where(q))
        span = self.days(q)
        return f"""SELECT maker, repo_id, org, t + {span} AS dated, 'gap' AS kind, target_type,
            target_num, sha, t + {span} AS t, maker AS by_maker, 0 AS o1, '' AS o2, seq AS o3,
            NULL AS ext_repo, NULL AS ext_org
            FROM ev WHERE {self.where(q)}"""


@dataclass(frozen=True)
class EventParts:
    """A milestone whose candidates are the events matching any of ``parts`` (each SQL over
    ``ev``, written for a query; no event matches two), dated at their own time; ties by
    the part's position (``o1``, from 1: the pandas implementation concatenates the parts
    in this order), then the events' order. Called, it is the rule's query; the engine
    also reads ``parts`` to evaluate it in its one pass over the events."""

    parts: tuple[Callable[[Query], str], ...]

    def __call__(self, q: Query) -> str:
        return union(*(rows(part(q)) for part in self.parts))


def rows(where: str, source: str = "ev", o1: str = "0") -> str:
    """SQL: the rows of ``source`` matching ``where`` as candidates dated at their own time,
    reached by their own maker; ties by ``o1`` then their place ``seq``."""
    return f"""SELECT maker, repo_id, org, t AS dated, kind, target_type, target_num, sha, t,
        maker AS by_maker, {o1} AS o1, '' AS o2, seq AS o3, NULL AS ext_repo, NULL AS ext_org
        FROM {source} WHERE {where}"""


def union(*parts: str) -> str:
    """SQL: the parts one after the other (``o1`` is each part's position: the pandas
    implementation concatenates them in this order)."""
    return "\nUNION ALL\n".join(
        f"SELECT maker, repo_id, org, dated, kind, target_type, target_num, sha, t, by_maker, "
        f"{index} AS o1, o2, o3, ext_repo, ext_org FROM ({part}) AS p{index}"
        for index, part in enumerate(parts, start=1))


def firsts(where: str, groups: str) -> str:
    """SQL: the rows matching ``where`` that come first (lowest ``seq``) in their ``groups``."""
    return f"""SELECT ev.* FROM ev JOIN (SELECT min(seq) AS first_seq FROM ev WHERE {where}
        GROUP BY {groups}) AS f ON f.first_seq = ev.seq"""


# --- repo-scope rules -------------------------------------------------------------------

first_contact = EventRule(lambda q: "action")  # every action
first_issue = EventRule(lambda q: "kind = 'issue_opened'")
first_comment = EventRule(lambda q: "kind IN ('comment', 'review_comment')")
first_pr = EventRule(lambda q: "kind = 'pr_opened'")
first_landed = EventRule(lambda q: "landed")


def after_others_landed(where: str) -> str:
    """SQL: the rows matching ``where`` done in a repo where a maker other than the actor
    landed a contribution strictly before (interpretation 2)."""
    return f"""
        SELECT a.* FROM (SELECT * FROM ev WHERE {where}) AS a
        JOIN (SELECT repo_id,
                     max(CASE WHEN rk = 1 THEN maker END) AS m1,
                     max(CASE WHEN rk = 1 THEN ft END) AS t1,
                     max(CASE WHEN rk = 2 THEN ft END) AS t2
              FROM (SELECT repo_id, maker, ft,
                           row_number() OVER (PARTITION BY repo_id ORDER BY ft, maker) AS rk
                    FROM (SELECT repo_id, maker, min(t) AS ft FROM ev WHERE landed
                          GROUP BY repo_id, maker) AS f) AS ranked
              WHERE rk <= 2 GROUP BY repo_id) AS o ON o.repo_id = a.repo_id
        WHERE (CASE WHEN o.m1 <> a.maker THEN o.t1 ELSE o.t2 END) < a.t"""


def after_own_landed(source: str) -> str:
    """SQL: the rows of ``source`` (a query) done in a repo where the actor had landed a
    contribution of their own strictly before (rules version 4: a maintainer is a
    contributor acting on others' work)."""
    return f"""
        SELECT a.* FROM ({source}) AS a
        JOIN (SELECT repo_id, maker, min(t) AS own_first FROM ev WHERE landed
              GROUP BY repo_id, maker) AS f ON f.repo_id = a.repo_id AND f.maker = a.maker
        WHERE f.own_first < a.t"""


committer = EventParts((
    # The maker's own work put on the branch by themselves (rules version 4): a merge of
    # their own PR, or a landing act that landed a commit of their own (``own_work``).
    lambda q: "kind = 'merge_performed' AND target_author = maker",
    lambda q: "kind = 'committed' AND own_work",
))


def maintainer(q: Query) -> str:
    """Acting on someone else's work (rules version 4): merging their PR, landing their
    commits, closing their issue or PR, approving their PR later merged (no later than
    as_of), each where the maker had landed work of their own strictly before; and, where
    someone else had landed strictly before, a release or annotated tag. The four acts on
    others' work are read in one pass over the events (each its own kind), ``o1`` their
    part (the pandas implementation concatenates merges, landing, closes, approvals)."""
    on_others = """
        SELECT a.*, CASE a.kind WHEN 'merge_performed' THEN 1 WHEN 'committed' THEN 2
                                WHEN 'issue_event' THEN 3 ELSE 4 END AS part
        FROM ev AS a
        LEFT JOIN (SELECT repo_id, target_type, target_num, min(t) AS merged_at FROM ev
                   WHERE kind = 'pr_merged' GROUP BY repo_id, target_type, target_num) AS m
          ON m.repo_id = a.repo_id AND m.target_type = a.target_type
         AND m.target_num = a.target_num
        WHERE a.someone_else
          AND (a.kind IN ('merge_performed', 'committed')
               OR (a.kind = 'issue_event' AND a.subkind = 'closed' AND NOT a.by_commit)
               OR (a.kind = 'review' AND a.subkind = 'APPROVED' AND m.merged_at >= a.t))"""
    return (rows("TRUE", "(" + after_own_landed(on_others) + ") AS on_others", o1="part")
            + "\nUNION ALL\n"
            + rows("TRUE", "(" + after_others_landed("kind = 'release'") + ") AS releases", o1="5"))


# labelled, assigned or milestoned someone else's issue or PR; reviewed someone else's PR
triager = EventRule(lambda q: f"kind = 'issue_event' AND subkind IN {TRIAGE} AND someone_else")
reviewer = EventRule(lambda q: "kind = 'review' AND someone_else")


def core(q: Query) -> str:
    """Each quarter in which a maker is in a repo's sustained core (rules version 4,
    interpretation 11), read over the year ending with the quarter (it and the three
    before), in a repo where core_min_makers makers have landed work by then: the year holds
    core_min_landed landed contributions; its makers by landed contributions there that
    year (most first, ties by key), the shortest prefix holding core_share of them; of it,
    those with max(core_min_own, core_min_own_share of the year's) of their own, in
    core_min_quarters quarters of the year, one of them this one; dated at their first landed
    contribution there that quarter; ties between repos by repo name."""
    limits = q.limits
    spread = "\nUNION ALL\n".join(
        f"SELECT repo_id, quarter_no + {lag} AS end_q, quarter_no, maker, n, first_seq FROM cells"
        for lag in range(4))
    return f"""
        WITH cells AS (
            SELECT repo_id, quarter_no, maker, count(*) AS n, min(seq) AS first_seq FROM ev
            WHERE landed GROUP BY repo_id, quarter_no, maker),
        worked AS (SELECT DISTINCT repo_id, quarter_no FROM cells),
        spread AS ({spread}),
        yearly AS (
            SELECT s.repo_id, s.end_q, s.maker, sum(s.n) AS own, count(*) AS quarters,
                   max(CASE WHEN s.quarter_no = s.end_q THEN s.first_seq END) AS here_seq
            FROM spread AS s JOIN worked AS w ON w.repo_id = s.repo_id AND w.quarter_no = s.end_q
            GROUP BY s.repo_id, s.end_q, s.maker),
        totals AS (SELECT repo_id, end_q, sum(own) AS total, count(*) AS in_year FROM yearly
                   GROUP BY repo_id, end_q),
        firsts AS (SELECT repo_id, maker, min(quarter_no) AS first_q FROM cells
                   GROUP BY repo_id, maker),
        teams AS (SELECT w.repo_id, w.quarter_no AS end_q, count(*) AS team
                  FROM worked AS w JOIN firsts AS f ON f.repo_id = w.repo_id
                  WHERE f.first_q <= w.quarter_no GROUP BY w.repo_id, w.quarter_no),
        ordered AS (
            SELECT y.repo_id, y.end_q, y.own, y.quarters, y.here_seq, t.total, tm.team, t.in_year,
                   sum(y.own) OVER (PARTITION BY y.repo_id, y.end_q ORDER BY y.own DESC, mk.key
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - y.own AS before,
                   row_number() OVER (PARTITION BY y.repo_id, y.end_q ORDER BY y.own DESC, mk.key)
                       - 1 AS place
            FROM yearly AS y
            JOIN totals AS t ON t.repo_id = y.repo_id AND t.end_q = y.end_q
            JOIN teams AS tm ON tm.repo_id = y.repo_id AND tm.end_q = y.end_q
            JOIN makers AS mk ON mk.code = y.maker
            -- only the years that can hold a core, and in them only the makers with
            -- core_min_own of their own: the others come after every one who has it (most
            -- first), so the sums and places before those are the same
            WHERE t.total >= {int(limits['core_min_landed'])}
              AND tm.team >= {int(limits['core_min_makers'])}
              AND y.own >= {float(limits['core_min_own'])})
        SELECT e.maker, e.repo_id, e.org, e.t AS dated, e.kind, e.target_type, e.target_num,
               e.sha, e.t, e.maker AS by_maker, e.repo_rank AS o1, '' AS o2, e.seq AS o3,
               NULL AS ext_repo, NULL AS ext_org
        FROM ordered AS o JOIN (SELECT * FROM ev WHERE landed) AS e ON e.seq = o.here_seq
        WHERE o.here_seq IS NOT NULL
          AND o.before < {float(limits['core_share'])} * o.total - 1e-9
          AND o.own >= greatest({float(limits['core_min_own'])},
                                {float(limits['core_min_own_share'])} * o.total - 1e-9)
          AND o.quarters >= {int(limits['core_min_quarters'])}
          -- cut to the few of their time: the first max(1, ceil(core_max_share x makers))
          AND o.place < greatest(1, ceil({float(limits['core_max_share'])} * o.in_year - 1e-9))
          AND o.total >= {int(limits['core_min_landed'])}
          AND o.team >= {int(limits['core_min_makers'])}"""


# Each repository's first act: its earliest landed commit (ties by sha) or opened issue or
# PR (commits first, then lower number); only the columns its readers take (the events'
# thirty would be carried through the join for every candidate act).
CREATOR_ACTS = """
    SELECT maker, repo_id, org, t, kind, target_type, target_num, sha FROM (
        SELECT c.maker, c.repo_id, c.org, c.t, c.kind, c.target_type, c.target_num, c.sha,
               row_number() OVER (
                PARTITION BY c.repo_id ORDER BY CASE WHEN c.kind = 'commit' THEN 0 ELSE 1 END,
                coalesce(c.sha, ''), c.target_num) AS rk
        FROM (SELECT * FROM ev
              WHERE (kind = 'commit' AND landed) OR kind IN ('issue_opened', 'pr_opened')) AS c
        JOIN (SELECT repo_id, min(t) AS first_t FROM ev
              WHERE (kind = 'commit' AND landed) OR kind IN ('issue_opened', 'pr_opened')
              GROUP BY repo_id) AS f ON f.repo_id = c.repo_id AND f.first_t = c.t
    ) AS firsts WHERE rk = 1"""


def creator(q: Query) -> str:
    """The maker of each repository's first act (``CREATOR_ACTS``)."""
    return f"""SELECT maker, repo_id, org, t AS dated, kind, target_type, target_num, sha, t,
        maker AS by_maker, CASE WHEN kind = 'commit' THEN 0 ELSE 1 END AS o1,
        coalesce(sha, '') AS o2, coalesce(target_num, 0) AS o3, NULL AS ext_repo,
        NULL AS ext_org FROM {q.part("creators")} AS creators"""


def first_responses(q: Query) -> str:
    """The first responses to items that were their author's first contact
    (interpretation 7): issue comments, review comments and reviews by someone other than
    the author, at or after creation, the earliest second's, within first_response_hours;
    only the columns its readers take."""
    hours = int(q.limits["first_response_hours"])
    return f"""
        SELECT r.maker, r.repo_id, r.org, r.t, r.kind, r.target_type, r.target_num, r.sha, r.seq
        FROM (
            SELECT r.*, d.created_at FROM ev r
            JOIN (SELECT o.repo_id, o.target_type, o.target_num, o.maker AS author,
                         o.t AS created_at
                  FROM ev o
                  JOIN (SELECT maker, min(t) AS fc FROM ev WHERE action GROUP BY maker) AS nfc
                    ON nfc.maker = o.maker AND nfc.fc = o.t
                  WHERE o.kind IN ('issue_opened', 'pr_opened')) AS d
              ON d.repo_id = r.repo_id AND d.target_type = r.target_type
             AND d.target_num = r.target_num
            WHERE r.kind IN ('comment', 'review_comment', 'review') AND r.maker <> d.author
              AND r.t >= d.created_at) AS r
        JOIN (SELECT repo_id, target_type, target_num, min(t) AS earliest FROM (
                  SELECT r.repo_id, r.target_type, r.target_num, r.t FROM ev r
                  JOIN (SELECT o.repo_id, o.target_type, o.target_num, o.maker AS author,
                               o.t AS created_at
                        FROM ev o
                        JOIN (SELECT maker, min(t) AS fc FROM ev WHERE action
                              GROUP BY maker) AS nfc ON nfc.maker = o.maker AND nfc.fc = o.t
                        WHERE o.kind IN ('issue_opened', 'pr_opened')) AS d
                    ON d.repo_id = r.repo_id AND d.target_type = r.target_type
                   AND d.target_num = r.target_num
                  WHERE r.kind IN ('comment', 'review_comment', 'review')
                    AND r.maker <> d.author AND r.t >= d.created_at) AS responses
              GROUP BY repo_id, target_type, target_num) AS e
          ON e.repo_id = r.repo_id AND e.target_type = r.target_type
         AND e.target_num = r.target_num AND e.earliest = r.t
        WHERE r.t - r.created_at <= {hours * 3600}"""


def organiser(q: Query) -> str:
    """First responder, an organiser label on someone else's issue, an issue of theirs
    closed as completed by someone else, creator of a repo another maker acted in, creator
    of a community file (the ``community`` column, rules version 5; interpretation 8, 9)."""
    labels = ", ".join("'" + label.replace("'", "''") + "'"
                       for label in sorted({label.lower() for label in q.limits["organiser_labels"]}))
    completed = """
        SELECT i.maker, c.repo_id, c.org, c.t AS dated, c.kind, c.target_type, c.target_num,
               c.sha, c.t, c.maker AS by_maker, 0 AS o1, '' AS o2, c.seq AS o3,
               NULL AS ext_repo, NULL AS ext_org
        FROM (SELECT ev.* FROM ev JOIN (
                  SELECT max(seq) AS last_seq FROM ev
                  WHERE kind = 'issue_event' AND subkind = 'closed'
                  GROUP BY repo_id, target_type, target_num) AS l ON l.last_seq = ev.seq) AS c
        JOIN (SELECT repo_id, target_type, target_num, maker FROM ev
              WHERE kind = 'issue_opened' AND subkind = 'completed') AS i
          ON i.repo_id = c.repo_id AND i.target_type = c.target_type
         AND i.target_num = c.target_num
        WHERE c.maker <> i.maker"""
    followed = f"""
        SELECT c.maker, ev.repo_id, ev.org, ev.t AS dated, ev.kind, ev.target_type,
               ev.target_num, ev.sha, ev.t, ev.maker AS by_maker, 0 AS o1, '' AS o2,
               ev.seq AS o3, NULL AS ext_repo, NULL AS ext_org
        FROM ev
        JOIN (SELECT a.repo_id, min(a.seq) AS first_seq FROM ev a
              JOIN {q.part("creators")} AS c ON c.repo_id = a.repo_id
              WHERE a.action AND a.maker <> c.maker AND a.t >= c.t
              GROUP BY a.repo_id) AS f ON f.first_seq = ev.seq
        JOIN {q.part("creators")} AS c ON c.repo_id = ev.repo_id"""
    label_sql = (f"kind = 'issue_event' AND subkind = 'labeled' AND someone_else "
                 f"AND target_type = 'issue' AND lower(coalesce(label, '')) IN ({labels})"
                 if labels else "FALSE")
    return union(
        rows("TRUE", f"{q.part('responders')} AS responders"),
        rows(label_sql),
        completed,
        followed,
        rows("community"),
    )


@dataclass(frozen=True)
class Bridge:
    """repo_bridge (``unit`` repo) or org_bridge (``unit`` org): actions while the maker
    acted in another unit within bridge_days before, or in the same second
    (interpretation 6); the first per maker, repo and quarter; ties by the unit's name
    (``rank``, a column of the repository's). Called, it is the rule's query; ``places``
    gives the same candidates without their triggers' columns, which the engine reads from
    the events only when the acts are read whole."""

    unit: str
    rank: str

    def bridging(self, q: Query) -> str:
        """SQL over ``ev``: the actions that bridge."""
        return f"action AND t - other_{self.unit}_t <= {int(q.limits['bridge_days']) * DAY}"

    def __call__(self, q: Query) -> str:
        return rows("TRUE", f"({firsts(self.bridging(q), 'maker, repo_id, quarter_no')}) AS bridging",
                    o1=self.rank)

    def places(self, q: Query) -> str:
        """SQL: the candidates with NULL trigger columns (``kind``, ``target_type``,
        ``target_num``, ``sha``: the event's at place ``o3``), in one pass over the events.
        The first place of a group is at its earliest time (the events' order begins with
        the time), and the org and rank are the repository's."""
        return f"""SELECT maker, repo_id, any_value(org) AS org, min(t) AS dated,
            NULL::VARCHAR AS kind, NULL::VARCHAR AS target_type, NULL::BIGINT AS target_num,
            NULL::VARCHAR AS sha, min(t) AS t, maker AS by_maker, any_value({self.rank}) AS o1,
            '' AS o2, min(seq) AS o3, NULL AS ext_repo, NULL AS ext_org
            FROM ev WHERE {self.bridging(q)} GROUP BY maker, repo_id, quarter_no"""


# --- whole-scope rules --------------------------------------------------------------------

def returning(q: Query) -> str:
    """Landed contributions in a later calendar month than the scope's first landed."""
    on = " AND ".join(f"f.{key} = ev.{key}" for key in q.keys)
    return rows("month_no > first_month", f"""(SELECT ev.*, f.first_month FROM ev
        JOIN (SELECT {q.partition}, min(month_no) AS first_month FROM ev WHERE landed
              GROUP BY {q.partition}) AS f ON {on}
        WHERE ev.landed) AS l""")


def long_term(q: Query) -> str:
    """Landed contributions at least long_term_days after the scope's first landed."""
    span = int(q.limits["long_term_days"]) * DAY
    on = " AND ".join(f"f.{key} = ev.{key}" for key in q.keys)
    return rows(f"t - first_t >= {span}", f"""(SELECT ev.*, f.first_t FROM ev
        JOIN (SELECT {q.partition}, min(t) AS first_t FROM ev WHERE landed
              GROUP BY {q.partition}) AS f ON {on}
        WHERE ev.landed) AS l""")


def gap(days_key: str) -> EventRule:
    """inactive / gone: the last actions before a gap of >= days (or before as_of), dated
    action + days; the trigger is the gap (kind ``gap``) at that date (interpretation 5)."""
    def where(q: Query) -> str:
        span, following = int(q.limits[days_key]) * DAY, STEPS[q.keys][1]
        return (f"action AND CASE WHEN {following} IS NULL OR {following} > {q.moment} "
                f"THEN {q.moment} ELSE {following} END - t >= {span}")
    return EventRule(where, days_key)


# actions after a gap of >= gone_days
returned = EventRule(lambda q: f"action AND t - {STEPS[q.keys][0]} >= {int(q.limits['gone_days']) * DAY}")


def code_and_organising(q: Query) -> str:
    """Code and organising actions, flagged (docs/rules.md "Actions"; each action once)."""
    return f"""SELECT maker, org, repo_id, quarter_no, seq, code,
                   organising0 AND NOT code AS organising FROM (
                SELECT maker, org, repo_id, quarter_no, seq,
                       (kind = 'commit' AND landed) OR kind = 'pr_opened' AS code,
                       kind = 'issue_opened'
                       OR (kind = 'issue_event' AND subkind IN {TRIAGE} AND someone_else)
                       OR (kind = 'review' AND someone_else)
                       OR seq IN (SELECT seq FROM {q.part('responders')} AS fr) AS organising0
                FROM ev) AS flagged
            WHERE code OR organising0"""


def coder_to_organiser(q: Query) -> str:
    """The first quarter mostly organising after an earlier quarter mostly coding, dated at
    the maker's first organising action in that quarter (interpretation 10)."""
    keys, least = q.partition, int(q.limits["shift_min_actions"])
    roles = q.part("roles")
    per_quarter = f"""(SELECT {keys}, quarter_no,
                   sum(CASE WHEN code THEN 1 ELSE 0 END) AS n_code,
                   sum(CASE WHEN organising THEN 1 ELSE 0 END) AS n_org
            FROM {roles} AS roles GROUP BY {keys}, quarter_no)"""
    on = " AND ".join(f"p.{key} = f.{key}" for key in q.keys)
    shifted = f"""(SELECT {', '.join('p.' + key for key in q.keys)}, min(p.quarter_no) AS quarter_no
            FROM {per_quarter} AS p
            JOIN (SELECT {keys}, min(quarter_no) AS first_coding FROM {per_quarter} AS c
                  WHERE n_code + n_org >= {least} AND n_code * 2 > n_code + n_org
                  GROUP BY {keys}) AS f ON {on}
            WHERE p.n_code + p.n_org >= {least} AND p.n_org * 2 >= p.n_code + p.n_org
              AND p.quarter_no > f.first_coding
            GROUP BY {', '.join('p.' + key for key in q.keys)})"""
    joined = " AND ".join(f"s.{key} = r.{key}" for key in q.keys)
    return f"""
        SELECT ev.maker, ev.repo_id, ev.org, ev.t AS dated, ev.kind, ev.target_type,
               ev.target_num, ev.sha, ev.t, ev.maker AS by_maker, 0 AS o1, '' AS o2,
               ev.seq AS o3, NULL AS ext_repo, NULL AS ext_org
        FROM ev JOIN (
            SELECT min(r.seq) AS first_seq FROM {roles} AS r
            JOIN {shifted} AS s ON {joined} AND s.quarter_no = r.quarter_no
            WHERE r.organising GROUP BY {', '.join('r.' + key for key in q.keys)}
        ) AS f ON f.first_seq = ev.seq"""


# --- beyond the harvested orgs (rules version 3): network scope only ---------------------

def outside_rows(q: Query, where: str, kind: str) -> str:
    """SQL: the followed makers' outside acts matching ``where``, dated after their network
    first_contact, as candidates (the trigger names the repository, no act of ``by``)."""
    if not q.outside or q.keys != ("maker",):
        return none()
    return f"""SELECT o.maker, NULL AS repo_id, NULL AS org, o.dated, '{kind}' AS kind,
        NULL AS target_type, NULL AS target_num, NULL AS sha, o.dated AS t, NULL AS by_maker,
        0 AS o1, '' AS o2, o.position AS o3, o.repo AS ext_repo, o.owner AS ext_org
        FROM outside o
        JOIN (SELECT maker, min(t) AS fc FROM ev WHERE action GROUP BY maker) AS nfc
          ON nfc.maker = o.maker
        WHERE o.dated > nfc.fc AND {where}"""


def none() -> str:
    """SQL: no candidate."""
    return ("SELECT NULL AS maker, NULL AS repo_id, NULL AS org, NULL AS dated, NULL AS kind, "
            "NULL AS target_type, NULL AS target_num, NULL AS sha, NULL AS t, NULL AS by_maker, "
            "0 AS o1, '' AS o2, 0 AS o3, NULL AS ext_repo, NULL AS ext_org WHERE FALSE")


def landed_elsewhere(q: Query) -> str:
    return outside_rows(q, "o.act = 'merged'", "pr_merged_elsewhere")


def civic_elsewhere(q: Query) -> str:
    return outside_rows(q, "o.act = 'merged' AND o.owner_kind = 'civic'", "pr_merged_elsewhere")


def government(q: Query) -> str:
    return outside_rows(q, "o.act = 'merged' AND o.owner_kind = 'government'",
                        "pr_merged_elsewhere")


def founder(q: Query) -> str:
    return outside_rows(q, "o.act = 'founded' AND o.fork = 0 AND o.others = 1", "repo_founded")


def moved_on(q: Query) -> str:
    """Merged PRs elsewhere dated after the maker's network gone date."""
    if not q.outside or q.keys != ("maker",):
        return none()
    gone = earliest(f"({gap('gone_days')(Query(q.moment, q.limits, ('maker',)))})", ("maker",),
                    q.moment, "gone")
    return f"""SELECT m.* FROM ({outside_rows(q, "o.act = 'merged'", 'pr_merged_elsewhere')}) AS m
        JOIN ({gone}) AS gone ON gone.maker = m.maker
        WHERE m.dated > gone.dated"""


# Parts several rules read: each repository's first act, the first responses to
# newcomers, the code and organising actions (the engine keeps each in a table once).
SHARED: dict[str, Callable[[Query], str]] = {
    "creators": lambda q: CREATOR_ACTS,
    "responders": first_responses,
    "roles": code_and_organising,
}

# One query per milestone of the catalogue (graphminer.milestones), by its key.
RULES: dict[str, Callable[[Query], str]] = {
    "first_contact": first_contact,
    "first_issue": first_issue,
    "first_comment": first_comment,
    "first_pr": first_pr,
    "first_landed": first_landed,
    "returning": returning,
    "long_term": long_term,
    "committer": committer,
    "maintainer": maintainer,
    "triager": triager,
    "reviewer": reviewer,
    "core": core,
    "creator": creator,
    "organiser": organiser,
    "coder_to_organiser": coder_to_organiser,
    "repo_bridge": Bridge("repo", "repo_rank"),
    "org_bridge": Bridge("org", "org_rank"),
    "inactive": gap("inactive_days"),
    "gone": gap("gone_days"),
    "returned": returned,
    "landed_elsewhere": landed_elsewhere,
    "civic_elsewhere": civic_elsewhere,
    "government": government,
    "founder": founder,
    "moved_on": moved_on,
}


# What the queries above were written for (a port of graphminer.trajectory's rules): the
# rules version and the thresholds each milestone reads. When the catalogue says otherwise
# (a rule changed, a threshold added), the columnar engine does not answer and the pandas
# implementation does (``graphminer.columnar.unsupported``).
PORTED_VERSION = "5"
PORTED_THRESHOLDS: dict[str, tuple[str, ...]] = {
    "long_term": ("long_term_days",),
    "core": ("core_share", "core_min_landed", "core_min_makers", "core_min_own",
             "core_min_own_share", "core_min_quarters", "core_max_share"),
    "organiser": ("first_response_hours", "organiser_labels"),
    "coder_to_organiser": ("shift_min_actions",),
    "repo_bridge": ("bridge_days",), "org_bridge": ("bridge_days",),
    "inactive": ("inactive_days",), "gone": ("gone_days",), "returned": ("gone_days",),
}


def unregistered(rules: dict[str, Any] | None = None) -> tuple[set[str], set[str]]:
    """(catalogue keys without a query, queries without a catalogue key): both empty."""
    registered = set(RULES if rules is None else rules)
    return set(catalogue.KEYS) - registered, registered - set(catalogue.KEYS)


# The rules whose candidates come in the events' own order: each is dated at (or a fixed
# span after) its event's time, ties by the event's place, so the earliest is the one of
# lowest place (``o3``).
IN_EVENT_ORDER = frozenset({
    "first_contact", "first_issue", "first_comment", "first_pr", "first_landed", "returning",
    "long_term", "triager", "reviewer", "coder_to_organiser", "inactive", "gone", "returned"})


def earliest(source: str, keys: tuple[str, ...], moment: int, name: str) -> str:
    """SQL: the earliest candidate of ``source`` (a table, or a query in parentheses) per
    ``keys`` (ties: ``dated``, ``t``, then the rule's ``o1, o2, o3``), dated no later than
    ``moment``, named ``name``. For rules in the events' order (``IN_EVENT_ORDER``) that is
    the lowest place, a plain aggregate; for the others the first date is found by one, and
    only the candidates of that date are ordered."""
    columns = ", ".join("r." + c for c in CANDIDATE_COLUMNS)
    if name in IN_EVENT_ORDER:
        on = " AND ".join(f"r.{key} = m.{key}" for key in keys)
        return f"""SELECT '{name}' AS milestone, {columns} FROM {source} AS r
            JOIN (SELECT {', '.join(keys)}, min(o3) AS first_o3 FROM {source} AS s
                  WHERE maker IS NOT NULL GROUP BY {', '.join(keys)}) AS m
              ON {on} AND r.o3 = m.first_o3
            WHERE r.dated <= {moment}"""
    on = " AND ".join(f"c.{key} = m.{key}" for key in keys)
    return f"""SELECT '{name}' AS milestone, {columns}
        FROM (SELECT c.*, row_number() OVER (PARTITION BY {', '.join('c.' + k for k in keys)}
                                             ORDER BY c.dated, c.t, c.o1, c.o2, c.o3) AS rk
              FROM {source} AS c
              JOIN (SELECT {', '.join(keys)}, min(dated) AS first_dated FROM {source} AS s
                    WHERE maker IS NOT NULL GROUP BY {', '.join(keys)}) AS m
                ON {on} AND c.dated = m.first_dated) AS r
        WHERE r.rk = 1 AND r.dated <= {moment}"""


def scope_keys(scope: str) -> tuple[str, ...]:
    """The key columns of a scope (``network``, ``org`` or ``repo``)."""
    if scope not in SCOPE_COLUMNS:
        raise ValueError(f"scope must be one of {sorted(SCOPE_COLUMNS)}, not {scope!r}")
    return SCOPE_COLUMNS[scope]


def milestone_sql(name: str, q: Query) -> str:
    """SQL: milestone ``name`` per scope key of ``q``: its earliest candidate up to as_of."""
    return earliest(f"({RULES[name](q)})", q.keys, q.moment, name)
