"""Test support for GH Archive: small generated worlds written as hours by fakehub, the
command run in-process through click, the makers' milestones read back, the hours read
independently with plain json (the tests' own reading, sharing nothing with DuckDB's)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner, Result

from graphminer import timeutil
from graphminer.cli import main
from graphminer.config import load_config
from graphminer.fakehub.generator import generate_world, load_json
from graphminer.fakehub.gharchive import write_gharchive

CAREERS = ("landed_elsewhere", "civic_elsewhere", "government", "founder", "moved_on")
IN_NETWORK = ("first_contact", "first_issue", "first_comment", "first_pr", "first_landed", "maintainer")


def archive_cli(*args: str) -> Result:
    """``graphminer ARGS`` in-process (the command's own code, without a Python start-up)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def generated_hours(folder: Path, *, makers: int, years: int, now: str, outside_share: float = 0.0,
                    seed: int = 5, **options) -> tuple[Path, list[str]]:
    """A world generated into FOLDER/world and written as hours into FOLDER/hours (with
    ``write_gharchive``'s ``options``): (the hours folder, the harvested orgs' logins)."""
    made = generate_world(folder / "world", seed=seed, orgs=2, repos_per_org=2, makers=makers, years=years,
                          outside_share=outside_share, now=now, truth=False)
    world = load_json(made["world"])
    write_gharchive(world, folder / "hours", **options)
    return folder / "hours", [org["login"] for org in world["orgs"] if not org.get("outside")]


def write_config(folder: Path, orgs: list[str], follow: bool = False) -> Path:
    """A config naming the orgs (and following), its cache inside ``folder``."""
    path = folder / "graphminer.toml"
    path.write_text(f"[harvest]\norgs = {json.dumps(orgs)}\n[paths]\ncache = {json.dumps(str(folder / 'cache'))}\n"
                    f"[careers]\nfollow = {'true' if follow else 'false'}\n", "utf-8")
    return path


def makers_of(store: Path, config_path: Path, as_of: str) -> dict[str, dict]:
    """Each maker's milestones (network scope) as ``makers --json`` gives them, by key."""
    from graphminer.precompute import makers_listing
    from graphminer.store import open_store

    conn = open_store(store, readonly=True)
    try:
        listing = makers_listing(conn, load_config(str(config_path)), as_of=timeutil.as_of(as_of))
    finally:
        conn.close()
    return {entry["key"]: entry["milestones"] for entry in listing}


def read_hours(config, store: Path, files: list[Path], **options):
    """The archive harvester alone (no identities, no precompute) on ``files``, into
    ``store`` with its lock held, as the pipeline runs it: its summary."""
    from graphminer.harvest import archive
    from graphminer.pipeline import locked_store

    with locked_store(store, "test") as conn:
        return archive.harvest_archive(conn, config, files=files, **options)


def read_and_derive(config, store: Path, files: list[Path], **options):
    """``read_hours``, then identities and the precomputed tables (``pipeline.derive``)."""
    from graphminer.harvest import archive
    from graphminer.pipeline import derive, locked_store

    with locked_store(store, "test") as conn:
        summary = archive.harvest_archive(conn, config, files=files, **options)
        derive(conn, config)
    return summary


def agreement(truth: dict, got: dict, names: tuple[str, ...]) -> float:
    """The share of (maker, milestone) pairs of the truth's makers (bots left out) the
    store dates exactly as the truth does (both undated counts as agreeing)."""
    pairs = [(got.get(key, {}).get(name), entry["milestones"][name])
             for key, entry in truth["makers"].items() if not entry["is_bot"] for name in names]
    return sum(mine == theirs for mine, theirs in pairs) / len(pairs)


def lines_of(hours: Path) -> Iterator[tuple[str, dict]]:
    """(file name, event) for every line of every hour file in ``hours``, with plain json."""
    for path in sorted(hours.glob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                yield path.name, json.loads(line)
