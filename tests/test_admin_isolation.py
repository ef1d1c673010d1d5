"""A tenant admin of one organization sees, opens, changes, deletes and autocompletes nothing of another.

The test walks every registered ModelAdmin, so a new model's admin is covered (or the test fails
until tests/factories.ROW_BUILDERS knows how to build it).
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import FOREIGN_MARK, OrganizationFactory, TenantAdminFactory, row_builders, row_in

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def all_powerful_admin(org):
    """A tenant admin holding every permission there is, so only tenant scoping stands in the way."""
    user = TenantAdminFactory(organization=org, email="boss@org-a.test", username="boss")
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def foreign_org(db):
    return OrganizationFactory(name=f"{FOREIGN_MARK} Org", slug=f"{FOREIGN_MARK}-org")


def test_every_registered_model_has_a_row_builder():
    missing = [m._meta.label for m, _ in REGISTERED if m not in row_builders()]
    assert not missing, f"add row builders for these models (tests/<app>/factories.py updates ROW_BUILDERS): {missing}"


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_tenant_admin_cannot_reach_other_organization(client, all_powerful_admin, foreign_org, model, model_admin):
    # a row of our own org too, so the pages are not trivially empty
    row_in(model, all_powerful_admin.organization)
    foreign = row_in(model, foreign_org)
    count_before = model._default_manager.count()
    client.force_login(all_powerful_admin)

    listing = client.get(_url(model, "changelist"))
    assert listing.status_code in (200, 403)
    if listing.status_code == 200:
        shown = list(listing.context["cl"].result_list)
        assert foreign not in shown
        assert FOREIGN_MARK not in listing.content.decode().lower()
        searched = client.get(_url(model, "changelist"), {"q": FOREIGN_MARK})
        assert foreign not in list(searched.context["cl"].result_list)

    add = client.get(_url(model, "add"))
    if add.status_code == 200:  # FK and M2M choices offer nothing of the other org
        assert FOREIGN_MARK not in add.content.decode().lower()

    for view in ("change", "history", "delete"):
        page = client.get(_url(model, view, foreign.pk))
        assert page.status_code in (302, 403, 404), f"{view} view opened a foreign {model._meta.label}"
        if page.status_code == 302:
            assert page.url.startswith(reverse("admin:index"))

    client.post(_url(model, "change", foreign.pk), {"name": "hijacked", "email": "hijacked@x.test"})
    client.post(_url(model, "delete", foreign.pk), {"post": "yes"})
    client.post(
        _url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [foreign.pk], "post": "yes"},
    )
    assert model._default_manager.count() == count_before
    foreign.refresh_from_db()
    assert "hijacked" not in str(foreign)


def _autocomplete_sources():
    for model, model_admin in REGISTERED:
        for field_name in model_admin.autocomplete_fields:
            yield model, field_name, model._meta.get_field(field_name).remote_field.model


AUTOCOMPLETE = list(_autocomplete_sources())


@pytest.mark.parametrize(
    ("source", "field_name", "target"), AUTOCOMPLETE, ids=[f"{s._meta.label}.{f}" for s, f, _ in AUTOCOMPLETE]
)
def test_autocomplete_offers_nothing_of_other_organization(
    client, all_powerful_admin, foreign_org, source, field_name, target
):
    own = row_in(target, all_powerful_admin.organization)
    foreign = row_in(target, foreign_org)
    client.force_login(all_powerful_admin)
    params = {"app_label": source._meta.app_label, "model_name": source._meta.model_name, "field_name": field_name}
    for term in ("", FOREIGN_MARK):
        response = client.get(reverse("admin:autocomplete"), {**params, "term": term})
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["results"]}
        assert str(foreign.pk) not in ids
    assert str(own.pk) in {item["id"] for item in client.get(reverse("admin:autocomplete"), params).json()["results"]}


def test_superuser_sees_every_organization(client, foreign_org, org, django_user_model):
    operator = django_user_model.objects.create_superuser("ops@lanyard.test", "pw-ops-123456")
    foreign_user = row_in(django_user_model, foreign_org)
    client.force_login(operator)
    listing = client.get(_url(django_user_model, "changelist"))
    assert foreign_user in list(listing.context["cl"].result_list)
