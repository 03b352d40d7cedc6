"""``graphminer fakehub generate``: parses flags, calls the generator (or the git-log builder), prints."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from graphminer.errors import BadInput


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        click.echo(message, err=True)


def _utc_time(text: str) -> str:
    """An ISO 8601 date or time from the command line, read as UTC, in GitHub's form."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"--now {text!r} is not an ISO 8601 date or time (e.g. 2025-06-30 or "
                       "2025-06-30T23:59:59Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@click.command()
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same bytes).")
@click.option("--orgs", type=int, default=2, show_default=True, help="Organisations.")
@click.option("--repos-per-org", type=int, default=5, show_default=True, help="Repositories per organisation.")
@click.option("--makers", type=int, default=200, show_default=True, help="People (users and git-only identities).")
@click.option("--years", type=int, default=4, show_default=True, help="Years of history ending at the world's now.")
@click.option("--delta-days", type=int, default=0, show_default=True, help="Also write N day-by-day deltas.")
@click.option("--blocked-repos", type=int, default=0, show_default=True, help="Repositories answering 451.")
@click.option("--renamed-repos", type=int, default=0, show_default=True,
              help="Repositories the first delta renames (their old names answer 301).")
@click.option("--transferred-repos", type=int, default=0, show_default=True,
              help="Repositories the first delta transfers to a maintainer's own account.")
@click.option("--private-repos", type=int, default=0, show_default=True,
              help="Repositories marked private (listed for a member's token; the truth leaves them out).")
@click.option("--deleted-accounts", type=int, default=0, show_default=True,
              help="Makers who deleted their account: their records show the user ghost (id 10137).")
@click.option("--outside-share", type=float, default=0.0, show_default=True,
              help="Share of landed makers given activity outside the harvested orgs (for following).")
@click.option("--identity-cases", is_flag=True,
              help="Plant the hard cases of identity resolution (own domains, noreply under a first name, "
                   "merge subjects, first names alone, placeholders, imported logins).")
@click.option("--now", default="2025-06-30T23:59:59Z", show_default=True, help="The world's now (ISO 8601, UTC).")
@click.option("--no-truth", is_flag=True, help="Skip the ground truth (for benchmarks of huge worlds).")
@click.option("--from-git-log", "git_logs", multiple=True, help="Build the world from saved git logs (OWNER+REPO.log.gz), repeatable.")
@click.option("--out", required=True, help="Output folder (created; its parent must exist).")
@click.argument("more_logs", nargs=-1)
def generate(seed: int, orgs: int, repos_per_org: int, makers: int, years: int, delta_days: int,
             blocked_repos: int, renamed_repos: int, transferred_repos: int, private_repos: int,
             deleted_accounts: int, outside_share: float, identity_cases: bool, now: str,
             no_truth: bool, git_logs: tuple[str, ...], out: str,
             more_logs: tuple[str, ...]) -> None:
    """Write a fakehub world (world.json.gz), its deltas and its ground truth (truth.json)."""
    if more_logs and not git_logs:
        raise BadInput(f"unexpected argument {more_logs[0]!r}; log files follow --from-git-log")
    if git_logs:
        from graphminer.fakehub.gitlog_world import world_from_git_logs

        if delta_days or blocked_repos or renamed_repos or transferred_repos or private_repos \
                or deleted_accounts or outside_share or identity_cases:
            raise BadInput("--delta-days, --blocked-repos, --renamed-repos, --transferred-repos, "
                           "--private-repos, --deleted-accounts, --outside-share and --identity-cases apply "
                           "to generated worlds, not to --from-git-log")

        result = world_from_git_logs([*git_logs, *more_logs], out, truth=not no_truth)
    else:
        from graphminer.fakehub.generator import generate_world

        result = generate_world(out, seed=seed, orgs=orgs, repos_per_org=repos_per_org,
                                makers=makers, years=years, delta_days=delta_days,
                                blocked_repos=blocked_repos, truth=not no_truth,
                                renamed_repos=renamed_repos, transferred_repos=transferred_repos,
                                private_repos=private_repos, deleted_accounts=deleted_accounts,
                                outside_share=outside_share, identity_cases=identity_cases,
                                now=_utc_time(now), progress=_progress)
    counts = ", ".join(f"{name} {count}" for name, count in result["counts"].items())
    click.echo(f"wrote {result['world']} ({counts}; {result['events']} events in {result['seconds']:.1f} s)")
    for path in [*result["deltas"], *result["truths"]]:
        click.echo(f"wrote {path}")
    if not no_truth and not result["truths"]:
        click.echo("no truth written: graphminer.fakehub.truth is not installed yet", err=True)
