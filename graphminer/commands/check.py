"""``graphminer check``: is the store healthy? SQLite's integrity check and the store's own
invariants, with a verdict; exit 0 when healthy, 1 when not."""

from __future__ import annotations

import sqlite3
import sys

import click


@click.command()
@click.option("--store", help="Store file (default from the config).")
@click.option("--config", "config_path", help="Config file (TOML).")
def check(store: str | None, config_path: str | None) -> None:
    """Check the store: SQLite's integrity check, then graphminer's invariants (rows belong
    to stored repos, watermarks name stored repos and orgs, identities stored makers).
    Exit code 0 when healthy, 1 when not (with how to recover). Writes nothing."""
    from graphminer.config import load_config, store_path_for
    from graphminer.health import RECOVERY, check_store
    from graphminer.store import open_store

    path = store_path_for(store, load_config(config_path))
    try:
        conn = open_store(path, readonly=True)
    except sqlite3.DatabaseError as error:
        click.echo(f"store {path}\nproblem: SQLite cannot open it: {error}\nverdict: NOT healthy: {RECOVERY}")
        sys.exit(1)
    try:
        health = check_store(conn)
    finally:
        conn.close()
    click.echo(f"store {path}")
    for line in health.lines():
        click.echo(line)
    sys.exit(0 if health.healthy else 1)
