"""Run ``python -m graphminer ARGS`` as a process of its own, forked from a server that
imported graphminer once (the suite's own start-up cost, not the CLI's behaviour).

Each run is still a real process of its own: its own pid, exit code, environment, working
folder, standard output and error (files, read back as text), and module state exactly as
after ``import`` (nothing of graphminer has run in the server). What it saves is the
interpreter's start and the imports of the harvest path (pandas, DuckDB, PyGithub,
requests-cache...): about 1.2 s of CPU a run, over the hundreds of CLI runs of the suite.
It is Python's own ``multiprocessing`` fork server, started once per pytest process (per
xdist worker) with those modules preloaded, and stopped (and waited for, so that the CPU
its children used is counted) when that process ends (``stop``).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# What a harvest, a `makers` or an export imports (the CLI's own modules are lazy).
PRELOAD = ["graphminer.cli", "graphminer.pipeline", "graphminer.harvest.session",
           "graphminer.harvest.github", "graphminer.harvest.graphql", "graphminer.identity",
           "graphminer.precompute", "graphminer.columnar.copy", "cli_fork"]
PROGRAM = "python -m graphminer"  # the name click gives `python -m graphminer` in its messages

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def run(args: list[str], *, env: dict[str, str] | None = None, cwd: str | os.PathLike | None = None,
        timeout: float | None = None) -> subprocess.CompletedProcess:
    """``subprocess.run([sys.executable, "-m", "graphminer", *args], capture_output=True,
    text=True, env=env, cwd=cwd, timeout=timeout)``, in a process forked from the server."""
    with tempfile.TemporaryDirectory(prefix="cli-") as folder:
        out, err = Path(folder) / "out", Path(folder) / "err"
        process = _context.Process(target=_main, args=(list(args), dict(os.environ if env is None else env),
                                                       str(cwd or os.getcwd()),
                                                       str(out), str(err)))
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired([sys.executable, "-m", "graphminer", *args], timeout or 0)
        return subprocess.CompletedProcess([sys.executable, "-m", "graphminer", *args], process.exitcode,
                                           out.read_text("utf-8"), err.read_text("utf-8"))


def _main(args: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked process: standard output and error to the files, then the CLI."""
    for stream, path in ((sys.stdout, out), (sys.stderr, err)):
        stream.flush()
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(handle, stream.fileno())
        os.close(handle)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = [str(Path(sys.modules["graphminer.cli"].__file__).with_name("__main__.py")), *args]
    from graphminer.cli import main

    main(args=args, prog_name=PROGRAM)


def stop() -> None:
    """Stop the fork server, if it was started, and wait for it: the CPU its children used is
    then counted as this process's (``time make test`` sees it). tests/conftest.py calls this
    when each pytest process (each xdist worker) ends."""
    server = multiprocessing.forkserver._forkserver
    if server._forkserver_pid is not None:
        server._stop()
