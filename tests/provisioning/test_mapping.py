"""The SCIM mapping: what Lanyard sends for a user, by the app's catalog mapping, and how an app's user reads back."""

import copy

import pytest

from directory.models import UserState
from provisioning import mapping
from tests.factories import UserFactory
from tests.provisioning.factories import ApplicationFactory, IntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def salesforce(org):
    """An integration whose catalog maps userName, active, emails, name.givenName and name.familyName."""
    return IntegrationFactory(application=ApplicationFactory(organization=org, catalog_key="salesforce"))


def test_the_payload_follows_the_catalog_mapping_and_leaves_empty_values_out(org, salesforce):
    user = UserFactory(organization=org, email="ada@example.test", first_name="Ada", last_name="", display_name="AL")

    payload = mapping.user_payload(integration=salesforce, user=user)

    assert payload == {
        "userName": "ada@example.test",
        "active": True,
        "emails": [{"value": "ada@example.test", "type": "work", "primary": True}],
        "name.givenName": "Ada",
    }  # no familyName (empty), no displayName (salesforce does not map it)


def test_a_suspended_user_is_sent_inactive(org, salesforce):
    user = UserFactory(organization=org, state=UserState.SUSPENDED)

    assert mapping.user_payload(integration=salesforce, user=user)["active"] is False


def test_the_body_nests_dotted_paths():
    flat = {"userName": "ada@example.test", "name.givenName": "Ada", "name.familyName": "Lovelace"}

    assert mapping.nested(flat) == {
        "userName": "ada@example.test",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
    }


def test_what_the_app_holds_reads_back_into_the_payload_it_was_sent_as(org, salesforce):
    user = UserFactory(organization=org, email="ada@example.test", first_name="Ada", last_name="Lovelace")
    sent = mapping.user_payload(integration=salesforce, user=user)
    remote = copy.deepcopy(
        {"id": "r1", "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], **mapping.nested(sent)}
    )
    remote["emails"][0]["extra"] = "ignored"  # what the app adds of its own is not compared

    assert mapping.remote_payload(integration=salesforce, remote=remote) == sent


@pytest.mark.parametrize(
    ("remote", "email"),
    [
        ({"emails": [{"value": "a@x.test"}, {"value": "B@X.test", "primary": True}]}, "b@x.test"),
        ({"emails": [{"value": "A@x.test"}]}, "a@x.test"),
        ({"emails": "not a list", "userName": "C@x.test"}, "c@x.test"),
        ({"userName": "not-an-address"}, ""),
        ({"emails": [{"value": ["odd"]}], "userName": 7}, ""),
    ],
)
def test_a_remote_users_email_is_the_primary_then_the_first_then_an_address_username(remote, email):
    assert mapping.remote_email(remote) == email
