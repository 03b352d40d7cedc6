"""fakehub's seeded faults: parses ``--faults SPEC`` and decides, request by request, which fault hits.

``error=0.05,drop=0.02,truncate=0.02,slow=0.01,secondary=0.01,seed=7``: every key is
optional; each share is the probability that a request gets that fault (a 500/502/503, a
dropped connection, a truncated body, a 2 s delay, a secondary-limit 403 with
``Retry-After: 1``). Decisions come from one ``random.Random(seed)`` drawn exactly twice
per API request in arrival order, so the same seed and request sequence give the same
faults. Control endpoints (``/_fakehub/...``) draw nothing.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from graphminer.errors import BadInput

KINDS = ("error", "drop", "truncate", "slow", "secondary")
ERROR_STATUSES = (500, 502, 503)
SLOW_SECONDS = 2.0


@dataclass(frozen=True)
class Fault:
    """The fault one request gets: ``kind`` is one of KINDS, ``status`` set for errors."""

    kind: str
    status: int = 0


class Faults:
    """A seeded source of per-request fault decisions."""

    def __init__(self, shares: dict[str, float], seed: int) -> None:
        self.shares = shares
        self.seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return any(self.shares.values())

    def next(self) -> Fault | None:
        """The fault for the next request in arrival order (None for most requests)."""
        if not self.active:
            return None
        with self._lock:
            draw = self._random.random()
            pick = self._random.random()
        bound = 0.0
        for kind in KINDS:
            bound += self.shares.get(kind, 0.0)
            if draw < bound:
                status = ERROR_STATUSES[int(pick * len(ERROR_STATUSES))] if kind == "error" else 0
                return Fault(kind, status)
        return None


def parse_faults(spec: str | None) -> Faults:
    """The Faults a ``--faults`` spec describes; BadInput naming the bad part."""
    shares: dict[str, float] = {}
    seed = 0
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise BadInput(f"--faults: {part!r} is not KEY=VALUE; write e.g. \"error=0.05,seed=7\"")
        if key == "seed":
            try:
                seed = int(value)
            except ValueError:
                raise BadInput(f"--faults: seed must be a whole number, got {value!r}") from None
            continue
        if key not in KINDS:
            raise BadInput(f"--faults: unknown fault {key!r}; use {', '.join(KINDS)} or seed")
        try:
            share = float(value)
        except ValueError:
            share = -1.0
        if not 0.0 <= share <= 1.0:
            raise BadInput(f"--faults: {key} must be a share between 0 and 1, got {value!r}")
        shares[key] = share
    if sum(shares.values()) > 1.0:
        raise BadInput(f"--faults: the shares add up to {sum(shares.values()):g}, more than 1")
    return Faults(shares, seed)
