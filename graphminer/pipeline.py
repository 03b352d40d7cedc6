"""The flow's sequence: harvest, then identities, then the precomputed tables.

The only module that sequences the stages: each function opens the store, holds its
single-writer lock, runs one harvester (``graphminer.harvest``), then resolves identities
(``graphminer.identity``) and refreshes the precomputed trajectory tables
(``graphminer.precompute``), so that a harvester never starts the derivation and every
command (``harvest``, ``harvest-git``, ``harvest-archive``, ``demo``) and benchmark gets
the same sequence.
Options are checked before the store is opened or made: bad input leaves nothing behind.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from graphminer import identity, precompute
from graphminer.columnar import copy
from graphminer.config import Config, store_path_for
from graphminer.destinations import classifier_for
from graphminer.harvest import archive, follow
from graphminer.harvest.git import GitHarvest, read_source, run_harvest_git
from graphminer.harvest.github import GitHubHarvest, Summary
from graphminer.harvest.progress import Progress
from graphminer.reader import StoreReader
from graphminer.store import harvest_lock, open_store
from graphminer.timeutil import format_instant


def derive(conn: sqlite3.Connection, config: Config) -> None:
    """Bring the derived tables (makers, precomputed milestones) up to date with the store."""
    identity.refresh(conn, config)
    precompute.refresh(conn, config)


@contextmanager
def locked_store(path: str | os.PathLike, command: str, *, threads: bool = False) -> Iterator[sqlite3.Connection]:
    """The store at ``path`` (made when absent), its harvest lock held for ``command``."""
    conn = open_store(path, threads=threads)
    try:
        with harvest_lock(conn, command):
            yield conn
            sealed = copy.sealed_copy(conn)  # the columnar copy, if nothing moved since its refresh
        if sealed is not None:  # releasing the lock wrote the store: the copy's seal follows
            copy.seal(sealed, conn)
            sealed.close()
    finally:
        conn.close()


def harvest_github(config: Config, *, orgs: list[str] | None = None, api_url: str | None = None,
                   store_path: Path | None = None, cache_dir: Path | None = None,
                   full: bool = False, tokens: list[str] | None = None, api: str | None = None,
                   say: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
                   progress: Progress | None = None) -> Summary:
    """Harvest the configured (or given) GitHub orgs into the store, then derive."""
    harvest = GitHubHarvest(config, orgs=orgs, api_url=api_url, store_path=store_path,
                            cache_dir=cache_dir, full=full, tokens=tokens, api=api, say=say,
                            progress=progress)
    with locked_store(harvest.store_path, harvest.lock_label, threads=harvest.threaded) as conn:
        summary = harvest.run(conn)
        derive(conn, config)
    return summary


def harvest_git(path: str | os.PathLike, *, config: Config, org: str | None = None,
                repo: str | None = None, store: str | os.PathLike | None = None) -> GitHarvest:
    """Harvest a local git repository or a saved git log into the store, then derive."""
    source = read_source(path, org, repo)  # bad input refused before the store is made
    with locked_store(store_path_for(str(store) if store else None, config), f"harvest-git {path}") as conn:
        result = run_harvest_git(conn, path, config=config, org=org, repo=repo, source=source)
        derive(conn, config)
    return result


def harvest_archive(config: Config, *, files: list[Path], missing: list | None = None, everything: bool = False,
                    following: bool = False, named_owners: dict[str, str] | None = None,
                    store_path: Path | None = None,
                    say: Callable[[str], None] = lambda message: None) -> archive.ArchiveSummary:
    """Read GH Archive hours into the store (``graphminer.harvest.archive``), then derive;
    with ``following``, then the archive's outside acts of the makers following would
    follow (``follow_from_archive``)."""
    with locked_store(Path(store_path or config.store_path), "graphminer harvest-archive") as conn:
        summary = archive.harvest_archive(conn, config, files=files, missing=missing, everything=everything,
                                          follow=following, named_owners=named_owners, say=say)
        derive(conn, config)
        if following:
            follow_from_archive(conn, config)
    return summary


def harvest_clickhouse(config: Config, url: str, table: str, start: datetime, end: datetime, *,
                       everything: bool = False, following: bool = False,
                       store_path: Path | None = None) -> archive.ArchiveSummary:
    """Run the GH Archive selection on a ClickHouse server into the store, then derive (and
    with ``following``, the outside acts as ``harvest_archive``)."""
    with locked_store(Path(store_path or config.store_path), "graphminer harvest-archive (ClickHouse)") as conn:
        summary = archive.read_clickhouse(conn, config, url, table, start, end, everything=everything,
                                          follow=following)
        derive(conn, config)
        if following:
            follow_from_archive(conn, config)
    return summary


def follow_from_archive(conn: sqlite3.Connection, config: Config) -> int:
    """The archive's staged outside acts of the makers following would follow (landed, with
    an account, not opted out) into following's tables, then the precomputed tables again
    (the career milestones join them); returns how many makers."""
    makers, _ = follow.makers_to_follow(conn, config, landed_makers(conn, config),
                                        identity.opted_out_keys(conn, config.opt_out))
    harvested = [row[0] for row in conn.execute("SELECT login FROM orgs")]
    classifier = classifier_for(config, [*config["harvest"]["orgs"], *harvested])
    followed = archive.follow_from_archive(conn, {maker.user_id for maker in makers}, classifier.kind)
    if followed:
        precompute.refresh(conn, config)
    return followed


def landed_makers(conn: sqlite3.Connection, config: Config) -> dict[str, str | None]:
    """Key -> network first_contact of the makers who reached network first_landed (the
    rules' own reading, at the default as_of): who following follows."""
    milestones = StoreReader(conn, config).milestones("network")
    if "first_landed" not in milestones:
        return {}
    landed = milestones[milestones["first_landed"].notna()]
    return {str(key): (None if contact != contact else format_instant(contact))
            for key, contact in landed["first_contact"].items()}


def follow_makers(config: Config, *, api_url: str | None = None, store_path: Path | None = None,
                  cache_dir: Path | None = None, tokens: list[str] | None = None,
                  say: Callable[[str], None] = lambda message: None,
                  sleep: Callable[[float], None] = time.sleep) -> follow.FollowSummary:
    """Follow the store's landed makers beyond the harvested orgs (``graphminer.harvest.
    follow``), then refresh the precomputed tables (the career milestones join them)."""
    path = Path(store_path or config.store_path)
    with locked_store(path, "graphminer harvest (following makers)") as conn:
        summary = follow.follow_makers(conn, config, landed_makers(conn, config),
                                       identity.opted_out_keys(conn, config.opt_out),
                                       api_url=api_url, cache_dir=cache_dir, tokens=tokens,
                                       say=say, sleep=sleep)
        precompute.refresh(conn, config)
    return summary
