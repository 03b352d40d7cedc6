"""Synthetic inputs shared by the benchmarks of the graph, stats and exports: an events
frame in docs/events.md's shape (heavy-tailed makers and repos, each maker active over a
career window) and a milestones frame in the contract's shape, plus timing helpers.
The trajectory rules themselves are benchmarked on a generated world in
bench_trajectory.py; these frames time what comes after them."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphminer.milestones import KEYS as MILESTONES  # noqa: E402

KINDS = ["commit", "pr_opened", "pr_merged", "comment", "review_comment", "review", "issue_event",
         "issue_opened", "merge_performed", "release"]
KIND_SHARES = [0.25, 0.1, 0.08, 0.25, 0.05, 0.07, 0.12, 0.06, 0.015, 0.005]
START = pd.Timestamp("2014-01-01", tz="UTC")
YEARS = 10


def synthetic_events(n_events: int, n_makers: int, n_repos: int, seed: int) -> pd.DataFrame:
    """Events with heavy-tailed makers and repos, each maker active over a career window."""
    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.2, n_makers) + 1
    per_maker = np.maximum(1, np.round(weights / weights.sum() * n_events)).astype(np.int64)
    per_maker[np.argmax(per_maker)] += max(0, n_events - per_maker.sum())
    maker = np.repeat(np.arange(n_makers), per_maker)
    n = len(maker)
    career_start = rng.uniform(0, YEARS * 365, n_makers)
    career_days = np.minimum(rng.exponential(300, n_makers) + 1, YEARS * 365)
    day = np.minimum(career_start[maker] + rng.uniform(0, 1, n) * career_days[maker], YEARS * 365 - 1)
    popularity = 1.0 / np.arange(1, n_repos + 1) ** 0.9
    popularity /= popularity.sum()
    home = rng.choice(n_repos, n_makers, p=popularity)
    repo = np.where(rng.uniform(0, 1, n) < 0.75, home[maker], rng.choice(n_repos, n, p=popularity))
    n_orgs = max(1, n_repos // 50)
    kind = rng.choice(len(KINDS), n, p=KIND_SHARES)
    maker_names = np.asarray([str(i + 1000) for i in range(n_makers)], dtype=object)
    repo_names = np.asarray([f"org{r % n_orgs}/repo{r}" for r in range(n_repos)], dtype=object)
    events = pd.DataFrame({
        "ts": START + pd.to_timedelta(np.round(day * 86400).astype(np.int64), unit="s"),
        "maker": maker_names[maker],
        "org": np.asarray([f"org{i}" for i in range(n_orgs)], dtype=object)[repo % n_orgs],
        "repo": repo_names[repo],
        "kind": np.asarray(KINDS, dtype=object)[kind],
        "target": "issue:1", "target_author": None, "details": "{}",
        "is_bot": maker < n_makers // 500,
        "action": ~((kind == 0) & (rng.uniform(0, 1, n) < 0.4)),  # commits through PRs
    })
    events["ts"] = events["ts"].dt.as_unit("ns")
    return events.sort_values("ts", kind="stable", ignore_index=True)


def synthetic_milestones(events: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Network-scope milestones: real first_contact/first_landed from the events, later
    milestones at plausible random offsets."""
    rng = np.random.default_rng(seed)
    people = events[~events["is_bot"] & events["action"]]
    first = people.groupby("maker")["ts"].min()
    landed = people[people["kind"].isin(["pr_merged", "commit"])].groupby("maker")["ts"].min()
    frame = pd.DataFrame({key: pd.Series(pd.NaT, index=first.index, dtype="datetime64[ns, UTC]")
                          for key in MILESTONES})
    frame["first_contact"] = first
    frame["first_landed"] = landed.reindex(first.index)
    for key, chance, mean_days in [("returning", 0.5, 60), ("long_term", 0.15, 500), ("maintainer", 0.1, 300),
                                   ("core", 0.05, 400), ("organiser", 0.08, 200), ("org_bridge", 0.1, 250),
                                   ("reviewer", 0.2, 150), ("inactive", 0.7, 200)]:
        base = frame["first_landed"] if key in ("returning", "long_term", "core") else frame["first_contact"]
        hit = rng.uniform(0, 1, len(frame)) < chance
        offset = pd.to_timedelta(rng.exponential(mean_days, len(frame)), unit="D")
        frame[key] = (base + offset).where(hit & base.notna())
    frame.index.name = "maker"
    return frame


def rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, results: dict[str, float], action: Callable[[], Any]) -> Any:
    """Run ``action``, keep its wall time in ``results[label]``, print it with peak RSS."""
    started = time.perf_counter()
    value = action()
    results[label] = time.perf_counter() - started
    print(f"  {label:<44} {results[label]:7.2f} s   peak RSS so far {rss_mb():7.0f} MB", flush=True)
    return value
