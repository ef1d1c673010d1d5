"""End to end in headless Chromium: sign-in, TOTP enrolment, tiles, and SSO into the demo SP (both directions)."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from insights.models import Event
from ssoapps.services import application_create, application_groups_bind
from tests.factories import PASSWORD

from .browser import ARTIFACTS, demo_sp_start, demo_sp_stop, free_port
from .factories import ApplicationFactory
from .helpers import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "alice@org-a.test"


@pytest.fixture
def portal(live_server, settings, org, alice, engineering):
    """The live Lanyard server, with an organization whose user Alice has two tiles (and one she must not see)."""
    settings.SSO_BASE_URL = live_server.url
    settings.MFA_TOTP_TOLERANCE = 1  # the second sign-in uses the next period's code: a code works only once
    ApplicationFactory(
        organization=org,
        label="Handbook",
        idp_slug="handbook",
        catalog_key="bookmark",
        bookmark_url=f"{live_server.url}/accounts/login/?bookmark=1",
        description="The company handbook.",
        groups=[engineering],
    )
    ApplicationFactory(organization=org, label="Payroll", idp_slug="payroll")
    return live_server


@pytest.fixture
def demo_sp(portal, org, engineering, tmp_path):
    """The demo SP running as a separate process, and the Lanyard app configured for it."""
    port = free_port()
    sp_url = f"http://127.0.0.1:{port}"
    application = application_create(
        organization=org,
        catalog_key="custom-saml",
        label="Demo SP",
        idp_slug="demo-sp",
        description="A stand-in for an app like ClickUp.",
        sp_entity_id=f"{sp_url}/saml2/metadata/",
        acs_urls=[f"{sp_url}/saml2/acs/"],
        attribute_statements=[
            {"name": "email", "source": "email"},
            {"name": "givenName", "source": "first_name"},
            {"name": "department", "value": "Engineering"},
        ],
    )
    application_groups_bind(application=application, groups=[engineering])
    process = demo_sp_start(
        port=port, metadata_url=f"{portal.url}/saml2/demo-sp/metadata", database=tmp_path / "sp.sqlite3"
    )
    yield sp_url
    output = demo_sp_stop(process)
    (tmp_path / "demo-sp.log").write_text(output)


def sign_in(page, base_url: str, email: str = EMAIL, password: str = PASSWORD) -> None:
    """Fill in and submit the portal's sign-in form (the page must be on it, or it is opened)."""
    if "/accounts/login/" not in page.url:
        page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def tile_labels(page) -> list[str]:
    return [label.strip() for label in page.locator(".tile-label").all_inner_texts()]


def shoot(page, name: str) -> None:
    """Keep a screenshot of the page for the docs."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_in_enrol_totp_sign_in_again_with_a_code_and_see_exactly_her_tiles(portal, page):
    sign_in(page, portal.url)
    page.wait_for_url(f"{portal.url}/")
    assert tile_labels(page) == ["Handbook"]
    assert "Org A" in page.locator("header").inner_text()
    shoot(page, "portal-home")

    # Enrol an authenticator app: allauth asks for the password again, then shows the secret.
    page.goto(f"{portal.url}{reverse('mfa_activate_totp')}")
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/2fa/totp/activate/"))
    page_text = page.content()
    secret = re.search(r"\b([A-Z2-7]{32})\b", page_text).group(1)
    shoot(page, "mfa-totp-activate")
    page.fill("input[name=code]", totp_code(secret))
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert Authenticator.objects.filter(user__email=EMAIL, type=Authenticator.Type.TOTP).exists()

    # Sign out, then in again: this time the code is asked for.
    page.goto(f"{portal.url}/")
    with page.expect_navigation():
        page.click("header button:has-text('Sign out')")
    assert "You have signed out" in page.content()
    page.goto(f"{portal.url}/")
    assert "/accounts/login/" in page.url
    sign_in(page, portal.url)
    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", "000000" if totp_code(secret, step=1) != "000000" else "111111")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "Incorrect code" in page.content()
    page.fill("input[name=code]", totp_code(secret, step=1))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{portal.url}/")
    assert tile_labels(page) == ["Handbook"]
    events = Event.objects.filter(service="portal")
    assert events.filter(event_type="mfa_enroll", success=True).exists()
    assert events.filter(event_type="mfa_auth", success=False).exists()
    assert events.filter(event_type="portal_login", success=True).count() == 2


def test_search_box_filters_tiles(portal, page, org, engineering):
    ApplicationFactory(organization=org, label="Team Wiki", idp_slug="team-wiki", groups=[engineering])
    sign_in(page, portal.url)
    page.wait_for_url(f"{portal.url}/")
    page.fill("#id_q", "wiki")  # filters as you type
    assert [t for t, visible in zip(tile_labels(page), visible_tiles(page)) if visible] == ["Team Wiki"]
    page.press("#id_q", "Enter")  # and works as a plain GET filter
    page.wait_for_url(re.compile(r".*\?q=wiki"))
    assert tile_labels(page) == ["Team Wiki"]


def visible_tiles(page) -> list[bool]:
    return [tile.is_visible() for tile in page.locator(".tile").all()]


def test_idp_initiated_launch_from_a_tile_arrives_signed_in_at_the_demo_sp(portal, demo_sp, page):
    sign_in(page, portal.url)
    page.wait_for_url(f"{portal.url}/")
    assert tile_labels(page) == ["Demo SP", "Handbook"]
    shoot(page, "portal-home-with-sso-app")
    page.click("a.tile-launch:has-text('Demo SP')")
    page.wait_for_url(f"{demo_sp}/")
    assert page.locator("#signed-in-user").inner_text() == EMAIL
    attributes = page.locator("#attributes").inner_text()
    assert "givenName" in attributes and "Alice" in attributes and "Engineering" in attributes
    shoot(page, "demo-sp-signed-in")
    launch = Event.objects.get(service="portal", event_type="app_launch")
    assert launch.resource_name == "Demo SP" and launch.initiator_email == EMAIL


def test_sp_initiated_login_starts_at_the_demo_sp_and_returns_there_after_sign_in(portal, demo_sp, page):
    page.goto(f"{demo_sp}/")
    assert "Nobody is signed in" in page.content()
    page.click("#sso-login")
    page.wait_for_url(re.compile(rf"{re.escape(portal.url)}/accounts/login/.*"))
    sign_in(page, portal.url)
    page.wait_for_url(f"{demo_sp}/")  # no extra click between the portal's login and the app
    assert page.locator("#signed-in-user").inner_text() == EMAIL


def test_security_key_enrolment_and_sign_in_with_a_virtual_authenticator(portal, page):
    # Chromium's DevTools virtual authenticator stands in for a hardware key (WebAuthn is the one part that needs JS).
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    # A WebAuthn relying party is a domain name, never an IP address: this test browses http://localhost.
    base = portal.url.replace("127.0.0.1", "localhost")
    sign_in(page, base)
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}{reverse('mfa_add_webauthn')}")
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
    page.fill("input[name=name]", "My key")
    with page.expect_navigation():
        page.click("#mfa_webauthn_add")
    page.wait_for_load_state()
    assert Authenticator.objects.filter(user__email=EMAIL, type=Authenticator.Type.WEBAUTHN).exists()

    with page.expect_navigation():
        page.click("header button:has-text('Sign out')")
    sign_in(page, base)
    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/"))
    with page.expect_navigation():
        page.click("#mfa_webauthn_authenticate")
    page.wait_for_url(f"{base}/")
    assert tile_labels(page) == ["Handbook"]
    assert Event.objects.filter(service="portal", event_type="mfa_enroll", message__icontains="security key").exists()


def test_sp_initiated_login_in_an_organization_requiring_mfa_enrols_then_continues_to_the_sp(
    portal, demo_sp, page, org
):
    org.require_mfa = True
    org.save()
    page.goto(f"{demo_sp}/")
    page.click("#sso-login")
    page.wait_for_url(re.compile(rf"{re.escape(portal.url)}/accounts/login/.*"))
    sign_in(page, portal.url)
    page.wait_for_url(re.compile(r".*/accounts/2fa/$"))
    assert "requires a second factor" in page.content()
    page.goto(f"{portal.url}{reverse('mfa_activate_totp')}")
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
    secret = re.search(r"\b([A-Z2-7]{32})\b", page.content()).group(1)
    page.fill("input[name=code]", totp_code(secret))
    with page.expect_navigation():
        page.click("main button[type=submit]")
    page.click("header a:has-text('Apps')")  # from the recovery codes page back to the portal…
    page.wait_for_url(f"{demo_sp}/")  # …which continues the parked request to the SP
    assert page.locator("#signed-in-user").inner_text() == EMAIL
