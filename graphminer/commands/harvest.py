"""``graphminer harvest``: parse the options, run the GitHub harvest, print its summary."""

from __future__ import annotations

import os
import sys

import click

from graphminer.config import load_config


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file (TOML).")
@click.option("--org", "orgs", multiple=True, help="Harvest only this org (repeatable).")
@click.option("--api-url", help="GitHub API URL (GitHub Enterprise, or fakehub).")
@click.option("--store", type=click.Path(dir_okay=False), help="Store file (SQLite).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), help="HTTP cache folder.")
@click.option("--full", is_flag=True, help="Ignore watermarks: walk every listing to its end.")
@click.option("--follow/--no-follow", "follow", default=None,
              help="Follow landed makers beyond the orgs afterwards (default: [careers] follow).")
def harvest(config_path: str | None, orgs: tuple[str, ...], api_url: str | None,
            store: str | None, cache_dir: str | None, full: bool, follow: bool | None) -> None:
    """Harvest the configured GitHub organisations into the store, incrementally (then,
    with [careers] follow or --follow, follow their landed makers beyond them).

    Tokens come from GITHUB_TOKEN, or several from GITHUB_TOKENS (comma-separated). Exit
    code 1 when some repos could not be harvested (they are listed at the end).
    """
    from graphminer.harvest.github import harvest_github, tokens_from_env

    config = load_config(config_path)
    summary = harvest_github(config, orgs=list(orgs), api_url=api_url, store_path=store,
                             cache_dir=cache_dir, full=full, tokens=tokens_from_env(dict(os.environ)))
    for line in summary.lines():
        click.echo(line)
    if config["careers"]["follow"] if follow is None else follow:
        from graphminer.harvest.follow import follow_makers

        followed = follow_makers(config, api_url=api_url, store_path=store, cache_dir=cache_dir,
                                 tokens=tokens_from_env(dict(os.environ)),
                                 say=lambda message: click.echo(message, err=True))
        for line in followed.lines():
            click.echo(line)
    if summary.failures:
        sys.exit(1)
