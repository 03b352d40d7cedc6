"""The harvest's config files: the Code for All orgs, computed here independently from
civictechindex's organisation tree in ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import cli_fork
import pytest

from graphminer.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def code_for_all_tree(shared_dir: Path) -> tuple[set[str], set[str]]:
    """(GitHub logins of Code for All's direct members, of its whole subtree), lower-cased."""
    data = json.loads((shared_dir / "data/civic-orgs/civictechindex-organizations.json").read_text())
    parent_of = {org["name"]: org["parent"] for org in data["organizations"]}

    def in_subtree(name: str) -> bool:
        while name in parent_of and parent_of[name]:
            if parent_of[name] == "Code for All":
                return True
            name = parent_of[name]
        return False

    members = {o["github"].lower() for o in data["organizations"]
               if o["github"] and o["parent"] == "Code for All"}
    subtree = {o["github"].lower() for o in data["organizations"]
               if o["github"] and in_subtree(o["name"])}
    return members, subtree


def test_network_config_lists_every_login_of_the_code_for_all_tree(shared_dir):
    members, subtree = code_for_all_tree(shared_dir)
    network = load_config(ROOT / "config/code-for-all-network.toml")["harvest"]["orgs"]
    assert len(network) == len({login.lower() for login in network}) == 168
    assert {login.lower() for login in network} == subtree
    default = load_config(ROOT / "config/graphminer.toml")["harvest"]["orgs"]
    assert {login.lower() for login in default} == members and len(default) == 22
    assert members <= subtree


# --- ranges and sense (issue 12) -------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("[trajectories]\ncore_share = 7.5\n", ["trajectories.core_share", "(0, 1]", "7.5"]),
    ("[trajectories]\ncore_share = nan\n", ["trajectories.core_share", "(0, 1]"]),
    ("[trajectories]\ncore_share = 0\n", ["trajectories.core_share"]),
    ("[trajectories]\ninactive_days = -5\n", ["trajectories.inactive_days", "positive", "-5"]),
    ("[trajectories]\ngone_days = 30\n", ["gone_days", "inactive_days"]),
    ("[trajectories]\ncore_min_landed = 0\n", ["trajectories.core_min_landed", "1 or more"]),
    ("[harvest]\nmax_retries = -1\n", ["harvest.max_retries"]),
    ("[report]\nmakers = -3\n", ["report.makers"]),
    ('[people]\nmailmap = "my-mailmap"\n', ["people.mailmap", "does not exist"]),
    ('[people]\nbots = "my-bots.txt"\n', ["people.bots", "does not exist"]),
])
def test_out_of_range_config_is_one_line_exit_2(tmp_path, text, words):
    config = tmp_path / "graphminer.toml"
    config.write_text(text, "utf-8")
    store = tmp_path / "store.sqlite"
    done = cli_fork.run(["makers", "--config", str(config), "--store", str(store)], timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert not store.exists()  # refused before anything was opened


def test_default_named_files_may_be_absent_and_named_ones_present_are_fine(tmp_path):
    (tmp_path / "team-bots.txt").write_text("ci-robot\n", "utf-8")
    text = '[people]\nmailmap = "mailmap"\nbots = "team-bots.txt"\n[trajectories]\ncore_share = 1\n'
    (tmp_path / "graphminer.toml").write_text(text, "utf-8")
    config = load_config(tmp_path / "graphminer.toml")
    assert config["trajectories"]["core_share"] == 1
    assert config["people"]["bots"] == str(tmp_path / "team-bots.txt")
