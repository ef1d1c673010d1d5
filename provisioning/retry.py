"""How the SCIM client paces itself: the rate-limiter interface, and the retry policy with the app's hints."""

import email.utils
import math
import random
import re
import time

import httpx2

RETRYABLE = {429, 500, 502, 503, 504}


class RateLimiter:
    """Interface of a limiter: `wait()` blocks until one more request may go; `pause(seconds)` backs everyone off."""

    def wait(self) -> None:  # pragma: no cover - interface
        """Block until a request may be sent."""

    def pause(self, seconds: float) -> None:  # pragma: no cover - interface
        """Hold every request to this app for a while (the app said so)."""


class RetryPolicy:
    """How many attempts, and how long to wait between them."""

    def __init__(self, *, attempts: int = 5, base: float = 0.5, cap: float = 30.0):
        self.attempts = attempts
        self.base = base
        self.cap = cap

    def delay(self, attempt: int, response: httpx2.Response | None) -> float:
        """Seconds to wait before attempt number `attempt + 1`: the SP's hint, else backoff with jitter."""
        hinted = _hinted_delay(response) if response is not None else None
        if hinted is not None:
            return min(hinted, self.cap)
        backoff = min(self.cap, self.base * (2**attempt))
        return backoff / 2 + random.uniform(0, backoff / 2)  # noqa: S311 - jitter, not cryptography


def _hinted_delay(response: httpx2.Response) -> float | None:
    retry_after = response.headers.get("retry-after")
    if retry_after:
        if re.fullmatch(r"[0-9]{1,9}", retry_after.strip()):  # ASCII digits: str.isdigit() also takes "²"
            return float(retry_after.strip())
        try:
            when = email.utils.parsedate_to_datetime(retry_after)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        if not math.isfinite(value):  # "nan" or "inf" from a hostile app must not reach time.sleep()
            return None
        # epoch seconds (the usual meaning) or, when small, seconds from now
        return max(0.0, value - time.time()) if value > 10**9 else value
    return None
