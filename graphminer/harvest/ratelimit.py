"""Rate limits for the GitHub harvest: owns the tokens and decides which one the next
request uses, and when to wait.

GitHub answers every request with ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` for
the token that sent it. Near the floor we switch to the token with the most requests left;
when every token is near its floor we sleep until the earliest reset, saying when the
harvest resumes. A token GitHub stops accepting (401: revoked, or an installation token
past its hour) is dropped. A conditional request goes out with the token whose answer is
cached (``prefer``): GitHub's ETags are per token. Tokens live only in memory here: what
leaves this module is a keyed fingerprint (HMAC), never a token.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime


class NoTokenLeft(Exception):
    """Every token was refused (401) while a request waited for one."""

    def __init__(self, last: int) -> None:
        super().__init__(last)
        self.last = last


@dataclass
class TokenState:
    """What the last response told us about one token (None: not seen yet)."""

    token: str | None
    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # epoch seconds
    dropped: bool = False  # GitHub refused it (401)

    def left(self, now: float) -> int:
        """Requests this token may still send (a passed reset restores the full limit)."""
        if self.dropped:
            return -1
        if self.remaining is None:
            return 10**9  # unknown: as good as fresh
        # X-RateLimit-Reset is in whole seconds: a second's margin before trusting it.
        if self.reset is not None and now >= self.reset + 1:
            return self.limit if self.limit is not None else 10**9
        return self.remaining


class TokenPool:
    """The tokens of a harvest and the choice of the one to use next.

    ``floor`` is the number of requests kept in reserve per token (``harvest.rate_floor``),
    capped at a tenth of the token's limit so that small limits (tests, unauthenticated
    runs) still get used.
    """

    def __init__(
        self,
        tokens: list[str],
        floor: int = 50,
        say: Callable[[str], None] = lambda message: None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        secret: bytes = b"",
    ) -> None:
        self.states = [TokenState(token) for token in tokens] or [TokenState(None)]
        self.fingerprints = [_fingerprint(secret, state.token) for state in self.states]
        self.current = 0
        self.floor = floor
        self.say = say
        self.clock = clock
        self.sleep = sleep
        self.slept_seconds = 0.0
        self.switches = 0
        self.resume_at: float | None = None  # epoch seconds, while sleeping for a limit
        self.lock = threading.RLock()  # the harvest's workers share the pool

    @property
    def authenticated(self) -> bool:
        return self.states[0].token is not None

    def authorization(self, index: int | None = None) -> str | None:
        """The Authorization header value for token ``index`` (default: the current one;
        None without a token)."""
        token = self.states[self.current if index is None else index].token
        return f"token {token}" if token else None

    def index_of(self, authorization: str | None) -> int:
        """The token a request was sent with, from its Authorization header."""
        for index in range(len(self.states)):
            if self.authorization(index) == authorization:
                return index
        return self.current

    def fingerprint(self, index: int) -> str | None:
        """A keyed hash naming token ``index`` in the HTTP cache (never the token)."""
        return self.fingerprints[index]

    def by_fingerprint(self, fingerprint: str | None) -> int | None:
        if fingerprint is None or fingerprint not in self.fingerprints:
            return None
        return self.fingerprints.index(fingerprint)

    def drop(self, index: int) -> bool:
        """GitHub refused token ``index`` (401): never use it again. True when another
        token is left to go on with."""
        with self.lock:
            return self._drop(index)

    def _drop(self, index: int) -> bool:
        self.states[index].dropped = True
        live = [i for i, state in enumerate(self.states) if not state.dropped]
        if live and self.current == index:
            self.current = max(live, key=lambda i: self.states[i].left(self.clock()))
        return bool(live)

    def floor_for(self, state: TokenState) -> int:
        if state.limit is None:
            return self.floor
        return min(self.floor, state.limit // 10)

    def observe(self, index: int, headers: Mapping[str, str]) -> None:
        """Record the X-RateLimit-* headers of a response sent with token ``index``."""
        with self.lock:
            self._observe(index, headers)

    def _observe(self, index: int, headers: Mapping[str, str]) -> None:
        state = self.states[index]
        limit = _int_header(headers, "X-RateLimit-Limit")
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        reset = _int_header(headers, "X-RateLimit-Reset")
        if limit is not None:
            state.limit = limit
        if remaining is not None:
            state.remaining = remaining
        if reset is not None:
            state.reset = float(reset)

    def exhausted(self, index: int, headers: Mapping[str, str]) -> None:
        """A 403 'rate limit exceeded' for token ``index``: nothing left until reset."""
        with self.lock:
            self._observe(index, headers)
            state = self.states[index]
            state.remaining = 0
            if state.reset is None or state.reset <= self.clock():
                state.reset = self.clock() + 60

    def remaining(self) -> int | None:
        """Requests left on the current token, as last reported."""
        return self.states[self.current].remaining

    def choose(self, prefer: int | None = None, home: int | None = None) -> int:
        """The token index for the next request: ``prefer`` (the token whose answer is
        cached) while it has any request left (its 304 costs nothing, another token's
        answer costs one), else ``home`` (a worker's own token) or the current one; switch
        or sleep when near the floor."""
        with self.lock:
            return self._choose(prefer, home)

    def _choose(self, prefer: int | None, home: int | None) -> int:
        while True:
            if all(state.dropped for state in self.states):
                # another worker dropped the last token: waiting for a reset would be forever
                raise NoTokenLeft(len(self.states) - 1)
            now = self.clock()
            if prefer is not None and self.states[prefer].left(now) > 0:
                return prefer
            if home is not None and home < len(self.states):
                state = self.states[home]
                if state.left(now) > self.floor_for(state):
                    return home
            state = self.states[self.current]
            if state.left(now) > self.floor_for(state):
                return self.current
            best = max(range(len(self.states)), key=lambda i: self.states[i].left(now))
            best_state = self.states[best]
            if best_state.left(now) > self.floor_for(best_state):
                self.current = best
                self.switches += 1
                return best
            self._sleep_until_reset(now)

    def _sleep_until_reset(self, now: float) -> None:
        resets = [s.reset for s in self.states
                  if not s.dropped and s.reset is not None and s.reset + 1 > now]
        wake = (min(resets) if resets else now + 60) + 1
        wait = max(1.0, wake - now)
        resume = datetime.fromtimestamp(now + wait, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        self.say(f"rate limit reached on every token: sleeping {wait:.0f}s, resuming at {resume}")
        self.resume_at = now + wait
        self.sleep(wait)
        self.resume_at = None
        self.slept_seconds += wait
        for state in self.states:
            if state.reset is not None and state.reset + 1 <= self.clock():
                state.remaining = state.limit


def _fingerprint(secret: bytes, token: str | None) -> str | None:
    if token is None:
        return None
    return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()[:16]


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None
