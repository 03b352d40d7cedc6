"""The following stage: where makers went beyond the harvested organisations (opt-in).

After the org harvest, with ``[careers] follow = true`` (and no ``--no-follow``), every
maker who reached first_landed, has a GitHub account and is not opted out is followed:

- ``/users/{login}/repos?type=owner&sort=created`` (newest first): repos under their own
  account; ``/repos/{o}/{r}/contributors`` of the non-forks among them (founder
  candidates), asked again only when the repo was pushed to since;
- ``/users/{login}/orgs``: public memberships (undated: shown, never a milestone);
- ``/search/issues?q=author:{login} is:pr is:merged merged:>=W``: their merged PRs, from
  the newest merge already stored; a window holding more than search's 1,000 reachable
  results is halved by merge date until each half fits. The harvested orgs are dropped
  here, not with ``-org:`` qualifiers (GitHub caps a query's length).

Every URL is stable between follows, so a quiet re-follow is answered by 304s that cost no
rate limit. Search has its own limit (30 a minute per token): its requests go through a
session of their own whose token pool reads only the ``search`` headers and sleeps to the
reset when none is left, so following never meets a 403 or 429 there. A maker is followed
at most every ``[careers] follow_every_days``. Only repository full names, owner logins and
kinds, dates and merged-or-not are stored (migration 0007); opted-out makers are never
asked about. Classification is ``graphminer.destinations``'; the milestones are read from
these tables by ``graphminer.trajectory``. Who reached first_landed, and whose identities
are opted out, are the analysis' and identities' answers: ``graphminer.pipeline`` asks them
and hands them here, then refreshes the precomputed tables.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from graphminer.config import Config
from graphminer.destinations import Classifier, classifier_for
from graphminer.harvest.ratelimit import TokenPool
from graphminer.harvest.session import HarvestSession
from graphminer.store import harvest_end, utc_now

SEARCH_CAP = 1000  # results reachable per search query
PER_PAGE = 100
EPOCH = "2008-01-01T00:00:00Z"  # before GitHub: the lower end of a maker's first window
BOT_SUFFIX = "[bot]"


@dataclass
class Maker:
    """One maker to follow: the account and the dates the rules measure from."""

    key: str
    user_id: int
    login: str
    first_contact: str | None = None  # network first_contact: older repos are no founder candidates


@dataclass
class FollowSummary:
    """What one follow did."""

    makers: int = 0  # followed this time
    skipped_recent: int = 0  # followed less than follow_every_days ago
    opted_out: int = 0
    requests: int = 0
    not_modified: int = 0
    search_requests: int = 0
    search_wait_seconds: float = 0.0
    prs: int = 0
    repos: int = 0
    failures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        text = [f"followed {self.makers} makers beyond the harvested orgs "
                f"({self.skipped_recent} followed recently, {self.opted_out} opted out, skipped)",
                f"follow requests: {self.requests} made, {self.not_modified} of them free 304s, "
                f"{self.search_requests} searches ({self.search_wait_seconds:.0f}s waiting on the search limit)",
                f"found: {self.prs} merged PRs elsewhere, {self.repos} repos of their own"]
        text += [f"  could not follow {failure}" for failure in self.failures]
        return text


# --- who is followed -------------------------------------------------------------------


def makers_to_follow(conn: sqlite3.Connection, config: Config, landed: dict[str, str | None],
                     excluded: set[str]) -> tuple[list[Maker], int]:
    """(makers to follow, how many were left out as opted out), by login: of ``landed``
    (key -> network first_contact of the makers who reached first_landed), those whose key
    is not in ``excluded`` (any identity opted out)."""
    chosen, refused = [], 0
    rows = conn.execute("SELECT key, user_id, login FROM makers WHERE user_id IS NOT NULL "
                        "AND login IS NOT NULL AND login != '' AND is_bot = 0 ORDER BY login")
    for key, user_id, login in rows:
        if key not in landed:
            continue
        if key in excluded or login.lower() in config.opt_out:
            refused += 1
            continue
        chosen.append(Maker(str(key), int(user_id), str(login), landed[key]))
    return chosen, refused


def forget_opted_out(conn: sqlite3.Connection, opt_out: set[str], keys: set[str]) -> None:
    """Delete what earlier follows stored of people who have opted out since (``keys``:
    the makers any of whose identities is opted out)."""
    if not opt_out:
        return
    users = [user_id for user_id, login in conn.execute("SELECT user_id, login FROM follow_makers")
             if login.lower() in opt_out]
    users += [user_id for key, user_id in conn.execute("SELECT key, user_id FROM makers") if key in keys]
    with conn:
        for table in ("follow_prs", "follow_repos", "follow_orgs", "follow_makers"):
            conn.executemany(f"DELETE FROM {table} WHERE user_id = ?", [(u,) for u in set(users)])  # noqa: S608


def due(conn: sqlite3.Connection, maker: Maker, now: str, every_days: int) -> bool:
    """Whether the maker was last followed ``every_days`` or more before ``now``."""
    row = conn.execute("SELECT followed_at FROM follow_makers WHERE user_id = ?",
                       (maker.user_id,)).fetchone()
    if row is None:
        return True
    return _parse(row[0]) + timedelta(days=every_days) <= _parse(now)


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- fetching --------------------------------------------------------------------------


class Fetcher:
    """GETs through the project's harvest sessions: ``core`` for listings, ``search`` (its
    own token pool, reading the search resource's headers) for searches."""

    def __init__(self, api_url: str, core: Any, search: Any) -> None:
        self.api_url = api_url.rstrip("/")
        self.core = core
        self.search = search

    def get(self, path: str, params: dict | None = None, searching: bool = False) -> requests.Response:
        session = self.search if searching else self.core
        response = session.get(self.api_url + path, params=params, timeout=30)
        if response.status_code not in (200, 204):
            raise FollowError(f"{path}: GitHub answered {response.status_code}")
        return response

    def pages(self, path: str, params: dict) -> Iterator[list[dict]]:
        """A listing's pages, following ``Link: rel=next`` (stop consuming to stop asking)."""
        response = self.get(path, params)
        while True:
            yield response.json() if response.status_code == 200 else []
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            response = self.core.get(following, timeout=30)
            if response.status_code != 200:
                raise FollowError(f"{path}: GitHub answered {response.status_code}")


class FollowError(Exception):
    """A maker whose follow could not finish (the next follow retries them)."""


def merged_query(login: str, low: str | None, high: str | None) -> str:
    """The search query of a maker's merged PRs merged between ``low`` and ``high``.

    >>> merged_query("ana", "2023-05-02T10:00:00Z", None)
    'author:ana is:pr is:merged merged:>=2023-05-02T10:00:00Z'
    >>> merged_query("ana", None, None), merged_query("ana", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z")
    ('author:ana is:pr is:merged', 'author:ana is:pr is:merged merged:2020-01-01T00:00:00Z..2021-01-01T00:00:00Z')
    """
    query = f"author:{login} is:pr is:merged"
    if low and high:
        return f"{query} merged:{low}..{high}"
    if low:
        return f"{query} merged:>={low}"
    return query


def search_merged(fetcher: Fetcher, login: str, low: str | None, high: str | None,
                  now: str) -> Iterator[dict]:
    """Every merged PR the maker authored, merged in [low, high], in windows of at most
    1,000 results (a window with more is halved by merge date)."""
    params = {"q": merged_query(login, low, high), "sort": "created", "order": "asc",
              "per_page": PER_PAGE}
    first = fetcher.get("/search/issues", params, searching=True).json()
    if first["total_count"] > SEARCH_CAP:
        start, end = _parse(low or EPOCH), _parse(high or now)
        if end - start > timedelta(seconds=1):
            middle = start + (end - start) / 2
            yield from search_merged(fetcher, login, _format(start), _format(middle), now)
            yield from search_merged(fetcher, login, _format(middle + timedelta(seconds=1)),
                                     _format(end), now)
            return
    yield from first["items"]
    page = 1
    while page * PER_PAGE < min(first["total_count"], SEARCH_CAP):
        page += 1
        yield from fetcher.get("/search/issues", {**params, "page": page}, searching=True).json()["items"]


def prime_search_pool(session: Any, api_url: str) -> None:
    """Learn each token's search budget from ``/rate_limit`` (free): a search window an
    earlier run emptied would otherwise meet a 403/429 before its first response told us."""
    pool = session.pool
    with session.cache_disabled():
        for index, state in enumerate(pool.states):
            pool.current = index
            response = session.get(api_url + "/rate_limit", timeout=30)
            search = (response.json().get("resources") or {}).get("search") if response.ok else None
            if search:
                state.limit, state.remaining = search.get("limit"), search.get("remaining")
                state.reset = float(search.get("reset") or 0) or None
    pool.current = 0


# --- one maker ----------------------------------------------------------------------------


def follow_maker(conn: sqlite3.Connection, fetcher: Fetcher, maker: Maker, classifier: Classifier,
                 now: str) -> tuple[int, int]:
    """Follow one maker into the store: (merged PRs stored, own repos stored)."""
    login = maker.login
    prs = _follow_prs(conn, fetcher, maker, classifier, now)
    repos = _follow_repos(conn, fetcher, maker)
    orgs = [org["login"] for page in fetcher.pages(f"/users/{login}/orgs", {"per_page": PER_PAGE})
            for org in page]
    conn.execute("DELETE FROM follow_orgs WHERE user_id = ?", (maker.user_id,))
    conn.executemany("INSERT OR REPLACE INTO follow_orgs VALUES (?, ?, ?)",
                     [(maker.user_id, org, classifier.kind(org)) for org in orgs])
    newest = conn.execute("SELECT MAX(merged_at) FROM follow_prs WHERE user_id = ?",
                          (maker.user_id,)).fetchone()[0]
    conn.execute("INSERT OR REPLACE INTO follow_makers VALUES (?, ?, ?, ?)",
                 (maker.user_id, login, now, newest))
    return prs, repos


def _follow_prs(conn: sqlite3.Connection, fetcher: Fetcher, maker: Maker, classifier: Classifier,
                now: str) -> int:
    row = conn.execute("SELECT merged_since FROM follow_makers WHERE user_id = ?",
                       (maker.user_id,)).fetchone()
    since = row[0] if row else None
    stored = 0
    for item in search_merged(fetcher, maker.login, since, None, now):
        full_name = item["repository_url"].split("/repos/", 1)[1]
        owner = full_name.split("/", 1)[0]
        kind = classifier.kind(owner)
        if kind == "harvested" or (item.get("user") or {}).get("id") not in (maker.user_id, None):
            continue
        merged_at = (item.get("pull_request") or {}).get("merged_at")
        cursor = conn.execute("INSERT OR IGNORE INTO follow_prs(user_id, repo_full_name, owner_login, owner_kind, "
                              "created_at, merged_at, merged) VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (maker.user_id, full_name, owner, kind, item["created_at"], merged_at,
                               int(merged_at is not None)))
        stored += cursor.rowcount
    return stored


def _follow_repos(conn: sqlite3.Connection, fetcher: Fetcher, maker: Maker) -> int:
    """Their own repos, newest first until one already stored; then contributors of the
    founder candidates (non-forks created after their first contact) not yet known to have
    another contributor, when pushed to since last asked."""
    known = {name: (others, pushed) for name, others, pushed in conn.execute(
        "SELECT repo_full_name, others, checked_pushed_at FROM follow_repos WHERE user_id = ?",
        (maker.user_id,))}
    params = {"type": "owner", "sort": "created", "direction": "desc", "per_page": PER_PAGE}
    listed: list[dict] = []
    for page in fetcher.pages(f"/users/{maker.login}/repos", params):
        listed += page
        if any(repo["full_name"] in known for repo in page):
            break
    stored = 0
    for repo in listed:
        name = repo["full_name"]
        others, checked = known.get(name, (None, None))
        pushed = repo.get("pushed_at") or repo["created_at"]
        candidate = maker.first_contact is None or repo["created_at"] > maker.first_contact
        if not repo.get("fork") and candidate and others != 1 and checked != pushed:
            others = _has_other_contributor(fetcher, name, maker)
            checked = pushed
        conn.execute("INSERT OR REPLACE INTO follow_repos(user_id, repo_full_name, owner_login, created_at, fork, "
                     "others, checked_pushed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (maker.user_id, name, repo["owner"]["login"], repo["created_at"],
                      int(bool(repo.get("fork"))), others, checked))
        stored += name not in known
    return stored


def _has_other_contributor(fetcher: Fetcher, full_name: str, maker: Maker) -> int:
    """1 when an account other than the maker, and not a bot, contributed to the repo."""
    for page in fetcher.pages(f"/repos/{full_name}/contributors", {"per_page": PER_PAGE}):
        for person in page:
            login = person.get("login")
            if (login and person.get("id") != maker.user_id and person.get("type") != "Bot"
                    and not login.lower().endswith(BOT_SUFFIX)):
                return 1
    return 0


# --- the stage ----------------------------------------------------------------------------


def follow_makers(conn: sqlite3.Connection, config: Config, landed: dict[str, str | None],
                  excluded: set[str], *, api_url: str | None = None, cache_dir: Path | None = None,
                  tokens: list[str] | None = None, say: Callable[[str], None] = lambda message: None,
                  sleep: Callable[[float], None] = time.sleep) -> FollowSummary:
    """Follow the landed makers (``landed``: key -> network first_contact; ``excluded``: the
    opted-out makers' keys) into a store whose lock the caller holds; see the module
    docstring."""
    api_url = (api_url or config["harvest"]["api_url"]).rstrip("/")
    cache_dir = Path(cache_dir or config.cache_dir)
    tokens = list(tokens or [])
    summary = FollowSummary()
    now = harvest_end(conn) or utc_now()
    forget_opted_out(conn, config.opt_out, excluded)
    makers, summary.opted_out = makers_to_follow(conn, config, landed, excluded)
    every = config["careers"]["follow_every_days"]
    chosen = [maker for maker in makers if due(conn, maker, now, every)]
    summary.skipped_recent = len(makers) - len(chosen)
    pool = TokenPool(tokens, floor=config["harvest"]["rate_floor"], say=say)
    search_pool = TokenPool(tokens, floor=0, say=lambda text: say("search API: " + text),
                            sleep=sleep)
    search_cache = cache_dir / "search"
    search_cache.mkdir(parents=True, exist_ok=True)
    core = HarvestSession(cache_dir, config["paths"]["cache_days"], pool,
                          max_retries=config["harvest"]["max_retries"], say=say)
    searching = HarvestSession(search_cache, config["paths"]["cache_days"], search_pool,
                               max_retries=config["harvest"]["max_retries"], say=say,
                               sleep=sleep)
    try:
        prime_search_pool(searching, api_url)
        fetcher = Fetcher(api_url, core, searching)
        harvested = [row[0] for row in conn.execute("SELECT login FROM orgs")]
        classifier = classifier_for(config, [*config["harvest"]["orgs"], *harvested])
        for maker in chosen:
            try:
                prs, repos = follow_maker(conn, fetcher, maker, classifier, now)
            except (FollowError, requests.RequestException, KeyError, ValueError) as error:
                conn.rollback()
                summary.failures.append(f"{maker.login}: {error}")
                continue
            conn.commit()
            summary.makers += 1
            summary.prs += prs
            summary.repos += repos
    finally:
        core.close()
        searching.close()
    summary.requests = core.stats.requests + searching.stats.requests
    summary.not_modified = core.stats.not_modified + searching.stats.not_modified
    summary.search_requests = searching.stats.requests
    summary.search_wait_seconds = search_pool.slept_seconds
    return summary
