"""Exports: turns the maker-project graph into files Gephi, Gephi Lite, d3 and
spreadsheets open (GEXF 1.3 dynamic, GraphML, CSV, node-link JSON).

This stage owns what leaves the machine, so it owns the privacy rules for files: emails
never appear (node ids of makers known only by their email are replaced by keyed
hashes, any email-looking text is removed), opted-out people never appear, and
``pseudonymise`` replaces logins and names with stable keyed hashes (HMAC-SHA256 of the
maker key, so two exports made with the same key line up). Every file is written to a
temporary file in the destination folder and renamed into place, so a failed export
leaves nothing half-written.

The GEXF is written directly (not with networkx's ``write_gexf``, whose output fails the
official schema): one ``<attributes>`` block per class (graphology-gexf keeps only the
last one), nodes and edges dated by their active period, a maker's stage as a dynamic
attribute (one ``attvalue`` per run of equal stages), ``viz`` colour by kind and stage and
size by activity.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import math
import os
import re
import secrets
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from graphminer import graph as graph_module
from graphminer import trajectory
from graphminer.careers import annotate_graph
from graphminer.columnar import copy as columnar_copy
from graphminer.errors import BadInput
from graphminer.outputs import require_replaceable_file
from graphminer.reader import StoreReader

FORMATS = ("gexf", "graphml", "csv", "json")
PROJECTIONS = ("bipartite", "makers", "projects")
SETTINGS_KEY = "export.pseudonymise_key"

# Colours a funder reads without a legend: grey for first contact, warming up with
# responsibility; repos in a neutral slate so makers stand out.
STAGE_COLOURS: dict[str, tuple[int, int, int]] = {
    # dark enough for white text (WCAG AA, 4.5:1) and to stand out from a white page (3:1)
    "participant": (107, 114, 128),
    "contributor": (37, 99, 235),
    "returning": (30, 58, 138),
    "maintainer": (180, 83, 9),
    "core": (185, 28, 28),
}
REPO_COLOUR = (84, 110, 122)
MAKER_COLOUR = (150, 150, 150)

# Attributes that name or reach a person: never exported as such.
PERSONAL_KEYS = frozenset({"email", "emails", "identities", "login", "name", "names"})
# Characters XML 1.0 forbids even when escaped (C0 controls except tab, LF, CR; surrogates;
# U+FFFE/U+FFFF).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EMAIL = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")
_NEEDS_ESCAPE = re.compile('[&<>"\n\r\t]')
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)


# ---------------------------------------------------------------------------------------
# Options and the graph to export


@dataclass
class ExportOptions:
    """What to export: filters on the events, the projection, privacy."""

    orgs: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    as_of: pd.Timestamp | None = None  # graphminer.timeutil.as_of's type
    projection: str = "bipartite"
    min_weight: float = 0.0
    pseudonymise: bool = False
    with_destinations: bool = False  # destination owners as nodes (graphminer.careers)


def exportable_graph(
    graph: nx.Graph,
    *,
    key: bytes,
    pseudonymise: bool = False,
    opt_out: Iterable[str] = (),
    min_weight: float = 0.0,
) -> nx.Graph:
    """A copy of ``graph`` safe to write to a file.

    Node ids and labels of makers become keyed hashes when ``pseudonymise`` (or, for ids
    only, when the maker key holds an email); opted-out people and edges lighter than
    ``min_weight`` are dropped; personal attributes and email-looking text are removed.
    """
    opted_out = {str(item).strip().lower() for item in opt_out}
    renamed: dict[Any, str] = {}
    out = nx.Graph()
    out.graph.update({k: v for k, v in graph.graph.items() if isinstance(v, str | Real)})
    for node, attrs in graph.nodes(data=True):
        if _is_opted_out(node, attrs, opted_out):
            continue
        new_id = export_node_id(node, attrs, key, pseudonymise)
        renamed[node] = new_id
        out.add_node(new_id, **_clean_node_attrs(node, attrs, new_id, key, pseudonymise))
    for source, target, attrs in graph.edges(data=True):
        if source not in renamed or target not in renamed:
            continue
        if float(attrs.get("weight", 1) or 0) < min_weight:
            continue
        out.add_edge(renamed[source], renamed[target], **_clean_attrs(attrs))
    return out


def _is_opted_out(node: Any, attrs: dict, opted_out: set[str]) -> bool:
    if not opted_out or attrs.get("kind") == "repo":
        return False
    names = {str(attrs.get(k, "")).strip().lower() for k in ("label", "login", "name", "email")}
    names.add(maker_key_of(node).lower())
    if maker_key_of(node).startswith("git:"):
        names.add(maker_key_of(node)[4:].lower())
    return bool(names & opted_out)


def maker_key_of(node: Any) -> str:
    """The maker key inside a node id ``maker:<key>`` (the id itself for other nodes)."""
    text = str(node)
    return text[len("maker:"):] if text.startswith("maker:") else text


def is_maker(node: Any, attrs: dict) -> bool:
    """Whether a node stands for a person (by its kind, else by its id)."""
    kind = attrs.get("kind")
    return kind == "maker" if kind else str(node).startswith("maker:")


def pseudonym(key: bytes, maker_key: str) -> str:
    """A stable keyed hash of a maker key: the same key and maker give the same text."""
    return hmac.new(key, maker_key.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def export_node_id(node: Any, attrs: dict, key: bytes, pseudonymise: bool) -> str:
    """The id a node gets in files: makers hashed when pseudonymised or keyed by email."""
    if not is_maker(node, attrs):
        return clean_text(str(node))
    maker_key = maker_key_of(node)
    if pseudonymise:
        return f"maker:{pseudonym(key, maker_key)}"
    if "@" in maker_key:
        # git-only makers are keyed by their email, which must never reach a file.
        return f"maker:git-{pseudonym(key, maker_key)}"
    return clean_text(str(node))


def _clean_node_attrs(node: Any, attrs: dict, new_id: str, key: bytes, pseudonymise: bool) -> dict:
    cleaned = _clean_attrs(attrs)
    if is_maker(node, attrs):
        if pseudonymise:
            cleaned["label"] = new_id.split(":", 1)[1]
        elif not cleaned.get("label"):
            cleaned["label"] = new_id
    else:
        cleaned.setdefault("label", clean_text(str(node)))
    return cleaned


def _clean_attrs(attrs: dict) -> dict:
    cleaned: dict[str, Any] = {}
    for name, value in attrs.items():
        if name in PERSONAL_KEYS or value is None:
            continue
        kind = type(value)
        # exact-type fast paths: 55,000 nodes and their edges carry millions of values
        if kind is int or kind is bool:
            cleaned[name] = value
        elif kind is str:
            cleaned[name] = clean_text(value)
        elif kind is float:
            if value == value:  # NaN means "no value"
                cleaned[name] = value
        else:
            cleaned[name] = _clean_value(value)
    return cleaned


def _clean_value(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return clean_text(value)
    if kind is list or kind is tuple:
        # a maker's stage history: tens of thousands of (quarter, stage) pairs per export
        return [
            [clean_text(x) if type(x) is str else _clean_value(x) for x in item]
            if type(item) is tuple or type(item) is list else _clean_value(item)
            for item in value
        ]
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        return [_clean_value(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return clean_text(str(value))


def clean_text(text: str) -> str:
    """Text with XML-invalid characters and anything that looks like an email removed."""
    if _XML_INVALID.search(text):
        text = _XML_INVALID.sub("", text)
    if "@" in text:
        text = _EMAIL.sub("(email hidden)", text).replace("@", "(at)")
    return text


# ---------------------------------------------------------------------------------------
# Safe writing


@contextmanager
def atomic_output(path: Path, mode: str = "w") -> Iterator[io.TextIOBase]:
    """A file handle whose content appears at ``path`` only if the block succeeds."""
    folder = path.parent
    _check_writable_folder(folder, path)
    require_replaceable_file(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, mode, encoding="utf-8", newline="") as handle:
            yield handle
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; exports are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _check_writable_folder(folder: Path, path: Path) -> None:
    if not folder.is_dir():
        raise BadInput(f"cannot write {path}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f"cannot write {path}: folder {folder} is not writable; choose another")
    if path.is_dir():
        raise BadInput(f"cannot write {path}: it is a folder; give a file name")


def output_folder(path: Path) -> Path:
    """``path`` as an existing writable folder, created when its parent exists."""
    if path.exists() and not path.is_dir():
        raise BadInput(f"cannot write into {path}: it is a file; give a folder")
    if not path.exists():
        if not path.parent.is_dir():
            raise BadInput(
                f"cannot create folder {path}: its parent {path.parent} does not exist; create it first"
            )
        try:
            path.mkdir()
        except OSError as error:
            raise BadInput(f"cannot create folder {path}: {error.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise BadInput(f"cannot write into {path}: the folder is not writable; choose another")
    return path


# ---------------------------------------------------------------------------------------
# GEXF 1.3 dynamic


def _attr(text: str) -> str:
    return text.translate(_ATTR_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _gexf_type(kinds: set[type]) -> str:
    if kinds <= {bool}:
        return "boolean"
    if kinds <= {int}:
        return "long"
    if kinds <= {int, float}:
        return "double"
    return "string"


def _gexf_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _date(value: Any) -> str | None:
    """An ISO date ``YYYY-MM-DD`` from an ISO date or time text (None when absent)."""
    if value is None or value == "":
        return None
    text = str(value)
    return text[:10] if len(text) >= 10 and text[4] == "-" and text[7] == "-" else None


def _attribute_model(items: Iterable[dict], skip: set[str]) -> dict[str, str]:
    """Attribute name -> GEXF type, for every attribute any item carries."""
    kinds: dict[str, set[type]] = {}
    for attrs in items:
        for name, value in attrs.items():
            seen = kinds.get(name)
            if seen is None:
                kinds[name] = {type(value)}
            else:
                seen.add(type(value))
    return {name: _gexf_type(types) for name, types in sorted(kinds.items()) if name not in skip}


def stage_runs(stages: Iterable, start: str | None, end: str | None) -> list[tuple[str, str | None, str]]:
    """(start, end, stage) runs of equal consecutive stages, clipped to [start, end].

    ``stages`` is the graph's list of ``(quarter_start_iso, stage)``; a run ends the day
    before the next run starts (GEXF intervals are closed), the last one at ``end``.
    """
    ordered = sorted((_date(q), s) for q, s in stages if _date(q))
    runs: list[list] = []
    for quarter, stage in ordered:
        if runs and runs[-1][2] == stage:
            continue
        runs.append([quarter, None, stage])
    for current, following in zip(runs, runs[1:], strict=False):
        current[1] = _day_before(following[0])
    if runs:
        runs[-1][1] = end
    clipped = []
    for run_start, run_end, stage in runs:
        if start and run_start < start:
            run_start = start
        if end and run_start > end:
            continue
        if run_end is not None and run_end < run_start:
            continue
        clipped.append((run_start, run_end, stage))
    return clipped


def _day_before(iso_date: str) -> str:
    return (date.fromisoformat(iso_date) - timedelta(days=1)).isoformat()


def node_colour(attrs: dict) -> tuple[int, int, int]:
    """viz colour: repos slate, makers by their current stage."""
    if attrs.get("kind") == "repo":
        return REPO_COLOUR
    return STAGE_COLOURS.get(str(attrs.get("stage", "")), MAKER_COLOUR)


def node_size(attrs: dict) -> float:
    """viz size: grows with the square root of activity so big repos do not swamp."""
    activity = attrs.get("activity", attrs.get("weight", 1)) or 1
    return round(4.0 + 2.0 * math.sqrt(float(activity)), 3)


def write_gexf(graph: nx.Graph, path: Path, *, description: str = "") -> None:
    """Write ``graph`` (already made exportable) as GEXF 1.3 dynamic to ``path``."""
    with atomic_output(path) as handle:
        for chunk in gexf_chunks(graph, description=description):
            handle.write(chunk)


NODE_SKIP = {"label", "stages"}
EDGE_SKIP = {"weight", "label"}


def gexf_chunks(graph: nx.Graph, *, description: str = "") -> Iterator[str]:
    """The GEXF document as text chunks (streamed, so 55,000 nodes need little memory)."""
    node_model = _attribute_model((a for _, a in graph.nodes(data=True)), NODE_SKIP)
    if any("stages" in a for _, a in graph.nodes(data=True)):
        node_model.setdefault("stage", "string")
    edge_model = _attribute_model((a for _, _, a in graph.edges(data=True)), EDGE_SKIP)
    today = datetime.now(UTC).date().isoformat()
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        # no xsi:schemaLocation: the official RelaxNG schema refuses it
        '<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" version="1.3">\n'
        f'  <meta lastmodifieddate="{today}">\n'
        "    <creator>graphminer</creator>\n"
        f"    <description>{_attr(clean_text(description))}</description>\n"
        "  </meta>\n"
        '  <graph defaultedgetype="undirected" mode="dynamic" timeformat="date" '
        'timerepresentation="interval">\n'
    )
    yield _model_block("node", node_model)
    yield _model_block("edge", edge_model)
    yield f'    <nodes count="{graph.number_of_nodes()}">\n'
    parts: list[str] = []
    for node, attrs in graph.nodes(data=True):
        parts.append(_gexf_node(node, attrs, node_model))
        if len(parts) >= 2000:
            yield "".join(parts)
            parts = []
    yield "".join(parts)
    yield f'    </nodes>\n    <edges count="{graph.number_of_edges()}">\n'
    parts = []
    for number, (source, target, attrs) in enumerate(graph.edges(data=True)):
        parts.append(_gexf_edge(number, source, target, attrs, edge_model))
        if len(parts) >= 4000:
            yield "".join(parts)
            parts = []
    yield "".join(parts)
    yield "    </edges>\n  </graph>\n</gexf>\n"


def _zero_default(name: str, kind: str) -> bool:
    """Per-kind counts default to 0, so the many zeros need not be written (a third of
    the file on a real network)."""
    return kind == "long" and name.startswith("n_")


def _model_block(cls: str, model: dict[str, str]) -> str:
    lines = [f'    <attributes class="{cls}" mode="dynamic">\n']
    for name, kind in model.items():
        default = "<default>0</default>" if _zero_default(name, kind) else ""
        close = f">{default}</attribute>" if default else "/>"
        lines.append(f'      <attribute id="{_attr(name)}" title="{_attr(name)}" type="{kind}"{close}\n')
    lines.append("    </attributes>\n")
    return "".join(lines)


def _period(start: str | None, end: str | None) -> str:
    text = ""
    if start:
        text += f' start="{start}"'
    if end and (not start or end >= start):
        text += f' end="{end}"'
    return text


def _attvalues(attrs: dict, model: dict[str, str], skip: set[str]) -> list[str]:
    values = []
    for name, value in attrs.items():
        if name in skip or name not in model:
            continue
        kind = type(value)
        if kind is int and value == 0 and name.startswith("n_") and model[name] == "long":
            continue  # the declared default
        if kind is int or kind is float:
            text = str(value)
        elif kind is str:
            text = _attr(value)
        else:
            text = _attr(_gexf_value(value))
        values.append(f'<attvalue for="{_attr(name)}" value="{text}"/>')
    return values



def _gexf_node(node: Any, attrs: dict, model: dict[str, str]) -> str:
    start, end = _date(attrs.get("first_active")), _date(attrs.get("last_active"))
    skip = NODE_SKIP | ({"stage"} if attrs.get("stages") else set())
    values = _attvalues(attrs, model, skip)
    for run_start, run_end, stage in stage_runs(attrs.get("stages") or (), start, end):
        values.append(f'<attvalue for="stage" value="{_attr(str(stage))}"{_period(run_start, run_end)}/>')
    r, g, b = node_colour(attrs)
    label = _attr(str(attrs.get("label", node)))
    return (
        f'      <node id="{_attr(str(node))}" label="{label}"{_period(start, end)}>'
        f'<attvalues>{"".join(values)}</attvalues>'
        f'<viz:color r="{r}" g="{g}" b="{b}"/><viz:size value="{node_size(attrs)}"/></node>\n'
    )


def _gexf_edge(number: int, source: Any, target: Any, attrs: dict, model: dict[str, str]) -> str:
    start, end = _date(attrs.get("first")), _date(attrs.get("last"))
    weight = attrs.get("weight", 1)
    values = _attvalues(attrs, model, EDGE_SKIP)
    thickness = round(1.0 + math.log1p(float(weight)), 3)
    return (
        f'      <edge id="{number}" source="{_attr(str(source))}" target="{_attr(str(target))}" '
        f'weight="{float(weight)}"{_period(start, end)}><attvalues>{"".join(values)}</attvalues>'
        f'<viz:thickness value="{thickness}"/></edge>\n'
    )


# ---------------------------------------------------------------------------------------
# GraphML, CSV, JSON


def _scalar_graph(graph: nx.Graph) -> nx.Graph:
    """A copy whose attribute values GraphML can hold (lists as JSON text)."""
    flat = nx.Graph()
    for node, attrs in graph.nodes(data=True):
        flat.add_node(node, **{k: _scalar(v) for k, v in attrs.items()})
    for source, target, attrs in graph.edges(data=True):
        flat.add_edge(source, target, **{k: _scalar(v) for k, v in attrs.items()})
    return flat


def _scalar(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | tuple) else value


def write_graphml(graph: nx.Graph, path: Path) -> None:
    """Write ``graph`` (already made exportable) as GraphML to ``path``."""
    flat = _scalar_graph(graph)
    flat.graph["creator"] = "graphminer"  # tells a later export that it may replace this file
    with atomic_output(path, "w") as handle:
        for line in nx.generate_graphml(flat, encoding="utf-8", prettyprint=False):
            handle.write(line)
            handle.write("\n")


def _timeset(start: str | None, end: str | None) -> str:
    """Gephi's spreadsheet interval text ``<[start, end]>`` ('' when undated)."""
    if not start:
        return ""
    return f"<[{start}, {end or start}]>"


def _columns(items: Iterable[dict], skip: set[str]) -> list[str]:
    names: dict[str, None] = {}
    for attrs in items:
        for name in attrs:
            if name not in skip:
                names[name] = None
    return sorted(names)


def write_csv(graph: nx.Graph, folder: Path) -> tuple[Path, Path]:
    """Write ``nodes.csv`` and ``edges.csv`` (Gephi spreadsheet import names) in ``folder``."""
    folder = output_folder(folder)
    node_columns = _columns((a for _, a in graph.nodes(data=True)), {"label"})
    edge_columns = _columns((a for _, _, a in graph.edges(data=True)), {"weight", "label"})
    nodes_path, edges_path = folder / "nodes.csv", folder / "edges.csv"
    with atomic_output(nodes_path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "Label", "Interval", *node_columns])
        for node, attrs in graph.nodes(data=True):
            interval = _timeset(_date(attrs.get("first_active")), _date(attrs.get("last_active")))
            writer.writerow(
                [node, attrs.get("label", node), interval]
                + [_csv_value(attrs.get(name)) for name in node_columns]
            )
    with atomic_output(edges_path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["Source", "Target", "Type", "Id", "Weight", "Interval", *edge_columns])
        for number, (source, target, attrs) in enumerate(graph.edges(data=True)):
            interval = _timeset(_date(attrs.get("first")), _date(attrs.get("last")))
            writer.writerow(
                [source, target, "Undirected", number, attrs.get("weight", 1), interval]
                + [_csv_value(attrs.get(name)) for name in edge_columns]
            )
    return nodes_path, edges_path


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return json.dumps(value, ensure_ascii=False)
    return value


def node_link(graph: nx.Graph) -> dict:
    """The graph as node-link data (d3's ``nodes`` and ``links``; sigma.js reads it too)."""
    return {
        "directed": False,
        "multigraph": False,
        "graph": dict(graph.graph),
        "nodes": [{"id": node, **attrs} for node, attrs in graph.nodes(data=True)],
        "links": [
            {"source": source, "target": target, **attrs}
            for source, target, attrs in graph.edges(data=True)
        ],
    }


def write_json(graph: nx.Graph, path: Path) -> None:
    """Write ``graph`` (already made exportable) as node-link JSON to ``path``."""
    with atomic_output(path) as handle:
        json.dump(node_link(graph), handle, ensure_ascii=False)


WRITERS: dict[str, Callable[[nx.Graph, Path], Any]] = {
    "gexf": write_gexf,
    "graphml": write_graphml,
    "csv": write_csv,
    "json": write_json,
}


def write_all(graph: nx.Graph, folder: Path) -> list[Path]:
    """Every format into ``folder``: graph.gexf, graph.graphml, nodes/edges.csv, graph.json."""
    folder = output_folder(folder)
    write_gexf(graph, folder / "graph.gexf")
    write_graphml(graph, folder / "graph.graphml")
    nodes_csv, edges_csv = write_csv(graph, folder)
    write_json(graph, folder / "graph.json")
    return [folder / "graph.gexf", folder / "graph.graphml", nodes_csv, edges_csv, folder / "graph.json"]


# ---------------------------------------------------------------------------------------
# From the store


def pseudonymise_key(conn: sqlite3.Connection, configured: str) -> tuple[bytes, bool]:
    """The key for pseudonyms and hashed ids, and whether it was just made.

    The config's ``[export] pseudonymise_key`` wins; without one, a random key is made
    once and kept in the store's ``_settings`` table so later exports line up.
    """
    if configured:
        return configured.encode("utf-8"), False
    row = conn.execute("SELECT value FROM _settings WHERE key = ?", (SETTINGS_KEY,)).fetchone()
    if row and row[0]:
        return str(row[0]).encode("utf-8"), False
    made = secrets.token_hex(32)
    # the columnar copy, when nothing moved since its refresh: sealed again after this
    # write, which would otherwise leave every reader on pandas until the next refresh
    sealed = columnar_copy.sealed_copy(conn)
    try:
        with conn:
            conn.execute(
                "INSERT OR REPLACE INTO _settings(key, value) VALUES (?, ?)", (SETTINGS_KEY, made)
            )
        if sealed is not None:
            columnar_copy.seal(sealed, conn)
    finally:
        if sealed is not None:
            sealed.close()
    return made.encode("utf-8"), True


def filtered_events(events, options: ExportOptions):
    """The events the export covers: its orgs and its time window, nothing after as_of."""
    selected = events
    if options.orgs:
        wanted = {org.lower() for org in options.orgs}
        selected = selected[selected["org"].str.lower().isin(wanted)]
    if options.since is not None:
        selected = selected[selected["ts"] >= options.since]
    if options.until is not None:
        selected = selected[selected["ts"] <= options.until]
    if options.as_of is not None:
        selected = selected[selected["ts"] <= options.as_of]
    return selected


def graph_from_events(events, as_of: pd.Timestamp, config, projection: str = "bipartite",
                      labels: dict[str, str] | None = None, stages=None) -> nx.Graph:
    """The maker-project graph (or a projection of it) of an events frame; ``stages``
    (trajectory.stages of the same events) are computed when not given."""
    humans = graph_module.people_events(events)
    if stages is None and len(humans):
        stages = trajectory.stages(humans, as_of, config)
    bipartite = graph_module.maker_project_graph(humans, stages, labels=labels or None)
    if projection == "makers":
        days = config["trajectories"]["projection_days"]
        return graph_module.maker_projection(bipartite, window_days=days)
    if projection == "projects":
        return graph_module.project_projection(bipartite)
    return bipartite


def check_orgs(orgs: Iterable[str], events) -> None:
    """Refuse an --org the store holds nothing of (a typo would give an empty file)."""
    known = {str(org).lower() for org in events["org"].unique()} if len(events) else set()
    unknown = [org for org in orgs if org.lower() not in known]
    if unknown:
        listed = ", ".join(sorted(known)[:20]) or "none: harvest first"
        raise BadInput(f"no events of org {unknown[0]!r} in the store; orgs with events: {listed}")


def require_harvest(conn: sqlite3.Connection, path: str = "the store") -> None:
    """Refuse a store that holds no repository yet: there is nothing to draw."""
    if not conn.execute("SELECT 1 FROM repos LIMIT 1").fetchone():
        raise BadInput(f"{path} holds no repositories yet: run 'graphminer harvest' first (or give --store)")


def store_graph(conn: sqlite3.Connection, config, options: ExportOptions) -> nx.Graph:
    """The graph the options ask for, built from the store's events (``graphminer.reader``:
    the same as_of, labels and stages as every other reader of the store)."""
    require_harvest(conn)
    reader = StoreReader(conn, config)
    if options.orgs:
        check_orgs(options.orgs, reader.events)
    as_of = reader.moment(options.as_of)
    whole = not (options.orgs or options.since or options.until)
    if whole and options.projection == "bipartite":
        graph = reader.graph(as_of)  # the columnar engine's when the copy is fresh
    else:
        selected = filtered_events(reader.events, ExportOptions(**{**options.__dict__, "as_of": as_of}))
        stages = reader.stages(as_of) if whole and len(selected) else None
        graph = graph_from_events(selected, as_of, config, options.projection, reader.labels, stages)
    if options.projection != "projects":
        annotate_graph(graph, reader, as_of,
                       options.with_destinations and options.projection == "bipartite")
    return graph


def output_files(fmt: str, out: Path) -> list[Path]:
    """The files an export in ``fmt`` writes at ``out`` (a file, or a folder for csv/all)."""
    if fmt == "csv":
        return [out / "nodes.csv", out / "edges.csv"]
    if fmt == "all":
        return [out / name for name in ("graph.gexf", "graph.graphml", "nodes.csv", "edges.csv", "graph.json")]
    return [out]


def export(fmt: str, out: Path, conn: sqlite3.Connection, config, options: ExportOptions,
           warn: Callable[[str], None] = lambda message: None) -> list[Path]:
    """Export the store's graph in ``fmt`` ('gexf', 'graphml', 'csv', 'json' or 'all')."""
    if fmt != "all" and fmt not in WRITERS:
        raise BadInput(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}, all")
    if options.projection not in PROJECTIONS:
        raise BadInput(f"unknown projection {options.projection!r}: use one of {', '.join(PROJECTIONS)}")
    if fmt in ("gexf", "graphml", "json"):
        _check_writable_folder(out.parent, out)
    elif not out.exists() and not out.parent.is_dir():
        raise BadInput(f"cannot create folder {out}: its parent {out.parent} does not exist; create it first")
    for target in output_files(fmt, out):  # before the long computation
        require_replaceable_file(target)
    require_harvest(conn)  # before the warning below: a refusal is one line
    if fmt in ("csv", "all") and out.exists() and not out.is_dir():
        raise BadInput(f"cannot write into {out}: it is a file; give a folder")
    configured = config["export"]["pseudonymise_key"]
    key, made = pseudonymise_key(conn, configured)
    graph = exportable_graph(
        store_graph(conn, config, options),
        key=key,
        pseudonymise=options.pseudonymise,
        opt_out=config.opt_out,
        min_weight=options.min_weight,
    )
    if fmt == "all":
        written = write_all(graph, out)
    elif fmt == "csv":
        written = list(write_csv(graph, out))
    else:
        WRITERS[fmt](graph, out)
        written = [out]
    if options.pseudonymise and not configured:  # told once written: a refusal stays one line
        warn(
            "no [export] pseudonymise_key in the config: "
            + ("made a random key and kept it in the store" if made else "using the key kept in the store")
            + ", so exports of this store line up; set one in the config to line up across stores"
        )
    return written
