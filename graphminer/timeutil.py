"""Times on the command line and in outputs: ISO 8601 read as UTC, written ``YYYY-MM-DDTHH:MM:SSZ``.

Standard library only at import, so the fast path of ``graphminer trajectory`` can use it
without importing pandas; ``as_of`` (the one conversion to as_of's type, a pandas
Timestamp) imports pandas when called.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from graphminer.errors import BadInput

if TYPE_CHECKING:
    import pandas as pd

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# The years a reference time may fall in: pandas computes with nanoseconds (1677 to 2262),
# and the trajectory rules add and subtract some years of days to it.
EARLIEST_YEAR, LATEST_YEAR = 1700, 2199


def parse_instant(text: str, option: str = "--as-of") -> datetime:
    """``2024-05-01`` or ``2024-05-01T12:00:00Z`` (or with an offset) as an aware UTC datetime.

    A date alone is midnight UTC at its start, as ISO 8601 reads it.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            parsed = datetime.strptime(value, "%Y-%m-%d")
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadInput(
            f"{option} {text!r} is not an ISO 8601 date: give 2024-05-01 or 2024-05-01T12:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise BadInput(
            f"{option} {text!r} is outside the years graphminer computes with "
            f"({EARLIEST_YEAR} to {LATEST_YEAR}): give a date in that range"
        )
    return parsed.astimezone(UTC).replace(microsecond=0)


def format_instant(moment: datetime | None) -> str | None:
    """A datetime as ``YYYY-MM-DDTHH:MM:SSZ`` (None stays None)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(ISO_FORMAT)


def parse_stored(text: str | None) -> datetime | None:
    """A time as the store writes it (``...Z``) as an aware UTC datetime."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def describe_span(days: float) -> str:
    """A duration a person reads at a glance: ``3 d``, ``5 mo``, ``2.4 y``."""
    if days < 60:
        return f"{days:.0f} d"
    if days < 730:
        return f"{days / 30.44:.0f} mo"
    return f"{days / 365.25:.1f} y"


def as_of(value: str | datetime, option: str = "--as-of") -> pd.Timestamp:
    """``value`` as the one type as_of has inside graphminer: a timezone-aware UTC pandas
    Timestamp in nanoseconds, the unit of the events table (pandas' as-of merges refuse
    keys of two units). Text is ISO 8601 read as UTC (``parse_instant``: bad text is a
    BadInput naming ``option``); a datetime without a zone is UTC. Called once where an
    as_of enters: the command line, the Python API, the store's own records.

    >>> as_of("2024-05-01")
    Timestamp('2024-05-01 00:00:00+0000', tz='UTC')
    >>> as_of(datetime(2024, 5, 1, 14, 0, tzinfo=UTC)).isoformat()
    '2024-05-01T14:00:00+00:00'
    """
    import pandas as pd  # start-up: the trajectory command's fast path never imports pandas

    stamp = pd.Timestamp(parse_instant(value, option) if isinstance(value, str) else value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.as_unit("ns")
