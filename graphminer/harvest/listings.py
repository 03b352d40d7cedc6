"""What the GitHub harvest reads, declared once (as Perceval declares its CATEGORIES).

Each ``Listing`` names a repo-level GitHub listing: its path below ``/repos/{owner}/{repo}``,
its query, the field its watermark follows, the table it fills and the row builder, the
user field an opt-out drops it by, whether GitHub refuses its deep pages (HTTP 422 past a
cap) and what replaces them; and how the harvest reads it: in what order GitHub lists it,
which cheap signal says it may have changed (``graphminer.harvest.signals``), and what
GraphQL does for it on a first harvest. ``LISTINGS`` is in the order a repo's listings are
read, and ``graphminer.harvest.reading`` reads a repo by iterating it;
``graphminer.harvest.save`` stores by the same declarations, the watermarks are keyed by
their names, and each name is also the store's table and fakehub's world collection
(docs/world-format.md). Nothing here does I/O.

A new listing is one declaration here, one row builder (``graphminer.harvest.rows``), one
migration for its table, one world collection and its answer in fakehub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphminer.harvest import rows
from graphminer.harvest.signals import ALWAYS, ISSUES, ISSUES_OR_HELD, PULLS, PUSHED

# What replaces the pages GitHub refuses past its pagination cap.
SINCE_WINDOWS = "since windows"  # oldest first from a `since` that moves to the last item read
PER_ISSUE = "per-issue listings"  # /issues/{n}/events of the issues updated since the watermark

# Page sizes tried in turn when GitHub answers a heavy page with 502/504 or times out.
PAGE_SIZES = (100, 50, 25)

# How GitHub lists a listing, and so how it is read (graphminer.harvest.reading).
NEWEST_FIRST = "newest first"  # by its mark, descending: read down to the watermark
BY_ID = "by id"  # newest first by id, never changing: read down to the last id seen
UNORDERED = "unordered"  # no promised order: read to its end every time (304s are free)
HISTORY = "history"  # a branch's commits, newest first by committer date, parents followed


# What a GraphQL first harvest (graphminer.harvest.graphql) does for a listing.
PRIMED = "primed"  # GraphQL reads its records; REST reads on from where it stopped (the
#                    first page: its validators make the next REST night's 304s)
REPLACED = "replaced"  # GraphQL reads its records; REST skips it that night, its watermark
#                        set where GraphQL stopped (a BY_ID listing: until REST has its ids)


@dataclass(frozen=True)
class Listing:
    """One harvested listing of a repo."""

    name: str  # also the watermark's endpoint name, the store's table, fakehub's collection
    path: str  # below /repos/{owner}/{repo}; {number} for per-item listings
    table: str
    row: Callable[..., dict]
    mark: Callable[[dict], Any]  # the value the watermark follows
    key: tuple[str, ...] = ("id",)  # the table's primary key: an upsert replaces by it
    kept: tuple[str, ...] = ()  # columns another listing fills: an upsert leaves them
    query: dict[str, str] = field(default_factory=dict)
    author: str | None = "user"  # the user field an opt-out drops a record by
    order: str = NEWEST_FIRST
    capped: bool = False  # GitHub answers 422 past a page cap
    instead: str | None = None  # what replaces the refused deep pages
    slim: Callable[[dict], dict] | None = None  # what of the raw JSON is kept
    signal: str = ALWAYS  # which signal says it may have changed
    gives: str | None = None  # the signal its own first page is (its ETag)
    graphql: str | None = None  # PRIMED or REPLACED; None: REST reads it
    counted: bool = False  # a complete GraphQL read counts it: none there, none stored, not asked
    per_item: Listing | None = None  # read per item for the items that moved (a PR's reviews)

    @property
    def newest_first(self) -> bool:
        """Whether GitHub lists it newest first (its watermark never moves back)."""
        return self.order in (NEWEST_FIRST, HISTORY)


def _updated(item: dict) -> Any:
    return item.get("updated_at")


NEWEST_UPDATED = {"sort": "updated", "direction": "desc"}

# Per-item listings: read for the items a repo-level listing says changed (their
# watermark rows keep only the page size that worked).
REVIEWS = Listing("reviews", "/pulls/{number}/reviews", "reviews", rows.review_row,
                  lambda item: item.get("submitted_at"))
ISSUE_EVENTS = Listing("issue_events/issue", "/issues/{number}/events", "issue_events",
                       rows.event_row, lambda item: item.get("id"), author="actor",
                       slim=rows.slim_event)

LISTINGS: dict[str, Listing] = {listing.name: listing for listing in (
    Listing("issues", "/issues", "issues", rows.issue_row, _updated, key=("repo_id", "number"),
            kept=("merged_by_id", "merge_commit_sha", "head_sha"),
            query={"state": "all", **NEWEST_UPDATED}, capped=True, instead=SINCE_WINDOWS,
            gives=ISSUES, graphql=PRIMED),
    Listing("pulls", "/pulls", "pulls", rows.pull_row, _updated, key=("repo_id", "number"),
            query={"state": "all", **NEWEST_UPDATED}, slim=rows.slim_pull,
            signal=ISSUES_OR_HELD, gives=PULLS, graphql=PRIMED, counted=True, per_item=REVIEWS),
    Listing("issue_comments", "/issues/comments", "issue_comments", rows.comment_row, _updated,
            query=NEWEST_UPDATED, capped=True, instead=SINCE_WINDOWS, signal=ISSUES,
            graphql=REPLACED),
    Listing("issue_events", "/issues/events", "issue_events", rows.event_row,
            lambda item: item.get("id"), author="actor", order=BY_ID, capped=True,
            instead=PER_ISSUE, slim=rows.slim_event, signal=ISSUES, graphql=REPLACED,
            per_item=ISSUE_EVENTS),
    Listing("review_comments", "/pulls/comments", "review_comments", rows.review_comment_row,
            _updated, query=NEWEST_UPDATED, signal=PULLS, counted=True),
    Listing("commits", "/commits", "commits", rows.commit_row, rows.committer_date, author=None,
            key=("repo_id", "sha"), kept=("files",), order=HISTORY, signal=PUSHED),
    Listing("releases", "/releases", "releases", rows.release_row,
            lambda item: item.get("created_at"), author="author", order=UNORDERED,
            signal=PUSHED, graphql=REPLACED),
)}

# Every listing of a repo, its per-item ones included (they fill the same tables).
EVERY_LISTING = (*LISTINGS.values(), *(listing.per_item for listing in LISTINGS.values() if listing.per_item))
