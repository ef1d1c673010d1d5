"""seed_applications gives the demo a working Demo SP for Engineering, and running it again changes nothing."""

from ssoapps.demo_data import seed_applications
from ssoapps.models import Application
from tests.factories import UserGroupFactory


def test_demo_sp_is_created_once_and_authorized_for_engineering(org, monkeypatch):
    monkeypatch.setenv("DEMO_SP_URL", "http://127.0.0.1:9999/")
    engineering = UserGroupFactory(organization=org, name="Engineering")
    app = seed_applications(organization=org)
    again = seed_applications(organization=org)
    assert again == app and Application.objects.count() == 1
    assert app.sp_entity_id == "http://127.0.0.1:9999/saml2/metadata/"
    assert app.acs_urls == ["http://127.0.0.1:9999/saml2/acs/"]
    assert list(app.authorized_groups.all()) == [engineering]
    assert app.signing_keys.filter(state="active").count() == 1
