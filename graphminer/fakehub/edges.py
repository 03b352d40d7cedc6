"""Real GitHub's hard edges: which ones a fakehub server shows, and their settings.

One home for the switches of FAKEHUB.md's "Real GitHub's hard edges" section (the
``serve`` flags and ``testing.serve`` keywords map onto ``Edges``), with the defaults that
section names: what needs no world content is on; slow pages, token expiry and latency are
off. Edges that are world content (private repos, deleted accounts, renamed and
transferred repos) need no switch: a world without them never shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphminer.errors import BadInput

DEFAULT_PAGE_CAP = 10_000
DEEP_PAGE_MESSAGE = ("Pagination with the page parameter is not supported for large datasets, "
                     "please use cursor based pagination (after/before)")
# the repo-level listings GitHub refuses deep pages of (FAKEHUB.md)
CAPPED_LISTINGS = ("issues", "issues/comments", "issues/events")
SLOW_PER_PAGE = 50  # slow listings answer 502 above this many items a page
LIMIT_STATUSES = ("403", "429", "both")
# listing names accepted by --slow-pages OWNER/REPO:LISTING (the path after the repo)
LISTINGS = ("issues", "issues/comments", "issues/events", "pulls", "pulls/comments",
            "commits", "releases", "contributors")
_SLOW_RE = re.compile(r"^([^/:\s]+)/([^/:\s]+)(?::(.+))?$")


@dataclass(frozen=True)
class SlowPages:
    """One ``--slow-pages`` entry: a repo, and one of its listings or all of them."""

    owner: str
    name: str
    listing: str | None = None

    def matches(self, owner: str, name: str, listing: str) -> bool:
        return (owner.lower(), name.lower()) == (self.owner.lower(), self.name.lower()) and \
            self.listing in (None, listing)


@dataclass(frozen=True)
class Edges:
    """The hard edges a server shows (defaults: FAKEHUB.md)."""

    page_cap: int = DEFAULT_PAGE_CAP  # 0: no cap
    per_token_etags: bool = True
    redirects: bool = True  # renamed/transferred repos answer 301 (else 404 at the old name)
    slow_pages: tuple[SlowPages, ...] = ()
    slow_seconds: float = 1.0
    limit_status: str = "both"  # primary limit refusals: 403, 429, or alternating 429/403
    token_ttl: float | None = None  # seconds from a token's first use to its 401
    token_ttl_requests: int | None = None  # answered REST requests before a token's 401
    reviews_move_issues: bool = False  # True: the polite model (reviews bump /issues updated_at)
    releases_unordered: bool = True
    latency_ms: int = 0

    def slow(self, owner: str, name: str, listing: str) -> bool:
        """Whether this repo's listing is one that times out on heavy pages."""
        return any(entry.matches(owner, name, listing) for entry in self.slow_pages)


def parse_slow_pages(specs: tuple[str, ...] | list[str]) -> tuple[SlowPages, ...]:
    """``OWNER/REPO[:LISTING]`` entries; BadInput naming the bad one."""
    parsed = []
    for spec in specs:
        match = _SLOW_RE.match(spec.strip())
        if not match or (match.group(3) is not None and match.group(3) not in LISTINGS):
            raise BadInput(f"--slow-pages {spec!r}: give OWNER/REPO or OWNER/REPO:LISTING with "
                           f"LISTING one of {', '.join(LISTINGS)}")
        parsed.append(SlowPages(*match.groups()))
    return tuple(parsed)


def check_edges(edges: Edges) -> Edges:
    """The edges, or BadInput naming the flag that is out of range."""
    if edges.page_cap < 0:
        raise BadInput(f"--page-cap {edges.page_cap}: give a number of items, 0 (no cap) or more")
    if edges.limit_status not in LIMIT_STATUSES:
        raise BadInput(f"--limit-status {edges.limit_status}: give one of {', '.join(LIMIT_STATUSES)}")
    if edges.token_ttl is not None and not edges.token_ttl > 0:
        raise BadInput(f"--token-ttl {edges.token_ttl:g}: give a number of seconds above 0")
    if edges.token_ttl_requests is not None and edges.token_ttl_requests < 1:
        raise BadInput(f"--token-ttl-requests {edges.token_ttl_requests}: give a whole number "
                       "of requests, 1 or more")
    if edges.latency_ms < 0:
        raise BadInput(f"--latency {edges.latency_ms}: give milliseconds, 0 or more")
    if not edges.slow_seconds >= 0:
        raise BadInput(f"--slow-seconds {edges.slow_seconds:g}: give seconds, 0 or more")
    return edges
