"""Fixtures shared by the whole suite.

Cheap by design (the suite's budget is 8 minutes on 2 idle cores): a fakehub process costs a
spawn, and its first GraphQL request about a second more, so a world only read is served once
(``world_hub`` once per worker; a module's own ``@pytest.fixture(scope="module")`` around
``graphminer.fakehub.testing.serve`` elsewhere), and the harvest everything is compared with is
made once per worker (``reference``). Helpers to run the CLI and check its one-line errors and the files
it must not touch are in ``tests/harvest_support.py``.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# No property test passes or fails by wall-clock luck: hypothesis's default deadline (200 ms
# an example) fails the first example of a test on a loaded machine. Tests that set their
# own settings keep them.
settings.register_profile("graphminer", deadline=None)
settings.load_profile("graphminer")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def ctrl_c_raises():
    """Ctrl-C (SIGINT) raises KeyboardInterrupt in this process, as on a terminal, for the
    tests that send it to themselves: a run that a shell without job control put in the
    background (``make test &`` in a script) inherits SIGINT ignored, and Python then leaves
    it ignored, so those tests waited for minutes on statements nothing interrupted
    (``tests/test_interrupt.py``'s ``default_sigint`` does the same for a child process)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ../shared folder beside the checkout; skip when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): real civic tech data is only there")
    return SHARED


@pytest.fixture(scope="session")
def git_log_store(shared_dir, tmp_path_factory):
    """name -> a store of that shared git log harvested git-only (``graphminer harvest-git
    LOG`` with a config of its own), made once per session whichever test asks first."""
    from test_git_support import run, write_config

    made: dict[str, Path] = {}

    def store(name: str) -> Path:
        if name not in made:
            folder = tmp_path_factory.mktemp(name.replace("+", "-"))
            conf = write_config(folder)
            log = shared_dir / "data" / "git-logs" / f"{name}.log.gz"
            result = run("harvest-git", str(log), "--store", str(folder / "store.sqlite"),
                         "--config", str(conf))
            assert result.exit_code == 0, result.output
            made[name] = folder / "store.sqlite"
        return made[name]

    return store


@pytest.fixture(scope="session")
def world_files(tmp_path_factory) -> dict[str, Path]:
    """The hand-made harvest world (tests/test_harvest_world.py), its delta, and the world
    after it, as files (read-only: a test that changes a world writes its own copy)."""
    from test_harvest_world import apply_delta, build_delta, build_world, write

    folder = tmp_path_factory.mktemp("world")
    world = build_world()
    delta = build_delta(world)
    return {"world": write(world, folder / "world.json"), "delta": write(delta, folder / "delta-1.json"),
            "changed": write(apply_delta(world, delta), folder / "changed.json")}


@pytest.fixture(scope="session")
def world_hub(world_files):
    """One fakehub process serving the hand-made world with fakehub's defaults, for the
    whole session (its first GraphQL request builds GitHub's schema, about a second: once).

    Shared, so: never apply a delta to it, move its clock or rely on a fresh rate window;
    give each harvest its own folder (its own store and HTTP cache) and read the log from
    ``start = len(hub.log_lines())`` on. A test that changes the world, or needs other
    flags, starts its own ``serve(...)``."""
    from graphminer.fakehub.testing import serve

    with serve(world_files["world"]) as hub:
        yield hub


@pytest.fixture(scope="session")
def reference(world_hub, tmp_path_factory) -> Path:
    """An uninterrupted, fault-free harvest of the base world: fakehub's defaults, one token
    (the store every harvest test compares with). Built once per worker (session scope): read
    it, copy it, never write into it."""
    from test_harvest import harvest

    folder = tmp_path_factory.mktemp("reference")
    harvest(world_hub.url, folder)
    return folder / "store.sqlite"


# The groups that take longest, longest first (seconds of one idle run, `pytest -n 2 --dist
# loadgroup --durations=0`: test_harvest 166, test_harvest_edges 157, ...). `make test`
# passes --no-loadscope-reorder, so pytest-xdist hands groups out in this order instead of by
# their number of tests: a long group of few tests (test_trajectory_acceptance, 5 tests) no
# longer runs alone at the end while the other workers wait.
LONGEST_FIRST = (
    "test_harvest", "test_harvest_edges", "test_harvest_graphql", "test_trajectory_acceptance", "git-logs",
    "test_follow", "test_nothing_lost", "test_harvest_quiet", "test_fakehub_graphql",
    "test_export_cli", "test_careers_acceptance", "test_fakehub_limits", "test_fakehub_edges",
    "test_fakehub_server", "test_archive_edges", "test_harvest_progress", "test_demo",
)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the marks
def pytest_collection_modifyitems(config, items) -> None:
    """`make test` runs pytest-xdist workers (`-n 3 --dist loadgroup`): each module goes
    whole to one worker, so that its module-scoped fixtures (a shared fakehub, a harvested
    store) are made once; the modules reading conftest's stores of the shared git logs
    (``git_log_store``) go to one worker, so that each log is harvested once. The modules of
    the session's hand-made world (``world_hub``, ``reference``) are not kept together: its
    reference harvest is a few seconds, made once on each worker that needs it, while the
    three modules together ran about 6 minutes on one worker. A plain ``pytest`` (no ``-n``)
    ignores the marks."""
    logs = {item.module.__name__ for item in items if "git_log_store" in getattr(item, "fixturenames", ())}
    def group(item: pytest.Item) -> str:
        return "git-logs" if item.module.__name__ in logs else item.module.__name__

    for item in items:
        item.add_marker(pytest.mark.xdist_group(group(item)))
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(group(item), len(rank)))  # stable: each group keeps its order


def pytest_unconfigure(config) -> None:
    """Stop the fork server the CLI runs of this process came from (tests/cli_fork.py)."""
    if "cli_fork" in sys.modules:
        sys.modules["cli_fork"].stop()
