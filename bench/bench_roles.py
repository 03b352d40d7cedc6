"""The roles of rules version 4 (issue 19) and later on the seven real civic tech histories in
../shared/data/git-logs, beside rules version 3: the figures docs/rules.md's table gives.

For each log, each version harvests it git-only into its own store (``graphminer
harvest-git LOG``, the version's own code, in its own process) and reads back, among the
makers with a landed contribution: how many reached committer (version 4 only), maintainer
and core, and the median days from first_landed to each (over the makers who reached it,
clipped at 0); how many maintainers got there within a day of first contact; whether the
three makers with the most authored default-branch commits among those who reached
long_term are core; and how many makers are bots or role accounts (left out).

    python bench/bench_roles.py [--logs ../shared/data/git-logs] [--baseline-ref 056d39d]
                                [--workdir bench/cache/roles] [--json]
                                [--tagged PATH=OWNER/NAME ...] [--no-logs]

``--tagged`` measures the annotated-tag rule on a real repository (saved logs hold no
tags): it is harvested with this checkout, and for each tagger identity it prints the maker
it belongs to, the tagger's first tag made after someone else had landed work there, the
maker's maintainer date, and whether that is no later than a day after the tag.

Version 3 is ``git archive`` of ``--baseline-ref`` (056d39d, the commit issue 19 started
from) unpacked in the workdir; this checkout is version 4 or later (version 5 changed only the
organiser act, which this bench does not count). Stores are kept in the workdir
and made again only when missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench_trajectory import baseline_checkout

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT.parent / "shared" / "data" / "git-logs"
ROLES = ("committer", "maintainer", "core")

# Run in the version's own process (its source first on sys.path): what a log's store says.
FIGURES = r"""
import json, sqlite3, sys
import pandas as pd
from graphminer import trajectory
from graphminer.config import load_config
from graphminer.events import load_events
from graphminer.reader import harvest_end

conn = sqlite3.connect(sys.argv[1])
config = load_config(None)
events = load_events(conn, config)
as_of = harvest_end(conn)
wide = trajectory.milestones(events, as_of, config)
landed = wide[wide["first_landed"].notna()]
found = {"version": trajectory.RULES_VERSION, "landed": len(landed)}
for role in ("committer", "maintainer", "core"):
    if role not in wide:
        continue
    reached = landed[landed[role].notna()]
    days = ((reached[role] - reached["first_landed"]) / pd.Timedelta(days=1)).clip(lower=0)
    found[role] = {"reached": len(reached),
                   "median_days": round(float(days.median()), 1) if len(days) else None}
maintainers = wide[wide["maintainer"].notna()]
quick = (maintainers["maintainer"] - maintainers["first_contact"]) <= pd.Timedelta(days=1)
found["maintainers_within_a_day"] = [int(quick.sum()), len(maintainers)]
people = events[~events["is_bot"]]
commits = people[people["kind"].eq("commit")].groupby("maker").size().sort_values(ascending=False)
long_term = set(wide.index[wide["long_term"].notna()])
top = [key for key in commits.index if key in long_term][:3]
found["top_long_term_core"] = [[key, int(commits[key]), bool(pd.notna(wide.loc[key, "core"]))]
                               for key in top]
roles = set(events.loc[events["role_account"], "maker"]) if "role_account" in events else set()
found["bots"] = len(set(events.loc[events["is_bot"], "maker"]) - roles)
found["role_accounts"] = len(roles)
print(json.dumps(found))
"""


def source_tree(workdir: Path, ref: str) -> Path:
    """``git archive REF`` unpacked once into the workdir (the repository is not touched)."""
    return baseline_checkout(workdir, None, ref)


def in_version(source: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` with ``source`` first on the path (that version's graphminer)."""
    env = dict(os.environ, PYTHONPATH=str(source))
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                            cwd=source)
    if result.returncode:
        sys.exit(f"{' '.join(args[:3])} failed under {source}:\n{result.stderr[-2000:]}")
    return result


def figures(source: Path, log: Path, store: Path) -> dict:
    """Harvest ``log`` with the version in ``source`` (once) and read its figures."""
    if not store.exists():
        in_version(source, "-m", "graphminer", "harvest-git", str(log), "--store", str(store))
    return json.loads(in_version(source, "-c", FIGURES, str(store)).stdout.strip().splitlines()[-1])


def cell(found: dict, role: str) -> str:
    """'12 (15%), 30 d' for one version's role, '-' when the version has no such role."""
    if role not in found:
        return "-"
    reached = found[role]["reached"]
    share = f"{100 * reached / found['landed']:.0f}%" if found["landed"] else "-"
    days = found[role]["median_days"]
    return f"{reached} ({share}), {'-' if days is None else f'{days:g} d'}"


def table(rows: dict[str, dict[str, dict]]) -> str:
    """The markdown table of docs/rules.md."""
    lines = ["| history | landed makers (v3 / v4) | committer v4 | maintainer v3 | maintainer v4 "
             "| core v3 | core v4 | maintainers within a day of first contact (v3 / v4) "
             "| top 3 long-term authors core in v4 | bots, role accounts (v4) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, found in rows.items():
        old, new = found["3"], found["4"]
        quick = " / ".join(f"{a}/{b}" for a, b in (old["maintainers_within_a_day"],
                                                   new["maintainers_within_a_day"]))
        top = " ".join("yes" if core else "no" for _, _, core in new["top_long_term_core"])
        lines.append(
            f"| {name} | {old['landed']} / {new['landed']} | {cell(new, 'committer')} "
            f"| {cell(old, 'maintainer')} | {cell(new, 'maintainer')} | {cell(old, 'core')} "
            f"| {cell(new, 'core')} | {quick} | {top} | {new['bots']}, {new['role_accounts']} |")
    return "\n".join(lines)


def tagger_figures(path: str, full_name: str, workdir: Path) -> list[dict]:
    """Per tagger identity of a repository: its maker, first tag after someone else's
    landed work, maintainer date and whether that is within a day of the tag."""
    import pandas as pd

    from graphminer import trajectory
    from graphminer.config import load_config
    from graphminer.events import load_events
    from graphminer.reader import harvest_end

    owner, name = full_name.split("/", 1)
    store = workdir / f"tagged-{owner}+{name}.sqlite"
    if not store.exists():
        in_version(ROOT, "-m", "graphminer", "harvest-git", path, "--org", owner, "--repo", name,
                   "--store", str(store))
    conn = sqlite3.connect(store)
    config = load_config(None)
    events = load_events(conn, config)
    wide = trajectory.milestones(events, harvest_end(conn), config)
    keys = dict(conn.execute("SELECT identity, maker_key FROM maker_identities WHERE kind = 'git'"))
    tags = conn.execute("SELECT tagger_name, tagger_email, published_at FROM releases "
                        "WHERE source = 'git' ORDER BY published_at").fetchall()
    conn.close()
    landed = events[events["landed"] & ~events["is_bot"]].groupby("maker")["ts"].min()
    found: dict[str, dict] = {}
    for tagger_name, email, at in tags:
        identity = f"{tagger_name or ''} <{email}>"
        key = keys.get(identity)
        entry = found.setdefault(identity, {"identity": identity, "maker": key, "tag": None})
        when = pd.Timestamp(at)
        others = landed.drop(key, errors="ignore")
        if entry["tag"] is None and (others < when).any():
            entry["tag"] = at
    for entry in found.values():
        key = entry["maker"]
        maintainer = wide.loc[key, "maintainer"] if key in wide.index else pd.NaT
        entry["maintainer"] = None if pd.isna(maintainer) else maintainer.strftime("%Y-%m-%dT%H:%M:%SZ")
        entry["ok"] = bool(entry["tag"] is None or (pd.notna(maintainer) and maintainer
                           <= pd.Timestamp(entry["tag"]) + pd.Timedelta(days=1)))
    return list(found.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", default=str(LOGS), help="a folder of OWNER+REPO.log.gz files")
    parser.add_argument("--baseline-ref", default="056d39d",
                        help="the git ref of rules version 3 (default: issue 19's starting point)")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "cache" / "roles"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--tagged", action="append", default=[], metavar="PATH=OWNER/NAME",
                        help="a repository with annotated tags to measure the tag rule on")
    parser.add_argument("--no-logs", action="store_true", help="only the --tagged repositories")
    args = parser.parse_args()
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for spec in args.tagged:
        path, _, full_name = spec.partition("=")
        if "/" not in full_name:
            sys.exit(f"--tagged {spec!r}: give PATH=OWNER/NAME")
        rows = tagger_figures(path, full_name, workdir)
        ok = sum(row["ok"] and row["maker"] is not None for row in rows)
        print(f"{full_name}: {ok} of {len(rows)} tagger identities are among a maker's identities "
              f"and maintainers no later than a day after their first tag where someone else "
              f"had landed work")
        for row in rows:
            print(f"  {row['identity']}: maker {row['maker']}, first such tag {row['tag']}, "
                  f"maintainer {row['maintainer']}{'' if row['ok'] else '  MISSED'}")
    if args.no_logs:
        return
    logs = sorted(Path(args.logs).glob("*.log.gz"))
    if not logs:
        sys.exit(f"no OWNER+REPO.log.gz in {args.logs}: give --logs")
    versions = {"3": source_tree(workdir, args.baseline_ref), "4": ROOT}
    rows: dict[str, dict[str, dict]] = {}
    for log in logs:
        name = log.name.removesuffix(".log.gz").replace("+", "/")
        rows[name] = {}
        for version, source in versions.items():
            store = workdir / f"v{version}-{log.name.removesuffix('.log.gz')}.sqlite"
            found = figures(source, log.resolve(), store)
            if found["version"] != version:
                sys.exit(f"{source} computes rules version {found['version']}, not {version}")
            rows[name][version] = found
        print(f"{name}: done", file=sys.stderr)
    print(table(rows))
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
