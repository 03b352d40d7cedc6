"""The [trajectories] section of the config: rules version 2's defaults, every key checked,
and the core thresholds reaching the rule."""

from __future__ import annotations

import pandas as pd
import pytest
from test_events_support import World

from graphminer import milestones as catalogue
from graphminer import timeutil, trajectory
from graphminer.config import SCHEMA, parse_config
from graphminer.errors import BadInput
from graphminer.events import load_events
from graphminer.fakehub.truth import DEFAULT_RULES

# docs/rules.md (the rules' home from version 4), rules version 4
DOCUMENTED = {"inactive_days": 180, "gone_days": 365, "long_term_days": 365, "bridge_days": 365,
              "first_response_hours": 168, "core_share": 0.8, "core_min_landed": 10,
              "core_min_makers": 3, "core_min_own": 12, "core_min_own_share": 0.05,
              "core_min_quarters": 2, "core_max_share": 0.1, "shift_min_actions": 3,
              "organiser_labels": ["good first issue", "help wanted"]}


def test_defaults_are_the_documented_ones_everywhere(tmp_path):
    config = parse_config("", source="test", base_dir=tmp_path)
    limits = trajectory.thresholds(config)
    for key, value in DOCUMENTED.items():
        assert config["trajectories"][key] == value, key
        assert limits[key] == value, key
        assert catalogue.default_thresholds()[key] == value, key
        assert DEFAULT_RULES[key] == value, key  # the ground truth's own copy


@pytest.mark.parametrize("key", sorted(SCHEMA["trajectories"]))
def test_every_key_is_checked(tmp_path, key):
    wrong = '"ten"' if key != "organiser_labels" else "3"
    with pytest.raises(BadInput, match=f"trajectories.{key}"):
        parse_config(f"[trajectories]\n{key} = {wrong}\n", source="test", base_dir=tmp_path)
    with pytest.raises(BadInput, match="core_min_teams"):
        parse_config("[trajectories]\ncore_min_teams = 3\n", source="test", base_dir=tmp_path)


def test_core_thresholds_come_from_the_config(tmp_path):
    # 2021Q1 and Q2: a and b land 4 each a quarter (16 in the year to Q2, 8 each): no core by
    # default (a team needs 3 makers; a core maker 12 of their own). With core_min_makers 2,
    # core_min_own 8 and core_max_share 1, both are core from Q2, each at their first landed
    # commit of Q2; with core_max_share 0.5 instead, one place of two: "1" (the tie goes to
    # the smaller key); with core_min_quarters 3 as well, neither (two quarters only).
    w = World()
    a, b = w.user("a", 1), w.user("b", 2)
    site = w.repo("civic/site")
    for month in ("01", "04"):
        for day, who in enumerate([a, b] * 4, start=1):
            w.commit(site, f"2021-{month}-{day:02d}T00:00:00Z", author=who, committer="github")
    events = load_events(w.store(tmp_path / "s.sqlite"))
    default = trajectory.milestones(events, timeutil.as_of("2022-01-01T00:00:00Z"))
    assert default["core"].isna().all()
    pairs = parse_config("[trajectories]\ncore_min_makers = 2\ncore_min_own = 8\ncore_max_share = 1\n",
                         source="test", base_dir=tmp_path)
    got = trajectory.milestones(events, timeutil.as_of("2022-01-01T00:00:00Z"), config=pairs)
    assert got.loc["1", "core"] == pd.Timestamp("2021-04-01", tz="UTC")
    assert got.loc["2", "core"] == pd.Timestamp("2021-04-02", tz="UTC")
    half = parse_config("[trajectories]\ncore_min_makers = 2\ncore_min_own = 8\ncore_max_share = 0.5\n",
                        source="test", base_dir=tmp_path)
    got = trajectory.milestones(events, timeutil.as_of("2022-01-01T00:00:00Z"), config=half)
    assert got.loc["1", "core"] == pd.Timestamp("2021-04-01", tz="UTC")
    assert pd.isna(got.loc["2", "core"])
    strict = parse_config("[trajectories]\ncore_min_makers = 2\ncore_min_own = 8\ncore_min_quarters = 3\n",
                          source="test", base_dir=tmp_path)
    assert trajectory.milestones(events, timeutil.as_of("2022-01-01T00:00:00Z"), config=strict)["core"].isna().all()


def test_every_copy_of_the_rules_version_agrees():
    from graphminer import precompute
    from graphminer.fakehub import truth

    assert precompute.RULES_VERSION == trajectory.RULES_VERSION == truth.RULES_VERSION == "5"
