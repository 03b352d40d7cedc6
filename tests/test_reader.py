"""graphminer.reader: whose act a trigger was, when the rules do not say it themselves."""

from __future__ import annotations

import pandas as pd

from graphminer.reader import whose_acts


def test_whose_acts_names_the_maker_of_the_triggering_event():
    ts = pd.to_datetime(["2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z", "2020-02-01T00:00:00Z"],
                        utc=True)
    events = pd.DataFrame({
        "ts": ts, "maker": ["ann", "bob", "cid"], "repo": ["o/r"] * 3,
        "kind": pd.Categorical(["issue_opened", "comment", "comment"]),
        "target": ["issue:1", "issue:1", "issue:1"]})
    triggers = pd.DataFrame({
        "maker": ["ann", "ann", "cid", "ann"],
        "milestone": ["creator", "organiser", "first_comment", "gone"],
        "at": ts[[0, 1, 2, 0]], "kind": ["issue_opened", "comment", "comment", "release"],
        "target": ["issue:1", "issue:1", "issue:1", "release:9"], "ts": ts[[0, 1, 2, 0]],
        "trigger_repo": ["o/r"] * 4})
    found = whose_acts(triggers, events)
    # her own act; bob's comment made ann an organiser (two acted that second: not ann, so
    # the first of them); cid's own comment, though bob commented in the same second;
    # an act no event holds names nobody
    assert found["by"].tolist()[:3] == ["ann", "bob", "cid"]
    assert pd.isna(found["by"].iloc[3])
    assert found.drop(columns="by").equals(triggers)
