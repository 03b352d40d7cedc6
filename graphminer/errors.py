"""The errors told in one line, without a traceback: bad input (exit code 2) and an
unreachable API (exit code 1)."""

from __future__ import annotations

import click


class BadInput(click.ClickException):
    """Bad input from the user (a file, a flag, a config key, a token).

    click prints ``Error: <message>`` on one line and exits with code 2. The message names
    what was wrong and what to do about it.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class Unreachable(click.ClickException):
    """The GitHub API could not be reached past every retry: not bad input (the same command
    may work once the network does), so exit code 1, as the README's exit codes say; the
    message still names the URL and what to check."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
