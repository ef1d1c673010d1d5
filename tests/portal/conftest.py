"""Portal fixtures: a private cache per test (allauth's rate limits live there), users, apps."""

import uuid

import pytest

from tests.factories import UserFactory, UserGroupFactory

from .factories import ApplicationFactory


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Each test gets an empty local-memory cache, so one test's failed sign-ins do not rate-limit another."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"portal-{uuid.uuid4()}"}
    }


@pytest.fixture
def alice(org):
    """An active user of `org`, in the group Engineering."""
    user = UserFactory(organization=org, email="alice@org-a.test", username="alice", first_name="Alice")
    UserGroupFactory(organization=org, name="Engineering", members=[user])
    return user


@pytest.fixture
def engineering(alice):
    """Alice's group."""
    return alice.user_groups.get(name="Engineering")


@pytest.fixture
def tiles(org, engineering):
    """Two apps for Engineering, one for nobody, one hidden from the portal."""
    return {
        "wiki": ApplicationFactory(organization=org, label="Team Wiki", idp_slug="team-wiki", groups=[engineering]),
        "docs": ApplicationFactory(
            organization=org,
            label="Docs Bookmark",
            idp_slug="docs-bookmark",
            catalog_key="bookmark",
            bookmark_url="https://docs.example.test/",
            description="The handbook.",
            groups=[engineering],
        ),
        "payroll": ApplicationFactory(organization=org, label="Payroll", idp_slug="payroll"),
        "hidden": ApplicationFactory(
            organization=org, label="Hidden Tool", idp_slug="hidden-tool", show_in_portal=False, groups=[engineering]
        ),
    }
