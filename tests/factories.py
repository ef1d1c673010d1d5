"""factory-boy factories for every model the tests build."""

import factory
from django.contrib.auth.models import Group

from directory.models import Organization, User, UserGroup, UserState
from directory.roles import ADMINISTRATOR
from insights.models import Event, Service

PASSWORD = "correct horse battery staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    state = UserState.ACTIVE
    password = factory.django.Password(PASSWORD)


class TenantAdminFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create:
            self.groups.add(*(extracted or [Group.objects.get(name=ADMINISTRATOR)]))


class UserGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserGroup
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Group {n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.add(*extracted)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    organization = factory.SubFactory(OrganizationFactory)
    event_type = "user_update"
    service = Service.DIRECTORY
    resource_type = "user"
    resource_name = factory.Sequence(lambda n: f"resource-{n}")


# Every model registered in the admin, with a way to build one row of it inside a given
# organization. The tenant-isolation test walks admin.site._registry and fails for a model that
# is missing here, so a new admin cannot slip past it. Names carry the organization's slug; the
# foreign organization's slug holds FOREIGN_MARK, so a page that leaks a row is caught by a text search.
FOREIGN_MARK = "zzforeign"


def _group_in(org):
    return UserGroupFactory(organization=org, name=f"group {org.slug}")


def _user_in(org):
    return UserFactory(organization=org, email=f"member.{org.slug}@example.test", username=f"member-{org.slug}")


def _event_in(org):
    return EventFactory(organization=org, resource_name=f"event {org.slug}")


def _role_in(org):
    return Group.objects.get_or_create(name=f"role {org.slug}")[0]


ROW_BUILDERS = {
    Organization: lambda org: org,
    User: _user_in,
    UserGroup: _group_in,
    Event: _event_in,
    Group: _role_in,
}


def row_builders() -> dict:
    """ROW_BUILDERS, with the entries each app's tests/<app>/factories.py adds to it."""
    import importlib
    import pkgutil
    from pathlib import Path

    for package in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if package.ispkg and (Path(__file__).parent / package.name / "factories.py").exists():
            importlib.import_module(f"tests.{package.name}.factories")
    return ROW_BUILDERS


def row_in(model, org):
    """Build a row of `model` that belongs to `org`."""
    return row_builders()[model](org)
