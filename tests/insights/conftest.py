"""Fixtures for the event log tests: events in two organizations, API keys, an API client."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import EventFactory
from tests.insights.factories import api_key_in

API = "/api/insights/events"


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def api_key(org):
    """(ApiKey, secret) of `org`."""
    return api_key_in(org)


@pytest.fixture
def api(client, api_key):
    """GET the API as `org` with its API key: api(path_suffix, **params)."""

    def get(suffix="", **params):
        return client.get(API + suffix, params, HTTP_AUTHORIZATION=f"Bearer {api_key[1]}")

    return get


@pytest.fixture
def start(now):
    """A `start` covering every event the tests build."""
    return (now - timedelta(days=100)).isoformat()


def event(org, *, ago: timedelta = timedelta(minutes=1), **fields):
    """An event of `org` recorded `ago` before now."""
    return EventFactory(organization=org, timestamp=timezone.now() - ago, **fields)
