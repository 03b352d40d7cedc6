"""``graphminer fakehub serve WORLD``: parses the options, loads the world, serves it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from graphminer.errors import BadInput


@click.command()
@click.argument("world", type=click.Path(path_type=Path), required=False)
@click.option("--gharchive", "gharchive", type=click.Path(path_type=Path), default=None, metavar="OUTDIR",
              help="Also serve the GH Archive hours `fakehub gharchive` wrote there, at /gharchive/NAME "
                   "(Range requests answered; an hour not written is a 404). WORLD may then be left out.")
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
@click.option("--search-rate-limit", default=30, show_default=True, type=int,
              help="Search requests per token a minute (the search resource, apart from core).")
@click.option("--search-rate-window", default=60.0, show_default=True, type=float,
              help="Search rate-limit window in seconds.")
@click.option("--page-cap", default=10_000, show_default=True, type=int,
              help="Items reachable by page number on /issues, /issues/comments, /issues/events "
                   "(deeper pages answer 422; 0: no cap).")
@click.option("--per-token-etags/--shared-etags", default=True, show_default=True,
              help="ETags differ by token (GitHub), or are shared by every token.")
@click.option("--redirects/--no-redirects", default=True, show_default=True,
              help="Old names of renamed or transferred repos answer 301 (else 404).")
@click.option("--slow-pages", multiple=True, metavar="OWNER/REPO[:LISTING]",
              help="Listings answering 502 to per_page > 50 after --slow-seconds (repeatable).")
@click.option("--slow-seconds", default=1.0, show_default=True, type=float,
              help="How long a slow page takes before its 502.")
@click.option("--limit-status", type=click.Choice(["403", "429", "both"]), default="both",
              show_default=True, help="Status of primary rate-limit refusals (both: 429 and 403 alternately).")
@click.option("--token-ttl", type=float, default=None,
              help="Seconds after its first use a token answers 401 (default: never).")
@click.option("--token-ttl-requests", type=int, default=None,
              help="Answered REST requests after which a token answers 401 (default: never): "
                   "a lifetime that does not depend on how fast the machine is.")
@click.option("--reviews-move-issues", is_flag=True,
              help="Reviews and review comments move an issue's updated_at in /issues (GitHub: they do not).")
@click.option("--ordered-releases", is_flag=True,
              help="List releases newest first (GitHub promises no order).")
@click.option("--latency", "latency_ms", default=0, show_default=True, type=int,
              help="Milliseconds every answer waits first.")
@click.option("--graphql-rate-limit", default=5000, show_default=True, type=int,
              help="GraphQL points per token per window.")
@click.option("--graphql-secondary-limit", default=2000, show_default=True, type=int,
              help="GraphQL points per token per minute (the secondary limit; above: 403).")
@click.option("--graphql-max-weight", default=None, type=int,
              help="GraphQL queries asking for more nodes than this answer 502 (default: never).")
@click.option("--clock", type=click.Choice(["wall", "world"]), default="wall", show_default=True,
              help="What the Date header reads: real time (as GitHub), or the world's now, "
                   "frozen until a delta moves it (rate-limit resets stay on real time).")
def serve(world: Path | None, gharchive: Path | None, host: str, port: int, fault_spec: str | None, log_path: Path | None,
          rate_limit: int, rate_window: float, search_rate_limit: int, search_rate_window: float,
          page_cap: int, per_token_etags: bool,
          redirects: bool, slow_pages: tuple[str, ...], slow_seconds: float, limit_status: str,
          token_ttl: float | None, token_ttl_requests: int | None, reviews_move_issues: bool, ordered_releases: bool,
          latency_ms: int, graphql_rate_limit: int, graphql_secondary_limit: int,
          graphql_max_weight: int | None, clock: str) -> None:
    """Serve WORLD (a world.json[.gz]) as GitHub's REST and GraphQL APIs until interrupted
    (and with --gharchive, GH Archive's hourly files).

    The first line on stdout is exactly "fakehub listening on http://HOST:PORT".
    """
    from graphminer.fakehub.edges import Edges, check_edges, parse_slow_pages
    from graphminer.fakehub.faults import parse_faults
    from graphminer.fakehub.graphql_endpoint import GraphQLEndpoint, GraphQLLimits
    from graphminer.fakehub.server import FakeHub, make_server, serve_forever
    from graphminer.fakehub.world import build_world, load_world

    if rate_limit < 1:
        raise BadInput(f"--rate-limit {rate_limit}: give a whole number of requests, 1 or more")
    if not rate_window >= 0.1:
        raise BadInput(f"--rate-window {rate_window:g}: give a number of seconds, 0.1 or more")
    if search_rate_limit < 1:
        raise BadInput(f"--search-rate-limit {search_rate_limit}: give a whole number of requests, 1 or more")
    if not search_rate_window >= 0.1:
        raise BadInput(f"--search-rate-window {search_rate_window:g}: give a number of seconds, 0.1 or more")
    if not 0 <= port <= 65535:
        raise BadInput(f"--port {port}: give a port number from 0 to 65535 (0: any free port)")
    for flag, value in (("--graphql-rate-limit", graphql_rate_limit),
                        ("--graphql-secondary-limit", graphql_secondary_limit),
                        ("--graphql-max-weight", graphql_max_weight)):
        if value is not None and value < 1:
            raise BadInput(f"{flag} {value}: give a whole number, 1 or more")
    faults = parse_faults(fault_spec)
    edges = check_edges(Edges(
        page_cap=page_cap, per_token_etags=per_token_etags, redirects=redirects,
        slow_pages=parse_slow_pages(slow_pages), slow_seconds=slow_seconds,
        limit_status=limit_status, token_ttl=token_ttl, token_ttl_requests=token_ttl_requests,
        reviews_move_issues=reviews_move_issues,
        releases_unordered=not ordered_releases, latency_ms=latency_ms))
    if world is None and gharchive is None:
        raise BadInput("give a WORLD to serve (a world.json[.gz] or a folder holding one), or --gharchive OUTDIR")
    if gharchive is not None and not gharchive.is_dir():
        raise BadInput(f"--gharchive {gharchive}: no such folder; write one with `graphminer fakehub gharchive "
                       "WORLD OUTDIR`")
    loaded = load_world(world) if world is not None else build_world({"format": 1}, "(no world)")
    try:
        log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
    except OSError as error:
        raise BadInput(f"--log {log_path}: cannot write it ({error.strerror})") from None
    hub = FakeHub(loaded, faults, rate_limit, rate_window, log, edges, clock,
                  search_rate_limit, search_rate_window)
    hub.gharchive = gharchive
    hub.graphql = GraphQLEndpoint(GraphQLLimits(graphql_rate_limit, graphql_secondary_limit,
                                                graphql_max_weight), rate_window, hub.now)
    server = make_server(hub, host, port)
    bound_host, bound_port = server.server_address[:2]
    click.echo(f"fakehub listening on http://{bound_host}:{bound_port}")
    sys.stdout.flush()
    serve_forever(server)
