"""`graphminer demo [OUTDIR]`: the whole flow offline on the bundled world."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("outdir", default="demo-out", type=click.Path(file_okay=False))
def demo(outdir: str) -> None:
    """Serve the bundled world with fakehub, harvest it over HTTP, print trajectories,
    write the GEXF, CSVs and HTML report into OUTDIR (default: ./demo-out)."""
    from graphminer.demo import run_demo

    run_demo(Path(outdir))
