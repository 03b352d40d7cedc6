"""The command line: parses arguments and hands over to one function per command.

Commands are imported lazily (only the one being run is imported), so that
``graphminer trajectory LOGIN`` does not pay for pandas, PyGithub or matplotlib at start-up.
Each command lives in ``graphminer/commands/<name>.py`` (or ``graphminer/fakehub/cli.py``)
as a click command object named in ``COMMANDS``.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute", imported only when the command runs (or for --help).
COMMANDS: dict[str, str] = {
    "demo": "graphminer.commands.demo:demo",
    "harvest": "graphminer.commands.harvest:harvest",
    "harvest-git": "graphminer.commands.harvest_git:harvest_git",
    "identities": "graphminer.commands.identities:identities",
    "trajectory": "graphminer.commands.trajectory:trajectory",
    "makers": "graphminer.commands.makers:makers",
    "stats": "graphminer.commands.stats:stats",
    "careers": "graphminer.commands.careers:careers",
    "export": "graphminer.commands.export:export",
    "report": "graphminer.commands.report:report",
    "fakehub": "graphminer.fakehub.cli:fakehub",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            return _load(self.lazy[name])
        return super().get_command(ctx, name)


def _load(target: str) -> click.Command | None:
    module_name, attribute = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:  # the command is not written yet
            return None
        raise
    return getattr(module, attribute)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="graphminer")
def main() -> None:
    """graphminer: civic tech makers' trajectories from GitHub and git.

    Harvest civic tech organisations every night, see how each maker's part changed
    (first contact, first landed contribution, maintainer, core, organiser, bridge), and
    export the maker-project graph for Gephi.
    """
