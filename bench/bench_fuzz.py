"""The CLI fuzz, run long: random command lines (tests/fuzz_support.py) against a folder
of awkward files around a real harvested store; prints the cases tried, the failures (each
one once) and the time.

    .venv/bin/python bench/bench_fuzz.py [--examples 1000] [--seed N]

Exit code 1 when any case broke the rules (a traceback, an exit code other than 0/1/2,
more than one line on exit 2, a file graphminer did not write changed or removed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fuzz_support import Playground, commands, run_case  # noqa: E402
from harvest_support import harvest_generated  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="command lines to try")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="hypothesis seed")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
        folder = Path(tmp)
        (folder / "harvest").mkdir()
        _, store, _ = harvest_generated(folder / "harvest", seed=3, orgs=2, repos_per_org=2,
                                        makers=20, years=1)
        ground = Playground.build(folder / "play", store, folder / "harvest" / "cache" / "http_cache.sqlite")
        tried: list[list[str]] = []
        failures: dict[str, list[str]] = {}

        @seed(options.seed)
        @settings(max_examples=options.examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(args=commands())
        def fuzz(args: list[str]) -> None:
            tried.append(args)
            problem = run_case(ground, args)
            if problem is not None:  # kept, not raised: a long run reports every kind
                failures.setdefault(problem.split(":", 1)[-1][-160:], args)

        started = time.perf_counter()
        fuzz()
        seconds = time.perf_counter() - started
        (folder / "play" / "read-only").chmod(0o755)  # so that the folder can be removed
    print(f"seed {options.seed}: {len(tried)} command lines tried in {seconds:.0f} s, "
          f"{len(failures)} distinct failures")
    for problem, args in failures.items():
        print(f"  graphminer {' '.join(args)!r}: {problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
