"""Finding 2 (URLs): every way an app's URLs are stored refuses what the URL policy refuses, with a sentence,
and the pages that send a browser to a stored URL (SAML POST form, bookmark tile) refuse one that slipped in."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from insights.models import Event
from ssoapps import services
from ssoapps.models import Application
from tests.ssoapps.factories import SP_ACS_URL, SP_ENTITY_ID, application_in
from tests.ssoapps.saml_helpers import authn_request_xml, post_form

pytestmark = pytest.mark.django_db

BAD_URLS = [
    "javascript:fetch('/admin/')",
    "JavaScript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "http://10.0.0.1/saml/acs",
    "http://sp.example.test/saml/acs",
    "https://user:secret@sp.example.test/acs",
    "https://sp.example.test:99999/acs",
]


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOW_INSECURE_URLS = False


def _sp_metadata(acs_url: str) -> bytes:
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'entityID="{SP_ENTITY_ID}">'
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="{acs_url}" index="0" isDefault="true"/>'
        "</md:SPSSODescriptor></md:EntityDescriptor>"
    ).encode()


@pytest.mark.parametrize("url", BAD_URLS)
def test_sp_metadata_upload_with_a_bad_acs_url_is_refused_with_a_sentence(production, admin_client, org, url):
    app = application_in(org)
    escaped = url.replace("&", "&amp;").replace("'", "&apos;")
    response = admin_client.post(
        reverse("admin:ssoapps_application_sp_metadata", args=[app.pk]),
        {"metadata": SimpleUploadedFile("sp.xml", _sp_metadata(escaped))},
    )
    assert response.status_code == 200
    assert "This SP metadata cannot be used: The ACS URL" in response.content.decode()
    app.refresh_from_db()
    assert app.acs_urls == [SP_ACS_URL, "https://sp.example.test/saml2/acs-alt/"]
    refused = Event.objects.get(event_type="application_update", success=False)
    assert "ACS URL" in refused.message


def test_sp_metadata_index_that_is_a_digit_but_not_a_number_is_not_a_500(admin_client, org):
    app = application_in(org)
    document = _sp_metadata("https://sp.example.test/acs-new").replace(b'index="0"', 'index="²"'.encode())
    response = admin_client.post(
        reverse("admin:ssoapps_application_sp_metadata", args=[app.pk]),
        {"metadata": SimpleUploadedFile("sp.xml", document)},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.acs_urls == ["https://sp.example.test/acs-new"]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize(
    ("field", "label"),
    [("acs_urls", "ACS URL"), ("sp_login_url", "SP login URL")],
)
def test_the_services_refuse_bad_sso_urls(production, org, url, field, label):
    value = [url] if field == "acs_urls" else url
    with pytest.raises(ValidationError) as caught:
        application_in(org, **{field: value})
    assert f"The {label}" in " ".join(caught.value.messages)
    app = application_in(org, label="Fine")
    setattr(app, field, value)
    with pytest.raises(ValidationError):
        services.application_update(application=app, changes=[])
    assert not Application.objects.filter(**{field: value}).exists()


@pytest.mark.parametrize("url", BAD_URLS)
def test_the_services_refuse_a_bad_bookmark_url(production, org, url):
    with pytest.raises(ValidationError) as caught:
        services.application_create(organization=org, catalog_key="bookmark", label="Docs", bookmark_url=url)
    assert "The bookmark URL" in " ".join(caught.value.messages)


@pytest.mark.parametrize("url", ["http://10.0.0.1/acs", "https://sp.example.test:99999/acs"])
def test_the_admin_form_refuses_what_its_url_field_lets_through(production, admin_client, org, url):
    app = application_in(org)
    change = reverse("admin:ssoapps_application_change", args=[app.pk])
    page = admin_client.get(change)
    form = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    form.update(acs_urls=url, attribute_statements="[]", authorized_groups=[], label=app.label)
    form.pop("portal_image", None)
    response = admin_client.post(change, form)
    assert response.status_code == 200
    assert "The ACS URL" in response.content.decode()
    app.refresh_from_db()
    assert app.acs_urls[0] == SP_ACS_URL


# --- a URL that got into the database anyway never reaches a page ---------------------------------


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "data:text/html,x", "http://10.0.0.1/acs"])
def test_the_saml_post_form_refuses_a_stored_acs_url_that_fails_the_policy(production, signed_in, application, url):
    Application.objects.filter(pk=application.pk).update(acs_urls=[url])  # as if stored before the policy
    response = signed_in.get(f"/saml2/{application.idp_slug}")
    page = response.content.decode()
    assert response.status_code == 400
    assert "not a valid https:// address" in page and url not in page and "SAMLResponse" not in page
    refused = Event.objects.filter(event_type="sso_auth").latest("id")
    assert not refused.success and refused.message.startswith("unknown_acs")


def test_an_sp_initiated_request_to_a_stored_bad_acs_url_is_refused(production, signed_in, application):
    bad = "javascript:alert(1)"
    Application.objects.filter(pk=application.pk).update(acs_urls=[SP_ACS_URL, bad])
    response = signed_in.post(f"/saml2/{application.idp_slug}", post_form(authn_request_xml(application, acs_url=bad)))
    assert response.status_code == 400
    assert bad not in response.content.decode() and "SAMLResponse" not in response.content.decode()


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "data:text/html,x", "http://10.0.0.1/"])
def test_a_bookmark_tile_refuses_a_stored_url_that_fails_the_policy(production, client, org, engineering, url):
    bookmark = services.application_create(
        organization=org, catalog_key="bookmark", label="Docs", bookmark_url="https://docs.example.test/"
    )
    services.application_groups_bind(application=bookmark, groups=[engineering])
    Application.objects.filter(pk=bookmark.pk).update(bookmark_url=url)  # as if stored before the policy
    client.force_login(engineering.members.get())
    response = client.get(reverse("portal:launch", kwargs={"slug": bookmark.idp_slug}))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Ask your administrator to correct it" in page and url not in page
    launch = Event.objects.filter(event_type="app_launch").latest("id")
    assert not launch.success
