"""The admin and the portal under the Content-Security-Policy, in headless Chromium: everything still works.

The browser fixture fails a test on any violation Chromium reports, so each walk below proves that its pages
run no inline script or style and post no form where the policy forbids. The SAML auto-POST to the demo SP,
WebAuthn enrolment and sign-in are walked by tests/portal/test_browser.py under the same fixture.
"""

import re

import pytest
from django.urls import reverse

from directory.models import User, UserGroup
from ssoapps.services import application_groups_bind
from tests.factories import PASSWORD, TenantAdminFactory, UserFactory, UserGroupFactory
from tests.portal.factories import ApplicationFactory
from tests.ssoapps.factories import application_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_EMAIL = "ada@org-a.test"


@pytest.fixture
def site(live_server, settings, org):
    """The live server, an Administrator (Ada), a user (Bob), a group, and a SAML app with a tile."""
    settings.SSO_BASE_URL = live_server.url
    ada = TenantAdminFactory(organization=org, email=ADMIN_EMAIL, username="ada")
    bob = UserFactory(organization=org, email="bob@org-a.test", username="bob", first_name="Bob")
    engineering = UserGroupFactory(organization=org, name="Engineering", members=[ada])
    application = application_in(org, label="Demo SP")
    application_groups_bind(application=application, groups=[engineering])
    ApplicationFactory(organization=org, label="Team Wiki", idp_slug="team-wiki", groups=[engineering])
    return {"url": live_server.url, "ada": ada, "bob": bob, "application": application}


def sign_in(page, base: str, next_path: str = "/") -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("input[name=login]", ADMIN_EMAIL)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def reauthenticate_if_asked(page) -> None:
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")


def image_loaded(page, selector: str) -> bool:
    return page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0")


def test_the_collector_catches_a_violation(site, browser_context):
    """Guards the fixture: an inline script injected into a Lanyard page is blocked and reported."""
    page = browser_context().new_page()
    page.goto(f"{site['url']}/accounts/login/")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.ran = 1";
                            document.body.append(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran") is None  # blocked…
    assert any("script-src 'self'" in v for v in browser_context.csp_violations)  # …and reported
    browser_context.csp_violations.clear()  # expected here: do not fail the test at teardown


def test_admin_pages_widgets_popups_and_actions_work_under_the_policy(site, browser_context):
    base, bob = site["url"], site["bob"]
    context = browser_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    sign_in(page, base, next_path="/admin/")
    assert page.locator("#site-name").count() == 1  # the admin index, styled by its static CSS
    assert page.eval_on_selector("#header", "h => getComputedStyle(h).display") != "inline"

    # The user list: search, then a bulk action through its intermediate page.
    page.goto(f"{base}{reverse('admin:directory_user_changelist')}?q=bob")
    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "add_to_group")
    with page.expect_navigation():
        page.click("button[name=index]")
    page.select_option("select[name=group]", label="Engineering")
    with page.expect_navigation():
        page.click("input[name=apply]")
    assert UserGroup.objects.get(name="Engineering").members.filter(pk=bob.pk).exists()
    # The select-all checkbox is actions.js at work.
    page.goto(f"{base}{reverse('admin:directory_user_changelist')}")
    page.check("#action-toggle")
    assert all(box.is_checked() for box in page.locator("input[name=_selected_action]").all())

    # A user's change form.
    page.goto(f"{base}{reverse('admin:directory_user_change', args=[bob.pk])}")
    page.fill("input[name=department]", "Sales")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "was changed successfully" in page.content()

    # A group's add form: the members autocomplete (select2, XHR to the admin) and the "+" popup.
    page.goto(f"{base}{reverse('admin:directory_usergroup_add')}")
    page.fill("input[name=name]", "Support")
    page.click(".field-members .select2-selection")
    page.keyboard.type("bob")
    page.click(".select2-results__option:has-text('bob@org-a.test')")
    with context.expect_page() as popup_info:
        page.click("#add_id_members")
    popup = popup_info.value
    popup.wait_for_load_state()
    popup.fill("input[name=email]", "carol@org-a.test")
    popup.fill("input[name=username]", "carol")
    popup.click("input[name=_save]")
    popup.wait_for_event("close")  # popup_response.js hands the new user to the form and closes the window
    assert "carol@org-a.test" in page.locator(".field-members").inner_text()
    with page.expect_navigation():
        page.click("input[name=_save]")
    support = UserGroup.objects.get(name="Support")
    assert set(support.members.values_list("email", flat=True)) == {"bob@org-a.test", "carol@org-a.test"}

    # Deleting it: the confirmation page's "No, take me back" is cancel.js.
    page.goto(f"{base}{reverse('admin:directory_usergroup_delete', args=[support.pk])}")
    with page.expect_navigation():
        page.click("a.cancel-link")
    assert "/delete/" not in page.url

    # The CSV import page.
    page.goto(f"{base}{reverse('admin:directory_user_import')}")
    page.set_input_files(
        "input[name=file]",
        {"name": "users.csv", "mimeType": "text/csv", "buffer": b"email,first_name\ndan@org-a.test,Dan\n"},
    )
    with page.expect_navigation():
        page.click("input[value=Import]")
    assert page.locator("#import-report").count() == 1
    assert User.objects.filter(email="dan@org-a.test").exists()

    # An application: the catalog, its change form with the two-list group picker, and "Copy metadata URL".
    page.goto(f"{base}{reverse('admin:ssoapps_application_add')}")
    assert image_loaded(page, ".catalog-entries img")
    assert page.eval_on_selector(".catalog-entries li", "li => getComputedStyle(li).display") == "flex"
    application = site["application"]
    page.goto(f"{base}{reverse('admin:ssoapps_application_change', args=[application.pk])}")
    page.select_option("#id_authorized_groups_from", label="Support")  # SelectFilter2's two lists
    page.click("#id_authorized_groups_add")
    page.click("a[data-copy]")
    page.wait_for_function("() => document.querySelector('a[data-copy]').textContent === 'Metadata URL copied'")
    assert page.evaluate("navigator.clipboard.readText()") == application.metadata_url
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "was changed successfully" in page.content()
    assert application.authorized_groups.filter(name="Support").exists()

    # The event log, with its filters.
    page.goto(f"{base}{reverse('admin:insights_event_changelist')}")
    assert page.locator("#changelist").count() == 1


def test_portal_search_and_totp_enrolment_with_its_qr_code(site, browser_context):
    base = site["url"]
    page = browser_context().new_page()
    sign_in(page, base)
    page.wait_for_url(f"{base}/")
    page.fill("#id_q", "wiki")  # search.js filters as you type
    visible = [t.locator(".tile-label").inner_text().strip() for t in page.locator(".tile").all() if t.is_visible()]
    assert visible == ["Team Wiki"]
    assert page.eval_on_selector("header.topbar", "h => getComputedStyle(h).display") == "flex"  # styles.css

    page.goto(f"{base}{reverse('mfa_activate_totp')}")
    reauthenticate_if_asked(page)
    page.wait_for_url(re.compile(r".*/2fa/totp/activate/"))
    assert image_loaded(page, "main img[src^='data:']")  # the QR code, a data: URL
