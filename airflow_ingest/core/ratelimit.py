"""A client-side rate limit, so a run stays under a platform's request budget instead of living on 429s.

A sliding window: at most ``per_minute`` requests start in any 60 seconds, plus ``slack`` (half a second by
default). The platform counts a request from when it arrives, not from when it left here; without the slack,
the 101st request of a 100-a-minute budget can land a few milliseconds inside the platform's window and come
back 429 (``make bench`` saw exactly that). It holds per process; across
Airflow workers, an Airflow pool sized to the account caps how many register tasks run at once (see the
README). The clock and the sleep are injectable so tests never wait.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from airflow_ingest.core.errors import ConfigError


class RateLimiter:
    def __init__(
        self,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        slack: float = 0.5,
    ) -> None:
        if per_minute <= 0:
            raise ConfigError("requests_per_minute", per_minute, "use a positive number, or none for no limit")
        self.per_minute = per_minute
        self.window = 60.0 + slack
        self.clock = clock
        self.sleep = sleep
        self.started: deque[float] = deque()
        self.lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> float:
        """Block until one more request may start; return how long it waited."""
        waited = 0.0
        with self.lock:
            while True:
                now = self.clock()
                while self.started and now - self.started[0] >= self.window:
                    self.started.popleft()
                if len(self.started) < self.per_minute:
                    self.started.append(now)
                    self.waited += waited
                    return waited
                pause = self.window - (now - self.started[0])
                self.sleep(pause)
                waited += pause
