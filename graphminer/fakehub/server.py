"""fakehub's HTTP server: routes GitHub REST requests to the world and answers as GitHub does.

Owns the wire: routing (at ``/`` and under ``/api/v3``, by name or ``/repositories/{id}``),
query parameters, pagination and ``Link`` headers, ETags and 304s, per-token rate limits,
seeded faults, the request log, the control endpoints (``/_fakehub/delta``,
``/_fakehub/stats``), and the byte cache: each record is serialised once per API base and
pages are joined from the stored bytes. It shows the hard edges ``edges.py`` switches on
(deep-page 422s, 301s, per-token ETags, slow pages, 429s, expiring tokens, latency).
Shapes are ``render.py``'s, facts are ``world.py``'s.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from graphminer.errors import BadInput
from graphminer.fakehub import render
from graphminer.fakehub.edges import DEEP_PAGE_MESSAGE, LISTINGS, SLOW_PER_PAGE, Edges
from graphminer.fakehub.faults import SLOW_SECONDS, Fault, Faults
from graphminer.fakehub.world import World, load_delta

DOCS = "https://docs.github.com/rest"
EXPOSED_HEADERS = ("ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, "
                   "X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, "
                   "X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, "
                   "X-GitHub-Request-Id, Deprecation, Sunset")
_REQUEST_IDS = itertools.count(1)
ANONYMOUS_LIMIT = 60
SEARCH_ANONYMOUS_LIMIT = 10  # GitHub's search budget without a token, a minute
ANONYMOUS_KEY = "null"  # the by_token key of requests without a token
GHARCHIVE_PREFIX = "/gharchive/"  # where ``serve --gharchive OUTDIR`` serves the hours
HOUR_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{1,2}\.json\.gz$")


class ApiError(Exception):
    """An error answer with GitHub's JSON body."""

    def __init__(self, status: int, message: str, extra: dict | None = None,
                 headers: dict | None = None, docs: str = DOCS) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, **(extra or {}), "documentation_url": docs}
        self.headers = headers or {}


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def invalid(field_name: str, resource: str = "Search") -> ApiError:
    """GitHub's 422 for a bad query parameter."""
    return ApiError(422, "Validation Failed", {"errors": [
        {"resource": resource, "field": field_name, "code": "invalid"}]})


@dataclass
class Reply:
    """A 200 (or 204) answer: the body bytes and what its validators are made of."""

    body: bytes
    last_modified: str | None = None
    headers: dict = field(default_factory=dict)
    status: int = 200
    # what the ETag is a hash of: the page's record digests (cheaper than hashing the body)
    etag_source: bytes | None = None


@dataclass
class Request:
    """What a route needs to know about the request."""

    host: str
    prefix: str  # "" or "/api/v3"
    path: str  # without the prefix
    full_path: str  # as sent, without the query
    params: dict[str, str]  # last value wins, as in Rails
    order: list[str]  # parameter names in first-appearance order
    has_token: bool = False
    query: str = ""  # the query string as sent

    @property
    def api(self) -> str:
        return f"http://{self.host}{self.prefix}"


# -- query parameters ---------------------------------------------------------------


def _choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.params.get(name, default)
    if value not in allowed:
        raise invalid(name)
    return value


def _since(request: Request, name: str = "since") -> str | None:
    """An ISO 8601 time parameter as the world's ``YYYY-MM-DDTHH:MM:SSZ`` (None if absent)."""
    value = request.params.get(name)
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise invalid(name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page_size(request: Request) -> tuple[int, int]:
    """(per_page, page) with GitHub's default 30 and cap 100."""
    try:
        per_page = int(request.params.get("per_page", "30") or "30")
        page = int(request.params.get("page", "1") or "1")
    except ValueError:
        bad = "per_page" if not request.params.get("per_page", "30").lstrip("-").isdigit() else "page"
        raise invalid(bad) from None
    if per_page < 1:
        raise invalid("per_page")
    return min(per_page, 100), max(page, 1)


def _refuse_deep_page(hub: FakeHub, request: Request, docs: str) -> None:
    """GitHub's 422 for a page starting at or past the page cap, whatever the query."""
    cap = hub.edges.page_cap
    per_page, page = _page_size(request)
    if cap and (page - 1) * per_page >= cap:
        raise ApiError(422, DEEP_PAGE_MESSAGE, docs=f"{DOCS}/{docs}")


def link_header(request: Request, page: int, last: int, per_page: int) -> str | None:
    """The ``Link`` header, in the order and format of GitHub's recorded ones."""
    if last <= 1 and page <= 1:
        return None
    pairs = [(name, request.params[name]) for name in request.order if name != "page"]

    def url(number: int) -> str:
        query = urlencode([*pairs, ("page", str(number))])
        return f"<http://{request.host}{quote(request.full_path)}?{query}>"

    links = []
    if page > 1:
        links.append(f'{url(min(page - 1, last))}; rel="prev"')
    if page < last:
        links.append(f'{url(page + 1)}; rel="next"')
        links.append(f'{url(last)}; rel="last"')
    if page > 1:
        links.append(f'{url(1)}; rel="first"')
    return ", ".join(links)


# -- the application ------------------------------------------------------------------


@dataclass
class RateWindow:
    limit: int
    reset: int
    used: int = 0
    refused: int = 0  # primary-limit refusals so far (``--limit-status both`` alternates on it)


class FakeHub:
    """The server's state: the world, byte caches, rate windows, stats and the log."""

    def __init__(self, world: World, faults: Faults, rate_limit: int = 5000,
                 rate_window: float = 3600.0, log: IO[str] | None = None,
                 edges: Edges | None = None, clock: str = "wall", search_rate_limit: int = 30,
                 search_rate_window: float = 60.0) -> None:
        self.world = world
        # the ``search`` resource: its own budget per token, apart from ``core``
        self.search_rate_limit = search_rate_limit
        self.search_rate_window = search_rate_window
        self.clock = clock  # "wall": Date is real time, as GitHub; "world": the world's now
        self.faults = faults
        self.edges = edges or Edges()
        if self.edges.reviews_move_issues:
            world.reviews_move_issues = True
            world.refresh()
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.log = log
        self.lock = threading.Lock()  # rate windows, stats and log lines
        self.windows: dict[str, RateWindow] = {}
        self.first_use: dict[str, float] = {}  # token -> the hub's time of its first request
        self.answered: dict[str, int] = {}  # token -> REST requests answered (--token-ttl-requests)
        self.clock_offset = 0.0  # seconds the clock was moved ahead (POST /_fakehub/clock)
        self.stats = {"requests": 0, "counted": 0, "by_status": {}, "by_token": {}}
        self.bytes_cache: dict[tuple, tuple[tuple[int, int], bytes, bytes]] = {}
        self.listing_cache: dict[tuple, tuple[tuple[int, int], list, str | None]] = {}
        self.routes = _routes()
        self.gharchive: Path | None = None  # a folder of GH Archive hours served at /gharchive/NAME

    # -- caches -------------------------------------------------------------------

    def _generation(self, repo_id: int | None) -> tuple[int, int]:
        data = self.world.repo_data.get(repo_id) if repo_id is not None else None
        return (self.world.generation, data.generation if data else 0)

    def record_bytes(self, api: str, kind: str, repo_id: int | None, key: Any,
                     make: Callable[[], Any]) -> bytes:
        """One record's JSON, rendered once per API base and world generation."""
        return self.record_entry(api, kind, repo_id, key, make)[1]

    def record_entry(self, api: str, kind: str, repo_id: int | None, key: Any,
                     make: Callable[[], Any]) -> tuple[tuple[int, int], bytes, bytes]:
        """(generation, JSON bytes, digest of the bytes) of one record, cached."""
        cache_key = (api, kind, repo_id, key)
        generation = self._generation(repo_id)
        hit = self.bytes_cache.get(cache_key)
        if hit is not None and hit[0] == generation:
            return hit
        value = make()
        data = value if isinstance(value, bytes) else encode(value)
        entry = (generation, data, hashlib.blake2b(data, digest_size=16).digest())
        self.bytes_cache[cache_key] = entry
        return entry

    def listing(self, repo_id: int | None, name: str, params: tuple,
                make: Callable[[], tuple[list, str | None]]) -> tuple[list, str | None]:
        """A listing's ordered keys and latest update, computed once per generation."""
        cache_key = (repo_id, name, params)
        generation = self._generation(repo_id)
        hit = self.listing_cache.get(cache_key)
        if hit is not None and hit[0] == generation:
            return hit[1], hit[2]
        if len(self.listing_cache) > 20000:
            self.listing_cache.clear()
        keys, latest = make()
        self.listing_cache[cache_key] = (generation, keys, latest)
        return keys, latest

    def page(self, request: Request, keys: list, render_one: Callable[[Any], bytes | tuple],
             latest: str | None) -> Reply:
        """One page of a listing, joined from stored record bytes, with its Link header.

        ``render_one`` gives a record's bytes, or its cache entry (whose digests then make
        the ETag without hashing the whole page).
        """
        per_page, page = _page_size(request)
        last = max(1, math.ceil(len(keys) / per_page))
        chunk = [render_one(key) for key in keys[(page - 1) * per_page: page * per_page]]
        if all(isinstance(part, tuple) for part in chunk):
            body = b"[" + b",".join(part[1] for part in chunk) + b"]"
            reply = Reply(body, latest, etag_source=b"page" + b"".join(part[2] for part in chunk))
        else:
            body = b"[" + b",".join(part if isinstance(part, bytes) else part[1] for part in chunk) + b"]"
            reply = Reply(body, latest)
        link = link_header(request, page, last, per_page)
        if link:
            reply.headers["Link"] = link
        return reply

    def date_header(self) -> str:
        """The ``Date`` header: wall-clock time, or with ``clock="world"`` the world's now,
        frozen until a delta moves it (rate-limit resets stay on the wall clock)."""
        if self.clock == "world":
            return _http_date(self.world.now)
        return format_datetime(datetime.fromtimestamp(self.now(), UTC), usegmt=True)

    # -- rate limits ----------------------------------------------------------------

    def window(self, token: str | None, now: float, resource: str = "core") -> RateWindow:
        """The token's current window of ``resource`` (core or search; a fresh one once the
        previous has reset)."""
        key = token if token is not None else ANONYMOUS_KEY
        if resource == "search":
            key = "search\0" + key
        window = self.windows.get(key)
        if window is None or now >= window.reset:
            if resource == "search":
                limit = self.search_rate_limit if token is not None else SEARCH_ANONYMOUS_LIMIT
                window = RateWindow(limit, math.ceil(now + self.search_rate_window))
            else:
                limit = self.rate_limit if token is not None else ANONYMOUS_LIMIT
                window = RateWindow(limit, math.ceil(now + self.rate_window))
            self.windows[key] = window
        return window

    def refusal_status(self, window: RateWindow) -> int:
        """The status of a primary-limit refusal: 403, 429, or (``both``) 429 and 403 in turn."""
        with self.lock:
            window.refused += 1
            turn = window.refused
        if self.edges.limit_status == "both":
            return 429 if turn % 2 else 403
        return int(self.edges.limit_status)

    def expired(self, token: str, now: float) -> bool:
        """Whether ``--token-ttl`` seconds have passed since the token's first request, or
        it was answered ``--token-ttl-requests`` times already (called once a request)."""
        with self.lock:
            first = self.first_use.setdefault(token, now)
            answered = self.answered[token] = self.answered.get(token, 0) + 1
        if self.edges.token_ttl_requests is not None and answered > self.edges.token_ttl_requests:
            return True
        return self.edges.token_ttl is not None and now - first >= self.edges.token_ttl

    def now(self) -> float:
        """The hub's clock, which rate-limit windows, token lifetimes and the wall ``Date``
        header read: real time, plus what ``POST /_fakehub/clock`` moved it ahead by (a test
        can then see a window reset or a token expire without waiting for it)."""
        return time.time() + self.clock_offset

    def advance_clock(self, body: bytes) -> dict:
        """``POST /_fakehub/clock`` with ``{"advance": SECONDS}``: move the clock ahead."""
        try:
            seconds = json.loads(body or b"null")["advance"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
                raise ValueError
        except (ValueError, TypeError, KeyError):
            raise BadInput('give {"advance": SECONDS} with SECONDS 0 or more') from None
        with self.lock:
            self.clock_offset += seconds
        return {"now": format_datetime(datetime.fromtimestamp(self.now(), UTC), usegmt=True)}

    # -- bookkeeping ----------------------------------------------------------------

    def record(self, method: str, path: str, query: dict, status: int, token: str | None,
               counted: bool, fault: str | None = None, extra: dict | None = None) -> None:
        """Count a request in the stats and write its log line (flushed)."""
        with self.lock:
            stats = self.stats
            stats["requests"] += 1
            stats["counted"] += counted
            stats["by_status"][str(status)] = stats["by_status"].get(str(status), 0) + 1
            per_token = stats["by_token"].setdefault(
                token if token is not None else ANONYMOUS_KEY, {"requests": 0, "counted": 0})
            per_token["requests"] += 1
            per_token["counted"] += counted
            if self.log is not None:
                line = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                        "method": method, "path": path, "query": query, "status": status,
                        "token": token, "counted": counted}
                if fault:
                    line["fault"] = fault
                line.update(extra or {})
                self.log.write(json.dumps(line) + "\n")
                self.log.flush()

    def stats_snapshot(self) -> dict:
        with self.lock:
            return json.loads(json.dumps(self.stats))

    def apply_delta(self, body: bytes) -> dict:
        """Apply a delta posted to ``/_fakehub/delta``."""
        with self.world.lock:
            delta = load_delta("the posted delta", self.world, body)
            applied = self.world.apply(delta)
            return {"applied": applied, "now": self.world.now}

    # -- routing ----------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        with self.world.lock:
            request = self.by_repo_id(request)
            moved = self.moved(request)
            if moved is not None:
                return moved
            self.check_visible(request)
            for pattern, handler in self.routes:
                match = pattern.fullmatch(request.path)
                if match:
                    return handler(self, request, *match.groups())
        raise not_found()

    def by_repo_id(self, request: Request) -> Request:
        """``/repositories/{id}/...`` served as the repo's ``/repos/{o}/{r}/...`` (the request's
        own path stays, so its Link headers keep the ``/repositories`` form)."""
        match = _BY_ID.fullmatch(request.path)
        if match is None:
            return request
        repo = self.world.repos.get(int(match.group(1)))
        if repo is None:
            raise not_found()
        return replace(request, path=f"/repos/{repo['owner']}/{repo['name']}{match.group(2) or ''}")

    def check_visible(self, request: Request) -> None:
        """A private repo is 404 without a token, as GitHub hides it from outsiders."""
        match = _BY_NAME.fullmatch(request.path)
        if match is None or request.has_token:
            return
        repo = self.world.repo_by(match.group(1), match.group(2))
        if repo is not None and repo.get("private"):
            raise not_found()

    def heavy_slow_page(self, request: Request) -> bool:
        """Whether this asks more than 50 items a page of a listing ``--slow-pages`` names."""
        try:
            per_page = int(request.params.get("per_page", "30") or "30")
        except ValueError:
            return False
        if per_page <= SLOW_PER_PAGE:
            return False
        with self.world.lock:
            try:
                request = self.by_repo_id(request)
            except ApiError:
                return False
        match = _BY_NAME.fullmatch(request.path)
        listing = (match.group(3) or "").strip("/") if match else ""
        return listing in LISTINGS and self.edges.slow(match.group(1), match.group(2), listing)

    def moved(self, request: Request) -> Reply | None:
        """GitHub's 301 for the old name of a renamed or transferred repo (query kept)."""
        match = _BY_NAME.fullmatch(request.path)
        if match is None or not self.edges.redirects:
            return None
        repo = self.world.moved_repo(match.group(1), match.group(2))
        if repo is None:
            return None
        location = f"{request.api}/repositories/{repo['id']}{quote(match.group(3) or '')}"
        if request.query:
            location += "?" + request.query
        body = {"message": "Moved Permanently", "url": location,
                "documentation_url": "https://developer.github.com/v3/#http-redirects"}
        return Reply(encode(body), status=301, headers={"Location": location})


_BY_ID = re.compile(r"/repositories/(\d+)(/.*)?")
_BY_NAME = re.compile(r"/repos/([^/]+)/([^/]+)(/.*)?")


def encode(value: Any) -> bytes:
    """Compact JSON bytes, as GitHub sends them."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _latest(values) -> str | None:
    return max(values, default=None)


# -- route handlers -------------------------------------------------------------------


def get_root(hub: FakeHub, request: Request) -> Reply:
    return Reply(encode(render.root(request.api)), hub.world.now)


def get_rate_limit(hub: FakeHub, request: Request) -> Reply:
    # the numbers are filled in by the handler, which knows the token
    return Reply(b"", None)


def get_organizations(hub: FakeHub, request: Request) -> Reply:
    try:
        since = int(request.params.get("since", "0") or "0")
    except ValueError:
        raise invalid("since") from None
    per_page, _ = _page_size(request)
    world = hub.world
    orgs = [org for org_id, org in sorted(world.orgs.items()) if org_id > since]
    chunk = orgs[:per_page]
    body = b"[" + b",".join(
        hub.record_bytes(request.api, "org_simple", None, org["id"],
                         lambda org=org: render.org_simple(world, request.api, org))
        for org in chunk) + b"]"
    reply = Reply(body, _latest(org.get("updated_at") or org["created_at"] for org in world.orgs.values()))
    if len(orgs) > per_page:
        pairs = [(name, request.params[name]) for name in request.order if name not in ("since", "page")]
        query = urlencode([*pairs, ("since", str(chunk[-1]["id"]))])
        first = urlencode(pairs)
        reply.headers["Link"] = (
            f'<http://{request.host}{quote(request.full_path)}?{query}>; rel="next", '
            f'<http://{request.host}{quote(request.full_path)}{"?" + first if first else ""}>; rel="first"')
    return reply


def _user_or_org(hub: FakeHub, login: str) -> dict:
    record = hub.world.user_by(login)
    if record is None:
        org = hub.world.org_by(login)
        if org is None:
            raise not_found()
        record = {**org, "type": "Organization"}
    return record


def get_user(hub: FakeHub, request: Request, login: str) -> Reply:
    record = _user_or_org(hub, login)
    body = hub.record_bytes(request.api, "public_user", None, record["id"],
                            lambda: render.public_user(hub.world, request.api, record))
    return Reply(body, record.get("updated_at") or record.get("created_at"))


def get_user_orgs(hub: FakeHub, request: Request, login: str) -> Reply:
    record = _user_or_org(hub, login)
    orgs = hub.world.user_orgs(record["id"])
    return hub.page(request, orgs, lambda org: hub.record_entry(
        request.api, "org_simple", None, org["id"],
        lambda: render.org_simple(hub.world, request.api, org)),
        _latest(org.get("updated_at") or org["created_at"] for org in orgs) or record.get("created_at"))


def _org(hub: FakeHub, login: str) -> dict:
    org = hub.world.org_by(login)
    if org is None:
        raise not_found()
    return org


def get_org(hub: FakeHub, request: Request, login: str) -> Reply:
    org = _org(hub, login)
    return Reply(encode(render.org_full(hub.world, request.api, org)),
                 org.get("updated_at") or org["created_at"])


REPO_TYPES = ("all", "public", "private", "forks", "sources", "member")


def get_org_repos(hub: FakeHub, request: Request, login: str) -> Reply:
    org = _org(hub, login)
    kind = _choice(request, "type", REPO_TYPES, "all")
    sort = _choice(request, "sort", ("created", "updated", "pushed", "full_name"), "created")
    # docs/world-format.md: oldest first unless a direction is asked for
    default_direction = "asc" if sort in ("created", "full_name") else "desc"
    direction = _choice(request, "direction", ("asc", "desc"), default_direction)
    # any token is a member's: it sees the org's private repos (docs/world-format.md)
    repos = [repo for repo in hub.world.org_repos(org["login"])
             if request.has_token or not repo.get("private")]
    if kind == "forks":
        repos = [repo for repo in repos if repo.get("fork")]
    elif kind == "sources":
        repos = [repo for repo in repos if not repo.get("fork")]
    elif kind == "public":
        repos = [repo for repo in repos if not repo.get("private")]
    elif kind == "private":
        repos = [repo for repo in repos if repo.get("private")]
    field_name = {"created": "created_at", "updated": "updated_at", "pushed": "pushed_at"}.get(sort)
    if field_name:
        repos.sort(key=lambda repo: (repo.get(field_name) or repo["created_at"], repo["id"]),
                   reverse=direction == "desc")
    else:
        repos.sort(key=lambda repo: repo["name"].lower(), reverse=direction == "desc")
    latest = _latest(max(repo.get("updated_at") or "", repo.get("pushed_at") or "", repo["created_at"])
                     for repo in repos) or org["created_at"]
    return hub.page(request, repos, lambda repo: hub.record_entry(
        request.api, "repo_minimal", repo["id"], repo["id"],
        lambda: render.repo_minimal(hub.world, request.api, repo)), latest)


def _members(hub: FakeHub, request: Request, org: dict, key: str) -> Reply:
    ids = sorted(set(org.get(key) or []))
    return hub.page(request, ids, lambda user_id: hub.record_entry(
        request.api, "user", None, user_id, lambda: render.user(hub.world, request.api, user_id)),
        org.get("updated_at") or org["created_at"])


def get_org_members(hub: FakeHub, request: Request, login: str) -> Reply:
    _choice(request, "filter", ("2fa_disabled", "all"), "all")
    _choice(request, "role", ("all", "admin", "member"), "all")
    org = _org(hub, login)
    # without a token GitHub shows only public members
    return _members(hub, request, org, "members" if request.has_token else "public_members")


def get_org_public_members(hub: FakeHub, request: Request, login: str) -> Reply:
    return _members(hub, request, _org(hub, login), "public_members")


def _repo(hub: FakeHub, owner: str, name: str) -> dict:
    repo = hub.world.repo_by(owner, name)
    if repo is None:
        raise not_found()
    if repo.get("blocked"):
        raise ApiError(451, "Repository access blocked", {"block": {
            "reason": "dmca", "created_at": repo.get("updated_at") or repo["created_at"],
            "html_url": f"https://github.com/github/dmca/blob/master/{repo['owner']}-{repo['name']}.md"}})
    return repo


def get_repo(hub: FakeHub, request: Request, owner: str, name: str) -> Reply:
    repo = _repo(hub, owner, name)
    body = hub.record_bytes(request.api, "repo_full", repo["id"], repo["id"],
                            lambda: render.repo_full(hub.world, request.api, repo))
    data = hub.world.repo_data[repo["id"]]
    latest = _latest([repo.get("updated_at") or repo["created_at"], repo.get("pushed_at") or "",
                      *data.pull_updated.values()])
    return Reply(body, latest)


def _issue_bytes(hub: FakeHub, request: Request, repo: dict, number: int) -> tuple:
    data = hub.world.repo_data[repo["id"]]
    return hub.record_entry(request.api, "issue", repo["id"], number,
                            lambda: render.issue(hub.world, request.api, repo, data.issues[number]))


def get_issues(hub: FakeHub, request: Request, owner: str, name: str) -> Reply:
    repo = _repo(hub, owner, name)
    _refuse_deep_page(hub, request, "issues/issues#list-repository-issues")
    state = _choice(request, "state", ("open", "closed", "all"), "open")
    sort = _choice(request, "sort", ("created", "updated", "comments"), "created")
    direction = _choice(request, "direction", ("asc", "desc"), "desc")
    since = _since(request)
    labels = tuple(sorted(filter(None, (request.params.get("labels") or "").split(","))))
    creator = request.params.get("creator")
    assignee = request.params.get("assignee")
    data = hub.world.repo_data[repo["id"]]

    def make() -> tuple[list, str | None]:
        creator_id = _login_id(hub, creator)
        assignee_id = _login_id(hub, assignee) if assignee not in (None, "*", "none") else None
        chosen = []
        for number, issue in data.issues.items():
            if state != "all" and issue["state"] != state:
                continue
            if since and data.issue_updated[number] < since:
                continue
            if labels and not set(labels) <= set(issue.get("labels") or ()):
                continue
            if creator is not None and issue["user_id"] != creator_id:
                continue
            if assignee == "none" and issue.get("assignee_ids"):
                continue
            if assignee == "*" and not issue.get("assignee_ids"):
                continue
            if assignee_id is not None and assignee_id not in (issue.get("assignee_ids") or ()):
                continue
            if assignee not in (None, "*", "none") and assignee_id is None:
                continue
            chosen.append(number)
        order = {"created": lambda n: (data.issues[n]["created_at"], n),
                 "updated": lambda n: (data.issue_updated[n], n),
                 "comments": lambda n: (data.comment_count.get(n, 0), n)}[sort]
        chosen.sort(key=order, reverse=direction == "desc")
        return chosen, _latest(data.issue_updated[n] for n in chosen)

    keys, latest = hub.listing(repo["id"], "issues", (state, sort, direction, since, labels,
                                                      creator, assignee), make)
    return hub.page(request, keys, lambda n: _issue_bytes(hub, request, repo, n),
                    latest or repo["created_at"])


def _login_id(hub: FakeHub, login: str | None) -> int | None:
    if login is None:
        return None
    user = hub.world.user_by(login)
    return user["id"] if user else -1


def _number(value: str) -> int:
    return int(value)


def _issue(hub: FakeHub, repo: dict, number: str) -> dict:
    issue = hub.world.repo_data[repo["id"]].issues.get(_number(number))
    if issue is None:
        raise not_found()
    return issue


def get_issue(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    repo = _repo(hub, owner, name)
    issue = _issue(hub, repo, number)
    body = hub.record_bytes(request.api, "issue_full", repo["id"], issue["number"],
                            lambda: render.issue(hub.world, request.api, repo, issue, full=True))
    return Reply(body, hub.world.repo_data[repo["id"]].issue_updated[issue["number"]])


def _comment_bytes(hub: FakeHub, request: Request, repo: dict, comment_id: int) -> tuple:
    data = hub.world.repo_data[repo["id"]]
    return hub.record_entry(request.api, "comment", repo["id"], comment_id,
                            lambda: render.comment(hub.world, request.api, repo, data.issue_comments[comment_id]))


def get_repo_comments(hub: FakeHub, request: Request, owner: str, name: str) -> Reply:
    repo = _repo(hub, owner, name)
    _refuse_deep_page(hub, request, "issues/comments#list-issue-comments-for-a-repository")
    sort = _choice(request, "sort", ("created", "updated"), "created")
    direction = _choice(request, "direction", ("asc", "desc"), "asc")
    since = _since(request)
    data = hub.world.repo_data[repo["id"]]

    def make() -> tuple[list, str | None]:
        chosen = [cid for cid, c in data.issue_comments.items() if not since or c["updated_at"] >= since]
        field_name = "created_at" if sort == "created" else "updated_at"
        chosen.sort(key=lambda cid: (data.issue_comments[cid][field_name], cid), reverse=direction == "desc")
        return chosen, _latest(data.issue_comments[cid]["updated_at"] for cid in chosen)

    keys, latest = hub.listing(repo["id"], "issue_comments", (sort, direction, since), make)
    return hub.page(request, keys, lambda cid: _comment_bytes(hub, request, repo, cid),
                    latest or repo["created_at"])


def get_issue_comments(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    repo = _repo(hub, owner, name)
    issue = _issue(hub, repo, number)
    since = _since(request)
    data = hub.world.repo_data[repo["id"]]
    ids = [cid for cid in data.comments_by_issue.get(issue["number"], [])
           if not since or data.issue_comments[cid]["updated_at"] >= since]
    return hub.page(request, ids, lambda cid: _comment_bytes(hub, request, repo, cid),
                    data.issue_updated[issue["number"]])


def get_repo_events(hub: FakeHub, request: Request, owner: str, name: str) -> Reply:
    repo = _repo(hub, owner, name)
    _refuse_deep_page(hub, request, "issues/events#list-issue-events-for-a-repository")
    data = hub.world.repo_data[repo["id"]]

    def make() -> tuple[list, str | None]:
        return sorted(data.issue_events, reverse=True), _latest(e["created_at"] for e in data.issue_events.values())

    keys, latest = hub.listing(repo["id"], "issue_events", (), make)
    return hub.page(request, keys, lambda eid: hub.record_entry(
        request.api, "event", repo["id"], eid, lambda: _event_bytes(hub, request, repo, eid)),
        latest or repo["created_at"])


def _event_bytes(hub: FakeHub, request: Request, repo: dict, event_id: int) -> bytes:
    """An event's JSON with its issue's cached bytes spliced in (not rendered again)."""
    data = hub.world.repo_data[repo["id"]]
    record = data.issue_events[event_id]
    body = encode(render.event(hub.world, request.api, repo, record, with_issue=False))
    if record["issue_number"] not in data.issues:
        return body
    return body[:-1] + b',"issue":' + _issue_bytes(hub, request, repo, record["issue_number"])[1] + b"}"


def get_issue_events(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    """One issue's events, oldest first, without the embedded ``issue``."""
    repo = _repo(hub, owner, name)
    issue = _issue(hub, repo, number)
    data = hub.world.repo_data[repo["id"]]

    def make() -> tuple[list, str | None]:
        ids = sorted((eid for eid, e in data.issue_events.items() if e["issue_number"] == issue["number"]),
                     key=lambda eid: (data.issue_events[eid]["created_at"], eid))
        return ids, None

    keys, _ = hub.listing(repo["id"], "issue_events", (issue["number"],), make)
    return hub.page(request, keys, lambda eid: _plain_event_bytes(hub, request, repo, eid),
                    data.issue_updated[issue["number"]])


def _plain_event_bytes(hub: FakeHub, request: Request, repo: dict, event_id: int) -> tuple:
    data = hub.world.repo_data[repo["id"]]
    return hub.record_entry(request.api, "event_plain", repo["id"], event_id, lambda: render.event(
        hub.world, request.api, repo, data.issue_events[event_id], with_issue=False))


def get_issue_timeline(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    """One issue's timeline: its events, comments (``commented``) and reviews (``reviewed``),
    oldest first."""
    repo = _repo(hub, owner, name)
    issue = _issue(hub, repo, number)
    data = hub.world.repo_data[repo["id"]]
    n = issue["number"]

    def make() -> tuple[list, str | None]:
        items = [(e["created_at"], 0, eid) for eid, e in data.issue_events.items() if e["issue_number"] == n]
        items += [(data.issue_comments[cid]["created_at"], 1, cid) for cid in data.comments_by_issue.get(n, [])]
        items += [(data.reviews[rid]["submitted_at"], 2, rid) for rid in data.reviews_by_pr.get(n, [])]
        return [(kind, key) for _, kind, key in sorted(items)], None

    def one(item: tuple) -> tuple:
        kind, key = item
        if kind == 0:
            return _plain_event_bytes(hub, request, repo, key)
        if kind == 1:
            return hub.record_entry(request.api, "timeline_comment", repo["id"], key, lambda: render.timeline_comment(
                hub.world, request.api, repo, data.issue_comments[key]))
        return hub.record_entry(request.api, "timeline_review", repo["id"], key, lambda: render.timeline_review(
            hub.world, request.api, repo, data.reviews[key]))

    keys, _ = hub.listing(repo["id"], "timeline", (n,), make)
    return hub.page(request, keys, one, data.pull_updated[n])


def _empty_list(hub: FakeHub, request: Request, latest: str) -> Reply:
    _page_size(request)
    return Reply(b"[]", latest)


def get_issue_reactions(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    repo = _repo(hub, owner, name)
    issue = _issue(hub, repo, number)
    return _empty_list(hub, request, issue["created_at"])


def get_comment_reactions(hub: FakeHub, request: Request, owner: str, name: str, cid: str) -> Reply:
    repo = _repo(hub, owner, name)
    comment = hub.world.repo_data[repo["id"]].issue_comments.get(int(cid))
    if comment is None:
        raise not_found()
    return _empty_list(hub, request, comment["created_at"])


def get_review_comment_reactions(hub: FakeHub, request: Request, owner: str, name: str,
                                 cid: str) -> Reply:
    repo = _repo(hub, owner, name)
    comment = hub.world.repo_data[repo["id"]].review_comments.get(int(cid))
    if comment is None:
        raise not_found()
    return _empty_list(hub, request, comment["created_at"])


def _pull(hub: FakeHub, repo: dict, number: str) -> dict:
    issue = _issue(hub, repo, number)
    if not issue.get("pull_request"):
        raise not_found()
    return issue


def get_pulls(hub: FakeHub, request: Request, owner: str, name: str) -> Reply:
    repo = _repo(hub, owner, name)
    state = _choice(request, "state", ("open", "closed", "all"), "open")
    sort = _choice(request, "sort", ("created", "updated", "popularity", "long-running"), "created")
    direction = _choice(request, "direction", ("asc", "desc"), "desc" if sort == "created" else "asc")
    base = request.params.get("base")
    head = request.params.get("head")
    data = hub.world.repo_data[repo["id"]]

    def make() -> tuple[list, str | None]:
        chosen = []
        for number, issue in data.issues.items():
            pr = issue.get("pull_request")
            if not pr or (state != "all" and issue["state"] != state):
                continue
            if base and (pr.get("base_ref") or repo.get("default_branch")) != base:
                continue
            if head and (pr.get("head_ref") or f"pr-{number}") != head.split(":")[-1]:
                continue
            chosen.append(number)
        order = {"created": lambda n: (data.issues[n]["created_at"], n),
                 "updated": lambda n: (data.pull_updated[n], n),
                 "popularity": lambda n: (data.comment_count.get(n, 0), n),
                 "long-running": lambda n: (data.issues[n]["created_at"], n)}[sort]
        chosen.sort(key=order, reverse=direction == "desc")
        return chosen, _latest(data.pull_updated[n] for n in chosen)

    keys, latest = hub.listing(repo["id"], "pulls", (state, sort, direction, base, head), make)
    return hub.page(request, keys, lambda n: hub.record_entry(
        request.api, "pull", repo["id"], n, lambda: _pull_bytes(hub, request, repo, n, full=False)),
        latest or repo["created_at"])


# stands in for the head and base repo objects while a PR is encoded (encoded, it is
# "\u0000repo\u0000", which no string value but exactly this one can produce)
_REPO_SLOT = "\x00repo\x00"
_REPO_SLOT_BYTES = encode(_REPO_SLOT)


def _pull_bytes(hub: FakeHub, request: Request, repo: dict, number: int, full: bool) -> bytes:
    """A PR's JSON with the repo's cached bytes spliced into head and base (two thirds of a
    PR's bytes, encoded once per repo instead of twice per PR)."""
    body = render.pull(hub.world, request.api, repo, hub.world.repo_data[repo["id"]].issues[number], full=full)
    repo_bytes = hub.record_bytes(request.api, "repo_minimal", repo["id"], repo["id"],
                                  lambda: render.repo_minimal(hub.world, request.api, repo))
    for side in ("head", "base"):
        body[side] = {**body[side], "repo": _REPO_SLOT}
    return encode(body).replace(_REPO_SLOT_BYTES, repo_bytes)


def get_pull(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    repo = _repo(hub, owner, name)
    issue = _pull(hub, repo, number)
    body = hub.record_bytes(request.api, "pull_full", repo["id"], issue["number"],
                            lambda: _pull_bytes(hub, request, repo, issue["number"], full=True))
    return Reply(body, hub.world.repo_data[repo["id"]].pull_updated[issue["number"]])


def get_pull_reviews(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    repo = _repo(hub, owner, name)
    issue = _pull(hub, repo, number)
    data = hub.world.repo_data[repo["id"]]
    return hub.page(request, data.reviews_by_pr.get(issue["number"], []), lambda rid: hub.record_entry(
        request.api, "review", repo["id"], rid,
        lambda: render.review(hub.world, request.api, repo, data.reviews[rid])),
        data.pull_updated[issue["number"]])


def _review_comment_bytes(hub: FakeHub, request: Request, repo: dict, rcid: int) -> tuple:
    data = hub.world.repo_data[repo["id"]]
    return hub.record_entry(request.api, "review_comment", repo["id"], rcid,
                            lambda: render.review_comment(hub.world, request.api, repo,
                                                          data.review_comments[rcid]))


def get_pull_comments(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    repo = _repo(hub, owner, name)
    issue = _pull(hub, repo, number)
    since = _since(request)
    data = hub.world.repo_data[repo["id"]]
    ids = [rcid for rcid in data.review_comments_by_pr.get(issue["number"], [])
           if not since or data.review_comments[rcid]["updated_at"] >= since]
    return hub.page(request, ids, lambda rcid: _review_comment_bytes(hub, request, repo, rcid),
                    data.pull_updated[issue["number"]])


def get_repo_review_comments(hub: FakeHub, request: Request, owner: str, name: str) -> Reply:
    repo = _repo(hub, owner, name)
    sort = _choice(request, "sort", ("created", "updated", "created_at"), "created")
    direction = _choice(request, "direction", ("asc", "desc"), "asc")
    since = _since(request)
    data = hub.world.repo_data[repo["id"]]

    def make() -> tuple[list, str | None]:
        chosen = [rcid for rcid, c in data.review_comments.items() if not since or c["updated_at"] >= since]
        field_name = "updated_at" if sort == "updated" else "created_at"
        chosen.sort(key=lambda rcid: (data.review_comments[rcid][field_name], rcid),
                    reverse=direction == "desc")
        return chosen, _latest(data.review_comments[rcid]["updated_at"] for rcid in chosen)

    keys, latest = hub.listing(repo["id"], "review_comments", (sort, direction, since), make)
    return hub.page(request, keys, lambda rcid: _review_comment_bytes(hub, request, repo, rcid),
                    latest or repo["created_at"])


def _commit_bytes(hub: FakeHub, request: Request, repo: dict, sha: str) -> tuple:
    data = hub.world.repo_data[repo["id"]]
    return hub.record_entry(request.api, "commit", repo["id"], sha,
                            lambda: render.commit(hub.world, request.api, repo, data.commits[sha]))


def get_pull_commits(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    repo = _repo(hub, owner, name)
    issue = _pull(hub, repo, number)
    data = hub.world.repo_data[repo["id"]]
    shas = data.commits_by_pr.get(issue["number"])
    if not shas:
        head = issue["pull_request"].get("head_sha")
        shas = [head] if head in data.commits else []
    return hub.page(request, shas[:250], lambda sha: _commit_bytes(hub, request, repo, sha),
                    data.pull_updated[issue["number"]])


def get_requested_reviewers(hub: FakeHub, request: Request, owner: str, name: str, number: str) -> Reply:
    repo = _repo(hub, owner, name)
    issue = _pull(hub, repo, number)
    users = [render.user(hub.world, request.api, uid)
             for uid in issue["pull_request"].get("requested_reviewer_ids") or []]
    return Reply(encode({"users": [u for u in users if u], "teams": []}),
                 hub.world.repo_data[repo["id"]].pull_updated[issue["number"]])


def get_commits(hub: FakeHub, request: Request, owner: str, name: str) -> Reply:
    repo = _repo(hub, owner, name)
    data = hub.world.repo_data[repo["id"]]
    if not data.commits:
        raise ApiError(409, "Git Repository is empty.")
    since, until = _since(request), _since(request, "until")
    sha = request.params.get("sha") or request.params.get("sha_or_branch")
    author = request.params.get("author")
    committer = request.params.get("committer")
    branch = repo.get("default_branch") or "main"
    if sha and sha != branch and not any(s.startswith(sha) for s in ([sha] if sha in data.commits else data.commits)):
        raise ApiError(404, "No commit found for SHA: " + sha)

    def make() -> tuple[list, str | None]:
        shas = data.commit_order
        if sha and sha != branch:
            shas = _ancestors(data, next(s for s in data.commits if s.startswith(sha)))
        author_id = _login_id(hub, author) if author and "@" not in author else None
        committer_id = _login_id(hub, committer) if committer and "@" not in committer else None
        chosen = []
        for s in shas:
            record = data.commits[s]
            date = record["committer"]["date"]
            if (since and date < since) or (until and date > until):
                continue
            if author and not (record.get("author_id") == author_id
                               or (record["author"].get("email") or "").lower() == author.lower()):
                continue
            if committer and not (record.get("committer_id") == committer_id
                                  or (record["committer"].get("email") or "").lower() == committer.lower()):
                continue
            chosen.append(s)
        return chosen, _latest(data.commits[s]["committer"]["date"] for s in chosen)

    keys, latest = hub.listing(repo["id"], "commits", (sha, since, until, author, committer), make)
    return hub.page(request, keys, lambda s: _commit_bytes(hub, request, repo, s),
                    latest or repo["created_at"])


def _ancestors(data, head: str) -> list[str]:
    """The commit and its ancestors, newest first, as ``?sha=`` lists them."""
    seen = {head}
    stack = [head]
    while stack:
        for parent in data.commits[stack.pop()].get("parents") or []:
            if parent in data.commits and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return [s for s in data.commit_order if s in seen]


def get_releases(hub: FakeHub, request: Request, owner: str, name: str) -> Reply:
    repo = _repo(hub, owner, name)
    data = hub.world.repo_data[repo["id"]]

    unordered = hub.edges.releases_unordered

    def make() -> tuple[list, str | None]:
        if unordered:  # GitHub promises no order: a fixed shuffle, neither by date nor by id
            ids = sorted(data.releases, key=lambda rid: hashlib.blake2b(str(rid).encode(), digest_size=8).digest())
        else:
            ids = sorted(data.releases, key=lambda rid: (data.releases[rid]["created_at"], rid), reverse=True)
        return ids, _latest(data.releases[rid].get("published_at") or data.releases[rid]["created_at"]
                            for rid in ids)

    keys, latest = hub.listing(repo["id"], "releases", (unordered,), make)
    return hub.page(request, keys, lambda rid: hub.record_entry(
        request.api, "release", repo["id"], rid,
        lambda: render.release(hub.world, request.api, repo, data.releases[rid])),
        latest or repo["created_at"])


def get_contributors(hub: FakeHub, request: Request, owner: str, name: str) -> Reply:
    repo = _repo(hub, owner, name)
    data = hub.world.repo_data[repo["id"]]
    if not data.commits:
        return Reply(b"", None, status=204)
    anon = request.params.get("anon", "") in ("1", "true")

    def make() -> tuple[list, str | None]:
        counts: dict[Any, list] = {}
        for sha in data.commit_order:
            record = data.commits[sha]
            if record.get("author_id") is not None:
                key: Any = record["author_id"]
            elif anon:
                key = "email:" + (record["author"].get("email") or "").lower()
            else:
                continue
            entry = counts.setdefault(key, [0, record["author"]])
            entry[0] += 1
        ordered = sorted(counts.items(), key=lambda item: (-item[1][0], str(item[0])))
        return [(key, count, person) for key, (count, person) in ordered], data.commit_order and \
            data.commits[data.commit_order[0]]["committer"]["date"]

    keys, latest = hub.listing(repo["id"], "contributors", (anon,), make)
    return hub.page(request, keys, lambda item: encode(render.contributor(
        hub.world, request.api, item[0] if isinstance(item[0], int) else None, item[2], item[1])),
        latest or repo["created_at"])


USER_REPO_TYPES = ("all", "owner", "member")


def get_user_repos(hub: FakeHub, request: Request, login: str) -> Reply:
    """``/users/{login}/repos``: the account's public repos (``type=owner``, the default,
    and ``all`` list the repos it owns; fakehub records no collaborations, so ``member``
    is empty), by ``full_name`` unless ``sort`` says otherwise."""
    record = _user_or_org(hub, login)
    kind = _choice(request, "type", USER_REPO_TYPES, "owner")
    sort = _choice(request, "sort", ("created", "updated", "pushed", "full_name"), "full_name")
    default_direction = "asc" if sort == "full_name" else "desc"
    direction = _choice(request, "direction", ("asc", "desc"), default_direction)
    repos = [] if kind == "member" else [
        repo for repo in hub.world.org_repos(record["login"]) if not repo.get("private")]
    field_name = {"created": "created_at", "updated": "updated_at", "pushed": "pushed_at"}.get(sort)
    if field_name:
        repos.sort(key=lambda repo: (repo.get(field_name) or repo["created_at"], repo["id"]),
                   reverse=direction == "desc")
    else:
        repos.sort(key=lambda repo: repo["name"].lower(), reverse=direction == "desc")
    latest = _latest(max(repo.get("updated_at") or "", repo.get("pushed_at") or "", repo["created_at"])
                     for repo in repos) or record.get("created_at")
    return hub.page(request, repos, lambda repo: hub.record_entry(
        request.api, "repo_minimal", repo["id"], repo["id"],
        lambda: render.repo_minimal(hub.world, request.api, repo)), latest)


SEARCH_CAP_MESSAGE = "Only the first 1000 search results are available"


def get_search_issues(hub: FakeHub, request: Request) -> Reply:
    """``/search/issues``: the qualifiers of ``search.py``, ``total_count``,
    ``incomplete_results``, and only the first 1,000 results reachable (later pages 422)."""
    from graphminer.fakehub import search

    q = request.params.get("q")
    if q is None:
        raise ApiError(422, "Validation Failed", {"errors": [
            {"resource": "Search", "field": "q", "code": "missing"}]})
    try:
        query = search.parse_query(q)
    except search.QueryError as error:
        raise ApiError(422, "Validation Failed", {"errors": [
            {"resource": "Search", "field": "q", "code": "invalid", "message": str(error)}]}) from None
    sort = _choice(request, "sort", ("created", "updated", "comments", "best-match"), "best-match")
    direction = _choice(request, "order", ("asc", "desc"), "desc")
    per_page, page = _page_size(request)
    if (page - 1) * per_page >= search.RESULT_CAP:
        raise ApiError(422, SEARCH_CAP_MESSAGE, docs=f"{DOCS}/search/search")
    keys = search.ordered(hub.world, search.matches(hub.world, query), sort, direction)
    reachable = keys[:search.RESULT_CAP]
    chunk = reachable[(page - 1) * per_page: page * per_page]
    items = []
    for repo_id, number in chunk:
        repo = hub.world.repos[repo_id]
        item = render.issue(hub.world, request.api, repo, hub.world.repo_data[repo_id].issues[number])
        items.append({**item, "score": 1.0})
    body = encode({"total_count": len(keys), "incomplete_results": False, "items": items})
    reply = Reply(body, hub.world.now)
    link = link_header(request, page, max(1, math.ceil(len(reachable) / per_page)), per_page)
    if link:
        reply.headers["Link"] = link
    return reply


def _routes() -> list[tuple[re.Pattern, Callable[..., Reply]]]:
    seg = r"([^/]+)"
    num = r"(\d+)"
    repo = rf"/repos/{seg}/{seg}"
    table = [
        ("/", get_root), ("/rate_limit", get_rate_limit), ("/organizations", get_organizations),
        (f"/users/{seg}", get_user), (f"/users/{seg}/orgs", get_user_orgs),
        (f"/users/{seg}/repos", get_user_repos), ("/search/issues", get_search_issues),
        (f"/orgs/{seg}", get_org), (f"/orgs/{seg}/repos", get_org_repos),
        (f"/orgs/{seg}/members", get_org_members),
        (f"/orgs/{seg}/public_members", get_org_public_members),
        (repo, get_repo),
        (f"{repo}/issues", get_issues),
        (f"{repo}/issues/comments", get_repo_comments),
        (f"{repo}/issues/events", get_repo_events),
        (f"{repo}/issues/comments/{num}/reactions", get_comment_reactions),
        (f"{repo}/issues/{num}", get_issue),
        (f"{repo}/issues/{num}/comments", get_issue_comments),
        (f"{repo}/issues/{num}/events", get_issue_events),
        (f"{repo}/issues/{num}/timeline", get_issue_timeline),
        (f"{repo}/issues/{num}/reactions", get_issue_reactions),
        (f"{repo}/pulls", get_pulls),
        (f"{repo}/pulls/comments", get_repo_review_comments),
        (f"{repo}/pulls/comments/{num}/reactions", get_review_comment_reactions),
        (f"{repo}/pulls/{num}", get_pull),
        (f"{repo}/pulls/{num}/reviews", get_pull_reviews),
        (f"{repo}/pulls/{num}/comments", get_pull_comments),
        (f"{repo}/pulls/{num}/commits", get_pull_commits),
        (f"{repo}/pulls/{num}/requested_reviewers", get_requested_reviewers),
        (f"{repo}/commits", get_commits),
        (f"{repo}/releases", get_releases),
        (f"{repo}/contributors", get_contributors),
    ]
    return [(re.compile(pattern), handler) for pattern, handler in table]


# -- HTTP -------------------------------------------------------------------------------


def _token(header: str | None) -> str | None:
    """The token as sent in ``Authorization`` (``token X``, ``Bearer X`` or basic auth)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() in ("token", "bearer"):
        return value.strip() or None
    if scheme.lower() == "basic":
        import base64
        try:
            decoded = base64.b64decode(value.strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return value.strip()
        return decoded.partition(":")[2] or decoded.partition(":")[0]
    return header.strip()


def _http_date(iso: str) -> str:
    moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return format_datetime(moment, usegmt=True)


def _etag(source: bytes, token: str | None) -> str:
    """A strong ETag of a body; with a token, that token's own (GitHub's ETags are per token)."""
    digest = hashlib.md5(source)
    if token is not None:
        digest.update(b"\0token\0" + token.encode())
    return '"' + digest.hexdigest() + '"'


def _not_modified(headers, etag: str, last_modified: str | None) -> bool:
    """Whether the client's validators show it already holds this body."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since and last_modified:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        modified = datetime.strptime(last_modified, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return modified <= since
    return False


class Handler(BaseHTTPRequestHandler):
    """One connection: HTTP/1.1 keep-alive, answers written in a single send."""

    protocol_version = "HTTP/1.1"
    server_version = "fakehub"
    sys_version = ""
    hub: FakeHub  # set on the subclass made by ``make_server``

    def setup(self) -> None:
        super().setup()
        # headers and body go out in one write; no Nagle delay between requests
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the JSON-lines log is the log

    _pending: tuple | None = None  # (path, query, token, fault) of the API request being answered
    _extra: dict | None = None  # more of its log line (a download's Range)

    def _log(self, status: int, counted: bool) -> None:
        """Record the request before its answer leaves, so a client that got it finds it logged."""
        if self._pending is not None:
            path, query, token, fault = self._pending
            extra, self._pending, self._extra = self._extra, None, None
            self.hub.record("GET", path, query, status, token, counted, fault, extra)

    def _send(self, status: int, body: bytes, headers: dict, truncate: bool = False,
              counted: bool = False) -> None:
        self._log(status, counted)
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
                 f"Date: {self.hub.date_header()}",
                 "Server: fakehub"]
        if status != 304:
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
            headers["Content-Length"] = str(len(body))
        lines += [f"{key}: {value}" for key, value in headers.items()]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body
        if truncate:
            if body:  # never cut into the headers
                data = data[: len(data) - max(1, len(body) // 2)]
            self.close_connection = True
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if path in ("/graphql", "/api/graphql"):
            # graphql-core loads at the first GraphQL request, not at start-up
            from graphminer.fakehub.graphql_endpoint import endpoint_of
            if self.hub.edges.latency_ms:
                time.sleep(self.hub.edges.latency_ms / 1000)  # as every REST answer waits
            answer = endpoint_of(self.hub).answer(self.hub, body, self.headers.get("Authorization"))
            self.hub.record("POST", path, {}, answer.status, answer.token, answer.counted, answer.fault,
                            extra={"graphql": answer.log})
            if answer.fault == "drop":
                self.close_connection = True
            else:
                self._send(answer.status, answer.body, answer.headers, truncate=answer.fault == "truncate")
            return
        if path not in ("/_fakehub/delta", "/_fakehub/clock"):
            self._send(404, encode(not_found().body), {})
            return
        try:
            answer = (self.hub.apply_delta if path == "/_fakehub/delta" else self.hub.advance_clock)(body)
        except BadInput as error:
            self._send(422, encode({"message": error.message, "documentation_url": DOCS}), {})
            return
        self._send(200, encode(answer), {})

    def do_GET(self) -> None:  # noqa: N802
        hub = self.hub
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        if path == "/_fakehub/stats":
            self._send(200, encode(hub.stats_snapshot()), {})
            return
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query: dict[str, str] = {}
        for key, value in pairs:
            query[key] = value
        order = list(dict.fromkeys(key for key, _ in pairs))
        token = _token(self.headers.get("Authorization"))
        if hub.edges.latency_ms:
            time.sleep(hub.edges.latency_ms / 1000)  # this connection's thread only
        fault = hub.faults.next()
        self._pending = (path, query, token, fault.kind if fault else None)
        if hub.gharchive is not None and path.startswith(GHARCHIVE_PREFIX):
            self._archive_hour(path[len(GHARCHIVE_PREFIX):], fault)
            return
        self._answer(path, query, order, token, fault, parts.query)

    def _archive_hour(self, name: str, fault: Fault | None) -> None:
        """One GH Archive hour as data.gharchive.org serves it: the gzip bytes, a ``Range:
        bytes=N-[M]`` answered 206 (416 past the end), 404 for an hour not written; the
        seeded faults hit these requests too (a truncated body is a partial download)."""
        if fault is not None and fault.kind == "drop":
            self._log(0, False)
            self.close_connection = True
            return
        if fault is not None and fault.kind in ("error", "secondary"):
            self._send(fault.status or 503, b"", {"Content-Type": "text/plain"})
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(SLOW_SECONDS)
        path = self.hub.gharchive / name
        if not HOUR_NAME.fullmatch(name) or not path.is_file():
            self._send(404, b"", {"Content-Type": "text/plain"})
            return
        data = path.read_bytes()
        headers = {"Content-Type": "application/gzip", "Accept-Ranges": "bytes"}
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if self.headers.get("Range"):
            self._extra = {"range": self.headers["Range"]}
        if wanted is None:
            self._send(200, data, headers, truncate=fault is not None and fault.kind == "truncate")
            return
        first = int(wanted.group(1))
        last = min(int(wanted.group(2)), len(data) - 1) if wanted.group(2) else len(data) - 1
        if first >= len(data) or last < first:
            self._send(416, b"", {**headers, "Content-Range": f"bytes */{len(data)}"})
            return
        headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
        self._send(206, data[first:last + 1], headers, truncate=fault is not None and fault.kind == "truncate")

    def _answer(self, path: str, query: dict, order: list, token: str | None,
                fault: Fault | None, raw_query: str = "") -> tuple[int, bool]:
        """Answer one API request; returns (status, counted against the rate limit)."""
        hub = self.hub
        if fault is not None:
            if fault.kind == "drop":
                self._log(0, False)
                self.close_connection = True
                return 0, False
            if fault.kind == "error":
                self._send(fault.status, encode({"message": "Server Error", "documentation_url": DOCS}), {})
                return fault.status, False
            if fault.kind == "secondary":
                self._send(403, encode({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": DOCS + "/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}),
                    {"Retry-After": "1"})
                return 403, False
            if fault.kind == "slow":
                time.sleep(SLOW_SECONDS)
        if token is not None and (token.startswith("bad") or hub.expired(token, hub.now())):
            self._send(401, encode({"message": "Bad credentials", "documentation_url": DOCS}), {})
            return 401, False
        prefix = "/api/v3" if path == "/api/v3" or path.startswith("/api/v3/") else ""
        inner = path[len(prefix):] or "/"
        if len(inner) > 1:
            inner = inner.rstrip("/")
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = Request(host, prefix, inner, path, query, order, token is not None, raw_query)
        if hub.edges.slow_pages and hub.heavy_slow_page(request):
            time.sleep(hub.edges.slow_seconds)
            self._send(502, encode({"message": "Server Error", "documentation_url": DOCS}), {})
            return 502, False
        now = hub.now()
        resource = "search" if inner.startswith("/search/") else "core"
        with hub.lock:
            window = hub.window(token, now, resource)
            exhausted = window.used >= window.limit
            if not exhausted and inner != "/rate_limit":
                # reserve the request's unit now, so concurrent requests cannot overshoot;
                # a 304 gives it back
                window.used += 1
            used = window.used
        rate_headers = {"X-RateLimit-Limit": str(window.limit),
                        "X-RateLimit-Remaining": str(max(0, window.limit - used)),
                        "X-RateLimit-Used": str(used),
                        "X-RateLimit-Reset": str(window.reset),
                        "X-RateLimit-Resource": resource}
        if inner == "/rate_limit":
            with hub.lock:
                searching = hub.window(token, now, "search")
            body = encode(render.rate_limit(window.limit, max(0, window.limit - used),
                                            window.reset, used, searching))
            self._send(200, body, {**rate_headers, "Cache-Control": "no-cache"})
            return 200, False
        if exhausted:
            refusal = hub.refusal_status(window)
            self._send(refusal, encode({
                "message": f"API rate limit exceeded for {'token ' + _masked(token) if token else self.client_address[0]}.",
                "documentation_url": DOCS + "/overview/resources-in-the-rest-api#rate-limiting"}),
                {**rate_headers, "X-RateLimit-Remaining": "0"})
            return refusal, False
        try:
            reply = hub.route(request)
        except ApiError as error:
            status, body, extra = error.status, encode(error.body), dict(error.headers)
            reply = None
        except ValueError:
            status, body, extra = 404, encode(not_found().body), {}
            reply = None
        if reply is not None and reply.status == 200:
            etag = _etag(reply.etag_source or reply.body, token if hub.edges.per_token_etags else None)
            last_modified = max(reply.last_modified or hub.world.now, hub.world.embedded_changed_at)
            validators = {"ETag": etag, "Last-Modified": _http_date(last_modified)}
            if _not_modified(self.headers, etag, last_modified):
                with hub.lock:
                    window.used -= 1
                    used = window.used
                rate_headers["X-RateLimit-Remaining"] = str(max(0, window.limit - used))
                rate_headers["X-RateLimit-Used"] = str(used)
                self._send(304, b"", {**rate_headers, **validators})
                return 304, False
            status, body, extra = 200, reply.body, {**validators, **reply.headers}
        elif reply is not None:
            status, body, extra = reply.status, reply.body, dict(reply.headers)
        headers = {**rate_headers, "Cache-Control": "private, max-age=60, s-maxage=60",
                   "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
                   "X-GitHub-Media-Type": "github.v3; format=json",
                   "Access-Control-Allow-Origin": "*",
                   "Access-Control-Expose-Headers": EXPOSED_HEADERS,
                   "X-GitHub-Request-Id": f"FAKE:{threading.get_ident() % 65536:04X}:{next(_REQUEST_IDS):08X}",
                   **extra}
        if token is not None:
            headers["X-OAuth-Scopes"] = "read:org, repo"
            headers["X-Accepted-OAuth-Scopes"] = "repo"
        self._send(status, body, headers, truncate=fault is not None and fault.kind == "truncate",
                   counted=True)
        return status, True


def _masked(token: str) -> str:
    return token[:4] + "..."


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client hanging up mid-request is routine (timeouts, retries), not a server error
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_server(hub: FakeHub, host: str, port: int) -> Server:
    """A bound (not yet serving) HTTP server for ``hub``."""
    handler = type("BoundHandler", (Handler,), {"hub": hub})
    try:
        return Server((host, port), handler)
    except OSError as error:
        raise BadInput(f"--host/--port: cannot listen on {host}:{port} ({error.strerror}); "
                       "pick a free port or --port 0") from None


def serve_forever(server: Server) -> None:
    """Serve until interrupted."""
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()
