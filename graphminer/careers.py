"""Careers: reads what following stored (migration 0009) as the makers' outside acts, and
answers ``graphminer careers``: where the makers went.

Outside acts are one row per merged PR elsewhere (``act`` "merged") and per repo of the
maker's own (``act`` "founded", with ``others``: another non-bot account contributed),
keyed by maker, with the destination's owner and its kind, classified now by
``graphminer.destinations`` (so a changed ``[careers]`` list applies without a new
follow). Harvested owners and opted-out makers are left out. The rules that date the
five career milestones from them are ``graphminer.trajectory``'s.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from graphminer.reader import table_exists

if TYPE_CHECKING:
    import pandas as pd

OUTSIDE_COLUMNS = ["maker", "act", "owner", "owner_kind", "repo", "at", "others", "fork"]


def harvested_owners(conn: sqlite3.Connection, config: Any) -> list[str]:
    """The config's orgs and the orgs in the store: not "elsewhere"."""
    stored = [row[0] for row in conn.execute("SELECT login FROM orgs")] if table_exists(conn, "orgs") else []
    return [*(config["harvest"]["orgs"] if config is not None else []), *stored]


def outside_acts(conn: sqlite3.Connection, config: Any) -> pd.DataFrame:
    """The outside acts of the followed makers (empty before any follow)."""
    import pandas as pd

    from graphminer.destinations import Classifier, classifier_for

    empty = pd.DataFrame({column: pd.Series(dtype=object) for column in OUTSIDE_COLUMNS})
    empty["at"] = pd.Series(dtype="datetime64[ns, UTC]")
    if not table_exists(conn, "follow_prs") or not table_exists(conn, "makers"):
        return empty
    keys = dict(conn.execute("SELECT user_id, key FROM makers WHERE user_id IS NOT NULL").fetchall())
    rows = [(keys.get(user_id), "merged", owner, name, merged_at, None, 0) for user_id, owner, name, merged_at in
            conn.execute("SELECT user_id, owner_login, repo_full_name, merged_at FROM follow_prs "
                         "WHERE merged = 1 AND merged_at IS NOT NULL")]
    rows += [(keys.get(user_id), "founded", owner, name, created, others, fork) for user_id, owner, name, created,
             others, fork in conn.execute("SELECT user_id, owner_login, repo_full_name, created_at, "
                                          "others, fork FROM follow_repos")]
    if not rows:
        return empty
    frame = pd.DataFrame(rows, columns=["maker", "act", "owner", "repo", "at", "others", "fork"])
    frame = frame[frame["maker"].notna()]
    if config is not None and config.opt_out:
        from graphminer.harvest.follow import opted_out_keys

        frame = frame[~frame["maker"].isin(opted_out_keys(conn, config.opt_out))]
    classify = classifier_for(config, harvested_owners(conn, config)) if config is not None else \
        Classifier.of(harvested_owners(conn, config))
    frame["owner_kind"] = [classify.kind(owner) for owner in frame["owner"]]
    frame = frame[frame["owner_kind"] != "harvested"]
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.as_unit("ns")
    frame["maker"] = frame["maker"].astype(str)
    return frame[OUTSIDE_COLUMNS].reset_index(drop=True)
