"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ../shared folder beside the checkout; skip when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): real civic tech data is only there")
    return SHARED
