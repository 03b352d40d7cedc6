"""The report's plots: PNG files drawn with matplotlib from figures ``graphminer.report``
gathered, each returned with its alt text (what it shows, in words).

Counts of people are drawn on integer axes; a share resting on fewer than ``FEW`` people
is written as "n/N", never as a bare percentage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from graphminer.milestones import LABELS

FEW = 10  # a share of fewer people than this is written "n of N", marked, never as a %
ACCENT = "#2b6cb0"
TRACK = "#c05621"
TREND_SERIES = (("new_makers", "took part for the first time", "#2b6cb0"),
                ("first_landed", "first contribution accepted", "#2f855a"),
                ("maintainers", "became maintainers", "#b45309"),
                ("organisers", "became organisers", "#6b46c1"))


def percent_or_count(part: float, whole: int) -> str:
    """'59%' for ten people or more, '3/4' below (no percentage for a handful)."""
    if not whole:
        return "-"
    return f"{100 * part / whole:.0f}%" if whole >= FEW else f"{part:.0f}/{whole}"


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    """A figure drawn without pyplot (no backend to choose, no figure to close): its own
    canvas renders it to PNG."""
    matplotlib.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False})
    fig = Figure(figsize=(width, height), dpi=110)
    return fig, fig.subplots()


def _people_axis(axis) -> None:
    """Whole people only: no 2.5-person ticks."""
    axis.set_major_locator(MaxNLocator(integer=True))


def _save(fig: Figure, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    return path.name


def plot_funnel(steps: list[dict[str, Any]], path: Path) -> tuple[str, str]:
    """Horizontal bars: people at each step of the ladder, then the tracks beside it
    (``steps``: key, label, people, track)."""
    fig, ax = _figure(7.5, 0.45 * len(steps) + 1.0)
    values = [step["people"] for step in steps]
    positions = np.arange(len(steps))[::-1]
    ax.barh(positions, values, color=[TRACK if step["track"] else ACCENT for step in steps])
    ax.set_yticks(positions, [step["label"] for step in steps])
    top = max(values) if values and max(values) else 1
    for y, value in zip(positions, values, strict=True):
        ax.text(value + top * 0.01, y, f"{value:,} ({percent_or_count(value, values[0])})", va="center")
    ax.set_xlim(0, top * 1.3)
    _people_axis(ax.xaxis)
    ax.set_xlabel("people")
    ax.set_title("How far people went (orange: roles beside the ladder)", loc="left")
    alt = ("Bar chart of how far people went: " + "; ".join(
        f"{step['people']:,} {step['label']}" for step in steps) + ".")
    return _save(fig, path), alt


def plot_trend(rows: list[dict[str, Any]], path: Path) -> tuple[str, str]:
    """Grouped bars per year: new makers, first contributions accepted, new maintainers,
    new organisers."""
    fig, ax = _figure(7.5, 3.4)
    width = 0.2
    x = np.arange(len(rows))
    for number, (key, label, colour) in enumerate(TREND_SERIES):
        ax.bar(x + (number - 1.5) * width, [row[key] for row in rows], width, label=label, color=colour)
    ax.set_xticks(x, [row["label"] for row in rows])
    _people_axis(ax.yaxis)
    ax.set_ylabel("people")
    ax.legend(frameon=False, fontsize=8, ncols=2)
    ax.set_title("Per year: people taking each step for the first time", loc="left")
    alt = "Grouped bar chart per year: " + "; ".join(
        f"{row['label']}: {row['new_makers']} took part for the first time, {row['first_landed']} had a "
        f"first contribution accepted, {row['maintainers']} became maintainers, {row['organisers']} "
        "became organisers" for row in rows) + "."
    return _save(fig, path), alt


def plot_km(curves: dict[str, dict[str, Any]], path: Path) -> tuple[str, str]:
    """Step curves: the share who had taken on each role by years since first contact,
    with the 95% confidence band of the Kaplan-Meier estimate shaded."""
    fig, ax = _figure(7.5, 4.0)
    colours = {"maintainer": ACCENT, "organiser": TRACK}
    for target, curve in curves.items():
        frame: pd.DataFrame = curve["frame"]
        years = np.r_[0.0, frame["days"].to_numpy() / 365.25]
        colour = colours.get(target, ACCENT)
        ax.step(years, np.r_[0.0, frame["reached"].to_numpy()] * 100, where="post",
                label=f"{LABELS[target]} ({curve['people']:,} people)", color=colour, lw=2)
        ax.fill_between(years, np.r_[0.0, frame["low"].to_numpy()] * 100,
                        np.r_[0.0, frame["high"].to_numpy()] * 100, step="post", color=colour, alpha=0.18,
                        lw=0)
    ax.set_xlabel("years since they first took part")
    ax.set_ylabel("% of people (shaded: 95% confidence)")
    ax.set_ylim(0, None)
    # below the axes: inside, it covers the bands
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    ax.set_title("Share who had taken on the role, by time since they first took part", loc="left")
    alt = ("Step chart, with shaded 95% confidence bands, of the share of people who had taken on a role "
           "by the years since they first took part: " + "; ".join(curve["words"] for curve in curves.values()))
    return _save(fig, path), alt


def plot_cohorts(rows: list[dict], path: Path) -> tuple[str, str]:
    """Heatmap: per year of first contact, the share still active 1, 2, 3 years later
    (cells of fewer than ten people say "n/N" and stay uncoloured)."""
    fig, ax = _figure(6.4, 0.38 * max(len(rows), 3) + 1.6)
    years = [f"{row['year']} ({row['makers']:,} {'person' if row['makers'] == 1 else 'people'})" for row in rows]
    columns = [str(k) for k in (1, 2, 3)]
    cells = [[row["retention"][k] for k in columns] for row in rows]
    grid = np.array([[np.nan if cell["share"] is None or cell["eligible"] < FEW else cell["share"]
                      for cell in line] for line in cells], dtype=float).reshape(len(rows), len(columns))
    image = ax.imshow(grid * 100, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(columns)), [f"{k} year{'s' if k != '1' else ''} later" for k in columns])
    ax.set_yticks(range(len(years)), years)
    ax.set_ylabel("year they first took part")
    for i, line in enumerate(cells):
        for j, cell in enumerate(line):
            text = "-" if cell["share"] is None else percent_or_count(cell["retained"], cell["eligible"])
            dark = not np.isnan(grid[i, j]) and grid[i, j] > 0.55
            ax.text(j, i, text, ha="center", va="center", color="white" if dark else "black")
    fig.colorbar(image, ax=ax, label="% still active")
    ax.set_title("Who stayed: share still active after 1, 2, 3 years", loc="left")
    fig.text(0.01, 0.01, "n/N: fewer than 10 people, no percentage; -: too recent to tell", fontsize=8)
    words = []
    for row, line in zip(rows, cells, strict=True):
        kept = ", ".join(
            f"{k} year{'s' if k != '1' else ''} later {'too recent to tell' if cell['share'] is None else percent_or_count(cell['retained'], cell['eligible'])}"
            for k, cell in zip(columns, line, strict=True))
        words.append(f"{row['year']} ({row['makers']} people): {kept}")
    alt = "Heatmap of the share still active after 1, 2 and 3 years, by the year people first took part: " \
        + "; ".join(words) + "."
    return _save(fig, path), alt


def plot_bridges(bridges: list[dict], path: Path) -> tuple[str, str]:
    fig, ax = _figure(7.5, 0.35 * max(len(bridges), 3) + 1.0)
    names = [f"{a} - {b}" for a, b in (row["orgs"] for row in bridges)][::-1]
    values = [row["makers"] for row in bridges][::-1]
    ax.barh(range(len(values)), values, color=TRACK)
    ax.set_yticks(range(len(values)), names)
    _people_axis(ax.xaxis)
    ax.set_xlabel("people active in both within a year")
    alt = "Bar chart of people active in two organisations within a year: " + "; ".join(
        f"{row['orgs'][0]} and {row['orgs'][1]}, {row['makers']}" for row in bridges) + "."
    return _save(fig, path), alt


def plot_careers(rows: list[dict[str, Any]], landed: int, path: Path) -> tuple[str, str]:
    """Horizontal bars: people reaching each destination among those whose work landed."""
    fig, ax = _figure(7.5, 0.45 * len(rows) + 1.0)
    positions = np.arange(len(rows))[::-1]
    values = [row["reached"] for row in rows]
    ax.barh(positions, values, color=ACCENT)
    ax.set_yticks(positions, [row["label"] for row in rows])
    top = max(values) if values and max(values) else 1
    for y, value in zip(positions, values, strict=True):
        ax.text(value + top * 0.01, y, f"{value:,} ({percent_or_count(value, landed)})", va="center")
    ax.set_xlim(0, top * 1.35)
    _people_axis(ax.xaxis)
    ax.set_xlabel(f"people, of the {landed:,} whose work was accepted here")
    ax.set_title("Where did they go", loc="left")
    alt = (f"Bar chart of where the {landed:,} people whose work was accepted here went: "
           + "; ".join(f"{row['reached']:,} {row['label']}" for row in rows) + ".")
    return _save(fig, path), alt
