"""Factories for insights models, and their row builders for the admin isolation test."""

import factory

from insights import services
from insights.models import ApiKey, RetentionPolicy
from tests.factories import ROW_BUILDERS, OrganizationFactory


def api_key_in(org, name: str | None = None) -> tuple[ApiKey, str]:
    """An active API key of `org`, with the secret the caller would have copied."""
    return services.api_key_create(organization=org, name=name or f"key {org.slug}")


class RetentionPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RetentionPolicy
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)


ROW_BUILDERS[ApiKey] = lambda org: api_key_in(org)[0]
ROW_BUILDERS[RetentionPolicy] = lambda org: RetentionPolicyFactory(organization=org)
