"""Factories for the portal tests, and the row builder of the admin the portal registers (second factors)."""

import factory
from allauth.mfa.models import Authenticator

from ssoapps.models import Application
from tests.factories import ROW_BUILDERS, OrganizationFactory


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


def _authenticator_in(org):
    """A TOTP authenticator of a user of `org` (the admin shows the user's email, which carries org.slug)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.factories import UserFactory

    user = UserFactory(organization=org, email=f"mfa.{org.slug}@example.test", username=f"mfa-{org.slug}")
    TOTP.activate(user, generate_totp_secret())
    return Authenticator.objects.get(user=user)


ROW_BUILDERS[Authenticator] = _authenticator_in
