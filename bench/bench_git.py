"""Bench: harvest-git of the fixmystreet log (16,302 commits) against Perceval's git backend.

In one run, side by side on the same plain-text log file:
  - baseline: ``perceval git --git-log FILE URI`` (Perceval's venv, created when missing:
    ``python3 -m venv .venv-perceval && .venv-perceval/bin/pip install perceval``);
  - ours: ``graphminer harvest-git FILE`` into a fresh store, as a command (parse, store
    writes, identity resolution, and the precomputed tables the pipeline refreshes after it), and the same
    in-process without the pipeline's other stages (parse + store + identity only);
  - ours from a repository: a bare repository built from the log with ``git fast-import``.
  - main at BASELINE (default 056d39d, before rules version 4's dating, issue #20): the
    same command from ``git archive BASELINE`` unpacked into a temp folder, run with the
    same Python, alternating with ours round by round (target: ours within 1.3x of it).
Each is run REPEAT times; the best wall time and its CPU time (user+sys) are printed, with
the ratio ours / Perceval (and ours / main). The machine is shared, so CPU time is the
steadier figure.

    python bench/bench_git.py [--log PATH] [--repeat N] [--baseline COMMIT]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOG = ROOT.parent / "shared" / "data" / "git-logs" / "mysociety+fixmystreet.log.gz"
PERCEVAL_VENV = ROOT / ".venv-perceval"


def timed(command: list[str], **kwargs) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed_in_process(function) -> tuple[float, float]:
    """(wall, CPU) of ``function()``, CPU counting the git processes it waits for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, cpu = time.perf_counter(), time.process_time()
    function()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return time.perf_counter() - start, time.process_time() - cpu + spent


def best(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return min(runs)


def perceval_bin() -> Path:
    binary = PERCEVAL_VENV / "bin" / "perceval"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PERCEVAL_VENV)], check=True)
        subprocess.run([str(PERCEVAL_VENV / "bin" / "pip"), "install", "-q", "perceval"], check=True)
    return binary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", default="056d39d",
                        help="the commit of main to time against (git archive of it, same Python)")
    args = parser.parse_args()
    if not args.log.is_file():
        sys.exit(f"no log at {args.log}: give --log (the shared git logs live in ../shared)")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    from test_git_support import fast_import_stream  # shared with the tests

    from graphminer.config import parse_config
    from graphminer.harvest.git import harvest_git
    from graphminer.identity import refresh
    from graphminer.store import open_store

    text = gzip.decompress(args.log.read_bytes()).decode("utf-8", "replace")
    commits = len(re.findall(r"^commit ", text, re.MULTILINE))
    work = Path(tempfile.mkdtemp(prefix="bench-git-"))
    try:
        plain = work / args.log.name.removesuffix(".gz")
        plain.write_text(text, "utf-8")
        owner, repo = plain.name.removesuffix(".log").split("+")
        config_file = work / "graphminer.toml"
        config_file.write_text("[people]\n", "utf-8")
        config = parse_config("[people]\n", source="bench", base_dir=work)
        env = {**os.environ, "GRAPHMINER_CONFIG": str(config_file)}

        perceval = perceval_bin()
        baseline = best([timed([str(perceval), "git", "--git-log", str(plain),
                                f"https://github.com/{owner}/{repo}"]) for _ in range(args.repeat)])

        def command_run(source: Path, index: int, *extra: str) -> tuple[float, float]:
            store = work / f"cmd-{source.name}-{index}.sqlite"
            return timed([sys.executable, "-m", "graphminer", "harvest-git", str(source),
                          "--store", str(store), *extra], env=env)

        baseline_tree = work / "baseline"
        baseline_tree.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "graphminer"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(baseline_tree)], input=archive, check=True)
        main_env = {**env, "PYTHONPATH": str(baseline_tree)}
        ours_runs, main_runs = [], []
        for index in range(args.repeat):  # alternating, so a busy moment hits both
            main_store = work / f"main-{index}.sqlite"
            main_runs.append(timed([sys.executable, "-m", "graphminer", "harvest-git", str(plain),
                                    "--store", str(main_store)], env=main_env, cwd=work))
            ours_runs.append(command_run(plain, index))
        ours_command, main_command = best(ours_runs), best(main_runs)

        def in_process(source: Path, index: int, **names) -> tuple[float, float]:
            conn = open_store(work / f"lib-{source.name}-{index}.sqlite")

            def work_once() -> None:
                harvest_git(conn, source, **names)
                refresh(conn, config)

            try:
                return timed_in_process(work_once)
            finally:
                conn.close()

        ours_library = best([in_process(plain, i) for i in range(args.repeat)])

        bare = work / "repo.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        subprocess.run(["git", "-C", str(bare), "fast-import", "--quiet"], input=fast_import_stream(text), check=True)
        from_repo_command = best([command_run(bare, i, "--org", owner, "--repo", repo) for i in range(args.repeat)])
        from_repo_library = best([in_process(bare, i, org=owner, repo=repo) for i in range(args.repeat)])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"log: {args.log.name}, {commits} commits; best of {args.repeat}; wall s (CPU s)")
    rows = [
        ("perceval git --git-log (baseline)", baseline),
        (f"main at {args.baseline}: harvest-git LOG (command)", main_command),
        ("graphminer harvest-git LOG (command, identities and precompute)", ours_command),
        ("harvest + store + identity, in-process", ours_library),
        ("graphminer harvest-git REPO (command)", from_repo_command),
        ("REPO: harvest + store + identity, in-process", from_repo_library),
    ]
    for label, (wall, cpu) in rows:
        print(f"  {label:<60} {wall:7.2f} s ({cpu:6.2f} s CPU)  ratio {wall / baseline[0]:.2f} "
              f"(CPU {cpu / baseline[1]:.2f})")
    print(f"  commits per second, log in-process: {commits / ours_library[0]:,.0f}; "
          f"perceval: {commits / baseline[0]:,.0f}")
    print(f"  harvest-git LOG, ours / main at {args.baseline}: wall {ours_command[0] / main_command[0]:.2f}x "
          f"(CPU {ours_command[1] / main_command[1]:.2f}x; target <= 1.3x)")


if __name__ == "__main__":
    main()
