"""The GitHub harvest stage: fetches an organisation's records from the REST API into
the store, incrementally, within rate limits, and resumably.

Fetching goes through PyGithub on a requests-cache session (``HarvestSession``): every
page is a conditional request, so a page that did not change is a 304 that costs no rate
limit. The session owns retries (5xx, dropped connections, truncated bodies),
``Retry-After``, 301s (followed with method and query kept), token switching and token
affinity (``graphminer.harvest.ratelimit``), and says when a page is too heavy for GitHub
(``HeavyPage``); PyGithub builds the URLs and follows the ``Link`` headers. What is read
is declared in ``graphminer.harvest.listings``; storing is ``graphminer.harvest.save``'s
job; the README's "GitHub's hard edges" says what happens at each edge.

Request economy: every listing is read newest first from a URL that never changes (no
``since`` in it: a new ``since`` each night would be a new URL, and a counted request,
even when nothing changed) and paging stops at the first page that reaches the
listing's watermark. Only the listings a repo's signals say can have changed are read
(``graphminer.harvest.signals``; every listing on its sweep night), so an unchanged repo
costs one or two free 304s, and a full harvest costs one request per page of 100 items
plus one per pull request for its reviews. With several tokens, one worker per token
fetches repos in parallel (``graphminer.harvest.workers``).
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import sqlite3
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests
from github import Github, GithubException
from github.GithubObject import NonCompletableGithubObject
from github.PaginatedList import PaginatedList
from github.Requester import RequestsResponse
from requests.adapters import HTTPAdapter
from requests_cache import CachedSession

from graphminer.config import Config
from graphminer.errors import BadInput, Unreachable
from graphminer.harvest import signals, workers
from graphminer.harvest.graphql import GraphQLError, NotOverGraphQL
from graphminer.harvest.listings import ISSUE_EVENTS, LISTINGS, PAGE_SIZES, REVIEWS, Listing
from graphminer.harvest.progress import Progress
from graphminer.harvest.ratelimit import NoTokenLeft, TokenPool
from graphminer.harvest.runs import finish_run, set_watermark, start_run, watermark
from graphminer.harvest.save import Saver
from graphminer.store import harvest_lock, open_store
from graphminer.timeutil import format_instant

PER_PAGE = 100
CACHE_FILE = "http_cache.sqlite"
UNAUTHENTICATED_WARNING = (
    "warning: no GITHUB_TOKEN or GITHUB_TOKENS set: GitHub allows 60 unauthenticated "
    "requests an hour, so this harvest will mostly wait; set GITHUB_TOKEN to a token"
)


TOKEN_HEADER = "X-Graphminer-Token-Fingerprint"
REDIRECTS = (301, 302, 307, 308)
# A page failing this many times in a row with 502/504 or a timeout is too heavy for
# GitHub (once may be a hiccup): the listing is read again with smaller pages.
HEAVY_AFTER = 2


class BadToken(BadInput):
    """GitHub refused a token (401), and no other is left."""


class HeavyPage(Exception):
    """GitHub answered a page of more than the smallest size with 502/504 or timed out:
    the listing is read again with smaller pages."""


@dataclass
class HttpStats:
    """Requests that went over the network, by outcome."""

    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    wait_seconds: float = 0.0
    server_time: str | None = None  # the latest ``Date`` the API sent: the run's end time
    server_start: str | None = None  # the earliest: its start on the same clock

    def __add__(self, other: HttpStats) -> HttpStats:
        statuses = dict(self.by_status)
        for status, count in other.by_status.items():
            statuses[status] = statuses.get(status, 0) + count
        return HttpStats(self.requests + other.requests, self.not_modified + other.not_modified,
                         self.retries + other.retries, statuses,
                         self.wait_seconds + other.wait_seconds,
                         _max(self.server_time, other.server_time),
                         _min(self.server_start, other.server_start))


def server_date(headers: MutableMapping[str, str]) -> str | None:
    """The response's ``Date`` header as ``YYYY-MM-DDTHH:MM:SSZ`` (None without one): a
    harvest starts and ends on the source's clock (docs/rules.md "Dating"), not the local
    one, so a world's frozen clock (``fakehub serve --clock world``) dates both ends."""
    try:
        return format_instant(parsedate_to_datetime(headers.get("Date") or ""))
    except (TypeError, ValueError):
        return None


class CountingAdapter(HTTPAdapter):
    """Counts what really goes over the wire (cache hits never get here) and feeds the
    rate-limit headers of every response to the token pool."""

    def __init__(self, stats: HttpStats, pool: TokenPool) -> None:
        super().__init__(pool_connections=4, pool_maxsize=4, max_retries=0)
        self.stats = stats
        self.pool = pool

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        started = time.perf_counter()
        try:
            response = super().send(request, **kwargs)
        finally:
            self.stats.requests += 1
            self.stats.wait_seconds += time.perf_counter() - started
        self.stats.by_status[response.status_code] = self.stats.by_status.get(response.status_code, 0) + 1
        if response.status_code == 304:
            self.stats.not_modified += 1
        index = self.pool.index_of(request.headers.get("Authorization"))
        self.pool.observe(index, response.headers)
        sent = server_date(response.headers)
        self.stats.server_time = _max(self.stats.server_time, sent)
        self.stats.server_start = _min(self.stats.server_start, sent)
        _public_vary(response.headers)
        fingerprint = self.pool.fingerprint(index)
        if fingerprint:
            # Cached with the response: the token whose ETag this is (token affinity).
            response.headers[TOKEN_HEADER] = fingerprint
        return response


def _public_vary(headers: MutableMapping[str, str]) -> None:
    """Drop Authorization and Cookie from ``Vary``: GitHub varies on them because a token
    may see private data, but we harvest public data, which is the same for every token.
    Left in, every token switch would miss the cache (a counted request), and the cache
    would key responses on the token."""
    vary = headers.get("Vary")
    if vary:
        kept = [part.strip() for part in vary.split(",")
                if part.strip().lower() not in ("authorization", "cookie")]
        headers["Vary"] = ", ".join(kept)


class HarvestSession(CachedSession):
    """A requests-cache session that revalidates every cached page (conditional requests),
    adds the current token itself (so it never enters the cache key, the cache or
    PyGithub's logs), retries what GitHub or the network garbled, and waits as the rate
    limit asks."""

    def __init__(self, cache_dir: Path, cache_days: int, pool: TokenPool, max_retries: int = 5,
                 say: Callable[[str], None] = lambda message: None,
                 sleep: Callable[[float], None] = time.sleep, home: int | None = None,
                 stop: threading.Event | None = None) -> None:
        super().__init__(
            cache_name=str(Path(cache_dir) / CACHE_FILE),
            backend="sqlite",
            wal=True,
            # Kept for cache_days after its last use, but revalidated on every use.
            expire_after=timedelta(days=cache_days),
            always_revalidate=True,
            cache_control=False,
            allowable_codes=(200,),
            allowable_methods=("GET",),
            ignored_parameters=["Authorization", "access_token"],
            match_headers=False,
            stale_if_error=False,
        )
        self.pool = pool
        self.home = home  # the token this session's worker uses (None: the pool's current)
        self.drop_refused = True  # False while probing: a token refused at the start is a mistake
        self.max_retries = max_retries
        self.say = say
        self.stop = stop  # a worker's: set, its next request or wait raises workers.Stopped
        self.pause = workers.sleeper(stop) if stop is not None else sleep
        self.stats = HttpStats()
        # Read proxy settings from the environment once, not at every request.
        self.proxies = urllib.request.getproxies()
        self.trust_env = False
        adapter = CountingAdapter(self.stats, pool)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        pristine = request.copy()
        failures = waits = hops = heavy = 0
        while True:
            if self.stop is not None and self.stop.is_set():
                raise workers.Stopped()
            prepared = pristine.copy()
            try:
                index = self.pool.choose(prefer=self._cached_with(prepared), home=self.home)
            except NoTokenLeft as gone:
                raise BadToken(_bad_token_message(self.pool, gone.last, self.drop_refused)) from None
            prepared.headers.pop("Authorization", None)
            authorization = self.pool.authorization(index)
            if authorization:
                prepared.headers["Authorization"] = authorization
            try:
                response = super().send(prepared, **kwargs)
            except requests.Timeout:
                heavy += 1
                if heavy >= HEAVY_AFTER and _page_size(prepared.url) > PAGE_SIZES[-1]:
                    self._backoff(1)
                    raise HeavyPage(prepared.url) from None
                failures += 1
                if failures > self.max_retries:
                    raise
                self._backoff(failures)
                continue
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError):
                failures += 1
                if failures > self.max_retries:
                    raise
                self._backoff(failures)
                continue
            location = response.headers.get("Location")
            if response.status_code in REDIRECTS and location and hops < 5:
                hops += 1
                pristine = _redirected(pristine, location)
                continue
            verdict = self._verdict(response, index)
            if verdict == "ok":
                return response
            if verdict == "wait":
                waits += 1
                if waits <= 50:
                    continue
                return response
            if response.status_code in (502, 504):
                heavy += 1
                if heavy >= HEAVY_AFTER and _page_size(prepared.url) > PAGE_SIZES[-1]:
                    self._backoff(1)
                    raise HeavyPage(prepared.url)
            failures += 1
            if failures > self.max_retries:
                return response
            self._backoff(failures)

    def _cached_with(self, request: requests.PreparedRequest) -> int | None:
        """The token whose answer to this request is cached (its ETag is that token's)."""
        if len(self.pool.states) < 2 or request.method != "GET":
            return None
        try:
            cached = self.cache.get_response(self.cache.create_key(request))
        except sqlite3.Error:
            return None
        return self.pool.by_fingerprint(cached.headers.get(TOKEN_HEADER)) if cached else None

    def _verdict(self, response: requests.Response, index: int) -> str:
        """'ok' to hand the response to PyGithub, 'wait' after a rate-limit wait, 'retry'."""
        status = response.status_code
        headers = response.headers
        if status == 401:
            if self.drop_refused and len(self.pool.states) > 1:
                with self.pool.lock:  # two workers may meet the same refused token
                    newly = not self.pool.states[index].dropped
                    others = self.pool.drop(index)
                if others:
                    if newly:
                        self.say(f"GitHub refused token #{index + 1} of GITHUB_TOKENS (401 Bad "
                                 "credentials): dropped, going on with the others")
                    return "wait"
            raise BadToken(_bad_token_message(self.pool, index, self.drop_refused))
        if status in (403, 429) and headers.get("X-RateLimit-Remaining") == "0":
            # The primary limit: GitHub answers it with 403 or 429.
            self.pool.exhausted(index, headers)
            return "wait"
        if status in (403, 429) and (headers.get("Retry-After") or _secondary_limit(response)):
            seconds = _retry_after(headers.get("Retry-After"))
            self.say(f"secondary rate limit: waiting {seconds:.0f}s as GitHub asks")
            self.pool.resume_at = time.time() + seconds
            self.pause(seconds)
            self.pool.resume_at = None
            return "wait"
        if status >= 500:
            return "retry"
        if status == 200 and not getattr(response, "from_cache", False) and not _json_ok(response):
            # A body cut short under a matching Content-Length: never keep it.
            self.cache.delete(getattr(response, "cache_key", None) or self.cache.create_key(response.request))
            return "retry"
        return "ok"

    def forget(self, *fragments: str) -> None:
        """Drop every cached response whose URL holds one of ``fragments``."""
        keys = [response.cache_key for response in self.cache.filter(expired=True)
                if any(fragment in response.url for fragment in fragments)]
        if keys:
            self.cache.delete(*keys)

    def _backoff(self, failures: int) -> None:
        self.stats.retries += 1
        self.pause(min(30.0, 0.1 * 2 ** (failures - 1)))


def _retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (GitHub sends seconds; without one its
    docs ask for at least a minute)."""
    try:
        return min(max(float(value), 0.0), 900.0) if value else 60.0
    except ValueError:
        return 60.0


def _secondary_limit(response: requests.Response) -> bool:
    return b"secondary rate limit" in (response.content or b"").lower()


def _json_ok(response: requests.Response) -> bool:
    if "json" not in response.headers.get("Content-Type", "json"):
        return True
    try:
        json.loads(response.content)
    except ValueError:
        return False
    return True


def _bad_token_message(pool: TokenPool, index: int, mid_run: bool) -> str:
    resume = " and run again (the harvest resumes where it stopped)" if mid_run else ""
    if len(pool.states) > 1 and mid_run:
        return (f"GitHub refused every token of GITHUB_TOKENS (401 Bad credentials, the last "
                f"#{index + 1}): set valid tokens{resume}")
    if len(pool.states) > 1:
        return (f"GitHub refused token #{index + 1} of GITHUB_TOKENS (401 Bad credentials): "
                "replace or remove it")
    return f"GitHub refused the token in GITHUB_TOKEN (401 Bad credentials): set a valid token{resume}"


def _page_size(url: str | None) -> int:
    """The per_page of a request URL (GitHub's default 30 when absent)."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url or "").query)
    try:
        return int(query.get("per_page", ["30"])[0])
    except ValueError:
        return 30


def _redirected(request: requests.PreparedRequest, location: str) -> requests.PreparedRequest:
    """``request`` sent to a redirect's ``location`` with its method and query kept
    (GitHub's 301 for a renamed or transferred repo may drop the query; PyGithub would
    keep only the path, silently asking for open issues, 30 a page)."""
    moved = request.copy()
    old = urllib.parse.urlsplit(request.url)
    new = urllib.parse.urlsplit(urllib.parse.urljoin(request.url, location))
    moved.url = urllib.parse.urlunsplit(new._replace(query=new.query or old.query))
    return moved


class _SessionConnection:
    """PyGithub's connection interface (request, getresponse, close) over our session."""

    def __init__(self, session: HarvestSession, scheme: str, host: str, port: int | None,
                 timeout: int | None) -> None:
        self.session = session
        self.host = host
        self.base = f"{scheme}://{host}" + (f":{port}" if port else "")
        self.timeout = timeout

    def request(self, verb: str, url: str, input: Any, headers: dict[str, str],
                stream: bool = False) -> None:
        self.verb, self.url, self.input, self.headers = verb, url, input, headers

    def getresponse(self) -> RequestsResponse:
        response = self.session.request(self.verb, self.base + self.url, headers=self.headers,
                                        data=self.input, timeout=self.timeout,
                                        allow_redirects=False)
        response.encoding = "utf-8"  # GitHub sends UTF-8; skip requests' charset guessing
        return RequestsResponse(response)

    def close(self) -> None:
        pass


def github_client(api_url: str, session: HarvestSession) -> Github:
    """A PyGithub client whose every request goes through ``session``.

    Lazy (objects are not completed by extra requests), 100 items a page, no pause between
    requests (304s are free; the session waits when the rate limit asks), no retries of
    its own (the session's), and no auth: the session adds the token.
    """
    client = Github(base_url=api_url.rstrip("/"), per_page=PER_PAGE, lazy=True, retry=None,
                    seconds_between_requests=None, seconds_between_writes=None, timeout=30,
                    user_agent="graphminer")
    scheme = "https" if api_url.startswith("https") else "http"

    def connection(host: str, port: int | None = None, **options: Any) -> _SessionConnection:
        return _SessionConnection(session, scheme, host, port, options.get("timeout"))

    # PyGithub has no public hook for a session; its connection factory is the seam.
    client.requester._Requester__connectionClass = connection
    return client


def raw(item: Any) -> dict:
    """The JSON of a PyGithub object as GitHub sent it. (``raw_data`` would first
    'complete' a listed object with one more request each: Perceval's appetite.)"""
    return item._rawData


class Record(NonCompletableGithubObject):
    """A listed record as GitHub sent it (``_rawData``), for listings built from their
    declaration (``graphminer.harvest.listings``) rather than a PyGithub class."""

    def _initAttributes(self) -> None:
        pass

    def _useAttributes(self, attributes: Any) -> None:
        pass


def pages(listing: Any, size: int = PER_PAGE, validators: dict | None = None) -> Iterator[list[dict]]:
    """A PyGithub listing of ``size`` items a page as pages of raw records. Pages are
    fetched only as consumed, so a consumer that stops early sends no further request.
    ``validators`` receives the first page's ETag and Last-Modified."""
    page: list[dict] = []
    for item in listing:
        if validators is not None and not validators:
            headers = getattr(item, "_headers", None) or {}
            validators.update(etag=headers.get("etag"), last_modified=headers.get("last-modified"))
        page.append(raw(item))
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


# --- the harvest ------------------------------------------------------------------------


@dataclass
class Summary:
    """What one harvest did: the figures printed at the end and kept in ``_runs``."""

    run_id: int = 0
    status: str = "running"
    orgs: int = 0
    repos: int = 0
    repos_deleted: int = 0
    records_new: int = 0
    records_updated: int = 0
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    rate_remaining: int | None = None
    wait_seconds: float = 0.0
    seconds: float = 0.0  # the harvest itself, without the refresh of derived tables after it
    failures: list[dict] = field(default_factory=list)
    missing_orgs: list[str] = field(default_factory=list)  # configured orgs answering 404
    repos_private: int = 0  # turned private since the last run: purged
    repos_transferred: int = 0  # moved to an owner outside the harvest
    graphql_queries: int = 0  # GraphQL queries answered (issues and PRs of first harvests)

    def lines(self) -> list[str]:
        text = [
            f"harvested {self.repos} repos in {self.orgs} orgs"
            + (f" ({self.repos_deleted} found deleted upstream)" if self.repos_deleted else "")
            + (f" ({self.repos_transferred} transferred out)" if self.repos_transferred else "")
            + (f" ({self.repos_private} turned private: purged)" if self.repos_private else ""),
            f"records: {self.records_new} new, {self.records_updated} updated",
            f"requests: {self.requests} made, {self.not_modified} of them free 304s"
            + (f", {self.retries} retried" if self.retries else "")
            + (f"; {self.graphql_queries} GraphQL queries" if self.graphql_queries else ""),
            "rate limit remaining: "
            + ("unknown" if self.rate_remaining is None else str(self.rate_remaining)),
        ]
        if self.missing_orgs:
            text.append(f"organisations not found (HTTP 404, renamed or deleted?): "
                        f"{', '.join(self.missing_orgs)}")
        if self.failures:
            text.append(f"failed repos ({len(self.failures)}):")
            text += [f"  {f['repo']}: {f['error']}" for f in self.failures]
        return text


class RepoGone(Exception):
    """The repo answered 404 after being listed: deleted (or hidden) upstream."""


def harvest_github(config: Config, *, orgs: list[str] | None = None, api_url: str | None = None,
                   store_path: Path | None = None, cache_dir: Path | None = None,
                   full: bool = False, tokens: list[str] | None = None, api: str | None = None,
                   say: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
                   progress: Progress | None = None) -> Summary:
    """Harvest the configured (or given) orgs into the store; see the module docstring."""
    settings = config["harvest"]
    orgs = list(orgs or settings["orgs"])
    if not orgs:
        raise BadInput("no organisations to harvest: give --org or list them in harvest.orgs")
    api_url = (api_url or settings["api_url"]).rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        raise BadInput(f"the API URL {api_url!r} must start with https:// (or http://): "
                       "check --api-url or harvest.api_url")
    store_path = Path(store_path or config.store_path)
    cache_dir = Path(cache_dir or config.cache_dir)
    if cache_dir.exists() and not cache_dir.is_dir():
        raise BadInput(f"the cache {cache_dir} is a file: give a folder (--cache or paths.cache)")
    if not cache_dir.exists():
        try:
            cache_dir.mkdir(parents=True)
        except OSError as error:
            raise BadInput(f"cannot create the cache folder {cache_dir}: {error}") from None
    tokens = list(tokens or [])
    if not tokens:
        say(UNAUTHENTICATED_WARNING)
    secret = _cache_secret(cache_dir)
    # With several tokens, workers: Ctrl-C or a worker's error stops the others, even
    # while they wait for a rate limit's reset (workers.run_workers)
    stop = threading.Event() if len(tokens) > 1 else None
    sleep = workers.sleeper(stop) if stop is not None else time.sleep
    pool = TokenPool(tokens, floor=settings["rate_floor"], say=say, secret=secret, sleep=sleep)
    # The graphql resource's points are a budget of their own: their own pool.
    points = TokenPool(tokens, floor=settings["rate_floor"], say=say, secret=secret, sleep=sleep)
    api = api or settings["api"]
    if api not in ("auto", "rest", "graphql"):
        raise BadInput(f"--api must be auto, rest or graphql, not {api!r}")
    if not tokens and api != "rest":
        if api == "graphql":  # auto means "where it pays": without a token, nowhere
            say("warning: GitHub's GraphQL API needs a token: reading over REST")
        api = "rest"
    conn = open_store(store_path, threads=len(tokens) > 1)
    try:
        named = " ".join(orgs) if len(orgs) <= 5 else f"of {len(orgs)} orgs"
        with harvest_lock(conn, f"graphminer harvest {named}"):
            def new_session(home: int | None = None) -> HarvestSession:
                return HarvestSession(cache_dir, config["paths"]["cache_days"], pool,
                                      max_retries=settings["max_retries"], say=say, home=home,
                                      stop=None if home is None else stop)

            def new_graphql_session(home: int | None = None) -> HarvestSession:
                return HarvestSession(cache_dir, config["paths"]["cache_days"], points,
                                      max_retries=settings["max_retries"], say=say, home=home,
                                      stop=None if home is None else stop)

            session = new_session()
            try:
                if len(tokens) > 1:
                    _probe_tokens(session, api_url)
                store = workers.SerialStore(conn) if len(tokens) > 1 else conn
                harvester = Harvester(store, config, github_client(api_url, session), session,
                                      full=full, progress=progress or Progress(),
                                      workers=len(tokens), new_session=new_session,
                                      api=api, new_graphql_session=new_graphql_session,
                                      stop=stop)
                summary = harvester.run(orgs, api_url)
                # Not on the way out of Ctrl-C: requests-cache may have been stopped inside
                # a cache transaction, and its next write would wait for it for ever.
                _prune_cache(session)
            finally:
                session.close()
            _after_harvest(conn, config)
    finally:
        conn.close()
    return summary


def _cache_secret(cache_dir: Path) -> bytes:
    """The key of the token fingerprints in the HTTP cache, kept beside it (readable only
    by its owner): without it a fingerprint says nothing about a token."""
    path = cache_dir / "token-key"
    try:
        if not path.exists():
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(secrets.token_bytes(32))
        return path.read_bytes()
    except OSError as error:
        raise BadInput(f"cannot keep the token key in the cache folder {cache_dir}: "
                       f"{error.strerror}; check its permissions") from None


def _probe_tokens(session: HarvestSession, api_url: str) -> None:
    """Ask /rate_limit (free) with each token: a refused one stops the harvest before it
    starts rather than when its turn comes, and the harvest starts on the fullest one."""
    pool = session.pool
    session.drop_refused = False
    with session.cache_disabled():
        for index in range(len(pool.states)):
            pool.current = index
            try:
                session.get(api_url + "/rate_limit", timeout=30)
            except requests.RequestException as error:
                raise Unreachable(f"cannot reach the GitHub API at {_without_credentials(api_url)} "
                                  f"({type(error).__name__} after retries): check --api-url "
                                  "and the network; nothing stored is lost") from None
    session.drop_refused = True
    now = time.time()
    pool.current = max(range(len(pool.states)), key=lambda i: pool.states[i].left(now))


def _prune_cache(session: HarvestSession) -> None:
    """Drop responses not used for cache_days (each use renews a response's expiry)."""
    try:
        session.cache.delete(expired=True)
    except sqlite3.Error:
        pass  # a cache that cannot be pruned now is pruned after the next harvest


def _after_harvest(conn: sqlite3.Connection, config: Config) -> None:
    from graphminer import pipeline

    pipeline.after_harvest(conn, config)


class Harvester:
    """One harvest run over a store: orgs, then their repos, listing by listing (each as
    ``graphminer.harvest.listings`` declares it)."""

    def __init__(self, conn: sqlite3.Connection, config: Config, client: Github,
                 session: HarvestSession, *, full: bool = False,
                 progress: Progress | None = None, workers: int = 1,
                 new_session: Callable[[int], HarvestSession] | None = None, api: str = "rest",
                 new_graphql_session: Callable[[int | None], HarvestSession] | None = None,
                 stop: threading.Event | None = None) -> None:
        self.conn = conn
        self.stop = stop  # the workers' (workers.run_workers)
        self.config = config
        self.settings = config["harvest"]
        self.client = client
        self.session = session
        self.full = full
        self.progress = progress or Progress(False)
        self.saver = Saver(conn, config["people"]["opt_out"])
        self.skip = {name.lower() for name in self.settings["skip_repos"]}
        self.harvested_orgs = {login.lower() for login in self.settings["orgs"]}
        self.summary = Summary()
        self.workers = workers if new_session else 1
        self.new_session = new_session
        self.sessions: list[HarvestSession] = []  # the workers' own
        self.tally = threading.Lock()  # the workers' shared counts
        self.done = self.total = 0
        self.api = api if new_graphql_session else "rest"
        self.new_graphql_session = new_graphql_session
        self.reader: Any = None  # this worker's GraphQL reader, made at its first use
        self.home: int | None = None  # this worker's token (None: the pool's current)
        self.readers: list[Any] = []  # every worker's, for the counts
        # (repo id, listing) -> watermark the GraphQL read set tonight; "first page" for
        # issue events, whose REST ids GraphQL does not give
        self.read_over_graphql: dict[tuple[int, str], Any] = {}
        self.org_sizes: dict[str, int] = {}  # org login (lower case) -> repos listed tonight

    def http_stats(self) -> HttpStats:
        """Requests of this thread's session and every worker's, GraphQL queries included."""
        total = self.session.stats
        for session in [*self.sessions, *(reader.session for reader in self.readers)]:
            total = total + session.stats
        return total

    def run(self, orgs: list[str], api_url: str) -> Summary:
        summary = self.summary
        self.api_url_sent = api_url
        self.api_url = _without_credentials(api_url)
        self.harvested_orgs |= {login.lower() for login in orgs}
        summary.run_id = start_run(self.conn, "github", self.api_url, orgs)
        started = time.perf_counter()
        status = "failed"
        self.progress.follow(self.figures)
        try:
            self.saver.purge_opted_out()
            org_records = [record for record in map(self.fetch_org, orgs) if record]
            if not org_records and summary.missing_orgs:
                missing = summary.missing_orgs[0]
                raise BadInput(f"unknown organisation '{missing}': GitHub has no org by that "
                               "login; check --org or harvest.orgs")
            self.harvest_repos([repo for record in org_records for repo in self.harvest_org(record)])
            if self.settings["profile_fields"]:
                self.harvest_profiles()
            status = "partial" if summary.failures or summary.missing_orgs else "ok"
        finally:
            self.progress.done()
            stats = self.http_stats()
            summary.status = status
            summary.requests, summary.not_modified = stats.requests, stats.not_modified
            summary.retries, summary.wait_seconds = stats.retries, stats.wait_seconds
            summary.rate_remaining = self.session.pool.remaining()
            summary.records_new = self.saver.counts.new
            summary.records_updated = self.saver.counts.updated
            summary.graphql_queries = sum(reader.queries for reader in self.readers)
            summary.seconds = time.perf_counter() - started
            missing = [{"repo": login, "error": "organisation not found (HTTP 404)"}
                       for login in summary.missing_orgs]
            finish_run(self.conn, summary.run_id, status, requests=stats.requests,
                       not_modified=stats.not_modified, rate_remaining=summary.rate_remaining,
                       records_new=self.saver.counts.new,
                       records_updated=self.saver.counts.updated,
                       failures=missing + summary.failures,
                       started_at=stats.server_start, ended_at=stats.server_time)
        return summary

    def figures(self) -> str:
        """Requests so far, the rate limit left, and when the harvest resumes if it sleeps
        (what the progress shows)."""
        stats, pool = self.http_stats(), self.session.pool
        left = pool.remaining()
        text = (f"{stats.requests} requests, {stats.not_modified} free 304s; rate limit "
                + ("unknown" if left is None else f"{left} left"))
        if pool.resume_at is not None and pool.resume_at > time.time():
            text += ", sleeping until " + time.strftime("%H:%M:%S UTC", time.gmtime(pool.resume_at))
        return text

    # orgs ------------------------------------------------------------------------------

    def fetch_org(self, login: str) -> dict | None:
        """The org's record; None (and named in the summary) when GitHub has no such org,
        so that one stale line of the config does not stop the others."""
        try:
            return raw_completed(self.client.get_organization(login))
        except GithubException as error:
            if error.status == 404:
                self.summary.missing_orgs.append(login)
            else:
                self.summary.failures.append({"repo": login, "error": _describe(error)})
            return None
        except requests.RequestException as error:
            raise Unreachable(f"cannot reach the GitHub API at {self.api_url} "
                              f"({type(error).__name__} after retries): check --api-url "
                              "and the network; nothing stored is lost") from None

    def harvest_org(self, org: dict) -> list[tuple[int, dict]]:
        """The org, its members and what became of its stored repos it no longer lists;
        its repos to harvest, as (org id, repo record)."""
        self.saver.save_org(org)
        self.summary.orgs += 1
        handle = self.client.get_organization(org["login"])
        try:
            members = [raw(user) for user in handle.get_public_members()]
            self.saver.save_members(org["id"], members)
            # type=public: a member's token would list the org's private repos too.
            listed = [raw(repo) for repo in handle.get_repos(type="public")]
        except GithubException as error:
            self.summary.failures.append({"repo": org["login"], "error": _describe(error)})
            return []
        except requests.RequestException as error:
            self.summary.failures.append({"repo": org["login"],
                                          "error": f"{type(error).__name__} after retries"})
            return []
        public = [repo for repo in listed if is_public(repo)]
        self.org_sizes[org["login"].lower()] = len(listed)  # the GraphQL counts' page size
        listed_ids = {repo["id"] for repo in public}
        stored = self.saver.repos_of_org(org["id"])
        for repo_id, full_name in stored.items():
            if repo_id not in listed_ids:
                self.left_org(repo_id, full_name)
        return [(org["id"], repo) for repo in public if self.wanted(repo)]

    def harvest_repos(self, wanted: list[tuple[int, dict]]) -> None:
        """Every wanted repo: in this thread with one token, else one worker per token
        (``graphminer.harvest.workers``), each repo always with the same worker."""
        self.done, self.total = 0, len(wanted)
        if self.workers <= 1 or len(wanted) < 2:
            self.harvest_share(wanted, self, threading.Event())
            return
        parts = workers.shares(wanted, self.workers, key=lambda item: item[1]["id"])
        workers.run_workers(parts, self.work, self.stop)

    def work(self, index: int, part: list[tuple[int, dict]], stop: threading.Event) -> None:
        """Worker ``index``: its share of the repos with its own session and home token."""
        session = self.new_session(index)
        self.sessions.append(session)
        worker = copy.copy(self)
        worker.session, worker.client = session, github_client(self.api_url_sent, session)
        worker.home = index  # its GraphQL points are spent on its own token too
        try:
            self.harvest_share(part, worker, stop)
        finally:
            session.close()

    def harvest_share(self, part: list[tuple[int, dict]], worker: Harvester,
                      stop: threading.Event) -> None:
        for org_id, repo in part:
            if stop.is_set():
                return
            self.progress.show(repo["full_name"], self.done, self.total)
            worker.harvest_repo(org_id, repo)
            with self.tally:
                self.done += 1

    def left_org(self, repo_id: int, full_name: str) -> None:
        """A stored repo the org no longer lists: ask GitHub by its old name (a 301 leads
        to where it went). Gone: marked deleted. Private now: purged. Moved to an owner
        outside the harvest: marked transferred. Moved to a harvested org: that org's
        turn stores it under its new name."""
        try:
            with self.session.cache_disabled():  # a private repo's answer is never cached
                now = raw_completed(self.client.get_repo(full_name))
        except GithubException as error:
            if error.status in (404, 410, 451):
                self.summary.repos_deleted += self.saver.mark_deleted([repo_id])
            else:
                self.summary.failures.append({"repo": full_name, "error": _describe(error)})
            return
        if now.get("id") != repo_id:
            self.summary.repos_deleted += self.saver.mark_deleted([repo_id])
        elif not is_public(now):
            self.purge_private(repo_id, full_name)
        elif (now.get("owner") or {}).get("login", "").lower() not in self.harvested_orgs:
            self.summary.repos_transferred += self.saver.mark_transferred(repo_id, now["full_name"])

    def purge_private(self, repo_id: int, full_name: str) -> None:
        """A repo that turned private: nothing of it stays, in the store or the cache."""
        self.saver.purge_repo(repo_id)
        self.session.forget(f"/repos/{full_name}/", f"/repositories/{repo_id}/")
        self.summary.repos_private += 1

    def wanted(self, repo: dict) -> bool:
        if repo.get("fork") and not self.settings["include_forks"]:
            return False
        if repo.get("archived") and not self.settings["include_archived"]:
            return False
        return repo["full_name"].lower() not in self.skip

    # repos -----------------------------------------------------------------------------

    def harvest_repo(self, org_id: int, repo: dict) -> None:
        self.saver.save_repo(org_id, repo)
        try:
            self.harvest_listings(repo)
            self.saver.link_pull_details(repo["id"])
            with self.tally:
                self.summary.repos += 1
        except RepoGone:
            deleted = self.saver.mark_deleted([repo["id"]])
            with self.tally:
                self.summary.repos_deleted += deleted
        except GithubException as error:
            self.summary.failures.append({"repo": repo["full_name"], "error": _describe(error)})
        except (requests.RequestException, ValueError) as error:
            self.summary.failures.append({"repo": repo["full_name"],
                                          "error": f"{type(error).__name__} after retries"})
        except (GraphQLError, HeavyPage) as error:
            self.summary.failures.append({"repo": repo["full_name"], "error": f"GraphQL: {error}"})

    def wants_graphql(self, repo: dict) -> bool:
        """GraphQL reads the repo's issues and PRs: always with --api graphql; with auto,
        on its first harvest (nothing of it stored yet) or with --full."""
        if self.api == "graphql":
            return True
        return self.api == "auto" and (
            self.full or watermark(self.conn, f"repo:{repo['id']}", "issues") is None)

    def harvest_graphql(self, repo: dict) -> None:
        """Issues and PRs with their comments, reviews and events over GraphQL; then REST
        reads only the first page of /issues and /pulls, which primes what the next REST
        night asks (its validators); every watermark is set where GraphQL stopped."""
        from graphminer.harvest.graphql import GraphQLReader

        if self.reader is None:
            self.reader = GraphQLReader(self.new_graphql_session(self.home),
                                        _graphql_url(self.api_url_sent),
                                        self.saver, self.api_url, say=self.session.say,
                                        org_sizes=self.org_sizes)
            with self.tally:
                self.readers.append(self.reader)
        scope = f"repo:{repo['id']}"
        stored = {name: (watermark(self.conn, scope, name) or {"since": None})["since"]
                  for name in ("issues", "pulls", "issue_comments")}
        since = None if self.full or self.api == "auto" else stored["issues"]
        try:
            read = self.reader.read_repo(repo, since)
        except NotOverGraphQL:
            return  # REST reads it all, and says what became of the repo
        newest = dict(read.newest)
        events = newest.pop("issue_events")
        read_releases, releases = "releases" in newest, newest.pop("releases", None)
        for name, value in newest.items():
            if not self.full:
                value = _max(value, stored[name])
            self.read_over_graphql[(repo["id"], name)] = value
        if self.full or watermark(self.conn, scope, "issue_events") is None:
            # REST's next read of /issues/events stops at the events GraphQL read (by
            # date: their REST ids are not known yet) and takes its id watermark then.
            self.read_over_graphql[(repo["id"], "issue_events")] = events
        if read_releases:
            # every release: REST's next read (a push or a sweep) reads them all again
            self.read_over_graphql[(repo["id"], "releases")] = releases
        if since is None:
            # Read completely: with no pull request, /pulls has nothing to prime; with no
            # review thread, /pulls/comments has nothing (every review comment is in one).
            self.read_over_graphql[(repo["id"], "no pulls")] = read.pulls == 0
            self.read_over_graphql[(repo["id"], "no review comments")] = read.review_threads == 0

    def harvest_listings(self, repo: dict) -> None:
        """The listings of a repo that its signals say can have changed (all of them on
        its sweep night); see ``graphminer.harvest.signals``."""
        tonight = signals.plan(self.conn, repo, self.full, self.settings["full_every_days"])
        if self.wants_graphql(repo):
            self.harvest_graphql(repo)
        issues = self.harvest_issues(repo)
        issues_changed = tonight.sweep or signals.changed(self.conn, repo["id"], signals.ISSUES, issues)
        pulls = None
        # GraphQL read the repo tonight and it has no pull request (nor has /issues since):
        # /pulls has nothing to prime, and the next night reads it once /issues changes
        # (signals.Plan.reads_pulls)
        no_pulls = (self.read_over_graphql.get((repo["id"], "no pulls"))
                    and not self.saver.has_pulls(repo["id"]))
        if not no_pulls and tonight.reads_pulls(issues_changed,
                                                bool(self.saver.pulls_updated(repo["id"]))):
            pulls = self.harvest_pulls(repo) or signals.EMPTY
        if issues_changed:
            if (repo["id"], "issue_comments") in self.read_over_graphql:
                # read over GraphQL tonight: its watermark is where GraphQL stopped
                self.keep(repo, "issue_comments", self.mark(repo, "issue_comments")[0])
            else:
                self.harvest_newest_first(repo, LISTINGS["issue_comments"])
            if (repo["id"], "issue_events") in self.read_over_graphql:
                self.keep(repo, "issue_events", self.mark(repo, "issue_events")[0])
            else:
                self.harvest_events(repo)
        if pulls is not None and (tonight.sweep or signals.changed(self.conn, repo["id"],
                                                                   signals.PULLS, pulls)):
            if self.read_over_graphql.get((repo["id"], "no review comments")):
                # every review comment is in a review thread, and GraphQL counted none
                self.keep(repo, "review_comments", self.mark(repo, "review_comments")[0])
            else:
                self.harvest_newest_first(repo, LISTINGS["review_comments"])
        if tonight.pushed:
            self.harvest_commits(repo)
            if (repo["id"], "releases") in self.read_over_graphql:
                self.keep(repo, "releases", self.read_over_graphql[(repo["id"], "releases")])
            else:
                self.harvest_unordered(repo, LISTINGS["releases"])
        signals.remember(self.conn, repo, tonight, issues, pulls, self.settings["full_every_days"])
        for name in ("issues", "pulls", "issue_comments", "issue_events", "releases", "no pulls",
                     "no review comments"):
            self.read_over_graphql.pop((repo["id"], name), None)

    def mark(self, repo: dict, endpoint: str) -> tuple[str | None, str | None]:
        """The listing's watermark (since, cursor); none with --full; where GraphQL
        stopped when it read the listing's records tonight."""
        if (repo["id"], endpoint) in self.read_over_graphql:
            since = self.read_over_graphql[(repo["id"], endpoint)]
            return since, (None if self.full else self._cursor(repo, endpoint))
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
                    newest, oldest = _max(newest, *marks), _min(oldest, *marks)
                    if on_page:
                        on_page(page)
            except GithubException as error:
                if not (error.status == 422 and listing.capped):
                    raise
                for page in self.since_windows(repo, listing, since, oldest, size):
                    newest = _max(newest, *(listing.mark(item) for item in page))
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
                    last = _max(last, *(listing.mark(item) for item in page))
                    if reached is not None and last is not None and last >= reached:
                        return
                return
            except GithubException as error:
                if error.status == 404:
                    raise RepoGone() from None
                if error.status != 422 or last is None or last == start:
                    raise  # a whole cap of items updated within one second: no way on
                start = last

    def harvest_issues(self, repo: dict) -> str | None:
        """Issues and PRs as issues; their first page's ETag (a signal)."""
        return self.harvest_newest_first(repo, LISTINGS["issues"])

    def harvest_pulls(self, repo: dict) -> str | None:
        """Pull requests, then the reviews of every PR whose /pulls updated_at moved (an
        issue's updated_at does not move for reviews); the watermark moves only once those
        reviews are stored too."""
        since, _ = self.mark(repo, "pulls")
        before = self.saver.pulls_updated(repo["id"])
        moved: set[int] = set()

        def note(page: list[dict]) -> None:
            # Moved since the last complete run (whose newest PR is at `since`: its
            # reviews were read then), or since a killed one stored the PR.
            moved.update(item["number"] for item in page
                         if since is None or (item.get("updated_at") or "") > since
                         or before.get(item["number"]) != item.get("updated_at"))

        return self.harvest_newest_first(repo, LISTINGS["pulls"], note,
                                         lambda: self.harvest_per_item(repo, REVIEWS, sorted(moved)))

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

    def harvest_events(self, repo: dict) -> None:
        """Issue events come newest first by id and never change: stop at the last id seen.
        Past GitHub's page cap, the events of the issues updated since the watermark (and
        old enough to hold events older than those read), issue by issue."""
        since_at, cursor = self.mark(repo, "issue_events")
        last_id = int(cursor) if cursor else None
        listing = LISTINGS["issue_events"]
        # After a GraphQL first read (a date, no id yet), stop at the events it read.
        by_date = last_id is None and since_at is not None
        stop_at, key = (since_at, _created) if by_date else (last_id, listing.mark)

        def read(size: int) -> tuple[Any, ...]:
            newest_id, newest_at, oldest_at, validators = last_id, since_at, None, {}
            save = lambda page: self.saver.save(listing, repo["id"], page)  # noqa: E731
            try:
                for page in self.newest_first(self.listing(repo, listing.path, listing.query, size),
                                              stop_at, key, save, size, validators):
                    newest_id = _max(newest_id, *(item["id"] for item in page))
                    stamps = [item.get("created_at") for item in page]
                    newest_at, oldest_at = _max(newest_at, *stamps), _min(oldest_at, *stamps)
            except GithubException as error:
                if error.status != 422:
                    raise
                self.harvest_per_item(repo, ISSUE_EVENTS,
                                      self.saver.issues_updated(repo["id"], since_at, oldest_at))
            return newest_id, newest_at, validators

        (newest_id, newest_at, validators), size = self.sized(repo, "issue_events", read)
        self.keep(repo, "issue_events", newest_at, None if newest_id is None else str(newest_id),
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
                    newest = _max(newest, *(listing.mark(item) for item in page))
            except GithubException as error:
                if error.status == 404:
                    raise RepoGone() from None
                raise
            return newest, validators

        (newest, validators), size = self.sized(repo, listing.name, read)
        self.keep(repo, listing.name, newest, validators=validators, per_page=size)

    def harvest_commits(self, repo: dict) -> None:
        """Default-branch commits, newest first by committer date; an empty repo (409)
        simply has none."""
        listing = LISTINGS["commits"]
        since, _ = self.mark(repo, "commits")
        # GitHub answers an empty repo with a 409 that counts against the rate limit
        # every night: ask again only once something was pushed (even with --full).
        empty_mark = f"empty since push {repo.get('pushed_at')}"
        stored = watermark(self.conn, f"repo:{repo['id']}", "commits")
        if stored is not None and stored["cursor"] == empty_mark:
            return
        query = {"sha": repo.get("default_branch") or repo.get("master_branch")}

        def read(size: int) -> tuple[Any, dict]:
            newest, validators = since, {}
            save = lambda page: self.saver.save(listing, repo["id"], page)  # noqa: E731
            for page in self.newest_first(self.listing(repo, listing.path, query, size), since,
                                          listing.mark, save, size, validators):
                newest = _max(newest, *(listing.mark(item) for item in page))
            return newest, validators

        try:
            (newest, validators), size = self.sized(repo, "commits", read)
        except GithubException as error:
            if error.status == 409:
                self.keep(repo, "commits", since, empty_mark)
                return
            raise
        self.harvest_missing_parents(repo)
        self.keep(repo, "commits", newest, validators=validators, per_page=size)

    def harvest_missing_parents(self, repo: dict, most: int = 50) -> None:
        """Commits that a merge brought onto the default branch with committer dates older
        than the watermark: the newest-first listing stopped before them, so follow the
        parents of stored commits that are not stored yet, each history listing stopping
        where it meets known commits. A full listing leaves no parent missing, so this
        costs nothing unless a merge brought older history. Each sha is asked for once."""
        listing = LISTINGS["commits"]
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

    # profiles --------------------------------------------------------------------------

    def harvest_profiles(self) -> None:
        """Only with ``harvest.profile_fields``: one look-up per person not yet profiled."""
        logins = [row[0] for row in self.conn.execute(
            "SELECT login FROM people WHERE name IS NULL AND email IS NULL "
            "AND (type IS NULL OR type != 'Organization')")]
        for login in logins:
            try:
                self.saver.save_profile(raw_completed(self.client.get_user(login)))
            except GithubException as error:
                if error.status != 404:
                    self.summary.failures.append({"repo": f"user {login}", "error": _describe(error)})


def _created(item: dict) -> Any:
    return item.get("created_at")


def _graphql_url(api_url: str) -> str:
    """GitHub's GraphQL endpoint beside its REST API (``/api/graphql`` on an Enterprise
    server, whose REST API is ``/api/v3``)."""
    api_url = api_url.rstrip("/")
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/v3")] + "/graphql"
    return api_url + "/graphql"


def _without_credentials(url: str) -> str:
    """``url`` without any user:password@ part, for the run record and messages."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def raw_completed(item: Any) -> dict:
    """The JSON of a lazily created PyGithub object, fetched with one request."""
    return item.raw_data


def _max(*values: Any) -> Any:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def _min(*values: Any) -> Any:
    present = [value for value in values if value is not None]
    return min(present) if present else None


def is_public(repo: dict) -> bool:
    """A repo anyone may read: never store anything of another (``private`` or a
    ``visibility`` other than public, as a member's token may see)."""
    return not repo.get("private") and repo.get("visibility", "public") == "public"


def _describe(error: GithubException) -> str:
    message = error.data.get("message") if isinstance(error.data, dict) else None
    return f"HTTP {error.status}" + (f" {message}" if message else "")


def tokens_from_env(environ: dict[str, str]) -> list[str]:
    """Tokens from GITHUB_TOKENS (comma-separated) or else GITHUB_TOKEN.

    Bad input (never naming the token itself): GITHUB_TOKENS set to commas and spaces only
    (rather than harvesting unauthenticated, an hour of waiting), or a token with a
    character that is not printable ASCII (an HTTP header could not carry it).
    """
    many = environ.get("GITHUB_TOKENS", "")
    tokens = [token.strip() for token in many.split(",") if token.strip()]
    if many.strip() and not tokens:
        raise BadInput("GITHUB_TOKENS holds no token (only commas and spaces): give tokens "
                       "separated by commas, or unset it")
    where = [f"token #{number} of GITHUB_TOKENS" for number in range(1, len(tokens) + 1)]
    if not tokens and environ.get("GITHUB_TOKEN", "").strip():
        tokens, where = [environ["GITHUB_TOKEN"].strip()], ["GITHUB_TOKEN"]
    for token, place in zip(tokens, where, strict=True):
        if not (token.isascii() and token.isprintable()):
            raise BadInput(f"the {place} holds a character that is not printable ASCII: a GitHub token is "
                           "ASCII letters, digits and underscores; copy it again")
    return tokens
