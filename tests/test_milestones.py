"""The catalogue (graphminer.milestones) is the one list of milestones, thresholds and stages:
the rules, the independent truth, the config and the fast path all follow it."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graphminer import milestones as catalogue
from graphminer import store, timeutil, trajectory
from graphminer.config import parse_config
from graphminer.fakehub import truth


def test_truth_lists_the_catalogues_milestones_in_its_order():
    # truth.py keeps its own implementation; only its list of keys is pinned to the catalogue
    assert list(truth.MILESTONES) == list(catalogue.KEYS)


def test_every_milestone_has_exactly_one_rule():
    assert trajectory.unregistered() == (set(), set())
    # and the check notices a catalogue entry without its function
    fewer = {key: rule for key, rule in trajectory.RULES.items() if key != "core"}
    assert trajectory.unregistered(fewer) == ({"core"}, set())


def test_milestone_tables_have_one_column_per_catalogue_key():
    ts = pd.to_datetime(["2020-01-01T00:00:00Z", "2020-03-01T00:00:00Z"], utc=True)
    events = pd.DataFrame({
        "ts": ts, "maker": ["1", "1"], "org": ["o", "o"], "repo": ["o/r", "o/r"],
        "kind": ["issue_opened", "comment"], "target": ["issue:1", "issue:1"],
        "target_author": ["1", "1"], "subkind": ["", ""], "label": [None, None],
        "by_commit": [False, False], "landed": [False, False], "action": [True, True],
        "community": [False, False], "is_bot": [False, False]})
    wide = trajectory.milestones(events, timeutil.as_of("2021-01-01"))
    assert list(wide.columns) == list(catalogue.KEYS)
    assert wide.loc["1", "first_issue"] == ts[0] and wide.loc["1", "first_comment"] == ts[1]


def test_config_defaults_come_from_the_catalogue():
    config = parse_config("", source="test", base_dir=Path("."))
    assert config["trajectories"] == catalogue.default_thresholds()
    assert set(config["trajectories"]) == {entry.key for entry in catalogue.THRESHOLDS}
    # every threshold a milestone names is a known setting
    named = {key for entry in catalogue.MILESTONES for key in entry.thresholds}
    assert named <= set(config["trajectories"])
    # version 2's settings are accepted already
    given = parse_config("[trajectories]\ncore_min_makers = 4\ncore_min_own = 2\n",
                         source="test", base_dir=Path("."))
    assert given["trajectories"]["core_min_makers"] == 4


def test_threshold_defaults_follow_the_rules_version():
    core_min_landed = catalogue.threshold("core_min_landed")
    assert core_min_landed.default_for("1") == 5 and core_min_landed.default_for("2") == 10
    assert catalogue.default_thresholds("2")["core_min_makers"] == 3
    assert catalogue.default_thresholds("2")["core_min_own"] == 3
    assert catalogue.threshold("core_min_own").introduced == "2"
    assert trajectory.thresholds()["core_min_landed"] == core_min_landed.default


def test_every_milestone_has_plain_words_and_a_scope():
    for entry in catalogue.MILESTONES:
        assert entry.label and "_" not in entry.label
        assert entry.scope in (catalogue.EARLIEST, catalogue.WHOLE)
    assert set(catalogue.WHOLE_SCOPE) == {
        "returning", "long_term", "coder_to_organiser", "inactive", "gone", "returned"}


def test_one_rules_version_everywhere():
    from graphminer import precompute, report

    assert trajectory.RULES_VERSION == precompute.RULES_VERSION == catalogue.RULES_VERSION
    assert report.RULES_VERSION == catalogue.RULES_VERSION


def test_the_catalogue_and_the_fast_path_stay_free_of_pandas():
    code = ("import sys, graphminer.milestones, graphminer.timeline, graphminer.config; "
            "print('pandas' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("module", [catalogue, store, timeutil], ids=lambda module: module.__name__)
def test_the_docstring_examples_run(module):
    failures, tried = doctest.testmod(module, report=False)
    assert tried > 0 and failures == 0
