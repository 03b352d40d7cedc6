"""The ``makers`` command: every maker with their current stage, key dates and counts."""

from __future__ import annotations

import json
import sys

import click

from graphminer.milestones import STAGES


def progress_to_terminal(message: str) -> None:
    """Progress on stderr, only when a person watches it (quiet in cron and pipes)."""
    if sys.stderr.isatty():
        click.echo(message, err=True)


@click.command()
@click.option("--org", help="Only this organisation (its makers at org scope).")
@click.option("--stage", type=click.Choice(STAGES), help="Only makers at this stage now.")
@click.option("--as-of", "as_of", help="Reference time, ISO 8601 read as UTC (default: end of the last harvest).")
@click.option("--include-bots", is_flag=True, help="List bots and role accounts (root, deploy...) too; they have no milestones.")
@click.option("--store", "store", help="Store file (default from the config).")
@click.option("--config", "config_path", help="Config file (TOML).")
@click.option("--json", "as_json", is_flag=True, help="A JSON list, one object per maker.")
def makers(org: str | None, stage: str | None, as_of: str | None, include_bots: bool,
           store: str | None, config_path: str | None, as_json: bool) -> None:
    """Makers with their current stage, milestones and contribution counts."""
    from graphminer import timeutil
    from graphminer.config import load_config, store_path_for
    from graphminer.precompute import makers_listing, render_makers
    from graphminer.store import open_store

    config = load_config(config_path)
    moment = timeutil.as_of(as_of) if as_of else None
    conn = open_store(store_path_for(store, config), readonly=True)
    try:
        listing = makers_listing(conn, config, org=org, stage=stage, as_of=moment,
                                 include_bots=include_bots, progress=progress_to_terminal)
    finally:
        conn.close()
    click.echo(json.dumps(listing, indent=2) if as_json else render_makers(listing))
