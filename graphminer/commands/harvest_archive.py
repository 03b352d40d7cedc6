"""``graphminer harvest-archive``: GH Archive as a source (``graphminer.harvest.archive``),
then identities and the precomputed tables, then (with following on) the archive's outside
acts of the makers following would follow, and its summary."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from graphminer.config import load_config, store_path_for
from graphminer.errors import BadInput

BASE_URL = "https://data.gharchive.org"


def _day(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{flag} {text!r}: give a date such as 2015-01-01 or 2015-01-01T12:00:00Z") from None
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)


@click.command("harvest-archive")
@click.option("--files", "files", default=None, metavar="DIR_OR_GLOB",
              help="Hourly files already on disk (only YYYY-MM-DD-H.json.gz names are read).")
@click.option("--from", "start", default=None, help="First day or hour to download and read.")
@click.option("--to", "end", default=None, help="Last day or hour (a day includes all its hours).")
@click.option("--base-url", default=BASE_URL, show_default=True, help="Where the hourly files are served.")
@click.option("--clickhouse", default=None, metavar="URL",
              help="A ClickHouse server holding github_events (e.g. ClickHouse's playground).")
@click.option("--table", default="github_events", show_default=True, help="The github_events table there.")
@click.option("--all", "everything", is_flag=True, help="Store every event read, not only the network's.")
@click.option("--follow/--no-follow", "follow", default=None,
              help="Also read known makers elsewhere (default: [careers] follow).")
@click.option("--print-sql", is_flag=True, help="Print the selection's SQL and stop.")
@click.option("--dialect", type=click.Choice(["clickhouse", "bigquery", "duckdb"]), default="clickhouse",
              show_default=True, help="The SQL --print-sql prints.")
@click.option("--store", default=None, help="The store file (default from the config).")
@click.option("--config", "config_path", default=None, help="The config file.")
@click.option("--json", "as_json", is_flag=True, help="End with the summary as one JSON object.")
def harvest_archive(files: str | None, start: str | None, end: str | None, base_url: str, clickhouse: str | None,
                    table: str, everything: bool, follow: bool | None, print_sql: bool, dialect: str,
                    store: str | None, config_path: str | None, as_json: bool) -> None:
    """Read GH Archive (every public GitHub event since 2011) for the network's repos and,
    with following on, for its makers elsewhere: from hourly files (--files), downloaded
    hours (--from/--to, kept in cache/gharchive/), or a ClickHouse server (--clickhouse).
    Costs no GitHub API request. Exit codes as `harvest`."""
    from graphminer import pipeline
    from graphminer.commands.harvest import interrupted_runs_marked
    from graphminer.harvest import archive
    from graphminer.store import require_store_path

    config = load_config(config_path)
    low, high = _day(start, "--from"), _day(end, "--to")
    if high is not None and end is not None and len(end) == 10:
        high += timedelta(hours=23)
    following = config["careers"]["follow"] if follow is None else follow
    store_path = store_path_for(store, config)
    if not print_sql:
        require_store_path(store_path)  # a store or nothing yet: refused before anything is read
    if print_sql:
        click.echo(selection_sql(config, store_path, everything, following, low, high, dialect, table))
        return
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", table):
        raise BadInput(f"--table {table!r}: give a table name such as github_events or db.github_events")
    sources = sum(bool(item) for item in (files, clickhouse, (low or high) and not files and not clickhouse))
    if sources != 1 or (clickhouse and not (low and high)):
        raise BadInput("give one source: --files DIR_OR_GLOB, or --from D --to D (downloads), "
                       "or --clickhouse URL with --from D --to D")
    def say(text: str) -> None:
        click.echo(text, err=True)

    missing: list[datetime] = []
    if files:
        paths = archive.files_in(files)
        if low or high:
            paths = [path for path in paths if (low is None or archive.hour_of(path.name) >= low)
                     and (high is None or archive.hour_of(path.name) <= high)]
        if not paths:
            raise BadInput(f"--files {files}: no GH Archive hour (YYYY-MM-DD-H.json.gz) there")
    elif clickhouse:
        paths = []
    else:
        if low is None or high is None or high < low:
            raise BadInput("--from and --to: give both, --from not after --to")
        cache = config.cache_dir / "gharchive"
        paths, missing = archive.download_hours(base_url, archive.hours_between(low, high), cache, say)
    kinds = named_owners(config)
    with interrupted_runs_marked(store_path), clickhouse_failures_told():
        if clickhouse:
            summary = pipeline.harvest_clickhouse(config, clickhouse, table, low, high, everything=everything,
                                                  following=following, store_path=store_path)
        else:
            summary = pipeline.harvest_archive(config, files=paths, missing=missing, everything=everything,
                                               following=following, named_owners=kinds, store_path=store_path,
                                               say=say)
    for line in summary.lines():
        click.echo(line)
    if as_json:
        click.echo(json.dumps(summary.as_json(), separators=(",", ":")))


@contextmanager
def clickhouse_failures_told() -> Iterator[None]:
    """A ClickHouse server that cannot be reached as one line, exit 1 (as `harvest` tells an
    unreachable API)."""
    try:
        yield
    except ConnectionError as error:
        failure = click.ClickException(f"{error}: nothing stored is lost; run the same command again")
        failure.exit_code = 1
        raise failure from None


def named_owners(config) -> dict[str, str]:
    """Government, research and civic owners by login (for the public events kept)."""
    from graphminer.destinations import packaged_list

    found = {login: kind for kind in ("government", "research", "civic") for login in packaged_list(kind)}
    found.update({login.lower(): "government" for login in config["careers"]["government_orgs"]})
    found.update({login.lower(): "civic" for login in config["careers"]["civic_orgs"]})
    return found


def selection_sql(config, store_path: Path, everything: bool, following: bool, low: datetime | None,
                  high: datetime | None, dialect: str, table: str) -> str:
    """The selection's SQL for this config (and the store's makers, if it exists)."""
    from graphminer.harvest import archive, archive_sql
    from graphminer.store import open_store

    low = low or datetime(2011, 2, 12, tzinfo=UTC)
    high = (high or datetime.now(UTC)) + timedelta(hours=1)
    if store_path.exists():
        conn = open_store(store_path, readonly=True)
        try:
            selection = archive.network_selection(conn, config, everything, following)
        finally:
            conn.close()
    else:
        selection = archive_sql.Selection(owners={org.lower() for org in config["harvest"]["orgs"]},
                                          everything=everything)
    if dialect == "bigquery":
        return archive_sql.bigquery_sql(selection, low, high)
    if dialect == "duckdb":
        return archive_sql.duck_batch_sql(["YYYY-MM-DD-H.json.gz"], False, selection)
    return archive_sql.clickhouse_sql(selection, low, high, table)
