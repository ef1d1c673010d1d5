"""The whole story of the README's walkthrough, in a real browser against real processes.

An admin authorizes a group for the Demo SP app → its member is provisioned into the app's SCIM
server → she launches the Demo SP tile from the portal and arrives signed in at the SP (a separate
djangosaml2 process) → the admin removes her from the group → she is deactivated in the SCIM server.
Screenshots land in test-artifacts/ (and in LANYARD_SCREENSHOTS_DIR when set: the README's pictures).
"""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from rq import SimpleWorker

from demo.scim.server import RunningServer
from directory import services as directory_services
from directory.models import Organization
from directory.roles import ADMINISTRATOR
from provisioning.models import ProvisionedAccount
from provisioning.services import integration_activate, integration_configure
from ssoapps.services import application_create
from tests.portal.browser import ARTIFACTS, demo_sp_start, demo_sp_stop, free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "walkthrough-Pa55"
SCIM_TOKEN = "story-scim-token"


def shoot(page, name: str) -> None:
    """Keep a screenshot for the walkthrough."""
    for folder in filter(None, [ARTIFACTS, os.environ.get("LANYARD_SCREENSHOTS_DIR")]):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def sign_in(page, base_url: str, email: str, next_path: str = "/") -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


@pytest.fixture
def acme(db):
    """Organization acme: Ada (Administrator), Alice in Engineering, and a Demo SP app bound to nobody yet."""
    organization = Organization.objects.create(name="Acme Corp", slug="acme")
    ada = directory_services.user_create(
        organization=organization, email="admin@acme.example", first_name="Ada", is_staff=True, password=PASSWORD
    )
    directory_services.user_roles_set(user=ada, roles=[Group.objects.get(name=ADMINISTRATOR)])
    alice = directory_services.user_create(
        organization=organization,
        email="alice@acme.example",
        first_name="Alice",
        last_name="Anders",
        password=PASSWORD,
    )
    engineering = directory_services.group_create(organization=organization, name="Engineering")
    directory_services.group_members_add(group=engineering, users=[alice])
    return organization


@pytest.fixture
def scim_server():
    server = RunningServer(token=SCIM_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def demo_app(live_server, settings, acme, scim_server, redis_queues, tmp_path):
    """The Demo SP app (SAML to a demo SP process, SCIM to the demo SCIM server), provisioning active."""
    settings.SSO_BASE_URL = live_server.url
    port = free_port()
    sp_url = f"http://127.0.0.1:{port}"
    application = application_create(
        organization=acme,
        catalog_key="custom-saml",
        label="Demo SP",
        idp_slug="demo-sp",
        sp_entity_id=f"{sp_url}/saml2/metadata/",
        acs_urls=[f"{sp_url}/saml2/acs/"],
        attribute_statements=[{"name": "email", "source": "email"}, {"name": "givenName", "source": "first_name"}],
    )
    integration = integration_configure(application=application, base_url=scim_server.base_url, token=SCIM_TOKEN)
    integration_activate(integration=integration)
    process = demo_sp_start(
        port=port, metadata_url=f"{live_server.url}/saml2/demo-sp/metadata", database=tmp_path / "sp.sqlite3"
    )
    yield {"application": application, "sp_url": sp_url}
    demo_sp_stop(process)


def run_workers(queues) -> None:
    """Let a real RQ worker do everything queued (the jobs the admin's clicks enqueued)."""
    queue = queues["provisioning"]
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert not queue.failed_job_registry.get_job_ids()


def remote(scim_server, email: str) -> dict | None:
    return next((u for u in scim_server.users() if u["userName"] == email), None)


def test_bind_provision_launch_unbind_deprovision(live_server, browser_context, demo_app, scim_server, redis_queues):
    base = live_server.url
    application = demo_app["application"]
    assert remote(scim_server, "alice@acme.example") is None  # nobody is bound yet

    # 1. The admin authorizes Engineering for the Demo SP app.
    admin = browser_context().new_page()
    sign_in(admin, base, "admin@acme.example", next_path="/admin/")
    admin.goto(f"{base}/admin/ssoapps/application/{application.pk}/change/")
    admin.select_option("#id_authorized_groups_from", label="Engineering")
    admin.click("#id_authorized_groups_add")
    shoot(admin, "admin-application-groups")
    with admin.expect_navigation():
        admin.click("input[name=_save]")
    assert "was changed successfully" in admin.content()

    # 2. The worker provisions Alice into the app.
    run_workers(redis_queues)
    provisioned = remote(scim_server, "alice@acme.example")
    assert provisioned is not None and provisioned["active"] is True
    assert len([u for u in scim_server.users() if u["userName"] == "alice@acme.example"]) == 1
    assert ProvisionedAccount.objects.get(user__email="alice@acme.example").remote_id == provisioned["id"]

    # 3. Alice signs in to the portal and launches the Demo SP tile.
    alice = browser_context().new_page()
    sign_in(alice, base, "alice@acme.example")
    assert [t.strip() for t in alice.locator(".tile-label").all_inner_texts()] == ["Demo SP"]
    shoot(alice, "portal-home")
    alice.click(".tile-launch")
    alice.wait_for_url(f"{demo_app['sp_url']}/")
    assert alice.locator("#signed-in-user").inner_text() == "alice@acme.example"
    shoot(alice, "demo-sp-signed-in")

    # 4. The admin removes Alice from Engineering (bulk action on the user list).
    admin.goto(f"{base}/admin/directory/user/?q=alice")
    admin.check("input[name=_selected_action]")
    admin.select_option("select[name=action]", "remove_from_group")
    with admin.expect_navigation():
        admin.click("button[name=index]")
    admin.select_option("select[name=group]", label="Engineering")
    with admin.expect_navigation():
        admin.click("input[name=apply]")
    assert re.search(r"1 user\(s\) removed from Engineering", admin.content())

    # 5. The worker deactivates her in the app; she keeps her account there, inactive.
    run_workers(redis_queues)
    assert remote(scim_server, "alice@acme.example")["active"] is False
    admin.goto(scim_server.base_url.rsplit("/scim", 1)[0] + "/")
    shoot(admin, "scim-server-users")

    # And the portal no longer offers her the tile.
    alice.goto(f"{base}/")
    assert alice.locator(".tile-label").count() == 0
