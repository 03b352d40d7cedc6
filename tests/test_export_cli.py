"""`graphminer export` and `graphminer report` end to end: a generated world served by
the real fakehub process, harvested over HTTP into a real SQLite store, then exported and
reported through the real command line.

The graph each export must match is built independently here from the store's events
with graphminer.graph (the export code is what is under test).
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import networkx as nx
import pytest
from harvest_support import assert_one_line, cli, folder_state, harvest_generated
from lxml import etree
from test_export_formats import graphology_parse

from graphminer import graph as graph_module
from graphminer.columnar.copy import open_copy
from graphminer.config import parse_config
from graphminer.events import load_events

GEXF_NS = {"g": "http://gexf.net/1.3"}




@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A small generated world harvested into a store; returns paths and facts."""
    folder = tmp_path_factory.mktemp("world")
    made, store, orgs = harvest_generated(folder, seed=11, orgs=3, repos_per_org=2, makers=60, years=3)
    config = folder / "graphminer.toml"
    config.write_text('[export]\npseudonymise_key = "board-2024"\n', "utf-8")
    return {"folder": folder, "store": store, "orgs": orgs, "config": config,
            "truth": json.loads(Path(made["truths"][0]).read_text("utf-8"))}


def reference_graph(store: Path, projection: str = "bipartite", opt_out: list[str] | None = None) -> nx.Graph:
    text = "[people]\nopt_out = " + json.dumps(opt_out or []) + "\n"
    config = parse_config(text, source="test", base_dir=store.parent)
    conn = sqlite3.connect(store)
    try:
        events = graph_module.people_events(load_events(conn, config))
    finally:
        conn.close()
    bipartite = graph_module.maker_project_graph(events)
    if projection == "makers":
        return graph_module.maker_projection(bipartite, window_days=90)
    if projection == "projects":
        return graph_module.project_projection(bipartite)
    return bipartite


def logins(store: Path) -> set[str]:
    conn = sqlite3.connect(store)
    try:
        return {row[0] for row in conn.execute("SELECT login FROM people WHERE login IS NOT NULL")}
    finally:
        conn.close()


def gexf_counts(path: Path, shared_dir: Path) -> tuple[int, int]:
    document = etree.parse(str(path))
    schema = etree.RelaxNG(etree.parse(str(shared_dir / "data/gexf/schema/1.3-rng/gexf.rng")))
    assert schema.validate(document), schema.error_log
    return len(document.findall(".//g:node", GEXF_NS)), len(document.findall(".//g:edge", GEXF_NS))


def test_export_all_formats_match_the_graph(world, tmp_path, shared_dir):
    out = tmp_path / "exports"  # created: its parent exists
    done = cli("export", "all", str(out), "--store", str(world["store"]))
    assert done.returncode == 0, done.stderr
    expected = reference_graph(world["store"])
    counts = (expected.number_of_nodes(), expected.number_of_edges())
    assert counts[0] > 30 and counts[1] > 30  # a world big enough to mean something
    assert gexf_counts(out / "graph.gexf", shared_dir) == counts
    seen = graphology_parse(out / "graph.gexf")
    assert (seen["nodes"], seen["edges"]) == counts
    graphml = nx.read_graphml(out / "graph.graphml")
    assert (graphml.number_of_nodes(), graphml.number_of_edges()) == counts
    with (out / "nodes.csv").open(encoding="utf-8") as handle:
        nodes = list(csv.DictReader(handle))
    with (out / "edges.csv").open(encoding="utf-8") as handle:
        edges = list(csv.DictReader(handle))
    assert (len(nodes), len(edges)) == counts
    data = json.loads((out / "graph.json").read_text("utf-8"))
    assert (len(data["nodes"]), len(data["links"])) == counts
    # weights: the same total number of actions on edges as the graph's
    assert sum(float(e["Weight"]) for e in edges) == sum(w for *_, w in expected.edges(data="weight"))
    # labels are logins, or names for makers known only from git
    back = nx.read_gexf(out / "graph.gexf")
    maker_labels = {a["label"] for n, a in back.nodes(data=True) if n.startswith("maker:")}
    conn = sqlite3.connect(world["store"])
    names = {row[0] for row in conn.execute("SELECT name FROM makers WHERE login IS NULL")}
    conn.close()
    assert maker_labels <= logins(world["store"]) | names
    assert len(maker_labels & logins(world["store"])) > len(maker_labels) / 2
    for path in out.iterdir():
        assert "@" not in path.read_text("utf-8"), path


@pytest.mark.parametrize("projection", ["makers", "projects"])
def test_projections(world, tmp_path, shared_dir, projection):
    out = tmp_path / "p.gexf"
    done = cli("export", "gexf", str(out), "--store", str(world["store"]), "--projection", projection)
    assert done.returncode == 0, done.stderr
    expected = reference_graph(world["store"], projection)
    assert gexf_counts(out, shared_dir) == (expected.number_of_nodes(), expected.number_of_edges())


def test_org_and_min_weight_filters(world, tmp_path, shared_dir):
    org = world["orgs"][0]
    out = tmp_path / "org.gexf"
    done = cli("export", "gexf", str(out), "--store", str(world["store"]), "--org", org, "--min-weight", "3")
    assert done.returncode == 0, done.stderr
    back = nx.read_gexf(out)
    repos = [n for n in back.nodes if n.startswith("repo:")]
    assert repos and all(n.startswith(f"repo:{org}/") for n in repos)
    assert all(w >= 3 for *_, w in back.edges(data="weight"))


def test_time_window_dates_are_utc_and_until_includes_its_day(world, tmp_path):
    out = tmp_path / "w.gexf"
    done = cli("export", "gexf", str(out), "--store", str(world["store"]),
               "--since", "2024-01-01", "--until", "2024-06-30")
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(world["store"])
    events = graph_module.actions_of(load_events(conn, parse_config("", "t", world["folder"])))
    conn.close()
    inside = events[(events["ts"] >= "2024-01-01T00:00:00Z") & (events["ts"] <= "2024-06-30T23:59:59Z")]
    back = nx.read_gexf(out)
    assert back.number_of_edges() == inside.groupby(["maker", "repo"]).ngroups
    assert sum(w for *_, w in back.edges(data="weight")) == len(inside)


def test_precomputed_tables_give_the_same_answers_as_computing(world, tmp_path):
    """Export and report read the stages and milestones the harvest precomputed when they
    are fresh; computing them from the events must give the same frames and files."""
    import pandas as pd

    from graphminer.config import load_config
    from graphminer.report import inputs_from_store
    from graphminer.store import open_store

    conn = open_store(world["store"], readonly=True)
    try:
        read = inputs_from_store(conn, load_config(None), use_precomputed=True)
        computed = inputs_from_store(conn, load_config(None), use_precomputed=False)
    finally:
        conn.close()
    for name in ("milestones", "org_milestones"):
        pd.testing.assert_frame_equal(getattr(read, name).sort_index(), getattr(computed, name).sort_index(),
                                      check_names=False)
    columns = ["maker", "milestone", "at", "kind", "target", "ts", "trigger_repo"]
    triggers = [frame[columns].astype({"maker": object, "kind": object, "trigger_repo": object})
                .sort_values(["maker", "milestone"], ignore_index=True)
                for frame in (read.triggers, computed.triggers)]
    assert len(triggers[0]) > 100
    pd.testing.assert_frame_equal(*triggers)
    order = ["maker", "quarter"]
    pd.testing.assert_frame_equal(read.stages.sort_values(order, ignore_index=True),
                                  computed.stages.sort_values(order, ignore_index=True))
    # the same through the command: a filter that excludes nothing forces the computation
    plain, filtered = tmp_path / "plain.gexf", tmp_path / "filtered.gexf"
    assert cli("export", "gexf", str(plain), "--store", str(world["store"])).returncode == 0
    done = cli("export", "gexf", str(filtered), "--store", str(world["store"]), "--since", "1970-01-01")
    assert done.returncode == 0, done.stderr
    body = lambda path: path.read_text("utf-8").split("</meta>")[1]  # noqa: E731
    assert 'for="stage"' in body(plain)
    assert body(plain) == body(filtered)


def test_pseudonymise_with_config_key_is_stable_and_hides_logins(world, tmp_path):
    first, second = tmp_path / "a.csv.d", tmp_path / "b.csv.d"
    for out in (first, second):
        done = cli("export", "csv", str(out), "--store", str(world["store"]), "--pseudonymise",
                   "--config", str(world["config"]))
        assert done.returncode == 0, done.stderr
    assert (first / "nodes.csv").read_bytes() == (second / "nodes.csv").read_bytes()
    assert (first / "edges.csv").read_bytes() == (second / "edges.csv").read_bytes()
    text = (first / "nodes.csv").read_text("utf-8") + (first / "edges.csv").read_text("utf-8")
    present = [login for login in logins(world["store"]) if login in text]
    assert present == []
    assert "@" not in text


def test_pseudonymise_without_key_makes_one_and_keeps_it(world, tmp_path):
    store = tmp_path / "copy.sqlite"
    source = sqlite3.connect(world["store"])
    target = sqlite3.connect(store)
    source.backup(target)
    source.close()
    with target:  # as if never exported (an earlier test's export made a key)
        target.execute("DELETE FROM _settings WHERE key = 'export.pseudonymise_key'")
    target.close()
    runs = []
    for name in ("a.json", "b.json"):
        done = cli("export", "json", str(tmp_path / name), "--store", str(store), "--pseudonymise",
                   cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        runs.append(done.stderr)
    assert "made a random key and kept it in the store" in runs[0]
    assert "using the key kept in the store" in runs[1]
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    conn = sqlite3.connect(store)
    kept = conn.execute("SELECT value FROM _settings WHERE key = 'export.pseudonymise_key'").fetchone()
    conn.close()
    assert kept and len(kept[0]) == 64
    assert kept[0] not in runs[0] + runs[1]


def test_an_export_that_makes_the_key_leaves_the_columnar_copy_fresh(tmp_path):
    """Making the pseudonymisation key writes the store; the columnar copy its harvest
    refreshed is sealed again, so later readers keep answering from it, not from pandas
    until the next harvest."""
    _, store, _ = harvest_generated(tmp_path, seed=5, orgs=1, repos_per_org=2, makers=20, years=2)
    config = parse_config("", source="test", base_dir=tmp_path)

    def fresh_copy() -> bool:
        conn = sqlite3.connect(store)
        try:
            con = open_copy(conn, config)
            if con is not None:
                con.close()
            return con is not None
        finally:
            conn.close()

    assert fresh_copy(), "the harvest's refresh left a fresh copy"
    done = cli("export", "json", str(tmp_path / "g.json"), "--store", str(store), "--pseudonymise",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "made a random key and kept it in the store" in done.stderr
    assert fresh_copy()


def test_opted_out_person_absent_from_exports_and_report(world, tmp_path):
    expected = reference_graph(world["store"])
    makers = [(node, a) for node, a in expected.nodes(data=True) if a["kind"] == "maker"]
    busiest = max(makers, key=lambda pair: pair[1]["activity"])[0]
    conn = sqlite3.connect(world["store"])
    login = conn.execute("SELECT login FROM makers WHERE key=?", (busiest.removeprefix("maker:"),)).fetchone()[0]
    conn.close()
    assert login, busiest
    config = tmp_path / "optout.toml"
    config.write_text(f'[people]\nopt_out = ["{login.upper()}"]\n', "utf-8")
    out = tmp_path / "all"
    done = cli("export", "all", str(out), "--store", str(world["store"]), "--config", str(config))
    assert done.returncode == 0, done.stderr
    report = tmp_path / "report"
    done = cli("report", str(report), "--store", str(world["store"]), "--config", str(config), "--makers", "20")
    assert done.returncode == 0, done.stderr
    for path in [*out.iterdir(), *report.rglob("*.html")]:
        assert login not in path.read_text("utf-8"), path
    gexf = nx.read_gexf(out / "graph.gexf")
    assert gexf.number_of_nodes() == expected.number_of_nodes() - 1


def test_report_command(world, tmp_path):
    out = tmp_path / "report"
    done = cli("report", str(out), "--store", str(world["store"]), "--makers", "7")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == out / "index.html"
    assert len(list((out / "makers").iterdir())) == 7
    assert sorted(p.stem for p in (out / "orgs").iterdir()) == sorted(o.lower() for o in world["orgs"])
    index = (out / "index.html").read_text("utf-8")
    expected = reference_graph(world["store"])
    people = sum(1 for _, a in expected.nodes(data=True) if a["kind"] == "maker")
    assert f"{people:,} people took part" in index.replace("</div><div class=\"what\">", " ")
    assert "@" not in index


def test_store_never_harvested_is_bad_input(tmp_path):
    from graphminer.store import open_store

    open_store(tmp_path / "empty.sqlite").close()
    for args in (["export", "gexf", str(tmp_path / "out" / "g.gexf")], ["report", str(tmp_path / "out" / "r")]):
        (tmp_path / "out").mkdir(exist_ok=True)
        done = cli(*args, "--store", str(tmp_path / "empty.sqlite"))
        assert done.returncode == 2, done.stderr
        assert "harvest" in done.stderr and "Traceback" not in done.stderr
        assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["export", "gexf", "{tmp}/missing/g.gexf"], "does not exist"),
        (["export", "csv", "{tmp}/missing/deeper"], "does not exist"),
        (["export", "all", "{tmp}/missing/deeper"], "does not exist"),
        (["export", "gexf", "{tmp}/g.gexf", "--since", "last tuesday"], "ISO 8601"),
        (["export", "gexf", "{tmp}/g.gexf", "--projection", "pairs"], "pairs"),
        (["export", "gexf", "{tmp}/g.gexf", "--org", "no-such-org"], "no-such-org"),
        (["report", "{tmp}/missing/report"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_leaves_nothing(world, tmp_path, args, message):
    done = cli(*[a.format(tmp=tmp_path) for a in args], "--store", str(world["store"]))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert message in done.stderr and lines[-1].startswith("Error:")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, words", [
    (["--since", "2025-01-01", "--until", "2024-01-01"], ["--since 2025-01-01", "--until 2024-01-01"]),
    (["--since", "2024-06-02T00:00:00Z", "--until", "2024-06-01"], ["--since", "--until"]),
    (["--min-weight", "-3"], ["--min-weight -3", "0 or more"]),
    (["--min-weight", "nan"], ["--min-weight nan"]),
])
def test_an_empty_window_or_a_negative_weight_is_bad_input(world, tmp_path, args, words):
    """Not an empty graph written, nor a filter that keeps everything (issue 23): one line,
    exit 2, no output made, the store's folder untouched."""
    before = folder_state(world["folder"])
    for fmt, out in (("gexf", "g.gexf"), ("csv", "tables")):
        assert_one_line(cli("export", fmt, str(tmp_path / out), *args, "--store", str(world["store"])), *words)
    assert list(tmp_path.iterdir()) == []
    assert folder_state(world["folder"]) == before


def test_since_and_until_on_the_same_day_keep_that_day(world, tmp_path):
    """A date alone in --until includes its whole day, so the same date twice is one day,
    not an empty window."""
    day = max(json.loads(cli("makers", "--json", "--store", str(world["store"])).stdout),
              key=lambda maker: maker["milestones"]["first_contact"] or "")["milestones"]["first_contact"][:10]
    done = cli("export", "json", str(tmp_path / "g.json"), "--since", day, "--until", day,
               "--store", str(world["store"]))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "g.json").read_text("utf-8"))["links"]
