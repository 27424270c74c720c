"""The client-side rate limit, on a fake clock."""

from __future__ import annotations

import pytest

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_at_most_n_requests_start_in_any_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):
        limiter.acquire()
        starts.append(clock.now)
        clock.now += 1.0  # each request takes a second
    assert starts == [1000.0, 1001.0, 1002.0, 1060.5, 1061.5, 1062.5, 1121.0]  # 60 s and half a second of slack
    for i, start in enumerate(starts):
        assert sum(1 for s in starts if start <= s < start + 60.5) <= 3, i
    assert limiter.waited == pytest.approx(57.5 + 57.5)


def test_a_nonsense_rate_is_refused() -> None:
    with pytest.raises(ConfigError, match="requests_per_minute"):
        RateLimiter(0)
