"""The GitHub harvest run: organisations, then their repos, then the summary.

``GitHubHarvest`` checks a harvest's options and prepares its token pools before any store
is opened (bad input leaves nothing behind); ``GitHubHarvest.run(conn)`` harvests into a
store the caller opened and holds the lock of (``graphminer.pipeline``, which then resolves
identities and refreshes the precomputed tables: a harvest never starts the derivation).
The run lists each org's public members and repos, marks what became of the stored repos
an org no longer lists (deleted, turned private: purged, transferred), and hands every
wanted repo to a ``RepoReader`` (``graphminer.harvest.reading``: its listings, as
``graphminer.harvest.listings`` declares them). With several tokens, one worker per token
reads repos in parallel (``graphminer.harvest.workers``), each with its own session
(``graphminer.harvest.session``). The README's "GitHub's hard edges" says what happens at
each edge.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from github import Github, GithubException

from graphminer.config import Config
from graphminer.errors import BadInput, Unreachable
from graphminer.harvest import workers
from graphminer.harvest.graphql import GraphQLError, GraphQLReader
from graphminer.harvest.progress import Progress
from graphminer.harvest.ratelimit import TokenPool
from graphminer.harvest.reading import RepoGone, RepoReader
from graphminer.harvest.runs import finish_run, start_run
from graphminer.harvest.save import Saver
from graphminer.harvest.session import (
    HarvestSession,
    HeavyPage,
    HttpStats,
    cache_secret,
    github_client,
    graphql_url,
    probe_tokens,
    prune_cache,
    raw,
    raw_completed,
    without_credentials,
)

UNAUTHENTICATED_WARNING = (
    "warning: no GITHUB_TOKEN or GITHUB_TOKENS set: GitHub allows 60 unauthenticated "
    "requests an hour, so this harvest will mostly wait; set GITHUB_TOKEN to a token"
)


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


class GitHubHarvest:
    """One GitHub harvest of the configured (or given) orgs: its options checked, its cache
    folder and token pools ready; ``run`` harvests into an opened, locked store."""

    def __init__(self, config: Config, *, orgs: list[str] | None = None, api_url: str | None = None,
                 store_path: Path | None = None, cache_dir: Path | None = None,
                 full: bool = False, tokens: list[str] | None = None, api: str | None = None,
                 say: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
                 progress: Progress | None = None) -> None:
        settings = config["harvest"]
        orgs = list(orgs or settings["orgs"])
        if not orgs:
            raise BadInput("no organisations to harvest: give --org or list them in harvest.orgs")
        api_url = (api_url or settings["api_url"]).rstrip("/")
        if not api_url.startswith(("http://", "https://")):
            raise BadInput(f"the API URL {api_url!r} must start with https:// (or http://): "
                           "check --api-url or harvest.api_url")
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
        secret = cache_secret(cache_dir)
        # With several tokens, workers: Ctrl-C or a worker's error stops the others, even
        # while they wait for a rate limit's reset (workers.run_workers)
        self.stop = threading.Event() if len(tokens) > 1 else None
        sleep = workers.sleeper(self.stop) if self.stop is not None else time.sleep
        self.pool = TokenPool(tokens, floor=settings["rate_floor"], say=say, secret=secret, sleep=sleep)
        # The graphql resource's points are a budget of their own: their own pool.
        self.points = TokenPool(tokens, floor=settings["rate_floor"], say=say, secret=secret, sleep=sleep)
        api = api or settings["api"]
        if api not in ("auto", "rest", "graphql"):
            raise BadInput(f"--api must be auto, rest or graphql, not {api!r}")
        if not tokens and api != "rest":
            if api == "graphql":  # auto means "where it pays": without a token, nowhere
                say("warning: GitHub's GraphQL API needs a token: reading over REST")
            api = "rest"
        self.config, self.orgs, self.api_url, self.cache_dir = config, orgs, api_url, cache_dir
        self.full, self.tokens, self.api, self.say = full, tokens, api, say
        self.progress = progress or Progress()
        self.store_path = Path(store_path or config.store_path)
        self.threaded = len(tokens) > 1  # the store is written from worker threads
        named = " ".join(orgs) if len(orgs) <= 5 else f"of {len(orgs)} orgs"
        self.lock_label = f"graphminer harvest {named}"

    def new_session(self, home: int | None = None, graphql: bool = False) -> HarvestSession:
        """A session of the REST pool (or of the GraphQL points' pool); a worker's with
        ``home``, its token."""
        return HarvestSession(self.cache_dir, self.config["paths"]["cache_days"],
                              self.points if graphql else self.pool,
                              max_retries=self.config["harvest"]["max_retries"], say=self.say,
                              home=home, stop=None if home is None else self.stop)

    def run(self, conn: sqlite3.Connection) -> Summary:
        """Harvest into ``conn`` (opened with threads when ``threaded``, its lock held)."""
        session = self.new_session()
        try:
            if self.threaded:
                probe_tokens(session, self.api_url)
            store = workers.SerialStore(conn) if self.threaded else conn
            harvester = Harvester(store, self.config, github_client(self.api_url, session), session,
                                  full=self.full, progress=self.progress, workers=len(self.tokens),
                                  new_session=self.new_session, api=self.api,
                                  new_graphql_session=lambda home: self.new_session(home, graphql=True),
                                  stop=self.stop)
            summary = harvester.run(self.orgs, self.api_url)
            # Not on the way out of Ctrl-C: requests-cache may have been stopped inside
            # a cache transaction, and its next write would wait for it for ever.
            prune_cache(session)
        finally:
            session.close()
        return summary


class Harvester:
    """One harvest run over a store: orgs, then their repos (each read by a ``RepoReader``)."""

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
        self.readers: list[GraphQLReader] = []  # every worker's, for the counts
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
        self.api_url = without_credentials(api_url)
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
            self.harvest_share(wanted, self.reader_for(self.session, self.client), threading.Event())
            return
        parts = workers.shares(wanted, self.workers, key=lambda item: item[1]["id"])
        workers.run_workers(parts, self.work, self.stop)

    def work(self, index: int, part: list[tuple[int, dict]], stop: threading.Event) -> None:
        """Worker ``index``: its share of the repos with its own session and home token."""
        session = self.new_session(index)
        self.sessions.append(session)
        # its GraphQL points are spent on its own token too
        reader = self.reader_for(session, github_client(self.api_url_sent, session), home=index)
        try:
            self.harvest_share(part, reader, stop)
        finally:
            session.close()

    def reader_for(self, session: HarvestSession, client: Github, home: int | None = None) -> RepoReader:
        """A repo reader on ``session`` (a worker's, whose token is ``home``), with a GraphQL
        reader of its own made at its first use."""
        made: list[GraphQLReader] = []

        def graphql() -> GraphQLReader:
            if not made:
                made.append(GraphQLReader(self.new_graphql_session(home), graphql_url(self.api_url_sent),
                                          self.saver, self.api_url, say=session.say,
                                          org_sizes=self.org_sizes))
                with self.tally:
                    self.readers.append(made[0])
            return made[0]

        return RepoReader(self.conn, self.saver, client, session, self.settings, full=self.full,
                          api=self.api, graphql=graphql if self.new_graphql_session else None)

    def harvest_share(self, part: list[tuple[int, dict]], reader: RepoReader,
                      stop: threading.Event) -> None:
        for org_id, repo in part:
            if stop.is_set():
                return
            self.progress.show(repo["full_name"], self.done, self.total)
            self.harvest_repo(org_id, repo, reader)
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

    def harvest_repo(self, org_id: int, repo: dict, reader: RepoReader) -> None:
        self.saver.save_repo(org_id, repo)
        try:
            reader.read(repo)
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


def is_public(repo: dict) -> bool:
    """A repo anyone may read: never store anything of another (``private`` or a
    ``visibility`` other than public, as a member's token may see)."""
    return not repo.get("private") and repo.get("visibility", "public") == "public"


def _describe(error: GithubException) -> str:
    message = error.data.get("message") if isinstance(error.data, dict) else None
    return f"HTTP {error.status}" + (f" {message}" if message else "")
