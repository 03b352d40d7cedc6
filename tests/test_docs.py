"""docs/rules.md travels with the catalogue (as sqlite-utils' test_docs.py keeps its docs
with its code): every milestone, threshold and stage of graphminer.milestones is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphminer import milestones as catalogue

RULES = (Path(__file__).resolve().parent.parent / "docs" / "rules.md").read_text("utf-8")


def table_rows(heading: str) -> dict[str, str]:
    """First cell (a `key`) -> the rest of the row, for the table under ``## heading``."""
    section = RULES.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \|(.*)\|$", section, flags=re.MULTILINE)
    return dict(rows)


def written(value) -> str:
    if isinstance(value, list):
        return ", ".join(f'"{item}"' for item in value)
    return str(value)


@pytest.mark.parametrize("key", catalogue.KEYS)
def test_every_milestone_has_its_row(key):
    assert key in table_rows("Milestones"), f"docs/rules.md has no row for milestone {key}"


def test_milestone_rows_are_in_the_catalogues_order():
    assert list(table_rows("Milestones")) == list(catalogue.KEYS)


@pytest.mark.parametrize("entry", catalogue.THRESHOLDS, ids=lambda entry: entry.key)
def test_every_threshold_has_its_row_with_its_default(entry):
    rows = table_rows("Thresholds")
    assert entry.key in rows, f"docs/rules.md has no row for [trajectories] {entry.key}"
    default_cell = rows[entry.key].split("|")[0].strip()
    assert default_cell.startswith(written(entry.default)), (entry.key, default_cell)


def test_thresholds_a_milestone_reads_are_named_in_the_text():
    for entry in catalogue.MILESTONES:
        for key in entry.thresholds:
            assert f"`{key}`" in RULES


def test_stages_and_version_are_stated():
    assert " < ".join(catalogue.STAGES) in RULES
    assert RULES.startswith(f"# The trajectory rules (rules version {catalogue.RULES_VERSION})")


def test_code_cites_the_rules_in_the_repository():
    root = Path(__file__).resolve().parent.parent / "graphminer"
    citing = [path.name for path in root.rglob("*.py") if "TRAJECTORIES.md" in path.read_text("utf-8")]
    assert citing == []


README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def test_every_command_is_in_the_readmes_command_docs():
    """Each command has a section headed with its name under README's "## Commands" (the
    demo is README's "## Two commands")."""
    from graphminer.cli import COMMANDS

    def section(title: str) -> str:
        return README.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]

    headings = re.findall(r"^###+ (.*)$", section("Commands"), flags=re.MULTILINE)
    documented = {name for line in headings for name in re.findall(r"`graphminer ([a-z-]+)`", line)}
    documented |= set(re.findall(r"`graphminer ([a-z-]+)", section("Two commands")))
    assert set(COMMANDS) - documented == set(), "commands without a section in README's command docs"
