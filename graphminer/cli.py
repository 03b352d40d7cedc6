"""The command line: parses arguments and hands over to one function per command.

Commands are imported lazily (only the one being run is imported), so that
``graphminer trajectory LOGIN`` does not pay for pandas, PyGithub or matplotlib at start-up.
Each command lives in ``graphminer/commands/<name>.py`` (or ``graphminer/fakehub/cli.py``)
as a click command object named in ``COMMANDS``.

It is also where every failure becomes one line: bad input is a ``BadInput`` (exit 2); an
SQLite error met on a store names what it means (damaged, busy, read-only) and what to do
(exit 2); Ctrl-C or SIGTERM says that nothing stored is lost (exit 130); anything else is a
bug, told in one line (exit 1; ``GRAPHMINER_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import importlib
import os
import signal
import sqlite3
import sys
import threading

import click

# name -> "module:attribute", imported only when the command runs (or for --help).
COMMANDS: dict[str, str] = {
    "demo": "graphminer.commands.demo:demo",
    "harvest": "graphminer.commands.harvest:harvest",
    "harvest-git": "graphminer.commands.harvest_git:harvest_git",
    "harvest-archive": "graphminer.commands.harvest_archive:harvest_archive",
    "identities": "graphminer.commands.identities:identities",
    "trajectory": "graphminer.commands.trajectory:trajectory",
    "makers": "graphminer.commands.makers:makers",
    "stats": "graphminer.commands.stats:stats",
    "careers": "graphminer.commands.careers:careers",
    "export": "graphminer.commands.export:export",
    "report": "graphminer.commands.report:report",
    "check": "graphminer.commands.check:check",
    "fakehub": "graphminer.fakehub.cli:fakehub",
}

# Commands that run until stopped: a signal is how they are meant to end.
RUN_UNTIL_STOPPED = {"fakehub"}

INTERRUPTED = "interrupted: nothing stored is lost; run the same command again to resume"
INTERRUPTED_EXIT = 130
BROKEN_PIPE_EXIT = 128 + signal.SIGPIPE


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

    def make_context(self, *args, **kwargs) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise _usage_line(error) from None
        except BrokenPipeError:  # --help read by `head`
            _quiet_after_broken_pipe()

    def invoke(self, ctx: click.Context):
        try:
            try:
                return super().invoke(ctx)
            finally:  # what is still buffered goes now, while a closed pipe can be told apart
                sys.stdout.flush()
        except BrokenPipeError:
            _quiet_after_broken_pipe()
        except click.UsageError as error:
            raise _usage_line(error) from None
        except KeyboardInterrupt:
            click.echo(INTERRUPTED, err=True)
            sys.exit(INTERRUPTED_EXIT)
        except sqlite3.DatabaseError as error:
            from graphminer.store import damaged_store_message

            raise _one_line(damaged_store_message(error), 2) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as error:
            if os.environ.get("GRAPHMINER_DEBUG"):
                raise
            said = " ".join(str(error).split())[:300]
            raise _one_line(
                f"internal error ({type(error).__name__}: {said}): this is a bug in graphminer; "
                "nothing stored is lost; run again with GRAPHMINER_DEBUG=1 for the details and report it", 1,
            ) from None


def _quiet_after_broken_pipe() -> None:
    """The reader of our output went away (``graphminer identities | head -1``): end
    quietly, as git does, with the shell's status for a SIGPIPE (128 + 13). Standard output
    and error are pointed at /dev/null so that nothing more is written or complained about."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):
            pass
    sys.exit(BROKEN_PIPE_EXIT)


def _terminate_as_interrupt(signum: int, frame) -> None:
    """SIGTERM ends a command as Ctrl-C does: through every cleanup on the way out."""
    raise KeyboardInterrupt


def _usage_line(error: click.UsageError) -> click.ClickException:
    """A usage error (unknown option, missing argument) in one line, not click's four."""
    where = error.ctx.command_path if error.ctx is not None else "graphminer"
    return _one_line(f"{error.format_message()} (see '{where} --help')", 2)


def _one_line(message: str, exit_code: int) -> click.ClickException:
    error = click.ClickException(" ".join(message.split()))
    error.exit_code = exit_code
    return error


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
@click.pass_context
def main(ctx: click.Context) -> None:
    """graphminer: civic tech makers' trajectories from GitHub and git.

    Harvest civic tech organisations every night, see how each maker's part changed
    (first contact, first landed contribution, maintainer, core, organiser, bridge), and
    export the maker-project graph for Gephi.
    """
    if ctx.invoked_subcommand not in RUN_UNTIL_STOPPED and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
