"""The README's main command: `graphminer demo OUTDIR`, offline, end to end."""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from graphminer.demo import DEMO_WORLD, bundled_world
from graphminer.fakehub.generator import generate_world


def test_bundled_world_is_the_generators_output(tmp_path: Path) -> None:
    # The bundled file must not drift from what the generator makes for DEMO_WORLD.
    result = generate_world(tmp_path / "w", truth=False, **DEMO_WORLD)
    with gzip.open(result["world"], "rt") as fresh, gzip.open(bundled_world(), "rt") as bundled:
        assert json.load(fresh) == json.load(bundled)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One run of the README's main command: (its OUTDIR, what it printed)."""
    folder = tmp_path_factory.mktemp("demo-run")
    result = subprocess.run(  # OUTDIR relative to the current folder, as in the README
        [sys.executable, "-m", "graphminer", "demo", "demo"],
        capture_output=True, text=True, timeout=300, cwd=folder,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return folder / "demo", result


def test_demo_runs_the_whole_flow(demo) -> None:
    outdir, result = demo
    with gzip.open(bundled_world(), "rt") as handle:
        world = json.load(handle)
    conn = sqlite3.connect(outdir / "graphminer.sqlite")
    # a real harvest over HTTP: every issue and commit of the world's repos is stored
    stored_issues = conn.execute("SELECT COUNT(*) FROM issues").fetchone()[0]
    live_repos = {repo["id"] for repo in world["repos"] if not repo.get("fork") and not repo.get("blocked")}
    assert stored_issues == sum(1 for issue in world["issues"] if issue["repo_id"] in live_repos)
    stored_commits = conn.execute("SELECT COUNT(*) FROM commits").fetchone()[0]
    assert stored_commits == sum(1 for commit in world["commits"] if commit["repo_id"] in live_repos)
    requests = [json.loads(line) for line in (outdir / "fakehub-requests.jsonl").read_text().splitlines()]
    assert requests and all(entry["status"] in (200, 409) for entry in requests)
    # the default api (auto): a first harvest reads issues and PRs over GraphQL
    points = sum(entry["graphql"]["cost"] for entry in requests if "graphql" in entry)
    assert points > 0 and f"GraphQL queries ({points} points)" in result.stdout
    # trajectories printed, exports and report written
    assert "Funnel" in result.stdout and "Three makers, three paths" in result.stdout
    assert result.stdout.count("whole network, as of") == 3
    gexf = (outdir / "graph.gexf").read_text()
    assert gexf.startswith("<?xml") and "<gexf" in gexf
    assert (outdir / "csv" / "nodes.csv").is_file() and (outdir / "csv" / "edges.csv").is_file()
    assert (outdir / "report" / "index.html").is_file()
    assert "@" not in gexf  # emails never reach exports


def test_queries_on_the_demo_store_answer_as_of_the_demo_world(demo) -> None:
    """The demo harvests a world whose clock (fakehub --clock world) dates the harvest's
    end: afterwards, every query without --as-of gives the demo's answers, not today's
    ("everyone gone")."""
    with gzip.open(bundled_world(), "rt") as handle:
        world_now = json.load(handle)["now"]
    store = str(demo[0] / "graphminer.sqlite")
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT MAX(ended_at) FROM _runs").fetchone()[0] == world_now
    # both ends of the harvest on the source's clock: it did not end before it started
    assert conn.execute("SELECT started_at, ended_at FROM _runs WHERE kind='github'").fetchall() \
        == [(world_now, world_now)]

    def ask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "graphminer", *args, "--store", store, "--json"],
                              capture_output=True, text=True, timeout=300)

    default = json.loads(ask("makers").stdout)
    at_world_now = json.loads(ask("makers", "--as-of", world_now).stdout)
    assert default == at_world_now
    assert {entry["as_of"] for entry in default} == {world_now}
    people = [entry for entry in default if not entry["is_bot"]]
    gone = sum(1 for entry in people if entry["milestones"]["gone"])
    assert 0 < gone < len(people) / 2  # the demo's answer, not "everyone gone"
    stats = json.loads(ask("stats").stdout)
    assert stats == json.loads(ask("stats", "--as-of", world_now).stdout)
    login = next(entry["login"] for entry in people if entry["login"])
    trajectory = json.loads(ask("trajectory", login).stdout)
    assert trajectory["as_of"] == world_now
    assert trajectory == json.loads(ask("trajectory", login, "--as-of", world_now).stdout)
