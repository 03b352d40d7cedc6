"""`graphminer report OUTDIR`: a static HTML report with plots, for funders and boards."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--store", type=click.Path(dir_okay=False), help="Store file (default: config).")
@click.option("--config", "config_path", type=click.Path(), help="Config file.")
@click.option("--as-of", "as_of", help="Reference time (ISO 8601, UTC; default: last harvest).")
@click.option("--makers", type=int, help="Makers given a page each (default: config [report] makers, 200).")
def report(outdir: str, store: str | None, config_path: str | None, as_of: str | None,
           makers: int | None) -> None:
    """Write an HTML report into OUTDIR (opens at OUTDIR/index.html, needs no network)."""
    from graphminer import report as reporter
    from graphminer import timeutil
    from graphminer.config import load_config, store_path_for
    from graphminer.store import open_store

    config = load_config(config_path)
    moment = timeutil.as_of(as_of) if as_of else None
    conn = open_store(store_path_for(store, config), readonly=True)
    try:
        index = reporter.report(Path(outdir), conn, config, as_of=moment, makers=makers)
    finally:
        conn.close()
    click.echo(str(index))
