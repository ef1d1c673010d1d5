"""The admin connects ClickUp the way JumpCloud's guide describes, and manages applications safely."""

import json
import re

import pytest
from cryptography import x509
from django.urls import reverse
from saml2 import BINDING_HTTP_POST

from insights.models import Event
from ssoapps.keys import keypair_generate
from ssoapps.models import Application
from ssoapps.services import application_groups_bind
from tests.factories import UserFactory, UserGroupFactory
from tests.ssoapps.factories import SP_ACS_URL, SP_ENTITY_ID, application_in
from tests.ssoapps.saml_helpers import posted_form

ADD = reverse("admin:ssoapps_application_add")
CHANGELIST = reverse("admin:ssoapps_application_changelist")
CLICKUP_ENTITY = "https://api.clickup.com/v1/team/9001/sso/saml"


def form_data(response) -> dict:
    """The POST data of the admin form exactly as the page offers it (what pressing Save sends unchanged)."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif value is not None:
            data[name] = str(value)
    return data


@pytest.fixture
def engineers(org):
    member = UserFactory(organization=org, email="alice@org-a.test", username="alice")
    return UserGroupFactory(organization=org, name="Engineering", members=[member])


def test_catalog_search_by_name(admin_client):
    page = admin_client.get(ADD)
    assert page.status_code == 200
    assert "ClickUp" in page.content.decode() and "Slack" in page.content.decode()

    found = admin_client.get(ADD, {"q": "click"}).content.decode()
    assert "?catalog=clickup" in found and "?catalog=slack" not in found


def test_clickup_from_catalog_to_signed_in_member(admin_client, org, engineers, make_sp):
    add_page = admin_client.get(ADD, {"catalog": "clickup"})
    assert add_page.status_code == 200
    body = add_page.content.decode()
    assert "cannot be changed after" in body  # told before saving that the slug is permanent
    data = form_data(add_page)
    assert "YOUR_ID" in data["sp_entity_id"] and "YOUR_ID" in data["acs_urls"]
    assert data["idp_slug"] == "clickup"

    # saving with YOUR_ID still in place is refused, with what to do
    refused = admin_client.post(ADD + "?catalog=clickup", data)
    assert refused.status_code == 200
    assert "Replace YOUR_ID with your own ID" in refused.content.decode()
    assert not Application.objects.exists()

    data.update(
        sp_entity_id=data["sp_entity_id"].replace("YOUR_ID", "9001"),
        acs_urls=data["acs_urls"].replace("YOUR_ID", "9001"),
        label="ClickUp (Acme)",
        authorized_groups=[str(engineers.pk)],
    )
    saved = admin_client.post(ADD + "?catalog=clickup", data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved
    app = Application.objects.get()
    assert app.organization == org
    assert app.sp_entity_id == CLICKUP_ENTITY
    assert app.acs_urls == ["https://api.clickup.com/v1/team/9001/sso/saml/acs"]
    assert list(app.authorized_groups.all()) == [engineers]
    assert Event.objects.filter(event_type="application_group_bind", resource_id=str(app.pk)).exists()

    # certificate.pem and the metadata download
    cert = admin_client.get(reverse("admin:ssoapps_application_certificate", args=[app.pk]))
    assert cert["Content-Disposition"] == 'attachment; filename="certificate.pem"'
    x509.load_pem_x509_certificate(cert.content)
    metadata = admin_client.get(reverse("admin:ssoapps_application_metadata", args=[app.pk]))
    assert metadata["Content-Disposition"] == 'attachment; filename="clickup-metadata.xml"'
    cert_body = "".join(cert.content.decode().strip().splitlines()[1:-1])
    assert cert_body in metadata.content.decode()
    change_page = admin_client.get(reverse("admin:ssoapps_application_change", args=[app.pk])).content.decode()
    assert app.metadata_url in change_page and "Copy metadata URL" in change_page

    # a member of the bound group signs in to ClickUp; pysaml2 as ClickUp's SP accepts it
    member = engineers.members.get()
    admin_client.force_login(member)
    form = posted_form(admin_client.get(f"/saml2/{app.idp_slug}"))
    sp = make_sp(app, entity_id=CLICKUP_ENTITY, acs_urls=app.acs_urls)
    result = sp.parse_authn_request_response(form["SAMLResponse"], BINDING_HTTP_POST)
    assert result.name_id.text == member.email
    assert result.ava["email"] == [member.email]


def test_slug_is_read_only_after_creation(admin_client, org):
    app = application_in(org)
    url = reverse("admin:ssoapps_application_change", args=[app.pk])
    page = admin_client.get(url)
    data = form_data(page)
    assert "idp_slug" not in data
    data["idp_slug"] = "hijacked"
    data["label"] = "Renamed"
    assert admin_client.post(url, data).status_code == 302
    app.refresh_from_db()
    assert app.label == "Renamed" and app.idp_slug == "app-org-a"


def test_slug_defaults_from_name_and_is_globally_unique(admin_client, other_org):
    application_in(other_org, label="Slack", idp_slug="slack")
    page = admin_client.get(ADD, {"catalog": "slack"})
    assert form_data(page)["idp_slug"] == "slack-2"


def test_yourid_refused_on_change_too(admin_client, org):
    app = application_in(org)
    url = reverse("admin:ssoapps_application_change", args=[app.pk])
    data = form_data(admin_client.get(url))
    data["default_relay_state"] = "https://x.test/YOUR_ID"
    page = admin_client.post(url, data)
    assert page.status_code == 200 and "Replace YOUR_ID" in page.content.decode()


def test_unbinding_a_group_goes_through_the_service(admin_client, org, engineers):
    app = application_in(org)
    application_groups_bind(application=app, groups=[engineers])
    url = reverse("admin:ssoapps_application_change", args=[app.pk])
    data = form_data(admin_client.get(url))
    data.pop("authorized_groups")
    assert admin_client.post(url, data).status_code == 302
    assert not app.authorized_groups.exists()
    assert Event.objects.filter(event_type="application_group_unbind").count() == 1


def test_portal_image_is_stored_in_the_database(admin_client, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    app = application_in(org)
    url = reverse("admin:ssoapps_application_change", args=[app.pk])
    data = form_data(admin_client.get(url))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'
    data["portal_image_upload"] = SimpleUploadedFile("logo.svg", svg, content_type="image/svg+xml")
    assert admin_client.post(url, data).status_code == 302
    app.refresh_from_db()
    assert app.portal_image.startswith("data:image/svg+xml;base64,")


def test_delete_requires_typing_the_count(admin_client, org):
    apps = [application_in(org, label=f"App {n}", idp_slug=f"app-{n}") for n in range(3)]
    chosen = {"action": "delete_applications", "_selected_action": [a.pk for a in apps[:2]]}
    confirm = admin_client.post(CHANGELIST, chosen)
    assert confirm.status_code == 200 and "Type the number of applications being deleted" in confirm.content.decode()

    wrong = admin_client.post(CHANGELIST, {**chosen, "confirm": "yes", "count": "3"})
    assert "Type 2" in wrong.content.decode()
    assert Application.objects.count() == 3

    admin_client.post(CHANGELIST, {**chosen, "confirm": "yes", "count": "2"})
    assert list(Application.objects.all()) == [apps[2]]


def test_single_delete_requires_typing_one(admin_client, org):
    app = application_in(org)
    url = reverse("admin:ssoapps_application_delete", args=[app.pk])
    admin_client.post(url, {"post": "yes"})
    assert Application.objects.filter(pk=app.pk).exists()
    admin_client.post(url, {"post": "yes", "count": "1"})
    assert not Application.objects.filter(pk=app.pk).exists()


def test_deactivate_sso_action(admin_client, org, engineers):
    app = application_in(org)
    admin_client.post(CHANGELIST, {"action": "deactivate_sso", "_selected_action": [app.pk]})
    app.refresh_from_db()
    assert app.sso_active is False
    admin_client.force_login(engineers.members.get())
    application_groups_bind(application=app, groups=[engineers])
    assert admin_client.get(f"/saml2/{app.idp_slug}").status_code == 403


def test_upload_sp_metadata_fills_the_fields(admin_client, org, sp_keypair, make_sp):
    app = application_in(org, sp_entity_id="", acs_urls=[])
    sp = make_sp(app, keypair=sp_keypair, sign_requests=True)
    from saml2.metadata import create_metadata_string

    document = create_metadata_string(None, config=sp.config, valid=None)
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("admin:ssoapps_application_sp_metadata", args=[app.pk])
    response = admin_client.post(url, {"metadata": SimpleUploadedFile("sp.xml", document)})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.sp_entity_id == SP_ENTITY_ID
    assert app.acs_urls[0] == SP_ACS_URL
    assert "".join(sp_keypair.certificate.split()) == "".join(app.sp_certificate.split())


def test_upload_bad_sp_metadata_is_refused_with_a_sentence(admin_client, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    app = application_in(org)
    url = reverse("admin:ssoapps_application_sp_metadata", args=[app.pk])
    bad = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    response = admin_client.post(url, {"metadata": SimpleUploadedFile("sp.xml", bad)})
    assert response.status_code == 200 and "not allowed" in response.content.decode()


def test_upload_metadata_that_is_not_sp_metadata(admin_client, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    app = application_in(org)
    url = reverse("admin:ssoapps_application_sp_metadata", args=[app.pk])
    idp_metadata = admin_client.get(f"/saml2/{app.idp_slug}/metadata").content
    response = admin_client.post(url, {"metadata": SimpleUploadedFile("idp.xml", idp_metadata)})
    assert response.status_code == 200 and "no SP metadata" in response.content.decode()


def test_stage_and_promote_a_key(admin_client, org):
    app = application_in(org)
    old = app.signing_keys.get()
    url = reverse("admin:ssoapps_application_keys", args=[app.pk])
    admin_client.post(url, {"do": "stage"})
    staged = app.signing_keys.get(state="staged")
    metadata = admin_client.get(f"/saml2/{app.idp_slug}/metadata").content.decode()
    assert metadata.count("<ds:X509Certificate>") == 2
    admin_client.post(url, {"do": "promote", "key": staged.pk})
    old.refresh_from_db()
    staged.refresh_from_db()
    assert (old.state, staged.state) == ("retired", "active")
    metadata = admin_client.get(f"/saml2/{app.idp_slug}/metadata").content.decode()
    assert metadata.count("<ds:X509Certificate>") == 1


def test_upload_own_key_pair(admin_client, org, sp_keypair):
    app = application_in(org)
    url = reverse("admin:ssoapps_application_keys", args=[app.pk])
    admin_client.post(
        url, {"do": "upload", "private_key": sp_keypair.private_key, "certificate": sp_keypair.certificate}
    )
    assert app.signing_keys.get(state="staged").fingerprint == sp_keypair.fingerprint

    other = keypair_generate(common_name="someone else")
    page = admin_client.post(
        url, {"do": "upload", "private_key": sp_keypair.private_key, "certificate": other.certificate}
    )
    assert "does not belong to this private key" in page.content.decode()
    assert app.signing_keys.count() == 2


def test_private_key_is_encrypted_at_rest(org):
    from django.db import connection

    app = application_in(org)
    key = app.signing_keys.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM ssoapps_signingkey WHERE id = %s", [key.pk])
        stored = cursor.fetchone()[0]
    assert "PRIVATE KEY" not in stored
    assert "PRIVATE KEY" in key.private_key


def test_bookmark_from_catalog(admin_client):
    page = admin_client.get(ADD, {"catalog": "bookmark"})
    data = form_data(page)
    assert "sp_entity_id" not in data
    data.update(label="Wiki", bookmark_url="https://wiki.example.test/")
    assert admin_client.post(ADD + "?catalog=bookmark", data).status_code == 302
    app = Application.objects.get(label="Wiki")
    assert not app.signing_keys.exists()
    from ssoapps.selectors import application_launch_url

    assert application_launch_url(app) == "https://wiki.example.test/"


def test_attribute_statements_must_name_a_directory_attribute(admin_client, org):
    app = application_in(org)
    url = reverse("admin:ssoapps_application_change", args=[app.pk])
    data = form_data(admin_client.get(url))
    data["attribute_statements"] = json.dumps([{"name": "x", "source": "password"}])
    page = admin_client.post(url, data)
    assert page.status_code == 200
    assert re.search(r"Each attribute needs a name", page.content.decode())


def test_operator_chooses_the_organization(client, org, django_user_model):
    operator = django_user_model.objects.create_superuser("ops@lanyard.test", "pw-ops-123456")
    client.force_login(operator)
    page = client.get(ADD, {"catalog": "zoom"})
    assert page.status_code == 200 and 'name="organization"' in page.content.decode()
    data = form_data(page)
    data.update(
        organization=str(org.pk),
        sp_entity_id="acme.zoom.us",
        acs_urls="https://acme.zoom.us/saml/SSO",
    )
    assert client.post(ADD + "?catalog=zoom", data).status_code == 302
    app = Application.objects.get()
    assert app.organization == org and app.idp_slug == "zoom"
    assert client.get(reverse("admin:ssoapps_application_change", args=[app.pk])).status_code == 200


@pytest.mark.parametrize(
    "view",
    [
        "ssoapps_application_certificate",
        "ssoapps_application_metadata",
        "ssoapps_application_keys",
        "ssoapps_application_sp_metadata",
    ],
)
def test_extra_admin_pages_of_another_organization_are_not_found(admin_client, other_org, view):
    foreign = application_in(other_org)
    assert admin_client.get(reverse(f"admin:{view}", args=[foreign.pk])).status_code == 404
    assert admin_client.post(reverse(f"admin:{view}", args=[foreign.pk]), {"do": "stage"}).status_code == 404
    assert foreign.signing_keys.count() == 1
