"""pandas at the edges: the columnar tables read back as the frames the rest of graphminer
exchanges (docs/events.md's events table; docs/analysis-api.md's milestones and stages).

Only here do integer codes become maker keys, repository names and target strings again,
once per answer, on the rows the answer holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from graphminer.columnar.build import ORDER_KEY
from graphminer.events import details_json

if TYPE_CHECKING:
    import duckdb
# The events table's columns this module gives (``graphminer.events.COLUMNS`` as ported):
# a column the pandas table gains and this one lacks makes the engine step aside
# (``graphminer.columnar.unsupported``).
PORTED_COLUMNS = (
    "ts", "maker", "org", "repo", "kind", "target", "target_author", "details", "is_bot",
    "action", "landed", "subkind", "label", "by_commit", "via_pr", "pr", "is_merge",
    "direct_push", "committer", "community", "target_is_bot", "own_work", "role_account",
    "landed_by", "imported", "merge_kind",
)
TARGET = "CAST(e.target_type AS VARCHAR) || ':' || coalesce(e.sha, CAST(e.target_num AS VARCHAR))"


def stamps(seconds: pd.Series) -> pd.Series:
    """Epoch seconds as ``datetime64[ns, UTC]``."""
    return pd.to_datetime(seconds.astype("int64"), unit="s", utc=True).dt.as_unit("ns")


def events_frame(con: duckdb.DuckDBPyConnection, until: int | None = None) -> pd.DataFrame:
    """The events table (``graphminer.events.load_events``'s frame, rows in its order), up to
    ``until`` (epoch seconds) when given."""
    where = "" if until is None else f"WHERE e.t <= {int(until)}"
    frame = con.execute(f"""
        SELECT e.t, mk.key AS maker, r.org, r.full_name AS repo, CAST(e.kind AS VARCHAR) AS kind,
               {TARGET} AS target, ta.key AS target_author, mk.is_bot, e.action, e.landed,
               e.subkind, e.label, e.by_commit, e.via_pr, e.pr, e.is_merge, e.direct_push,
               cm.key AS committer, e.community, coalesce(ta.is_bot, FALSE) AS target_is_bot,
               'commit:' || e.landed_by AS landed_by, e.imported, e.merge_kind, e.own_work,
               mk.role_account
        FROM events e
        JOIN makers mk ON mk.code = e.maker
        JOIN repos r ON r.repo_id = e.repo_id
        LEFT JOIN makers ta ON ta.code = e.target_author
        LEFT JOIN makers cm ON cm.code = e.committer
        {where}
        ORDER BY {', '.join('e.' + key.strip() for key in ORDER_KEY.split(','))}""").df()
    frame.insert(0, "ts", stamps(frame.pop("t")))
    for column in ("maker", "org", "repo", "kind", "target", "target_author", "subkind", "label",
                   "committer", "landed_by", "merge_kind"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    frame["pr"] = frame["pr"].astype("int64")
    frame["details"] = details_json(frame)
    return frame[list(PORTED_COLUMNS)]
