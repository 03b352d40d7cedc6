"""The fuzz suite: random commands and arguments over the whole CLI never end in a
traceback, exit 0, 1 or 2 (one line on 2), and leave every file graphminer did not write
byte-for-byte as it was (tests/fuzz_support.py says what is drawn). Bounded for the suite
(GRAPHMINER_FUZZ_EXAMPLES, default 600); bench/bench_fuzz.py runs it longer."""

from __future__ import annotations

import os

import pytest
from fuzz_support import Playground, commands, run_case
from harvest_support import harvest_generated
from hypothesis import HealthCheck, given, settings

EXAMPLES = int(os.environ.get("GRAPHMINER_FUZZ_EXAMPLES", "600"))


@pytest.fixture(scope="module")
def playground(tmp_path_factory) -> Playground:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "harvest").mkdir()
    _, store, _ = harvest_generated(folder / "harvest", seed=3, orgs=2, repos_per_org=2, makers=20, years=1)
    return Playground.build(folder / "play", store, folder / "harvest" / "cache" / "http_cache.sqlite")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(args=commands())
def test_any_command_line_keeps_every_file_and_says_one_line(playground, args):
    problem = run_case(playground, args)
    assert problem is None, problem
