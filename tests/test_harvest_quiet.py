"""Quiet nights (issue 10): the harvester reads only the listings its signals say can have
changed, and sweeps every listing every ``[harvest] full_every_days``; against a real
fakehub process over HTTP, into real SQLite stores. Ground truth: a fresh full harvest of
the same world (what a plain harvest stores), and counts from fakehub's request log."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from test_harvest import counted_since, environment, harvest, one_line_error, typed_tables

from graphminer.fakehub.generator import generate_world
from graphminer.fakehub.testing import serve

THREE_TOKENS = "tok-quiet-a1,tok-quiet-b2,tok-quiet-c3"


def load(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    """A small generated world whose first delta holds every kind of change (a renamed
    user, an edited comment, new and deleted repos, merges...), plus a rename, a transfer
    and a private repo (issue 9)."""
    folder = tmp_path_factory.mktemp("quiet-world")
    made = generate_world(folder / "gen", seed=5, orgs=2, repos_per_org=4, makers=60, years=2,
                          delta_days=2, truth=False, renamed_repos=1, transferred_repos=1,
                          private_repos=1)
    world = load(made["world"])
    made["orgs"] = json.dumps([org["login"] for org in world["orgs"] if not org.get("outside")])
    return made


def configure(folder: Path, orgs: str, every_days: int | None = None) -> None:
    folder.mkdir(exist_ok=True)
    extra = "" if every_days is None else f"full_every_days = {every_days}\n"
    (folder / "graphminer.toml").write_text(f"[harvest]\norgs = {orgs}\n{extra}", encoding="utf-8")


def repo_requests(lines: list[dict]) -> int:
    return sum(1 for line in lines if line["path"].startswith(("/repos/", "/repositories/")))


def test_incremental_equals_full_after_every_delta_kind_with_and_without_a_sweep(made, tmp_path):
    """Three nightly stores: signals only; a sweep every night (what main did); signals with
    a sweep on the second night. After each delta each equals a fresh full harvest."""
    orgs = made["orgs"]
    signals, swept, between = tmp_path / "signals", tmp_path / "swept", tmp_path / "between"
    configure(signals, orgs)
    configure(swept, orgs, every_days=0)
    configure(between, orgs)
    nights = [made["world"].parent / f"delta-{day}.json.gz" for day in (1, 2)]
    delta_requests = {}
    with serve(made["world"]) as hub:
        for folder in (signals, swept, between):
            harvest(hub.url, folder)
        for night, delta in enumerate(nights, 1):
            hub.apply_delta(delta)
            if night == 2:
                configure(between, orgs, every_days=0)  # a sweep night in between
            for folder in (signals, swept, between):
                start = len(hub.log_lines())
                harvest(hub.url, folder)
                delta_requests[folder.name, night] = repo_requests(hub.log_lines()[start:])
            fresh = tmp_path / f"fresh-{night}"
            configure(fresh, orgs)
            harvest(hub.url, fresh)
            expected = typed_tables(fresh / "store.sqlite")
            for folder in (signals, swept, between):
                assert typed_tables(folder / "store.sqlite") == expected, (folder.name, night)
    # The signals did spare requests: a delta night asks for less than a sweep night.
    assert delta_requests["signals", 1] < delta_requests["swept", 1]
    assert delta_requests["between", 2] == delta_requests["swept", 2]


# What a GraphQL first harvest leaves without REST validators: what it read (issue
# comments, events, releases) and what it found nothing to read in (/pulls of a repo with
# no pull request, /pulls/comments of one with no review thread).
READ_OVER_GRAPHQL = ("/issues/comments", "/issues/events", "/releases", "/pulls", "/pulls/comments")


def test_an_unchanged_night_with_three_tokens_is_free_and_at_most_two_requests_a_repo(made,
                                                                                       tmp_path):
    folder = tmp_path / "tokens"
    configure(folder, made["orgs"])
    env = environment(THREE_TOKENS, many=True)
    with serve(made["world"], rate_limit=60, rate_window=2.0) as hub:
        harvest(hub.url, folder, env=env)
        used = {line["token"] for line in hub.log_lines() if line["counted"]}
        hub.advance_clock(3)  # the next night: every token's window has reset (fakehub's clock)
        start = len(hub.log_lines())
        quiet = harvest(hub.url, folder, env=env)
        sent, counted = counted_since(hub, start)
        per_repo = repo_requests(hub.log_lines()[start:])
        # What main did: every listing of every repo, conditionally.
        configure(folder, made["orgs"], every_days=0)
        hub.advance_clock(3)
        start = len(hub.log_lines())
        harvest(hub.url, folder, env=env)
        sweep_log = hub.log_lines()[start:]
        swept = repo_requests(sweep_log)
    repos = int(quiet.stdout.split("harvested ")[1].split()[0])
    assert len(used) == 3 and repos >= 6
    assert counted == 0, quiet.stdout
    # The first sweep after a GraphQL first harvest reads once, counted, the listings that
    # GraphQL read (REST has no validators of them yet); every other listing is a free 304.
    counted_paths = {line["path"] for line in sweep_log if line["counted"]}
    assert all(path.endswith(READ_OVER_GRAPHQL) for path in counted_paths), counted_paths
    assert per_repo <= 2 * repos, (per_repo, repos)
    assert sent <= 2 * repos + 12  # the orgs' own listings and the three token probes
    assert swept >= 6 * repos  # the sweep reads every listing


def test_full_every_days_is_checked_like_every_config_key(tmp_path):
    (tmp_path / "graphminer.toml").write_text('[harvest]\norgs = ["civic"]\n'
                                              'full_every_days = "weekly"\n', encoding="utf-8")
    wrong = harvest("http://127.0.0.1:9", tmp_path, expect=2)
    assert "harvest.full_every_days" in one_line_error(wrong)
