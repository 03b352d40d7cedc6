"""The ``stats`` command: funnel, times, paths, cohorts, bridges and core for an org or the network."""

from __future__ import annotations

import json
import sys

import click


@click.command()
@click.option("--org", help="Only this organisation (its makers at org scope).")
@click.option("--as-of", "as_of", help="Reference time, ISO 8601 read as UTC (default: end of the last harvest).")
@click.option("--store", "store", help="Store file (default from the config).")
@click.option("--config", "config_path", help="Config file (TOML).")
@click.option("--json", "as_json", is_flag=True, help="Every figure as JSON.")
def stats(org: str | None, as_of: str | None, store: str | None, config_path: str | None, as_json: bool) -> None:
    """Funnel and conversions, Kaplan-Meier times to each milestone, common paths,
    cohort retention, org bridges and core overlap, for an org or the whole network."""
    from graphminer import timeutil
    from graphminer.api import render_stats, store_stats
    from graphminer.config import load_config, store_path_for

    config = load_config(config_path)
    moment = timeutil.as_of(as_of) if as_of else None
    progress = (lambda message: click.echo(message, err=True)) if sys.stderr.isatty() else None
    summary = store_stats(store_path_for(store, config), config, org, moment, progress)
    click.echo(json.dumps(summary, indent=2) if as_json else render_stats(summary))
