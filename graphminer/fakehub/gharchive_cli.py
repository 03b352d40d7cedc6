"""``graphminer fakehub gharchive WORLD OUTDIR``: write a world's public events as GH Archive
hourly files with their truth (``graphminer.fakehub.gharchive``)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("gharchive")
@click.argument("world", type=click.Path(path_type=Path))
@click.argument("outdir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--from", "start", default=None, help="First day (YYYY-MM-DD) to write (default: all).")
@click.option("--to", "end", default=None, help="Last day (YYYY-MM-DD) to write (default: all).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the crawl-era filing.")
@click.option("--missing-share", type=float, default=None,
              help="Share of events lost from 2025-05-24 on (default 0.1; 0 before that date always).")
@click.option("--missing-hours", default="", help="Hours left out, comma-separated (2016-03-01-5,...).")
def gharchive(world: Path, outdir: Path, start: str | None, end: str | None, seed: int,
              missing_share: float | None, missing_hours: str) -> None:
    """Write WORLD's public events as GH Archive hours (YYYY-MM-DD-H.json.gz) into OUTDIR,
    with OUTDIR/truth.json: what those files can show."""
    from graphminer.errors import BadInput
    from graphminer.fakehub.generator import load_json
    from graphminer.fakehub.gharchive import write_gharchive

    path = world / "world.json.gz" if world.is_dir() else world
    if not path.is_file():
        raise BadInput(f"no world at {world}: give a world file or a folder holding world.json.gz")
    summary = write_gharchive(load_json(path), outdir, start=start, end=end, seed=seed,
                              missing_share=missing_share,
                              missing_hours=tuple(hour.strip() for hour in missing_hours.split(",") if hour.strip()))
    click.echo(f"wrote {summary['hours']} hours, {summary['events']} events into {outdir} "
               f"({summary['lost']} lost to the crawl era or missing hours) and {outdir / 'truth.json'}")
