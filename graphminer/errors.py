"""The one error type for bad input: a one-line message, exit code 2, no traceback."""

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
