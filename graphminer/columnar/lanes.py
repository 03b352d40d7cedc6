"""Independent SQL statements of the columnar engine run side by side: one lane a core.

The engine's statements are small (0.02-0.3 s each over a million events); two DuckDB
threads on one of them waste a good part of the second core (measured on the bench's
1.26M-event world: the same statements took 3.1 s of CPU on two threads, 2.6 s on one).
``Lanes`` runs statements that do not read each other's tables at the same time, each on
its own connection to the same database (a cursor) with DuckDB on one thread, so each core
runs one statement at single-thread efficiency. DuckDB lets go of Python's GIL while it
executes, so plain Python threads drive the lanes.

A temporary table belongs to the one connection that made it; the lanes' tables live in
an in-memory database attached to the copy's instance (``HOME`` and a number: one per
``Lanes``, as temporary tables are one set per connection, since DuckDB gives every
connection to one file in a process the same instance), which every cursor of it sees, and
each lane reads it first (``USE``, then the copy's own tables); it is detached, its tables
gone, when the ``Lanes`` is. With one
lane (``GRAPHMINER_DUCKDB_THREADS=1``, one core, or asked for) the statements run one
after the other on the connection itself, into temporary tables, as they always did.

    >>> import duckdb
    >>> lanes = Lanes(duckdb.connect(), 2)
    >>> lanes.run([Step("a", "CREATE TABLE a AS SELECT 1 AS x"),
    ...            Step("b", "CREATE TABLE b AS SELECT 2 AS x"),
    ...            Step("c", "CREATE TABLE c AS SELECT sum(x) AS x FROM (FROM a UNION ALL FROM b)",
    ...                 after=("a", "b"))])
    >>> lanes.home.execute("SELECT x FROM c").fetchall()
    [(3,)]
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from graphminer.columnar.build import thread_count

if TYPE_CHECKING:
    import duckdb

# The in-memory database the lanes' tables live in (numbered: one per ``Lanes``).
HOME = "gm_lanes"
NUMBERS = itertools.count(1)


def lane_count() -> int:
    """How many lanes the analysis runs on: DuckDB's threads (``GRAPHMINER_DUCKDB_THREADS``),
    at most one a core."""
    return max(1, min(thread_count(), os.cpu_count() or 1))


Found = TypeVar("Found")


def beside(con: duckdb.DuckDBPyConnection, aside: Callable[[], Any], here: Callable[[], Found]) -> Found:
    """``here()``'s answer, ``aside`` (work on ``con`` alone: DuckDB lets go of the GIL while
    it works) run on another thread meanwhile; both done when it returns. A failure or ^C
    in either stops ``con``'s work (``interrupt``) and is raised.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> beside(con, lambda: con.execute("CREATE TABLE t AS SELECT 42 AS x"), lambda: "read")
    'read'
    >>> con.execute("SELECT x FROM t").fetchall()
    [(42,)]
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(aside)
        try:
            found = here()
            running.result()
        except BaseException:
            con.interrupt()
            raise
    return found


def released(con: duckdb.DuckDBPyConnection, home: str,
             cursors: list[duckdb.DuckDBPyConnection]) -> None:
    """The lanes' connections closed and their database detached (its tables gone), unless
    ``con`` was closed first (then the whole instance went, or goes with its last
    connection)."""
    for cursor in cursors:
        cursor.close()
    try:
        con.execute(f"DETACH DATABASE IF EXISTS {home}")
    except Exception:  # noqa: BLE001 (a closed connection: nothing of it is left to free)
        pass


@dataclass(frozen=True)
class Step:
    """One statement making the table ``name``, run once the tables ``after`` are made."""

    name: str
    sql: str
    after: tuple[str, ...] = ()


class Lanes:
    """``count`` connections to ``con``'s database, each running one statement at a time on
    one DuckDB thread; ``home`` is the connection the tables are read from."""

    def __init__(self, con: duckdb.DuckDBPyConnection, count: int = 1) -> None:
        self.con = con
        self.cursors: list[duckdb.DuckDBPyConnection] = []
        if count > 1:
            database = con.execute("SELECT current_database()").fetchall()[0][0]
            zone = con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
            home = f"{HOME}_{next(NUMBERS)}"
            # (READ_WRITE: the copy is opened read only, and an attached database would be too)
            con.execute(f"ATTACH ':memory:' AS {home} (READ_WRITE)")
            for _ in range(count):
                cursor = con.cursor()
                cursor.execute(f"SET TimeZone = '{zone}'")  # a connection's own setting
                cursor.execute(f"USE {home}")
                cursor.execute(f"""SET search_path = '{home}.main,"{database}".main'""")
                self.cursors.append(cursor)
            weakref.finalize(self, released, con, home, list(self.cursors))
        self.home = self.cursors[0] if self.cursors else con
        # what a table made here is: the lanes' database's own, or the connection's
        self.temp = "" if self.cursors else "TEMP "

    @property
    def count(self) -> int:
        return max(1, len(self.cursors))

    def run(self, steps: list[Step], alone: bool = False) -> None:
        """Run ``steps``: one after the other on ``home`` with one lane (or ``alone``), else
        each on the first free lane once the steps it comes ``after`` are done, in the order
        given among the ready ones (longest first is best); a table no step makes is one
        made before. DuckDB runs on one thread while
        the lanes run (its setting is global to the database), and as before after."""
        if alone or len(self.cursors) < 2 or len(steps) < 2:
            for step in steps:
                self.home.execute(step.sql)
            return
        threads = self.con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        self.con.execute("SET threads = 1")
        try:
            self.dispatch(steps)
        finally:
            self.con.execute(f"SET threads = {int(threads)}")

    def dispatch(self, steps: list[Step]) -> None:
        """``run``'s lanes: each a Python thread taking the first ready step in turn."""
        names = {step.name for step in steps}
        pending, failed = [Step(s.name, s.sql, tuple(n for n in s.after if n in names)) for s in steps], []
        done: set[str] = set()
        running = [0]
        ready = threading.Condition()

        def lane(cursor: duckdb.DuckDBPyConnection) -> None:
            while True:
                with ready:
                    while True:
                        if failed or not pending:
                            return
                        step = next((s for s in pending if done.issuperset(s.after)), None)
                        if step is not None:
                            pending.remove(step)
                            running[0] += 1
                            break
                        if not running[0]:  # nothing will make what the rest wait for
                            failed.append(ValueError("steps wait for each other: "
                                                     + ", ".join(s.name for s in pending)))
                            ready.notify_all()
                            return
                        ready.wait()
                try:
                    cursor.execute(step.sql)
                except BaseException as error:  # noqa: BLE001 (raised again by the caller)
                    with ready:
                        failed.append(error)
                        running[0] -= 1
                        ready.notify_all()
                    return
                with ready:
                    done.add(step.name)
                    running[0] -= 1
                    ready.notify_all()

        workers = [threading.Thread(target=lane, args=(cursor,), name=f"duckdb-lane-{index}")
                   for index, cursor in enumerate(self.cursors)]
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        except BaseException as error:  # Ctrl-C while the lanes run: no lane takes another
            with ready:                 # step, the running statements are interrupted, and
                failed.append(error)    # it is raised once none runs
                while running[0]:
                    # (again until none runs: a lane may have taken its step just before,
                    # and an interrupt before a statement starts is not kept for it)
                    for cursor in self.cursors:
                        cursor.interrupt()
                    ready.wait(0.05)
            # (not joined: a join that Ctrl-C cut short can take a live thread for ended,
            # CPython's bpo-45274; each lane returns as soon as it sees ``failed``)
            raise
        if failed:
            raise failed[0]


class Aside:
    """``steps(cursor)``, a generator of results, run on a thread of its own with a cursor
    of ``con`` (its own temporary tables, dropped with it) while the caller goes on with
    Python work (DuckDB lets go of the GIL while it executes); the caller takes the results
    in order with ``next``. ``close`` (the ``with`` block's end) stops the steps, the
    running statement interrupted, and returns once the thread has ended.

    >>> import duckdb
    >>> def steps(cursor):
    ...     yield cursor.execute("SELECT 1").fetchall()[0][0]
    ...     yield cursor.execute("SELECT 2").fetchall()[0][0]
    >>> with Aside(duckdb.connect(), steps) as results:
    ...     next(results) + next(results)
    3
    """

    def __init__(self, con: duckdb.DuckDBPyConnection,
                 steps: Callable[[duckdb.DuckDBPyConnection], Iterator[Any]]) -> None:
        self.cursor = con.cursor()
        self.results: list[Any] = []
        self.error: BaseException | None = None
        self.ended = self.stopping = False
        self.changed = threading.Condition()
        threading.Thread(target=self.work, args=(steps,), name="duckdb-aside", daemon=True).start()

    def work(self, steps: Callable[[duckdb.DuckDBPyConnection], Iterator[Any]]) -> None:
        """The thread: each result handed over as it comes, until the steps end or stop."""
        try:
            for result in steps(self.cursor):
                with self.changed:
                    self.results.append(result)
                    self.changed.notify_all()
                    if self.stopping:
                        return
        except BaseException as error:  # noqa: BLE001 (raised again by ``next``)
            with self.changed:
                self.error = error
        finally:
            with self.changed:
                self.ended = True
                self.changed.notify_all()

    def __iter__(self) -> Aside:
        return self

    def __next__(self) -> Any:
        """The next result, once the steps give it; their error if they failed first."""
        with self.changed:
            while not self.results and not self.ended:
                self.changed.wait()
            if self.results:
                return self.results.pop(0)
        if self.error is not None:
            raise self.error
        raise StopIteration

    def close(self) -> None:
        """Stop the steps and wait until the thread has ended (interrupting its statement
        again until then: an interrupt before a statement starts is not kept for it), then
        close the cursor. Waited for on a condition, not joined: a join Ctrl-C cut short
        can take a live thread for ended (CPython's bpo-45274)."""
        with self.changed:
            self.stopping = True
            while not self.ended:
                self.cursor.interrupt()
                self.changed.wait(0.05)
        self.cursor.close()

    def __enter__(self) -> Aside:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
