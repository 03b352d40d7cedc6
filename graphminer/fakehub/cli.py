"""``graphminer fakehub ...``: the emulator's commands (serve, generate), imported lazily."""

from __future__ import annotations

import click

from graphminer.cli import LazyGroup

SUBCOMMANDS = {
    "serve": "graphminer.fakehub.serve_cli:serve",
    "generate": "graphminer.fakehub.generate_cli:generate",
    "gharchive": "graphminer.fakehub.gharchive_cli:gharchive",
}


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS)
def fakehub() -> None:
    """The GitHub REST and GraphQL API emulator and its world generator."""
