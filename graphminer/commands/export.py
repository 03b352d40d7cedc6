"""`graphminer export FORMAT OUT`: the maker-project graph as GEXF, GraphML, CSV or JSON."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from graphminer import timeutil
from graphminer.errors import BadInput
from graphminer.timeutil import parse_instant


def parse_utc(value: str | None, flag: str) -> datetime | None:
    """An ISO 8601 date or time from the command line, read as UTC (None when not given)."""
    return None if value is None else parse_instant(value, flag)


def parse_until(value: str | None) -> datetime | None:
    """--until: a date alone includes that whole day (its last second)."""
    moment = parse_utc(value, "--until")
    if moment is not None and len(value.strip()) == 10:
        moment += timedelta(days=1) - timedelta(seconds=1)
    return moment


def _options(command):
    decorators = [
        click.option("--org", "orgs", multiple=True, help="Only this org (repeat for several)."),
        click.option("--since", help="Only events at or after this date (ISO 8601, UTC)."),
        click.option("--until", help="Only events up to this time (ISO 8601, UTC; a date alone includes its whole day)."),
        click.option("--as-of", "as_of", help="Reference time for stages (default: last harvest)."),
        click.option("--store", type=click.Path(dir_okay=False), help="Store file (default: config)."),
        click.option("--config", "config_path", type=click.Path(), help="Config file."),
        click.option(
            "--projection", type=click.Choice(["bipartite", "makers", "projects"]),
            default="bipartite", show_default=True,
            help="makers: makers linked by shared projects; projects: projects linked by shared makers.",
        ),
        click.option("--min-weight", type=float, default=0.0, help="Drop edges lighter than this."),
        click.option(
            "--with-destinations", is_flag=True,
            help="Add where followed makers had work merged beyond the orgs: government, "
                 "research and civic owners by name, the rest as one node (bipartite only).",
        ),
        click.option(
            "--pseudonymise", is_flag=True,
            help="Stable keyed hashes instead of logins and names ([export] pseudonymise_key).",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _run(fmt: str, out: str, orgs, since, until, as_of, store, config_path, projection,
         min_weight, with_destinations, pseudonymise) -> None:
    from graphminer import export as exporter
    from graphminer.config import load_config, store_path_for
    from graphminer.store import open_store

    first, last = parse_utc(since, "--since"), parse_until(until)
    if first is not None and last is not None and first > last:
        raise BadInput(f"--since {since} is after --until {until}: no event could be both; "
                       "give a --since before --until")
    if not min_weight >= 0:  # NaN too
        raise BadInput(f"--min-weight {min_weight:g} must be 0 or more: an edge's weight "
                       "counts the contributions it stands for")
    config = load_config(config_path)
    options = exporter.ExportOptions(
        orgs=list(orgs), since=first, until=last,
        as_of=timeutil.as_of(as_of) if as_of else None, projection=projection, min_weight=min_weight,
        pseudonymise=pseudonymise, with_destinations=with_destinations,
    )
    conn = open_store(store_path_for(store, config), create=False)
    try:
        written = exporter.export(
            fmt, Path(out), conn, config, options, warn=lambda text: click.echo(text, err=True)
        )
    finally:
        conn.close()
    for path in written:
        click.echo(str(path))


@click.group()
def export() -> None:
    """Export the maker-project graph for Gephi, Gephi Lite, d3 or a spreadsheet.

    Emails never appear in an export; opted-out people never appear.
    """


def _subcommand(fmt: str, metavar: str, help_text: str):
    @click.argument("out", metavar=metavar)
    @_options
    def command(out, **kwargs) -> None:
        _run(fmt, out, **kwargs)

    command.__doc__ = help_text
    return export.command(name=fmt, help=help_text)(command)


_subcommand("gexf", "OUT", "GEXF 1.3, dynamic: Gephi's timeline replays the network growing.")
_subcommand("graphml", "OUT", "GraphML (yEd, Cytoscape, networkx).")
_subcommand("csv", "OUTDIR", "nodes.csv and edges.csv with Gephi's spreadsheet column names.")
_subcommand("json", "OUT", "Node-link JSON for d3 and sigma.js.")
_subcommand("all", "OUTDIR", "Every format into OUTDIR: graph.gexf, graph.graphml, nodes/edges.csv, graph.json.")
