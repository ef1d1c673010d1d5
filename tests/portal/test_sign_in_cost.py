"""Every refused sign-in costs the same password-hash work as a good one (issue 10, finding 11); passwords are
hashed with Argon2id and older hashes are upgraded at sign-in."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher, PBKDF2PasswordHasher
from django.urls import reverse

from config import settings as project_settings
from directory.models import UserState
from insights.models import Event
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


class CountingHasher(MD5PasswordHasher):
    """The fast test hasher, counting how many hashes it computes (verify() computes one through encode())."""

    computed = 0

    def encode(self, password, salt):
        CountingHasher.computed += 1
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.computed = 0
    return CountingHasher


def no_usable_password(user):
    user.set_unusable_password()
    user.save()


# (how the account is, what is typed, the reason the event records)
REFUSALS = {
    "unknown email": (None, PASSWORD, "unknown email"),
    "wrong password": ({}, "not the password", "wrong password"),
    "staged, no password yet": ({"state": UserState.STAGED, "password": None}, PASSWORD, "account staged"),
    "staged with a password": ({"state": UserState.STAGED}, PASSWORD, "account staged"),
    "suspended, right password": ({"state": UserState.SUSPENDED}, PASSWORD, "account suspended"),
    "suspended, wrong password": ({"state": UserState.SUSPENDED}, "not the password", "wrong password"),
    "active, no usable password": ({"password": None}, PASSWORD, "no password set"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_every_refused_sign_in_hashes_exactly_once_like_a_good_one(client, org, counting_hasher, case):
    account, typed, reason = REFUSALS[case]
    good = UserFactory(organization=org, email="good@org-a.test")
    if account is not None:
        attributes = {k: v for k, v in account.items() if k != "password"}
        user = UserFactory(organization=org, email="probe@org-a.test", **attributes)
        if "password" in account:
            no_usable_password(user)

    counting_hasher.computed = 0
    client.post(reverse("account_login"), {"login": good.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    work_for_a_success = counting_hasher.computed
    client.post(reverse("account_logout"))

    counting_hasher.computed = 0
    client.post(reverse("account_login"), {"login": "probe@org-a.test", "password": typed})
    assert "_auth_user_id" not in client.session
    assert counting_hasher.computed == work_for_a_success == 1
    event = Event.objects.filter(event_type="portal_login", success=False).get()
    assert reason in event.message  # the reason is still recorded, without hashing again for it


def test_argon2id_with_owasp_parameters_is_the_production_hasher():
    hasher = project_settings.PASSWORD_HASHERS[0]
    assert hasher == "directory.hashers.OWASPArgon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in project_settings.PASSWORD_HASHERS


def test_an_older_pbkdf2_hash_is_upgraded_to_argon2id_at_sign_in(client, org, settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = UserFactory(organization=org, email="legacy@org-a.test")
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "legacysalt", iterations=1000)
    user.save()

    client.post(reverse("account_login"), {"login": user.email, "password": "not the password"})
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")  # a wrong password changes nothing

    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    client.post(reverse("account_logout"))
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session
