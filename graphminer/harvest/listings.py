"""What the GitHub harvest reads, declared once (as Perceval declares its CATEGORIES).

Each ``Listing`` names a repo-level GitHub listing: its path below ``/repos/{owner}/{repo}``,
its query, the field its watermark follows, the table it fills and the row builder, the
user field an opt-out drops it by, whether GitHub refuses its deep pages (HTTP 422 past a
cap) and what replaces them. ``graphminer.harvest.github`` fetches by these declarations,
``graphminer.harvest.save`` stores by them, and the watermarks are keyed by their names.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphminer.harvest import rows

# What replaces the pages GitHub refuses past its pagination cap.
SINCE_WINDOWS = "since windows"  # oldest first from a `since` that moves to the last item read
PER_ISSUE = "per-issue listings"  # /issues/{n}/events of the issues updated since the watermark

# Page sizes tried in turn when GitHub answers a heavy page with 502/504 or times out.
PAGE_SIZES = (100, 50, 25)


@dataclass(frozen=True)
class Listing:
    """One harvested listing of a repo."""

    name: str  # also the watermark's endpoint name
    path: str  # below /repos/{owner}/{repo}; {number} for per-item listings
    table: str
    row: Callable[..., dict]
    mark: Callable[[dict], Any]  # the value the watermark follows
    query: dict[str, str] = field(default_factory=dict)
    author: str | None = "user"  # the user field an opt-out drops a record by
    newest_first: bool = True  # False: no promised order, read to the end every time
    capped: bool = False  # GitHub answers 422 past a page cap
    instead: str | None = None  # what replaces the refused deep pages
    slim: Callable[[dict], dict] | None = None  # what of the raw JSON is kept


def _updated(item: dict) -> Any:
    return item.get("updated_at")


LISTINGS: dict[str, Listing] = {listing.name: listing for listing in (
    Listing("issues", "/issues", "issues", rows.issue_row, _updated,
            query={"state": "all", "sort": "updated", "direction": "desc"},
            capped=True, instead=SINCE_WINDOWS),
    Listing("pulls", "/pulls", "pulls", rows.pull_row, _updated,
            query={"state": "all", "sort": "updated", "direction": "desc"},
            slim=rows.slim_pull),
    Listing("issue_comments", "/issues/comments", "issue_comments", rows.comment_row, _updated,
            query={"sort": "updated", "direction": "desc"}, capped=True, instead=SINCE_WINDOWS),
    Listing("issue_events", "/issues/events", "issue_events", rows.event_row,
            lambda item: item.get("id"), author="actor", capped=True, instead=PER_ISSUE,
            slim=rows.slim_event),
    Listing("review_comments", "/pulls/comments", "review_comments", rows.review_comment_row,
            _updated, query={"sort": "updated", "direction": "desc"}),
    Listing("commits", "/commits", "commits", rows.commit_row, rows.committer_date, author=None),
    Listing("releases", "/releases", "releases", rows.release_row,
            lambda item: item.get("created_at"), author="author", newest_first=False),
)}

# Per-item listings: read for the items a repo-level listing says changed (their
# watermark rows keep only the page size that worked).
REVIEWS = Listing("reviews", "/pulls/{number}/reviews", "reviews", rows.review_row,
                  lambda item: item.get("submitted_at"))
ISSUE_EVENTS = Listing("issue_events/issue", "/issues/{number}/events", "issue_events",
                       rows.event_row, lambda item: item.get("id"), author="actor",
                       slim=rows.slim_event)
