"""``graphminer fakehub serve WORLD``: parses the options, loads the world, serves it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from graphminer.errors import BadInput


@click.command()
@click.argument("world", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, type=int, help="Port (0: any free port).")
@click.option("--faults", "fault_spec", default=None,
              help='Seeded faults, e.g. "error=0.05,drop=0.02,truncate=0.02,slow=0.01,secondary=0.01,seed=7".')
@click.option("--log", "log_path", type=click.Path(path_type=Path), default=None,
              help="Write one JSON line per request to this file.")
@click.option("--rate-limit", default=5000, show_default=True, type=int,
              help="Requests per token per window.")
@click.option("--rate-window", default=3600.0, show_default=True, type=float,
              help="Rate-limit window in seconds.")
@click.option("--clock", type=click.Choice(["wall", "world"]), default="wall", show_default=True,
              help="What the Date header reads: real time (as GitHub), or the world's now, "
                   "frozen until a delta moves it (rate-limit resets stay on real time).")
def serve(world: Path, host: str, port: int, fault_spec: str | None, log_path: Path | None,
          rate_limit: int, rate_window: float, clock: str) -> None:
    """Serve WORLD (a world.json[.gz]) as GitHub's REST API until interrupted.

    The first line on stdout is exactly "fakehub listening on http://HOST:PORT".
    """
    from graphminer.fakehub.faults import parse_faults
    from graphminer.fakehub.server import FakeHub, make_server, serve_forever
    from graphminer.fakehub.world import load_world

    if rate_limit < 1:
        raise BadInput(f"--rate-limit {rate_limit}: give a whole number of requests, 1 or more")
    if not rate_window >= 0.1:
        raise BadInput(f"--rate-window {rate_window:g}: give a number of seconds, 0.1 or more")
    if not 0 <= port <= 65535:
        raise BadInput(f"--port {port}: give a port number from 0 to 65535 (0: any free port)")
    faults = parse_faults(fault_spec)
    loaded = load_world(world)
    try:
        log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
    except OSError as error:
        raise BadInput(f"--log {log_path}: cannot write it ({error.strerror})") from None
    server = make_server(FakeHub(loaded, faults, rate_limit, rate_window, log, clock), host, port)
    bound_host, bound_port = server.server_address[:2]
    click.echo(f"fakehub listening on http://{bound_host}:{bound_port}")
    sys.stdout.flush()
    serve_forever(server)
