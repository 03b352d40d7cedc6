"""The stats stage: figures for an org or the whole network, from milestones and events.

Owns: the funnel (makers reaching each milestone, conversion rates between them), time
from first_contact and from first_landed to each later milestone as Kaplan-Meier medians
(makers who have not reached it by as_of are censored at as_of, not dropped), the most
common paths (ordered milestones reached), retention by cohort year of first contact,
bridges between orgs, and the overlap of the count-based core (trajectory's ``core``
milestone) with the network-based core (``graphminer.graph.core_by_degree``).
``summarise`` gathers them into one JSON-ready dict; ``render_text`` prints it for people.

Inputs are a milestones frame (one row per maker, one column per milestone key in
``graphminer.milestones.KEYS`` order, NaT when not reached) and the events table (docs/events.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphminer.graph import actions_of, core_by_degree, maker_pairs, nanoseconds, windowed_pairs
from graphminer.milestones import RULES_VERSION, default_thresholds
from graphminer.sources import NOT_OBSERVABLE

# (from, to): the conversions the funnel reports; a rate is makers with both / makers with from.
CONVERSIONS: list[tuple[str, str]] = [
    ("first_contact", "first_landed"),
    ("first_landed", "returning"),
    ("returning", "long_term"),
    ("first_landed", "committer"),
    ("first_landed", "maintainer"),
    ("committer", "maintainer"),
    ("maintainer", "core"),
    ("first_contact", "organiser"),
    ("first_landed", "organiser"),
    ("first_landed", "coder_to_organiser"),
    ("first_contact", "org_bridge"),
]

# Milestones that can come before first_landed and so make no sense timed from it.
BEFORE_LANDING = ("first_contact", "first_issue", "first_comment", "first_pr", "first_landed", "creator")

# The milestones a path is made of: the stage ladder and the tracks beside it.
PATH_KEYS: tuple[str, ...] = (
    "first_contact",
    "first_landed",
    "returning",
    "long_term",
    "committer",
    "maintainer",
    "core",
    "organiser",
    "coder_to_organiser",
    "org_bridge",
)

# Milestones dated at the first day of a quarter (core, coder_to_organiser) may fall before
# the act that made them possible; in a path they come no earlier than that act.
PLACED_AFTER = {"core": "first_landed", "coder_to_organiser": "first_contact"}

# Paths are packed in an int64, one base-32 digit per milestone (see ``paths``).
BASE = 32

COHORT_YEARS = (1, 2, 3)
YEAR = pd.Timedelta(days=365)


def share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places, None when ``whole`` is 0."""
    return round(part / whole, 4) if whole else None


def reached(milestones: pd.DataFrame, key: str, as_of: pd.Timestamp | None = None) -> pd.Series:
    """Whether each maker reached ``key`` (by ``as_of`` when given)."""
    if key not in milestones.columns:
        return pd.Series(False, index=milestones.index)
    dates = milestones[key]
    return dates.notna() & (dates <= as_of) if as_of is not None else dates.notna()


def funnel_counts(milestones: pd.DataFrame) -> dict[str, int]:
    """Makers who reached each milestone, in the frame's column order."""
    return {key: int(milestones[key].notna().sum()) for key in milestones.columns}


def conversions(milestones: pd.DataFrame, steps: list[tuple[str, str]] = CONVERSIONS) -> list[dict]:
    """For each (from, to): makers who reached from, those who also reached to, the rate."""
    rows = []
    for start, end in steps:
        if start not in milestones.columns or end not in milestones.columns:
            continue
        has_start = milestones[start].notna()
        both = int((has_start & milestones[end].notna()).sum())
        rows.append(
            {"from": start, "to": end, "makers_from": int(has_start.sum()), "makers_both": both,
             "rate": share(both, int(has_start.sum()))}
        )
    return rows


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    """The Kaplan-Meier survival curve, estimated by lifelines: at each time with an event,
    makers at risk (duration >= t, censored ones included), events, S(t) and its 95%
    confidence band (``lower``, ``upper``; lifelines' exponential Greenwood interval).

    >>> curve = kaplan_meier(np.array([2, 3, 3, 5]), np.array([True, True, False, True]))
    >>> curve["time"].tolist(), curve["at_risk"].tolist(), curve["survival"].round(3).tolist()
    ([2.0, 3.0, 5.0], [4, 3, 1], [0.75, 0.5, 0.0])
    """
    from lifelines import KaplanMeierFitter  # start-up: lifelines takes a second to import

    durations = np.asarray(durations, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    columns = ["time", "at_risk", "events", "survival", "lower", "upper"]
    if not observed.any():
        return pd.DataFrame({name: pd.Series(dtype=float) for name in columns})
    fitter = KaplanMeierFitter(alpha=0.05).fit(durations, event_observed=observed)
    table = fitter.event_table
    band = fitter.confidence_interval_survival_function_
    with_events = table["observed"].to_numpy() > 0
    times = table.index.to_numpy(dtype=float)[with_events]
    return pd.DataFrame({
        "time": times,
        "at_risk": table["at_risk"].to_numpy()[with_events].astype(int),
        "events": table["observed"].to_numpy()[with_events].astype(int),
        "survival": fitter.survival_function_.iloc[:, 0].reindex(times).to_numpy(),
        "lower": band.iloc[:, 0].reindex(times).to_numpy(),
        "upper": band.iloc[:, 1].reindex(times).to_numpy(),
    })


def km_median(durations: np.ndarray, observed: np.ndarray) -> float | None:
    """The Kaplan-Meier median: the first time S(t) <= 0.5 (to within rounding, so an exact
    half counts); None if it never gets there."""
    curve = kaplan_meier(durations, observed)
    below = curve[curve["survival"] <= 0.5 + 1e-12]
    return float(below["time"].iloc[0]) if not below.empty else None


def durations_to(milestones: pd.DataFrame, origin: str, target: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Days from ``origin`` to ``target`` per maker who reached origin: ``days`` and
    ``observed`` (False: censored at as_of). A target dated before the origin counts as
    reached at the origin (0 days)."""
    start = milestones[origin]
    start = start[start.notna() & (start <= as_of)]
    end = milestones[target].reindex(start.index)
    observed = end.notna() & (end <= as_of)
    stop = end.where(observed, as_of)
    days = ((stop - start) / pd.Timedelta(days=1)).clip(lower=0)
    return pd.DataFrame({"days": days.astype(float), "observed": observed.astype(bool)})


def time_to_milestones(
    milestones: pd.DataFrame, origin: str, as_of: pd.Timestamp, targets: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """For each target: makers timed, reached, censored, and the KM median in days."""
    if origin not in milestones.columns:
        return {}
    if targets is None:
        skip = {"first_contact", origin} | (set(BEFORE_LANDING) if origin == "first_landed" else set())
        targets = [key for key in milestones.columns if key not in skip]
    result = {}
    for target in targets:
        if target not in milestones.columns:
            continue
        timed = durations_to(milestones, origin, target, as_of)
        n_reached = int(timed["observed"].sum())
        median = km_median(timed["days"].to_numpy(), timed["observed"].to_numpy()) if len(timed) else None
        result[target] = {
            "makers": len(timed), "reached": n_reached, "censored": len(timed) - n_reached,
            "median_days": round(median, 2) if median is not None else None,
        }
    return result


def paths(milestones: pd.DataFrame, keys: tuple[str, ...] = PATH_KEYS, top: int = 10) -> list[dict]:
    """The most common ordered sequences of milestones reached (ties in time by key order;
    quarter-dated milestones placed after what they presuppose, ``PLACED_AFTER``)."""
    keys = tuple(key for key in keys if key in milestones.columns)
    if len(keys) > 12:  # 12 digits of base 32 fit in an int64
        raise ValueError(f"paths are made of at most 12 milestones, got {len(keys)}")
    if milestones.empty or not keys:
        return []
    placed = milestones[list(keys)].copy()
    for key, after in PLACED_AFTER.items():
        if key in placed.columns and after in milestones.columns:
            placed[key] = placed[key].where(placed[key].isna() | (placed[key] >= milestones[after]), milestones[after])
    long = placed.rename_axis("maker").reset_index().melt(
        id_vars="maker", var_name="key", value_name="at"
    )
    long = long[long["at"].notna()]
    long["order"] = long["key"].map({key: rank for rank, key in enumerate(keys)}).astype("int64")
    long = long.sort_values(["maker", "at", "order"], kind="mergesort")
    # Each path packed in one integer (a digit per milestone, base 32), so that counting
    # paths is a groupby sum and a value_counts, not a string join per maker.
    position = long.groupby("maker", sort=False).cumcount(ascending=False).to_numpy()
    long["digit"] = (long["order"].to_numpy() + 1) * (BASE ** position)
    packed = long.groupby("maker", sort=False)["digit"].sum()
    total = len(packed)
    counts = packed.value_counts().rename_axis("packed").reset_index(name="makers")
    counts["path"] = [unpack_path(code, keys) for code in counts["packed"]]
    counts["text"] = counts["path"].map(" > ".join)
    counts = counts.sort_values(["makers", "text"], ascending=[False, True], kind="mergesort").head(top)
    return [
        {"path": path, "makers": int(n), "share": share(int(n), total)}
        for path, n in zip(counts["path"], counts["makers"], strict=True)
    ]


def unpack_path(code: int, keys: tuple[str, ...]) -> list[str]:
    """The milestones of a path packed by ``paths``, in order."""
    digits = []
    while code:
        code, digit = divmod(int(code), BASE)
        digits.append(keys[digit - 1])
    return digits[::-1]


def cohorts(milestones: pd.DataFrame, events: pd.DataFrame, as_of: pd.Timestamp) -> list[dict]:
    """Per year of first_contact: makers, share returning, and for 1, 2, 3 years later the
    makers observable that long (first_contact + k x 365 days <= as_of) and the share of
    them with an action on or after that day."""
    first = milestones["first_contact"].dropna()
    first = first[first <= as_of]
    if first.empty:
        return []
    last_action = events[events["ts"] <= as_of].groupby("maker")["ts"].max().reindex(first.index)
    returning = reached(milestones, "returning", as_of).reindex(first.index, fill_value=False)
    frame = pd.DataFrame({"year": first.dt.year, "first": first, "last": last_action, "returning": returning})
    rows = []
    for year, group in frame.groupby("year", sort=True):
        retention = {}
        for k in COHORT_YEARS:
            mark = group["first"] + k * YEAR
            eligible = mark <= as_of
            kept = int((eligible & (group["last"] >= mark)).sum())
            retention[str(k)] = {"eligible": int(eligible.sum()), "retained": kept,
                                 "share": share(kept, int(eligible.sum()))}
        rows.append({"year": int(year), "makers": len(group),
                     "returning": share(int(group["returning"].sum()), len(group)),
                     "retention": retention})
    return rows


def org_bridges(events: pd.DataFrame, as_of: pd.Timestamp, window_days: float = 365,
                org: str | None = None, top: int = 20) -> list[dict]:
    """Pairs of orgs and how many makers bridged them: acted in both within
    ``window_days`` of each other (docs/rules.md org_bridge). With ``org``, only its pairs."""
    events = actions_of(events)
    events = events[events["ts"] <= as_of]
    if events.empty:
        return []
    maker_codes, _ = pd.factorize(events["maker"])
    org_codes, org_names = pd.factorize(events["org"])
    times = nanoseconds(events["ts"])
    pairs = windowed_pairs(maker_codes, org_codes, times, times, window_days)
    counts = pairs.groupby(["a", "b"]).size().rename("makers").reset_index()
    names = np.asarray(org_names, dtype=object)
    counts["org_a"] = names[counts["a"].to_numpy()]
    counts["org_b"] = names[counts["b"].to_numpy()]
    swap = counts["org_a"] > counts["org_b"]
    counts.loc[swap, ["org_a", "org_b"]] = counts.loc[swap, ["org_b", "org_a"]].to_numpy()
    if org is not None:
        counts = counts[(counts["org_a"] == org) | (counts["org_b"] == org)]
    counts = counts.sort_values(["makers", "org_a", "org_b"], ascending=[False, True, True]).head(top)
    return [
        {"orgs": [a, b], "makers": int(n)}
        for a, b, n in zip(counts["org_a"], counts["org_b"], counts["makers"], strict=True)
    ]


def core_overlap(milestones: pd.DataFrame, events: pd.DataFrame, as_of: pd.Timestamp,
                 window_days: float = 90, core_share: float = 0.8) -> dict[str, Any]:
    """Count-based core (makers who reached trajectory's ``core`` milestone) beside the
    network-based core (80% rule over degree in the maker-maker projection of the same
    events), their sizes, intersection and Jaccard index."""
    count_core = set(milestones.index[reached(milestones, "core", as_of)].astype(str))
    scoped = actions_of(events)
    scoped = scoped[scoped["ts"] <= as_of]
    network = {node.removeprefix("maker:") for node in core_by_degree(maker_pairs(scoped, window_days), core_share)}
    union = count_core | network
    both = count_core & network
    return {
        "count_based": len(count_core), "network_based": len(network), "both": len(both),
        "jaccard": share(len(both), len(union)), "window_days": window_days, "share": core_share,
    }


def anchors(milestones: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, Any]:
    """Figures to hold against the literature: the share of contributors who never came
    back (one-off, Pinto et al. 2016: about 49%) and the 1-year long-term rate among
    contributors observable for a year (Bao et al. 2019: 12.3%)."""
    landed = reached(milestones, "first_landed", as_of)
    one_off = landed & ~reached(milestones, "returning", as_of)
    observable = reached(milestones, "first_landed", as_of - YEAR)
    long_term = observable & reached(milestones, "long_term", as_of)
    return {
        "contributors": int(landed.sum()),
        "one_off_share": share(int(one_off.sum()), int(landed.sum())),
        "long_term_observable": int(observable.sum()),
        "long_term_rate": share(int(long_term.sum()), int(observable.sum())),
    }


def _settings(config: Any) -> dict[str, float]:
    keys = ("projection_days", "bridge_days", "core_share")
    source = config["trajectories"] if config is not None else default_thresholds()
    return {key: source[key] for key in keys}


def summarise(events: pd.DataFrame, milestones: pd.DataFrame, as_of: pd.Timestamp,
              config: Any = None, org: str | None = None, rules_version: str = RULES_VERSION,
              deleted_accounts: int | None = None, hidden: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every figure for the network, or for ``org`` (``milestones`` then at org scope for
    it), as one JSON-ready dict (shape in the README's stats section). ``deleted_accounts``:
    records by deleted accounts (GitHub's ``ghost``), counted apart from the makers.
    ``hidden``: milestones the scope's sources cannot show (``graphminer.sources``): their
    funnel count and times are ``null``, not 0, and no conversion rate involves them."""
    settings = _settings(config)
    everyone = actions_of(events)
    everyone = everyone[everyone["ts"] <= as_of]
    scoped = everyone[everyone["org"] == org] if org is not None else everyone
    milestones = milestones[reached(milestones, "first_contact", as_of)]
    return {
        "rules_version": rules_version,
        "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scope": "org" if org is not None else "network",
        "org": org,
        "makers": len(milestones),
        "actions": len(scoped),
        "repos": int(scoped["repo"].nunique()),
        "funnel": {"counts": unseen_as_null(funnel_counts(milestones), hidden),
                   "conversions": [row for row in conversions(milestones)
                                   if row["from"] not in hidden and row["to"] not in hidden]},
        "observable": {key: False for key in hidden},
        "anchors": anchors(milestones, as_of),
        "time_to": {
            "from_first_contact": unseen_as_null(time_to_milestones(milestones, "first_contact", as_of), hidden),
            "from_first_landed": unseen_as_null(time_to_milestones(milestones, "first_landed", as_of), hidden),
        },
        "paths": paths(milestones),
        "cohorts": cohorts(milestones, scoped, as_of),
        "bridges": org_bridges(everyone, as_of, settings["bridge_days"], org),
        "core": core_overlap(milestones, scoped, as_of, settings["projection_days"], settings["core_share"]),
        "deleted_accounts": deleted_accounts,
    }


def unseen_as_null(figures: dict[str, Any], hidden: tuple[str, ...]) -> dict[str, Any]:
    """The figures with ``None`` for each milestone the sources cannot show (never 0)."""
    return {key: None if key in hidden else value for key, value in figures.items()}


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _days(value: float | None) -> str:
    return "not reached by half" if value is None else f"{value:.0f} days"


def render_text(summary: dict[str, Any]) -> str:
    """The summary as a few readable sections of plain text."""
    where = f"org {summary['org']}" if summary["org"] else "the whole network"
    lines = [
        f"Stats for {where} as of {summary['as_of']} (rules version {summary['rules_version']})",
        f"{summary['makers']} makers, {summary['repos']} repos, {summary['actions']} actions",
        "",
        "Funnel (makers reaching each milestone)",
    ]
    if summary.get("deleted_accounts"):
        lines[2:2] = [f"{summary['deleted_accounts']} records by deleted accounts (GitHub's "
                      "ghost), counted apart: no one's"]
    lines[2:2] = [f"Sources of {row['org']}: {row['says']}" for row in summary.get("sources", [])]
    lines += [f"  {key:<20} {n:>7}" if n is not None else f"  {key:<20} {NOT_OBSERVABLE}"
              for key, n in summary["funnel"]["counts"].items()]
    lines += ["", "Conversions"]
    lines += [
        f"  {row['from']} -> {row['to']}: {row['makers_both']}/{row['makers_from']} ({_percent(row['rate'])})"
        for row in summary["funnel"]["conversions"]
    ]
    anchor = summary["anchors"]
    lines += [
        "",
        f"One-off contributors (never returned): {_percent(anchor['one_off_share'])} of "
        f"{anchor['contributors']} (Pinto et al. 2016: about 49%)",
        f"Long-term after a year: {_percent(anchor['long_term_rate'])} of {anchor['long_term_observable']} "
        "observable (Bao et al. 2019: 12.3%)",
    ]
    for origin, title in (("from_first_contact", "first contact"), ("from_first_landed", "first landed")):
        lines += ["", f"Median time from {title} (Kaplan-Meier, censored at as_of)"]
        lines += [
            f"  {key:<20} {_days(row['median_days']):>20}  ({row['reached']} reached, {row['censored']} censored)"
            if row is not None else f"  {key:<20} {NOT_OBSERVABLE}"
            for key, row in summary["time_to"][origin].items()
        ]
    lines += ["", "Most common paths"]
    lines += [f"  {row['makers']:>6} ({_percent(row['share'])})  {' > '.join(row['path'])}" for row in summary["paths"]]
    lines += ["", "Cohorts by year of first contact (share still active after 1, 2, 3 years)"]
    for row in summary["cohorts"]:
        kept = "  ".join(f"{k}y {_percent(v['share'])}" for k, v in row["retention"].items())
        lines.append(f"  {row['year']}: {row['makers']:>6} makers, returning {_percent(row['returning'])}, {kept}")
    lines += ["", "Bridges between orgs (makers active in both within a year)"]
    lines += [f"  {row['orgs'][0]} - {row['orgs'][1]}: {row['makers']}" for row in summary["bridges"]] or ["  none"]
    core = summary["core"]
    lines += [
        "",
        f"Core: {core['count_based']} by landed counts (core milestone), {core['network_based']} by degree "
        f"in the {core['window_days']:g}-day maker network, "
        f"{core['both']} in both (Jaccard {core['jaccard'] if core['jaccard'] is not None else '-'})",
    ]
    return "\n".join(lines)
