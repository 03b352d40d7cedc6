"""Exports of a maker-project graph: GEXF (official RelaxNG schema, graphology-gexf,
networkx round trip), GraphML, CSV and JSON keep the graph's nodes and edges; labels
that are hard for XML come out well-formed; pseudonyms are stable and hide people;
emails never appear; bad output paths fail cleanly.

The graph is built here with exactly the node and edge attributes docs/analysis-api.md
promises, so the ground truth (counts, ids, weights) is the test's own.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from lxml import etree

from graphminer.errors import BadInput
from graphminer.export import (
    exportable_graph,
    pseudonym,
    stage_runs,
    write_all,
    write_csv,
    write_gexf,
    write_graphml,
    write_json,
)

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tests" / "js"
KEY = b"test-key"

NASTY_LABELS = [
    'a<b & "c" \'d\'',
    "emoji 🎉🧑‍💻",
    "עברית مرحبا",
    "ctl\x00\x01\x08\x0b\x1f-chars",
    "]]> and --> and <!--",
]


def documented_graph(n_makers: int = 12, n_repos: int = 4) -> nx.Graph:
    """A bipartite graph with the attributes of docs/analysis-api.md, plus nasty labels,
    a git-only maker keyed by email, and an opted-out person."""
    graph = nx.Graph()
    stages_cycle = ["participant", "contributor", "returning", "maintainer", "core"]
    for number in range(n_repos):
        org = f"org{number % 2}"
        graph.add_node(
            f"repo:{org}/project-{number}",
            kind="repo", label=f"{org}/project-{number}", org=org,
            first_active="2019-01-05", last_active="2024-03-01", activity=100 + number,
            n_commit=10, n_issue_opened=5,
        )
    for number in range(n_makers):
        key = str(1000 + number)
        label = NASTY_LABELS[number] if number < len(NASTY_LABELS) else f"maker{number}"
        top = stages_cycle[number % len(stages_cycle)]
        history = [("2019-01-01", "participant"), ("2019-04-01", "participant")]
        if top != "participant":
            history += [("2020-01-01", "contributor"), ("2021-07-01", top)]
        graph.add_node(
            f"maker:{key}",
            kind="maker", label=label, org="org0",
            first_active="2019-02-03", last_active="2023-11-30",
            stage=top, stages=history, is_bot=False, activity=number + 1,
            n_commit=number, n_issue_opened=1,
        )
    graph.add_node(
        "maker:git:someone@example.org", kind="maker", label="Some One", org="org1",
        first_active="2020-05-05", last_active="2020-06-06", stage="contributor",
        stages=[("2020-04-01", "contributor")], is_bot=False, activity=3, n_commit=3,
        n_issue_opened=0,
    )
    graph.add_node(
        "maker:4242", kind="maker", label="OptedOut", org="org0", first_active="2021-01-01",
        last_active="2021-02-01", stage="participant", stages=[("2021-01-01", "participant")],
        is_bot=False, activity=1, n_commit=0, n_issue_opened=1,
    )
    repos = [n for n, a in graph.nodes(data=True) if a["kind"] == "repo"]
    makers = [n for n, a in graph.nodes(data=True) if a["kind"] == "maker"]
    for index, maker in enumerate(makers):
        for offset in range(1 + index % 3):
            repo = repos[(index + offset) % len(repos)]
            graph.add_edge(
                maker, repo, weight=1 + (index * 7 + offset) % 11, n_commit=index % 4,
                n_issue_opened=offset, first="2019-03-01", last="2023-10-10",
            )
    return graph


@pytest.fixture()
def graph() -> nx.Graph:
    return exportable_graph(documented_graph(), key=KEY, opt_out=["optedout"])


def expected_counts() -> tuple[int, int]:
    """Nodes and edges once the opted-out person (and their edges) is gone, counted on
    the source graph independently of the export code."""
    source = documented_graph()
    source.remove_node("maker:4242")
    return source.number_of_nodes(), source.number_of_edges()


def relaxng(shared_dir: Path) -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(shared_dir / "data/gexf/schema/1.3-rng/gexf.rng")))


# --- GEXF -----------------------------------------------------------------------------


def test_gexf_valid_against_official_relaxng_and_counts_match(graph, tmp_path, shared_dir):
    out = tmp_path / "g.gexf"
    write_gexf(graph, out)
    document = etree.parse(str(out))
    schema = relaxng(shared_dir)
    assert schema.validate(document), schema.error_log
    ns = {"g": "http://gexf.net/1.3"}
    nodes, edges = expected_counts()
    assert len(document.findall(".//g:node", ns)) == nodes
    assert len(document.findall(".//g:edge", ns)) == edges
    # one attributes block per class (graphology-gexf keeps only the last one)
    classes = [a.get("class") for a in document.findall(".//g:attributes", ns)]
    assert sorted(classes) == ["edge", "node"]


def test_schema_check_is_real_a_broken_document_is_refused(shared_dir, tmp_path):
    schema = relaxng(shared_dir)
    # an edge without a target
    bad = tmp_path / "bad.gexf"
    write_gexf(documented_graph(3, 1), bad)
    text = bad.read_text("utf-8").replace(' target="', ' targ="', 1)
    bad.write_text(text, "utf-8")
    assert not schema.validate(etree.parse(str(bad)))


def test_gexf_is_dynamic_with_stage_runs(graph, tmp_path):
    out = tmp_path / "g.gexf"
    write_gexf(graph, out)
    ns = {"g": "http://gexf.net/1.3"}
    document = etree.parse(str(out))
    graph_el = document.find(".//g:graph", ns)
    assert graph_el.get("mode") == "dynamic" and graph_el.get("timeformat") == "date"
    node = document.find(".//g:node[@id='maker:1003']", ns)  # maker 3: reaches maintainer
    assert (node.get("start"), node.get("end")) == ("2019-02-03", "2023-11-30")
    stages = [
        (v.get("value"), v.get("start"), v.get("end"))
        for v in node.findall(".//g:attvalue[@for='stage']", ns)
    ]
    assert stages == [
        ("participant", "2019-02-03", "2019-12-31"),
        ("contributor", "2020-01-01", "2021-06-30"),
        ("maintainer", "2021-07-01", "2023-11-30"),
    ]
    edge = document.find(".//g:edge", ns)
    assert (edge.get("start"), edge.get("end")) == ("2019-03-01", "2023-10-10")
    colour = node.find("{http://gexf.net/1.3/viz}color")
    # the maintainer colour (the report's, dark enough for white text: WCAG AA)
    assert (colour.get("r"), colour.get("g"), colour.get("b")) == ("180", "83", "9")


def test_stage_runs_merge_equal_quarters_and_clip():
    runs = stage_runs(
        [("2020-01-01", "participant"), ("2020-04-01", "participant"), ("2020-07-01", "core")],
        "2020-02-10", "2020-09-01",
    )
    assert runs == [("2020-02-10", "2020-06-30", "participant"), ("2020-07-01", "2020-09-01", "core")]


def timeless(value):
    """A value of the dynamic attributes block as networkx reads it: a list of
    (value, start, end), one entry with no dates for an attribute that never changes."""
    assert isinstance(value, list) and len(value) == 1, value
    (only, start, end), = value
    assert (start, end) == ("None", "None")  # networkx writes the missing dates as text
    return only


def test_gexf_round_trip_through_networkx_keeps_ids_kinds_weights(graph, tmp_path):
    out = tmp_path / "g.gexf"
    write_gexf(graph, out)
    back = nx.read_gexf(out)
    assert set(back.nodes) == set(graph.nodes)
    for node, attrs in graph.nodes(data=True):
        assert timeless(back.nodes[node]["kind"]) == attrs["kind"]
        assert back.nodes[node]["label"] == attrs["label"]
        assert timeless(back.nodes[node]["activity"]) == attrs["activity"]
    for source, target, attrs in graph.edges(data=True):
        assert back.edges[source, target]["weight"] == pytest.approx(attrs["weight"])


def test_nasty_labels_well_formed_and_kept(graph, tmp_path):
    out = tmp_path / "g.gexf"
    write_gexf(graph, out)
    back = nx.read_gexf(out)  # a parse error would raise here
    labels = {attrs["label"] for _, attrs in back.nodes(data=True)}
    assert 'a<b & "c" \'d\'' in labels
    assert "emoji 🎉🧑‍💻" in labels
    assert "עברית مرحبا" in labels
    assert "ctl-chars" in labels  # XML-invalid control characters stripped
    assert "]]> and --> and <!--" in labels
    for path in (tmp_path / "g.graphml",):
        write_graphml(graph, path)
        etree.parse(str(path))


def _node_modules() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: graphology-gexf (Gephi Lite's parser) runs on node")
    modules = JS / "node_modules"
    if not (modules / "graphology-gexf").is_dir():
        if shutil.which("npm") is None:
            pytest.fail("tests/js/node_modules is missing and npm is absent: run `make setup-test`")
        done = subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund"], cwd=JS,
            capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, f"npm install in tests/js failed: {done.stderr}"
    return modules


def graphology_parse(path: Path) -> dict:
    _node_modules()
    done = subprocess.run(
        ["node", str(JS / "parse-gexf.mjs"), str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_graphology_gexf_parses_with_same_counts(graph, tmp_path):
    out = tmp_path / "g.gexf"
    write_gexf(graph, out)
    seen = graphology_parse(out)
    nodes, edges = expected_counts()
    assert (seen["nodes"], seen["edges"]) == (nodes, edges)
    assert seen["kinds"] == {"repo": 4, "maker": nodes - 4}
    assert seen["weight"] == pytest.approx(sum(w for _, _, w in graph.edges(data="weight")))
    assert seen["labels"]["maker:1000"] == 'a<b & "c" \'d\''
    # zero counts are left out of the file as the declared default; the reader restores them
    text = out.read_text("utf-8")
    assert '<attvalue for="n_commit" value="0"/>' not in text
    assert seen["edgeSums"]["n_commit"] == sum(a["n_commit"] for *_, a in graph.edges(data=True))
    assert seen["nodeSums"]["n_issue_opened"] == sum(a["n_issue_opened"] for _, a in graph.nodes(data=True))
    assert seen["nodeSums"]["activity"] == sum(a["activity"] for _, a in graph.nodes(data=True))


# --- GraphML, CSV, JSON -----------------------------------------------------------------


def test_graphml_counts_and_attributes(graph, tmp_path):
    out = tmp_path / "g.graphml"
    write_graphml(graph, out)
    back = nx.read_graphml(out)
    assert (back.number_of_nodes(), back.number_of_edges()) == expected_counts()
    assert back.nodes["repo:org0/project-0"]["kind"] == "repo"
    assert back.edges["maker:1001", "repo:org1/project-1"]["weight"] == graph.edges[
        "maker:1001", "repo:org1/project-1"]["weight"]


def test_csv_uses_gephi_spreadsheet_columns(graph, tmp_path):
    nodes_path, edges_path = write_csv(graph, tmp_path / "csv")
    with nodes_path.open(encoding="utf-8", newline="") as handle:
        nodes = list(csv.DictReader(handle))
    with edges_path.open(encoding="utf-8", newline="") as handle:
        edges = list(csv.DictReader(handle))
    assert (len(nodes), len(edges)) == expected_counts()
    assert list(nodes[0])[:2] == ["Id", "Label"]
    assert {"Source", "Target", "Weight", "Type"} <= set(edges[0])
    ids = {row["Id"] for row in nodes}
    assert all(row["Source"] in ids and row["Target"] in ids for row in edges)
    assert sum(float(row["Weight"]) for row in edges) == sum(w for *_, w in graph.edges(data="weight"))


def test_json_node_link(graph, tmp_path):
    out = tmp_path / "g.json"
    write_json(graph, out)
    data = json.loads(out.read_text("utf-8"))
    assert (len(data["nodes"]), len(data["links"])) == expected_counts()
    ids = {node["id"] for node in data["nodes"]}
    assert all(link["source"] in ids and link["target"] in ids for link in data["links"])


# --- people's data -----------------------------------------------------------------------


def test_no_email_and_no_opted_out_person_in_any_format(graph, tmp_path):
    files = write_all(graph, tmp_path / "all")
    assert len(files) == 5
    for path in files:
        text = path.read_text("utf-8")
        assert "@" not in text, path
        assert "someone" not in text, path
        assert "OptedOut" not in text and "4242" not in text, path


def test_pseudonymise_stable_and_hides_people(tmp_path):
    source = documented_graph()
    first = exportable_graph(source, key=KEY, pseudonymise=True, opt_out=["optedout"])
    second = exportable_graph(source, key=KEY, pseudonymise=True, opt_out=["optedout"])
    other = exportable_graph(source, key=b"another", pseudonymise=True, opt_out=["optedout"])
    write_gexf(first, tmp_path / "a.gexf")
    write_gexf(second, tmp_path / "b.gexf")
    a, b = (tmp_path / "a.gexf").read_text("utf-8"), (tmp_path / "b.gexf").read_text("utf-8")
    body = lambda text: text.split("</meta>")[1]  # noqa: E731 (meta carries today's date)
    assert body(a) == body(b)
    assert set(first.nodes) != set(other.nodes)
    expected_id = "maker:" + pseudonym(KEY, "1005")
    assert expected_id in first.nodes
    for path in write_all(first, tmp_path / "p"):
        text = path.read_text("utf-8")
        assert "@" not in text
        for person in ("maker5", "Some One", "emoji", "maker:1005", "OptedOut"):
            assert person not in text, (person, path)
        assert "org0/project-0" in text  # repos are not people: they keep their names


# --- bad output paths ---------------------------------------------------------------------


def test_missing_parent_folder_is_bad_input_and_leaves_nothing(graph, tmp_path):
    for writer, target in ((write_gexf, "g.gexf"), (write_json, "g.json"), (write_graphml, "g.graphml")):
        with pytest.raises(BadInput, match="does not exist"):
            writer(graph, tmp_path / "missing" / target)
    with pytest.raises(BadInput, match="does not exist"):
        write_csv(graph, tmp_path / "missing" / "deeper")
    assert list(tmp_path.iterdir()) == []


def test_parent_that_is_a_file_is_bad_input(graph, tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a folder", "utf-8")
    with pytest.raises(BadInput, match="does not exist"):
        write_gexf(graph, blocker / "g.gexf")
    with pytest.raises(BadInput, match="is a file"):
        write_csv(graph, blocker)
    assert [p.name for p in tmp_path.iterdir()] == ["plain-file"]
    assert blocker.read_text("utf-8") == "not a folder"


def test_files_get_ordinary_permissions(graph, tmp_path):
    out = tmp_path / "g.gexf"
    write_gexf(graph, out)
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask  # not mkstemp's private 0600


def test_failure_midway_leaves_no_partial_file(tmp_path):
    broken = documented_graph(3, 1)
    broken.add_node("repo:x/y", kind="repo", label="x/y", activity=object())  # not a number
    out = tmp_path / "g.gexf"
    with pytest.raises((TypeError, ValueError)):
        write_gexf(broken, out)
    assert list(tmp_path.iterdir()) == []
