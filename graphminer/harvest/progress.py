"""Where a long harvest is: a bar on a terminal, one line a minute otherwise (a cron log).

Either way it names the repo being harvested, the repos done out of all, the requests made
(and how many were free 304s), the rate limit left, and when the harvest resumes while it
sleeps for the rate limit. Off the terminal a line is printed every
``GRAPHMINER_PROGRESS_SECONDS`` (default 60) by a background timer, so that a run sleeping
for an hour still shows it is alive. The figures come from a ``status`` callable the
harvester gives (``follow``); this module only shows them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

INTERVAL_VARIABLE = "GRAPHMINER_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 60.0


def line_interval(environ: dict[str, str] | None = None) -> float:
    """Seconds between progress lines off a terminal."""
    value = (environ if environ is not None else os.environ).get(INTERVAL_VARIABLE, "")
    try:
        return max(float(value), 0.05) if value.strip() else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


class Progress:
    """A bar on a terminal, timed lines elsewhere; ``enabled=False``: nothing at all,
    ``enabled=True``: the bar whatever the stream."""

    WIDTH = 24

    def __init__(self, enabled: bool | None = None, *, interval: float | None = None,
                 stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled is not False
        self.bar = enabled is True or (enabled is None and self.stream.isatty())
        self.interval = line_interval() if interval is None else interval
        self.status: Callable[[], str] = lambda: ""
        self.text, self.position, self.total = "", 0, 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.ticker: threading.Thread | None = None

    def follow(self, status: Callable[[], str]) -> None:
        """Start showing, with ``status()`` giving the figures (requests, rate limit)."""
        self.status = status
        if self.enabled and not self.bar and self.ticker is None:
            self.ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self.ticker.start()

    def show(self, text: str, done: int = 0, total: int = 0) -> None:
        """Now at ``text`` (a repo), ``done`` of ``total`` finished."""
        with self.lock:
            self.text, self.position, self.total = text, done, total
        if self.enabled and self.bar:
            self.stream.write("\r\033[K" + self.describe()[:150])
            self.stream.flush()

    def describe(self) -> str:
        with self.lock:
            text, done, total = self.text, self.position, self.total
        head = ""
        if total and self.bar:
            filled = round(self.WIDTH * done / total)
            head = "[" + "#" * filled + "." * (self.WIDTH - filled) + f"] {done}/{total} "
        elif total:
            head = f"{done}/{total} repos, "
        figures = self.status()
        return head + (text or "starting") + (f" ({figures})" if figures else "")

    def _tick(self) -> None:
        while not self.stop.wait(self.interval):
            self._line()

    def _line(self) -> None:
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        self.stream.write(f"progress {stamp} UTC: {self.describe()}\n")
        self.stream.flush()

    def done(self) -> None:
        self.stop.set()
        if self.ticker is not None:
            self.ticker.join(timeout=5)
            self.ticker = None
        if self.enabled and self.bar:
            self.stream.write("\r\033[K")
            self.stream.flush()
