"""The GitHub harvest stage: fetches an organisation's records from the REST API into
the store, incrementally, within rate limits, and resumably.

Fetching goes through PyGithub on a requests-cache session (``HarvestSession``): every
page is a conditional request, so a page that did not change is a 304 that costs no rate
limit. The session owns retries (5xx, dropped connections, truncated bodies),
``Retry-After`` and token switching (``graphminer.harvest.ratelimit``); PyGithub builds
the URLs and follows the ``Link`` headers. Storing is ``graphminer.harvest.save``'s job.

Request economy: every listing is read newest first from a URL that never changes (no
``since`` in it: a new ``since`` each night would be a new URL, and a counted request,
even when nothing changed) and paging stops at the first page that reaches the
listing's watermark. So an unchanged repo costs seven free 304s, and a full harvest
costs one request per page of 100 items plus one per pull request for its reviews.
"""

from __future__ import annotations

import json
import sqlite3
import sys
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
from github.Requester import RequestsResponse
from requests.adapters import HTTPAdapter
from requests_cache import CachedSession

from graphminer.config import Config
from graphminer.errors import BadInput
from graphminer.harvest.ratelimit import TokenPool
from graphminer.harvest.save import Saver, finish_run, set_watermark, start_run, watermark
from graphminer.store import harvest_lock, open_store
from graphminer.timeutil import format_instant

PER_PAGE = 100
CACHE_FILE = "http_cache.sqlite"
UNAUTHENTICATED_WARNING = (
    "warning: no GITHUB_TOKEN or GITHUB_TOKENS set: GitHub allows 60 unauthenticated "
    "requests an hour, so this harvest will mostly wait; set GITHUB_TOKEN to a token"
)


class BadToken(BadInput):
    """GitHub refused a token (401)."""


@dataclass
class HttpStats:
    """Requests that went over the network, by outcome."""

    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    wait_seconds: float = 0.0
    server_time: str | None = None  # the latest ``Date`` the API sent: the run's end time


def server_time(headers: MutableMapping[str, str], latest: str | None) -> str | None:
    """The later of ``latest`` and the response's ``Date`` header (``YYYY-MM-DDTHH:MM:SSZ``):
    a harvest ends on the source's clock (docs/rules.md "Dating"), not the local one."""
    try:
        sent = format_instant(parsedate_to_datetime(headers.get("Date") or ""))
    except (TypeError, ValueError):
        return latest
    return max(latest, sent) if latest else sent


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
        self.stats.server_time = server_time(response.headers, self.stats.server_time)
        self.pool.observe(self.pool.current, response.headers)
        _public_vary(response.headers)
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
                 sleep: Callable[[float], None] = time.sleep) -> None:
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
        self.max_retries = max_retries
        self.say = say
        self.pause = sleep
        self.stats = HttpStats()
        # Read proxy settings from the environment once, not at every request.
        self.proxies = urllib.request.getproxies()
        self.trust_env = False
        adapter = CountingAdapter(self.stats, pool)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        pristine = request.copy()
        failures = 0
        waits = 0
        while True:
            prepared = pristine.copy()
            index = self.pool.choose()
            prepared.headers.pop("Authorization", None)
            authorization = self.pool.authorization()
            if authorization:
                prepared.headers["Authorization"] = authorization
            try:
                response = super().send(prepared, **kwargs)
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError):
                failures += 1
                if failures > self.max_retries:
                    raise
                self._backoff(failures)
                continue
            verdict = self._verdict(response, index)
            if verdict == "ok":
                return response
            if verdict == "wait":
                waits += 1
                if waits <= 50:
                    continue
                return response
            failures += 1
            if failures > self.max_retries:
                return response
            self._backoff(failures)

    def _verdict(self, response: requests.Response, index: int) -> str:
        """'ok' to hand the response to PyGithub, 'wait' after a rate-limit wait, 'retry'."""
        status = response.status_code
        headers = response.headers
        if status == 401:
            raise BadToken(_bad_token_message(self.pool, index))
        if status in (403, 429) and (headers.get("Retry-After") or _secondary_limit(response)):
            seconds = _retry_after(headers.get("Retry-After"))
            self.say(f"secondary rate limit: waiting {seconds:.0f}s as GitHub asks")
            self.pause(seconds)
            return "wait"
        if status == 403 and headers.get("X-RateLimit-Remaining") == "0":
            self.pool.exhausted(index, headers)
            return "wait"
        if status >= 500:
            return "retry"
        if status == 200 and not getattr(response, "from_cache", False) and not _json_ok(response):
            # A body cut short under a matching Content-Length: never keep it.
            self.cache.delete(getattr(response, "cache_key", None) or self.cache.create_key(response.request))
            return "retry"
        return "ok"

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


def _bad_token_message(pool: TokenPool, index: int) -> str:
    if len(pool.states) > 1:
        return (f"GitHub refused token #{index + 1} of GITHUB_TOKENS (401 Bad credentials): "
                "replace or remove it")
    return "GitHub refused the token in GITHUB_TOKEN (401 Bad credentials): set a valid token"


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


def pages(listing: Any, validators: dict | None = None) -> Iterator[list[dict]]:
    """A PyGithub listing as pages of raw records. Pages are fetched only as consumed, so
    a consumer that stops early sends no further request. ``validators`` receives the
    first page's ETag and Last-Modified."""
    page: list[dict] = []
    for item in listing:
        if validators is not None and not validators:
            headers = getattr(item, "_headers", None) or {}
            validators.update(etag=headers.get("etag"), last_modified=headers.get("last-modified"))
        page.append(raw(item))
        if len(page) == PER_PAGE:
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

    def lines(self) -> list[str]:
        text = [
            f"harvested {self.repos} repos in {self.orgs} orgs"
            + (f" ({self.repos_deleted} found deleted upstream)" if self.repos_deleted else ""),
            f"records: {self.records_new} new, {self.records_updated} updated",
            f"requests: {self.requests} made, {self.not_modified} of them free 304s"
            + (f", {self.retries} retried" if self.retries else ""),
            "rate limit remaining: "
            + ("unknown" if self.rate_remaining is None else str(self.rate_remaining)),
        ]
        if self.failures:
            text.append(f"failed repos ({len(self.failures)}):")
            text += [f"  {f['repo']}: {f['error']}" for f in self.failures]
        return text


class RepoGone(Exception):
    """The repo answered 404 after being listed: deleted (or hidden) upstream."""


class Progress:
    """A progress bar on stderr, only when stderr is a terminal (quiet otherwise)."""

    WIDTH = 24

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def show(self, text: str, done: int = 0, total: int = 0) -> None:
        if not self.enabled:
            return
        bar = ""
        if total:
            filled = round(self.WIDTH * done / total)
            bar = "[" + "#" * filled + "." * (self.WIDTH - filled) + f"] {done}/{total} "
        sys.stderr.write("\r\033[K" + (bar + text)[:150])
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def harvest_github(config: Config, *, orgs: list[str] | None = None, api_url: str | None = None,
                   store_path: Path | None = None, cache_dir: Path | None = None,
                   full: bool = False, tokens: list[str] | None = None,
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
    pool = TokenPool(tokens, floor=settings["rate_floor"], say=say)
    conn = open_store(store_path)
    try:
        named = " ".join(orgs) if len(orgs) <= 5 else f"of {len(orgs)} orgs"
        with harvest_lock(conn, f"graphminer harvest {named}"):
            session = HarvestSession(cache_dir, config["paths"]["cache_days"], pool,
                                     max_retries=settings["max_retries"], say=say)
            try:
                if len(tokens) > 1:
                    _probe_tokens(session, api_url)
                harvester = Harvester(conn, config, github_client(api_url, session), session,
                                      full=full, progress=progress or Progress())
                summary = harvester.run(orgs, api_url)
            finally:
                _prune_cache(session)
                session.close()
            _after_harvest(conn, config)
    finally:
        conn.close()
    return summary


def _probe_tokens(session: HarvestSession, api_url: str) -> None:
    """Ask /rate_limit (free) with each token: a refused one stops the harvest before it
    starts rather than when its turn comes, and the harvest starts on the fullest one."""
    pool = session.pool
    with session.cache_disabled():
        for index in range(len(pool.states)):
            pool.current = index
            try:
                session.get(api_url + "/rate_limit", timeout=30)
            except requests.RequestException as error:
                raise BadInput(f"cannot reach the GitHub API at {_without_credentials(api_url)} "
                               f"({type(error).__name__} after retries): check --api-url "
                               "and the network") from None
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
    """One harvest run over a store: orgs, then their repos, listing by listing."""

    def __init__(self, conn: sqlite3.Connection, config: Config, client: Github,
                 session: HarvestSession, *, full: bool = False,
                 progress: Progress | None = None) -> None:
        self.conn = conn
        self.config = config
        self.settings = config["harvest"]
        self.client = client
        self.session = session
        self.full = full
        self.progress = progress or Progress(False)
        self.saver = Saver(conn, config["people"]["opt_out"])
        self.skip = {name.lower() for name in self.settings["skip_repos"]}
        self.summary = Summary()

    def run(self, orgs: list[str], api_url: str) -> Summary:
        summary = self.summary
        self.api_url = _without_credentials(api_url)
        summary.run_id = start_run(self.conn, self.api_url, orgs)
        started = time.perf_counter()
        status = "failed"
        try:
            self.saver.purge_opted_out()
            org_records = [self.fetch_org(login) for login in orgs]
            for record in org_records:
                self.harvest_org(record)
            if self.settings["profile_fields"]:
                self.harvest_profiles()
            status = "partial" if summary.failures else "ok"
        finally:
            self.progress.done()
            stats = self.session.stats
            summary.status = status
            summary.requests, summary.not_modified = stats.requests, stats.not_modified
            summary.retries, summary.wait_seconds = stats.retries, stats.wait_seconds
            summary.rate_remaining = self.session.pool.remaining()
            summary.records_new = self.saver.counts.new
            summary.records_updated = self.saver.counts.updated
            summary.seconds = time.perf_counter() - started
            finish_run(self.conn, summary.run_id, status, requests=stats.requests,
                       not_modified=stats.not_modified, rate_remaining=summary.rate_remaining,
                       counts=self.saver.counts, failures=summary.failures,
                       ended_at=stats.server_time)
        return summary

    # orgs ------------------------------------------------------------------------------

    def fetch_org(self, login: str) -> dict:
        try:
            return raw_completed(self.client.get_organization(login))
        except GithubException as error:
            if error.status == 404:
                raise BadInput(
                    f"unknown organisation '{login}': GitHub has no org by that login; "
                    "check --org or harvest.orgs"
                ) from None
            raise BadInput(f"cannot read organisation '{login}': {_describe(error)}") from None
        except requests.RequestException as error:
            raise BadInput(f"cannot reach the GitHub API at {self.api_url} "
                           f"({type(error).__name__} after retries): check --api-url "
                           "and the network") from None

    def harvest_org(self, org: dict) -> None:
        self.saver.save_org(org)
        self.summary.orgs += 1
        handle = self.client.get_organization(org["login"])
        try:
            members = [raw(user) for user in handle.get_public_members()]
            self.saver.save_members(org["id"], members)
            listed = [raw(repo) for repo in handle.get_repos()]
        except GithubException as error:
            self.summary.failures.append({"repo": org["login"], "error": _describe(error)})
            return
        except requests.RequestException as error:
            self.summary.failures.append({"repo": org["login"],
                                          "error": f"{type(error).__name__} after retries"})
            return
        wanted = [repo for repo in listed if self.wanted(repo)]
        listed_ids = {repo["id"] for repo in listed}
        gone = [repo_id for repo_id in self.saver.repos_of_org(org["id"]) if repo_id not in listed_ids]
        self.summary.repos_deleted += self.saver.mark_deleted(gone)
        for number, repo in enumerate(wanted, 1):
            stats = self.session.stats
            self.progress.show(f"{org['login']}/{repo['name']} ({stats.requests} requests, "
                               f"{stats.not_modified} 304s)", number - 1, len(wanted))
            self.harvest_repo(org["id"], repo)

    def wanted(self, repo: dict) -> bool:
        if repo.get("fork") and not self.settings["include_forks"]:
            return False
        if repo.get("archived") and not self.settings["include_archived"]:
            return False
        return repo["full_name"].lower() not in self.skip

    # repos -----------------------------------------------------------------------------

    def harvest_repo(self, org_id: int, repo: dict) -> None:
        self.saver.save_repo(org_id, repo)
        handle = self.client.get_repo(repo["full_name"])
        try:
            self.harvest_issues(repo, handle)
            self.harvest_listing(repo, "pulls", handle.get_pulls(state="all", sort="updated", direction="desc"),
                                 self.saver.save_pulls, "updated_at")
            self.harvest_listing(repo, "issue_comments",
                                 handle.get_issues_comments(sort="updated", direction="desc"),
                                 self.saver.save_comments, "updated_at")
            self.harvest_events(repo, handle)
            self.harvest_listing(repo, "review_comments",
                                 handle.get_pulls_review_comments(sort="updated", direction="desc"),
                                 self.saver.save_review_comments, "updated_at")
            self.harvest_commits(repo, handle)
            self.harvest_listing(repo, "releases", handle.get_releases(), self.saver.save_releases,
                                 "created_at")
            self.saver.link_pull_details(repo["id"])
            self.summary.repos += 1
        except RepoGone:
            self.summary.repos_deleted += self.saver.mark_deleted([repo["id"]])
        except GithubException as error:
            self.summary.failures.append({"repo": repo["full_name"], "error": _describe(error)})
        except (requests.RequestException, ValueError) as error:
            self.summary.failures.append({"repo": repo["full_name"],
                                          "error": f"{type(error).__name__} after retries"})

    def mark(self, repo: dict, endpoint: str) -> tuple[str | None, str | None]:
        """The listing's watermark (since, cursor); none with --full."""
        if self.full:
            return None, None
        row = watermark(self.conn, f"repo:{repo['id']}", endpoint)
        return (row["since"], row["cursor"]) if row else (None, None)

    def newest_first(self, listing: Any, since: str | None, key: Callable[[dict], Any],
                     save: Callable[[list[dict]], None],
                     validators: dict | None = None) -> Iterator[list[dict]]:
        """Store a newest-first listing page by page, stopping at the first page that
        reaches ``since``; yields each stored page. 404 means the repo is gone."""
        try:
            for page in pages(listing, validators):
                save(page)
                yield page
                if since is not None and any(key(item) is not None and key(item) < since
                                             for item in page):
                    return
        except GithubException as error:
            if error.status == 404:
                raise RepoGone() from None
            raise

    def harvest_listing(self, repo: dict, endpoint: str, listing: Any,
                        save: Callable[[int, list[dict]], None], field_name: str) -> None:
        since, _ = self.mark(repo, endpoint)
        newest, validators = since, {}
        for page in self.newest_first(listing, since, lambda item: item.get(field_name),
                                      lambda page: save(repo["id"], page), validators):
            newest = _max(newest, *(item.get(field_name) for item in page))
        set_watermark(self.conn, f"repo:{repo['id']}", endpoint, newest, validators=validators)

    def harvest_issues(self, repo: dict, handle: Any) -> None:
        """Issues and PRs, then the reviews of every PR updated since the last run; the
        watermark moves only once those reviews are stored too."""
        since, _ = self.mark(repo, "issues")
        newest, validators = since, {}
        updated_prs: list[int] = []
        listing = handle.get_issues(state="all", sort="updated", direction="desc")
        for page in self.newest_first(listing, since, lambda item: item.get("updated_at"),
                                      lambda page: self.saver.save_issues(repo["id"], page),
                                      validators):
            newest = _max(newest, *(item.get("updated_at") for item in page))
            updated_prs += [item["number"] for item in page if "pull_request" in item
                            and (since is None or (item.get("updated_at") or "") >= since)]
        for number in sorted(set(updated_prs)):
            try:
                reviews = [item for page in pages(handle.get_pull(number).get_reviews())
                           for item in page]
            except GithubException as error:
                if error.status == 404:
                    continue  # the PR itself vanished; its issue record says what we know
                raise
            self.saver.save_reviews(repo["id"], number, reviews)
        set_watermark(self.conn, f"repo:{repo['id']}", "issues", newest, validators=validators)

    def harvest_events(self, repo: dict, handle: Any) -> None:
        """Issue events come newest first by id and never change: stop at the last id seen."""
        _, cursor = self.mark(repo, "issue_events")
        last_id = int(cursor) if cursor else None
        newest_id, newest_at, validators = last_id, None, {}
        for page in self.newest_first(handle.get_issues_events(), last_id,
                                      lambda item: item.get("id"),
                                      lambda page: self.saver.save_events(repo["id"], page),
                                      validators):
            newest_id = _max(newest_id, *(item["id"] for item in page))
            newest_at = _max(newest_at, *(item.get("created_at") for item in page))
        set_watermark(self.conn, f"repo:{repo['id']}", "issue_events", newest_at,
                      None if newest_id is None else str(newest_id), validators=validators)

    def harvest_commits(self, repo: dict, handle: Any) -> None:
        """Default-branch commits, newest first by committer date; an empty repo (409)
        simply has none."""
        since, _ = self.mark(repo, "commits")
        # GitHub answers an empty repo with a 409 that counts against the rate limit
        # every night: ask again only once something was pushed (even with --full).
        empty_mark = f"empty since push {repo.get('pushed_at')}"
        stored = watermark(self.conn, f"repo:{repo['id']}", "commits")
        if stored is not None and stored["cursor"] == empty_mark:
            return
        newest, validators = since, {}
        listing = handle.get_commits(sha=repo.get("default_branch") or repo.get("master_branch"))
        try:
            for page in self.newest_first(listing, since, _committer_date,
                                          lambda page: self.saver.save_commits(repo["id"], page),
                                          validators):
                newest = _max(newest, *(_committer_date(item) for item in page))
        except GithubException as error:
            if error.status == 409:
                set_watermark(self.conn, f"repo:{repo['id']}", "commits", since, empty_mark)
                return
            raise
        self.harvest_missing_parents(repo, handle)
        set_watermark(self.conn, f"repo:{repo['id']}", "commits", newest, validators=validators)

    def harvest_missing_parents(self, repo: dict, handle: Any, most: int = 50) -> None:
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
                for page in pages(handle.get_commits(sha=missing[0])):
                    known = self.saver.known_commits(repo["id"], [c["sha"] for c in page])
                    self.saver.save_commits(repo["id"], page)
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


def _without_credentials(url: str) -> str:
    """``url`` without any user:password@ part, for the run record and messages."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def raw_completed(item: Any) -> dict:
    """The JSON of a lazily created PyGithub object, fetched with one request."""
    return item.raw_data


def _committer_date(item: dict) -> str | None:
    return ((item.get("commit") or {}).get("committer") or {}).get("date")


def _max(*values: Any) -> Any:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def _describe(error: GithubException) -> str:
    message = error.data.get("message") if isinstance(error.data, dict) else None
    return f"HTTP {error.status}" + (f" {message}" if message else "")


def tokens_from_env(environ: dict[str, str]) -> list[str]:
    """Tokens from GITHUB_TOKENS (comma-separated) or else GITHUB_TOKEN."""
    many = environ.get("GITHUB_TOKENS", "")
    tokens = [token.strip() for token in many.split(",") if token.strip()]
    if not tokens and environ.get("GITHUB_TOKEN", "").strip():
        tokens = [environ["GITHUB_TOKEN"].strip()]
    return tokens
