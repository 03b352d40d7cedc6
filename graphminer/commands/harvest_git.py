"""``graphminer harvest-git``: harvest a local git repository or a saved git log."""

from __future__ import annotations

import click

from graphminer.config import load_config, require_login
from graphminer.errors import BadInput


@click.command("harvest-git")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--org", help="the repository's owner (else from the remote URL or OWNER+REPO.log.gz)")
@click.option("--repo", help="the repository's name (else from the remote URL or the file name)")
@click.option("--store", help="the store file (default from the config)")
@click.option("--config", "config_path", help="the config file")
def harvest_git(path: str, org: str | None, repo: str | None, store: str | None, config_path: str | None) -> None:
    """Harvest a git repository (bare, mirror or working tree) or a saved git log.

    PATH is a repository or a file written by `git log --reverse --topo-order --raw
    --pretty=fuller --decorate=short --parents --no-renames HEAD` (optionally gzipped);
    its OWNER+REPO.pull-refs.tsv.gz beside it is read too. From a repository, annotated
    tags are read as releases by their taggers (lightweight tags are skipped). A second run
    reads only new commits and tags.
    """
    from graphminer.commands.harvest import interrupted_runs_marked
    from graphminer.config import store_path_for
    from graphminer.pipeline import harvest_git as run_harvest_git

    if org is not None:
        require_login(org, "--org")
    if repo is not None and ("/" in repo or not repo.strip()):
        raise BadInput(f"--repo {repo!r} is not a repository name: give the name alone, with "
                       "its owner in --org (--org OWNER --repo NAME)")
    config = load_config(config_path)
    with interrupted_runs_marked(store_path_for(store, config)):
        result = run_harvest_git(path, config=config, org=org, repo=repo, store=store)
    click.echo(
        f"{result.full_name}: {result.commits_new} new commits, {result.commits_updated} updated, "
        f"{result.pull_refs} pull refs"
        + (f", {result.tags_new} new tags" if result.tags_new else "")
        + (f", {len(result.warnings)} warnings" if result.warnings else "")
    )
