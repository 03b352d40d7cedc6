"""The trajectory rules as set-based queries: one SQL query per milestone of the catalogue.

``graphminer.milestones`` stays the catalogue; ``RULES`` below registers, for each of its
keys, a function returning the SQL of that milestone's *candidate acts* (as
``graphminer.trajectory.RULES`` registers pandas functions), over the table ``ev``: the
events up to as_of with bots removed, each with its place ``seq`` in the one order both
implementations share and ``someone_else`` (``PREPARE``). A milestone is the earliest
candidate per scope key (``EARLIEST``). The whole-scope rules (returning, long_term,
coder_to_organiser, inactive, gone, returned) are given the scope's key columns.

Every candidate row has the same columns (``CANDIDATE_COLUMNS``): the maker who reaches
the milestone, the triggering event's repository and org (integer codes), ``at`` (the
milestone's date, epoch seconds), the event's kind and target, ``t`` (its time), ``by``
(whose act it was), and ``o1, o2, o3``: where two candidates have the same ``at`` and
``t``, the one the pandas implementation sees first (its rows' order) wins; each rule says
which order that is. Numbered interpretations are ``graphminer.trajectory``'s.

The SQL is plain (CTEs, joins on equality, window functions, CASE), written in DuckDB's
dialect and checked to compile for ClickHouse with sqlglot (``graphminer.columnar.clickhouse``):
the same queries can run where GH Archive's events live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphminer import milestones as catalogue

TRIAGE = "('labeled', 'assigned', 'milestoned')"
DAY = 86_400
CANDIDATE_COLUMNS = ("maker", "repo_id", "org", "dated", "kind", "target_type", "target_num", "sha",
                     "t", "by_maker", "o1", "o2", "o3", "ext_repo", "ext_org")
SCOPE_COLUMNS = {"network": ("maker",), "org": ("maker", "org"), "repo": ("maker", "repo_id")}

# The events as the rules see them (trajectory.rule_events): up to as_of, bots removed,
# each with its place in the shared order and whether its item is someone else's.
PREPARE = """
SELECT e.t, e.month_no, e.quarter_no, e.maker, e.repo_id, r.org_code AS org, r.repo_rank,
       r.org_rank, e.kind, e.target_type, e.target_num, e.sha, e.subkind, e.label,
       e.by_commit, e.landed, e.action, e.community, e.seq,
       e.target_author IS NOT NULL AND e.target_author <> e.maker
           AND NOT coalesce(ta.is_bot, FALSE) AS someone_else
FROM events e
JOIN makers m ON m.code = e.maker
JOIN (SELECT repo_id, org_code, dense_rank() OVER (ORDER BY full_name) AS repo_rank,
             dense_rank() OVER (ORDER BY org) AS org_rank FROM repos) r ON r.repo_id = e.repo_id
LEFT JOIN makers ta ON ta.code = e.target_author
WHERE e.t <= {moment} AND NOT m.is_bot"""


@dataclass
class Query:
    """What a rule's SQL is written for: the moment, the thresholds and the scope's keys."""

    moment: int
    limits: dict[str, Any]
    keys: tuple[str, ...]
    outside: bool = False  # whether the table ``outside`` holds followed makers' acts
    shared: dict[str, str] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        return ", ".join(self.keys)


def rows(where: str, o1: str = "0", source: str = "ev") -> str:
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


# --- repo-scope rules -------------------------------------------------------------------

def first_contact(q: Query) -> str:
    """Every action."""
    return rows("action")


def first_issue(q: Query) -> str:
    return rows("kind = 'issue_opened'")


def first_comment(q: Query) -> str:
    return rows("kind IN ('comment', 'review_comment')")


def first_pr(q: Query) -> str:
    return rows("kind = 'pr_opened'")


def first_landed(q: Query) -> str:
    return rows("landed")


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


def maintainer(q: Query) -> str:
    """Merging or closing someone else's item, approving a PR later merged (no later than
    as_of), and, after others landed, a release, a direct push or a merge commit."""
    approvals = """
        SELECT a.* FROM (SELECT * FROM ev WHERE kind = 'review' AND subkind = 'APPROVED'
                         AND someone_else) AS a
        JOIN (SELECT repo_id, target_type, target_num, min(t) AS merged_at FROM ev
              WHERE kind = 'pr_merged' GROUP BY repo_id, target_type, target_num) AS m
          ON m.repo_id = a.repo_id AND m.target_type = a.target_type
         AND m.target_num = a.target_num
        WHERE m.merged_at >= a.t"""
    return union(
        rows("kind = 'merge_performed' AND someone_else"),
        rows("kind = 'issue_event' AND subkind = 'closed' AND someone_else AND NOT by_commit"),
        rows("TRUE", source=f"({approvals}) AS approvals"),
        rows("TRUE", source="(" + after_others_landed("kind = 'release'") + ") AS releases"),
        rows("TRUE", source="(" + after_others_landed("kind = 'committed'") + ") AS pushes"),
    )


def triager(q: Query) -> str:
    return rows(f"kind = 'issue_event' AND subkind IN {TRIAGE} AND someone_else")


def reviewer(q: Query) -> str:
    return rows("kind = 'review' AND someone_else")


def core(q: Query) -> str:
    """Per repo-quarter with a team, the shortest prefix of makers (most landed first, ties
    by key) holding core_share of its landed contributions, those with core_min_own;
    dated at the maker's first landed contribution there that quarter; ties between
    repos by repo name (interpretation 11)."""
    limits = q.limits
    return f"""
        SELECT e.maker, e.repo_id, e.org, e.t AS dated, e.kind, e.target_type, e.target_num, e.sha,
               e.t, e.maker AS by_maker, e.repo_rank AS o1, '' AS o2, e.seq AS o3,
               NULL AS ext_repo, NULL AS ext_org
        FROM (SELECT repo_id, quarter_no, maker, n, total, first_seq,
                     sum(n) OVER (PARTITION BY repo_id, quarter_no ORDER BY n DESC, key
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - n AS before
              FROM (SELECT c.*, sum(n) OVER (PARTITION BY repo_id, quarter_no) AS total,
                           count(*) OVER (PARTITION BY repo_id, quarter_no) AS team
                    FROM (SELECT repo_id, quarter_no, maker, count(*) AS n, min(seq) AS first_seq
                          FROM ev WHERE landed GROUP BY repo_id, quarter_no, maker) AS c) AS counted
              JOIN makers ON makers.code = counted.maker
              WHERE total >= {int(limits['core_min_landed'])}
                AND team >= {int(limits['core_min_makers'])}) AS ordered
        JOIN ev e ON e.seq = ordered.first_seq
        WHERE ordered.before < {float(limits['core_share'])} * ordered.total - 1e-9
          AND ordered.n >= {int(limits['core_min_own'])}"""


CREATOR_ACTS = """
    SELECT * FROM (
        SELECT *, row_number() OVER (
                PARTITION BY repo_id ORDER BY t, kind <> 'commit', coalesce(sha, ''),
                target_num) AS rk
        FROM ev WHERE (kind = 'commit' AND landed) OR kind IN ('issue_opened', 'pr_opened')
    ) AS firsts WHERE rk = 1"""


def creator(q: Query) -> str:
    """Each repository's first act: its earliest landed commit (ties by sha) or opened issue
    or PR (commits first, then lower number)."""
    return f"""SELECT maker, repo_id, org, t AS dated, kind, target_type, target_num, sha, t,
        maker AS by_maker, CASE WHEN kind = 'commit' THEN 0 ELSE 1 END AS o1,
        coalesce(sha, '') AS o2, coalesce(target_num, 0) AS o3, NULL AS ext_repo,
        NULL AS ext_org FROM ({CREATOR_ACTS}) AS creators"""


def first_responses(q: Query) -> str:
    """The first responses to items that were their author's first contact
    (interpretation 7): issue comments, review comments and reviews by someone other than
    the author, at or after creation, the earliest second's, within first_response_hours."""
    hours = int(q.limits["first_response_hours"])
    return f"""
        SELECT * FROM (
            SELECT r.*, d.created_at,
                   min(r.t) OVER (PARTITION BY r.repo_id, r.target_type, r.target_num) AS earliest
            FROM ev r
            JOIN (SELECT o.repo_id, o.target_type, o.target_num, o.maker AS author,
                         o.t AS created_at
                  FROM ev o
                  JOIN (SELECT maker, min(t) AS fc FROM ev WHERE action GROUP BY maker) AS nfc
                    ON nfc.maker = o.maker AND nfc.fc = o.t
                  WHERE o.kind IN ('issue_opened', 'pr_opened')) AS d
              ON d.repo_id = r.repo_id AND d.target_type = r.target_type
             AND d.target_num = r.target_num
            WHERE r.kind IN ('comment', 'review_comment', 'review') AND r.maker <> d.author
              AND r.t >= d.created_at
        ) AS responses
        WHERE t = earliest AND t - created_at <= {hours * 3600}"""


def organiser(q: Query) -> str:
    """First responder, an organiser label on someone else's issue, an issue of theirs
    closed as completed by someone else, creator of a repo another maker acted in,
    community files (interpretation 8, 9)."""
    labels = ", ".join("'" + label.lower().replace("'", "''") + "'"
                       for label in sorted({label.lower() for label in q.limits["organiser_labels"]}))
    completed = """
        SELECT i.maker, c.repo_id, c.org, c.t AS dated, c.kind, c.target_type, c.target_num, c.sha,
               c.t, c.maker AS by_maker, 0 AS o1, '' AS o2, c.seq AS o3, NULL AS ext_repo,
               NULL AS ext_org
        FROM (SELECT * FROM (
                  SELECT *, row_number() OVER (PARTITION BY repo_id, target_type, target_num
                                               ORDER BY seq DESC) AS rk
                  FROM ev WHERE kind = 'issue_event' AND subkind = 'closed') AS closes
              WHERE rk = 1) AS c
        JOIN (SELECT repo_id, target_type, target_num, maker FROM ev
              WHERE kind = 'issue_opened' AND subkind = 'completed') AS i
          ON i.repo_id = c.repo_id AND i.target_type = c.target_type
         AND i.target_num = c.target_num
        WHERE c.maker <> i.maker"""
    followed = f"""
        SELECT creator AS maker, repo_id, org, t AS dated, kind, target_type, target_num, sha, t,
               maker AS by_maker, 0 AS o1, '' AS o2, seq AS o3, NULL AS ext_repo,
               NULL AS ext_org
        FROM (SELECT a.*, c.maker AS creator,
                     row_number() OVER (PARTITION BY a.repo_id ORDER BY a.seq) AS rk
              FROM ev a JOIN ({CREATOR_ACTS}) AS c ON c.repo_id = a.repo_id
              WHERE a.action AND a.maker <> c.maker AND a.t >= c.t) AS joined
        WHERE rk = 1"""
    label_sql = (f"kind = 'issue_event' AND subkind = 'labeled' AND someone_else "
                 f"AND target_type = 'issue' AND lower(coalesce(label, '')) IN ({labels})"
                 if labels else "FALSE")
    return union(
        rows("TRUE", source=f"({first_responses(q)}) AS responders"),
        rows(label_sql),
        completed,
        followed,
        rows("community"),
    )


def bridge(unit: str, rank: str) -> Callable[[Query], str]:
    """repo_bridge (``unit`` repo_id) or org_bridge (``unit`` org): actions while the maker
    acted in another unit within bridge_days before, or in the same second after
    (interpretation 6); the first per maker, repo and quarter, ties by the unit's name."""
    def sql(q: Query) -> str:
        window = int(q.limits["bridge_days"]) * DAY
        order = f"t, {rank}, seq"
        return f"""
            SELECT maker, repo_id, org, t AS dated, kind, target_type, target_num, sha, t,
                   maker AS by_maker, {rank} AS o1, '' AS o2, seq AS o3, NULL AS ext_repo,
                   NULL AS ext_org
            FROM (
                SELECT *, row_number() OVER (PARTITION BY maker, repo_id, quarter_no
                                             ORDER BY {order}) AS rk
                FROM (
                    SELECT *,
                           max(run_prev) OVER (PARTITION BY maker, run) AS prev_other,
                           max(run_next) OVER (PARTITION BY maker, run) AS next_other
                    FROM (
                        SELECT *, sum(CASE WHEN new_run THEN 1 ELSE 0 END) OVER (
                                   PARTITION BY maker ORDER BY {order}
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run,
                               CASE WHEN new_run AND position > 1 THEN prev_t END AS run_prev,
                               CASE WHEN ends_run THEN next_t END AS run_next
                        FROM (
                            SELECT *,
                                   position = 1 OR {unit} <> prev_unit AS new_run,
                                   position < total AND {unit} <> next_unit AS ends_run
                            FROM (
                                SELECT *,
                                       row_number() OVER w AS position,
                                       count(*) OVER (PARTITION BY maker) AS total,
                                       lag({unit}) OVER w AS prev_unit, lag(t) OVER w AS prev_t,
                                       lead({unit}) OVER w AS next_unit, lead(t) OVER w AS next_t
                                FROM ev WHERE action
                                WINDOW w AS (PARTITION BY maker ORDER BY {order})
                            ) AS placed
                        ) AS flagged
                    ) AS runs
                ) AS spread
                WHERE t - prev_other <= {window} OR t = next_other
            ) AS bridging
            WHERE rk = 1"""
    return sql


# --- whole-scope rules --------------------------------------------------------------------

def returning(q: Query) -> str:
    """Landed contributions in a later calendar month than the scope's first landed."""
    return rows("month_no > first_month", source=f"""(SELECT *, min(month_no) OVER (
        PARTITION BY {q.partition}) AS first_month FROM ev WHERE landed) AS l""")


def long_term(q: Query) -> str:
    """Landed contributions at least long_term_days after the scope's first landed."""
    span = int(q.limits["long_term_days"]) * DAY
    return rows(f"t - first_t >= {span}", source=f"""(SELECT *, min(t) OVER (
        PARTITION BY {q.partition}) AS first_t FROM ev WHERE landed) AS l""")


def gap(days_key: str) -> Callable[[Query], str]:
    """inactive / gone: the last actions before a gap of >= days (or before as_of), dated
    action + days; the trigger is the gap (kind ``gap``) at that date (interpretation 5)."""
    def sql(q: Query) -> str:
        span = int(q.limits[days_key]) * DAY
        return f"""SELECT maker, repo_id, org, t + {span} AS dated, 'gap' AS kind, target_type,
            target_num, sha, t + {span} AS t, maker AS by_maker, 0 AS o1, '' AS o2, seq AS o3,
            NULL AS ext_repo, NULL AS ext_org
            FROM (SELECT *, CASE WHEN row_number() OVER w < count(*) OVER (PARTITION BY {q.partition})
                                 THEN lead(t) OVER w ELSE {q.moment} END AS following
                  FROM ev WHERE action
                  WINDOW w AS (PARTITION BY {q.partition} ORDER BY t, seq)) AS a
            WHERE following - t >= {span}"""
    return sql


def returned(q: Query) -> str:
    """Actions after a gap of >= gone_days."""
    span = int(q.limits["gone_days"]) * DAY
    return rows(f"position > 1 AND t - previous >= {span}", source=f"""(
        SELECT *, row_number() OVER w AS position, lag(t) OVER w AS previous
        FROM ev WHERE action WINDOW w AS (PARTITION BY {q.partition} ORDER BY t, seq)) AS a""")


def coder_to_organiser(q: Query) -> str:
    """The first quarter mostly organising after an earlier quarter mostly coding, dated at
    the maker's first organising action in that quarter (interpretation 10)."""
    keys, least = q.partition, int(q.limits["shift_min_actions"])
    joined = " AND ".join(f"s.{key} = r.{key}" for key in q.keys)
    return f"""
        WITH roles AS (
            SELECT *, organising0 AND NOT code AS organising FROM (
                SELECT ev.*,
                       (kind = 'commit' AND landed) OR kind = 'pr_opened' AS code,
                       kind = 'issue_opened'
                       OR (kind = 'issue_event' AND subkind IN {TRIAGE} AND someone_else)
                       OR (kind = 'review' AND someone_else)
                       OR seq IN (SELECT seq FROM ({first_responses(q)}) AS fr) AS organising0
                FROM ev) AS flagged
            WHERE code OR organising0),
        per_quarter AS (
            SELECT {keys}, quarter_no,
                   sum(CASE WHEN code THEN 1 ELSE 0 END) AS n_code,
                   sum(CASE WHEN organising THEN 1 ELSE 0 END) AS n_org
            FROM roles GROUP BY {keys}, quarter_no),
        first_coding AS (
            SELECT {keys}, min(quarter_no) AS first_coding FROM per_quarter
            WHERE n_code + n_org >= {least} AND n_code * 2 > n_code + n_org
            GROUP BY {keys}),
        shifted AS (
            SELECT p.{keys.replace(', ', ', p.')}, min(p.quarter_no) AS quarter_no
            FROM per_quarter p JOIN first_coding f USING ({keys})
            WHERE p.n_code + p.n_org >= {least} AND p.n_org * 2 >= p.n_code + p.n_org
              AND p.quarter_no > f.first_coding
            GROUP BY p.{keys.replace(', ', ', p.')})
        SELECT r.maker, r.repo_id, r.org, r.t AS dated, r.kind, r.target_type, r.target_num, r.sha,
               r.t, r.maker AS by_maker, 0 AS o1, '' AS o2, r.seq AS o3, NULL AS ext_repo,
               NULL AS ext_org
        FROM (SELECT *, row_number() OVER (PARTITION BY {keys}, quarter_no ORDER BY seq) AS rk
              FROM roles WHERE organising) AS r
        JOIN shifted s ON {joined} AND s.quarter_no = r.quarter_no
        WHERE r.rk = 1"""


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
    gone = gap("gone_days")(Query(q.moment, q.limits, ("maker",)))
    return f"""SELECT * FROM ({outside_rows(q, "o.act = 'merged'", 'pr_merged_elsewhere')}) AS m
        JOIN (SELECT maker AS gone_maker, dated AS gone_at FROM (
                  SELECT maker, dated, row_number() OVER (PARTITION BY maker ORDER BY dated, t, o3) AS rk
                  FROM ({gone}) AS g) AS ranked WHERE rk = 1) AS gone
          ON gone.gone_maker = m.maker
        WHERE m.dated > gone.gone_at"""


# One query per milestone of the catalogue (graphminer.milestones), by its key.
RULES: dict[str, Callable[[Query], str]] = {
    "first_contact": first_contact,
    "first_issue": first_issue,
    "first_comment": first_comment,
    "first_pr": first_pr,
    "first_landed": first_landed,
    "returning": returning,
    "long_term": long_term,
    "maintainer": maintainer,
    "triager": triager,
    "reviewer": reviewer,
    "core": core,
    "creator": creator,
    "organiser": organiser,
    "coder_to_organiser": coder_to_organiser,
    "repo_bridge": bridge("repo_id", "repo_rank"),
    "org_bridge": bridge("org", "org_rank"),
    "inactive": gap("inactive_days"),
    "gone": gap("gone_days"),
    "returned": returned,
    "landed_elsewhere": landed_elsewhere,
    "civic_elsewhere": civic_elsewhere,
    "government": government,
    "founder": founder,
    "moved_on": moved_on,
}


def unregistered(rules: dict[str, Any] | None = None) -> tuple[set[str], set[str]]:
    """(catalogue keys without a query, queries without a catalogue key): both empty."""
    registered = set(RULES if rules is None else rules)
    return set(catalogue.KEYS) - registered, registered - set(catalogue.KEYS)


def earliest(source: str, keys: tuple[str, ...], moment: int, name: str) -> str:
    """SQL: the earliest candidate of ``source`` (a table, or a query in parentheses) per
    ``keys`` (ties: ``dated``, ``t``, then the rule's ``o1, o2, o3``), dated no later than
    ``moment``, named ``name``. The minimum date is found first by a plain aggregate, so
    only the candidates of that date are ordered."""
    on = " AND ".join(f"c.{key} = m.{key}" for key in keys)
    return f"""SELECT '{name}' AS milestone, {', '.join('r.' + c for c in CANDIDATE_COLUMNS)}
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
