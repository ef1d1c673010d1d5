"""The SCIM client's reading of an app's back-off hints: a hostile header never breaks a job."""

import httpx2
import pytest

from provisioning.retry import RetryPolicy


def _response(**headers) -> httpx2.Response:
    # raw bytes as they come off the wire: b"\xb2" reads back as "²" (header values are latin-1)
    return httpx2.Response(429, headers=[(k.encode(), v.encode("latin-1", "replace")) for k, v in headers.items()])


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "²"},
        {"retry-after": "not a date"},
        {"x-ratelimit-reset": "nan"},
        {"x-ratelimit-reset": "NaN"},
        {"x-ratelimit-reset": "-inf"},
        {"x-ratelimit-reset": "²"},
    ],
)
def test_odd_hints_fall_back_to_backoff(headers):
    delay = RetryPolicy(base=0.5, cap=30).delay(0, _response(**headers))
    assert 0 <= delay <= 30  # a finite number time.sleep() accepts


def test_a_plain_retry_after_is_honoured_up_to_the_cap():
    policy = RetryPolicy(cap=30)
    assert policy.delay(0, _response(**{"retry-after": "7"})) == 7
    assert policy.delay(0, _response(**{"retry-after": "700"})) == 30
