"""The README's main command: `graphminer demo OUTDIR`, offline, end to end."""

from __future__ import annotations

import gzip
import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import cli_fork
import pytest

from graphminer.demo import DEMO_WORLD, bundled_world
from graphminer.fakehub.generator import generate_world
from graphminer.outputs import DEMO_MARKER, foreign_files


def test_bundled_world_is_the_generators_output(tmp_path: Path) -> None:
    # The bundled file must not drift from what the generator makes for DEMO_WORLD.
    result = generate_world(tmp_path / "w", truth=False, **DEMO_WORLD)
    with gzip.open(result["world"], "rt") as fresh, gzip.open(bundled_world(), "rt") as bundled:
        assert json.load(fresh) == json.load(bundled)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One run of the README's main command: (its OUTDIR, what it printed)."""
    folder = tmp_path_factory.mktemp("demo-run")
    result = cli_fork.run(["demo", "demo"], timeout=300, cwd=folder)  # OUTDIR relative to the current folder, as in the README
    assert result.returncode == 0, result.stderr[-2000:]
    return folder / "demo", result


def test_demo_runs_the_whole_flow(demo) -> None:
    outdir, result = demo
    with gzip.open(bundled_world(), "rt") as handle:
        world = json.load(handle)
    conn = sqlite3.connect(outdir / "graphminer.sqlite")
    # a real harvest over HTTP: every issue and commit of the harvested orgs' repos is stored
    # (the outside orgs' and people's own repos are where makers went: only followed)
    stored_issues = conn.execute("SELECT COUNT(*) FROM issues").fetchone()[0]
    harvested = {org["login"] for org in world["orgs"] if not org.get("outside")}
    assert len(harvested) == 4 < len(world["orgs"])
    live_repos = {repo["id"] for repo in world["repos"]
                  if repo["owner"] in harvested and not repo.get("fork") and not repo.get("blocked")}
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
    # its marker lists every file it wrote (the store's columnar copy too): a second demo
    # into the same folder is not refused as if they were someone else's
    assert foreign_files(outdir, DEMO_MARKER) == []


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
        return cli_fork.run([*args, "--store", store, "--json"], timeout=300)

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


# --- where people went (issue 22) -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_truth(tmp_path_factory) -> dict:
    """The bundled world's ground truth (fakehub's truth.py and truth_careers.py) and, from
    the world alone, its named destinations: per government, research or civic owner, the
    people whose merged PR there came after their first contact (truth's), and the PRs."""
    from graphminer.fakehub.truth_careers import community_lists, owner_kind

    made = generate_world(tmp_path_factory.mktemp("truth") / "w", **DEMO_WORLD)
    truth = json.loads(Path(made["truths"][0]).read_text("utf-8"))
    with gzip.open(made["world"], "rt") as handle:
        world = json.load(handle)
    harvested = {org["login"].lower() for org in world["orgs"] if not org.get("outside")}
    lists = community_lists()
    repos = {repo["id"]: repo for repo in world["repos"]}
    landed = {key: maker for key, maker in truth["makers"].items()
              if not maker["is_bot"] and maker["milestones"]["first_landed"]}
    owners: dict[str, dict] = {}
    for issue in world["issues"]:
        merged = (issue.get("pull_request") or {}).get("merged_at")
        maker = landed.get(str(issue.get("user_id")))
        if not merged or maker is None or merged > truth["as_of"] or merged <= maker["milestones"]["first_contact"]:
            continue
        owner = repos[issue["repo_id"]]["owner"]
        kind = owner_kind(owner, harvested, lists)
        if kind in ("government", "research", "civic"):
            entry = owners.setdefault(owner, {"kind": kind, "people": set(), "changes": 0})
            entry["people"].add(str(issue["user_id"]))
            entry["changes"] += 1
    return {"truth": truth, "landed": landed,
            "owners": {owner: (entry["kind"], len(entry["people"]), entry["changes"])
                       for owner, entry in owners.items()}}


def test_demo_prints_where_people_went_by_name(demo, demo_truth) -> None:
    _, result = demo
    owners = demo_truth["owners"]
    assert {kind for kind, _, _ in owners.values()} >= {"government", "civic"}
    for owner, (kind, people, changes) in owners.items():
        noun = "person" if people == 1 else "people"
        plural = "" if changes == 1 else "s"
        assert re.search(rf"^\s+{kind}\s+{re.escape(owner)}\s+{people} {noun}, {changes} change{plural} merged$",
                         result.stdout, re.M), owner
    # counted careers, from the truth: landed makers reaching each destination
    for key, words in (("government", "had work merged in government repositories"),
                       ("civic_elsewhere", "had work merged by another civic tech group")):
        reached = sum(1 for maker in demo_truth["landed"].values() if maker["milestones"][key])
        assert reached and f"{reached} later {words}" in result.stdout


def test_demo_report_and_careers_command_agree_with_the_truth(demo, demo_truth) -> None:
    from lxml import html as lxml_html

    outdir, _ = demo
    env = {**os.environ}
    env.pop("GRAPHMINER_CONFIG", None)
    done = cli_fork.run(["careers", "--store", str(outdir / "graphminer.sqlite"), "--json"],
                        timeout=300, cwd=outdir.parent, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    careers = json.loads(done.stdout)
    truth = demo_truth["truth"]
    assert careers["as_of"] == truth["as_of"] and careers["landed"] == len(demo_truth["landed"])
    for row in careers["destinations"]:
        assert row["reached"] == sum(1 for maker in demo_truth["landed"].values()
                                     if maker["milestones"][row["milestone"]]), row["milestone"]
    assert {row["owner"]: (row["kind"], row["people"], row["changes"]) for row in careers["owners"]} \
        == demo_truth["owners"]
    # the report's "Where did they go" page says the same
    page = lxml_html.fromstring((outdir / "report" / "where.html").read_bytes())
    assert page.findtext(".//title") == "Where did they go"
    named = {row.xpath("th")[0].text_content().strip(): [td.text_content().strip() for td in row.xpath("td")]
             for row in page.xpath("//section[@id='by-name']//tbody/tr")}
    assert {owner: (cells[0], int(cells[1]), int(cells[2])) for owner, cells in named.items()} \
        == demo_truth["owners"]
    reached = [int(row.xpath("td")[0].text_content()) for row in page.xpath("//section[@id='destinations']//tbody/tr")]
    assert reached == [row["reached"] for row in careers["destinations"]]
    index = (outdir / "report" / "index.html").read_text("utf-8")
    assert "per year" in index and 'href="where.html"' in index


def test_acts_of_others_are_named_in_the_terminal_and_no_gap_words_on_pages(demo) -> None:
    """trajectory says whose act it was when it was not the maker's own; maker pages say
    what a gap means in words ("no action after their last one"), never "they gap"."""
    from graphminer import precompute
    from graphminer.config import load_config
    from graphminer.store import open_store
    from graphminer.timeline import maker_names, render_timeline

    outdir, _ = demo
    conn = open_store(outdir / "graphminer.sqlite", readonly=True)
    try:
        logins = dict(conn.execute("SELECT key, login FROM makers").fetchall())
        config = load_config(None)
        others = 0
        for key in sorted(logins)[:80]:
            answer = precompute.maker_timeline(conn, config, key)
            text = render_timeline(answer, maker_names(conn, answer))
            for name, trigger in answer["triggers"].items():
                by = trigger.get("by")
                if by and by != key and trigger["kind"] != "gap":
                    others += 1
                    line = next(line for line in text.splitlines() if re.match(rf"\s+\S+\s+{name}\s", line))
                    assert f" {logins[by]} " in line, line
                    if name == "organiser" and trigger["repo"] == (answer["triggers"].get("creator") or {}).get("repo"):
                        assert f"a repo {logins[key]} created" in line, line
        assert others > 0
    finally:
        conn.close()
    pages = list((outdir / "report" / "makers").glob("*.html"))
    text = " ".join(page.read_text("utf-8") for page in pages)
    assert "they gap" not in text and "nothing after they" not in text
    assert "days after their last one" in text
