"""Factories for provisioning rows, and their admin-isolation row builders."""

import factory

from provisioning.models import Integration, IntegrationStatus, ProvisionedAccount
from ssoapps.models import Application
from tests.factories import ROW_BUILDERS, OrganizationFactory, UserFactory


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    catalog_key = "custom-saml"
    label = factory.Sequence(lambda n: f"App {n}")
    idp_slug = factory.Sequence(lambda n: f"prov-app-{n}")


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    application = factory.SubFactory(ApplicationFactory)
    base_url = "http://127.0.0.1:9/scim/v2"
    token = "test-token"
    status = IntegrationStatus.INACTIVE
    capabilities = factory.LazyFunction(lambda: {"patch": True, "filter": True, "delete": True, "groups": True})


class ProvisionedAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProvisionedAccount

    integration = factory.SubFactory(IntegrationFactory)
    user = factory.SubFactory(UserFactory)
    user_snapshot = factory.LazyAttribute(lambda o: {"email": o.user.email, "id": o.user.pk})


def _integration_in(org):
    application = ApplicationFactory(organization=org, label=f"app {org.slug}", idp_slug=f"prov-{org.slug}")
    return IntegrationFactory(application=application)


def _account_in(org):
    integration = Integration.objects.filter(application__organization=org).first() or _integration_in(org)
    user = UserFactory(organization=org, email=f"account.{org.slug}@example.test", username=f"account-{org.slug}")
    return ProvisionedAccountFactory(integration=integration, user=user)


ROW_BUILDERS[Integration] = _integration_in
ROW_BUILDERS[ProvisionedAccount] = _account_in
