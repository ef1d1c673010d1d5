"""Factories for insights models, and their row builders for the admin isolation test."""

import factory

from insights import services
from insights.models import ApiKey, Event, RetentionPolicy, WebhookTarget
from tests.factories import ROW_BUILDERS, OrganizationFactory


def api_key_in(org, name: str | None = None, *, keep_event: bool = False) -> tuple[ApiKey, str]:
    """An active API key of `org`, with the secret the caller would have copied.

    Creating a key records an event; unless asked to keep it, it is removed so that tests of the
    event list start from an empty log.
    """
    api_key, secret = services.api_key_create(organization=org, name=name or f"key {org.slug}")
    if not keep_event:
        Event.objects.filter(event_type="insights_api_key_create", resource_id=str(api_key.pk)).delete()
    return api_key, secret


class RetentionPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RetentionPolicy
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)


ROW_BUILDERS[ApiKey] = lambda org: api_key_in(org)[0]
ROW_BUILDERS[RetentionPolicy] = lambda org: RetentionPolicyFactory(organization=org)
ROW_BUILDERS[WebhookTarget] = lambda org: WebhookTarget.objects.create(
    organization=org, url=f"https://siem.{org.slug}.example/events"
)
