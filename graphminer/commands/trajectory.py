"""The ``trajectory`` command: one maker's milestones, stages and the events behind them.

Thin on purpose and free of pandas: with fresh precomputed tables and no other
``--as-of`` it answers from SQLite alone (``graphminer.timeline``); otherwise
``graphminer.precompute`` computes the answer (and pandas is imported then).
"""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("who")
@click.option("--org", help="Milestones at this organisation's scope (default: the whole network).")
@click.option("--as-of", "as_of", help="Reference time, ISO 8601 read as UTC (default: end of the last harvest).")
@click.option("--store", "store", help="Store file (default from the config).")
@click.option("--config", "config_path", help="Config file (TOML).")
@click.option("--json", "as_json", is_flag=True, help="The answer as JSON.")
def trajectory(who: str, org: str | None, as_of: str | None, store: str | None,
               config_path: str | None, as_json: bool) -> None:
    """WHO's dated milestones, the event that triggered each (with its link) and the stage
    per quarter. WHO is a login, or a name or email for makers without an account."""
    from graphminer import timeutil
    from graphminer.config import load_config, store_path_for
    from graphminer.store import open_store
    from graphminer.timeline import answer_from_tables, maker_names, render_timeline

    config = load_config(config_path)
    # parsed once; it becomes as_of's type (a pandas Timestamp) only if the answer is computed
    instant = timeutil.parse_instant(as_of) if as_of else None
    conn = open_store(store_path_for(store, config), readonly=True)
    try:
        answer = answer_from_tables(conn, config, who, org, timeutil.format_instant(instant))
        if answer is None:  # stale tables, or another as_of: computed (pandas)
            from graphminer.precompute import timeline_computed

            moment = timeutil.as_of(instant) if instant else None
            answer = timeline_computed(conn, config, who, org, moment)
        names = {} if as_json else maker_names(conn, answer)
    finally:
        conn.close()
    click.echo(json.dumps(answer, indent=2) if as_json else render_timeline(answer, names))
