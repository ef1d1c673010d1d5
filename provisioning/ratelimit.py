"""A per-integration request limiter kept in Redis, so every worker process shares one budget."""

import threading
import time

from redis import Redis

from .retry import RateLimiter


class RedisRateLimiter(RateLimiter):
    """At most `rate` requests per second to one app across all workers; a 429 pauses them all.

    Budget is taken from Redis a few requests at a time (a fixed one-second window), so a busy
    worker asks Redis once per handful of requests rather than once per request.
    """

    def __init__(self, *, redis: Redis, integration_id: int, rate: int, chunk: int = 10):
        self.redis = redis
        self.rate = rate
        self.chunk = max(1, min(chunk, rate or chunk))
        self.prefix = f"lanyard:provisioning:{integration_id}"
        self._lock = threading.Lock()
        self._allowance = 0
        self._window = 0
        self._paused_until = 0.0

    def wait(self) -> None:
        """Block until this second's budget allows one more request (and no pause is on)."""
        while True:
            with self._lock:
                now = time.time()
                if now < self._paused_until:
                    delay = self._paused_until - now
                elif self._allowance > 0 and self._window == int(now):
                    self._allowance -= 1
                    return
                else:
                    delay = self._refill(now)
                    if delay == 0:
                        continue
            time.sleep(delay)

    def _refill(self, now: float) -> float:
        """Take the next chunk of budget from Redis; the seconds to wait when none is left (0: go on)."""
        window = int(now)
        key = f"{self.prefix}:rate:{window}"
        pipe = self.redis.pipeline()
        pipe.pttl(f"{self.prefix}:pause")
        pipe.incrby(key, self.chunk)
        pipe.expire(key, 2)
        pause_ms, used, _ = pipe.execute()
        if pause_ms and pause_ms > 0:
            self._paused_until = now + pause_ms / 1000
            return pause_ms / 1000
        granted = self.chunk if not self.rate else max(0, min(self.chunk, self.rate - (used - self.chunk)))
        self._window, self._allowance = window, granted
        if granted:
            return 0
        return max(0.001, window + 1 - now)

    def pause(self, seconds: float) -> None:
        """Hold every worker's requests to this app for `seconds` (the app asked us to slow down)."""
        if seconds > 0:
            self.redis.set(f"{self.prefix}:pause", "1", px=max(1, int(seconds * 1000)))
            with self._lock:
                self._paused_until = max(self._paused_until, time.time() + seconds)
                self._allowance = 0
