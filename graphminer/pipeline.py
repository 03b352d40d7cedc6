"""Glue between the flow's stages after a harvest: resolve identities, refresh the
precomputed trajectory tables. Harvest commands call ``after_harvest``; nothing else
lives here."""

from __future__ import annotations

import sqlite3

from graphminer.config import Config


def after_harvest(conn: sqlite3.Connection, config: Config) -> None:
    """Bring the derived tables (makers, precomputed milestones) up to date with the store."""
    from graphminer import identity, precompute

    identity.refresh(conn, config)
    precompute.refresh(conn, config)
