"""A NUL anywhere in a request is refused with a sentence before any view or query sees it (issue 10, finding 8)."""

import pytest
from django.urls import reverse

from insights.models import Event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_nul_in_a_form_field_is_a_400_with_a_sentence_and_an_operator_event(client, org):
    user = UserFactory(organization=org, email="ann@org-a.test")
    response = client.post(reverse("account_login"), {"login": user.email, "password": "x\x00y"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert body == (
        "The form parameter “password” contains a NUL or another character that cannot be used. "
        "Remove it and try again."
    )
    refusal = Event.objects.get(event_type="request_refused")
    assert refusal.success is False and refusal.organization is None
    assert refusal.resource_name == reverse("account_login") and refusal.service == "portal"
    assert "x\x00y" not in refusal.message


def test_a_nul_in_a_parameter_name_is_refused_without_echoing_it(client):
    response = client.get("/", {"a\x00b": "1"})
    assert response.status_code == 400
    assert response.content.decode().startswith("A query string parameter name contains a NUL")


def test_an_api_request_gets_the_sentence_as_json(client):
    response = client.get("/api/insights/events", {"start": "2026-01-01", "q": "\x00"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "The query string parameter “q” contains a NUL or another character that cannot be used. "
        "Remove it and try again."
    }


def test_a_cookie_with_a_nul_is_dropped_not_looked_up(client):
    """Django unquotes "\\000" in a cookie value to a NUL; PostgreSQL refused the session lookup with it."""
    response = client.get("/saml2/no-such-app", HTTP_COOKIE='sessionid="\\000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"')
    assert response.status_code == 404  # served as anonymous: the unknown-app page, not a 500


def test_a_body_larger_than_the_server_accepts_is_a_sentence(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/saml2/no-such-app", {"SAMLRequest": "x" * 2000})
    assert response.status_code == 400
    assert response.content.decode() == "The request is larger than this server accepts. Send less data at once."


def test_more_fields_than_the_server_accepts_is_a_sentence(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.get("/", {f"f{i}": "1" for i in range(20)})
    assert response.status_code == 400
    assert "more fields than this server accepts" in response.content.decode()


def test_ordinary_unicode_passes(client):
    response = client.get("/saml2/no-such-app", {"RelayState": "café ☕ 𝟙 ²"})
    assert response.status_code == 404
