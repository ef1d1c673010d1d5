"""Factories for the portal tests (the portal registers no admin models, so no ROW_BUILDERS here)."""

import factory

from ssoapps.models import Application
from tests.factories import OrganizationFactory


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An application in an organization, authorized for the given groups."""

    class Meta:
        model = Application
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    catalog_key = "custom-saml"
    label = factory.Sequence(lambda n: f"App {n}")
    idp_slug = factory.Sequence(lambda n: f"app-{n}")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.authorized_groups.add(*extracted)
