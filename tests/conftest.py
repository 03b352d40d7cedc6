"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "tests" / "fixtures"


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


@pytest.fixture(scope="module")
def world_files(tmp_path_factory) -> dict[str, Path]:
    """The hand-made harvest world (tests/test_harvest_world.py), its delta, and the world
    after it, as files."""
    from test_harvest_world import apply_delta, build_delta, build_world, write

    folder = tmp_path_factory.mktemp("world")
    world = build_world()
    delta = build_delta(world)
    return {"world": write(world, folder / "world.json"), "delta": write(delta, folder / "delta-1.json"),
            "changed": write(apply_delta(world, delta), folder / "changed.json")}


@pytest.fixture(scope="module")
def reference(world_files, tmp_path_factory) -> Path:
    """An uninterrupted, fault-free harvest of the base world: fakehub's defaults, one token
    (the store every harvest test compares with)."""
    from test_harvest import harvest

    from graphminer.fakehub.testing import serve

    folder = tmp_path_factory.mktemp("reference")
    with serve(world_files["world"]) as hub:
        harvest(hub.url, folder)
    return folder / "store.sqlite"
