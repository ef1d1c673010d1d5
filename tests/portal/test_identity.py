"""Identity attributes belong to the organization: no allauth page changes them, and allauth's address rows follow
the directory (issue 10, finding 3)."""

import importlib

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from directory import services as directory_services
from tests.factories import PASSWORD, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

# The allauth views Lanyard mounts: signing in and out, the user's own password, their own second factors.
ALLOWED_ACCOUNT_VIEWS = {
    "account_login",
    "account_logout",
    "account_inactive",
    "account_reauthenticate",
    "account_change_password",
    "account_set_password",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
}

# What allauth would offer if it were all mounted: email management and confirmation, signup, phone,
# sign-in and re-authentication codes (mailed to allauth's address rows), social accounts, sessions, headless.
REMOVED_PATHS = [
    "/accounts/email/",
    "/accounts/confirm-email/",
    "/accounts/confirm-email/MQ:1tZ:abc/",
    "/accounts/signup/",
    "/accounts/signup/passkey/",
    "/accounts/phone/change/",
    "/accounts/phone/verify/",
    "/accounts/login/code/",
    "/accounts/login/code/confirm/",
    "/accounts/reauthenticate/code/",
    "/accounts/reauthenticate/code/confirm/",
    "/accounts/3rdparty/",
    "/accounts/social/signup/",
    "/accounts/sessions/",
    "/_allauth/browser/v1/account/email",
]


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def allauth_view_names(patterns=None):
    """The name of every mounted URL whose view comes from allauth."""
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            names |= allauth_view_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.callback.__module__.startswith("allauth."):
            names.add(pattern.name)
    return names


def test_only_sign_in_password_and_mfa_pages_of_allauth_are_mounted():
    mounted = allauth_view_names()
    assert "account_login" in mounted and "mfa_activate_totp" in mounted
    assert {name for name in mounted if not name.startswith("mfa_")} <= ALLOWED_ACCOUNT_VIEWS


@pytest.mark.parametrize("path", REMOVED_PATHS)
def test_identity_self_service_is_not_found_signed_in_or_not(client, alice, path):
    assert client.get(path).status_code == 404
    client.force_login(alice)
    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "root@acme.example", "action_add": ""}).status_code == 404


def test_a_user_cannot_make_another_address_their_primary(client, alice):
    """Finding 3 as reported: add root@acme.example, make it primary, then sign in to apps with it."""
    client.force_login(alice)
    client.post("/accounts/email/", {"email": "root@acme.example", "action_add": ""})
    client.post("/accounts/email/", {"email": "root@acme.example", "action_primary": ""})
    alice.refresh_from_db()
    assert alice.email == "alice@org-a.test"
    assert not EmailAddress.objects.filter(email="root@acme.example").exists()


def test_an_address_row_left_by_past_abuse_does_not_sign_anyone_in(client, alice):
    """The rest of finding 3: a row claiming another tenant's address let its holder sign in by typing it."""
    victim = UserFactory(
        organization=OrganizationFactory(slug="acme"), email="root@acme.example", password="the root passphrase"
    )
    EmailAddress.objects.create(user=alice, email=victim.email, primary=False, verified=True)
    sign_in(client, victim.email, PASSWORD)  # Alice's password, the victim's address
    assert client.session.get("_auth_user_id") is None


def test_a_directory_email_change_replaces_the_users_address_rows(client, alice, tenant_admin):
    EmailAddress.objects.create(user=alice, email=alice.email, primary=True, verified=True)
    EmailAddress.objects.create(user=alice, email="alice.old@org-a.test", primary=False, verified=True)
    # A row of someone else holding the new address (as past abuse could leave) must not block the change.
    EmailAddress.objects.create(user=tenant_admin, email="alice.new@org-a.test", primary=False, verified=True)

    directory_services.user_update(user=alice, actor=tenant_admin, data={"email": "alice.new@org-a.test"})

    rows = list(EmailAddress.objects.filter(email__icontains="alice").values_list("user_id", "email", "primary"))
    assert rows == [(alice.pk, "alice.new@org-a.test", True)]
    assert sign_in(client, "alice@org-a.test").status_code == 200  # refused: the old address is gone
    assert client.session.get("_auth_user_id") is None
    assert sign_in(client, "alice.new@org-a.test").url == reverse("portal:home")


def test_the_old_address_gets_no_password_reset_after_a_directory_change(client, alice, tenant_admin):
    EmailAddress.objects.create(user=alice, email=alice.email, primary=True, verified=True)
    directory_services.user_update(user=alice, actor=tenant_admin, data={"email": "alice.new@org-a.test"})
    client.post(reverse("account_reset_password"), {"email": "alice@org-a.test"})
    assert mail.outbox == []
    client.post(reverse("account_reset_password"), {"email": "alice.new@org-a.test"})
    assert [m.to for m in mail.outbox] == [["alice.new@org-a.test"]]


def test_the_migration_removes_address_rows_that_disagree_with_the_directory(alice, tenant_admin):
    EmailAddress.objects.create(user=alice, email="ALICE@org-a.test", primary=True, verified=True)
    EmailAddress.objects.create(user=alice, email="root@acme.example", primary=False, verified=True)
    EmailAddress.objects.create(user=tenant_admin, email="alice.old@org-a.test", primary=True, verified=True)
    migration = importlib.import_module("ssoapps.portal.migrations.0001_email_addresses_follow_directory")

    migration.remove_stale_addresses(apps, None)

    assert list(EmailAddress.objects.values_list("user_id", "email")) == [(alice.pk, "ALICE@org-a.test")]
