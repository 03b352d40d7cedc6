"""``graphminer harvest``: parse the options, run the GitHub harvest, print its summary."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from graphminer.config import load_config, require_login, store_path_for
from graphminer.errors import BadInput


@contextmanager
def interrupted_runs_marked(store: Path) -> Iterator[None]:
    """On Ctrl-C or SIGTERM, mark the run 'interrupted' in ``_runs`` and let the CLI say so."""
    try:
        yield
    except KeyboardInterrupt:
        from graphminer.store import mark_interrupted

        mark_interrupted(store)
        raise


@contextmanager
def network_failures_told(cache_dir: Path) -> Iterator[None]:
    """A connection dropped past the harvester's retries (raised from requests, urllib3
    or http.client, as requests-cache reads a body) as one line, exit 1; an error of the
    HTTP cache's own SQLite file as one line saying it may be deleted, exit 2."""
    import http.client
    import sqlite3
    import traceback

    import requests
    import urllib3

    try:
        yield
    except BrokenPipeError:
        raise  # our own output's reader went away, not GitHub's connection (the CLI ends quietly)
    except sqlite3.DatabaseError as error:
        frames = traceback.extract_tb(error.__traceback__)
        if not any("requests_cache" in frame.filename for frame in frames):
            raise  # the store's: the CLI says what it means
        raise BadInput(
            f"the HTTP cache in {cache_dir} is unusable (SQLite said: {error}): delete "
            f"{cache_dir / 'http_cache.sqlite'} (only a cache: the next harvest refills it) and run again"
        ) from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException,
            ConnectionError) as error:
        said = " ".join(str(error).split())[:200]
        failure = click.ClickException(
            f"the connection to the GitHub API failed ({type(error).__name__}: {said}) after "
            "retries: nothing stored is lost; run the same command again to resume")
        failure.exit_code = 1
        raise failure from None


@click.command()
@click.option("--config", "config_path", type=click.Path(), help="Config file (TOML).")
@click.option("--org", "orgs", multiple=True, help="Harvest only this org (repeatable).")
@click.option("--api-url", help="GitHub API URL (GitHub Enterprise, or fakehub).")
@click.option("--store", type=click.Path(dir_okay=False), help="Store file (SQLite).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), help="HTTP cache folder.")
@click.option("--full", is_flag=True, help="Ignore watermarks: walk every listing to its end.")
@click.option("--api", type=click.Choice(["auto", "rest", "graphql"]), default=None,
              help="How issues and pull requests are read (default: [harvest] api, auto: "
                   "GraphQL on a repo's first harvest or with --full, REST on the nights after).")
@click.option("--follow/--no-follow", "follow", default=None,
              help="Follow landed makers beyond the orgs afterwards (default: [careers] follow).")
def harvest(config_path: str | None, orgs: tuple[str, ...], api_url: str | None,
            store: str | None, cache_dir: str | None, full: bool, api: str | None,
            follow: bool | None) -> None:
    """Harvest the configured GitHub organisations into the store, incrementally (then,
    with [careers] follow or --follow, follow their landed makers beyond them).

    Tokens come from GITHUB_TOKEN, or several from GITHUB_TOKENS (comma-separated). Exit
    code 1 when some repos could not be harvested or some orgs were not found (they are
    listed at the end), or the API could not be reached; 2 for bad input, or when GitHub
    refused every token.
    """
    from graphminer.harvest.session import CACHE_FILE, tokens_from_env
    from graphminer.outputs import require_http_cache_file
    from graphminer.pipeline import follow_makers, harvest_github
    from graphminer.store import require_store_path

    for login in orgs:
        require_login(login, "--org")
    config = load_config(config_path)
    cache = Path(cache_dir) if cache_dir else config.cache_dir
    require_http_cache_file(cache / CACHE_FILE)
    require_store_path(store_path_for(store, config))  # before the cache gets its token key
    with interrupted_runs_marked(store_path_for(store, config)), network_failures_told(cache):
        summary = harvest_github(config, orgs=list(orgs), api_url=api_url, store_path=store,
                                 cache_dir=cache_dir, full=full, tokens=tokens_from_env(dict(os.environ)),
                                 api=api)
    for line in summary.lines():
        click.echo(line)
    if config["careers"]["follow"] if follow is None else follow:
        followed = follow_makers(config, api_url=api_url, store_path=store, cache_dir=cache_dir,
                                 tokens=tokens_from_env(dict(os.environ)),
                                 say=lambda message: click.echo(message, err=True))
        for line in followed.lines():
            click.echo(line)
    if summary.failures or summary.missing_orgs:
        sys.exit(1)
