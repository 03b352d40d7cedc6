"""How a repo's listings are read, as ``graphminer.harvest.listings`` declares them.

``RepoReader.read(repo)`` iterates ``LISTINGS`` in order: each listing is read when the
signal it declares says it can have changed (``graphminer.harvest.signals``; every listing
on the repo's sweep night), in the way its declared order asks (newest first down to the
watermark, by id, to the end, or a branch's history), and, on a GraphQL first harvest,
as its declared GraphQL part says (``PRIMED``: REST reads on from where GraphQL stopped,
priming the next night's validators; ``REPLACED``: REST skips it that night; ``counted``:
not asked when GraphQL counted none). The run (``graphminer.harvest.github``) hands it
repos; the session (``graphminer.harvest.session``) fetches; the saver stores.

Request economy: every listing is read newest first from a URL that never changes (no
``since`` in it: a new ``since`` each night would be a new URL, and a counted request,
even when nothing changed) and paging stops at the first page that reaches the listing's
watermark, so an unchanged repo costs one or two free 304s, and a full harvest costs one
request per page of 100 items plus one per pull request for its reviews. Past GitHub's
page cap, what replaces the refused pages is the listing's declared ``instead``; pages
too heavy for GitHub are asked again smaller (``PAGE_SIZES``), the size that worked kept.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from github import Github, GithubException
from github.PaginatedList import PaginatedList

from graphminer.harvest import signals
from graphminer.harvest.graphql import GraphQLReader, NotOverGraphQL
from graphminer.harvest.listings import (
    BY_ID,
    HISTORY,
    LISTINGS,
    NEWEST_FIRST,
    PAGE_SIZES,
    REPLACED,
    UNORDERED,
    Listing,
)
from graphminer.harvest.runs import set_watermark, watermark
from graphminer.harvest.save import Saver
from graphminer.harvest.session import (
    PER_PAGE,
    HarvestSession,
    HeavyPage,
    Record,
    max_of,
    min_of,
    pages,
)


class RepoGone(Exception):
    """The repo answered 404 after being listed: deleted (or hidden) upstream."""


@dataclass
class GraphQLNight:
    """What GraphQL read of one repo tonight, by listing name."""

    newest: dict[str, Any] = field(default_factory=dict)  # the watermark where GraphQL stopped
    empty: set[str] = field(default_factory=set)  # counted none (a complete read)


class RepoReader:
    """Reads repos' listings into the store: one per worker (its own session and client)."""

    def __init__(self, conn: sqlite3.Connection, saver: Saver, client: Github, session: HarvestSession,
                 settings: dict[str, Any], *, full: bool = False, api: str = "rest",
                 graphql: Callable[[], GraphQLReader] | None = None) -> None:
        self.conn = conn
        self.saver = saver
        self.client = client
        self.session = session
        self.settings = settings
        self.full = full
        self.api = api if graphql else "rest"
        self.graphql = graphql  # this worker's GraphQL reader, made at its first use
        self.over_graphql: dict[int, GraphQLNight] = {}  # repo id -> what GraphQL read tonight

    def read(self, repo: dict) -> None:
        """The listings of a repo that its signals say can have changed (all of them on
        its sweep night), in ``LISTINGS``' order; then tonight's signals are stored."""
        tonight = signals.plan(self.conn, repo, self.full, self.settings["full_every_days"])
        over = self.read_graphql(repo) if self.wants_graphql(repo) else None
        if over is not None:
            self.over_graphql[repo["id"]] = over
        try:
            for listing in LISTINGS.values():
                def held(listing: Listing = listing) -> bool:
                    return self.saver.holds(listing.table, repo["id"])

                if not tonight.due(self.conn, repo["id"], listing.signal, held):
                    continue
                if over is not None and listing.counted and listing.name in over.empty and not held():
                    continue  # GraphQL counted none: nothing to read, nothing to prime
                if over is not None and listing.graphql == REPLACED and listing.name in over.newest:
                    self.keep(repo, listing.name, over.newest[listing.name])
                    continue
                etag = self.read_listing(repo, listing)
                if listing.gives:
                    tonight.saw(listing.gives, etag)
            signals.remember(self.conn, repo, tonight, self.settings["full_every_days"])
        finally:
            self.over_graphql.pop(repo["id"], None)

    def read_listing(self, repo: dict, listing: Listing) -> str | None:
        """One listing, in the way its order asks; its first page's ETag (None: empty, or
        not a newest-first listing)."""
        if listing.order == NEWEST_FIRST and listing.per_item is not None:
            return self.harvest_with_items(repo, listing)
        if listing.order == NEWEST_FIRST:
            return self.harvest_newest_first(repo, listing)
        if listing.order == BY_ID:
            self.harvest_by_id(repo, listing)
        elif listing.order == UNORDERED:
            self.harvest_unordered(repo, listing)
        elif listing.order == HISTORY:
            self.harvest_history(repo, listing)
        else:
            raise ValueError(f"listing {listing.name}: no way to read order {listing.order!r}")
        return None

    # GraphQL -----------------------------------------------------------------------------

    def wants_graphql(self, repo: dict) -> bool:
        """GraphQL reads the repo's issues and PRs: always with --api graphql; with auto,
        on its first harvest (nothing of it stored yet) or with --full."""
        if self.api == "graphql":
            return True
        return self.api == "auto" and (
            self.full or watermark(self.conn, f"repo:{repo['id']}", LISTINGS["issues"].name) is None)

    def read_graphql(self, repo: dict) -> GraphQLNight | None:
        """Issues and PRs with their comments, reviews and events over GraphQL (and, on a
        complete read, releases): where it stopped for each listing it read, so that REST
        reads on from there (``PRIMED``) or not at all tonight (``REPLACED``). None when
        GraphQL cannot resolve the repo (REST reads it all, and says what became of it)."""
        scope = f"repo:{repo['id']}"
        stored = {name: (watermark(self.conn, scope, name) or {"since": None})["since"]
                  for name, listing in LISTINGS.items() if listing.graphql}
        since = None if self.full or self.api == "auto" else stored[LISTINGS["issues"].name]
        try:
            read = self.graphql().read_repo(repo, since)
        except NotOverGraphQL:
            return None
        night = GraphQLNight(empty=read.empty if since is None else set())
        for name, value in read.newest.items():
            listing = LISTINGS[name]
            if listing.order == BY_ID and not (self.full or watermark(self.conn, scope, name) is None):
                continue  # GraphQL gives no REST ids: once REST has its id watermark, REST reads on
            if listing.order == NEWEST_FIRST and not self.full:
                value = max_of(value, stored[name])  # a newest-first watermark never moves back
            night.newest[name] = value
        return night

    # watermarks --------------------------------------------------------------------------

    def mark(self, repo: dict, endpoint: str) -> tuple[str | None, str | None]:
        """The listing's watermark (since, cursor); none with --full; where GraphQL
        stopped when it read the listing's records tonight."""
        over = self.over_graphql.get(repo["id"])
        if over is not None and endpoint in over.newest:
            return over.newest[endpoint], (None if self.full else self._cursor(repo, endpoint))
        if self.full:
            return None, None
        row = watermark(self.conn, f"repo:{repo['id']}", endpoint)
        return (row["since"], row["cursor"]) if row else (None, None)

    def _cursor(self, repo: dict, endpoint: str) -> str | None:
        row = watermark(self.conn, f"repo:{repo['id']}", endpoint)
        return row["cursor"] if row else None

    def keep(self, repo: dict, endpoint: str, since: str | None, cursor: str | None = None,
             validators: dict | None = None, per_page: int | None = None) -> None:
        set_watermark(self.conn, f"repo:{repo['id']}", endpoint, since, cursor,
                      validators=validators, per_page=per_page)

    # reading ---------------------------------------------------------------------------

    def listing(self, repo: dict, path: str, query: dict, size: int) -> PaginatedList:
        """A repo's listing at ``path``, ``size`` items a page (PyGithub follows the Link
        headers; the session follows 301s)."""
        return PaginatedList(Record, self.client.requester, f"/repos/{repo['full_name']}{path}",
                             {**query, "per_page": size})

    def sized(self, repo: dict, name: str, read: Callable[[int], Any]) -> tuple[Any, int]:
        """``read(page size)``, from the size that last worked for this listing down to the
        smallest while GitHub answers heavy pages with 502/504 or times out; (what read
        returned, the size that worked)."""
        row = watermark(self.conn, f"repo:{repo['id']}", name)
        first = (row["per_page"] if row else None) or PAGE_SIZES[0]
        sizes = [size for size in PAGE_SIZES if size <= first] or [PAGE_SIZES[-1]]
        for size in sizes[:-1]:
            try:
                return read(size), size
            except HeavyPage:
                self.session.say(f"{repo['full_name']} {name}: GitHub failed pages of {size}, "
                                 "asking for smaller ones")
        return read(sizes[-1]), sizes[-1]

    def newest_first(self, listing: Any, since: Any, key: Callable[[dict], Any],
                     save: Callable[[list[dict]], None], size: int,
                     validators: dict | None = None) -> Iterator[list[dict]]:
        """Store a newest-first listing page by page, stopping at the first page that
        reaches ``since``; yields each stored page. 404 means the repo is gone."""
        try:
            for page in pages(listing, size, validators):
                save(page)
                yield page
                if since is not None and any(key(item) is not None and key(item) < since
                                             for item in page):
                    return
        except GithubException as error:
            if error.status == 404:
                raise RepoGone() from None
            raise

    def harvest_newest_first(self, repo: dict, listing: Listing,
                             on_page: Callable[[list[dict]], None] | None = None,
                             then: Callable[[], None] | None = None) -> str | None:
        """A newest-first listing down to its watermark; past GitHub's page cap, the rest
        in ``since`` windows. ``then`` runs before the watermark moves. Returns the first
        page's ETag (None for an empty listing)."""
        since, _ = self.mark(repo, listing.name)

        def read(size: int) -> tuple[Any, dict]:
            newest, oldest, validators = since, None, {}
            save = lambda page: self.saver.save(listing, repo["id"], page)  # noqa: E731
            try:
                for page in self.newest_first(self.listing(repo, listing.path, listing.query, size),
                                              since, listing.mark, save, size, validators):
                    marks = [listing.mark(item) for item in page]
                    newest, oldest = max_of(newest, *marks), min_of(oldest, *marks)
                    if on_page:
                        on_page(page)
            except GithubException as error:
                if not (error.status == 422 and listing.capped):
                    raise
                for page in self.since_windows(repo, listing, since, oldest, size):
                    newest = max_of(newest, *(listing.mark(item) for item in page))
                    if on_page:
                        on_page(page)
            return newest, validators

        (newest, validators), size = self.sized(repo, listing.name, read)
        if then:
            then()
        self.keep(repo, listing.name, newest, validators=validators, per_page=size)
        return validators.get("etag")

    def since_windows(self, repo: dict, listing: Listing, since: str | None, reached: str | None,
                      size: int) -> Iterator[list[dict]]:
        """What GitHub refused past its page cap, oldest first in windows: each starts
        (``since``) at the last item the one before read, so the windows depend only on the
        data (an unchanged night asks the same URLs). Stops at ``reached``, the oldest item
        the newest-first pass stored."""
        start = since
        query = {**listing.query, "direction": "asc"}
        while True:
            last = None
            try:
                window = {**query, **({"since": start} if start else {})}
                for page in pages(self.listing(repo, listing.path, window, size), size):
                    self.saver.save(listing, repo["id"], page)
                    yield page
                    last = max_of(last, *(listing.mark(item) for item in page))
                    if reached is not None and last is not None and last >= reached:
                        return
                return
            except GithubException as error:
                if error.status == 404:
                    raise RepoGone() from None
                if error.status != 422 or last is None or last == start:
                    raise  # a whole cap of items updated within one second: no way on
                start = last

    def harvest_with_items(self, repo: dict, listing: Listing) -> str | None:
        """A newest-first listing (pull requests), then its per-item listing (reviews) for
        every item whose ``updated_at`` moved in it (an issue's does not move for reviews);
        the watermark moves only once those are stored too."""
        since, _ = self.mark(repo, listing.name)
        before = self.saver.updated_by_number(listing.table, repo["id"])
        moved: set[int] = set()

        def note(page: list[dict]) -> None:
            # Moved since the last complete run (whose newest PR is at `since`: its
            # reviews were read then), or since a killed one stored the PR.
            moved.update(item["number"] for item in page
                         if since is None or (item.get("updated_at") or "") > since
                         or before.get(item["number"]) != item.get("updated_at"))

        return self.harvest_newest_first(repo, listing, note,
                                         lambda: self.harvest_per_item(repo, listing.per_item, sorted(moved)))

    def harvest_per_item(self, repo: dict, listing: Listing, numbers: list[int]) -> None:
        """A per-issue (or per-PR) listing for each of ``numbers``; an item that vanished
        (404) simply has none."""
        if not numbers:
            return
        row = watermark(self.conn, f"repo:{repo['id']}", listing.name)
        first = (row["per_page"] if row else None) or PAGE_SIZES[0]
        sizes = [size for size in PAGE_SIZES if size <= first] or [PAGE_SIZES[-1]]
        for number in numbers:
            path = listing.path.format(number=number)
            while True:
                try:
                    for page in pages(self.listing(repo, path, listing.query, sizes[0]), sizes[0]):
                        self.saver.save(listing, repo["id"], page, number)
                    break
                except HeavyPage:
                    if len(sizes) == 1:
                        raise
                    sizes.pop(0)
                except GithubException as error:
                    if error.status != 404:
                        raise
                    break
        if sizes[0] != first:
            self.keep(repo, listing.name, None, per_page=sizes[0])

    def harvest_by_id(self, repo: dict, listing: Listing) -> None:
        """A listing newest first by id whose items never change (issue events): stop at the
        last id seen. Past GitHub's page cap, its per-item listing for the issues updated
        since the watermark (and old enough to hold events older than those read)."""
        since_at, cursor = self.mark(repo, listing.name)
        last_id = int(cursor) if cursor else None
        # After a GraphQL first read (a date, no id yet), stop at the events it read.
        by_date = last_id is None and since_at is not None
        stop_at, key = (since_at, _created) if by_date else (last_id, listing.mark)

        def read(size: int) -> tuple[Any, ...]:
            newest_id, newest_at, oldest_at, validators = last_id, since_at, None, {}
            save = lambda page: self.saver.save(listing, repo["id"], page)  # noqa: E731
            try:
                for page in self.newest_first(self.listing(repo, listing.path, listing.query, size),
                                              stop_at, key, save, size, validators):
                    newest_id = max_of(newest_id, *(item["id"] for item in page))
                    stamps = [item.get("created_at") for item in page]
                    newest_at, oldest_at = max_of(newest_at, *stamps), min_of(oldest_at, *stamps)
            except GithubException as error:
                if error.status != 422:
                    raise
                self.harvest_per_item(repo, listing.per_item,
                                      self.saver.issues_updated(repo["id"], since_at, oldest_at))
            return newest_id, newest_at, validators

        (newest_id, newest_at, validators), size = self.sized(repo, listing.name, read)
        self.keep(repo, listing.name, newest_at, None if newest_id is None else str(newest_id),
                  validators, size)

    def harvest_unordered(self, repo: dict, listing: Listing) -> None:
        """A listing with no promised order (releases): read to its end every time (its
        unchanged pages are free 304s)."""
        def read(size: int) -> tuple[Any, dict]:
            newest, validators = None, {}
            try:
                for page in pages(self.listing(repo, listing.path, listing.query, size), size,
                                  validators):
                    self.saver.save(listing, repo["id"], page)
                    newest = max_of(newest, *(listing.mark(item) for item in page))
            except GithubException as error:
                if error.status == 404:
                    raise RepoGone() from None
                raise
            return newest, validators

        (newest, validators), size = self.sized(repo, listing.name, read)
        self.keep(repo, listing.name, newest, validators=validators, per_page=size)

    def harvest_history(self, repo: dict, listing: Listing) -> None:
        """Default-branch commits, newest first by committer date; an empty repo (409)
        simply has none."""
        since, _ = self.mark(repo, listing.name)
        # GitHub answers an empty repo with a 409 that counts against the rate limit
        # every night: ask again only once something was pushed (even with --full).
        empty_mark = f"empty since push {repo.get('pushed_at')}"
        stored = watermark(self.conn, f"repo:{repo['id']}", listing.name)
        if stored is not None and stored["cursor"] == empty_mark:
            return
        query = {"sha": repo.get("default_branch") or repo.get("master_branch")}

        def read(size: int) -> tuple[Any, dict]:
            newest, validators = since, {}
            save = lambda page: self.saver.save(listing, repo["id"], page)  # noqa: E731
            for page in self.newest_first(self.listing(repo, listing.path, query, size), since,
                                          listing.mark, save, size, validators):
                newest = max_of(newest, *(listing.mark(item) for item in page))
            return newest, validators

        try:
            (newest, validators), size = self.sized(repo, listing.name, read)
        except GithubException as error:
            if error.status == 409:
                self.keep(repo, listing.name, since, empty_mark)
                return
            raise
        self.harvest_missing_parents(repo, listing)
        self.keep(repo, listing.name, newest, validators=validators, per_page=size)

    def harvest_missing_parents(self, repo: dict, listing: Listing, most: int = 50) -> None:
        """Commits that a merge brought onto the default branch with committer dates older
        than the watermark: the newest-first listing stopped before them, so follow the
        parents of stored commits that are not stored yet, each history listing stopping
        where it meets known commits. A full listing leaves no parent missing, so this
        costs nothing unless a merge brought older history. Each sha is asked for once."""
        scope = f"repo:{repo['id']}"
        row = watermark(self.conn, scope, "commit_parents")
        asked = set(json.loads(row["cursor"])) if row and row["cursor"] else set()
        for _ in range(most):
            missing = sorted(self.saver.missing_parents(repo["id"]) - asked)
            if not missing:
                break
            asked.add(missing[0])
            try:
                for page in pages(self.listing(repo, listing.path, {"sha": missing[0]}, PER_PAGE),
                                  PER_PAGE):
                    known = self.saver.known_commits(repo["id"], [c["sha"] for c in page])
                    self.saver.save(listing, repo["id"], page)
                    if known:
                        break
            except GithubException as error:
                if error.status not in (404, 409, 422):  # a sha GitHub no longer has
                    raise
        if asked:
            set_watermark(self.conn, scope, "commit_parents", None, json.dumps(sorted(asked)))


def _created(item: dict) -> Any:
    return item.get("created_at")
