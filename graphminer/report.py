"""The report stage: a folder of static HTML pages and PNG plots for funders and boards.

Owns what the report shows and how it reads: the figures of ``graphminer.stats`` and
``graphminer.careers`` gathered into plain values (this module: ``*_view`` functions
return dicts and lists, nothing of HTML), then rendered by Jinja2 templates with
autoescape (``graphminer/templates/``: a base layout and one template per page kind:
``index.html``, ``where.html``, ``org.html``, ``maker.html``) and plotted by
``graphminer.report_plots``. Pages:

- ``index.html``: headline numbers in plain words, what the words mean, the trend per year
  (people taking each step for the first time), the funnel, time to maintainer and
  organiser (Kaplan-Meier curves with their 95% band), the most common paths, who stayed
  (cohorts), bridges between organisations, the organisations and the most active makers;
- ``where.html`` ("Where did they go"): career milestones beyond the harvested
  organisations by cohort, and the government, research and civic owners by name;
- ``orgs/ORG.html`` and ``makers/LOGIN.html`` (a readable slug for makers without an
  account), each maker's opening with a story written from their milestones in order.

A share resting on fewer than ``FEW`` (10) people is written "n of N" and marked, never as
a bare percentage. The folder needs no network: plots are PNG files beside the pages,
styles are inline, fonts are the reader's own; links go to GitHub only. Emails never
appear (labels are logins or names); opted-out people are dropped before anything is drawn.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from graphminer import report_plots as plots
from graphminer import stats
from graphminer.careers import NAMED_KINDS, careers_summary, sentence
from graphminer.errors import BadInput
from graphminer.export import STAGE_COLOURS, clean_text, current_umask, require_harvest
from graphminer.graph import actions_of, people_events
from graphminer.milestones import (
    LABELS,
    ROLE_MEANINGS,
    RULES_VERSION,
    STAGES,
    action_words,
    threshold,
)
from graphminer.outputs import REPORT_MARKER, mark_folder, remove_marked, require_own_folder
from graphminer.precompute import item_link, web_url
from graphminer.reader import StoreReader
from graphminer.sources import NOT_OBSERVABLE, org_summaries

FEW = plots.FEW
# Milestones in words a board member uses (one home: the catalogue).
PLAIN: dict[str, str] = LABELS
FUNNEL_STEPS = ("first_contact", "first_landed", "returning", "committer", "maintainer", "core")
TRACKS = ("long_term", "organiser", "org_bridge")
STAGE_ORDER = STAGES
# States shown in a quarter with no stage: dark enough for white text (WCAG AA).
STATE_COLOURS: dict[str, tuple[int, int, int]] = {"inactive": (87, 83, 78), "gone": (28, 25, 23)}
PAGE_BACKGROUND = (247, 250, 252)
# The index page's glossary: the words the report uses, in a sentence each.
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("action", "anything a person did in a project: opening an issue or a pull request, "
               "commenting, reviewing, sorting issues, publishing a release, or work that landed."),
    ("contribution accepted", "a pull request of theirs was merged, or a commit of theirs "
                              "reached the main branch."),
    ("participant", "took part (any action) in the last twelve months, without work accepted."),
    ("contributor", "had work accepted in the last twelve months."),
    ("returning", "a contributor who came back with more accepted work in a later month."),
    ("committer", ROLE_MEANINGS["committer"]),
    ("maintainer", "in the last twelve months, " + ROLE_MEANINGS["maintainer"]),
    ("core", ROLE_MEANINGS["core"]),
    ("organiser", ROLE_MEANINGS["organiser"]),
    ("role account", "a shared account such as root or deploy, not a person: left out like bots."),
    ("bridge", "active in two projects or organisations within a year."),
    ("inactive / gone", "no action for six months / for a year or more."),
    ("as of", "the moment the figures describe; later activity is left out, so they can be "
              "reproduced."),
    ("fewer than 10 people", "a figure resting on so few people is given as a count "
                             "(\u201c3 of 4\u201d), marked, and never as a percentage."),
)
STATE_WORDS = {"inactive": " · no action for six months", "gone": " · no action for a year or more",
               "returned": " · came back after a year away"}
# How a first act reads after "first took part in REPO on DATE".
FIRST_ACT_WORDS = {
    "issue_opened": "by opening an issue", "pr_opened": "by proposing a change",
    "pr_merged": "with a change that was accepted", "comment": "by commenting",
    "review_comment": "by commenting on a change under review", "review": "by reviewing a change",
    "issue_event": "by sorting an issue", "release": "by publishing a release",
    "commit": "with a commit", "committed": "with work on the main branch",
    "merge_performed": "by accepting someone's change",
}
DESTINATION_KINDS = {"government": "a government repository", "research": "a public research repository",
                     "civic": "another civic tech group's repository"}


@dataclass
class ReportInputs:
    """Everything a report is drawn from (all already scoped to as_of)."""

    events: pd.DataFrame
    milestones: pd.DataFrame  # network scope, index maker
    org_milestones: pd.DataFrame  # org scope, index (maker, org)
    stages: pd.DataFrame  # maker, quarter, stage, organiser, bridge, state
    as_of: pd.Timestamp
    labels: dict[str, str]
    config: Any = None
    # the act behind each network milestone: maker, milestone, at, kind, target, ts,
    # trigger_repo and, when the rules name it, by (whose act it was)
    triggers: pd.DataFrame | None = None
    # what following found (graphminer.careers.outside_acts) and the careers table
    outside: pd.DataFrame | None = None
    careers: dict | None = None
    # per organisation: its sources and what they hide (graphminer.sources.org_summaries)
    sources: list[dict] | None = None
    web_base: str = "https://github.com"  # where acts link to (GitHub, or an Enterprise host)
    # triggers and outside acts split by maker once, not filtered once per maker page
    by_maker: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict, repr=False, compare=False)

    def of_maker(self, name: str, maker: str) -> pd.DataFrame | None:
        """The rows of ``triggers`` or ``outside`` that are ``maker``'s (None without any)."""
        frame = getattr(self, name)
        if frame is None or frame.empty:
            return None
        if name not in self.by_maker:
            self.by_maker[name] = dict(iter(frame.groupby("maker", sort=False)))
        return self.by_maker[name].get(maker, frame.iloc[:0])


# ---------------------------------------------------------------------------------------
# Small helpers


def share(part: float, whole: int) -> dict[str, Any]:
    """A share as the templates show it: ``percent`` only for ``FEW`` people or more
    (``few`` marks the others, shown as "part of whole")."""
    return {"part": int(round(part)), "whole": int(whole), "few": 0 < whole < FEW,
            "percent": f"{100 * part / whole:.0f}%" if whole else None}


def plain_duration(days: float | None) -> str:
    """Days as a person says them: '3 weeks', '5 months', '2.5 years'."""
    if days is None or (isinstance(days, float) and np.isnan(days)):
        return "not yet reached by half of them"
    if days < 1:
        return "a day"
    if days < 60:
        return f"{days / 7:.0f} weeks" if days >= 14 else f"{days:.0f} day{'s' if round(days) != 1 else ''}"
    if days < 730:
        return f"{days / 30.44:.0f} months"
    return f"{days / 365.25:.1f} years"


def spoken_date(moment: pd.Timestamp) -> str:
    """'3 March 2016'."""
    return f"{moment.day} {moment:%B %Y}"


def slug(text: str) -> str:
    """A file name: lower-case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "org"


def maker_label(inputs: ReportInputs, maker: str) -> str:
    """A maker's login or name; never their email (git-only makers are keyed by it)."""
    label = inputs.labels.get(maker)
    if label and "@" not in label:
        return clean_text(label)
    return "someone without an account" if "@" in maker or label else clean_text(maker)


def page_names(inputs: ReportInputs, makers: Iterable[str]) -> dict[str, str]:
    """maker -> its page's file name: the login (for makers without an account, their name)
    as a slug; never a bare number (a numeric login gets ``maker-``), never an email;
    a name taken twice gets ``-2``, ``-3``."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for maker in makers:
        folded = unicodedata.normalize("NFKD", maker_label(inputs, maker)).encode("ascii", "ignore").decode()
        base = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "maker"
        if base.isdigit():
            base = f"maker-{base}"
        name, number = base, 1
        while name in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name)
        names[maker] = f"{name}.html"
    return names


def contrast(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (1 to 21).

    >>> round(contrast((0, 0, 0), (255, 255, 255)), 1)
    21.0
    """
    def luminance(rgb: tuple[int, int, int]) -> float:
        parts = [c / 255 for c in rgb]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colour_of(stage_or_state: str) -> tuple[int, int, int]:
    return STAGE_COLOURS.get(stage_or_state) or STATE_COLOURS.get(stage_or_state, (87, 83, 78))


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{part:02x}" for part in rgb)


def quarter_label(quarter: pd.Timestamp) -> str:
    return f"{quarter:%Y} Q{(quarter.month - 1) // 3 + 1}"


# ---------------------------------------------------------------------------------------
# Figures gathered for the pages (plain values; the templates decide how they look)


def headline(inputs: ReportInputs) -> dict[str, Any]:
    """The first screen's numbers: people at each step and typical times."""
    m = inputs.milestones
    counts = {key: int(stats.reached(m, key, inputs.as_of).sum()) for key in PLAIN if key in m}
    anchors = stats.anchors(m, inputs.as_of)
    events = inputs.events
    took = {}
    for target in ("maintainer", "organiser", "first_landed"):
        if target in m and "first_contact" in m:
            timed = stats.durations_to(m, "first_contact", target, inputs.as_of)
            done = timed.loc[timed["observed"], "days"]
            took[target] = float(done.median()) if len(done) else None
    return {
        "took": took,
        "counts": counts,
        "anchors": anchors,
        "orgs": int(events["org"].nunique()) if len(events) else 0,
        "repos": int(events["repo"].nunique()) if len(events) else 0,
        "actions": len(events),
        "since": events["ts"].min().year if len(events) else None,
    }


def cards_view(head: dict[str, Any], git_only: bool = False) -> list[dict[str, Any]]:
    """The headline cards: number, what, and a sentence whose share the template marks
    (``git_only``: every source is git history, which shows accepted work but not who took
    part without it, so no share of them is given)."""
    c = head["counts"]
    people, landed = c.get("first_contact", 0), c.get("first_landed", 0)
    to_maintainer = head["took"].get("maintainer")
    since = f" since {head['since']}" if head["since"] else ""
    accepted = (
        {"number": landed, "what": "had work accepted",
         "before": "Git history records accepted work, not the people who took part without it: "
                   "the share of them is not observable from git history.", "share": None, "after": ""}
        if git_only else
        {"number": landed, "what": "had work accepted", "before": "",
         "share": share(landed, people), "after": " of them saw a contribution of theirs merged into a project."})
    return [
        {"number": people, "what": "people took part",
         "before": f"Everyone git history records (commits, and pull requests where their refs were "
                   f"read) in {head['repos']:,} projects of {head['orgs']:,} organisations{since}."
                   if git_only else
                   f"Everyone who opened an issue, commented, reviewed or contributed code in "
                   f"{head['repos']:,} projects of {head['orgs']:,} organisations{since}.",
         "share": None, "after": ""},
        accepted,
        {"number": c.get("returning", 0), "what": "came back for more", "before": "",
         "share": share(c.get("returning", 0), landed),
         "after": " of those contributors returned in a later month; studies of open source find about "
                  "half never do."},
        {"number": c.get("maintainer", 0), "what": "became maintainers",
         "before": "They now review, merge and release other people's work "
                   f"({c.get('committer', 0):,} people put work of their own on a main branch)."
                   + (f" Half of them got there within {plain_duration(to_maintainer)} of first taking part."
                      if to_maintainer is not None else ""), "share": None, "after": ""},
        {"number": c.get("organiser", 0), "what": "became organisers",
         "before": "Git history shows this only through contributing guides and templates they created and projects others joined; "
                   "welcoming newcomers and sorting issues are not observable from git history."
                   if git_only else
                   "They welcomed newcomers, sorted issues for others or started projects that others joined.",
         "share": None, "after": ""},
        {"number": c.get("org_bridge", 0), "what": "worked across organisations",
         "before": "They carried skills from one organisation to another within a year.",
         "share": None, "after": ""},
    ]


def git_only(inputs: ReportInputs) -> bool:
    """Whether every organisation of the report is known from git history alone."""
    return bool(inputs.sources) and all(row["sources"] == "git" for row in inputs.sources)


def sources_view(inputs: ReportInputs) -> dict[str, Any] | None:
    """Per organisation, which sources the figures come from and what that hides, for the
    first page, so a figure git cannot show is never read as zero (None when every
    organisation was harvested through the API)."""
    rows = inputs.sources or []
    if not rows or all(row["sources"] != "git" for row in rows):
        return None
    alone = sum(row["sources"] == "git" for row in rows)
    whole = ("Every figure here comes from git history alone" if alone == len(rows)
             else f"{alone} of {len(rows)} organisations are known from git history alone")
    return {"whole": whole, "not_observable": NOT_OBSERVABLE,
            "rows": [{"org": row["org"], "sources": row["sources"], "repos": row["repos"],
                      "says": row["says"]} for row in rows]}


def trend_view(inputs: ReportInputs) -> list[dict[str, Any]]:
    """Per calendar year (the year of as_of written as partial): people who first took
    part, whose first contribution was accepted, who became maintainers, organisers."""
    m = inputs.milestones
    if m.empty or "first_contact" not in m:
        return []
    columns = {"new_makers": "first_contact", "first_landed": "first_landed",
               "maintainers": "maintainer", "organisers": "organiser"}
    years: dict[str, pd.Series] = {}
    for name, key in columns.items():
        dates = m[key][stats.reached(m, key, inputs.as_of)] if key in m else pd.Series(dtype="datetime64[ns, UTC]")
        years[name] = dates.dt.year.value_counts()
    first = int(min(series.index.min() for series in years.values() if len(series)))
    rows = []
    for year in range(first, inputs.as_of.year + 1):
        partial = year == inputs.as_of.year and (inputs.as_of.month, inputs.as_of.day) != (12, 31)
        label = f"{year} (to {spoken_date(inputs.as_of)[:-5]})" if partial else str(year)
        rows.append({"year": year, "label": label,
                     **{name: int(series.get(year, 0)) for name, series in years.items()}})
    return rows


def funnel_view(counts: dict[str, int]) -> list[dict[str, Any]]:
    steps = [k for k in FUNNEL_STEPS if k in counts] + [k for k in TRACKS if k in counts]
    first = counts.get("first_contact", 0)
    return [{"key": k, "label": PLAIN[k], "people": counts[k], "track": k in TRACKS,
             "share": share(counts[k], first)} for k in steps]


def km_curves(inputs: ReportInputs, targets: Iterable[str]) -> dict[str, dict[str, Any]]:
    """For each target: the share who reached it by each day since first contact
    (1 - Kaplan-Meier survival, lifelines; not yet there: censored), its 95% band, how
    many people it rests on, and its reading at one and three years."""
    curves = {}
    for target in targets:
        if target not in inputs.milestones or "first_contact" not in inputs.milestones:
            continue
        timed = stats.durations_to(inputs.milestones, "first_contact", target, inputs.as_of)
        if timed.empty or not timed["observed"].any():
            continue
        curve = stats.kaplan_meier(timed["days"].to_numpy(), timed["observed"].to_numpy())
        frame = pd.DataFrame({"days": curve["time"], "reached": 1.0 - curve["survival"],
                              "low": 1.0 - curve["upper"], "high": 1.0 - curve["lower"]})
        horizon = float(timed["days"].max())
        if horizon > frame["days"].iloc[-1]:  # drawn flat to the longest time anyone was followed
            frame = pd.concat([frame, frame.iloc[[-1]].assign(days=horizon)], ignore_index=True)
        people = len(timed)
        one, three = share_by(frame, 365.25), share_by(frame, 3 * 365.25)
        role = {"maintainer": "become maintainers", "organiser": "become organisers"}.get(target, PLAIN[target])
        curves[target] = {
            "target": target, "role": role, "frame": frame, "people": people,
            "one": share(one * people, people), "three": share(three * people, people),
            "words": (f"{PLAIN[target]}: {people:,} people, " + (
                f"{100 * one:.0f}% within a year and {100 * three:.0f}% within three years"
                if people >= FEW else "too few people for a share")),
        }
    return curves


def share_by(curve: pd.DataFrame, days: float) -> float:
    """The share of a 1 - KM curve reached by ``days`` (0 before its first step)."""
    before = curve[curve["days"] <= days]
    return float(before["reached"].iloc[-1]) if len(before) else 0.0


def paths_view(inputs: ReportInputs) -> list[dict[str, Any]]:
    m = inputs.milestones
    if m.empty:
        return []
    people = m[stats.reached(m, "first_contact", inputs.as_of)]
    rows = stats.paths(people)
    return [{"words": " → ".join(PLAIN.get(k, k) for k in row["path"]), "people": row["makers"],
             "share": share(row["makers"], len(people))} for row in rows]


def cohorts_view(rows: list[dict]) -> list[dict[str, Any]]:
    return [{"year": row["year"], "people": row["makers"],
             "later": [None if cell["share"] is None else share(cell["retained"], cell["eligible"])
                       for cell in (row["retention"][str(k)] for k in stats.COHORT_YEARS)]}
            for row in rows]


def org_table(inputs: ReportInputs) -> pd.DataFrame:
    """Per org: people, contributors, maintainers, organisers, repos, actions."""
    om = inputs.org_milestones
    events = actions_of(inputs.events)
    per_org = events.groupby("org", observed=True).agg(repos=("repo", "nunique"), actions=("ts", "size"))
    if om is None or om.empty:
        counts = events.groupby("org", observed=True)["maker"].nunique().rename("people").to_frame()
    else:
        reached = {key: stats.reached(om, key, inputs.as_of)
                   for key in ("first_contact", "first_landed", "maintainer", "organiser") if key in om}
        frame = pd.DataFrame(reached).reset_index(drop=True)
        frame["org"] = om.index.get_level_values("org").to_numpy()
        counts = frame.groupby("org").sum().rename(
            columns={"first_contact": "people", "first_landed": "contributors",
                     "maintainer": "maintainers", "organiser": "organisers"}
        )
    table = per_org.join(counts, how="left").fillna(0)
    return table.astype("int64").sort_values(["actions"], ascending=False)


def top_makers(inputs: ReportInputs, limit: int) -> pd.DataFrame:
    """The ``limit`` most active makers: actions, first and last action, stage, state, page."""
    events = actions_of(inputs.events)
    grouped = events.groupby("maker", observed=True)
    table = pd.DataFrame({
        "actions": grouped.size(),
        "first": grouped["ts"].min(),
        "last": grouped["ts"].max(),
    })
    table = table.sort_values(["actions"], ascending=False, kind="mergesort").head(limit)
    current = current_stage(inputs.stages)
    table["stage"] = current.reindex(table.index).fillna("participant")
    table["state"] = current_state(inputs.stages).reindex(table.index).fillna("active")
    names = page_names(inputs, [str(maker) for maker in table.index])
    table["page"] = [names[str(maker)] for maker in table.index]
    return table


def current_state(stages: pd.DataFrame) -> pd.Series:
    """Each maker's state (active, inactive, gone, returned) in their latest quarter."""
    if stages is None or stages.empty or "state" not in stages:
        return pd.Series(dtype=object)
    latest = stages.sort_values(["maker", "quarter"]).drop_duplicates("maker", keep="last")
    return latest.set_index("maker")["state"].astype(object)


def current_stage(stages: pd.DataFrame) -> pd.Series:
    """Each maker's stage in their latest quarter."""
    if stages is None or stages.empty:
        return pd.Series(dtype=object)
    latest = stages.sort_values(["maker", "quarter"]).drop_duplicates("maker", keep="last")
    return latest.set_index("maker")["stage"].astype(object)


def makers_rows(inputs: ReportInputs, makers: pd.DataFrame, counts: pd.Series | None = None) -> list[dict]:
    actions = makers["actions"] if counts is None else counts.reindex(makers.index).fillna(makers["actions"])
    return [{"label": maker_label(inputs, str(maker)), "page": page, "stage": stage, "actions": int(n),
             "first": first, "last": last}
            for maker, page, stage, n, first, last in zip(
                makers.index, makers["page"], makers["stage"], actions, makers["first"], makers["last"],
                strict=True)]


# --- Where did they go ------------------------------------------------------------------


def where_view(inputs: ReportInputs) -> dict[str, Any]:
    """The "Where did they go" page: per career milestone, people reaching it among those
    whose first contribution was accepted, by cohort; the named owners (government,
    research, civic) with people and changes merged, by cohort; a sentence each."""
    summary = inputs.careers
    if not summary or not summary["followed"]:
        return {"followed": 0, "landed": summary["landed"] if summary else None}
    years = sorted({year for row in summary["destinations"] for year in row["cohorts"]})
    rows = [{"key": row["milestone"], "label": PLAIN[row["milestone"]], "reached": row["reached"],
             "share": share(row["reached"], summary["landed"]),
             "median_years": row["median_years"], "km_median_years": row["km_median_years"],
             "cohorts": [share(*reversed(row["cohorts"][year])) if year in row["cohorts"] else None
                         for year in years],
             "sentence": sentence(summary, row)} for row in summary["destinations"]]
    owners = [{"owner": row["owner"], "kind": row["kind"], "people": row["people"], "changes": row["changes"],
               "link": f"{inputs.web_base}/{row['owner']}",
               "cohorts": [row["cohorts"].get(year, 0) for year in years]}
              for row in summary.get("owners", [])]
    return {"followed": summary["followed"], "landed": summary["landed"], "years": years,
            "rows": rows, "owners": owners}


# --- A maker's page ----------------------------------------------------------------------


def trigger_rows(inputs: ReportInputs, maker: str) -> dict[str, dict[str, Any]]:
    """milestone -> its trigger row, for one maker (empty without triggers)."""
    own = inputs.of_maker("triggers", maker)
    if own is None:
        return {}
    return {row["milestone"]: row for row in own.to_dict("records")}


def act_link(inputs: ReportInputs, act: dict[str, Any] | None) -> str | None:
    """The GitHub page of the act behind a milestone (None when it has none)."""
    if not act or not act.get("trigger_repo"):
        return None
    if act.get("kind") in ("pr_merged_elsewhere", "repo_founded"):
        return None if outside_kind(inputs, act["trigger_repo"]) is None else f"{inputs.web_base}/{act['trigger_repo']}"
    target = act.get("target")
    return item_link(inputs.web_base, str(act["trigger_repo"]), str(target) if isinstance(target, str) else None)


def outside_kind(inputs: ReportInputs, repo: str) -> str | None:
    """The owner kind of an outside repo when it is named (government, research, civic)."""
    outside = inputs.outside
    if outside is None or outside.empty:
        return None
    kinds = outside.loc[outside["repo"] == repo, "owner_kind"]
    return str(kinds.iloc[0]) if len(kinds) and kinds.iloc[0] in NAMED_KINDS else None


def trigger_words(inputs: ReportInputs, maker: str, key: str, acts: dict[str, dict[str, Any]]) -> str:
    """What happened, in plain words; a milestone reached through someone else's act says
    whose act it was ("X joined a repo they created")."""
    act = acts.get(key)
    if act is None or not act.get("kind"):
        return ""
    repo = act.get("trigger_repo") or "a project"
    if act["kind"] in ("pr_merged_elsewhere", "repo_founded"):
        kind = outside_kind(inputs, str(repo))
        if act["kind"] == "repo_founded":
            return "started a project of their own that others contributed to"
        return f"had work merged in {DESTINATION_KINDS[kind]}, {repo}" if kind else \
            "had work merged beyond the network"
    by = act.get("by")
    if isinstance(by, str) and by and by != maker:
        who = maker_label(inputs, by)
        created = acts.get("creator", {}).get("trigger_repo")
        if key == "organiser" and repo == created:
            return f"{who} joined {repo}, a repo {maker_label(inputs, maker)} created"
        if key == "organiser" and act["kind"] == "issue_event":
            return f"{who} closed their issue in {repo} as completed"
        return f"through {who}'s act: {who} {action_words(act['kind'])} in {repo}"
    if key in ("inactive", "gone") or act["kind"] == "gap":
        # a gap is dated at its end: the last action came that many days before
        days = gap_days(inputs, key)
        at = act.get("at")
        when = f" on {spoken_date(at - pd.Timedelta(days=days))}" \
            if isinstance(at, pd.Timestamp) and not pd.isna(at) else ""
        return f"no action for {days} days after their last one, in {repo}{when}"
    return f"{action_words(act['kind'])} in {repo}"


def gap_days(inputs: ReportInputs, key: str) -> int:
    """The days of no action that make a maker ``key`` (inactive or gone)."""
    name = "gone_days" if key == "gone" else "inactive_days"
    source = inputs.config["trajectories"] if inputs.config is not None else {}
    return int(source.get(name, threshold(name).default))


def milestone_timeline(inputs: ReportInputs, maker: str) -> list[dict[str, Any]]:
    """A maker's milestones reached by as_of, in date order (milestones of the same moment
    in the rules' order): date, key, label, what happened, its link."""
    if maker not in inputs.milestones.index:
        return []
    dates = inputs.milestones.loc[maker]
    order = {key: number for number, key in enumerate(PLAIN)}
    reached = sorted(((when, order[key], key) for key, when in dates.dropna().items()
                      if key in order and when <= inputs.as_of))
    acts = trigger_rows(inputs, maker)
    return [{"when": when, "key": key, "label": PLAIN[key], "words": trigger_words(inputs, maker, key, acts),
             "link": act_link(inputs, acts.get(key)), "act": acts.get(key)} for when, _, key in reached]


def later(days: float) -> str:
    """'the same day', 'two days later', 'three weeks later', '5 months later'."""
    if days < 1:
        return "the same day"
    words = {1: "a", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    if days < 14:
        n = round(days)
        return f"{words.get(n, n)} day{'s' if n != 1 else ''} later"
    if days < 60:
        n = round(days / 7)
        return f"{words.get(n, n)} weeks later"
    if days < 730:
        n = round(days / 30.44)
        return f"{words.get(n, n)} months later"
    return f"{days / 365.25:.1f} years later"


def story(inputs: ReportInputs, maker: str, timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paragraph a maker's page opens with, from their milestones in date order, as
    pieces of text (``text``, and ``link`` where the act has a GitHub page):
    "A. first took part in g0v/g0v.tw on 3 March 2016 by opening an issue; their first
    change was accepted two weeks later; ...; in 2019 they had work merged in a government
    repository, cityofx/permits."."""
    name = maker_label(inputs, maker)
    steps = {row["key"]: row for row in timeline}
    start = steps.get("first_contact")
    if start is None:
        return [{"text": f"{name} has no recorded action yet.", "link": None}]
    act = start["act"] or {}
    pieces: list[dict[str, Any]] = [
        {"text": f"{name} first took part in ", "link": None},
        {"text": str(act.get("trigger_repo") or "the network"), "link": start["link"]},
        {"text": f" on {spoken_date(start['when'])}"
                 + (f" {FIRST_ACT_WORDS[act['kind']]}" if act.get("kind") in FIRST_ACT_WORDS else ""),
         "link": None},
    ]

    def clause(text: str, row: dict[str, Any] | None = None, linked: str | None = None, tail: str = "") -> None:
        pieces.append({"text": "; " + text, "link": None})
        if linked:
            pieces.append({"text": linked, "link": row["link"] if row else None})
        if tail:
            pieces.append({"text": tail, "link": None})

    for row in timeline:
        key, when = row["key"], row["when"]
        act = row["act"] or {}
        repo = str(act.get("trigger_repo") or "")
        month = f"{when:%B %Y}"
        if key == "first_landed":
            days = (when - start["when"]) / pd.Timedelta(days=1)
            clause("their first change was accepted " + (later(days) if days >= 1 else "the same day"))
        elif key == "returning":
            clause(f"they came back with more accepted work in {month}")
        elif key == "long_term":
            clause(f"a year on they were still contributing ({month})")
        elif key == "creator":
            clause("they started ", row, repo or "a project", f" in {month}")
        elif key == "maintainer":
            clause(f"in {month} they became a maintainer" + (" of " if repo else ""), row, repo or None)
        elif key == "core":
            clause(f"by {month} they were part of the core team of ", row, repo or "a project")
        elif key == "organiser":
            clause(f"in {month} they became an organiser ({row['words']})" if row["words"] else
                   f"in {month} they became an organiser")
        elif key == "coder_to_organiser":
            clause(f"in {month} they moved from code to organising")
        elif key == "org_bridge":
            clause(f"from {month} they worked across organisations")
        elif key == "inactive" and "gone" not in steps:
            clause(f"they have taken no action since {(when - pd.Timedelta(days=gap_days(inputs, key))):%B %Y}")
        elif key == "gone":
            clause(f"after {(when - pd.Timedelta(days=gap_days(inputs, key))):%B %Y} nothing more came "
                   "from them in the network")
        elif key == "returned":
            clause(f"in {month} they came back after a year away")
        elif key in ("government", "civic_elsewhere"):
            kind = outside_kind(inputs, repo)
            clause(f"in {when:%Y} they had work merged in {DESTINATION_KINDS.get(kind or '', 'a repository elsewhere')}, ",
                   row, repo)
        elif key == "landed_elsewhere" and "government" not in steps and "civic_elsewhere" not in steps:
            kind = outside_kind(inputs, repo)
            if kind:
                clause(f"in {when:%Y} they had work merged in {DESTINATION_KINDS[kind]}, ", row, repo)
            else:
                clause(f"in {when:%Y} they had work merged beyond the network")
        elif key == "founder":
            clause(f"in {when:%Y} they founded a project of their own that others contributed to")
    pieces.append({"text": ".", "link": None})
    return pieces


def strip_view(stages: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The stage strip: one cell a quarter, its label ("2023 Q4"), stage or state, colours."""
    if stages is None or stages.empty:
        return []
    cells = []
    for quarter, stage, state in zip(stages["quarter"], stages["stage"],
                                     stages["state"] if "state" in stages else ["active"] * len(stages), strict=True):
        shown = str(stage) if str(stage) in STAGE_COLOURS else str(state)
        rgb = colour_of(shown)
        if shown != str(state) and str(state) in ("inactive", "gone", "returned"):
            shown = f"{shown} ({state})"
        cells.append({"quarter": quarter_label(quarter), "year": f"{quarter:%Y}",
                      "q": f"Q{(quarter.month - 1) // 3 + 1}", "stage": shown,
                      "colour": hex_colour(rgb)})
    return cells


def destinations_view(inputs: ReportInputs, maker: str) -> dict[str, Any] | None:
    """Where the maker had work merged beyond the organisations: government, research and
    civic owners by name, the rest (people's own accounts among them) as a count only."""
    mine = inputs.of_maker("outside", maker)
    if mine is None:
        return None
    mine = mine[(mine["act"] == "merged") & (mine["at"] <= inputs.as_of)]
    if mine.empty:
        return None
    named = mine[mine["owner_kind"].isin(NAMED_KINDS)].groupby(["owner_kind", "owner"]).size()
    return {"named": [{"owner": owner, "kind": kind, "changes": int(n), "link": f"{inputs.web_base}/{owner}"}
                      for (kind, owner), n in named.items()],
            "others": int((~mine["owner_kind"].isin(NAMED_KINDS)).sum())}


def maker_view(inputs: ReportInputs, maker: str, row: pd.Series, events: pd.DataFrame,
               stages: pd.DataFrame | None) -> dict[str, Any]:
    """One maker's page from their own events and stage rows."""
    timeline = milestone_timeline(inputs, maker)
    stages = stages.sort_values("quarter") if stages is not None else None
    repos = events.groupby("repo", observed=True).size().sort_values(ascending=False).head(20)
    kinds = events.groupby("kind", observed=True).size().sort_values(ascending=False)
    return {
        "label": maker_label(inputs, maker), "stage": row["stage"], "actions": int(row["actions"]),
        "first": row["first"], "last": row["last"], "state_words": STATE_WORDS.get(row.get("state"), ""),
        "story": story(inputs, maker, timeline), "timeline": timeline, "strip": strip_view(stages),
        "repos": [{"repo": str(r), "actions": int(n), "link": f"{inputs.web_base}/{r}"} for r, n in repos.items()],
        "kinds": [{"words": action_words(str(k)), "actions": int(n)} for k, n in kinds.items()],
        "destinations": destinations_view(inputs, maker),
    }


def as_figure(made: tuple[str, str] | None) -> dict[str, str] | None:
    """A plot for a template: its file and alt text."""
    return {"src": made[0], "alt": made[1]} if made else None


# ---------------------------------------------------------------------------------------
# Templates


def environment():
    """The Jinja2 environment of the report's templates (autoescape on, strict undefined)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("graphminer", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def share_markup(value: dict[str, Any] | None) -> Markup:
        """A share: "59%" for ten people or more, "3 of 4 (under 10 people)" below."""
        if value is None or not value["whole"]:
            return Markup("-")
        if value["few"]:
            return Markup('<span class="share" data-people="{}">{} of {} <small class="few">'
                          "(under 10 people)</small></span>").format(value["whole"], value["part"], value["whole"])
        return Markup('<span class="share" data-people="{}">{}</span>').format(value["whole"], value["percent"])

    env.filters["share"] = share_markup
    env.filters["clean"] = lambda text: escape(clean_text(str(text)))
    env.filters["number"] = lambda n: f"{int(n):,}"
    env.filters["day"] = lambda moment: f"{moment:%Y-%m-%d}"
    env.filters["month"] = lambda moment: f"{moment:%B %Y}"
    env.filters["duration"] = plain_duration
    env.globals.update(rules_version=RULES_VERSION, stage_colour=lambda s: hex_colour(colour_of(str(s))),
                       stage_order=STAGE_ORDER, plain=PLAIN)
    return env


# ---------------------------------------------------------------------------------------
# Writing the folder


def drop_opted_out(inputs: ReportInputs, opt_out: Iterable[str]) -> ReportInputs:
    """The inputs without opted-out people (by login, name, key or git email)."""
    opted = {str(x).strip().lower() for x in opt_out}
    if not opted:
        return inputs
    gone = {
        maker for maker in inputs.events["maker"].astype(str).unique()
        if maker.lower() in opted or maker.lower().removeprefix("git:") in opted
        or str(inputs.labels.get(maker, "")).lower() in opted
    }
    if not gone:
        return inputs
    keep_ms = ~inputs.milestones.index.isin(list(gone))
    om = inputs.org_milestones
    triggers = inputs.triggers
    if triggers is not None:
        triggers = triggers[~triggers["maker"].isin(gone)]
        if "by" in triggers:  # an opted-out person's act stays someone else's, unnamed
            triggers = triggers.assign(by=triggers["by"].where(~triggers["by"].isin(gone), "someone"))
    return ReportInputs(
        events=inputs.events[~inputs.events["maker"].isin(gone)],
        milestones=inputs.milestones[keep_ms],
        org_milestones=om[~om.index.get_level_values(0).isin(list(gone))] if om is not None else om,
        stages=inputs.stages[~inputs.stages["maker"].isin(gone)] if inputs.stages is not None else None,
        as_of=inputs.as_of,
        labels={k: v for k, v in inputs.labels.items() if k not in gone},
        config=inputs.config,
        triggers=triggers,
        outside=inputs.outside[~inputs.outside["maker"].isin(gone)] if inputs.outside is not None else None,
        careers=inputs.careers,
        web_base=inputs.web_base,
    )


def write_report(outdir: Path, inputs: ReportInputs, makers_limit: int = 200) -> Path:
    """Write the report folder and return its index.html.

    ``outdir`` is new, empty, or holds an earlier report (graphminer.outputs); only that
    earlier report is replaced. The pages are made in a temporary folder beside ``outdir``
    and moved into place at the end, so a failure leaves any earlier report untouched.
    """
    given = Path(outdir)
    outdir = require_own_folder(given, REPORT_MARKER, "report")
    if not os.access(outdir.parent, os.W_OK | os.X_OK):
        raise BadInput(f"cannot write the report into {outdir}: {outdir.parent} is not writable")
    if makers_limit < 0:
        raise BadInput(f"--makers must be 0 or more, got {makers_limit}")
    opt_out = inputs.config.opt_out if inputs.config is not None else ()
    inputs = drop_opted_out(inputs, opt_out)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        _write_pages(staging, inputs, makers_limit)
        mark_folder(staging, REPORT_MARKER)
        _swap_into_place(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return given / "index.html"


def _swap_into_place(staging: Path, outdir: Path) -> None:
    if not outdir.exists():
        os.replace(staging, outdir)
        outdir.chmod(0o777 & ~current_umask())  # mkdtemp makes 0700; a report is for sharing
        return
    # An existing folder stays (it may be the current folder): only its earlier report goes.
    remove_marked(outdir, REPORT_MARKER)
    for entry in staging.iterdir():
        os.replace(entry, outdir / entry.name)
    staging.rmdir()


def _write_pages(folder: Path, inputs: ReportInputs, makers_limit: int) -> None:
    (folder / "orgs").mkdir()
    (folder / "makers").mkdir()
    env = environment()
    as_of_text = f"{inputs.as_of:%Y-%m-%d %H:%M}"
    common = {"as_of_text": as_of_text, "as_of": inputs.as_of}

    def write(template: str, path: Path, depth: int = 0, **values: Any) -> None:
        html_text = env.get_template(template).render(up="../" * depth, **common, **values)
        path.write_text(html_text, "utf-8")

    head = headline(inputs)
    funnel = funnel_view(head["counts"])
    funnel_png = plots.plot_funnel(funnel, folder / "funnel.png") if funnel else None
    trend = trend_view(inputs)
    trend_png = plots.plot_trend(trend, folder / "per-year.png") if trend else None
    curves = km_curves(inputs, ["maintainer", "organiser"])
    km_png = plots.plot_km(curves, folder / "time-to-role.png") if curves else None
    cohort_rows = stats.cohorts(inputs.milestones, inputs.events, inputs.as_of) if not inputs.milestones.empty else []
    cohorts_png = plots.plot_cohorts(cohort_rows, folder / "cohorts.png") if cohort_rows else None
    bridge_days = inputs.config["trajectories"]["bridge_days"] if inputs.config is not None else 365
    bridges = stats.org_bridges(inputs.events, inputs.as_of, bridge_days) if len(inputs.events) else []
    bridges_png = plots.plot_bridges(bridges[:12], folder / "bridges.png") if bridges else None
    orgs = org_table(inputs) if len(inputs.events) else pd.DataFrame()
    makers = top_makers(inputs, makers_limit) if len(inputs.events) else pd.DataFrame()
    where = where_view(inputs)
    careers_png = plots.plot_careers(where["rows"], where["landed"], folder / "careers.png") \
        if where["followed"] else None

    # one pass over the events for every page, not one scan per page
    acts = actions_of(inputs.events)
    shown_events = acts[acts["maker"].isin(makers.index)] if len(makers) else acts.iloc[:0]
    per_org = shown_events.groupby(["org", "maker"], observed=True).size()
    empty = pd.Series(dtype="int64")
    for org, row in orgs.iterrows():
        in_org = per_org.xs(org, level="org") if org in per_org.index.get_level_values("org") else empty
        shown = makers[makers.index.isin(in_org.index)].copy()
        shown = shown.assign(in_org=in_org.reindex(shown.index)).sort_values("in_org", ascending=False)
        write("org.html", folder / "orgs" / f"{slug(str(org))}.html", depth=1, org=str(org),
              summary={c: int(row[c]) for c in ("people", "contributors", "maintainers", "organisers", "repos")
                       if c in row},
              makers=makers_rows(inputs, shown, counts=in_org), top=len(makers))
    events_of = dict(iter(shown_events.groupby("maker", observed=True, sort=False)))
    stages_of = {}
    if inputs.stages is not None and len(makers):
        shown_stages = inputs.stages[inputs.stages["maker"].isin(makers.index)]
        stages_of = dict(iter(shown_stages.groupby("maker", observed=True, sort=False)))
    for maker, row in makers.iterrows():
        view = maker_view(inputs, str(maker), row, events_of.get(maker, shown_events.iloc[:0]), stages_of.get(maker))
        write("maker.html", folder / "makers" / row["page"], depth=1, maker=view)

    write("where.html", folder / "where.html", where=where,
          plot=as_figure(careers_png))
    glossary = [{"term": term, "meaning": meaning} for term, meaning in GLOSSARY]
    write("index.html", folder / "index.html", head=head, cards=cards_view(head, git_only(inputs)),
          sources=sources_view(inputs), glossary=glossary,
          trend=trend, trend_plot=as_figure(trend_png), funnel=funnel, funnel_plot=as_figure(funnel_png),
          curves=list(curves.values()), km_plot=as_figure(km_png), paths=paths_view(inputs),
          cohorts=cohorts_view(cohort_rows), cohorts_plot=as_figure(cohorts_png), bridges=bridges,
          bridges_plot=as_figure(bridges_png), where=where,
          orgs=[{"name": str(org), "page": f"{slug(str(org))}.html",
                 **{c: int(row[c]) for c in ("people", "contributors", "maintainers", "organisers", "repos",
                                             "actions") if c in row}} for org, row in orgs.iterrows()],
          makers=makers_rows(inputs, makers) if len(makers) else [])


# ---------------------------------------------------------------------------------------
# From the store


def inputs_from_store(conn: sqlite3.Connection, config, as_of: pd.Timestamp | None = None,
                      use_precomputed: bool = True) -> ReportInputs:
    """Events, milestones and stages of the store, as of ``as_of`` (default: last harvest),
    read by ``graphminer.reader`` (from the tables refreshed after each harvest when they
    are fresh for this as_of and ``use_precomputed``, else computed from the events)."""
    require_harvest(conn)
    reader = StoreReader(conn, config, use_precomputed=use_precomputed)
    moment = reader.moment(as_of)
    careers = None
    if not reader.outside.empty:
        careers = careers_summary(reader, None, moment)
    return ReportInputs(
        events=people_events(reader.events_until(moment)),
        milestones=reader.milestones("network", moment),
        org_milestones=reader.milestones("org", moment),
        stages=reader.stages(moment),
        as_of=moment,
        labels=reader.labels,
        config=config,
        triggers=reader.triggers(moment),
        outside=reader.outside,
        careers=careers,
        sources=org_summaries(reader.sources),
        web_base=web_url(conn),
    )


def report(outdir: Path, conn: sqlite3.Connection, config, as_of: pd.Timestamp | None = None,
           makers: int | None = None) -> Path:
    """Write the report of the store into ``outdir``; return its index.html."""
    require_own_folder(Path(outdir), REPORT_MARKER, "report")  # before the long computation
    limit = config["report"]["makers"] if makers is None else makers
    return write_report(Path(outdir), inputs_from_store(conn, config, as_of), limit)
