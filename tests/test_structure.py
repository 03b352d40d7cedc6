"""The package's structure (docs DESIGN "Structure: every arrow points down the flow"),
read from the source with ``ast``, not from a running import: every ``import`` of every
module counts, at module level, inside functions and under ``if TYPE_CHECKING:``.

- the floors below, top to bottom: a module imports only modules of its own floor or of a
  floor below it, and never round a circle (fakehub, a tool of its own, aside);
- a harvester imports only other harvest modules and the ground floor (never analysis,
  identities, the read side or the pipeline: the pipeline sequences harvest, then
  identities, then precompute); no analysis module imports a harvester;
- an import inside a function is there only for start-up time, with a comment saying
  ``start-up`` on its line or the line above, and there are at most five of them outside
  ``cli.py`` and ``commands/``;
- fakehub imports nothing of the package but its ground floor (and the CLI's lazy group).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "graphminer"

# Top to bottom. A name stands for the module and, for a package, every module in it.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("entry", ("cli", "__main__", "commands", "demo")),
    ("pipeline", ("pipeline",)),
    ("outputs", ("export", "report", "report_plots", "api")),
    ("harvest", ("harvest",)),
    ("read side", ("precompute",)),
    ("reader", ("reader",)),
    ("analysis", ("careers", "stats", "graph", "trajectory", "events", "landing", "columnar")),
    ("stored answers", ("timeline", "evidence")),
    ("identities", ("identity", "bots")),
    ("ground", ("store", "config", "milestones", "destinations", "timeutil", "errors",
                "outputs", "health", "sources", "migrations", "__init__")),
]
GROUND = FLOORS[-1][1]
ANALYSIS = ("careers", "stats", "graph", "trajectory", "events", "landing", "columnar", "reader", "precompute",
            "timeline", "evidence", "identity", "bots", "export", "report", "report_plots", "api")
# Where an import inside a function is part of the design: the CLI's lazy commands.
LAZY_PLACES = ("cli", "commands")
MOST_INNER_IMPORTS = 5


@dataclass(frozen=True)
class Import:
    module: str  # importing module, dotted below graphminer ("harvest.github")
    target: str  # imported module of the package, dotted below graphminer
    line: int
    in_function: bool
    commented: bool  # "start-up" on its line or the line above


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str) -> str | None:
    """The package module a dotted name below graphminer is (or is in), None outside."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> list[Import]:
    path = MODULES[module]
    source = path.read_text("utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside |= {id(child) for child in ast.walk(node) if child is not node}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            if node.level:
                base = module.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - node.level + 1]
                prefix = "graphminer." + ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{alias.name}" for alias in node.names]
        near = " ".join(lines[max(node.lineno - 2, 0): node.end_lineno])
        for name in names:
            if not (name == "graphminer" or name.startswith("graphminer.")):
                target = None
            else:
                target = resolve(name.removeprefix("graphminer").removeprefix("."))
            found.append(Import(module, target or "", node.lineno, id(node) in inside,
                                "start-up" in near))
    return found


IMPORTS = [found for module in MODULES for found in imports_of(module)]
EDGES = [found for found in IMPORTS if found.target and found.target != found.module]


def top(module: str) -> str:
    return module.split(".")[0]


def floor_of(module: str) -> int | None:
    for index, (_, names) in enumerate(FLOORS):
        if module in names or top(module) in names:
            return index
    return None


def is_fakehub(module: str) -> bool:
    return top(module) == "fakehub"


def is_harvester(module: str) -> bool:
    return top(module) == "harvest"


def test_every_module_has_a_floor():
    lost = [module for module in MODULES if floor_of(module) is None and not is_fakehub(module)]
    assert lost == [], f"modules on no floor of FLOORS (say where they belong): {lost}"


def test_every_import_points_down_or_sideways():
    upward = [f"{e.module} (floor {FLOORS[floor_of(e.module)][0]}) imports {e.target} "
              f"(floor {FLOORS[floor_of(e.target)][0]}), line {e.line}"
              for e in EDGES if not is_fakehub(e.module) and not is_fakehub(e.target)
              and floor_of(e.target) < floor_of(e.module)]
    assert upward == []


def cycles(edges: list[Import]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.module, set()).add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for after in sorted(graph.get(node, ())):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in on_stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles_outside_fakehub():
    edges = [e for e in EDGES if not is_fakehub(e.module) and not is_fakehub(e.target)]
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_circle():
    # the check above is only as good as this: a circle through three modules is found
    made = [Import("a", "b", 1, False, False), Import("b", "c", 1, False, False),
            Import("c", "a", 1, True, False), Import("c", "d", 1, False, False)]
    assert cycles(made) == [["a", "b", "c"]]


def test_harvesters_import_only_harvesters_and_the_ground_floor():
    wrong = [f"{e.module} imports {e.target}, line {e.line}" for e in EDGES
             if is_harvester(e.module) and not is_harvester(e.target) and top(e.target) not in GROUND]
    assert wrong == []


def test_analysis_never_imports_a_harvester():
    wrong = [f"{e.module} imports {e.target}, line {e.line}" for e in EDGES
             if top(e.module) in ANALYSIS and is_harvester(e.target)]
    assert wrong == []


def test_fakehub_imports_only_the_ground_floor():
    wrong = [f"{e.module} imports {e.target}, line {e.line}" for e in EDGES
             if is_fakehub(e.module) and not is_fakehub(e.target) and top(e.target) not in GROUND
             and not (e.module == "fakehub.cli" and e.target == "cli")]
    assert wrong == []


def test_only_the_entry_floor_imports_fakehub():
    wrong = [f"{e.module} imports {e.target}, line {e.line}" for e in EDGES
             if is_fakehub(e.target) and not is_fakehub(e.module) and floor_of(e.module) != 0]
    assert wrong == []


def inner_imports() -> list[Import]:
    return [found for found in IMPORTS if found.in_function and not is_fakehub(found.module)
            and top(found.module) not in LAZY_PLACES]


def test_imports_inside_functions_are_for_start_up_and_few():
    inner = inner_imports()
    silent = [f"{found.module}, line {found.line}" for found in inner if not found.commented]
    assert silent == [], "an import inside a function needs a comment saying why (start-up)"
    assert len({(found.module, found.line) for found in inner}) <= MOST_INNER_IMPORTS, inner


@pytest.mark.parametrize("source, inner, commented", [
    ("import os\n", False, False),
    ("def f():\n    import os\n", True, False),
    ("def f():\n    # pandas is slow to import: start-up\n    import pandas\n", True, True),
    ("def f():\n    import numpy  # start-up\n", True, True),
    ("class A:\n    def m(self):\n        from graphminer import store\n", True, False),
], ids=["module level", "in a function", "comment above", "comment on the line", "in a method"])
def test_the_inner_import_reader(tmp_path, monkeypatch, source, inner, commented):
    # the check above reads function bodies and comments as written here
    path = PACKAGE / "_probe_structure.py"
    monkeypatch.setitem(MODULES, "_probe_structure", path)
    monkeypatch.setattr(Path, "read_text", lambda self, *args, **kwargs: source)
    found = imports_of("_probe_structure")
    assert [(item.in_function, item.commented) for item in found] == [(inner, commented)]


# --- one vocabulary: a listing's name from its declaration to the store and the world ----

README = PACKAGE.parent / "README.md"
FIXTURES = PACKAGE.parent / "tests" / "fixtures"


def test_a_listings_name_is_its_table_and_its_world_collection(tmp_path):
    from graphminer.fakehub.world import COLLECTIONS
    from graphminer.harvest.listings import EVERY_LISTING, LISTINGS
    from graphminer.store import open_store

    conn = open_store(tmp_path / "store.sqlite")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert all(listing.table in tables for listing in EVERY_LISTING)
    for name, listing in LISTINGS.items():
        assert listing.table == name
        # pull requests are the world's issues with a pull_request, as on GitHub
        assert name in COLLECTIONS or (name == "pulls" and "issues" in COLLECTIONS), name
    assert all(listing.table in COLLECTIONS for listing in EVERY_LISTING if listing.name != "pulls")


def test_the_readme_lists_every_listing_once_in_reading_order():
    from graphminer.harvest.listings import LISTINGS

    section = README.read_text("utf-8").split("#### What is harvested", 1)[1].split("\n#### ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| `(/[^`]*)`", section, flags=re.MULTILINE)
    assert [name for name, _ in rows] == list(LISTINGS)
    assert [path.split("?")[0] for _, path in rows] == [listing.path for listing in LISTINGS.values()]


def test_world_and_delta_files_of_the_former_names_still_load():
    import json

    from graphminer.fakehub.truth import compute_truth
    from graphminer.fakehub.world import FORMER_NAMES, build_world, parse_delta

    current = json.loads((FIXTURES / "fakehub-small.json").read_text("utf-8"))
    delta = json.loads((FIXTURES / "fakehub-small-delta.json").read_text("utf-8"))
    renamed = {name: former for former, name in FORMER_NAMES.items()}
    assert set(renamed) <= set(current)  # the fixture is written with today's names
    former = {renamed.get(key, key): value for key, value in current.items()}
    former_delta = {**delta, "ops": [{**op, "kind": renamed.get(op["kind"], op["kind"])} for op in delta["ops"]]}
    assert former != current and former_delta != delta
    worlds = []
    for document, ops in ((current, delta), (former, former_delta)):
        world = build_world(json.loads(json.dumps(document)), "world.json")
        world.apply(parse_delta(json.loads(json.dumps(ops)), "delta.json", world))
        worlds.append({repo_id: (data.issue_comments, data.issue_events, data.issues)
                       for repo_id, data in world.repo_data.items()})
    assert worlds[0] == worlds[1] and any(comments for comments, _, _ in worlds[0].values())
    assert compute_truth(former) == compute_truth(current)
