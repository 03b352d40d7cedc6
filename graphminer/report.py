"""The report stage: a folder of static HTML pages and PNG plots for funders and boards.

Owns how the figures of ``graphminer.stats`` are shown to people who would rather look
than read: a first screen of headline numbers with one plain sentence each, then the
network funnel, time to maintainer and to organiser (Kaplan-Meier curves), the most
common paths, cohort retention (a heatmap), bridges between orgs, a page per org and a
page per maker for the most active makers. The folder needs no network: plots are PNG
files beside the pages, styles are inline, fonts are the reader's own.

Emails never appear (labels are logins or names, and anything email-like is hidden);
opted-out people are dropped before anything is drawn.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from graphminer import stats
from graphminer.careers import NAMED_KINDS, careers_summary, sentence
from graphminer.errors import BadInput
from graphminer.export import STAGE_COLOURS, clean_text, current_umask, require_harvest
from graphminer.graph import actions_of, people_events
from graphminer.milestones import LABELS, RULES_VERSION, STAGES, action_words
from graphminer.outputs import REPORT_MARKER, mark_folder, remove_marked, require_own_folder
from graphminer.reader import StoreReader

# Milestones in words a board member uses (one home: the catalogue).
PLAIN: dict[str, str] = LABELS
FUNNEL_STEPS = ("first_contact", "first_landed", "returning", "maintainer", "core")
TRACKS = ("long_term", "organiser", "org_bridge")
STAGE_ORDER = STAGES
ACCENT = "#2b6cb0"
# The index page's glossary: the words the report uses, in a sentence each.
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("action", "anything a person did in a project: opening an issue or a pull request, "
               "commenting, reviewing, sorting issues, publishing a release, or work that landed."),
    ("contribution accepted", "a pull request of theirs was merged, or a commit of theirs "
                              "reached the main branch."),
    ("participant", "took part (any action) in the last twelve months, without work accepted."),
    ("contributor", "had work accepted in the last twelve months."),
    ("returning", "a contributor who came back with more accepted work in a later month."),
    ("maintainer", "in the last twelve months, merged, closed or approved other people's work, "
                   "or released or pushed to a project others had contributed to."),
    ("core", "one of the few people who did most of a project's accepted work in a quarter, "
             "in a project with a real team that quarter."),
    ("organiser", "made room for others: welcomed a newcomer's first issue, labelled work for "
                  "newcomers, or started a project others joined."),
    ("bridge", "active in two projects or organisations within a year."),
    ("inactive / gone", "no action for six months / for a year or more."),
    ("as of", "the moment the figures describe; later activity is left out, so they can be "
              "reproduced."),
)
STATE_WORDS = {"inactive": " · no action for six months", "gone": " · no action for a year or more",
               "returned": " · came back after a year away"}


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


# ---------------------------------------------------------------------------------------
# Small helpers


def esc(value: Any) -> str:
    """Text safe inside HTML, without XML-invalid characters or emails."""
    return html.escape(clean_text(str(value)), quote=True)


def percent(part: float, whole: float) -> str:
    """``part / whole`` as a whole percentage ('-' for an empty whole)."""
    return f"{100 * part / whole:.0f}%" if whole else "-"


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


def slug(text: str) -> str:
    """A file name for an org: lower-case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "org"


def maker_label(inputs: ReportInputs, maker: str) -> str:
    """A maker's login or name; never their email (git-only makers are keyed by it)."""
    label = inputs.labels.get(maker)
    if label:
        return clean_text(label)
    return "someone without an account" if "@" in maker else clean_text(maker)


# ---------------------------------------------------------------------------------------
# Figures


def headline(inputs: ReportInputs) -> dict[str, Any]:
    """The first screen's numbers: people at each step and typical times."""
    m = inputs.milestones
    counts = {key: int(stats.reached(m, key, inputs.as_of).sum()) for key in PLAIN if key in m}
    times = stats.time_to_milestones(m, "first_contact", inputs.as_of, ["maintainer", "organiser", "first_landed"])
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
        "times": times,
        "anchors": anchors,
        "orgs": int(events["org"].nunique()) if len(events) else 0,
        "repos": int(events["repo"].nunique()) if len(events) else 0,
        "actions": len(events),
        "since": events["ts"].min().year if len(events) else None,
    }


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    """A figure drawn without pyplot (no backend to choose, no figure to close): its own
    canvas renders it to PNG."""
    matplotlib.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False})
    fig = Figure(figsize=(width, height), dpi=110)
    return fig, fig.subplots()


def _save(fig: Figure, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    return path.name


def plot_funnel(counts: dict[str, int], path: Path) -> str:
    """Horizontal bars: makers at each step of the ladder, then the two tracks."""
    steps = [k for k in FUNNEL_STEPS if k in counts] + [k for k in TRACKS if k in counts]
    values = [counts[k] for k in steps]
    fig, ax = _figure(7.5, 0.45 * len(steps) + 1.0)
    colours = [ACCENT] * len([k for k in steps if k in FUNNEL_STEPS]) + ["#dd8452"] * len(
        [k for k in steps if k in TRACKS]
    )
    positions = np.arange(len(steps))[::-1]
    ax.barh(positions, values, color=colours)
    ax.set_yticks(positions, [PLAIN[k] for k in steps])
    top = max(values) if values else 1
    for y, value in zip(positions, values, strict=True):
        ax.text(value + top * 0.01, y, f"{value:,} ({percent(value, values[0])})", va="center")
    ax.set_xlim(0, top * 1.25 or 1)
    ax.set_xlabel("people")
    ax.set_title("How far people went (orange: roles beside the ladder)", loc="left")
    return _save(fig, path)


def km_curves(inputs: ReportInputs, targets: Iterable[str]) -> dict[str, pd.DataFrame]:
    """For each target: the share who reached it by each day since first contact
    (1 - Kaplan-Meier survival; makers who have not reached it yet are censored)."""
    curves = {}
    for target in targets:
        if target not in inputs.milestones or "first_contact" not in inputs.milestones:
            continue
        timed = stats.durations_to(inputs.milestones, "first_contact", target, inputs.as_of)
        if timed.empty:
            continue
        curve = stats.kaplan_meier(timed["days"].to_numpy(), timed["observed"].to_numpy())
        curves[target] = pd.DataFrame({"days": curve["time"], "reached": 1.0 - curve["survival"]})
    return curves


def share_by(curve: pd.DataFrame, days: float) -> float:
    """The share of a 1 - KM curve reached by ``days`` (0 before its first step)."""
    before = curve[curve["days"] <= days]
    return float(before["reached"].iloc[-1]) if len(before) else 0.0


def km_sentence(target: str, curve: pd.DataFrame) -> str:
    """'Within a year, 5% of people had become maintainers; within three years, 13%.'"""
    role = {"maintainer": "become maintainers", "organiser": "become organisers"}.get(target, PLAIN[target])
    one, three = share_by(curve, 365.25), share_by(curve, 3 * 365.25)
    return f"Within a year, {100 * one:.0f}% of people had {role}; within three years, {100 * three:.0f}%."


def plot_km(curves: dict[str, pd.DataFrame], path: Path) -> str:
    fig, ax = _figure(7.5, 3.6)
    colours = {"maintainer": (43, 108, 176), "organiser": (221, 132, 82)}
    for target, curve in curves.items():
        rgb = colours.get(target, (43, 108, 176))
        years = np.r_[0.0, curve["days"].to_numpy() / 365.25]
        shares = np.r_[0.0, curve["reached"].to_numpy()] * 100
        ax.step(years, shares, where="post", label=PLAIN[target], color=[c / 255 for c in rgb], lw=2)
    ax.set_xlabel("years since first contact")
    ax.set_ylabel("% of people")
    ax.set_ylim(0, None)
    ax.legend(frameon=False)
    ax.set_title("Share who had taken on the role, by time since they first took part", loc="left")
    return _save(fig, path)


def plot_cohorts(rows: list[dict], path: Path) -> str:
    """Heatmap: per year of first contact, the share still active 1, 2, 3 years later."""
    fig, ax = _figure(6.0, 0.35 * max(len(rows), 3) + 1.4)
    years = [f"{row['year']} ({row['makers']:,} {'person' if row['makers'] == 1 else 'people'})" for row in rows]
    columns = [str(k) for k in stats.COHORT_YEARS]
    grid = np.array(
        [[np.nan if row["retention"][k]["share"] is None else row["retention"][k]["share"] for k in columns]
         for row in rows],
        dtype=float,
    ).reshape(len(rows), len(columns))
    image = ax.imshow(grid * 100, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(columns)), [f"{k} year{'s' if k != '1' else ''} later" for k in columns])
    ax.set_yticks(range(len(years)), years)
    ax.set_ylabel("year they first took part")
    for (i, j), value in np.ndenumerate(grid):
        text = "-" if np.isnan(value) else f"{100 * value:.0f}%"
        dark = not np.isnan(value) and value > 0.55
        ax.text(j, i, text, ha="center", va="center", color="white" if dark else "black")
    fig.colorbar(image, ax=ax, label="% still active")
    ax.set_title("Who stayed: share still active after 1, 2, 3 years", loc="left")
    return _save(fig, path)


def plot_bridges(bridges: list[dict], path: Path) -> str:
    fig, ax = _figure(7.5, 0.35 * max(len(bridges), 3) + 1.0)
    names = [f"{a} - {b}" for a, b in (row["orgs"] for row in bridges)][::-1]
    values = [row["makers"] for row in bridges][::-1]
    ax.barh(range(len(values)), values, color="#dd8452")
    ax.set_yticks(range(len(values)), names)
    ax.set_xlabel("people active in both within a year")
    return _save(fig, path)


def org_table(inputs: ReportInputs) -> pd.DataFrame:
    """Per org: people, contributors, maintainers, organisers, repos, actions."""
    om = inputs.org_milestones
    events = actions_of(inputs.events)
    per_org = events.groupby("org", observed=True).agg(repos=("repo", "nunique"), actions=("ts", "size"))
    if om is None or om.empty:
        counts = events.groupby("org", observed=True)["maker"].nunique().rename("people").to_frame()
    else:
        reached = {key: stats.reached(om, key, inputs.as_of) for key in ("first_contact", "first_landed", "maintainer", "organiser") if key in om}
        frame = pd.DataFrame(reached).reset_index(drop=True)
        frame["org"] = om.index.get_level_values("org").to_numpy()
        counts = frame.groupby("org").sum().rename(
            columns={"first_contact": "people", "first_landed": "contributors",
                     "maintainer": "maintainers", "organiser": "organisers"}
        )
    table = per_org.join(counts, how="left").fillna(0)
    return table.astype("int64").sort_values(["actions"], ascending=False)


def top_makers(inputs: ReportInputs, limit: int) -> pd.DataFrame:
    """The ``limit`` most active makers: actions, first and last action, stage, state."""
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
    table["page"] = [f"m{rank:04d}.html" for rank in range(1, len(table) + 1)]
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


# ---------------------------------------------------------------------------------------
# HTML

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
color:#1a202c;background:#f7fafc;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:30px;margin:8px 0 4px}h2{margin-top:44px;border-bottom:2px solid #e2e8f0;padding-bottom:4px}
.lede{font-size:18px;color:#4a5568;margin:0 0 22px}
.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:16px}
.card{background:#fff;border-radius:10px;padding:16px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card .n{font-size:36px;font-weight:700;color:#2b6cb0;line-height:1.1}
.card .what{font-weight:600;margin:2px 0 6px}.card p{margin:0;color:#4a5568;font-size:14px}
.note{color:#718096;font-size:13px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e2e8f0}th{background:#edf2f7}
td.num,th.num{text-align:right}
img{max-width:100%;background:#fff;border-radius:8px}
.stage{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#1a202c}
.timeline{display:flex;gap:2px;flex-wrap:wrap;margin:8px 0}.timeline span{width:22px;height:22px;border-radius:3px}
nav a{margin-right:14px}
dl.glossary{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;font-size:14px}
dl.glossary dt{font-weight:600}dl.glossary dd{margin:0}
"""


def stage_badge(stage: str) -> str:
    r, g, b = STAGE_COLOURS.get(str(stage), (200, 200, 200))
    return f'<span class="stage" style="background:rgb({r},{g},{b})">{esc(stage)}</span>'


def page(title: str, body: str, depth: int = 0) -> str:
    up = "../" * depth
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width\"><title>{esc(title)}</title>"
        f"<style>{STYLE}</style></head><body><main>"
        f"<nav><a href=\"{up}index.html\">Overview</a><a href=\"{up}index.html#orgs\">Organisations</a>"
        f"<a href=\"{up}index.html#makers\">Makers</a></nav>{body}</main></body></html>\n"
    )


def card(number: str, what: str, sentence: str) -> str:
    return f'<div class="card"><div class="n">{esc(number)}</div><div class="what">{esc(what)}</div><p>{esc(sentence)}</p></div>'


def first_screen(head: dict[str, Any], as_of: pd.Timestamp) -> str:
    """Headline numbers a funder reads in thirty seconds."""
    c = head["counts"]
    people = c.get("first_contact", 0)
    landed = c.get("first_landed", 0)
    to_maintainer = head["took"].get("maintainer")
    anchors = head["anchors"]
    since = f" since {head['since']}" if head["since"] else ""
    cards = [
        card(f"{people:,}", "people took part",
             f"Everyone who opened an issue, commented, reviewed or contributed code in "
             f"{head['repos']:,} projects of {head['orgs']:,} organisations{since}."),
        card(f"{landed:,}", "had work accepted",
             f"{percent(landed, people)} of them saw a contribution of theirs merged into a project."),
        card(f"{c.get('returning', 0):,}", "came back for more",
             f"{percent(c.get('returning', 0), landed)} of those contributors returned in a later month; "
             f"studies of open source find about half never do."),
        card(f"{c.get('maintainer', 0):,}", "became maintainers",
             f"They now review, merge and release other people's work. Half of them got there "
             f"within {plain_duration(to_maintainer)} of first taking part."
             if to_maintainer is not None else
             "They now review, merge and release other people's work."),
        card(f"{c.get('organiser', 0):,}", "became organisers",
             "They welcomed newcomers, sorted issues for others or started projects that others joined."),
        card(f"{c.get('org_bridge', 0):,}", "worked across organisations",
             "They carried skills from one organisation to another within a year."),
    ]
    long_term = anchors.get("long_term_rate")
    long_term_text = (
        f" Of contributors we can follow for a year, {100 * long_term:.0f}% were still contributing "
        "a year on (open source in general: about 12%)." if long_term is not None else ""
    )
    return (
        f"<h1>What taking part did for people</h1>"
        f"<p class=\"lede\">{people:,} people took part in {head['orgs']:,} civic tech organisations. "
        f"This is what became of them, as of {as_of:%d %B %Y}.{esc(long_term_text)}</p>"
        f"<div class=\"cards\">{''.join(cards)}</div>"
    )


def glossary() -> str:
    """The words of the report, each in a sentence (stages in their order first)."""
    rows = "".join(f"<dt>{esc(term)}</dt><dd>{esc(meaning)}</dd>" for term, meaning in GLOSSARY)
    return ('<h2 id="words">What the words mean</h2><p class=note>Stages, lowest first: '
            + esc(" < ".join(STAGE_ORDER)) + f'.</p><dl class="glossary">{rows}</dl>')


def paths_table(rows: list[dict]) -> str:
    body = "".join(
        f"<tr><td>{esc(' → '.join(PLAIN.get(k, k) for k in row['path']))}</td>"
        f"<td class=num>{row['makers']:,}</td><td class=num>{esc(percent(row['share'] or 0, 1))}</td></tr>"
        for row in rows
    )
    return (
        "<table><tr><th>what they did, in order</th><th class=num>people</th><th class=num>share</th></tr>"
        f"{body}</table>"
    )


def bridges_table(rows: list[dict]) -> str:
    body = "".join(
        f"<tr><td>{esc(row['orgs'][0])}</td><td>{esc(row['orgs'][1])}</td><td class=num>{row['makers']:,}</td></tr>"
        for row in rows
    )
    return f"<table><tr><th>organisation</th><th>and organisation</th><th class=num>people in both</th></tr>{body}</table>"


def orgs_index_table(table: pd.DataFrame) -> str:
    columns = [c for c in ("people", "contributors", "maintainers", "organisers", "repos", "actions") if c in table]
    head = "".join(f"<th class=num>{c}</th>" for c in columns)
    body = "".join(
        f"<tr><td><a href=\"orgs/{slug(str(org))}.html\">{esc(org)}</a></td>"
        + "".join(f"<td class=num>{int(row[c]):,}</td>" for c in columns)
        + "</tr>"
        for org, row in table.iterrows()
    )
    return f"<table><tr><th>organisation</th>{head}</tr>{body}</table>"


def makers_table(inputs: ReportInputs, makers: pd.DataFrame, depth: int, counts: pd.Series | None = None) -> str:
    up = "../" * depth
    actions = makers["actions"] if counts is None else counts.reindex(makers.index).fillna(makers["actions"])
    rows = [
        f"<tr><td><a href=\"{up}makers/{page_name}\">{esc(maker_label(inputs, maker))}</a></td>"
        f"<td>{stage_badge(stage)}</td><td class=num>{int(n):,}</td>"
        f"<td>{first:%Y-%m-%d}</td><td>{last:%Y-%m-%d}</td></tr>"
        for maker, page_name, stage, n, first, last in zip(
            makers.index, makers["page"], makers["stage"], actions, makers["first"], makers["last"], strict=True)
    ]
    return (
        "<table><tr><th>maker</th><th>stage now</th><th class=num>actions</th><th>first</th><th>latest</th></tr>"
        + "".join(rows) + "</table>"
    )


def org_page(inputs: ReportInputs, org: str, row: pd.Series, makers: pd.DataFrame, in_org: pd.Series) -> str:
    """An org's figures and its makers among the report's most active (``in_org``: their
    actions in this org)."""
    shown = makers[makers.index.isin(in_org.index)].copy()
    shown = shown.assign(in_org=in_org.reindex(shown.index)).sort_values("in_org", ascending=False)
    summary = ", ".join(
        f"{int(row[c]):,} {c}" for c in ("people", "contributors", "maintainers", "organisers", "repos") if c in row
    )
    return page(
        f"{org}: makers",
        f"<h1>{esc(org)}</h1><p class=lede>{esc(summary)}.</p>"
        f"<h2>Most active makers</h2><p class=note>Among the {len(makers)} most active makers of the "
        f"network, those active here, by their actions in {esc(org)}.</p>"
        + makers_table(inputs, shown, depth=1, counts=in_org),
        depth=1,
    )


def maker_page(inputs: ReportInputs, maker: str, row: pd.Series, events: pd.DataFrame,
               stages: pd.DataFrame | None) -> str:
    """One maker's page from their own events and stage rows."""
    label = maker_label(inputs, maker)
    reached_rows = "".join(
        f"<tr><td>{when:%Y-%m-%d}</td><td>{esc(PLAIN[key])}</td><td>{esc(what)}</td></tr>"
        for when, key, what in milestone_timeline(inputs, maker)
    )
    stages = stages.sort_values("quarter") if stages is not None else None
    timeline = ""
    if stages is not None and not stages.empty:
        cells = "".join(
            f'<span title="{q:%Y} Q{(q.month - 1) // 3 + 1}: {esc(s)}" '
            f'style="background:rgb{STAGE_COLOURS.get(str(s), (220, 220, 220))}"></span>'
            for q, s in zip(stages["quarter"], stages["stage"], strict=True)
        )
        legend = " ".join(stage_badge(s) for s in STAGE_ORDER)
        first, last = stages["quarter"].iloc[0], stages["quarter"].iloc[-1]
        span = f"{first:%Y} Q{(first.month - 1) // 3 + 1} to {last:%Y} Q{(last.month - 1) // 3 + 1}"
        timeline = (f"<h2>Stage, quarter by quarter</h2><p class=note>{span}</p>"
                    f"<div class=timeline>{cells}</div><p class=note>{legend}</p>")
    repos = events.groupby("repo", observed=True).size().sort_values(ascending=False).head(20)
    repo_rows = "".join(f"<tr><td>{esc(r)}</td><td class=num>{n:,}</td></tr>" for r, n in repos.items())
    kinds = events.groupby("kind", observed=True).size().sort_values(ascending=False)
    kind_rows = "".join(f"<tr><td>{esc(action_words(str(k)))}</td><td class=num>{n:,}</td></tr>"
                        for k, n in kinds.items())
    return page(
        label,
        f"<h1>{esc(label)}</h1><p class=lede>{stage_badge(row['stage'])} · {int(row['actions']):,} actions "
        f"from {row['first']:%B %Y} to {row['last']:%B %Y}{esc(STATE_WORDS.get(row.get('state'), ''))}</p>{timeline}"
        f"<h2>Milestones, in the order they came</h2><table><tr><th>date</th><th>milestone</th>"
        f"<th>what happened</th></tr>{reached_rows}</table>"
        f"<h2>Projects</h2><table><tr><th>repository</th><th class=num>actions</th></tr>{repo_rows}</table>"
        f"{destinations_section(inputs, maker)}"
        f"<h2>Kinds of action</h2><table><tr><th>kind</th><th class=num>actions</th></tr>{kind_rows}</table>",
        depth=1,
    )


def destinations_section(inputs: ReportInputs, maker: str) -> str:
    """Where the maker had work merged beyond the organisations: government, research and
    civic owners by name, the rest (people's own accounts among them) as a count only."""
    outside = inputs.outside
    if outside is None or outside.empty:
        return ""
    mine = outside[(outside["maker"] == maker) & (outside["act"] == "merged") & (outside["at"] <= inputs.as_of)]
    if mine.empty:
        return ""
    named = mine[mine["owner_kind"].isin(NAMED_KINDS)].groupby(["owner_kind", "owner"]).size()
    rows = "".join(f"<tr><td>{esc(owner)}</td><td>{esc(kind)}</td><td class=num>{n:,}</td></tr>"
                   for (kind, owner), n in named.items())
    others = int((~mine["owner_kind"].isin(NAMED_KINDS)).sum())
    plural = "s" if others != 1 else ""
    note = f"<p class=note>{'And ' if rows else ''}{others:,} other change{plural} merged elsewhere.</p>" if others else ""
    table = (f"<table><tr><th>where</th><th>kind</th><th class=num>changes merged</th></tr>{rows}</table>"
             if rows else "")
    return f"<h2>Beyond the organisations</h2>{table}{note}"


def plot_careers(summary: dict, path: Path) -> str:
    """Horizontal bars: people reaching each destination among those whose work landed."""
    rows = summary["destinations"]
    fig, ax = _figure(7.5, 0.45 * len(rows) + 1.0)
    positions = np.arange(len(rows))[::-1]
    values = [row["reached"] for row in rows]
    ax.barh(positions, values, color=ACCENT)
    ax.set_yticks(positions, [PLAIN[row["milestone"]] for row in rows])
    top = max(values) if values and max(values) else 1
    for y, value in zip(positions, values, strict=True):
        ax.text(value + top * 0.01, y, f"{value:,} ({percent(value, summary['landed'])})", va="center")
    ax.set_xlim(0, top * 1.3)
    ax.set_xlabel("people whose work landed here")
    ax.set_title("Where did they go", loc="left")
    return _save(fig, path)


def careers_section(inputs: ReportInputs, folder: Path) -> str:
    """The "Where did they go" section (empty when nobody was followed)."""
    summary = inputs.careers
    if not summary or not summary["followed"]:
        return ""
    png = plot_careers(summary, folder / "careers.png")
    said = "".join(f"<li>{esc(sentence(summary, row))}</li>" for row in summary["destinations"])
    return ("<h2>Where did they go</h2><p>Among the people whose first contribution landed here, "
            f"{summary['followed']:,} were followed beyond the harvested organisations (opt-in): "
            "changes merged elsewhere, projects of their own others joined.</p>"
            f'<img src="{png}" alt="people reaching each destination"><ul>{said}</ul>')


def milestone_timeline(inputs: ReportInputs, maker: str) -> list[tuple[pd.Timestamp, str, str]]:
    """A maker's milestones reached by as_of as (date, key, what happened), in date order
    (milestones of the same moment in the rules' order)."""
    if maker not in inputs.milestones.index:
        return []
    dates = inputs.milestones.loc[maker]
    order = {key: number for number, key in enumerate(PLAIN)}
    reached = sorted(((when, order[key], key) for key, when in dates.dropna().items()
                      if key in order and when <= inputs.as_of))
    acts = trigger_rows(inputs, maker)
    return [(when, key, trigger_words(inputs, maker, key, acts)) for when, _, key in reached]


def trigger_rows(inputs: ReportInputs, maker: str) -> dict[str, dict[str, Any]]:
    """milestone -> its trigger row, for one maker (empty without triggers)."""
    triggers = inputs.triggers
    if triggers is None or triggers.empty:
        return {}
    own = triggers[triggers["maker"] == maker]
    return {row["milestone"]: row for row in own.to_dict("records")}


def trigger_words(inputs: ReportInputs, maker: str, key: str, acts: dict[str, dict[str, Any]]) -> str:
    """What happened, in plain words; a milestone reached through someone else's act says
    whose act it was ("X joined a repo they created")."""
    act = acts.get(key)
    if act is None or not act.get("kind"):
        return ""
    repo = act.get("trigger_repo") or "a project"
    by = act.get("by")
    if isinstance(by, str) and by and by != maker:
        who = maker_label(inputs, by)
        created = acts.get("creator", {}).get("trigger_repo")
        if key == "organiser" and repo == created:
            return f"{who} joined {repo}, a repo they created"
        if key == "organiser" and act["kind"] == "issue_event":
            return f"{who} closed their issue in {repo} as completed"
        return f"through {who}'s act: {who} {action_words(act['kind'])} in {repo}"
    if key in ("inactive", "gone"):
        return f"nothing after they {action_words(act['kind'])} in {repo}"
    return f"{action_words(act['kind'])} in {repo}"


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
    head = headline(inputs)
    funnel_png = plot_funnel(head["counts"], folder / "funnel.png")
    curves = km_curves(inputs, ["maintainer", "organiser"])
    km_png = plot_km(curves, folder / "time-to-role.png") if curves else None
    path_rows = stats.paths(inputs.milestones[stats.reached(inputs.milestones, "first_contact", inputs.as_of)]) if not inputs.milestones.empty else []
    cohort_rows = stats.cohorts(inputs.milestones, inputs.events, inputs.as_of) if not inputs.milestones.empty else []
    cohorts_png = plot_cohorts(cohort_rows, folder / "cohorts.png") if cohort_rows else None
    bridge_days = inputs.config["trajectories"]["bridge_days"] if inputs.config is not None else 365
    bridges = stats.org_bridges(inputs.events, inputs.as_of, bridge_days) if len(inputs.events) else []
    bridges_png = plot_bridges(bridges[:12], folder / "bridges.png") if bridges else None
    orgs = org_table(inputs) if len(inputs.events) else pd.DataFrame()
    makers = top_makers(inputs, makers_limit) if len(inputs.events) else pd.DataFrame()

    # one pass over the events for every page, not one scan per page
    acts = actions_of(inputs.events)
    shown_events = acts[acts["maker"].isin(makers.index)] if len(makers) else acts.iloc[:0]
    per_org = shown_events.groupby(["org", "maker"], observed=True).size()
    empty = pd.Series(dtype="int64")
    for org, row in orgs.iterrows():
        in_org = per_org.xs(org, level="org") if org in per_org.index.get_level_values("org") else empty
        (folder / "orgs" / f"{slug(str(org))}.html").write_text(org_page(inputs, str(org), row, makers, in_org), "utf-8")
    events_of = dict(iter(shown_events.groupby("maker", observed=True, sort=False)))
    stages_of = {}
    if inputs.stages is not None and len(makers):
        shown_stages = inputs.stages[inputs.stages["maker"].isin(makers.index)]
        stages_of = dict(iter(shown_stages.groupby("maker", observed=True, sort=False)))
    for maker, row in makers.iterrows():
        page_html = maker_page(inputs, str(maker), row, events_of.get(maker, shown_events.iloc[:0]), stages_of.get(maker))
        (folder / "makers" / row["page"]).write_text(page_html, "utf-8")

    km_text = " ".join(km_sentence(target, curve) for target, curve in curves.items())
    sections = [
        first_screen(head, inputs.as_of),
        glossary(),
        "<h2>How far people went</h2><p>Each bar counts the people who reached that step. "
        "Most people take part once; the bars show how many went further.</p>"
        f'<img src="{funnel_png}" alt="funnel of people reaching each step">',
    ]
    if km_png:
        sections.append(
            "<h2>How long it takes to become a maintainer or an organiser</h2>"
            f"<p>{esc(km_text)} People who have not got there yet still count: the curve "
            "allows for the time they have had so far (a Kaplan-Meier estimate).</p>"
            f'<img src="{km_png}" alt="share who became maintainer or organiser over time">'
        )
    if path_rows:
        sections.append("<h2>The most common paths</h2><p>What people did, in the order they did it.</p>" + paths_table(path_rows))
    if cohorts_png:
        sections.append(
            "<h2>Who stayed</h2><p>People grouped by the year they first took part: the share still "
            f'active one, two and three years later.</p><img src="{cohorts_png}" alt="cohort retention heatmap">'
        )
    if bridges:
        sections.append(
            "<h2>Bridges between organisations</h2><p>People active in two organisations within a year "
            "of each other carry skills and ideas between them.</p>"
            + (f'<img src="{bridges_png}" alt="bridges between organisations">' if bridges_png else "")
            + bridges_table(bridges)
        )
    sections.append(careers_section(inputs, folder))
    sections.append('<h2 id="orgs">Organisations</h2>' + orgs_index_table(orgs) if len(orgs) else "")
    if len(makers):
        sections.append(
            f'<h2 id="makers">The {len(makers)} most active makers</h2>' + makers_table(inputs, makers, depth=0)
        )
    sections.append(
        "<p class=note>Made by graphminer (rules version "
        f"{esc(RULES_VERSION)}) as of {inputs.as_of:%Y-%m-%d %H:%M} UTC. Bots are left out. "
        "Emails are never shown.</p>"
    )
    (folder / "index.html").write_text(page("What taking part did for people", "".join(sections)), "utf-8")


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
    )


def report(outdir: Path, conn: sqlite3.Connection, config, as_of: pd.Timestamp | None = None,
           makers: int | None = None) -> Path:
    """Write the report of the store into ``outdir``; return its index.html."""
    require_own_folder(Path(outdir), REPORT_MARKER, "report")  # before the long computation
    limit = config["report"]["makers"] if makers is None else makers
    return write_report(Path(outdir), inputs_from_store(conn, config, as_of), limit)
