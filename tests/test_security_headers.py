"""Every kind of response carries the Content-Security-Policy and the other security headers (issue 10, finding 2)."""

import re
import subprocess
import sys
import uuid

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.urls import include, path, reverse

from insights.models import Event
from ssoapps.models import Application
from ssoapps.services import application_groups_bind
from tests.factories import PASSWORD, UserGroupFactory
from tests.insights.factories import api_key_in
from tests.ssoapps.factories import SP_ACS_URL, application_in
from tests.ssoapps.saml_helpers import posted_form
from tests.test_deploy import ROOT, clean_environment

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": {"'none'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "connect-src": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}


def boom(request):
    """A view that fails, for the server-error page."""
    raise RuntimeError("boom")


# The test's own URL map: Lanyard's, plus a view that raises (there is no 500 to reach otherwise).
urlpatterns = [path("boom", boom), path("", include("config.urls"))]


def policy_of(response) -> dict[str, set[str]]:
    """The Content-Security-Policy header as {directive: {sources}}; fails when there is none."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']} ({response.status_code})"
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: set(sources) for name, *sources in directives}


def assert_security_headers(response, *, form_action: set[str] | None = None, framing: bool = True) -> None:
    """The strict policy (form-action as given), no inline or eval'd script, and the other headers."""
    where = f"{response.request['PATH_INFO']} ({response.status_code})"
    policy = policy_of(response)
    assert policy == {**POLICY, "form-action": form_action or POLICY["form-action"]}, where
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "*" not in header, where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", where
    if framing:
        assert response.headers.get("X-Frame-Options") == "DENY", where


@pytest.fixture(autouse=True)
def private_cache(settings):
    """An empty cache per test: allauth's sign-in rate limits live there."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"csp-{uuid.uuid4()}"}
    }


@pytest.fixture
def member_app(org, tenant_admin):
    """A SAML app of `org` that `tenant_admin` may launch."""
    application = application_in(org, label="Demo SP")
    group = UserGroupFactory(organization=org, name="Engineering", members=[tenant_admin])
    application_groups_bind(application=application, groups=[group])
    return application


@pytest.fixture
def signed_in(client, tenant_admin):
    """`client` signed in through allauth's form, and freshly re-authenticated (MFA pages ask for it)."""
    response = client.post(reverse("account_login"), {"login": tenant_admin.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def test_anonymous_pages_carry_the_headers(client, settings):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    responses = [
        client.get(reverse("account_login")),
        client.get(reverse("account_reset_password")),
        client.get("/"),  # a redirect to sign in
        client.get("/admin/"),
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/api/insights/events"),  # refused: no API key
        client.get("/saml2/no-such-app"),  # the SAML error page
        client.get("/saml2/no-such-app/metadata"),
        client.get(f"/no-such-page-{uuid.uuid4().hex}"),  # 404
        client.get("/boom"),  # 500
    ]
    assert [r.status_code for r in responses[-2:]] == [404, 500]
    for response in responses:
        assert_security_headers(response)


def test_static_files_carry_the_policy(client):
    response = client.get("/static/portal/styles.css")
    assert response.status_code == 200
    # served by WhiteNoise above the clickjacking middleware: frame-ancestors 'none' is their frame protection
    assert_security_headers(response, framing=False)


def test_portal_allauth_and_admin_pages_carry_the_headers(signed_in, tenant_admin, member_app, org):
    client = signed_in
    pages = [
        "/",
        "/?q=demo",
        reverse("portal:launch", args=[member_app.idp_slug]),
        reverse("account_change_password"),
        reverse("mfa_index"),
        reverse("mfa_activate_totp"),
        reverse("mfa_add_webauthn"),
        "/admin/",
        reverse("admin:directory_user_changelist"),
        reverse("admin:directory_user_change", args=[tenant_admin.pk]),
        reverse("admin:directory_user_import"),
        reverse("admin:directory_usergroup_add"),
        reverse("admin:autocomplete") + "?app_label=directory&model_name=usergroup&field_name=members&term=a",
        reverse("admin:ssoapps_application_add"),  # the catalog
        reverse("admin:ssoapps_application_change", args=[member_app.pk]),
        reverse("admin:insights_event_changelist"),
        reverse("admin:jsi18n"),
        f"/saml2/{member_app.idp_slug}/metadata",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        assert_security_headers(response)
    totp = client.get(reverse("mfa_activate_totp"))
    assert totp.status_code == 200 and 'src="data:image/svg+xml' in totp.content.decode()  # the QR code, allowed
    RecoveryCodes.activate(tenant_admin)
    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert codes.status_code == 200
    assert_security_headers(codes)


def test_the_api_carries_the_headers(client, org):
    _, secret = api_key_in(org)
    response = client.get(
        "/api/insights/events", {"start": "2020-01-01T00:00:00Z"}, HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 200
    assert_security_headers(response)


def test_saml_post_page_may_post_to_its_acs_origin_and_nowhere_else(signed_in, member_app):
    response = signed_in.get(f"/saml2/{member_app.idp_slug}")
    assert response.status_code == 200 and posted_form(response)["action"] == SP_ACS_URL
    assert_security_headers(response, form_action={"https://sp.example.test"})
    assert Event.objects.filter(event_type="sso_auth", success=True).exists()


@pytest.mark.parametrize(
    ("acs_url", "form_action"),
    [
        ("https://sp.example.test:8443/saml/acs", "https://sp.example.test:8443"),
        ("http://[::1]:8000/acs", "http://[::1]:8000"),
        ("https://bücher.example/acs", "https://xn--bcher-kva.example"),
    ],
)
def test_saml_post_page_form_action_is_the_acs_origin(signed_in, member_app, acs_url, form_action):
    Application.objects.filter(pk=member_app.pk).update(acs_urls=[acs_url])
    response = signed_in.get(f"/saml2/{member_app.idp_slug}")
    assert response.status_code == 200
    assert_security_headers(response, form_action={form_action})


@pytest.mark.parametrize(
    "acs_url",
    [
        "https://someone:secret@SP.example.test/acs",
        "javascript:alert(document.domain)//",
        "data:text/html,<script>alert(1)</script>",
        "https://sp.example.test;script-src 'unsafe-inline'/acs",
        "https://sp.example.test, https://evil.example/acs",
    ],
)
def test_a_planted_acs_url_gets_no_form_and_no_wider_policy(signed_in, member_app, acs_url):
    # Stored past every check on purpose: the IdP checks the URL again before it renders a form to it.
    Application.objects.filter(pk=member_app.pk).update(acs_urls=[acs_url])
    response = signed_in.get(f"/saml2/{member_app.idp_slug}")
    assert response.status_code == 400
    assert b"SAMLResponse" not in response.content
    assert_security_headers(response)


@pytest.mark.parametrize("acs_url", ["javascript:alert(1)//", "https://a.example;script-src 'unsafe-inline'/x"])
def test_form_action_source_of_an_unusual_url_is_none(acs_url):
    from ssoapps.idp.views import _form_action_source

    assert _form_action_source(acs_url) == "'none'"


def test_operator_listed_origins_widen_the_saml_post_page_only(signed_in, member_app, settings):
    # For apps whose ACS redirects to another origin (Chromium applies form-action to those redirects too).
    settings.SAML_POST_FORM_ACTION_EXTRA = ["https://console.example.test"]
    response = signed_in.get(f"/saml2/{member_app.idp_slug}")
    assert_security_headers(response, form_action={"https://sp.example.test", "https://console.example.test"})
    assert_security_headers(signed_in.get("/"))


def test_no_lanyard_page_has_inline_script_or_style(signed_in, tenant_admin, member_app):
    """What the policy would block, looked for in the HTML itself (the browser tests see it run)."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:",
        re.IGNORECASE,
    )
    pages = [
        "/",
        reverse("mfa_index"),
        reverse("mfa_activate_totp"),
        reverse("mfa_add_webauthn"),
        "/admin/",
        reverse("admin:directory_user_changelist"),
        reverse("admin:directory_user_change", args=[tenant_admin.pk]),
        reverse("admin:directory_user_import"),
        reverse("admin:directory_usergroup_add"),
        reverse("admin:ssoapps_application_add"),
        reverse("admin:ssoapps_application_change", args=[member_app.pk]),
        f"/saml2/{member_app.idp_slug}",
        "/saml2/no-such-app",
    ]
    for url in pages:
        body = signed_in.get(url).content.decode()
        assert not inline.findall(body), (url, inline.findall(body))


def manage(*args, **env):
    """Run manage.py in a fresh process (settings read the environment once, at start)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**clean_environment(), **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_violation_reports_go_where_the_operator_says():
    code = (
        "from django.core.management import call_command; from django.test import Client; call_command('check'); "
        "print(Client().get('/healthz')['Content-Security-Policy'])"
    )
    result = manage("shell", "-c", code, CSP_REPORT_URI="https://csp-reports.example.test/lanyard")
    assert result.returncode == 0, result.stderr  # django-csp's own checks pass too
    assert "report-uri https://csp-reports.example.test/lanyard" in result.stdout
