"""Bench: identity rules against hand labels, beside main's rules and gambit, and the
harvest time of the largest shared log, all in one run (issue 21).

For a reference commit (default 056d39d, main before issue 21) unpacked with
``git archive`` into a temporary folder, and for this working tree:
  - each labelled history (tests/fixtures/identities-*.json) is harvested with
    ``python -m graphminer harvest-git LOG`` and scored pairwise from
    ``identities --json --include-bots`` (tests/identity_labels_support.py);
  - gambit (Gote & Zingg, MSR 2021, the test dependency ``gambit-disambig``, default
    method and thresholds) is scored on exactly the same identities;
  - ``harvest-git`` of mysociety+fixmystreet (16,302 commits, the largest shared log) is
    timed REPEAT times for each tree, alternating, best wall time and its CPU time.
The held-out history is marked: its rules were not developed on it.

    python bench/bench_identities.py [--reference 056d39d] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT.parent / "shared" / "data" / "git-logs"
TIMED_LOG = LOGS / "mysociety+fixmystreet.log.gz"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_git import best, timed  # noqa: E402
from identity_labels_support import (  # noqa: E402
    HELD_OUT,
    LABELLED,
    gambit_groups,
    labelled_identities,
    labels,
    maker_of_identity,
    pairwise_counts,
    ratio,
)


def unpack(reference: str, into: Path) -> Path:
    """The tree of ``reference`` (a commit of this repository) unpacked into ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", reference], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def tree_env(tree: Path, config: Path) -> dict[str, str]:
    """The environment that makes ``python -m graphminer`` run ``tree``'s code."""
    env = {**os.environ, "PYTHONPATH": str(tree), "GRAPHMINER_CONFIG": str(config)}
    found = subprocess.run([sys.executable, "-c", "import graphminer; print(graphminer.__file__)"],
                           env=env, cwd=tree, check=True, capture_output=True, text=True).stdout.strip()
    assert Path(found).resolve().is_relative_to(tree.resolve()), f"{found} is not from {tree}"
    return env


def makers(tree: Path, env: dict[str, str], log: Path, store: Path) -> list[dict]:
    command = [sys.executable, "-m", "graphminer"]
    subprocess.run([*command, "harvest-git", str(log), "--store", str(store)], env=env, cwd=tree,
                   check=True, capture_output=True)
    answer = subprocess.run([*command, "identities", "--json", "--include-bots", "--store", str(store)],
                            env=env, cwd=tree, check=True, capture_output=True, text=True)
    return json.loads(answer.stdout)


def row(counts: tuple[int, int, list, list]) -> str:
    right, same, wrong, _ = counts
    return f"{ratio(right, right + len(wrong)):.3f} / {ratio(right, same):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="056d39d")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not TIMED_LOG.is_file():
        sys.exit(f"no shared logs at {LOGS}: the bench reads ../shared/data/git-logs")
    work = Path(tempfile.mkdtemp(prefix="bench-identities-"))
    try:
        config = work / "graphminer.toml"
        config.write_text("[people]\n", "utf-8")
        trees = {"main": unpack(args.reference, work / "reference"), "ours": ROOT}
        envs = {label: tree_env(tree, config) for label, tree in trees.items()}
        table, totals = [], {label: [0, 0, 0] for label in ("main", "ours", "gambit")}
        for name in LABELLED:
            fixture = labels(name)
            answers = {label: maker_of_identity(makers(tree, envs[label], LOGS / f"{name}.log.gz",
                                                      work / f"{label}-{name}.sqlite"))
                       for label, tree in trees.items()}
            answers["gambit"] = gambit_groups(labelled_identities(fixture))
            counts = {label: pairwise_counts(fixture, answer) for label, answer in answers.items()}
            for label, (right, same, wrong, _) in counts.items():
                totals[label] = [totals[label][0] + right, totals[label][1] + same, totals[label][2] + len(wrong)]
            table.append((name + (" (held out)" if name in HELD_OUT else ""), counts))

        times = {label: [] for label in trees}
        for index in range(args.repeat):
            for label, tree in trees.items():
                store = work / f"time-{label}-{index}.sqlite"
                times[label].append(timed([sys.executable, "-m", "graphminer", "harvest-git", str(TIMED_LOG),
                                           "--store", str(store)], env=envs[label], cwd=tree))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"pairwise precision / recall on hand-labelled identities (main = {args.reference})")
    print(f"  {'history':<46} {'pairs':>5}  {'main':>13}  {'this tree':>13}  {'gambit':>13}")
    for name, counts in table:
        print(f"  {name:<46} {counts['ours'][1]:>5}  {row(counts['main']):>13}  {row(counts['ours']):>13}  "
              f"{row(counts['gambit']):>13}")
    pooled = {label: (right, same, [None] * wrong, []) for label, (right, same, wrong) in totals.items()}
    print(f"  {'pooled':<46} {totals['ours'][1]:>5}  {row(pooled['main']):>13}  {row(pooled['ours']):>13}  "
          f"{row(pooled['gambit']):>13}")
    (main_wall, main_cpu), (ours_wall, ours_cpu) = best(times["main"]), best(times["ours"])
    print(f"harvest-git {TIMED_LOG.name}, best of {args.repeat}, wall s (CPU s): main {main_wall:.2f} ({main_cpu:.2f}), "
          f"this tree {ours_wall:.2f} ({ours_cpu:.2f}); ratio {ours_wall / main_wall:.2f} (CPU {ours_cpu / main_cpu:.2f})")


if __name__ == "__main__":
    main()
