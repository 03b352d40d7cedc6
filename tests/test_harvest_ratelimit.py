"""The token pool's choices, on a clock the test moves (no server needed for the logic;
the harvest tests check the same behaviour against fakehub)."""

from __future__ import annotations

import pytest

from graphminer.harvest.ratelimit import NoTokenLeft, TokenPool


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset))}


def test_switches_to_the_token_with_most_left_near_the_floor():
    clock = Clock()
    pool = TokenPool(["a", "b", "c"], floor=50, clock=clock.time, sleep=clock.sleep)
    pool.observe(0, headers(5000, 51, clock.now + 600))
    pool.observe(1, headers(5000, 300, clock.now + 600))
    pool.observe(2, headers(5000, 900, clock.now + 600))
    assert pool.choose() == 0  # above the floor: stay
    pool.observe(0, headers(5000, 50, clock.now + 600))
    assert pool.choose() == 2 and pool.authorization() == "token c"
    assert clock.slept == []


def test_sleeps_until_the_earliest_reset_and_says_when_it_resumes():
    clock = Clock()
    said: list[str] = []
    pool = TokenPool(["a", "b"], floor=50, say=said.append, clock=clock.time, sleep=clock.sleep)
    pool.observe(0, headers(5000, 10, clock.now + 900))
    pool.observe(1, headers(5000, 3, clock.now + 300))
    assert pool.choose() == 1
    assert clock.slept == [301.0]  # the reset, plus a second for its whole-second rounding
    assert len(said) == 1 and "resuming at" in said[0]


def test_floor_is_capped_for_small_limits_and_unknown_tokens_count_as_fresh():
    clock = Clock()
    pool = TokenPool([], floor=50, clock=clock.time, sleep=clock.sleep)
    assert pool.authorization() is None and pool.choose() == 0
    pool.observe(0, headers(60, 7, clock.now + 3600))
    assert pool.choose() == 0 and clock.slept == []  # floor min(50, 60 // 10) = 6 < 7
    pool.observe(0, headers(60, 6, clock.now + 3600))
    assert pool.choose() == 0 and clock.slept == [3601.0]


def test_an_exhausted_token_without_reset_waits_a_minute_not_a_busy_loop():
    clock = Clock()
    pool = TokenPool(["a"], floor=50, clock=clock.time, sleep=clock.sleep)
    pool.exhausted(0, {})
    assert pool.choose() == 0
    assert clock.slept and all(seconds >= 1 for seconds in clock.slept)


def test_a_worker_waiting_for_a_token_stops_when_every_token_was_refused():
    # Another worker dropped the last token (401) while this one waited for a reset: with
    # nothing left to reset, it must stop (the harvest says so in one line), not sleep forever.
    clock = Clock()

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds}s waiting for a token that can never come back")

    pool = TokenPool(["a", "b"], floor=50, clock=clock.time, sleep=no_sleep)
    pool.observe(0, headers(5000, 10, clock.now + 600))
    assert pool.drop(1) is True
    assert pool.drop(0) is False
    with pytest.raises(NoTokenLeft):
        pool.choose(home=1)
