"""Careers: reads what following stored (migration 0007) as the makers' outside acts, and
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
from typing import Any

import numpy as np
import pandas as pd

from graphminer.destinations import Classifier, classifier_for
from graphminer.errors import BadInput
from graphminer.identity import opted_out_keys
from graphminer.milestones import CAREER_KEYS, RULES_VERSION
from graphminer.stats import durations_to, km_median
from graphminer.store import table_exists
from graphminer.timeutil import format_instant

OUTSIDE_COLUMNS = ["maker", "act", "owner", "owner_kind", "repo", "at", "others", "fork"]


def harvested_owners(conn: sqlite3.Connection, config: Any) -> list[str]:
    """The config's orgs and the orgs in the store: not "elsewhere"."""
    stored = [row[0] for row in conn.execute("SELECT login FROM orgs")] if table_exists(conn, "orgs") else []
    return [*(config["harvest"]["orgs"] if config is not None else []), *stored]


def outside_acts(conn: sqlite3.Connection, config: Any) -> pd.DataFrame:
    """The outside acts of the followed makers (empty before any follow)."""
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
        frame = frame[~frame["maker"].isin(opted_out_keys(conn, config.opt_out))]
    classify = classifier_for(config, harvested_owners(conn, config)) if config is not None else \
        Classifier.of(harvested_owners(conn, config))
    frame["owner_kind"] = [classify.kind(owner) for owner in frame["owner"]]
    frame = frame[frame["owner_kind"] != "harvested"]
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.as_unit("ns")
    frame["maker"] = frame["maker"].astype(str)
    return frame[OUTSIDE_COLUMNS].reset_index(drop=True)


# --- graphminer careers ----------------------------------------------------------------------

DESTINATION_WORDS = {
    "landed_elsewhere": "had work merged beyond the harvested organisations",
    "civic_elsewhere": "had work merged by another civic tech group",
    "government": "had work merged in government repositories",
    "founder": "founded a project of their own that others contributed to",
    "moved_on": "had work merged elsewhere after leaving the network",
}


def careers_summary(reader: Any, org: str | None = None, as_of: pd.Timestamp | None = None) -> dict[str, Any]:
    """Where the makers went: per career milestone, makers reaching it among those whose
    first contribution landed (in ``org``, or anywhere in the network), by cohort year of
    first contact, with the median and Kaplan-Meier median time from first_landed."""
    moment = reader.moment(as_of)
    network = reader.milestones("network", moment)
    if org:
        org = org.strip().lower()
        by_org = reader.milestones("org", moment)
        if org not in set(by_org.index.get_level_values("org")):
            known = ", ".join(reader.orgs) or "none yet (harvest first)"
            raise BadInput(f"no makers in org {org!r}: known orgs are {known}")
        scoped = by_org.xs(org, level="org")
    else:
        scoped = network
    landed = scoped[scoped["first_landed"].notna() & (scoped["first_landed"] <= moment)]
    frame = pd.DataFrame({"first_landed": landed["first_landed"], "first_contact": landed["first_contact"]})
    for key in CAREER_KEYS:
        frame[key] = network[key].reindex(frame.index)
    followed = followed_makers(reader.conn)
    rows = []
    for key in CAREER_KEYS:
        timed = durations_to(frame, "first_landed", key, moment)
        reached = timed[timed["observed"]]
        cohorts: dict[str, list[int]] = {}
        years = frame["first_contact"].dt.year
        for year in sorted(years.dropna().unique()):
            members = frame.index[years == year]
            cohorts[str(int(year))] = [len(members), int(timed["observed"].reindex(members).sum())]
        km = km_median(timed["days"].to_numpy(), timed["observed"].to_numpy()) if len(timed) else None
        rows.append({
            "milestone": key, "words": DESTINATION_WORDS[key], "makers": len(timed),
            "reached": len(reached),
            "median_years": round(float(np.median(reached["days"])) / 365.25, 1) if len(reached) else None,
            "km_median_years": round(km / 365.25, 1) if km is not None else None,
            "cohorts": cohorts,
        })
    contact = network["first_contact"].reindex(frame.index)
    return {"rules_version": RULES_VERSION, "as_of": format_instant(moment), "org": org,
            "landed": len(frame), "followed": len(set(frame.index) & followed), "destinations": rows,
            "owners": owners_reached(reader.outside, contact, frame["first_contact"], moment)}


def owners_reached(outside: pd.DataFrame, contact: pd.Series, cohort_start: pd.Series,
                   moment: Any) -> list[dict[str, Any]]:
    """Government, research and civic owners by name: per owner, the people (among those of
    ``contact``, their network first contact) who had work merged there after first taking
    part, by ``as_of``, as the career milestones count it; the changes merged; and the people
    by cohort year (the year of ``cohort_start``). Other owners, people's own accounts among
    them, are never named. Government first, then research, civic; most people first."""
    if outside is None or outside.empty or contact.empty:
        return []
    merged = outside[(outside["act"] == "merged") & outside["owner_kind"].isin(NAMED_KINDS)
                     & outside["maker"].isin(contact.index) & (outside["at"] <= moment)]
    merged = merged[merged["at"] > contact.reindex(merged["maker"]).to_numpy()]
    rows = []
    for (kind, owner), group in merged.groupby(["owner_kind", "owner"], sort=False):
        years = cohort_start.reindex(group["maker"].unique()).dt.year.dropna().astype(int)
        rows.append({"owner": owner, "kind": kind, "people": int(group["maker"].nunique()),
                     "changes": len(group),
                     "cohorts": {str(year): int(n) for year, n in sorted(years.value_counts().items())}})
    rank = {kind: number for number, kind in enumerate(NAMED_KINDS)}
    return sorted(rows, key=lambda row: (rank[row["kind"]], -row["people"], row["owner"].lower()))


def followed_makers(conn: sqlite3.Connection) -> set[str]:
    """Keys of the makers following has reached, through the API (``follow_makers``) or
    in GH Archive (``archive_followed``, written by ``harvest-archive`` for the same makers)."""
    tables = [name for name in ("follow_makers", "archive_followed") if table_exists(conn, name)]
    if not tables:
        return set()
    followed = " UNION ".join(f"SELECT user_id FROM {name}" for name in tables)
    return {str(key) for (key,) in conn.execute(
        f"SELECT m.key FROM ({followed}) f JOIN makers m ON m.user_id = f.user_id")}  # noqa: S608


def render_careers(summary: dict[str, Any]) -> str:
    """The careers table and a plain sentence per destination."""
    where = f"at {summary['org']}" if summary["org"] else "in the network"
    lines = [f"Where did they go? rules v{summary['rules_version']}, as of {summary['as_of']}",
             f"{summary['landed']} people had a first contribution land {where}; "
             f"{summary['followed']} of them were followed beyond the harvested organisations.", ""]
    years = sorted({year for row in summary["destinations"] for year in row["cohorts"]})
    header = f"{'destination':<18}{'reached':>8}{'median y':>10}{'KM median':>11}  " + \
        " ".join(f"{year:>9}" for year in years)
    lines.append(header)
    for row in summary["destinations"]:
        cells = " ".join(f"{row['cohorts'][year][1]:>4}/{row['cohorts'][year][0]:<4}" if year in row["cohorts"]
                         else f"{'':>9}" for year in years)
        lines.append(f"{row['milestone']:<18}{row['reached']:>8}{_years(row['median_years']):>10}"
                     f"{_years(row['km_median_years']):>11}  {cells}")
    lines += ["", "(cohorts: reached/makers by year of first contact; KM median: Kaplan-Meier, "
              "counting those not there yet; '-': fewer than half got there)", ""]
    for row in summary["destinations"]:
        lines.append(sentence(summary, row))
    lines += ["", *owner_lines(summary.get("owners", []))]
    return "\n".join(lines)


def owner_lines(owners: list[dict[str, Any]]) -> list[str]:
    """The named destinations, one line each ("government  pdxgis  3 people, 4 changes merged")."""
    if not owners:
        return ["No one had work merged in a government, research or civic tech repository "
                "outside the network."]
    lines = ["Where, by name (government, research and civic owners; people's own accounts and "
             "other owners are never named):"]
    for row in owners:
        people = f"{row['people']} {'person' if row['people'] == 1 else 'people'}"
        changes = f"{row['changes']} change{'' if row['changes'] == 1 else 's'} merged"
        lines.append(f"  {row['kind']:<11} {row['owner']:<28} {people}, {changes}")
    return lines


def sentence(summary: dict[str, Any], row: dict[str, Any]) -> str:
    """One destination in plain words."""
    where = f"at {summary['org']}" if summary["org"] else "in the network"
    text = (f"Of the {summary['landed']} people whose first contribution landed {where}, "
            f"{row['reached']} later {row['words']}")
    if row["reached"]:
        text += f", a median of {row['median_years']:.1f} years later"
    return text + "."


def _years(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


# --- the graph ----------------------------------------------------------------------------

NAMED_KINDS = ("government", "research", "civic")  # named in exports and the report


def career_dates(network: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Per maker of ``network`` (``graphminer.trajectory.milestones``' frame) the career
    milestones reached, in ``CAREER_KEYS``' order, as ``YYYY-MM-DDTHH:MM:SSZ``.

    >>> at = pd.Timestamp("2024-05-01T10:00:00Z")
    >>> frame = pd.DataFrame({name: [at, pd.NaT] for name in CAREER_KEYS}, index=["a", "b"])
    >>> career_dates(frame)["a"][CAREER_KEYS[0]], "b" in career_dates(frame)
    ('2024-05-01T10:00:00Z', False)
    """
    dates: dict[str, dict[str, str]] = {}
    for name in CAREER_KEYS:
        column = network[name]
        reached = column.notna().to_numpy()
        texts = column[reached].dt.strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
        for key, text in zip(network.index[reached].tolist(), texts, strict=True):
            dates.setdefault(str(key), {})[name] = text
    return dates


def annotate_graph(graph: Any, reader: Any, moment: pd.Timestamp, with_destinations: bool = False) -> None:
    """Give maker nodes the dates of their career milestones; with ``with_destinations``,
    add destination owners as nodes of their kind (government, research and civic ones by
    name; every other owner, people's own accounts among them, as one node "other
    destinations") joined to each maker by the number of their PRs merged there."""
    dates = career_dates(reader.milestones("network", moment))
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") == "maker":
            attrs.update(dates.get(str(node)[len("maker:"):], ()))
    if not with_destinations:
        return
    outside = reader.outside
    merged = outside[(outside["act"] == "merged") & (outside["at"] <= moment)]
    for (maker, owner, kind), count in merged.groupby(["maker", "owner", "owner_kind"]).size().items():
        source = f"maker:{maker}"
        if source not in graph:
            continue
        named = kind in NAMED_KINDS
        target = f"owner:{owner.lower()}" if named else "destinations:other"
        if target not in graph:
            graph.add_node(target, kind=kind if named else "other", label=owner if named else "other destinations",
                           is_bot=False)
        weight = graph.edges[source, target]["weight"] + int(count) if graph.has_edge(source, target) else int(count)
        graph.add_edge(source, target, weight=weight, kind="merged_elsewhere")
