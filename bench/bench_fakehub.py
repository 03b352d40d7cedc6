"""Benchmark fakehub: pages per second of 100-issue pages from a ~1,000,000-event world, and start-up time.

    python bench/bench_fakehub.py [--makers 50000] [--workdir cache/bench-fakehub] [--cpu 0]

A raw HTTP client (http.client, one keep-alive connection) walks every 100-issue page of
every repo twice: the first walk renders each record once (cold), the second joins stored
bytes (warm). The baseline, timed in the same run on the same core, is the same client
fetching a static file of the same size from the standard library's http.server (HTTP/1.1):
the request floor of a pure-Python server; and, as a ceiling, a bare http.server handler
that writes prebuilt bytes of that size in one send. Start-up is the time from launching
``graphminer fakehub serve`` on a small world until its listening line, median of 5.
The big world is generated once with ``graphminer fakehub generate`` and kept in --workdir.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SMALL_WORLD = ROOT / "tests" / "fixtures" / "fakehub-small.json"


def generate(out: Path, makers: int) -> Path:
    """The big world (generated once, reused while its folder exists)."""
    world = out / "world.json.gz"
    if world.exists():
        return world
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "graphminer", "fakehub", "generate", "--seed", "1", "--orgs", "10",
                    "--repos-per-org", "10", "--makers", str(makers), "--years", "5", "--no-truth",
                    "--out", str(out)], check=True)
    print(f"generated {world} in {time.perf_counter() - started:.1f} s")
    return world


def start(command: list[str], cpu: int | None, marker: str) -> tuple[subprocess.Popen, str, float]:
    """Launch a server, pin it to one core, wait for its listening line: (process, base URL, seconds)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=ROOT)
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(process.pid, {cpu})
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    if marker not in line:
        process.kill()
        raise SystemExit(f"server did not start: {line!r}")
    if marker == "fakehub listening on ":
        url = line.strip()[len(marker):]
    else:  # http.server: "Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/) ..."
        url = line.split("(")[1].split(")")[0].rstrip("/")
    return process, url, elapsed


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


def fetch_all(base: str, paths: list[str]) -> tuple[int, int, float]:
    """Fetch every path on one keep-alive connection: (pages, bytes, seconds)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    total = 0
    started = time.perf_counter()
    for path in paths:
        connection.request("GET", path, headers={"Authorization": "token bench"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {body[:200]!r}")
        total += len(body)
    elapsed = time.perf_counter() - started
    connection.close()
    return len(paths), total, elapsed


def issue_pages(world_path: Path) -> list[str]:
    """Every 100-issue page of every repo (from the world file, not from fakehub)."""
    world = json.loads(gzip.decompress(world_path.read_bytes()))
    counts: dict[int, int] = {}
    for issue in world["issues"]:
        counts[issue["repo_id"]] = counts.get(issue["repo_id"], 0) + 1
    events = sum(len(world[k]) for k in ("issues", "issue_comments", "issue_events", "reviews", "review_comments",
                                          "commits", "releases"))
    print(f"world: {events:,} events, {len(world['issues']):,} issues in {len(world['repos'])} repos")
    paths = []
    for repo in world["repos"]:
        pages = -(-counts.get(repo["id"], 0) // 100)
        paths += [f"/repos/{repo['owner']}/{repo['name']}/issues?state=all&per_page=100&page={n}"
                  for n in range(1, pages + 1)]
    return paths


def startup_seconds(cpu: int | None) -> float:
    """Median time to the listening line on the small fixture world."""
    times = []
    for _ in range(5):
        process, _, elapsed = start([sys.executable, "-m", "graphminer", "fakehub", "serve", str(SMALL_WORLD)],
                                    cpu, "fakehub listening on ")
        stop(process)
        times.append(elapsed)
    return statistics.median(times)


def baseline(workdir: Path, page_bytes: int, count: int, cpu: int | None) -> float:
    """Pages/s of the same client fetching a static file of the same size from http.server."""
    static = workdir / "static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "page.json").write_bytes(b"[" + b"x" * max(0, page_bytes - 2) + b"]")
    process, url, _ = start([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                             "--protocol", "HTTP/1.1", "--directory", str(static)], cpu, "Serving HTTP")
    try:
        pages, _, seconds = fetch_all(url, ["/page.json"] * count)
    finally:
        stop(process)
    return pages / seconds


MEMORY_SERVER = """
import socket, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
body = b"[" + b"x" * max(0, int(sys.argv[1]) - 2) + b"]"
head = b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body)
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def do_GET(self):
        self.wfile.write(head + body)
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("Serving HTTP on 127.0.0.1 port %d (http://127.0.0.1:%d/) ..." % (server.server_address[1], server.server_address[1]), flush=True)
server.serve_forever()
"""


def memory_floor(page_bytes: int, count: int, cpu: int | None) -> float:
    """Pages/s of the same client from a standard-library handler that writes prebuilt bytes
    in one send: the ceiling any pure-Python server of this kind can reach."""
    process, url, _ = start([sys.executable, "-c", MEMORY_SERVER, str(page_bytes)], cpu, "Serving HTTP")
    try:
        pages, _, seconds = fetch_all(url, ["/page.json"] * count)
    finally:
        stop(process)
    return pages / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--makers", type=int, default=50000, help="generator --makers (50000: ~1M events)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "cache" / "bench-fakehub")
    parser.add_argument("--cpu", type=int, default=0, help="core the servers are pinned to (-1: none)")
    args = parser.parse_args()
    cpu = None if args.cpu < 0 else args.cpu

    startup = startup_seconds(cpu)
    print(f"start-up on a small world: {startup * 1000:.0f} ms (goal < 1000 ms)")

    world = generate(args.workdir / f"world-{args.makers}", args.makers)
    paths = issue_pages(world)
    process, url, load_seconds = start([sys.executable, "-m", "graphminer", "fakehub", "serve", str(world)],
                                       cpu, "fakehub listening on ")
    print(f"start-up on the big world: {load_seconds:.1f} s")
    try:
        pages, size, cold = fetch_all(url, paths)
        _, _, warm = fetch_all(url, paths)
    finally:
        stop(process)
    page_bytes = size // pages
    floor = baseline(args.workdir, page_bytes, pages, cpu)
    ceiling = memory_floor(page_bytes, pages, cpu)
    print(f"100-issue pages: {pages} pages, {page_bytes / 1024:.0f} KiB each")
    print(f"  fakehub cold (renders each record once): {pages / cold:.0f} pages/s")
    print(f"  fakehub warm (joins stored bytes):       {pages / warm:.0f} pages/s (goal >= 300)")
    print(f"  baseline: http.server static file, same size, same client: {floor:.0f} pages/s")
    print(f"  ratio fakehub warm / baseline: {pages / warm / floor:.2f}; cold / baseline: {pages / cold / floor:.2f}")
    print(f"  prebuilt bytes from a bare http.server handler, one send: {ceiling:.0f} pages/s "
          f"(fakehub warm reaches {pages / warm / ceiling:.0%} of it)")


if __name__ == "__main__":
    main()
