"""What the property-based tests of every parser share: their hypothesis settings and what a refusal must look like.

Each example runs inside a savepoint that is rolled back (`example_isolated`): the test's database fixture
is function-scoped and so shared by all of a test's examples (hence the suppressed health check), and
the rollback gives every example the same starting rows. Counts are compared inside the savepoint.
"""

import contextlib
import html
import re

from django.db import transaction
from hypothesis import HealthCheck, settings

# 150 examples per test keep all of them together well under a minute on two cores, while the
# explicit @example cases (every bad input once reproduced by hand) always run first.
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # no example database in the worktree; a failure prints its reproducing example
    print_blob=True,
)

_TAG = re.compile(r"<[^>]+>")
_SENTENCE = re.compile(r"[^\W_][^.!?\n]*(?:\s+[^\s.!?]+){3,}[^.!?\n]*[.!?]")


@contextlib.contextmanager
def example_isolated():
    """Run one example in a savepoint that is rolled back afterwards."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def has_sentence(text: str) -> bool:
    """Whether the text holds at least one sentence of four words or more (not just "Bad Request (400)")."""
    return _SENTENCE.search(text) is not None


def refusal_text(response) -> str:
    """What a person or a client reads in a refusal: the JSON error, or the page's text without markup."""
    body = response.content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        return str(response.json().get("error", ""))
    return html.unescape(_TAG.sub(" ", body))


def assert_answered(response) -> bool:
    """Never a 5xx; a 4xx carries a sentence and no traceback. Returns whether the request was refused."""
    assert response.status_code < 500, response.status_code
    if response.status_code < 400:
        return False
    text = refusal_text(response)
    assert "Traceback" not in text and "Server Error" not in text, text[:500]
    assert has_sentence(text), f"{response.status_code} without a sentence: {text[:500]!r}"
    return True
