"""Provisioning test fixtures: a real demo SCIM server on loopback, a real Redis and RQ worker."""

import pytest
from rq import SimpleWorker

from demo.scim.server import RunningServer
from provisioning.models import IntegrationStatus
from tests.factories import UserGroupFactory
from tests.provisioning.factories import ApplicationFactory, IntegrationFactory

TOKEN = "sp-token-for-tests"


@pytest.fixture
def scim_server():
    """The demo SCIM server (scim2-server, in memory) on a free loopback port."""
    server = RunningServer(token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fast_policy(settings):
    """Short backoff and leases so fault tests run in seconds."""
    settings.PROVISIONING_RETRY_BASE_SECONDS = 0.01
    settings.PROVISIONING_RETRY_CAP_SECONDS = 2
    settings.PROVISIONING_SWEEP_GRACE_SECONDS = 0
    settings.PROVISIONING_LEASE_SECONDS = 30


@pytest.fixture
def run_jobs(redis_queues):
    """Run every queued provisioning job with a real RQ worker (burst), until the queue is empty."""

    def run() -> None:
        queue = redis_queues["provisioning"]
        worker = SimpleWorker([queue], connection=queue.connection)
        worker.work(burst=True)
        failed = queue.failed_job_registry.get_job_ids()
        assert not failed, f"jobs failed: {[queue.fetch_job(j).exc_info for j in failed]}"

    return run


@pytest.fixture
def application(org):
    """An app whose catalog entry supports users (with delete) and groups."""
    return ApplicationFactory(organization=org, catalog_key="custom-saml", label="Demo SP")


@pytest.fixture
def integration(application, scim_server):
    """An integration configured against the demo server, not yet active."""
    return IntegrationFactory(
        application=application,
        base_url=scim_server.base_url,
        token=TOKEN,
        status=IntegrationStatus.INACTIVE,
        capabilities={},
    )


@pytest.fixture
def group(org):
    """A user group of `org`."""
    return UserGroupFactory(organization=org, name="Engineering")


def remote_by_username(server) -> dict[str, dict]:
    """The SP's users by userName."""
    return {u["userName"]: u for u in server.users()}
