"""Identity resolution scored against hand labels of real history (issues 15 and 21).

The ground truth is tests/fixtures/identities-<log>.json (see identity_labels_support):
every author identity of a shared git log (hackforla/website: its first 500), grouped
into persons by hand from the log before the rules it judges were written; pairs marked
unsure are left out of the score. The log is harvested with the real CLI and the answer
read from ``graphminer identities --json``. gambit (Gote & Zingg, MSR 2021), the published
name-disambiguation tool for version control, is scored on the same identities.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from identity_labels_support import (
    HELD_OUT,
    LABELLED,
    fixture_scope,
    gambit_groups,
    labelled_identities,
    labels,
    log_authors,
    maker_of_identity,
    pairwise_counts,
    ratio,
    scores,
)
from test_git_support import run, write_config


def resolved(shared_dir: Path, tmp_path: Path, name: str) -> list[dict]:
    conf = write_config(tmp_path)
    store = str(tmp_path / "store.sqlite")
    log = shared_dir / "data" / "git-logs" / f"{name}.log.gz"
    result = run("harvest-git", str(log), "--store", store, "--config", str(conf))
    assert result.exit_code == 0, result.output
    result = run("identities", "--json", "--include-bots", "--store", store, "--config", str(conf))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("name", LABELLED)
def test_fixture_labels_every_author_identity_once(name: str) -> None:
    fixture = labels(name)
    identities = labelled_identities(fixture)
    expected = {"mysociety+fixmystreet": 112, "hackforla+website": 500}.get(name, len(identities))
    assert len(identities) == len(set(identities)) == expected
    assert all(group["evidence"] for group in fixture["persons"])
    assert "AI helper" in fixture["made"] or name in ("mysociety+fixmystreet", "g0v+g0v.tw",
                                                      "codeforamerica+brigade-information")
    assert {item["a"] for item in fixture["unsure"]} | {item["b"] for item in fixture["unsure"]} <= set(identities)


def test_fixtures_label_every_author_of_their_log(shared_dir: Path) -> None:
    for name in LABELLED:
        fixture = labels(name)
        log = shared_dir / "data" / "git-logs" / f"{name}.log.gz"
        assert set(log_authors(log, fixture_scope(fixture))) == set(labelled_identities(fixture)), name


@pytest.fixture(scope="module")
def answers(shared_dir: Path, tmp_path_factory) -> dict[str, dict]:
    """For each labelled history, the pairwise counts of graphminer's answer (the log
    harvested with the real CLI, ``identities --json``) and of gambit's (run on exactly
    the labelled identities): each made once for the whole module."""
    import warnings

    found = {}
    for name in LABELLED:
        fixture = labels(name)
        graphminer = maker_of_identity(resolved(shared_dir, tmp_path_factory.mktemp(name.replace("+", "-")), name))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The inplace keyword")  # gambit's own pandas call
            gambit = gambit_groups(labelled_identities(fixture))
        found[name] = {"graphminer": pairwise_counts(fixture, graphminer), "gambit": pairwise_counts(fixture, gambit)}
    return found


@pytest.mark.parametrize("name", LABELLED)
def test_each_history_against_gambit(answers: dict, name: str) -> None:
    """Issue 21's acceptance on one labelled history: no wrong join; recall at least 0.80;
    graphminer's precision at least gambit's and its recall higher (equal only where
    gambit's is already 1.000, which cannot be passed). The held-out history is scored the
    same way; its misses are not printed."""
    counts = answers[name]
    (precision, recall), (g_precision, g_recall) = scores(counts["graphminer"]), scores(counts["gambit"])
    right, same, wrong, missed = counts["graphminer"]
    held = " (held out)" if name in HELD_OUT else ""
    print(f"\n{name}{held}: precision {precision:.3f}, recall {recall:.3f} ({right} of {same} pairs); "
          f"gambit {g_precision:.3f}, {g_recall:.3f}")
    for a, b in missed if name not in HELD_OUT else ():
        print(f"  missed: {a}  ~  {b}")
    assert not wrong, f"{name}: joins of two different people: {wrong}"
    assert recall >= 0.80, f"{name}: recall {recall:.3f}"
    assert precision >= g_precision, f"{name}: precision {precision:.3f} below gambit's {g_precision:.3f}"
    assert recall > g_recall or recall == g_recall == 1.0, f"{name}: recall {recall:.3f}, gambit {g_recall:.3f}"


def test_pooled_precision_and_recall_against_gambit(answers: dict) -> None:
    """Pooled over every labelled history: precision >= 0.99 and recall >= 0.90; gambit
    is a real answer, not a stub (it groups identities and makes mistakes of its own)."""
    totals = {"graphminer": [0, 0, 0], "gambit": [0, 0, 0]}
    for counts in answers.values():
        for tool, (right, same, wrong, _) in counts.items():
            totals[tool] = [totals[tool][0] + right, totals[tool][1] + same, totals[tool][2] + len(wrong)]
    pooled = {tool: (ratio(r, r + w), ratio(r, s)) for tool, (r, s, w) in totals.items()}
    print(f"\nall labelled logs: precision {pooled['graphminer'][0]:.3f}, recall {pooled['graphminer'][1]:.3f}; "
          f"gambit {pooled['gambit'][0]:.3f}, {pooled['gambit'][1]:.3f}")
    assert set(answers) == set(LABELLED)
    assert pooled["graphminer"][0] >= 0.99 and pooled["graphminer"][1] >= 0.90
    assert pooled["gambit"][1] > 0.5 and pooled["gambit"][0] < 1.0
