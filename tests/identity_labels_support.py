"""Hand labels of real histories' identities, and the pairwise score of an answer against
them (issues 15 and 21). Shared by tests/test_identity_labels.py and
bench/bench_identities.py.

A fixture tests/fixtures/identities-<log>.json groups every author identity of a shared
git log (or, with ``scope``, the log's first N distinct Author lines) into persons by hand,
with the evidence for each group and the pairs left unsure (not scored). An answer is any
grouping of those identities: graphminer's makers, or gambit's author ids.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from itertools import combinations
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
# the histories the rules were developed on (fixmystreet labelled before issue 15's rules,
# g0v and brigade-information after them, openstates-core and cfapi before issue 21's)
DEVELOPED_ON = [
    "mysociety+fixmystreet", "g0v+g0v.tw", "codeforamerica+brigade-information",
    "openstates+openstates-core", "codeforamerica+cfapi",
]
# labelled before issue 21's rules and kept out of their development: its misses were
# not read until the rules were final (the unseen check)
HELD_OUT = ["hackforla+website"]
LABELLED = DEVELOPED_ON + HELD_OUT


def labels(name: str) -> dict:
    return json.loads((FIXTURES / f"identities-{name}.json").read_text("utf-8"))


def labelled_identities(fixture: dict) -> list[str]:
    return [identity for group in fixture["persons"] for identity in group["identities"]]


def log_authors(log: Path, scope: int | None = None) -> list[str]:
    """The distinct Author lines of a saved log in the order they first appear (the
    first ``scope`` of them when given)."""
    text = gzip.decompress(log.read_bytes()).decode("utf-8")
    order = list(dict.fromkeys(line.strip() for line in re.findall(r"^Author:(.*)$", text, re.MULTILINE)))
    return order[:scope] if scope else order


def fixture_scope(fixture: dict) -> int | None:
    """How many first Author lines a fixture labels (None: all of them)."""
    return len(labelled_identities(fixture)) if "scope" in fixture else None


def split_identity(identity: str) -> tuple[str, str]:
    """('Name', 'email') of a git identity 'Name <email>'."""
    name, _, email = identity.rpartition(" <")
    return name, email[:-1]


def maker_of_identity(makers: list[dict]) -> dict[str, str]:
    """Each git identity 'Name <email>' of ``identities --json`` -> its maker key."""
    return {item["identity"]: maker["key"] for maker in makers for item in maker["identities"]
            if item["kind"] == "git"}


def pairwise_counts(fixture: dict, group_of: dict[str, object]) -> tuple[int, int, list, list]:
    """(pairs rightly joined, pairs of one person, wrong joins, missed joins) over the
    fixture's identity pairs, unsure pairs left out; ``group_of`` maps each identity to
    the group an answer put it in."""
    person = {identity: group["person"] for group in fixture["persons"] for identity in group["identities"]}
    unsure = {frozenset((item["a"], item["b"])) for item in fixture["unsure"]}
    wrong, missed, joined_right, same = [], [], 0, 0
    for a, b in combinations(sorted(person), 2):
        if frozenset((a, b)) in unsure:
            continue
        labelled, joined = person[a] == person[b], group_of[a] == group_of[b]
        same += labelled
        joined_right += labelled and joined
        if joined and not labelled:
            wrong.append((a, b))
        if labelled and not joined:
            missed.append((a, b))
    return joined_right, same, wrong, missed


def ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def scores(counts: tuple[int, int, list, list]) -> tuple[float, float]:
    """(precision, recall) of pairwise counts."""
    right, same, wrong, _ = counts
    return ratio(right, right + len(wrong)), ratio(right, same)


def gambit_groups(identities: list[str]) -> dict[str, int]:
    """gambit's author id for each identity (its default method and thresholds), run on
    exactly the labelled identities."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    import pandas as pd
    from gambit import disambiguate_aliases

    frame = pd.DataFrame([split_identity(identity) for identity in identities],
                         columns=["alias_name", "alias_email"])
    answer = disambiguate_aliases(frame)
    return {identity: int(author) for identity, author in zip(identities, answer["author_id"], strict=True)}
