"""The GitHub harvest's transport: the HTTP session, retries, the cache and token choice.

``HarvestSession`` is a requests-cache session on which every page is a conditional
request, so a page that did not change is a 304 that costs no rate limit. It owns
retries (5xx, dropped connections, truncated bodies), ``Retry-After``, 301s (followed with
method and query kept), token switching and token affinity (the pool is
``graphminer.harvest.ratelimit``'s), and says when a page is too heavy for GitHub
(``HeavyPage``). ``github_client`` puts PyGithub on it (PyGithub builds the URLs and
follows the ``Link`` headers); ``pages`` turns a PyGithub listing into pages of raw
records. Tokens come from the environment (``tokens_from_env``); the cache keeps a keyed
fingerprint of each, never a token. Nothing here knows what is harvested: that is
``graphminer.harvest.listings`` (what) and ``graphminer.harvest.reading`` (how).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
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
from github import Github
from github.GithubObject import NonCompletableGithubObject
from github.Requester import RequestsResponse
from requests.adapters import HTTPAdapter
from requests_cache import CachedSession

from graphminer.errors import BadInput, Unreachable
from graphminer.harvest import workers
from graphminer.harvest.listings import PAGE_SIZES
from graphminer.harvest.ratelimit import NoTokenLeft, TokenPool
from graphminer.timeutil import format_instant

PER_PAGE = 100
CACHE_FILE = "http_cache.sqlite"
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
                         max_of(self.server_time, other.server_time),
                         min_of(self.server_start, other.server_start))


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
        self.stats.server_time = max_of(self.stats.server_time, sent)
        self.stats.server_start = min_of(self.stats.server_start, sent)
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


def raw_completed(item: Any) -> dict:
    """The JSON of a lazily created PyGithub object, fetched with one request."""
    return item.raw_data


def max_of(*values: Any) -> Any:
    """The largest of ``values`` that is not None (None when none is)."""
    present = [value for value in values if value is not None]
    return max(present) if present else None


def min_of(*values: Any) -> Any:
    """The smallest of ``values`` that is not None (None when none is)."""
    present = [value for value in values if value is not None]
    return min(present) if present else None


def graphql_url(api_url: str) -> str:
    """GitHub's GraphQL endpoint beside its REST API (``/api/graphql`` on an Enterprise
    server, whose REST API is ``/api/v3``)."""
    api_url = api_url.rstrip("/")
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/v3")] + "/graphql"
    return api_url + "/graphql"


def without_credentials(url: str) -> str:
    """``url`` without any user:password@ part, for the run record and messages."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


# --- tokens and the cache --------------------------------------------------------------


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


def cache_secret(cache_dir: Path) -> bytes:
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


def probe_tokens(session: HarvestSession, api_url: str) -> None:
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
                raise Unreachable(f"cannot reach the GitHub API at {without_credentials(api_url)} "
                                  f"({type(error).__name__} after retries): check --api-url "
                                  "and the network; nothing stored is lost") from None
    session.drop_refused = True
    now = time.time()
    pool.current = max(range(len(pool.states)), key=lambda i: pool.states[i].left(now))


def prune_cache(session: HarvestSession) -> None:
    """Drop responses not used for cache_days (each use renews a response's expiry)."""
    try:
        session.cache.delete(expired=True)
    except sqlite3.Error:
        pass  # a cache that cannot be pruned now is pruned after the next harvest
