"""The ``careers`` command: where the makers went beyond the harvested organisations."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--org", help="Only makers whose first contribution landed in this organisation.")
@click.option("--as-of", "as_of", help="Reference time, ISO 8601 read as UTC (default: end of the last harvest).")
@click.option("--store", "store", help="Store file (default from the config).")
@click.option("--config", "config_path", help="Config file (TOML).")
@click.option("--json", "as_json", is_flag=True, help="The table as JSON.")
def careers(org: str | None, as_of: str | None, store: str | None, config_path: str | None,
            as_json: bool) -> None:
    """Where did they go: for each career milestone (rules version 3), the makers reaching
    it by cohort year of first contact, and the time from their first landed contribution.
    Needs a harvest with following on ([careers] follow = true)."""
    from graphminer import timeutil
    from graphminer.api import open_store
    from graphminer.careers import careers_summary, render_careers
    from graphminer.config import load_config, store_path_for

    config = load_config(config_path)
    moment = timeutil.as_of(as_of) if as_of else None
    with open_store(store_path_for(store, config), config) as opened:
        summary = careers_summary(opened.reader, org, moment)
    click.echo(json.dumps(summary, indent=2) if as_json else render_careers(summary))
