"""Run only by tests/test_suite_runs.py (its name is not collected by itself): a module
whose fixture notes each time it is made, in the file GROUPING_PROBE_LOG names."""

import os

import pytest


@pytest.fixture(scope="module")
def made_once() -> None:
    with open(os.environ["GROUPING_PROBE_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}\n")


@pytest.mark.parametrize("n", range(8))
def test_probe(made_once, n: int) -> None:
    assert n < 8
