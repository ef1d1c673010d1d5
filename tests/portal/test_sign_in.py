"""Sign-in on the portal: good and bad credentials, inactive users, off-site `next`, admin login, events."""

import pytest
from django.urls import reverse

from directory.models import UserState
from insights.models import Event
from tests.factories import PASSWORD, TenantAdminFactory, UserFactory

pytestmark = pytest.mark.django_db

GENERIC_ERROR = "The email address and/or password you specified are not correct."


def sign_in(client, email, password, next_url=None):
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    data = {"login": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(url, data)


def portal_events(event_type):
    return Event.objects.filter(service="portal", event_type=event_type).order_by("pk")


def test_sign_in_with_email_and_password_lands_on_the_portal(client, alice):
    response = sign_in(client, "ALICE@org-a.test", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("portal:home")
    event = portal_events("portal_login").get()
    assert event.success and event.initiator_email == "alice@org-a.test"
    assert event.organization == alice.organization


def test_wrong_password_and_unknown_email_get_the_same_page(client, alice):
    wrong = sign_in(client, "alice@org-a.test", "not her password")
    unknown = sign_in(client, "nobody@org-a.test", "not her password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert GENERIC_ERROR in response.content.decode()
        assert "_auth_user_id" not in client.session
    # The pages differ only by the echoed email and the CSRF token: nothing says which address exists.
    strip = lambda r, e: r.content.decode().replace(e, "EMAIL")  # noqa: E731
    import re

    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", strip(wrong, "alice@org-a.test")) == token.sub("", strip(unknown, "nobody@org-a.test"))
    failures = list(portal_events("portal_login").filter(success=False))
    assert [f.message for f in failures] == ["Sign-in refused: wrong password.", "Sign-in refused: unknown email."]
    assert failures[0].organization == alice.organization and failures[1].organization is None


@pytest.mark.parametrize("state", [UserState.SUSPENDED, UserState.STAGED])
def test_inactive_users_cannot_sign_in_and_are_told_to_contact_their_administrator(client, org, state):
    UserFactory(organization=org, email="paused@org-a.test", state=state)
    response = sign_in(client, "paused@org-a.test", PASSWORD)
    response = client.get(response.url) if response.status_code == 302 else response
    assert "Contact your administrator" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = portal_events("portal_login").get()
    assert not event.success and state in event.message


def test_inactive_user_with_wrong_password_gets_the_generic_error(client, org):
    UserFactory(organization=org, email="paused@org-a.test", state=UserState.SUSPENDED)
    response = sign_in(client, "paused@org-a.test", "wrong")
    assert GENERIC_ERROR in response.content.decode()
    assert "Contact your administrator" not in response.content.decode()


def test_safe_next_is_followed_after_sign_in(client, alice):
    response = sign_in(client, "alice@org-a.test", PASSWORD, next_url="/saml2/team-wiki?resume=abc")
    assert response.url == "/saml2/team-wiki?resume=abc"


def test_off_site_next_is_ignored_with_a_message_and_an_event(client, alice):
    response = sign_in(client, "alice@org-a.test", PASSWORD, next_url="https://evil.example/steal")
    assert response.status_code == 302 and response.url == reverse("portal:home")
    page = client.get(response.url).content.decode()
    assert "pointed to another site" in page
    event = portal_events("portal_redirect_refused").get()
    assert "evil.example" in event.message and not event.success


def test_repeated_failures_are_rate_limited(client, alice):
    for _ in range(5):
        sign_in(client, "alice@org-a.test", "wrong")
    response = sign_in(client, "alice@org-a.test", PASSWORD)
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)
    assert "Too many failed login attempts" in response.content.decode()


def test_signup_is_closed(client):
    assert client.get("/accounts/signup/").status_code == 404
    assert client.post("/accounts/signup/", {"email": "new@org-a.test", "password1": PASSWORD}).status_code == 404


def test_admin_login_goes_through_allauth(client, org):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login")) and "next=%2Fadmin%2F" in response.url
    admin = TenantAdminFactory(organization=org, email="boss@org-a.test")
    response = sign_in(client, admin.email, PASSWORD, next_url="/admin/")
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_sign_out(client, alice):
    client.force_login(alice)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 302
