"""The GH Archive selection, written once: which public events graphminer reads and which of
their fields, as SQL for the three engines that hold the archive (DESIGN.md "Scale").

- **DuckDB** reads hourly files in-process with ``read_json`` and explicit column types
  (the payload fields it needs as STRUCTs): ``batch_sql`` (Events API files, 2015 on) and
  the pre-2015 Timeline files reshaped into the same columns (``TIMELINE_SELECT``).
- **ClickHouse** holds the whole archive in its published ``github_events`` table (its
  public playground among others): ``clickhouse_sql``. That table keeps logins and names,
  not GitHub ids, nor commit authors: the columns it lacks are NULL there.
- **BigQuery** hosts it as the ``githubarchive`` dataset: ``bigquery_sql``.

Each output column is one ``Field`` with its expression in each dialect, so the three
queries select the same rows with the same columns; ``SELECTION`` are the columns every
engine gives (named as in ``github_events``), ``IDS`` those only the raw JSON holds.
``GITHUB_EVENTS_TABLE`` and ``github_events_load_sql`` are ClickHouse's published schema
and loader mapping (ClickHouse/github-explorer's ``update.sh``, Apache-2.0), used to load
hourly files into a ClickHouse (or chDB) of one's own. Imports nothing of graphminer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# --- eras of the archive (FAKEHUB.md "GH Archive"; SOURCE.md) ---------------------------------

EVENTS_API_FROM = datetime(2015, 1, 1, tzinfo=UTC)      # before: GitHub's Timeline API
CRAWL_HOUR_FROM = datetime(2025, 5, 24, tzinfo=UTC)     # events filed by crawl hour, some missing
TRIMMED_FROM = datetime(2025, 10, 7, tzinfo=UTC)        # payloads trimmed by GitHub
ERAS = ("timeline", "events", "crawl", "trimmed")


def era_of(moment: datetime) -> str:
    """The archive's era at ``moment`` (UTC).

    >>> era_of(datetime(2014, 12, 31, 23, tzinfo=UTC)), era_of(datetime(2015, 1, 1, tzinfo=UTC))
    ('timeline', 'events')
    >>> era_of(datetime(2025, 6, 1, tzinfo=UTC)), era_of(datetime(2025, 10, 7, tzinfo=UTC))
    ('crawl', 'trimmed')
    """
    if moment < EVENTS_API_FROM:
        return "timeline"
    if moment < CRAWL_HOUR_FROM:
        return "events"
    return "crawl" if moment < TRIMMED_FROM else "trimmed"


# --- DuckDB: the columns read from each line ------------------------------------------------------

USER = "STRUCT(id BIGINT, login VARCHAR, type VARCHAR)"
COMMIT = 'STRUCT(sha VARCHAR, author STRUCT(name VARCHAR, email VARCHAR), message VARCHAR, "distinct" BOOLEAN)'
PULL = (f'STRUCT(id BIGINT, number BIGINT, "user" {USER}, merged BOOLEAN, merged_by {USER}, '
        "merged_at VARCHAR, created_at VARCHAR, closed_at VARCHAR, author_association VARCHAR, "
        "merge_commit_sha VARCHAR, head STRUCT(sha VARCHAR), base STRUCT(repo STRUCT(id BIGINT, default_branch VARCHAR)))")
ISSUE = (f'STRUCT(id BIGINT, number BIGINT, "user" {USER}, author_association VARCHAR, '
         "created_at VARCHAR, closed_at VARCHAR, state_reason VARCHAR, "
         "pull_request STRUCT(url VARCHAR))")
COMMENT = (f'STRUCT(id BIGINT, "user" {USER}, author_association VARCHAR, created_at VARCHAR, '
           "pull_request_review_id BIGINT, in_reply_to_id BIGINT)")
REVIEW = f'STRUCT(id BIGINT, "user" {USER}, author_association VARCHAR, state VARCHAR, submitted_at VARCHAR)'
RELEASE = (f"STRUCT(id BIGINT, tag_name VARCHAR, name VARCHAR, author {USER}, draft BOOLEAN, "
           "prerelease BOOLEAN, created_at VARCHAR, published_at VARCHAR)")

# The Events API's shape (2015 on; every line the same): the types of the selected events'
# columns (``duck_picked_sql``).
PAYLOAD_HEAD = ('action VARCHAR, size BIGINT, distinct_size BIGINT, ref VARCHAR, ref_type VARCHAR, '
                f'head VARCHAR, "before" VARCHAR, commits {COMMIT}[], master_branch VARCHAR, number BIGINT, '
                f"pull_request {PULL}, issue {ISSUE}, comment {COMMENT}")
EVENTS_SHAPE: dict[str, str] = {
    "id": "VARCHAR", "type": "VARCHAR", "created_at": "VARCHAR",
    "actor": "STRUCT(id BIGINT, login VARCHAR)", "repo": "STRUCT(id BIGINT, name VARCHAR)",
    "org": "STRUCT(id BIGINT, login VARCHAR)",
    "payload": f"STRUCT({PAYLOAD_HEAD}, review {REVIEW}, release {RELEASE}, member {USER})",
}
# What read_json declares: the same, except the payload objects that neither the summary's
# counts nor the filter read (a review, a release, a member: rare, and needed only for the
# selected events) are kept as JSON text, typed in ``duck_picked_sql`` for the selected
# events alone. Every declared field costs on every event read, whether the query reads it
# or not and whether the event has it or not (about 5 ns an event a field): these three
# objects are 22 of the payload's 86 fields.
EVENTS_COLUMNS: dict[str, str] = {
    **EVENTS_SHAPE, "payload": f"STRUCT({PAYLOAD_HEAD}, review JSON, release JSON, member JSON)"}

# Timeline API (before 2015), as ClickHouse's and OpenDigger's loaders read it: the actor a
# login (``actor_attributes`` beside it, no id), ``repository`` instead of ``repo``, no event id,
# a push's commits as ``shas`` ([sha, email, message, name, distinct]), an issue event's
# ``issue`` the issue id with ``number`` beside it, a comment event's ``comment_id`` and
# ``issue_id``, a member a login.
TIMELINE_COLUMNS: dict[str, str] = {
    "type": "VARCHAR", "created_at": "VARCHAR", "actor": "VARCHAR",
    "actor_attributes": "STRUCT(login VARCHAR, type VARCHAR)",
    "repository": "STRUCT(id BIGINT, name VARCHAR, owner VARCHAR, organization VARCHAR, master_branch VARCHAR)",
    "payload": ("STRUCT(action VARCHAR, size BIGINT, ref VARCHAR, ref_type VARCHAR, head VARCHAR, "
                "shas JSON[], master_branch VARCHAR, number BIGINT, issue BIGINT, issue_id BIGINT, "
                f"comment_id BIGINT, pull_request {PULL}, comment {COMMENT}, release JSON, "
                "member VARCHAR)"),
}

# The Timeline columns reshaped into the Events API's (the fields the selection reads); an
# issue's author is the actor of its ``opened`` event only (a closer is not the author).
TIMELINE_SELECT = """
    NULL::VARCHAR AS id, type, created_at,
    struct_pack(id := NULL::BIGINT, login := coalesce(actor, actor_attributes.login)) AS actor,
    struct_pack(id := repository.id, name := repository.owner || '/' || repository.name) AS repo,
    struct_pack(id := NULL::BIGINT, login := repository.organization) AS org,
    struct_pack(action := payload.action, size := payload.size,
        distinct_size := NULL::BIGINT, ref := payload.ref, ref_type := payload.ref_type,
        head := payload.head, "before" := NULL::VARCHAR,
        commits := list_transform(payload.shas, lambda s: struct_pack(sha := s->>0,
            author := struct_pack(name := s->>3, email := s->>1), message := s->>2,
            "distinct" := (s->>4)::BOOLEAN)),
        master_branch := coalesce(payload.master_branch, repository.master_branch),
        number := payload.number, pull_request := payload.pull_request,
        issue := CASE WHEN payload.issue IS NOT NULL OR payload.issue_id IS NOT NULL THEN struct_pack(
            id := coalesce(payload.issue, payload.issue_id), number := payload.number,
            "user" := CASE WHEN type = 'IssuesEvent' AND payload.action = 'opened' THEN struct_pack(id := NULL::BIGINT,
                login := coalesce(actor, actor_attributes.login), type := NULL::VARCHAR) END,
            author_association := NULL::VARCHAR, created_at := NULL::VARCHAR,
            closed_at := NULL::VARCHAR, state_reason := NULL::VARCHAR,
            pull_request := NULL::STRUCT(url VARCHAR)) END,
        comment := CASE WHEN payload.comment_id IS NOT NULL THEN struct_pack(id := payload.comment_id,
            "user" := struct_pack(id := NULL::BIGINT, login := coalesce(actor, actor_attributes.login),
                type := NULL::VARCHAR),
            author_association := NULL::VARCHAR, created_at := created_at,
            pull_request_review_id := NULL::BIGINT, in_reply_to_id := NULL::BIGINT)
            ELSE payload.comment END,
        review := NULL::JSON, release := payload.release,
        member := CASE WHEN payload.member IS NOT NULL THEN to_json(struct_pack(id := NULL::BIGINT,
            login := CASE WHEN starts_with(payload.member, '{') THEN payload.member::JSON->>'login'
                ELSE payload.member END, type := NULL::VARCHAR)) END) AS payload
"""


def columns_spec(columns: dict[str, str]) -> str:
    """A ``read_json`` ``columns=`` argument.

    >>> columns_spec({"id": "VARCHAR"})
    "{'id': 'VARCHAR'}"
    """
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"


_NAME = re.compile(r'\s*(?:"([^"]+)"|(\w+))\s*')


def json_structure(kind: str) -> str:
    """A type written as above (``STRUCT(a T, "b" T)``, ``T[]``, a scalar) as the structure
    ``json_transform`` takes: DuckDB's cast from JSON to a STRUCT refuses keys the STRUCT
    does not name, ``json_transform`` leaves them out (a raw review or release has dozens).

    >>> json_structure('STRUCT(id BIGINT, "user" STRUCT(login VARCHAR), tags VARCHAR[])')
    '{"id": "BIGINT", "user": {"login": "VARCHAR"}, "tags": ["VARCHAR"]}'
    """
    def parse(at: int) -> tuple[Any, int]:
        if kind.startswith("STRUCT(", at):
            fields, at = {}, at + len("STRUCT(")
            while True:
                name = _NAME.match(kind, at)
                fields[name.group(1) or name.group(2)], at = parse(name.end())
                at += 1  # past the comma or the closing parenthesis
                if kind[at - 1] == ")":
                    break
            shape: Any = fields
        else:
            word = _NAME.match(kind, at)
            shape, at = word.group(2), word.end()
        while kind.startswith("[]", at):
            shape, at = [shape], at + 2
        return shape, at

    return json.dumps(parse(0)[0])


# --- the selected columns, in each dialect ----------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """One output column: its expression in DuckDB (over the Events-shaped columns), in
    ClickHouse (over ``github_events``; None where that table lacks it) and in BigQuery
    (over ``githubarchive``, whose ``payload`` is a JSON string)."""

    name: str
    duck: str
    clickhouse: str | None
    bigquery: str


def _bq(path: str) -> str:
    return f"JSON_VALUE(payload, '$.{path}')"


def _ch_null(column: str, empty: str = "''") -> str:
    return f"nullIf({column}, {empty})"


# The columns every engine gives, named as in github_events (whose empty values, '' or 0
# or 'none', are NULL here; an author_association of NONE is no association).
SELECTION: tuple[Field, ...] = (
    Field("event_type", "type", "toString(e.event_type)", "type"),
    Field("created_at", "strftime(created_at::TIMESTAMPTZ, '%Y-%m-%dT%H:%M:%SZ')",
          "formatDateTime(e.created_at, '%Y-%m-%dT%H:%i:%SZ', 'UTC')",
          "FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', created_at)"),
    Field("actor_login", "actor.login", _ch_null("e.actor_login"), "actor.login"),
    Field("repo_name", "repo.name", _ch_null("e.repo_name"), "repo.name"),
    Field("action", "payload.action", "nullIf(toString(e.action), 'none')", _bq("action")),
    Field("number", "coalesce(payload.issue.number, payload.pull_request.number, payload.number)",
          "nullIf(e.number, 0)",
          f"CAST(COALESCE({_bq('issue.number')}, {_bq('pull_request.number')}, {_bq('number')}) AS INT64)"),
    Field("comment_id", "payload.comment.id", "nullIf(e.comment_id, 0)",
          f"CAST({_bq('comment.id')} AS INT64)"),
    Field("creator_user_login",
          'coalesce(payload.comment."user".login, payload.issue."user".login, payload.pull_request."user".login)',
          _ch_null("e.creator_user_login"),
          f"COALESCE({_bq('comment.user.login')}, {_bq('issue.user.login')}, {_bq('pull_request.user.login')})"),
    Field("author_association",
          "nullif(coalesce(payload.review.author_association, payload.issue.author_association, "
          "payload.pull_request.author_association), 'NONE')",
          "nullIf(toString(e.author_association), 'NONE')",
          f"NULLIF(COALESCE({_bq('review.author_association')}, {_bq('issue.author_association')}, "
          f"{_bq('pull_request.author_association')}), 'NONE')"),
    Field("merged", "coalesce(payload.pull_request.merged::INTEGER, 0)", "toInt32(e.merged)",
          f"IF({_bq('pull_request.merged')} = 'true', 1, 0)"),
    Field("merged_by", "payload.pull_request.merged_by.login", _ch_null("e.merged_by"),
          _bq("pull_request.merged_by.login")),
    Field("merged_at", "strftime(payload.pull_request.merged_at::TIMESTAMPTZ, '%Y-%m-%dT%H:%M:%SZ')",
          "if(e.merged_at = toDateTime(0), NULL, formatDateTime(e.merged_at, '%Y-%m-%dT%H:%i:%SZ', 'UTC'))",
          _bq("pull_request.merged_at")),
    Field("ref", "payload.ref", _ch_null("e.ref"), _bq("ref")),
    Field("ref_type", "payload.ref_type", "nullIf(toString(e.ref_type), 'none')", _bq("ref_type")),
    Field("push_size", "nullif(payload.size, 0)", "nullIf(e.push_size, 0)",
          f"NULLIF(CAST({_bq('size')} AS INT64), 0)"),
    Field("push_distinct_size", "nullif(payload.distinct_size, 0)", "nullIf(e.push_distinct_size, 0)",
          f"NULLIF(CAST({_bq('distinct_size')} AS INT64), 0)"),
    Field("member_login", "payload.member.login", _ch_null("e.member_login"), _bq("member.login")),
    Field("release_tag_name", "payload.release.tag_name", _ch_null("e.release_tag_name"),
          _bq("release.tag_name")),
    Field("review_state", "lower(payload.review.state)", "nullIf(toString(e.review_state), 'none')",
          f"LOWER({_bq('review.state')})"),
)

# What only the raw JSON holds (DuckDB, BigQuery): GitHub's ids, commit authors, dates.
IDS: tuple[Field, ...] = (
    Field("event_id", "id::BIGINT", None, "CAST(id AS INT64)"),
    Field("actor_id", "actor.id", None, "actor.id"),
    Field("repo_id", "repo.id", None, "repo.id"),
    Field("org_login", "org.login", None, "org.login"),
    Field("creator_user_id",
          'coalesce(payload.comment."user".id, payload.issue."user".id, payload.pull_request."user".id)',
          None, f"CAST(COALESCE({_bq('comment.user.id')}, {_bq('issue.user.id')}, {_bq('pull_request.user.id')}) AS INT64)"),
    Field("creator_type",
          'coalesce(payload.comment."user".type, payload.issue."user".type, payload.pull_request."user".type)',
          None, f"COALESCE({_bq('comment.user.type')}, {_bq('issue.user.type')}, {_bq('pull_request.user.type')})"),
    Field("item_user_id", 'coalesce(payload.issue."user".id, payload.pull_request."user".id)', None,
          f"CAST(COALESCE({_bq('issue.user.id')}, {_bq('pull_request.user.id')}) AS INT64)"),
    Field("item_user_login", 'coalesce(payload.issue."user".login, payload.pull_request."user".login)', None,
          f"COALESCE({_bq('issue.user.login')}, {_bq('pull_request.user.login')})"),
    Field("item_user_type", 'coalesce(payload.issue."user".type, payload.pull_request."user".type)', None,
          f"COALESCE({_bq('issue.user.type')}, {_bq('pull_request.user.type')})"),
    Field("comment_association", "nullif(payload.comment.author_association, 'NONE')", None,
          f"NULLIF({_bq('comment.author_association')}, 'NONE')"),
    Field("merged_by_id", "payload.pull_request.merged_by.id", None,
          f"CAST({_bq('pull_request.merged_by.id')} AS INT64)"),
    Field("item_id", "payload.issue.id", None, f"CAST({_bq('issue.id')} AS INT64)"),
    Field("is_pr", "payload.pull_request.number IS NOT NULL OR payload.issue.pull_request.url IS NOT NULL",
          None, f"{_bq('pull_request.number')} IS NOT NULL OR {_bq('issue.pull_request.url')} IS NOT NULL"),
    Field("item_created_at", "coalesce(payload.pull_request.created_at, payload.issue.created_at)", None,
          f"COALESCE({_bq('pull_request.created_at')}, {_bq('issue.created_at')})"),
    Field("closed_at", "coalesce(payload.pull_request.closed_at, payload.issue.closed_at)", None,
          f"COALESCE({_bq('pull_request.closed_at')}, {_bq('issue.closed_at')})"),
    Field("state_reason", "payload.issue.state_reason", None, _bq("issue.state_reason")),
    Field("pr_id", "payload.pull_request.id", None, f"CAST({_bq('pull_request.id')} AS INT64)"),
    Field("pr_user_present", 'payload.pull_request."user".id IS NOT NULL', None,
          f"{_bq('pull_request.user.id')} IS NOT NULL"),
    Field("merge_commit_sha", "payload.pull_request.merge_commit_sha", None, _bq("pull_request.merge_commit_sha")),
    Field("head_sha", "coalesce(payload.pull_request.head.sha, payload.head)", None,
          f"COALESCE({_bq('pull_request.head.sha')}, {_bq('head')})"),
    Field("default_branch", "coalesce(payload.master_branch, payload.pull_request.base.repo.default_branch)",
          None, f"COALESCE({_bq('master_branch')}, {_bq('pull_request.base.repo.default_branch')})"),
    Field("push_before", 'payload."before"', None, _bq("before")),
    Field("comment_created_at", "payload.comment.created_at", None, _bq("comment.created_at")),
    Field("review_comment_review_id", "payload.comment.pull_request_review_id", None,
          f"CAST({_bq('comment.pull_request_review_id')} AS INT64)"),
    Field("in_reply_to_id", "payload.comment.in_reply_to_id", None, f"CAST({_bq('comment.in_reply_to_id')} AS INT64)"),
    Field("item_association",
          "nullif(coalesce(payload.issue.author_association, payload.pull_request.author_association), 'NONE')",
          None, f"NULLIF(COALESCE({_bq('issue.author_association')}, {_bq('pull_request.author_association')}), "
          "'NONE')"),
    Field("review_association", "nullif(payload.review.author_association, 'NONE')", None,
          f"NULLIF({_bq('review.author_association')}, 'NONE')"),
    Field("review_id", "payload.review.id", None, f"CAST({_bq('review.id')} AS INT64)"),
    Field("review_user_id", 'payload.review."user".id', None, f"CAST({_bq('review.user.id')} AS INT64)"),
    Field("review_submitted_at", "payload.review.submitted_at", None, _bq("review.submitted_at")),
    Field("release_id", "payload.release.id", None, f"CAST({_bq('release.id')} AS INT64)"),
    Field("release_name", "payload.release.name", None, _bq("release.name")),
    Field("release_author_id", "payload.release.author.id", None, f"CAST({_bq('release.author.id')} AS INT64)"),
    Field("release_draft", "payload.release.draft", None, f"{_bq('release.draft')} = 'true'"),
    Field("release_prerelease", "payload.release.prerelease", None, f"{_bq('release.prerelease')} = 'true'"),
    Field("release_created_at", "payload.release.created_at", None, _bq("release.created_at")),
    Field("release_published_at", "payload.release.published_at", None, _bq("release.published_at")),
    Field("member_id", "payload.member.id", None, f"CAST({_bq('member.id')} AS INT64)"),
    Field("listed", "len(payload.commits)", None, "ARRAY_LENGTH(JSON_QUERY_ARRAY(payload, '$.commits'))"),
)

# Per-event counts for the summary (DuckDB only: counted on every event read, in the batch's
# one scan; ``Reader.counts`` sums them by type). An item without author_association counts
# only from the trimmed era on, where GitHub dropped it.
HASHED = r"'^[0-9a-f]{40}(@|$)'"
COUNTS = {
    "merged_pr": "type = 'PullRequestEvent' AND payload.action = 'closed' AND coalesce(payload.pull_request.merged, "
                 "FALSE)",
    "push_beyond": "CASE WHEN type = 'PushEvent' AND payload.size > len(payload.commits) "
                   "THEN payload.size - len(payload.commits) END",
    "hashed": f"len(list_filter(payload.commits, lambda c: regexp_matches(c.author.email, {HASHED})))",
    "trimmed_push": "type = 'PushEvent' AND payload.size IS NULL AND payload.commits IS NULL",
    "trimmed_pull": "type = 'PullRequestEvent' AND payload.pull_request.number IS NOT NULL "
                    'AND payload.pull_request."user".id IS NULL',
    "unassociated": "CASE WHEN type IN ('IssuesEvent', 'IssueCommentEvent', 'PullRequestReviewCommentEvent') AND "
                    "coalesce(payload.issue.author_association, payload.pull_request.author_association, "
                    "payload.comment.author_association) IS NULL "
                    f"THEN created_at::TIMESTAMPTZ >= TIMESTAMPTZ '{TRIMMED_FROM:%Y-%m-%d %H:%M:%S}+00' ELSE FALSE END",
}


# --- the filter -------------------------------------------------------------------------------------

@dataclass
class Selection:
    """Which events: the network's repos (by id, by name, by owner or org), the known
    makers elsewhere (by actor or author id or login, by the owner of their own repos,
    by commit emails hashed as GH Archive hashes them); ``everything`` (``--all``) takes
    every event; ``follow`` keeps, besides, what may be an outside act of a maker met
    during the read (``duck_outside``). Logins, names and owners compare lower-cased."""

    repo_ids: set[int] = field(default_factory=set)
    repo_names: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)
    maker_ids: set[int] = field(default_factory=set)
    maker_logins: set[str] = field(default_factory=set)
    email_hashes: set[str] = field(default_factory=set)
    everything: bool = False
    follow: bool = False


def _quoted(values: set[str]) -> str:
    return ", ".join("'" + value.replace("\\", "\\\\").replace("'", "''") + "'" for value in sorted(values)) or "NULL"


def duck_filter(selection: Selection) -> str:
    """The WHERE of the DuckDB selection, over temp tables ``sel_*`` the reader fills (a
    term only for the sets that hold something: each costs a probe an event)."""
    if selection.everything:
        return "TRUE"
    owner = "lower(split_part(repo.name, '/', 1))"
    author = 'coalesce(payload.comment."user".{0}, payload.issue."user".{0}, payload.pull_request."user".{0})'
    terms = [(selection.repo_ids, "repo.id IN (SELECT id FROM sel_repo_ids)"),
             (selection.repo_names, "lower(repo.name) IN (SELECT name FROM sel_names)"),
             (selection.owners, f"{owner} IN (SELECT login FROM sel_owners)"),
             (selection.owners, "lower(org.login) IN (SELECT login FROM sel_owners)"),
             (selection.maker_ids, "actor.id IN (SELECT id FROM sel_maker_ids)"),
             (selection.maker_ids, f"{author.format('id')} IN (SELECT id FROM sel_maker_ids)"),
             (selection.maker_logins, "lower(actor.login) IN (SELECT login FROM sel_maker_logins)"),
             (selection.maker_logins, f"lower({author.format('login')}) IN (SELECT login FROM sel_maker_logins)"),
             (selection.maker_logins, f"{owner} IN (SELECT login FROM sel_maker_logins)"),
             (selection.email_hashes, "(type = 'PushEvent' AND list_has_any(list_transform(payload.commits, "
                                      "lambda c: c.author.email), (SELECT coalesce(list(hash), []) FROM sel_hashes)))")]
    chosen = [term for values, term in terms if values]
    return "coalesce(" + "\n        OR ".join(chosen) + ", FALSE)" if chosen else "FALSE"


def duck_outside(selection: Selection) -> str:
    """What may be an outside act of a maker not known yet when the hour is read (one met
    in the network later in the same batch): a merged PR, a repo created, a push by someone
    else to a repo of a user (no org), any event in a government, research or civic owner
    (``sel_kinds``). A cheap superset of what ``Reader.outside`` keeps."""
    if not selection.follow or selection.everything:
        return "FALSE"
    return """coalesce((type = 'PullRequestEvent' AND payload.action = 'closed' AND payload.pull_request.merged)
        OR (type = 'CreateEvent' AND payload.ref_type = 'repository')
        OR (type = 'PushEvent' AND org.login IS NULL
            AND lower(actor.login) != lower(split_part(repo.name, '/', 1)))
        OR lower(split_part(repo.name, '/', 1)) IN (SELECT login FROM sel_kinds), FALSE)"""


def clickhouse_filter(selection: Selection) -> str:
    """The same selection over github_events (no ids, no commit authors there)."""
    if selection.everything:
        return "1"
    owners, logins = _quoted(selection.owners), _quoted(selection.maker_logins)
    return (f"(lower(e.repo_name) IN ({_quoted(selection.repo_names)}) "
            f"OR lower(splitByChar('/', e.repo_name)[1]) IN ({owners}) "
            f"OR lower(e.actor_login) IN ({logins}) OR lower(e.creator_user_login) IN ({logins}) "
            f"OR lower(splitByChar('/', e.repo_name)[1]) IN ({logins}))")


def bigquery_filter(selection: Selection) -> str:
    if selection.everything:
        return "TRUE"
    owners, logins = _quoted(selection.owners), _quoted(selection.maker_logins)
    ids = ", ".join(str(value) for value in sorted(selection.repo_ids | {0}))
    maker_ids = ", ".join(str(value) for value in sorted(selection.maker_ids | {0}))
    return (f"(repo.id IN ({ids}) OR LOWER(repo.name) IN ({_quoted(selection.repo_names)}) "
            f"OR LOWER(SPLIT(repo.name, '/')[OFFSET(0)]) IN ({owners}) OR LOWER(org.login) IN ({owners}) "
            f"OR actor.id IN ({maker_ids}) OR LOWER(actor.login) IN ({logins}) "
            f"OR LOWER(SPLIT(repo.name, '/')[OFFSET(0)]) IN ({logins}))")


# --- the three queries ------------------------------------------------------------------------------

def _hour_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def clickhouse_sql(selection: Selection, start: datetime, end: datetime,
                   table: str = "github_events") -> str:
    """The selection over ClickHouse's ``github_events`` between ``start`` and ``end``
    (end excluded), one row per distinct event (the table has no event id to dedupe by)."""
    columns = ",\n    ".join(f"{item.clickhouse} AS {item.name}" for item in SELECTION)
    return (f"SELECT DISTINCT\n    {columns}\nFROM {table} AS e\n"
            f"WHERE e.created_at >= toDateTime('{_hour_text(start)}', 'UTC') "
            f"AND e.created_at < toDateTime('{_hour_text(end)}', 'UTC')\n"
            f"  AND {clickhouse_filter(selection)}")


def bigquery_sql(selection: Selection, start: datetime, end: datetime) -> str:
    """The selection over BigQuery's ``githubarchive.day`` tables (one a day, from 2015),
    between ``start`` and ``end`` (end excluded: a day table is scanned, and paid for, only
    when one of its hours is asked for)."""
    columns = ",\n    ".join(f"{item.bigquery} AS {item.name}" for item in (*SELECTION, *IDS))
    return (f"SELECT\n    {columns}\nFROM `githubarchive.day.20*`\n"
            f"WHERE _TABLE_SUFFIX BETWEEN '{start.strftime('%y%m%d')}' AND "
            f"'{(end - timedelta(seconds=1)).strftime('%y%m%d')}'\n"
            f"  AND created_at >= TIMESTAMP('{_hour_text(start)}') AND created_at < TIMESTAMP('{_hour_text(end)}')\n"
            f"  AND {bigquery_filter(selection)}")


KEPT = ("actor", "repo", "org", "payload")  # the raw columns the batch keeps of kept events only

# read_json's buffers are sized by ``maximum_object_size``: DuckDB's default (16 MB) reads
# every line of an ordinary hour and costs about a tenth less CPU than a 128 MB buffer; a
# batch holding a longer line is read again with ``LARGE_OBJECT_BYTES`` (Reader.read).
LARGE_OBJECT_BYTES = 128 << 20


def duck_batch_sql(files: list[str], timeline: bool, selection: Selection, large_objects: bool = False,
                   dedupe: bool = False, table: str = "TEMP TABLE batch") -> str:
    """Read hourly files of one format into ``table`` (a batch): every event's type,
    file, ``selected`` (the filter), ``kept`` (selected, or maybe an outside act) and
    per-event counts (``COUNTS``); the id, time and raw actor, repo, org and payload of the
    kept events only (``duck_picked_sql`` takes their fields), the raw columns as JSON text:
    a NULL costs next to nothing to store for the other events, where a NULL struct of this
    width costs about a sixth of the reader's CPU. ``dedupe`` (the crawl era, where an
    event may be filed in two hours): every event's id and time too, which the dedupe
    reads. ``large_objects``: lines up to ``LARGE_OBJECT_BYTES`` (DuckDB's default buffer
    refuses lines over 16 to 32 MB)."""
    columns = TIMELINE_COLUMNS if timeline else EVENTS_COLUMNS
    listed = "[" + ", ".join("'" + name.replace("'", "''") + "'" for name in files) + "]"
    size = f", maximum_object_size={LARGE_OBJECT_BYTES}" if large_objects else ""
    source = (f"read_json({listed}, columns={columns_spec(columns)}, format='newline_delimited', "
              f"filename=true{size})")
    shaped = f"SELECT {TIMELINE_SELECT}, filename FROM {source}" if timeline else f"SELECT *, filename FROM {source}"
    counts = ",\n    ".join(f"{expression} AS {name}" for name, expression in COUNTS.items())
    kept = ", ".join(f"CASE WHEN kept THEN to_json({name}) END AS {name}" for name in KEPT)
    ids = ("id, TRY_CAST(id AS BIGINT) AS event_id, created_at" if dedupe else
           "CASE WHEN kept THEN id END AS id, NULL::BIGINT AS event_id, CASE WHEN kept THEN created_at END AS created_at")
    return f"""CREATE OR REPLACE {table} AS
WITH shaped AS ({shaped}),
marked AS (SELECT *, {duck_filter(selection)} AS selected FROM shaped),
weighed AS (SELECT *, selected OR {duck_outside(selection)} AS kept FROM marked)
SELECT
    {ids}, type, filename, selected, kept,
    {counts},
    {kept}
FROM weighed"""


def duck_picked_sql(source: str = "fresh") -> str:
    """The kept events of ``source`` (a ``batch`` without the events filed twice: the
    selected ones and the possible outside acts) with every selected column, the commits
    of their pushes, and whether selected, into the temp table ``picked`` (their actor,
    repo, org and payload typed from the batch's JSON text into ``EVENTS_SHAPE``: the
    Timeline's reshaped by ``TIMELINE_SELECT``, and the objects ``read_json`` left as JSON
    typed here, for these events only)."""
    fields = ",\n    ".join(f"{item.duck} AS {item.name}" for item in (*SELECTION, *IDS))
    typed = ", ".join(f"json_transform({name}, '{json_structure(EVENTS_SHAPE[name])}') AS {name}"
                      for name in KEPT)
    return f"""CREATE OR REPLACE TEMP TABLE picked AS
SELECT
    {fields},
    CASE WHEN type = 'PushEvent' THEN payload.commits END AS commits,
    filename, selected
FROM (SELECT * REPLACE ({typed}) FROM {source} WHERE kept)"""


# --- ClickHouse's published github_events table and its loader --------------------------------------

GITHUB_EVENTS_TABLE = """CREATE TABLE IF NOT EXISTS github_events
(
    file_time DateTime,
    event_type Enum('CommitCommentEvent' = 1, 'CreateEvent' = 2, 'DeleteEvent' = 3, 'ForkEvent' = 4,
                    'GollumEvent' = 5, 'IssueCommentEvent' = 6, 'IssuesEvent' = 7, 'MemberEvent' = 8,
                    'PublicEvent' = 9, 'PullRequestEvent' = 10, 'PullRequestReviewCommentEvent' = 11,
                    'PushEvent' = 12, 'ReleaseEvent' = 13, 'SponsorshipEvent' = 14, 'WatchEvent' = 15,
                    'GistEvent' = 16, 'FollowEvent' = 17, 'DownloadEvent' = 18, 'PullRequestReviewEvent' = 19,
                    'ForkApplyEvent' = 20, 'Event' = 21, 'TeamAddEvent' = 22),
    actor_login LowCardinality(String),
    repo_name LowCardinality(String),
    created_at DateTime,
    updated_at DateTime,
    action Enum('none' = 0, 'created' = 1, 'added' = 2, 'edited' = 3, 'deleted' = 4, 'opened' = 5,
                'closed' = 6, 'reopened' = 7, 'assigned' = 8, 'unassigned' = 9, 'labeled' = 10,
                'unlabeled' = 11, 'review_requested' = 12, 'review_request_removed' = 13,
                'synchronize' = 14, 'started' = 15, 'published' = 16, 'update' = 17, 'create' = 18,
                'fork' = 19, 'merged' = 20),
    comment_id UInt64,
    body String,
    path String,
    position Int32,
    line Int32,
    ref LowCardinality(String),
    ref_type Enum('none' = 0, 'branch' = 1, 'tag' = 2, 'repository' = 3, 'unknown' = 4),
    creator_user_login LowCardinality(String),
    number UInt32,
    title String,
    labels Array(LowCardinality(String)),
    state Enum('none' = 0, 'open' = 1, 'closed' = 2),
    locked UInt8,
    assignee LowCardinality(String),
    assignees Array(LowCardinality(String)),
    comments UInt32,
    author_association Enum('NONE' = 0, 'CONTRIBUTOR' = 1, 'OWNER' = 2, 'COLLABORATOR' = 3,
                            'MEMBER' = 4, 'MANNEQUIN' = 5),
    closed_at DateTime,
    merged_at DateTime,
    merge_commit_sha String,
    requested_reviewers Array(LowCardinality(String)),
    requested_teams Array(LowCardinality(String)),
    head_ref LowCardinality(String),
    head_sha String,
    base_ref LowCardinality(String),
    base_sha String,
    merged UInt8,
    mergeable UInt8,
    rebaseable UInt8,
    mergeable_state Enum('unknown' = 0, 'dirty' = 1, 'clean' = 2, 'unstable' = 3, 'draft' = 4),
    merged_by LowCardinality(String),
    review_comments UInt32,
    maintainer_can_modify UInt8,
    commits UInt32,
    additions UInt32,
    deletions UInt32,
    changed_files UInt32,
    diff_hunk String,
    original_position UInt32,
    commit_id String,
    original_commit_id String,
    push_size UInt32,
    push_distinct_size UInt32,
    member_login LowCardinality(String),
    release_tag_name String,
    release_name String,
    review_state Enum('none' = 0, 'approved' = 1, 'changes_requested' = 2, 'commented' = 3,
                      'dismissed' = 4, 'pending' = 5)
)
ENGINE = MergeTree ORDER BY (event_type, repo_name, created_at)"""


def github_events_load_sql(path: str, table: str = "github_events") -> str:
    """INSERT hourly files (a path or glob ClickHouse's ``file()`` reads) into
    ``github_events`` with the mapping of ClickHouse's own loader (github-explorer's
    ``update.sh``); the actor and member are read as text so that the Timeline's logins
    and the Events API's objects both load."""
    return f"""INSERT INTO {table} (file_time, event_type, actor_login, repo_name, created_at, updated_at,
    action, comment_id, ref, ref_type, creator_user_login, number, state, author_association,
    closed_at, merged_at, merge_commit_sha, head_ref, head_sha, base_ref, base_sha, merged,
    merged_by, push_size, push_distinct_size, member_login, release_tag_name, release_name, review_state)
SELECT
    toStartOfHour(created_at), type,
    if(startsWith(actor, '{{'), JSONExtractString(actor, 'login'), actor),
    COALESCE(repo.name, repository.owner || '/' || repository.name),
    created_at,
    COALESCE(payload.updated_at, payload.comment.updated_at, payload.issue.updated_at, payload.pull_request.updated_at),
    COALESCE(payload.action, 'none'),
    payload.comment.id, payload.ref, COALESCE(payload.ref_type, 'none'),
    COALESCE(payload.comment.user.login, payload.issue.user.login, payload.pull_request.user.login),
    COALESCE(payload.issue.number, payload.pull_request.number, payload.number),
    COALESCE(payload.issue.state, payload.pull_request.state, 'none'),
    COALESCE(payload.review.author_association, payload.issue.author_association, payload.pull_request.author_association, 'NONE'),
    COALESCE(payload.issue.closed_at, payload.pull_request.closed_at),
    payload.pull_request.merged_at, payload.pull_request.merge_commit_sha,
    payload.pull_request.head.ref, payload.pull_request.head.sha,
    payload.pull_request.base.ref, payload.pull_request.base.sha,
    payload.pull_request.merged = 'true',
    payload.pull_request.merged_by.login,
    payload.size, payload.distinct_size,
    if(startsWith(payload.member, '{{'), JSONExtractString(payload.member, 'login'), payload.member),
    payload.release.tag_name, payload.release.name,
    COALESCE(lower(payload.review.state), 'none')
FROM file('{path}', 'JSONEachRow', '
    type Nullable(String),
    actor Nullable(String),
    repo Tuple(name Nullable(String)),
    repository Tuple(owner Nullable(String), name Nullable(String)),
    created_at DateTime,
    payload Tuple(
        updated_at Nullable(DateTime), action Nullable(String), ref Nullable(String),
        ref_type Nullable(String), number Nullable(Int64), size Nullable(Int64),
        distinct_size Nullable(Int64),
        comment Tuple(updated_at Nullable(DateTime), id Nullable(UInt64), user Tuple(login Nullable(String))),
        issue Tuple(updated_at Nullable(DateTime), closed_at Nullable(DateTime),
                    user Tuple(login Nullable(String)), number Nullable(Int64), state Nullable(String),
                    author_association Nullable(String)),
        pull_request Tuple(updated_at Nullable(DateTime), closed_at Nullable(DateTime),
                    merged_at Nullable(DateTime), merge_commit_sha Nullable(String),
                    user Tuple(login Nullable(String)), number Nullable(Int64), state Nullable(String),
                    author_association Nullable(String),
                    head Tuple(ref Nullable(String), sha Nullable(String)),
                    base Tuple(ref Nullable(String), sha Nullable(String)),
                    merged Nullable(String), merged_by Tuple(login Nullable(String))),
        review Tuple(author_association Nullable(String), state Nullable(String)),
        release Tuple(tag_name Nullable(String), name Nullable(String)),
        member Nullable(String))')
SETTINGS date_time_input_format = 'best_effort', input_format_json_read_objects_as_strings = 1,
    input_format_json_read_numbers_as_strings = 1, input_format_json_read_bools_as_strings = 1,
    input_format_skip_unknown_fields = 1"""
