"""Identity resolution scored against hand labels of real history (issue 15).

The ground truth is tests/fixtures/identities-<log>.json: every author identity of a
shared git log, grouped into persons by hand (with the evidence for each group) before
the rules were written; pairs marked unsure are left out of the score. The log is
harvested with the real CLI and the answer read from ``graphminer identities --json``.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest
from test_git_support import run, write_config

FIXTURES = Path(__file__).parent / "fixtures"
LABELLED = ["mysociety+fixmystreet"]


def labels(name: str) -> dict:
    return json.loads((FIXTURES / f"identities-{name}.json").read_text("utf-8"))


def maker_of_identity(makers: list[dict]) -> dict[str, str]:
    """Each git identity 'Name <email>' of ``identities --json`` -> its maker key."""
    return {item["identity"]: maker["key"] for maker in makers for item in maker["identities"]
            if item["kind"] == "git"}


def pairwise_score(fixture: dict, makers: list[dict]) -> tuple[float, float, list, list]:
    """(precision, recall, wrong joins, missed joins) over the fixture's identity pairs."""
    person = {identity: group["person"] for group in fixture["persons"] for identity in group["identities"]}
    unsure = {frozenset((item["a"], item["b"])) for item in fixture["unsure"]}
    maker = maker_of_identity(makers)
    wrong, missed, joined_right, same = [], [], 0, 0
    for a, b in combinations(sorted(person), 2):
        if frozenset((a, b)) in unsure:
            continue
        labelled, joined = person[a] == person[b], maker[a] == maker[b]
        same += labelled
        joined_right += labelled and joined
        if joined and not labelled:
            wrong.append((a, b))
        if labelled and not joined:
            missed.append((a, b))
    precision = joined_right / (joined_right + len(wrong)) if joined_right + len(wrong) else 1.0
    recall = joined_right / same if same else 1.0
    return precision, recall, wrong, missed


def resolved(shared_dir: Path, tmp_path: Path, name: str) -> list[dict]:
    conf = write_config(tmp_path)
    store = str(tmp_path / "store.sqlite")
    log = shared_dir / "data" / "git-logs" / f"{name}.log.gz"
    result = run("harvest-git", str(log), "--store", store, "--config", str(conf))
    assert result.exit_code == 0, result.output
    result = run("identities", "--json", "--include-bots", "--store", store, "--config", str(conf))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_fixture_labels_every_author_identity_once() -> None:
    fixture = labels("mysociety+fixmystreet")
    identities = [identity for group in fixture["persons"] for identity in group["identities"]]
    assert len(identities) == len(set(identities)) == 112
    assert all(group["evidence"] for group in fixture["persons"])
    assert {item["a"] for item in fixture["unsure"]} | {item["b"] for item in fixture["unsure"]} <= set(identities)


@pytest.mark.parametrize("name", LABELLED)
def test_pairwise_precision_and_recall(name: str, shared_dir: Path, tmp_path: Path) -> None:
    fixture = labels(name)
    precision, recall, wrong, missed = pairwise_score(fixture, resolved(shared_dir, tmp_path, name))
    print(f"\n{name}: pairwise precision {precision:.3f}, recall {recall:.3f}")
    for a, b in missed:
        print(f"  missed: {a}  ~  {b}")
    assert not wrong, f"joins of two different people: {wrong}"
    assert precision >= 0.99
    assert recall >= 0.85, f"recall {recall:.3f}; missed {missed}"
