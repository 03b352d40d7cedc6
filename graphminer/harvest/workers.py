"""One worker per token: N tokens fetch N repos at once, each worker with its own token.

GitHub asks for serial requests per token, so the harvest runs one thread per token, each
with its own HTTP session (its own requests-cache connection to the shared cache file) and
a home token. A repo always goes to the same worker (by repo id), so its cached answers,
whose ETags are its home token's, are revalidated with that token (token affinity; the
session still prefers the cached answer's token, should the pool have changed). Workers
fetch; the store has one connection, and ``SerialStore`` lets one statement or transaction
through at a time, so a transaction (records, then their watermark) is never interleaved
with another worker's: the store stays single-writer and SIGKILL-safe.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any


class Rows:
    """A statement's result, read whole while the store was held (a cursor stepped later
    would interleave with another worker's statement)."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.rows = cursor.fetchall()
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def fetchone(self) -> Any:
        return self.rows.pop(0) if self.rows else None

    def fetchall(self) -> list[Any]:
        rows, self.rows = self.rows, []
        return rows


class SerialStore:
    """The store's connection shared by the workers: one statement, or one ``with``
    transaction, at a time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.lock = threading.RLock()

    def execute(self, sql: str, params: Any = ()) -> Rows:
        with self.lock:
            return Rows(self.conn.execute(sql, params))

    def executemany(self, sql: str, params: Any) -> Rows:
        with self.lock:
            return Rows(self.conn.executemany(sql, params))

    def __enter__(self) -> SerialStore:
        self.lock.acquire()
        try:
            self.conn.__enter__()
        except BaseException:
            self.lock.release()  # never leave the store held by a thread that has gone
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.conn.__exit__(*exc)
        finally:
            self.lock.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def shares(items: list[Any], workers: int, key: Callable[[Any], int]) -> list[list[Any]]:
    """``items`` split among ``workers``, each item always to the same worker."""
    parts: list[list[Any]] = [[] for _ in range(workers)]
    for item in items:
        parts[key(item) % workers].append(item)
    return parts


class Stopped(BaseException):
    """Raised in a worker at its next request or wait once ``stop`` is set: another worker
    failed, or Ctrl-C / SIGTERM reached the main thread. What the worker stored stays (its
    watermarks move only after their records, as after a SIGKILL)."""


def sleeper(stop: threading.Event) -> Callable[[float], None]:
    """``time.sleep`` that ends early, raising ``Stopped``, once ``stop`` is set (a worker
    waiting an hour for the rate limit's reset must not hold up Ctrl-C)."""
    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped()
    return sleep


def on_main_thread() -> bool:
    """Whether this is the main thread (the one Python's signal handlers run in)."""
    return threading.current_thread() is threading.main_thread()


def run_workers(parts: list[list[Any]], work: Callable[[int, list[Any], threading.Event], None],
                stop: threading.Event | None = None) -> None:
    """``work(worker, its items, stop)`` in a thread per part; the first error of any worker
    stops the others and is raised here once all have ended. Ctrl-C or SIGTERM here (the
    main thread) stops them too, and is raised once they have ended, so nothing closes the
    store under a worker."""
    stop = stop or threading.Event()
    errors: list[BaseException] = []

    def guarded(index: int, part: list[Any], finished: threading.Event) -> None:
        try:
            work(index, part, stop)
        except BaseException as error:  # noqa: BLE001 (raised again in the caller's thread)
            errors.append(error)
            stop.set()
        finally:
            finished.set()

    ends = {index: threading.Event() for index, part in enumerate(parts) if part}
    threads = [threading.Thread(target=guarded, args=(index, parts[index], finished),
                                name=f"worker-{index + 1}") for index, finished in ends.items()]
    # Ctrl-C or SIGTERM while the threads start is held until all have started (raised
    # between two starts, it once left a worker writing the store while the main thread
    # marked the run interrupted: SIGSEGV), and wherever it is raised from the first start
    # on (even as the mask is lifted) the started threads are stopped and joined first
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held) if on_main_thread() else None
        try:
            for thread in threads:
                thread.start()
        finally:
            if previous is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        for thread in threads:
            thread.join()
    except BaseException:
        stop.set()
        # (each started worker's own end awaited, not its join: a join that Ctrl-C cut short
        # takes a thread still running for ended, CPython's bpo-45274 handling)
        for thread, finished in zip(threads, ends.values(), strict=True):
            if thread.ident is not None:  # started
                finished.wait()
                thread.join()
        raise
    real = [error for error in errors if not isinstance(error, Stopped)]
    if real or errors:
        raise (real or errors)[0]
