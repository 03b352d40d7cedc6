"""The harvest's config files: the Code for All orgs, computed here independently from
civictechindex's organisation tree in ../shared."""

from __future__ import annotations

import json
from pathlib import Path

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
