"""A per-integration request limiter kept in Redis, so every worker process shares one budget."""

import time

from redis import Redis

from .scim_client import RateLimiter


class RedisRateLimiter(RateLimiter):
    """At most `rate` requests per second to one app across all workers; a 429 pauses them all."""

    def __init__(self, *, redis: Redis, integration_id: int, rate: int):
        self.redis = redis
        self.rate = rate
        self.prefix = f"lanyard:provisioning:{integration_id}"

    def wait(self) -> None:
        """Block until this second's budget allows one more request (and no pause is on)."""
        while True:
            now = time.time()
            window = f"{self.prefix}:rate:{int(now)}"
            pipe = self.redis.pipeline()
            pipe.pttl(f"{self.prefix}:pause")
            pipe.incr(window)
            pipe.expire(window, 2)
            pause_ms, count, _ = pipe.execute()
            if pause_ms and pause_ms > 0:
                time.sleep(pause_ms / 1000)
                continue
            if not self.rate or count <= self.rate:
                return
            time.sleep(max(0.001, int(now) + 1 - now))

    def pause(self, seconds: float) -> None:
        """Hold every worker's requests to this app for `seconds` (the app asked us to slow down)."""
        if seconds > 0:
            self.redis.set(f"{self.prefix}:pause", "1", px=max(1, int(seconds * 1000)))
