"""Bench: how fast the world generator writes a 1,000,000-event world, and in how much memory.

Runs ``graphminer fakehub generate --no-truth`` as its own process (so its peak RSS is its
own), then, as the baseline in the same run, streams the same number of ready-made records
of the same shape through ``json`` into gzip (the floor any Python generator pays for
serialising and compressing). Prints events/s, the time for 1M events, the ratio to the
baseline and the peak RSS of each.

    python bench/bench_generate.py            # the 1M-event world (~30-60 s)
    python bench/bench_generate.py --quick    # a small world, for a smoke run
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FULL = ["--seed", "1", "--orgs", "20", "--repos-per-org", "250", "--makers", "50000", "--years", "5"]
QUICK = ["--seed", "1", "--orgs", "4", "--repos-per-org", "25", "--makers", "3000", "--years", "5"]


def generate(out: Path, flags: list[str]) -> tuple[float, int, int]:
    """(seconds, events, peak RSS in MB) of one generator run in its own process."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate", *flags,
                             "--no-truth", "--out", str(out)], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    events = int(result.stdout.split("; ")[1].split(" events")[0])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return seconds, events, peak_mb


def baseline(out: Path, count: int) -> float:
    """Seconds to stream ``count`` pre-shaped comment-like records as JSON into gzip."""
    record = {"id": 0, "repo_id": 500000, "issue_number": 12, "user_id": 2370,
              "body": "Thanks for raising this!", "created_at": "2024-02-13T14:10:20Z",
              "updated_at": "2024-02-13T14:10:20Z", "author_association": "CONTRIBUTOR"}
    encode = json.JSONEncoder(separators=(",", ":")).encode
    started = time.perf_counter()
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=3) as handle:
        handle.write(b"[")
        for number in range(count):
            record["id"] = number
            handle.write((encode(record) + ",").encode())
        handle.write(b"]")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small world instead of 1M events")
    args = parser.parse_args()
    flags = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        seconds, events, peak_mb = generate(Path(tmp) / "world", flags)
        base_seconds = baseline(Path(tmp) / "baseline.json.gz", events)
        base_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"flags: {' '.join(flags)} --no-truth")
    print(f"generator: {events} events in {seconds:.1f} s = {events / seconds:,.0f} events/s; "
          f"1M events in {seconds * 1e6 / events:.1f} s; peak RSS {peak_mb} MB")
    print(f"baseline (json+gzip of {events} ready records): {base_seconds:.1f} s = "
          f"{events / base_seconds:,.0f} records/s; peak RSS {base_peak} MB")
    print(f"ratio generator/baseline: {seconds / base_seconds:.2f}x")


if __name__ == "__main__":
    main()
