"""Evidence beside the milestones (trajectories stage): dated facts that check a rule and
never date a milestone.

GitHub's ``author_association`` at the time of an issue, PR, comment or review (MEMBER,
COLLABORATOR, OWNER), as GH Archive shows it from 2017 to 2025-10-07 (GitHub added the
field in 2017 and trimmed it from the event payloads on 2025-10-07);
``graphminer.harvest.archive`` stores it in ``archive_associations``. ``collaborator_since``
is when GitHub first listed a maker so in the network's (or an org's) repos, shown beside
the maintainer milestone the rules date from acts; ``listed_against_maintainer`` counts how
many maintainers GitHub listed before, on or after their maintainer date.
"""

from __future__ import annotations

import sqlite3
from typing import Any

LISTED = ("MEMBER", "COLLABORATOR", "OWNER")


def collaborator_since(conn: sqlite3.Connection, as_of: str, org: str | None = None,
                       key: str | None = None) -> dict[str, str]:
    """Maker key -> the first time (at or before ``as_of``) GitHub listed them as MEMBER,
    COLLABORATOR or OWNER on a network repo (of ``org`` only, when given); only ``key``'s
    when given. Empty for a store without the archive's evidence."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'archive_associations'"
                    ).fetchone() is None:
        return {}
    query = ("SELECT i.maker_key, min(a.at) FROM archive_associations a "
             "JOIN maker_identities i ON i.kind = 'account' AND i.user_id = a.user_id "
             "JOIN repos r ON r.id = a.repo_id "
             f"WHERE a.association IN ({', '.join('?' * len(LISTED))}) AND a.at <= ?")
    params: list[Any] = [*LISTED, as_of]
    if org is not None:
        query += " AND lower(r.owner) = lower(?)"
        params.append(org)
    if key is not None:
        query += " AND i.maker_key = ?"
        params.append(key)
    return dict(conn.execute(query + " GROUP BY i.maker_key", params).fetchall())


def maker_evidence(conn: sqlite3.Connection, key: str, as_of: str, org: str | None = None) -> dict[str, str | None]:
    """The evidence beside one maker's milestones: ``{"collaborator_since": date | None}``."""
    return {"collaborator_since": collaborator_since(conn, as_of, org, key).get(key)}


def listed_against_maintainer(maintainer_at: dict[str, str], listed: dict[str, str]) -> dict[str, int]:
    """How many maintainers (key -> maintainer date) GitHub listed as collaborators
    (key -> first listed) before, on (the same UTC day) or after their maintainer date, or
    not at all.

    >>> listed_against_maintainer({"1": "2019-05-02T10:00:00Z", "2": "2019-05-02T10:00:00Z", "3": "2020-01-01T00:00:00Z",
    ...                            "4": "2021-01-01T00:00:00Z"},
    ...                           {"1": "2018-01-01T00:00:00Z", "2": "2019-05-02T23:00:00Z", "3": "2020-06-01T00:00:00Z",
    ...                            "5": "2017-01-01T00:00:00Z"})
    {'maintainers': 4, 'listed_before': 1, 'listed_on': 1, 'listed_after': 1, 'not_listed': 1}
    """
    counts = {"maintainers": len(maintainer_at), "listed_before": 0, "listed_on": 0, "listed_after": 0,
              "not_listed": 0}
    for key, at in maintainer_at.items():
        since = listed.get(key)
        if since is None:
            counts["not_listed"] += 1
        elif since[:10] < at[:10]:
            counts["listed_before"] += 1
        elif since[:10] == at[:10]:
            counts["listed_on"] += 1
        else:
            counts["listed_after"] += 1
    return counts


def render_listed(counts: dict[str, int]) -> str:
    """The stats line for ``listed_against_maintainer``'s counts."""
    return ("Maintainers GitHub listed as collaborators (MEMBER, COLLABORATOR or OWNER in GH Archive's events): "
            f"{counts['listed_before']} before their maintainer date, {counts['listed_on']} on it, "
            f"{counts['listed_after']} after, {counts['not_listed']} not listed, of {counts['maintainers']}")
