"""Sign-in rate limits behind the proxy: they key on the client and the account, not on a shared address
(issue 10, findings 4, 12 and 13). The portal conftest gives each test its own local-memory cache, a real one."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from insights.models import Event
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"  # the reverse proxy: every request reaches Lanyard from this socket address
TOO_MANY = "Too many failed login attempts"


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    """The documented production shape: one proxy that appends the client's address to X-Forwarded-For."""
    settings.TRUSTED_PROXY_COUNT = 1


def sign_in(email, password, *, client_ip):
    """A POST to the sign-in page from `client_ip`, through the proxy, with a fresh browser."""
    browser = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_ip)
    response = browser.post(reverse("account_login"), {"login": email, "password": password})
    return browser, response


def signed_in(browser) -> bool:
    return "_auth_user_id" in browser.session


def test_one_clients_failures_do_not_lock_out_other_clients(alice):
    """Finding 4: ten failures from one client used to block every organization's users behind the proxy."""
    refused = 0
    for n in range(70):  # spraying many accounts from one address until its per-address limit stops it
        _, response = sign_in(f"guess{n}@org-b.test", "password1", client_ip="203.0.113.66")
        refused += TOO_MANY in response.content.decode()
    assert refused == 10  # 60 refused sign-ins a minute from one address, then it is held off
    browser, _ = sign_in(alice.email, PASSWORD, client_ip="198.51.100.7")
    assert signed_in(browser)


def test_an_office_behind_one_address_signs_in_at_nine_while_a_guesser_there_is_stopped(org):
    """Finding 12: 30 sign-ins a minute from one address used to be the ceiling for the whole site."""
    office = "192.0.2.10"
    staff = [UserFactory(organization=org, email=f"staff{n}@org-a.test", username=f"staff{n}") for n in range(120)]
    for number, person in enumerate(staff):
        if number % 6 == 0:  # some mistype their password first
            browser, response = sign_in(person.email, "typo", client_ip=office)
            assert not signed_in(browser) and TOO_MANY not in response.content.decode()
        browser, response = sign_in(person.email, PASSWORD, client_ip=office)
        assert response.status_code == 302 and signed_in(browser), person.email
    # Someone in the same office guessing at one colleague's password is stopped after five tries...
    target = staff[0]
    for _ in range(5):
        sign_in(target.email, "guess", client_ip=office)
    browser, response = sign_in(target.email, PASSWORD, client_ip=office)
    assert not signed_in(browser) and TOO_MANY in response.content.decode()
    # ...and the rest of the office goes on signing in.
    browser, _ = sign_in(staff[1].email, PASSWORD, client_ip=office)
    assert signed_in(browser)


def test_a_guesser_cannot_keep_the_owner_locked_out_from_elsewhere(alice):
    """Finding 13: five bad passwords for an address every five minutes used to lock its owner out everywhere."""
    for _ in range(12):
        _, response = sign_in(alice.email, "guess", client_ip="203.0.113.66")
    assert TOO_MANY in response.content.decode()  # the guesser is held off for this account
    browser, _ = sign_in(alice.email, PASSWORD, client_ip="198.51.100.7")  # Alice, from her own address
    assert signed_in(browser)
    refusals = Event.objects.filter(event_type="portal_login", success=False, initiator_email=alice.email)
    assert refusals.filter(message="Sign-in refused: wrong password.").count() == 5
    assert refusals.filter(message="Sign-in refused: too many failed attempts, rate limited.").count() == 7


def test_a_distributed_guess_at_one_account_is_capped(alice, org):
    colleague = UserFactory(organization=org, email="bob@org-a.test", username="bob")
    for address in range(20):  # 100 failures from 20 addresses, five each (each address's own limit)
        for _ in range(5):
            sign_in(alice.email, "guess", client_ip=f"203.0.113.{address}")
    browser, response = sign_in(alice.email, PASSWORD, client_ip="198.51.100.7")
    assert not signed_in(browser) and TOO_MANY in response.content.decode()
    browser, _ = sign_in(colleague.email, PASSWORD, client_ip="203.0.113.1")  # other accounts are unaffected
    assert signed_in(browser)


def test_successful_sign_ins_do_not_count_as_failures(alice):
    for _ in range(8):
        browser, _ = sign_in(alice.email, PASSWORD, client_ip="192.0.2.10")
        assert signed_in(browser)


def test_a_password_reset_lifts_the_owners_own_lockout(alice):
    for _ in range(6):
        browser, response = sign_in(alice.email, "what was it again", client_ip="192.0.2.10")
    assert TOO_MANY in response.content.decode()
    browser.post(reverse("account_reset_password"), {"email": alice.email})
    link = re.search(r"http://\S+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
    form = browser.get(link).url
    browser.post(form, {"password1": "remembered it now 42", "password2": "remembered it now 42"})
    browser, _ = sign_in(alice.email, "remembered it now 42", client_ip="192.0.2.10")
    assert signed_in(browser)
