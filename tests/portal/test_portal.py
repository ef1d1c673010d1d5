"""The portal home, app launch, MFA, password reset and activation: behaviour a user notices, and the events."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.urls import reverse

from directory import services as directory_services
from directory.models import User, UserState
from insights.models import Event
from tests.factories import PASSWORD, UserFactory, UserGroupFactory

from .factories import ApplicationFactory
from .helpers import totp_code

pytestmark = pytest.mark.django_db


def portal_events(event_type):
    return Event.objects.filter(service="portal", event_type=event_type).order_by("pk")


def tile_labels(response):
    return re.findall(r'<span class="tile-label">([^<]+)</span>', response.content.decode())


def test_home_requires_sign_in(client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_home_shows_exactly_the_users_shown_apps(client, alice, tiles, other_org):
    ApplicationFactory(organization=other_org, label="Foreign App", idp_slug="foreign-app")
    client.force_login(alice)
    response = client.get(reverse("portal:home"))
    assert tile_labels(response) == ["Docs Bookmark", "Team Wiki"]
    page = response.content.decode()
    assert "Org A" in page  # the organization's name in the shared layout
    assert "The handbook." in page and "<details" in page


def test_search_filters_tiles_without_javascript(client, alice, tiles):
    client.force_login(alice)
    assert tile_labels(client.get(reverse("portal:home"), {"q": "wiki"})) == ["Team Wiki"]
    assert tile_labels(client.get(reverse("portal:home"), {"q": "handbook"})) == ["Docs Bookmark"]
    response = client.get(reverse("portal:home"), {"q": "payroll"})
    assert tile_labels(response) == [] and "No app matches" in response.content.decode()


def test_empty_state_explains_no_access_yet(client, org):
    user = UserFactory(organization=org)
    client.force_login(user)
    page = client.get(reverse("portal:home")).content.decode()
    assert "administrator has not given you access to any app yet" in page


def test_launch_records_an_event_and_redirects_to_the_app(client, alice, tiles):
    client.force_login(alice)
    response = client.get(reverse("portal:launch", kwargs={"slug": "team-wiki"}))
    assert response.status_code == 302 and response.url.endswith("/saml2/team-wiki")
    response = client.get(reverse("portal:launch", kwargs={"slug": "docs-bookmark"}))
    assert response.url == "https://docs.example.test/"
    launches = portal_events("app_launch")
    assert [e.resource_name for e in launches] == ["Team Wiki", "Docs Bookmark"]
    assert all(e.success and e.initiator_email == alice.email for e in launches)


def test_launch_of_an_app_the_user_is_not_authorized_for_is_refused(client, alice, tiles):
    client.force_login(alice)
    response = client.get(reverse("portal:launch", kwargs={"slug": "payroll"}))
    assert response.status_code == 403
    assert "Ask your administrator" in response.content.decode()
    assert not portal_events("app_launch").get().success


def test_launch_of_another_organizations_app_is_not_found(client, alice, other_org):
    ApplicationFactory(organization=other_org, label="Foreign", idp_slug="foreign")
    client.force_login(alice)
    assert client.get(reverse("portal:launch", kwargs={"slug": "foreign"})).status_code == 404


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_sign_in_with_totp_wrong_code_then_right_code(client, alice):
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    response = sign_in(client, alice.email)
    assert response.url == reverse("mfa_authenticate")
    response = client.post(
        reverse("mfa_authenticate"), {"code": "000000" if totp_code(secret) != "000000" else "111111"}
    )
    assert "Incorrect code." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not portal_events("mfa_auth").get().success
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(alice.pk)
    login = portal_events("portal_login").get()
    assert login.success and login.message == "Signed in (password + mfa)."


def test_organization_requiring_mfa_sends_users_to_enrol_first(
    client, alice, tiles, django_capture_on_commit_callbacks
):
    alice.organization.require_mfa = True
    alice.organization.save()
    assert sign_in(client, alice.email).url == reverse("portal:home")
    for path in (reverse("portal:home"), reverse("portal:launch", kwargs={"slug": "team-wiki"}), "/saml2/team-wiki"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == reverse("mfa_index"), path
    assert "requires a second factor" in client.get(reverse("mfa_index")).content.decode()
    # Enrol an authenticator app through the pages, as a person would (allauth asks for the password again first).
    response = client.get(reverse("mfa_activate_totp"))
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert client.post(response.url, {"password": PASSWORD}).status_code == 302
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = client.session["mfa.totp.secret"]
    assert secret in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=alice, type=Authenticator.Type.TOTP).exists()
    assert portal_events("mfa_enroll").filter(message__icontains="authenticator app").exists()
    # The portal home continues where she was going before she was sent to enrol (the last app she opened).
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response.url == "/saml2/team-wiki"
    assert client.get(reverse("portal:home")).status_code == 200


def test_password_reset_by_email(client, alice):
    client.post(reverse("account_reset_password"), {"email": "alice@org-a.test"})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body).group(0)
    response = client.get(link)
    response = client.post(
        response.url, {"password1": "a brand new passphrase 42", "password2": "a brand new passphrase 42"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a brand new passphrase 42")
    assert portal_events("password_reset").get().success


def test_password_reset_for_an_unknown_email_looks_the_same(client, alice):
    known = client.post(reverse("account_reset_password"), {"email": "alice@org-a.test"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@org-a.test"})
    assert known.status_code == unknown.status_code == 302 and known.url == unknown.url


def test_expired_reset_link_is_refused_with_a_clear_message_and_an_event(client, alice, settings):
    client.post(reverse("account_reset_password"), {"email": "alice@org-a.test"})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body).group(0)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link issued so far is now expired
    response = client.get(link)
    assert response.status_code == 200
    assert "password reset link was invalid" in response.content.decode().lower()
    event = portal_events("password_reset").get()
    assert not event.success and "expired" in event.message


def test_staged_user_gets_an_activation_email_and_activates(client, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = directory_services.user_create(organization=org, email="new@org-a.test", state=UserState.STAGED)
    assert mail.outbox[-1].to == ["new@org-a.test"]
    link = re.search(r"http://\S+/activate/\S+/", mail.outbox[-1].body).group(0)
    path = link.split("127.0.0.1:8000", 1)[-1]
    response = client.post(path, {"new_password1": "my own passphrase 7", "new_password2": "my own passphrase 7"})
    assert response.status_code == 302 and response.url == reverse("account_login")
    user.refresh_from_db()
    assert user.state == UserState.ACTIVE and user.check_password("my own passphrase 7")
    assert client.get(path).status_code == 400  # the link works once
    assert sign_in(client, "new@org-a.test", "my own passphrase 7").url == reverse("portal:home")


def test_active_users_get_no_activation_email(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        directory_services.user_create(organization=org, email="ready@org-a.test", password=PASSWORD)
    assert mail.outbox == []
    assert User.objects.get(email="ready@org-a.test").is_active


def test_group_membership_controls_tiles(client, org, alice, tiles):
    newcomer = UserFactory(organization=org)
    client.force_login(newcomer)
    assert tile_labels(client.get(reverse("portal:home"))) == []
    UserGroupFactory(organization=org, name="Payroll team", members=[newcomer]).applications.add(tiles["payroll"])
    assert tile_labels(client.get(reverse("portal:home"))) == ["Payroll"]


def test_admin_removes_a_lost_second_factor_of_their_own_user(admin_client, alice, tenant_admin):
    TOTP.activate(alice, generate_totp_secret())
    authenticator = Authenticator.objects.get(user=alice)
    url = reverse("admin:mfa_authenticator_delete", args=[authenticator.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=alice).exists()
    event = portal_events("mfa_remove").get()
    assert event.initiator_email == tenant_admin.email and event.resource_name == alice.email


def test_a_recovery_code_signs_in_once_when_the_phone_is_lost(client, alice):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    TOTP.activate(alice, generate_totp_secret())
    code = RecoveryCodes.activate(alice).get_unused_codes()[0]
    assert sign_in(client, alice.email).url == reverse("mfa_authenticate")
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    client.post(reverse("account_logout"))
    sign_in(client, alice.email)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert "Incorrect code." in response.content.decode()  # each recovery code works once
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "name",
    ["mfa_index", "account_change_password", "account_logout", "mfa_activate_totp", "mfa_add_webauthn"],
)
def test_account_pages_use_the_portal_layout_with_the_organization_name(client, alice, name):
    sign_in(client, alice.email)  # a fresh sign-in, so the MFA pages do not ask for the password again
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<a class="brand"' in page and "Org A" in page


@pytest.mark.parametrize("name", ["account_login", "account_reset_password"])
def test_anonymous_pages_use_the_portal_layout_and_offer_no_signup(client, name):
    page = client.get(reverse(name)).content.decode()
    assert '<a class="brand"' in page and "Lanyard" in page
    assert "sign up" not in page.lower()


def test_a_switched_off_app_has_no_tile_and_cannot_be_launched(client, alice, tiles):
    from ssoapps.services import application_deactivate

    application_deactivate(application=tiles["wiki"])
    client.force_login(alice)
    assert tile_labels(client.get(reverse("portal:home"))) == ["Docs Bookmark"]
    assert client.get(reverse("portal:launch", kwargs={"slug": "team-wiki"})).status_code == 403
