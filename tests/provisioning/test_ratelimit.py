"""The per-integration limiter is shared through Redis: limiters of one app, in any worker, split one budget."""

import pytest
from redis import Redis

from provisioning.ratelimit import RedisRateLimiter

NOW = 2_000_000_000.25  # one fixed instant, inside one one-second window


@pytest.fixture
def redis(redis_queues, redis_url):
    return Redis.from_url(redis_url)


def test_two_workers_share_one_budget_per_second(redis):
    first = RedisRateLimiter(redis=redis, integration_id=1, rate=10, chunk=3)
    second = RedisRateLimiter(redis=redis, integration_id=1, rate=10, chunk=3)
    granted = []
    for limiter in (first, second, first, second, first):
        wait = limiter._refill(NOW)
        granted.append(limiter._allowance)
        if limiter._allowance == 0:
            assert wait > 0  # told to wait for the next window
    assert granted == [3, 3, 3, 1, 0]  # ten requests in the second, across both workers

    other_app = RedisRateLimiter(redis=redis, integration_id=2, rate=10, chunk=3)
    assert other_app._refill(NOW) == 0 and other_app._allowance == 3  # another app has its own budget


def test_a_429_pause_holds_every_worker_of_that_app(redis):
    first = RedisRateLimiter(redis=redis, integration_id=1, rate=10)
    second = RedisRateLimiter(redis=redis, integration_id=1, rate=10)
    first.pause(30)
    assert second._refill(NOW) > 25
    assert second._allowance == 0
