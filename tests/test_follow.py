"""Following makers beyond the harvested orgs (graphminer.harvest.follow), end to end: the
real CLI harvests a hand-made world (tests/careers_support.py) from a real fakehub
process, then follows; the expected facts are the world's, written by hand there."""

from __future__ import annotations

import doctest
import json
import sqlite3
from pathlib import Path

import pytest
from careers_support import OUTSIDE, PROLIFIC_PRS, outside_world
from harvest_support import cli

from graphminer import careers, destinations
from graphminer.fakehub.testing import serve
from graphminer.harvest import follow

CONFIG = """
[harvest]
orgs = ["civic", "opengov"]
[careers]
follow = true
follow_every_days = {every}
[people]
opt_out = ["Carol"]
"""


def harvest(folder: Path, hub, *extra: str, every: int = 0):
    config = folder / "g.toml"
    config.write_text(CONFIG.format(every=every), encoding="utf-8")
    done = cli("harvest", "--config", str(config), "--api-url", hub.url, "--store",
               str(folder / "s.sqlite"), "--cache", str(folder / "cache"), *extra, cwd=folder)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: civic/takedown is blocked (451)
    assert "Traceback" not in done.stderr
    return done


@pytest.fixture(scope="module")
def followed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("follow")
    world = outside_world(folder / "world.json")
    with serve(world) as hub:
        first = harvest(folder, hub)
        after_first = len(hub.log_lines())
        second = harvest(folder, hub)
        lines = hub.log_lines()
        yield folder, first, second, lines[:after_first], lines[after_first:]


def rows(folder: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(folder / "s.sqlite") as conn:
        return conn.execute(sql).fetchall()


def test_merged_prs_elsewhere_are_stored_with_owner_kinds(followed):
    folder = followed[0]
    got = rows(folder, "SELECT p.repo_full_name, p.merged_at, p.owner_kind FROM follow_prs p "
                       "JOIN follow_makers m USING (user_id) WHERE m.login = 'bob' ORDER BY 1")
    assert [(name, at) for name, at, _ in got] == sorted(OUTSIDE["bob"]["merged"])
    assert dict((name, kind) for name, _, kind in got) == {"acme/lib": "other", "gsa/notify": "government"}
    # an unmerged PR is never stored, nor one in a harvested org
    assert not rows(folder, "SELECT 1 FROM follow_prs WHERE repo_full_name LIKE 'civic/%' "
                            "OR repo_full_name = 'codeforamerica/form' AND user_id = 2")


def test_founder_candidates_know_their_other_contributors(followed):
    folder = followed[0]
    assert rows(folder, "SELECT repo_full_name, created_at, fork, others FROM follow_repos") == [
        ("bob/tool", OUTSIDE["bob"]["founded"][0][1], 0, 1)]


def test_more_than_1000_merged_prs_are_all_found_by_windowing(followed):
    folder = followed[0]
    count = rows(folder, "SELECT COUNT(*) FROM follow_prs p JOIN follow_makers m USING (user_id) "
                         "WHERE m.login = 'prolific'")[0][0]
    assert count == PROLIFIC_PRS
    searches = [line for line in followed[3] if line["path"] == "/search/issues"
                and "prolific" in line["query"]["q"]]
    assert any("merged:" in line["query"]["q"] and ".." in line["query"]["q"] for line in searches)
    assert all(line["status"] == 200 for line in searches)


def test_an_opted_out_maker_is_named_in_no_request(followed):
    for line in followed[3] + followed[4]:
        text = (line["path"] + " " + json.dumps(line["query"])).lower()
        assert "carol" not in text, line
    assert not rows(followed[0], "SELECT 1 FROM follow_makers WHERE lower(login) = 'carol'")


def test_only_names_dates_and_kinds_are_stored(followed):
    folder = followed[0]
    with sqlite3.connect(folder / "s.sqlite") as conn:
        for table in ("follow_prs", "follow_repos", "follow_orgs", "follow_makers"):
            for row in conn.execute(f"SELECT * FROM {table}"):  # noqa: S608
                text = " ".join(str(value) for value in row)
                assert "Change" not in text and "private words" not in text and "@" not in text
                assert "test-token" not in text


def test_a_quiet_refollow_costs_at_most_one_counted_request_per_maker(followed):
    folder, _, second, _, again = followed
    makers = rows(folder, "SELECT COUNT(*) FROM follow_makers")[0][0]
    assert makers == 4  # alice, bob, dave, prolific (carol opted out; the bot is no maker)
    counted = [line for line in follow_lines_of(again) if line["counted"]]
    assert len(counted) <= makers, counted
    assert "followed 4 makers" in second.stdout


def follow_lines_of(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["path"].startswith(("/users/", "/search/"))
            or line["path"].startswith("/repos/") and not line["path"].startswith(("/repos/civic/", "/repos/opengov/"))]


def test_no_follow_and_follow_every_days(tmp_path):
    world = outside_world(tmp_path / "world.json", prolific=False)
    with serve(world) as hub:
        harvest(tmp_path, hub, "--no-follow")
        assert not follow_lines_of(hub.log_lines())
        harvest(tmp_path, hub, every=7)
        seen = len(hub.log_lines())
        assert follow_lines_of(hub.log_lines())
        done = harvest(tmp_path, hub, every=7)
        assert not follow_lines_of(hub.log_lines()[seen:])
        assert "3 followed recently" in done.stdout


def test_following_paces_itself_under_the_search_limit(tmp_path):
    world = outside_world(tmp_path / "world.json", prolific=False)
    with serve(world, search_rate_limit=2, search_rate_window=1) as hub:
        done = harvest(tmp_path, hub)
        searches = [line for line in hub.log_lines() if line["path"] == "/search/issues"]
        assert len(searches) == 3
        assert all(line["status"] == 200 for line in searches)
        assert "0s waiting" not in done.stdout
        # a new run learns the budget an earlier one left (free /rate_limit), never a refusal
        harvest(tmp_path, hub)
        searches = [line for line in hub.log_lines() if line["path"] == "/search/issues"]
        assert len(searches) == 6 and all(line["status"] in (200, 304) for line in searches)


@pytest.mark.parametrize("module", [careers, destinations, follow], ids=lambda module: module.__name__)
def test_the_docstring_examples_run(module):
    failures, tried = doctest.testmod(module, report=False)
    assert tried > 0 and failures == 0


def test_classification_first_match_wins_case_insensitive():
    classify = destinations.Classifier.of(["GSA"], government=["Acme-City"], civic=["gsa"])
    assert classify.kind("gsa") == "harvested"
    assert classify.kind("ACME-CITY") == "government"
    assert classify.kind("CSIRO-GeoscienceAnalytics") == "research"
    assert classify.kind("codeforpakistan") == "civic"
    assert classify.kind("someone") == "other"
    # the packaged lists are GitHub's, whole: 956, 285 and 308 logins
    assert [len(destinations.packaged_list(kind)) for kind in ("government", "research", "civic")] == [956, 285, 308]


def test_bad_careers_config_is_one_line(tmp_path):
    config = tmp_path / "g.toml"
    config.write_text("[careers]\nfollow = 'yes'\n", encoding="utf-8")
    done = cli("harvest", "--config", str(config), "--org", "x", "--store", str(tmp_path / "s.sqlite"))
    assert done.returncode == 2 and "careers.follow" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_exports_carry_career_dates_and_destinations(followed):
    import xml.etree.ElementTree as ET

    folder = followed[0]
    out = folder / "graph.gexf"
    done = cli("export", "gexf", str(out), "--config", str(folder / "g.toml"), "--store",
               str(folder / "s.sqlite"), "--with-destinations", cwd=folder)
    assert done.returncode == 0, done.stderr
    ns = {"g": "http://gexf.net/1.3"}
    root = ET.parse(out).getroot()
    titles = {a.get("id"): a.get("title") for a in root.iter("{http://gexf.net/1.3}attribute")}
    nodes = {}
    for node in root.iterfind(".//g:node", ns):
        values = {titles.get(v.get("for"), v.get("for")): v.get("value") for v in node.iterfind(".//g:attvalue", ns)}
        nodes[node.get("id")] = values
    bob = nodes["maker:2"]
    # bob's acme/lib PR was merged before his first contact: the gsa one is the first after
    assert bob["landed_elsewhere"] == bob["government"] == "2023-05-02T10:00:00Z"
    assert bob["founder"] == OUTSIDE["bob"]["founded"][0][1]
    assert nodes["owner:gsa"]["kind"] == "government"
    assert "owner:acme" not in nodes and nodes["destinations:other"]["kind"] == "other"
    edges = {(e.get("source"), e.get("target")) for e in root.iterfind(".//g:edge", ns)}
    assert ("maker:2", "owner:gsa") in edges
    plain = folder / "plain.gexf"
    cli("export", "gexf", str(plain), "--config", str(folder / "g.toml"), "--store",
        str(folder / "s.sqlite"), cwd=folder)
    assert "owner:gsa" not in plain.read_text() and "landed_elsewhere" in plain.read_text()


def test_the_report_says_where_they_went(followed):
    folder = followed[0]
    out = folder / "report"
    done = cli("report", str(out), "--config", str(folder / "g.toml"), "--store", str(folder / "s.sqlite"),
               cwd=folder)
    assert done.returncode == 0, done.stderr
    index = (out / "index.html").read_text()
    assert "Where did they go" in index and (out / "careers.png").stat().st_size > 1000
    pages = {path.name: path.read_text() for path in (out / "makers").glob("*.html")}
    bob = next(text for text in pages.values() if "<h1>bob</h1>" in text)
    section = bob.split("Beyond the organisations", 1)[1].split("<h2>", 1)[0]
    assert ">gsa<" in section and "government" in section
    assert "acme" not in section and "1 other change merged elsewhere" in section
    assert not any("carol" in text.lower() for text in pages.values())


def test_stats_add_where_they_went(followed):
    folder = followed[0]
    done = cli("stats", "--config", str(folder / "g.toml"), "--store", str(folder / "s.sqlite"), "--json",
               cwd=folder)
    assert done.returncode == 0, done.stderr
    careers = json.loads(done.stdout)["careers"]
    by_key = {row["milestone"]: row["reached"] for row in careers["destinations"]}
    # bob: gsa (government) and bob/tool (founder); carol opted out; nobody civic or moved on
    assert by_key == {"landed_elsewhere": 1, "civic_elsewhere": 0, "government": 1, "founder": 1,
                      "moved_on": 0}
    assert json.loads(done.stdout)["funnel"]["counts"]["government"] == 1


def test_a_maker_who_opts_out_later_is_forgotten(tmp_path):
    world = outside_world(tmp_path / "world.json", prolific=False)
    with serve(world) as hub:
        harvest(tmp_path, hub)
        assert rows(tmp_path, "SELECT COUNT(*) FROM follow_prs WHERE user_id = 2")[0][0] == 2
        config = tmp_path / "g.toml"
        config.write_text(CONFIG.format(every=0).replace('["Carol"]', '["Carol", "BOB"]'), encoding="utf-8")
        mark = len(hub.log_lines())
        cli("harvest", "--config", str(config), "--api-url", hub.url, "--store", str(tmp_path / "s.sqlite"),
            "--cache", str(tmp_path / "cache"), cwd=tmp_path)
        assert not any("bob" in (line["path"] + json.dumps(line["query"])).lower()
                       for line in follow_lines_of(hub.log_lines()[mark:]))
    for table in ("follow_prs", "follow_repos", "follow_orgs", "follow_makers"):
        assert rows(tmp_path, f"SELECT COUNT(*) FROM {table} WHERE user_id = 2")[0][0] == 0  # noqa: S608
